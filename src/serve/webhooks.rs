//! Provider webhooks. Each verifies the provider's signature over the
//! service's public URL before reading anything, and is idempotent: a
//! webhook sent again (same provider id) changes nothing twice.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json};

use super::html;
use super::twilio::{self, Keyword};
use super::{ApiError, State};
use crate::ast::Channel;
use crate::runtime::consent::State as Consent;
use crate::runtime::live::{Heard, Receipt};
use crate::runtime::unsubscribe::Links;

/// What the webhooks need from `flowc.toml` and the environment.
#[derive(Clone, Debug, Default)]
pub struct Webhooks {
    /// The service's address as providers reach it.
    pub public_url: Option<String>,
    /// Twilio's auth token (from `twilio.auth_token_env`).
    pub twilio_token: Option<String>,
    /// The answer to HELP.
    pub help_text: Option<String>,
    /// Unsubscribe links.
    pub links: Option<Links>,
}

impl Webhooks {
    /// The address of an unsubscribe link's token, if this service signed it.
    fn address(&self, token: &str) -> Option<String> {
        self.links.as_ref().and_then(|links| links.address(token))
    }
}

/// `POST /v1/webhooks/twilio/messages`: a text to one of the account's
/// numbers. STOP and its synonyms opt the sender's number out of texts
/// (raising `opted_out` for its leads), START opts it back in, HELP is
/// answered with `serve.help_text`; anything else is a `text_replied`
/// event for every lead with that number. A message Twilio sends again
/// (same MessageSid) changes nothing.
#[utoipa::path(post, path = "/v1/webhooks/twilio/messages", tag = "webhooks",
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature over the public URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded", description = "Twilio's inbound-message form: MessageSid, From, To, Body, …"),
    responses(
        (status = 200, description = "TwiML: empty, or the HELP answer", content_type = "text/xml", body = String),
        (status = 400, description = "Not a form, or no MessageSid, From or Body", body = super::error::ErrorBody),
        (status = 403, description = "The signature is missing or not Twilio's", body = super::error::ErrorBody),
        (status = 503, description = "No public URL or Twilio auth token is configured", body = super::error::ErrorBody),
    ))]
pub async fn twilio_message(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = signed(&state.webhooks, &headers, &uri, &body)?;
    let (sid, from, text) = (
        form.require("MessageSid")?,
        form.require("From")?,
        form.require("Body")?,
    );
    let word = twilio::keyword(&text);
    let source = format!("twilio: {} ({sid})", text.trim());
    let heard = Heard {
        channel: Channel::Text,
        address: from.clone(),
        webhook: Some(("twilio", sid)),
        consent: match word {
            Some(Keyword::OptOut) => Some((Consent::OptedOut, source)),
            Some(Keyword::OptIn) => Some((Consent::OptedIn, source)),
            _ => None,
        },
        event: match word {
            None => Some(("text_replied", reply_payload(&form, &from, &text))),
            Some(_) => None,
        },
    };
    state.db.call(move |live| live.hear(&heard)).await??;
    let reply = match word {
        Some(Keyword::Help) => state.webhooks.help_text.as_deref(),
        _ => None,
    };
    Ok(([(header::CONTENT_TYPE, "text/xml")], twilio::twiml(reply)).into_response())
}

/// `POST /v1/webhooks/twilio/status?key=KEY`: a text's delivery receipt
/// (the `StatusCallback` flowc gives Twilio with each text when
/// `serve.public_url` is set). `delivered`, `undelivered` and `failed` go
/// on the timeline at the text's step, once; the other statuses (queued,
/// sent, …) are acknowledged and dropped.
#[utoipa::path(post, path = "/v1/webhooks/twilio/status", tag = "webhooks",
    params(
        ("key" = String, Query, description = "The text's idempotency key, as flowc put it in the callback URL"),
        ("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature over the public URL and the form"),
    ),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded", description = "Twilio's status callback: MessageSid, MessageStatus, ErrorCode, …"),
    responses(
        (status = 204, description = "Taken"),
        (status = 400, description = "Not a form, or no key, MessageSid or MessageStatus", body = super::error::ErrorBody),
        (status = 403, description = "The signature is missing or not Twilio's", body = super::error::ErrorBody),
        (status = 503, description = "No public URL or Twilio auth token is configured", body = super::error::ErrorBody),
    ))]
pub async fn twilio_status(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let form = signed(&state.webhooks, &headers, &uri, &body)?;
    let query = Form::parse(uri.query().unwrap_or("").as_bytes())?;
    let key = query.require("key")?;
    let sid = form.require("MessageSid")?;
    let status = form.require("MessageStatus")?;
    let receipt = match status.as_str() {
        "delivered" => Receipt::Delivered,
        "undelivered" | "failed" => {
            Receipt::Undelivered(form.get("ErrorCode").filter(|code| !code.is_empty()))
        }
        _ => return Ok(StatusCode::NO_CONTENT),
    };
    let id = format!("{sid}:{status}");
    state
        .db
        .call(move |live| live.receipt(&key, &id, &receipt))
        .await??;
    Ok(StatusCode::NO_CONTENT)
}

/// The payload of `text_replied`: what the lead wrote, from and to which
/// numbers.
fn reply_payload(form: &Form, from: &str, text: &str) -> Map<String, Json> {
    let mut data = Map::new();
    data.insert("text".to_owned(), Json::from(text));
    data.insert("from".to_owned(), Json::from(from));
    if let Some(to) = form.get("To") {
        data.insert("to".to_owned(), Json::from(to));
    }
    data
}

/// A form's parameters (a webhook's body, or its URL's query).
struct Form(Vec<(String, String)>);

impl Form {
    /// The form in `bytes`; 400 when it is not one.
    fn parse(bytes: &[u8]) -> Result<Form, ApiError> {
        serde_urlencoded::from_bytes(bytes)
            .map(Form)
            .map_err(|error| ApiError::bad_request("invalid", format!("not a form: {error}")))
    }

    /// The parameter `name`, if given.
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    /// The parameter `name`; 400 when it is missing.
    fn require(&self, name: &str) -> Result<String, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_request("invalid", format!("no {name} in the webhook")))
    }
}

/// The form parameters of a request Twilio signed; 503 when the service
/// cannot check signatures (no public URL or auth token), 403 when the
/// signature is missing or wrong.
fn signed(
    webhooks: &Webhooks,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Form, ApiError> {
    let (Some(public), Some(token)) = (&webhooks.public_url, &webhooks.twilio_token) else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook-not-configured",
            "set serve.public_url and twilio.auth_token_env in flowc.toml to take Twilio's webhooks",
        ));
    };
    let form = Form::parse(body)?;
    let url = format!(
        "{}{}",
        public.trim_end_matches('/'),
        uri.path_and_query()
            .map_or(uri.path(), |path| path.as_str())
    );
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !twilio::verify(token, &url, &form.0, signature) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad-signature",
            format!("X-Twilio-Signature is not Twilio's for {url}"),
        ));
    }
    Ok(form)
}

/// `GET /v1/unsubscribe/{token}`: asks to confirm (a link scanner that
/// follows links must not unsubscribe anyone), with a button that posts.
#[utoipa::path(get, path = "/v1/unsubscribe/{token}", tag = "webhooks",
    params(("token" = String, Path, description = "The signed token of an email's unsubscribe link")),
    responses(
        (status = 200, description = "A page asking to confirm", content_type = "text/html", body = String),
        (status = 404, description = "The token is not one flowc signed", content_type = "text/html", body = String),
    ))]
pub async fn unsubscribe_page(
    Shared(state): Shared<Arc<State>>,
    Path(token): Path<String>,
) -> Response {
    let Some(address) = state.webhooks.address(&token) else {
        return invalid_link();
    };
    let address = html::escape(&address);
    html::page(
        StatusCode::OK,
        "Unsubscribe",
        &format!(
            "<p>Stop emails to <strong>{address}</strong>?</p>\n<form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>"
        ),
    )
}

/// `POST /v1/unsubscribe/{token}`: unsubscribes the link's address from
/// email at once — the one-click `List-Unsubscribe-Post` of RFC 8058, or
/// the confirmation page's button. Unsubscribing again changes nothing.
#[utoipa::path(post, path = "/v1/unsubscribe/{token}", tag = "webhooks",
    params(("token" = String, Path, description = "The signed token of an email's unsubscribe link")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`List-Unsubscribe=One-Click` from a mail client, or the page's empty form"),
    responses(
        (status = 200, description = "Unsubscribed", content_type = "text/html", body = String),
        (status = 404, description = "The token is not one flowc signed", content_type = "text/html", body = String),
    ))]
pub async fn unsubscribe(
    Shared(state): Shared<Arc<State>>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some(address) = state.webhooks.address(&token) else {
        return invalid_link();
    };
    let source = match body.as_ref() {
        b"List-Unsubscribe=One-Click" => "one-click unsubscribe",
        _ => "unsubscribe link",
    };
    let heard = Heard {
        channel: Channel::Email,
        address: address.clone(),
        webhook: None,
        consent: Some((Consent::Unsubscribed, source.to_owned())),
        event: None,
    };
    let done = state.db.call(move |live| live.hear(&heard)).await;
    match done {
        Ok(Ok(_)) => html::page(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<p><strong>{}</strong> will get no more emails from us.</p>",
                html::escape(&address)
            ),
        ),
        Ok(Err(error)) => ApiError::from(error).into_response(),
        Err(error) => error.into_response(),
    }
}

fn invalid_link() -> Response {
    html::page(
        StatusCode::NOT_FOUND,
        "This link is not valid",
        "<p>The unsubscribe link is incomplete or was not made by us. Use the link in the email you received.</p>",
    )
}
