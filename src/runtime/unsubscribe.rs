//! Unsubscribe links: `PUBLIC_URL/v1/unsubscribe/TOKEN`, where the token
//! carries the recipient's address and an HMAC-SHA256 of it under a key
//! only the service knows, so a link can be neither forged nor guessed
//! for another address. Every email flowc sends gets one in
//! `List-Unsubscribe`, with `List-Unsubscribe-Post` for one-click
//! unsubscribing (RFC 8058), when `flowc.toml` sets `serve.public_url` and
//! `serve.signing_key_env`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ast::Channel;
use crate::config::Config;
use crate::runtime::consent::normalize;

/// What signs every token, so that links for another purpose never pass.
const PURPOSE: &[u8] = b"flowc-unsubscribe\0";
/// The bytes of the HMAC a token keeps: 128 bits.
const MAC_BYTES: usize = 16;

/// Makes and reads unsubscribe links.
#[derive(Clone)]
pub struct Links {
    base: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Links({})", self.base)
    }
}

impl Links {
    /// Links under `public_url`, signed with `key`.
    pub fn new(public_url: &str, key: &[u8]) -> Links {
        Links {
            base: public_url.trim_end_matches('/').to_owned(),
            key: key.to_vec(),
        }
    }

    /// The links `config` asks for: its public URL and the key in the
    /// variable `serve.signing_key_env` names, when both are set.
    pub fn from_config(config: &Config) -> Option<Links> {
        let public = config.serve.public_url.as_deref()?;
        let key = std::env::var(config.serve.signing_key_env.as_deref()?).ok()?;
        (!key.is_empty()).then(|| Links::new(public, key.as_bytes()))
    }

    /// The unsubscribe link for `address`.
    pub fn url(&self, address: &str) -> String {
        format!("{}/v1/unsubscribe/{}", self.base, self.token(address))
    }

    /// The token for `address`: the address and its HMAC, in base64url.
    pub fn token(&self, address: &str) -> String {
        let address = normalize(Channel::Email, address);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(address.as_bytes()),
            URL_SAFE_NO_PAD.encode(&self.mac(&address).finalize().into_bytes()[..MAC_BYTES])
        )
    }

    /// The address a token is for, if this service signed it (checked in
    /// constant time).
    pub fn address(&self, token: &str) -> Option<String> {
        let (address, mac) = token.split_once('.')?;
        let address = String::from_utf8(URL_SAFE_NO_PAD.decode(address).ok()?).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        self.mac(&address).verify_truncated_left(&mac).ok()?;
        (mac.len() == MAC_BYTES).then_some(address)
    }

    fn mac(&self, address: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(PURPOSE);
        mac.update(address.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_its_address_and_cannot_be_forged() {
        let links = Links::new("https://flowc.example/", b"key");
        let url = links.url(" Ann@Acme.Example");
        assert!(
            url.starts_with("https://flowc.example/v1/unsubscribe/"),
            "{url}"
        );
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(links.address(token).as_deref(), Some("ann@acme.example"));
        assert_eq!(
            Links::new("https://flowc.example", b"other").address(token),
            None
        );
        let (_, mac) = token.split_once('.').unwrap();
        let other = format!("{}.{mac}", URL_SAFE_NO_PAD.encode("bob@acme.example"));
        assert_eq!(
            links.address(&other),
            None,
            "another address under the same MAC"
        );
        let short = &token[..token.len() - 4];
        assert_eq!(links.address(short), None, "a shortened MAC");
        for junk in ["", ".", "nodot", "a.b.c", "%%%.%%%"] {
            assert_eq!(links.address(junk), None, "{junk}");
        }
    }
}
