//! Provider webhooks. Each verifies the provider's signature over the
//! service's public URL before reading anything, and is idempotent: a
//! webhook sent again (same provider id) changes nothing twice.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json as JsonBody;
use base64::Engine as _;
use serde_json::{Map, Value as Json};

use super::email::{self, DeliveryKind, Posted, Shape};
use super::html;
use super::twilio::{self, Keyword};
use super::{ApiError, State};
use crate::ast::Channel;
use crate::providers::call_state;
use crate::runtime::consent::State as Consent;
use crate::runtime::live::{CallStatus, Heard, Receipt};
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
    /// The shared secret the mail provider's webhooks carry (from
    /// `serve.webhook_secret_env`).
    pub email_secret: Option<String>,
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
    let (form, key) = keyed(&state.webhooks, &headers, &uri, &body)?;
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

/// `POST /v1/webhooks/twilio/calls?key=KEY`: a call's status callback
/// (the `StatusCallback` flowc gives Twilio with each call when
/// `serve.public_url` is set). Its final status is the call's outcome:
/// the enrollment that placed it runs on at once, without waiting for the
/// next look at the call. Once per call.
#[utoipa::path(post, path = "/v1/webhooks/twilio/calls", tag = "webhooks",
    params(
        ("key" = String, Query, description = "The call's idempotency key, as flowc put it in the callback URL"),
        ("X-Twilio-Signature" = String, Header, description = "Twilio's HMAC-SHA1 signature over the public URL and the form"),
    ),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded", description = "Twilio's call status callback: CallSid, CallStatus, AnsweredBy, …"),
    responses(
        (status = 204, description = "Taken"),
        (status = 400, description = "Not a form, or no key, CallSid or CallStatus", body = super::error::ErrorBody),
        (status = 403, description = "The signature is missing or not Twilio's", body = super::error::ErrorBody),
        (status = 503, description = "No public URL or Twilio auth token is configured", body = super::error::ErrorBody),
    ))]
pub async fn twilio_call(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (form, key) = keyed(&state.webhooks, &headers, &uri, &body)?;
    let sid = form.require("CallSid")?;
    let answered_by = form.get("AnsweredBy").unwrap_or_else(|| "human".to_owned());
    let CallStatus::Ended(outcome) = call_state(&form.require("CallStatus")?, &answered_by) else {
        return Ok(StatusCode::NO_CONTENT);
    };
    state
        .db
        .call(move |live| live.call_reported(&key, &sid, outcome))
        .await??;
    Ok(StatusCode::NO_CONTENT)
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

/// The form of a status callback Twilio signed, and the effect's key from
/// its URL (which the signature covers).
fn keyed(
    webhooks: &Webhooks,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<(Form, String), ApiError> {
    let form = signed(webhooks, headers, uri, body)?;
    let query = Form::parse(uri.query().unwrap_or("").as_bytes())?;
    Ok((form, query.require("key")?))
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

/// `POST /v1/webhooks/email/{shape}/inbound`: an email to the reply
/// address (the mail provider's inbound parse), in `shape` (`generic`,
/// `sendgrid`, `mailgun`, `postmark`). It is an `email_replied` event for
/// every lead with the sender's address; the same Message-ID again
/// changes nothing.
#[utoipa::path(post, path = "/v1/webhooks/email/{shape}/inbound", tag = "webhooks",
    params(
        ("shape" = Shape, Path, description = "The shape the provider posts"),
        ("X-Flowc-Secret" = String, Header, description = "The shared secret (or as the password of HTTP Basic auth)"),
    ),
    request_body(content = Object, description = "JSON (generic, Postmark), a form or multipart form (SendGrid, Mailgun)"),
    responses(
        (status = 200, description = "Taken: how many leads have the sender's address, and whether it was new", body = Object),
        (status = 400, description = "Not the shape asked for, or no sender", body = super::error::ErrorBody),
        (status = 403, description = "The shared secret is missing or wrong", body = super::error::ErrorBody),
        (status = 404, description = "No such shape", body = super::error::ErrorBody),
        (status = 503, description = "No shared secret is configured", body = super::error::ErrorBody),
    ))]
pub async fn email_inbound(
    Shared(state): Shared<Arc<State>>,
    Path(shape): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<JsonBody<Json>, ApiError> {
    let (shape, posted) = email_request(&state.webhooks, &shape, &headers, body).await?;
    let email =
        email::inbound(shape, &posted).map_err(|why| ApiError::bad_request("invalid", why))?;
    let mut data = Map::new();
    for (name, value) in [
        ("from", Some(&email.from)),
        ("to", email.to.as_ref()),
        ("subject", email.subject.as_ref()),
        ("text", email.text.as_ref()),
    ] {
        if let Some(value) = value {
            data.insert(name.to_owned(), Json::from(value.as_str()));
        }
    }
    let heard = Heard {
        channel: Channel::Email,
        address: email.from,
        webhook: email.id.map(|id| ("email-inbound", id)),
        consent: None,
        event: Some(("email_replied", data)),
    };
    let hearing = state.db.call(move |live| live.hear(&heard)).await??;
    Ok(JsonBody(
        serde_json::json!({ "new": hearing.new, "leads": hearing.leads.len() }),
    ))
}

/// `POST /v1/webhooks/email/{shape}/events`: the mail provider's delivery
/// events. A permanent bounce makes the address `undeliverable`, a spam
/// complaint `unsubscribed` (raising `opted_out` and `unsubscribed` for
/// its leads); other events (deliveries, opens, soft bounces) are taken
/// and dropped.
#[utoipa::path(post, path = "/v1/webhooks/email/{shape}/events", tag = "webhooks",
    params(
        ("shape" = Shape, Path, description = "The shape the provider posts"),
        ("X-Flowc-Secret" = String, Header, description = "The shared secret (or as the password of HTTP Basic auth)"),
    ),
    request_body(content = Object, content_type = "application/json", description = "One event or an array of them"),
    responses(
        (status = 200, description = "Taken: how many events changed an address's consent", body = Object),
        (status = 400, description = "Not JSON events", body = super::error::ErrorBody),
        (status = 403, description = "The shared secret is missing or wrong", body = super::error::ErrorBody),
        (status = 404, description = "No such shape", body = super::error::ErrorBody),
        (status = 503, description = "No shared secret is configured", body = super::error::ErrorBody),
    ))]
pub async fn email_events(
    Shared(state): Shared<Arc<State>>,
    Path(shape): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<JsonBody<Json>, ApiError> {
    let (shape, posted) = email_request(&state.webhooks, &shape, &headers, body).await?;
    let events =
        email::deliveries(shape, &posted).map_err(|why| ApiError::bad_request("invalid", why))?;
    let provider = format!("{shape:?}").to_lowercase();
    let heard: Vec<Heard> = events
        .into_iter()
        .map(|event| {
            let state = match event.kind {
                DeliveryKind::Bounce => Consent::Undeliverable,
                DeliveryKind::Complaint => Consent::Unsubscribed,
            };
            let id = event.id.as_deref().unwrap_or("no id");
            let source = format!("{provider}: {} ({id})", event.kind.name());
            Heard {
                channel: Channel::Email,
                address: event.address,
                webhook: event
                    .id
                    .map(|id| ("email-events", format!("{provider}:{id}"))),
                consent: Some((state, source)),
                event: None,
            }
        })
        .collect();
    let changed = state
        .db
        .call(move |live| {
            heard.iter().try_fold(0, |changed, heard| {
                Ok::<_, crate::store::StoreError>(
                    changed + usize::from(live.hear(heard)?.consent_changed),
                )
            })
        })
        .await??;
    Ok(JsonBody(serde_json::json!({ "changed": changed })))
}

/// The shape and body of a mail provider's webhook, once its shared
/// secret checks out.
async fn email_request(
    webhooks: &Webhooks,
    shape: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Shape, Posted), ApiError> {
    let shape: Shape = serde_json::from_value(Json::from(shape)).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no email webhook shape {shape:?}: generic, sendgrid, mailgun or postmark"),
        )
    })?;
    shared_secret(webhooks, headers)?;
    Ok((shape, posted(headers, body).await?))
}

/// 503 when no shared secret is configured, 403 unless the request
/// carries it: in `X-Flowc-Secret`, or as the password of HTTP Basic
/// auth (`https://flowc:SECRET@host/…`, for providers that cannot add a
/// header). Compared in constant time.
fn shared_secret(webhooks: &Webhooks, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(secret) = &webhooks.email_secret else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook-not-configured",
            "set serve.webhook_secret_env in flowc.toml to take the mail provider's webhooks",
        ));
    };
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    let basic = header(header::AUTHORIZATION.as_str())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(_, password)| password.to_owned())
        });
    let given = header("x-flowc-secret").map(str::to_owned).or(basic);
    match given {
        Some(given) if twilio::same_secret(&given, secret) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad-signature",
            "send the shared secret in X-Flowc-Secret, or as the password of the URL's Basic auth",
        )),
    }
}

/// A webhook's body by its content type: JSON, a form, or a multipart
/// form's text fields (attachments are left out).
async fn posted(headers: &HeaderMap, body: Bytes) -> Result<Posted, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        "application/json" => serde_json::from_slice(&body)
            .map(Posted::Json)
            .map_err(|error| ApiError::bad_request("malformed-json", error.to_string())),
        "application/x-www-form-urlencoded" => Ok(Posted::Form(Form::parse(&body)?.0)),
        "multipart/form-data" => multipart(content_type, body).await.map(Posted::Form),
        _ => Err(ApiError::bad_request(
            "invalid",
            format!("send JSON, a form or a multipart form, not {media:?}"),
        )),
    }
}

async fn multipart(content_type: &str, body: Bytes) -> Result<Vec<(String, String)>, ApiError> {
    let invalid = |error: multer::Error| {
        ApiError::bad_request("invalid", format!("not a multipart form: {error}"))
    };
    let boundary = multer::parse_boundary(content_type).map_err(invalid)?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = parts.next_field().await.map_err(invalid)? {
        if field.file_name().is_some() {
            continue;
        }
        let name = field.name().unwrap_or_default().to_owned();
        fields.push((name, field.text().await.map_err(invalid)?));
    }
    Ok(fields)
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
