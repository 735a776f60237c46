//! Provider webhooks. Each verifies the provider's signature over the
//! service's public URL before reading anything, and is idempotent: a
//! webhook sent again (same provider id) changes nothing twice.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::html;
use super::twilio::{self, Keyword};
use super::{ApiError, State};
use crate::ast::Channel;
use crate::runtime::consent::{self, State as Consent};
use crate::runtime::live::{Live, Receipt};
use crate::runtime::unsubscribe::Links;
use crate::store::{millis, params, StoreError};

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

/// `POST /v1/webhooks/twilio/messages`: a text to one of the account's
/// numbers. STOP and its synonyms opt the sender's number out of texts,
/// START opts it back in, HELP is answered with `serve.help_text`.
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
    let params = signed(&state.webhooks, &headers, &uri, &body)?;
    let field = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| ApiError::bad_request("invalid", format!("no {name} in the webhook")))
    };
    let (sid, from, text) = (field("MessageSid")?, field("From")?, field("Body")?);
    let word = twilio::keyword(&text);
    if let Some(state_to) = match word {
        Some(Keyword::OptOut) => Some(Consent::OptedOut),
        Some(Keyword::OptIn) => Some(Consent::OptedIn),
        _ => None,
    } {
        let source = format!("twilio: {} ({sid})", text.trim());
        state
            .db
            .call(move |live| opt(live, &sid, &from, state_to, &source))
            .await??;
    }
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
    let params = signed(&state.webhooks, &headers, &uri, &body)?;
    let field = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let missing =
        |name: &str| ApiError::bad_request("invalid", format!("no {name} in the webhook"));
    let query: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|error| ApiError::bad_request("invalid", format!("not a query: {error}")))?;
    let key = query
        .into_iter()
        .find(|(name, _)| name == "key")
        .map(|(_, key)| key)
        .ok_or_else(|| missing("key"))?;
    let sid = field("MessageSid").ok_or_else(|| missing("MessageSid"))?;
    let status = field("MessageStatus").ok_or_else(|| missing("MessageStatus"))?;
    let receipt = match status.as_str() {
        "delivered" => Receipt::Delivered,
        "undelivered" | "failed" => {
            Receipt::Undelivered(field("ErrorCode").filter(|code| !code.is_empty()))
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

/// Records a consent change from webhook `sid`, once.
fn opt(
    live: &mut Live,
    sid: &str,
    from: &str,
    to: Consent,
    source: &str,
) -> Result<(), StoreError> {
    let now = live.clock.now();
    let transaction = live.store.transaction()?;
    let first = transaction.execute(
        "INSERT INTO webhooks (provider, id, at) VALUES ('twilio', ?1, ?2) ON CONFLICT DO NOTHING",
        params![sid, millis(now)],
    )?;
    if first == 1 {
        consent::record(&transaction, Channel::Text, from, to, source, now)?;
    }
    transaction.commit()
}

/// The form parameters of a request Twilio signed; 503 when the service
/// cannot check signatures (no public URL or auth token), 403 when the
/// signature is missing or wrong.
fn signed(
    webhooks: &Webhooks,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let (Some(public), Some(token)) = (&webhooks.public_url, &webhooks.twilio_token) else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook-not-configured",
            "set serve.public_url and twilio.auth_token_env in flowc.toml to take Twilio's webhooks",
        ));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|error| ApiError::bad_request("invalid", format!("not a form: {error}")))?;
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
    if !twilio::verify(token, &url, &params, signature) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad-signature",
            format!("X-Twilio-Signature is not Twilio's for {url}"),
        ));
    }
    Ok(params)
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
    let Some(address) = state
        .webhooks
        .links
        .as_ref()
        .and_then(|links| links.address(&token))
    else {
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
    let Some(address) = state
        .webhooks
        .links
        .as_ref()
        .and_then(|links| links.address(&token))
    else {
        return invalid_link();
    };
    let source = match body.as_ref() {
        b"List-Unsubscribe=One-Click" => "one-click unsubscribe",
        _ => "unsubscribe link",
    };
    let recipient = address.clone();
    let done = state
        .db
        .call(move |live| unsubscribed(live, &recipient, source))
        .await;
    match done {
        Ok(Ok(())) => html::page(
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

/// Records that `address` unsubscribed, unless it already had.
fn unsubscribed(live: &mut Live, address: &str, source: &str) -> Result<(), StoreError> {
    let now = live.clock.now();
    let transaction = live.store.transaction()?;
    let current = consent::current(&transaction, Channel::Email, address)?;
    if current.is_none_or(|change| change.state != Consent::Unsubscribed) {
        consent::record(
            &transaction,
            Channel::Email,
            address,
            Consent::Unsubscribed,
            source,
            now,
        )?;
    }
    transaction.commit()
}

fn invalid_link() -> Response {
    html::page(
        StatusCode::NOT_FOUND,
        "This link is not valid",
        "<p>The unsubscribe link is incomplete or was not made by us. Use the link in the email you received.</p>",
    )
}
