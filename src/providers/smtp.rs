//! Email over SMTP with lettre: Markdown bodies sent as text and HTML, a
//! Message-ID derived from the idempotency key, and lead data that cannot
//! add headers.

use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message as Email, SmtpTransport, Transport};
use sha2::{Digest, Sha256};

use super::secret;
use crate::config::{Config, Smtp, SmtpTls};
use crate::runtime::live::Delivery;
use crate::vm::Response;

/// A rendered email.
pub struct Outgoing<'a> {
    /// Recipients.
    pub to: &'a [String],
    /// Copies.
    pub cc: &'a [String],
    /// Blind copies.
    pub bcc: &'a [String],
    /// The sender identity or address.
    pub from: Option<&'a str>,
    /// The subject.
    pub subject: &'a str,
    /// The Markdown body.
    pub body: &'a str,
    /// The recipient's unsubscribe link, for `List-Unsubscribe`.
    pub unsubscribe: Option<String>,
}

/// Sends an email through the configured server.
pub fn send(config: &Config, delivery: &Delivery, email: &Outgoing<'_>) -> Response {
    let Some(smtp) = &config.smtp else {
        return Response::Permanent(
            "no email provider ([smtp]) is configured in flowc.toml".to_owned(),
        );
    };
    let message = match build(smtp, delivery, email) {
        Ok(message) => message,
        Err(reason) => return Response::Permanent(reason),
    };
    let transport = match transport(smtp) {
        Ok(transport) => transport,
        Err(response) => return response,
    };
    match transport.send(&message) {
        Ok(_) => Response::Delivered,
        Err(error) if error.is_permanent() => one_by_one(&transport, &message, email),
        Err(error) => {
            Response::Transient(format!("the SMTP server could not take the email: {error}"))
        }
    }
}

/// After the server refused the email for all its recipients at once:
/// sends it to the step's own recipients (`to`), then to each other one
/// (cc, bcc) on its own, so that a refused cc does not cost the lead its
/// email; the refused ones are said.
fn one_by_one(transport: &SmtpTransport, message: &Email, email: &Outgoing<'_>) -> Response {
    let envelope = message.envelope();
    let from = envelope.from().cloned();
    let raw = message.formatted();
    let own: Vec<Address> = email
        .to
        .iter()
        .filter_map(|to| to.trim().parse::<Mailbox>().ok())
        .map(|mailbox| mailbox.email)
        .collect();
    let send = |to: Vec<Address>| {
        Envelope::new(from.clone(), to)
            .map_err(|error| error.to_string())
            .and_then(|envelope| {
                transport
                    .send_raw(&envelope, &raw)
                    .map_err(|error| error.to_string())
            })
    };
    if let Err(error) = send(own.clone()) {
        return Response::Permanent(format!("the SMTP server refused the email: {error}"));
    }
    let mut others: Vec<&Address> = envelope
        .to()
        .iter()
        .filter(|address| !own.contains(address))
        .collect();
    others.dedup();
    let refused: Vec<String> = others
        .into_iter()
        .filter_map(|address| {
            send(vec![address.clone()])
                .err()
                .map(|error| format!("{address} refused: {error}"))
        })
        .collect();
    if refused.is_empty() {
        Response::Delivered
    } else {
        Response::Partly(format!("not to {}", refused.join("; ")))
    }
}

fn transport(smtp: &Smtp) -> Result<SmtpTransport, Response> {
    let builder = match smtp.tls {
        SmtpTls::None => Ok(SmtpTransport::builder_dangerous(&smtp.host)),
        SmtpTls::Starttls => SmtpTransport::starttls_relay(&smtp.host),
        SmtpTls::Implicit => SmtpTransport::relay(&smtp.host),
    }
    .map_err(|error| Response::Permanent(format!("the SMTP host {}: {error}", smtp.host)))?;
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(30)));
    if let (Some(user), Some(password)) = (&smtp.username_env, &smtp.password_env) {
        builder = builder.credentials(Credentials::new(secret(user)?, secret(password)?));
    }
    Ok(builder.build())
}

/// The email as lettre builds it. Addresses that do not parse (a CR or LF
/// from lead data among them) make the email fail rather than add headers;
/// line breaks in the subject become spaces.
fn build(smtp: &Smtp, delivery: &Delivery, email: &Outgoing<'_>) -> Result<Email, String> {
    let mailbox = |text: &str| -> Result<Mailbox, String> {
        text.trim()
            .parse()
            .map_err(|error| format!("{text:?} is not an email address: {error}"))
    };
    let from = match email.from {
        Some(name) => smtp
            .identities
            .get(name)
            .map_or(name, String::as_str)
            .to_owned(),
        None => smtp
            .default_from
            .clone()
            .ok_or("the email names no sender and [smtp] has no default_from")?,
    };
    let subject = email.subject.replace(['\r', '\n'], " ");
    let mut builder = Email::builder()
        .from(mailbox(&from)?)
        .message_id(Some(message_id(&delivery.key)));
    builder = match folded_subject(&subject) {
        Some(encoded) => builder.raw_header(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("Subject"),
            subject,
            encoded,
        )),
        None => builder.subject(subject),
    };
    for to in email.to {
        builder = builder.to(mailbox(to)?);
    }
    // One-click unsubscribing (RFC 8058), which Gmail and Yahoo require of
    // bulk senders: a POST to the link unsubscribes without a page.
    if let Some(link) = &email.unsubscribe {
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{link}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    for cc in email.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    for bcc in email.bcc {
        builder = builder.bcc(mailbox(bcc)?);
    }
    let body = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(unescaped(email.body)),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html(email.body)),
        );
    builder
        .multipart(body)
        .map_err(|error| format!("the email cannot be built: {error}"))
}

/// Bytes of payload in one encoded word of a long subject: with
/// `=?utf-8?q?` and `?=`, each line stays under 78 characters.
const ENCODED_WORD: usize = 60;

/// A subject with a word too long to fold at whitespace (lead data without
/// spaces), as RFC 2047 encoded words on lines of their own, which mail
/// readers join back; `None` when lettre's own folding keeps every line
/// short. Without it, a line over SMTP's 998-character limit is refused.
fn folded_subject(subject: &str) -> Option<String> {
    if subject
        .split_whitespace()
        .all(|word| word.len() <= ENCODED_WORD)
    {
        return None;
    }
    let mut words = Vec::new();
    let mut word = String::new();
    for character in subject.chars() {
        let mut bytes = [0; 4];
        let encoded: String = character
            .encode_utf8(&mut bytes)
            .bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                    (byte as char).to_string()
                }
                b' ' => "_".to_owned(),
                other => format!("={other:02X}"),
            })
            .collect();
        if word.len() + encoded.len() > ENCODED_WORD {
            words.push(std::mem::take(&mut word));
        }
        word.push_str(&encoded);
    }
    words.push(word);
    Some(
        words
            .iter()
            .map(|word| format!("=?utf-8?q?{word}?="))
            .collect::<Vec<_>>()
            .join("\r\n "),
    )
}

/// The Message-ID of an effect: the same for every attempt, so a server or
/// mailbox that saw it can tell a repeat.
pub fn message_id(key: &str) -> String {
    let digest: String = Sha256::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("<{digest}@flowc>")
}

/// The Markdown body as plain text: backslash escapes (which keep lead
/// values from formatting) read as the characters they escape.
fn unescaped(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut characters = markdown.chars().peekable();
    while let Some(character) = characters.next() {
        match characters.peek() {
            Some(next) if character == '\\' && next.is_ascii_punctuation() => {}
            _ => out.push(character),
        }
    }
    out
}

/// Markdown as HTML, with any raw HTML shown as text: lead data in the body
/// cannot add markup or scripts.
fn html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let events = Parser::new(markdown).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}
