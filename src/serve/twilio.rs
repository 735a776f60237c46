//! Twilio's side of the webhooks: its request signatures, the keywords of
//! the CTIA's messaging rules, and TwiML answers.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// What a text that is one keyword asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// No more texts (STOP and its synonyms).
    OptOut,
    /// Texts again (START, UNSTOP, YES).
    OptIn,
    /// Who is this, and how do I stop (HELP, INFO).
    Help,
}

/// The keyword `body` is, if it is one: the whole message, trimmed, in any
/// case, with trailing punctuation left out ("Stop." stops).
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "REVOKE" => {
            Some(Keyword::OptOut)
        }
        "START" | "UNSTOP" | "YES" => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

/// Whether `signature` (the `X-Twilio-Signature` header) is Twilio's for a
/// request to `url` with the form `params`, signed with `token`: base64 of
/// HMAC-SHA1 over the URL followed by every parameter's name and value,
/// sorted by name. Compared in constant time.
pub fn verify(token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    signing(token, url, params).verify_slice(&given).is_ok()
}

/// Whether `given` is `secret`, compared in constant time (as HMAC tags
/// of both, so their lengths leak nothing either).
pub fn same_secret(given: &str, secret: &str) -> bool {
    let tag = |text: &str| {
        let mut mac =
            Hmac::<Sha1>::new_from_slice(b"flowc shared secret").expect("HMAC takes any key");
        mac.update(text.as_bytes());
        mac
    };
    let expected = tag(secret).finalize().into_bytes();
    tag(given).verify_slice(&expected).is_ok()
}

/// The signature Twilio would send.
#[cfg(test)]
fn signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let digest = signing(token, url, params).finalize().into_bytes();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn signing(token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// A TwiML answer: a reply text, or nothing.
pub fn twiml(reply: Option<&str>) -> String {
    match reply {
        Some(text) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>",
            super::html::escape(text)
        ),
        None => "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_messages_in_any_case() {
        for stop in ["STOP", " stop ", "Stop.", "unsubscribe", "StopAll", "quit!"] {
            assert_eq!(keyword(stop), Some(Keyword::OptOut), "{stop}");
        }
        assert_eq!(keyword("start"), Some(Keyword::OptIn));
        assert_eq!(keyword("Yes"), Some(Keyword::OptIn));
        assert_eq!(keyword("help?"), Some(Keyword::Help));
        for other in ["please stop texting", "stopp", "", "no"] {
            assert_eq!(keyword(other), None, "{other}");
        }
    }

    #[test]
    fn a_signature_covers_the_url_and_every_parameter() {
        let params = vec![
            ("To".to_owned(), "+15550000000".to_owned()),
            ("Body".to_owned(), "STOP".to_owned()),
            ("From".to_owned(), "+15550100001".to_owned()),
        ];
        let url = "https://flowc.example/v1/webhooks/twilio/messages";
        let signed = signature("token", url, &params);
        assert!(verify("token", url, &params, &signed));
        assert!(!verify("other", url, &params, &signed));
        assert!(!verify(
            "token",
            "https://evil.example/v1/webhooks/twilio/messages",
            &params,
            &signed
        ));
        let mut changed = params.clone();
        changed[1].1 = "START".to_owned();
        assert!(!verify("token", url, &changed, &signed));
        assert!(!verify("token", url, &params, "not base64!"));
        let mut reordered = params.clone();
        reordered.reverse();
        assert!(
            verify("token", url, &reordered, &signed),
            "the order sent does not matter"
        );
    }

    #[test]
    fn replies_are_escaped_xml() {
        assert_eq!(
            twiml(Some("Acme <help> & \"more\"")),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Acme &lt;help&gt; &amp; &quot;more&quot;</Message></Response>"
        );
    }
}
