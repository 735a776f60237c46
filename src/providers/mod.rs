//! Real providers for live runs, as `flowc.toml` names them: SMTP email,
//! Slack and Teams incoming webhooks, a Twilio-compatible API for texts, and http
//! steps (allow-listed, never redirected off the list). Every answer is
//! sorted into delivered, transient (timeouts, 5xx, 429, refused
//! connections: held and retried) and permanent (other 4xx).

mod ai;
mod http;
pub mod smtp;
pub use twilio::call_state;
mod twilio;
mod webhook;

use std::time::Duration;

use crate::config::Config;
use crate::runtime::live::{Attempt, CallStatus, Delivery, Provider};
use crate::runtime::unsubscribe::Links;
use crate::schema::UNSUBSCRIBE_URL;
use crate::vm::{Message, Response};

/// How long a provider call may take when the step sets no timeout.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The providers of a configuration.
pub struct Providers {
    config: Config,
    client: reqwest::blocking::Client,
    /// Unsubscribe links for emails, when the service's address and key
    /// are configured.
    links: Option<Links>,
}

impl Providers {
    /// Providers for `config`.
    pub fn new(config: Config) -> Result<Providers, reqwest::Error> {
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let links = Links::from_config(&config);
        Ok(Providers {
            config,
            client,
            links,
        })
    }
}

impl Provider for Providers {
    fn deliver(&self, delivery: &Delivery) -> Attempt {
        let message: Message = match serde_json::from_str(&delivery.message) {
            Ok(message) => message,
            Err(error) => {
                return Attempt::Answered(Response::Permanent(format!(
                    "the outbox holds a message flowc cannot read: {error}"
                )))
            }
        };
        if let Message::Call { to, agent, from } = &message {
            return twilio::call(
                &self.client,
                &self.config,
                to,
                agent.as_deref(),
                from.as_deref(),
                &delivery.key,
            );
        }
        Attempt::Answered(self.send(delivery, &message))
    }

    fn call_status(&self, call: &str) -> CallStatus {
        twilio::call_status(&self.client, &self.config, call)
    }

    fn concurrency(&self, kind: &str) -> usize {
        self.config.concurrency.of(kind)
    }

    fn call_timing(&self) -> (Duration, Duration) {
        self.config.twilio.as_ref().map_or(
            (Duration::from_secs(5), Duration::from_secs(3600)),
            |twilio| {
                (
                    Duration::from_secs(twilio.poll_seconds.max(1)),
                    Duration::from_secs(twilio.call_timeout_seconds),
                )
            },
        )
    }
}

impl Providers {
    /// Delivers an effect that is answered at once (everything but calls).
    fn send(&self, delivery: &Delivery, message: &Message) -> Response {
        match message {
            Message::Notify {
                service,
                target,
                message,
            } => webhook::notify(&self.client, &self.config, *service, target, message),
            Message::Text { to, from, body } => twilio::text(
                &self.client,
                &self.config,
                to,
                from.as_deref(),
                body,
                &delivery.key,
            ),
            Message::Http {
                method,
                url,
                headers,
                body,
                timeout_seconds,
            } => http::request(
                &self.config,
                &http::Request {
                    method: *method,
                    url,
                    headers,
                    body: body.as_ref(),
                    timeout: Duration::from_secs(u64::from(*timeout_seconds).max(1)),
                    idempotency_key: &delivery.key,
                },
            ),
            Message::Email {
                to,
                cc,
                bcc,
                from,
                subject,
                body,
                transactional,
            } => {
                let link = self
                    .links
                    .as_ref()
                    .zip(to.first())
                    .map(|(links, to)| links.url(to));
                let uses_link = [subject, body]
                    .iter()
                    .any(|text| text.contains(UNSUBSCRIBE_URL));
                let (subject, body) = match &link {
                    Some(link) => (subject.replace(UNSUBSCRIBE_URL, link), body.replace(UNSUBSCRIBE_URL, link)),
                    None if uses_link => {
                        return Response::Permanent(
                            "the email uses {{ unsubscribe_url }} but no unsubscribe links are configured (serve.public_url and serve.signing_key_env)".to_owned(),
                        )
                    }
                    None => (subject.clone(), body.clone()),
                };
                smtp::send(
                    &self.config,
                    delivery,
                    &smtp::Outgoing {
                        to,
                        cc,
                        bcc,
                        from: from.as_deref(),
                        subject: &subject,
                        body: &body,
                        unsubscribe: link.filter(|_| !transactional),
                    },
                )
            }
            Message::Prompt {
                instructions,
                tools,
                fields,
            } => ai::prompt(&self.client, &self.config, instructions, tools, fields),
            Message::Call { .. } => Response::Permanent("calls are placed, not sent".to_owned()),
        }
    }
}

/// An environment variable a provider needs, or why it is missing.
fn secret(name: &str) -> Result<String, Response> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or_else(|| Response::Permanent(format!("the environment variable {name} is not set")))
}

/// Sorts a provider's HTTP answer by its status: delivered, worth
/// retrying (429 and 5xx, no sooner than its `Retry-After` says), or not.
fn by_status(response: &reqwest::blocking::Response, what: &str) -> Response {
    let status = response.status();
    let reason = || format!("{what} answered {status}");
    if status.is_success() {
        Response::Delivered
    } else if status.as_u16() == 429 || status.is_server_error() {
        match retry_after(response.headers()) {
            Some(seconds) => Response::Throttled {
                reason: format!("{}; it asked to wait {seconds} s", reason()),
                seconds,
            },
            None => Response::Transient(reason()),
        }
    } else {
        Response::Permanent(reason())
    }
}

/// Why a failed answer failed, in words.
fn reason(failure: Response) -> String {
    match failure {
        Response::Permanent(reason)
        | Response::Transient(reason)
        | Response::Throttled { reason, .. } => reason,
        other => format!("unexpected answer {other:?}"),
    }
}

/// The body of a provider's answer, at most `limit` bytes: a longer one is
/// a permanent failure, so a runaway answer is never stored.
fn capped_body(
    response: reqwest::blocking::Response,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, Response> {
    use std::io::Read;
    let mut body = Vec::new();
    match response.take(limit as u64 + 1).read_to_end(&mut body) {
        Err(error) => Err(Response::Transient(format!(
            "{what}: reading the answer failed: {error}"
        ))),
        Ok(_) if body.len() > limit => Err(Response::Permanent(format!(
            "{what} answered more than {limit} bytes (limits.response_bytes in flowc.toml)"
        ))),
        Ok(_) => Ok(body),
    }
}

/// A provider's answer as JSON, at most `limit` bytes: anything else (an
/// HTML error page with status 200) is a permanent failure, which no retry
/// would fix.
fn capped_json(
    response: reqwest::blocking::Response,
    limit: usize,
    what: &str,
) -> Result<serde_json::Value, Response> {
    let body = capped_body(response, limit, what)?;
    serde_json::from_slice(&body)
        .map_err(|error| Response::Permanent(format!("{what}'s answer is not JSON: {error}")))
}

/// The seconds a `Retry-After` header asks to wait: a number of seconds,
/// or an HTTP date (counted from now; a past date is 0).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let seconds = (date.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(u64::try_from(seconds).unwrap_or(0))
}

/// Sorts a failed call (no answer at all) into an answer: always worth
/// retrying (timeouts, refused or reset connections).
fn unreachable(error: &reqwest::Error, what: &str) -> Response {
    let reason = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not be reached".to_owned()
    } else {
        format!("failed: {error}")
    };
    Response::Transient(format!("{what} {reason}"))
}
