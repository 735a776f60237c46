//! Encryption of the connection to PostgreSQL, chosen the way libpq's users
//! already know: the URL's `sslmode` (`disable`, `prefer` — the default —,
//! `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of
//! the certificate authorities to trust; without it, the verifying modes
//! trust the Mozilla roots that managed servers' public certificates chain
//! to). As in libpq, `prefer` and `require` encrypt without checking who
//! answers unless `sslrootcert` is given, `verify-ca` checks the chain and
//! `verify-full` the chain and the host name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How the connection is protected, from the URL's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Plain text.
    Disable,
    /// Encrypted if the server offers it, else plain text.
    Prefer,
    /// Encrypted, or no connection.
    Require,
    /// Encrypted, to a server whose certificate chains to a trusted root.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host connected to.
    VerifyFull,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Mode, String> {
        match text {
            "disable" => Ok(Mode::Disable),
            "prefer" => Ok(Mode::Prefer),
            "require" => Ok(Mode::Require),
            "verify-ca" => Ok(Mode::VerifyCa),
            "verify-full" => Ok(Mode::VerifyFull),
            other => Err(format!(
                "sslmode must be disable, prefer, require, verify-ca or verify-full, not `{other}`"
            )),
        }
    }
}

/// A connection URL with flowc's TLS settings taken out of it: what is
/// left is for the `postgres` crate, which knows neither `verify-*` nor
/// `sslrootcert`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Settings {
    /// The URL without `sslmode` and `sslrootcert`.
    pub url: String,
    /// The protection asked for.
    pub mode: Mode,
    /// The trusted roots' PEM file, if one is named.
    pub root: Option<PathBuf>,
}

impl Settings {
    /// Reads the TLS settings out of `url`'s query.
    pub fn parse(url: &str) -> Result<Settings, String> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut mode = Mode::Prefer;
        let mut root = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = || percent_decode_str(value).decode_utf8_lossy().into_owned();
            match key {
                "sslmode" => mode = decoded().parse()?,
                "sslrootcert" => root = Some(PathBuf::from(decoded())),
                _ => rest.push(pair),
            }
        }
        let url = match rest.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", rest.join("&")),
        };
        Ok(Settings { url, mode, root })
    }

    /// The `postgres` crate's mode for these settings.
    pub fn ssl_mode(&self) -> SslMode {
        match self.mode {
            Mode::Disable => SslMode::Disable,
            Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        }
    }

    /// The TLS connector for these settings (unused under `disable`).
    pub fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|error| error.to_string())?;
        let check = match (self.mode, &self.root) {
            (Mode::VerifyFull, _) => Check::Full,
            (Mode::VerifyCa, _) | (_, Some(_)) => Check::Chain,
            _ => Check::Nothing,
        };
        let config = match check {
            Check::Full => builder.with_root_certificates(self.roots()?),
            check => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(self.roots()?),
                    provider.clone(),
                )
                .build()
                .map_err(|error| error.to_string())?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Verifier {
                        webpki,
                        provider,
                        check,
                    }))
            }
        };
        Ok(MakeRustlsConnect::new(config.with_no_client_auth()))
    }

    /// The trusted roots: `sslrootcert`'s, else Mozilla's.
    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match &self.root {
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Some(path) => {
                for certificate in read_certificates(path)? {
                    roots.add(certificate).map_err(|error| {
                        format!("a certificate in {} is refused: {error}", path.display())
                    })?;
                }
            }
        }
        Ok(roots)
    }
}

/// The certificates in the PEM file at `path`; at least one.
fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let unreadable = |error: &dyn fmt::Display| {
        format!(
            "cannot read the root certificates in {}: {error}",
            path.display()
        )
    };
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| unreadable(&error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| unreadable(&error))?;
    if certificates.is_empty() {
        return Err(unreadable(&"no PEM certificate in it"));
    }
    Ok(certificates)
}

/// What a [`Verifier`] checks of the server's certificate.
#[derive(Clone, Copy, Debug)]
enum Check {
    /// Nothing (`prefer`, `require`): encryption against eavesdroppers only.
    Nothing,
    /// The chain to a trusted root, not the name (`verify-ca`).
    Chain,
    /// Chain and name: rustls's own verifier does it.
    Full,
}

/// Checks a server's certificate as libpq's weaker modes do; the handshake
/// signatures are checked in every mode.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    check: Check,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Check::Nothing = self.check {
            return Ok(ServerCertVerified::assertion());
        }
        // The chain is checked before the name: a name mismatch means the
        // chain held.
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_tls_settings_out_of_the_url() {
        let settings = Settings::parse(
            "postgres://u@db.example:5432/flowc?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca%20b.pem",
        )
        .unwrap();
        assert_eq!(
            settings,
            Settings {
                url: "postgres://u@db.example:5432/flowc?application_name=x".to_owned(),
                mode: Mode::VerifyFull,
                root: Some(PathBuf::from("/etc/ca b.pem")),
            }
        );
        let plain = Settings::parse("postgres://u@h/db").unwrap();
        assert_eq!(
            (plain.url.as_str(), plain.mode),
            ("postgres://u@h/db", Mode::Prefer)
        );
        let only = Settings::parse("postgres://u@h/db?sslmode=disable").unwrap();
        assert_eq!(
            (only.url.as_str(), only.mode),
            ("postgres://u@h/db", Mode::Disable)
        );
    }

    #[test]
    fn refuses_an_unknown_mode_and_unreadable_roots() {
        let error = Settings::parse("postgres://h/db?sslmode=verify").unwrap_err();
        assert!(error.contains("not `verify`"), "{error}");
        let missing =
            Settings::parse("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
                .unwrap()
                .connector()
                .err()
                .expect("refused");
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let url = format!(
            "postgres://h/db?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        );
        let error = Settings::parse(&url)
            .unwrap()
            .connector()
            .err()
            .expect("refused");
        assert!(error.contains("no PEM certificate"), "{error}");
    }
}
