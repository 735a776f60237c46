//! Real providers for live runs, as `flowc.toml` names them: SMTP email,
//! Slack and Teams incoming webhooks, a Twilio-compatible API for texts, and http
//! steps (allow-listed, never redirected off the list). Every answer is
//! sorted into delivered, transient (timeouts, 5xx, 429, refused
//! connections: held and retried) and permanent (other 4xx).

mod ai;
mod http;
pub mod smtp;
mod twilio;
mod webhook;

use std::time::Duration;

use crate::config::Config;
use crate::runtime::live::{Delivery, Provider};
use crate::vm::{Message, Response};

/// How long a provider call may take when the step sets no timeout.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The providers of a configuration.
pub struct Providers {
    config: Config,
    client: reqwest::blocking::Client,
}

impl Providers {
    /// Providers for `config`.
    pub fn new(config: Config) -> Result<Providers, reqwest::Error> {
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Providers { config, client })
    }
}

impl Provider for Providers {
    fn deliver(&mut self, delivery: &Delivery) -> Response {
        let message: Message = match serde_json::from_str(&delivery.message) {
            Ok(message) => message,
            Err(error) => {
                return Response::Permanent(format!(
                    "the outbox holds a message flowc cannot read: {error}"
                ))
            }
        };
        match &message {
            Message::Notify {
                service,
                target,
                message,
            } => webhook::notify(&self.client, &self.config, *service, target, message),
            Message::Text { to, from, body } => twilio::text(
                &self.client,
                &self.config,
                delivery,
                to,
                from.as_deref(),
                body,
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
            } => smtp::send(
                &self.config,
                delivery,
                &smtp::Outgoing {
                    to,
                    cc,
                    bcc,
                    from: from.as_deref(),
                    subject,
                    body,
                },
            ),
            Message::Prompt {
                instructions,
                tools,
                fields,
            } => ai::prompt(&self.client, &self.config, instructions, tools, fields),
            Message::Call { to, agent, from } => twilio::call(
                &self.client,
                &self.config,
                delivery,
                to,
                agent.as_deref(),
                from.as_deref(),
            ),
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

/// Sorts a provider's HTTP status into an answer.
fn by_status(status: reqwest::StatusCode, what: &str) -> Response {
    if status.is_success() {
        Response::Delivered
    } else if status.as_u16() == 429 || status.is_server_error() {
        Response::Transient(format!("{what} answered {status}"))
    } else {
        Response::Permanent(format!("{what} answered {status}"))
    }
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
