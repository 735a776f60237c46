//! Texts through a Twilio-compatible REST API.

use super::{by_status, capped_json, reason, secret, unreachable};
use crate::ast::Outcome;
use crate::config::Config;
use crate::runtime::live::{Attempt, CallStatus};
use crate::vm::Response;

/// What every request needs: the configuration, the credentials and the
/// sending number.
struct Account<'c> {
    twilio: &'c crate::config::Twilio,
    sid: String,
    token: String,
    from: String,
}

impl Account<'_> {
    /// The URL of a resource of the account: `Messages.json`.
    fn url(&self, resource: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/{resource}",
            self.twilio.base_url.trim_end_matches('/'),
            self.sid
        )
    }

    /// An authenticated POST. Twilio's REST API takes no idempotency key
    /// for creating messages or calls (`I-Twilio-Idempotency-Token` is a
    /// header Twilio sends on its own webhooks): flowc's outbox is the only
    /// guard against sending twice.
    fn post(
        &self,
        client: &reqwest::blocking::Client,
        resource: &str,
    ) -> reqwest::blocking::RequestBuilder {
        client
            .post(self.url(resource))
            .basic_auth(&self.sid, Some(&self.token))
    }
}

/// The account, with `from` (a configured sender name, a number, or the
/// default) resolved; or why it cannot be used.
fn account<'c>(config: &'c Config, from: Option<&str>) -> Result<Account<'c>, Response> {
    let Some(twilio) = &config.twilio else {
        return Err(Response::Permanent(
            "no text or call provider ([twilio]) is configured in flowc.toml".to_owned(),
        ));
    };
    let from = match from.map(|name| twilio.numbers.get(name).map_or(name, String::as_str)) {
        Some(number) => number.to_owned(),
        None => twilio.default_from.clone().ok_or_else(|| {
            Response::Permanent(
                "the step names no sender and [twilio] has no default_from".to_owned(),
            )
        })?,
    };
    Ok(Account {
        twilio,
        sid: secret(&twilio.account_sid_env)?,
        token: secret(&twilio.auth_token_env)?,
        from,
    })
}

/// Places a call with a voice agent: once Twilio has accepted it, its
/// id. Its outcome comes by status callback to `flowc serve` when
/// `serve.public_url` is set, else (and should a callback be lost) from
/// [`call_status`].
pub fn call(
    client: &reqwest::blocking::Client,
    config: &Config,
    to: &str,
    agent: Option<&str>,
    from: Option<&str>,
    key: &str,
) -> Attempt {
    let account = match account(config, from) {
        Ok(account) => account,
        Err(response) => return Attempt::Answered(response),
    };
    let twilio = account.twilio;
    let Some(instructions) = agent.and_then(|agent| twilio.agents.get(agent)) else {
        return Attempt::Answered(Response::Permanent(format!(
            "no voice agent {:?} is configured in [twilio.agents]",
            agent.unwrap_or_default()
        )));
    };
    let mut form = vec![
        ("To", to.to_owned()),
        ("From", account.from.clone()),
        ("Url", instructions.clone()),
        ("MachineDetection", "Enable".to_owned()),
    ];
    if let Some(callback) = status_callback(config, "calls", key) {
        form.push(("StatusCallback", callback));
    }
    let created = account.post(client, "Calls.json").form(&form).send();
    let created = match created {
        Ok(response) if response.status().is_success() => response,
        Ok(response) => return Attempt::Answered(by_status(&response, "twilio")),
        Err(error) => return Attempt::Answered(unreachable(&error, "twilio")),
    };
    let call = match capped_json(created, config.limits.response_bytes, "twilio") {
        Ok(call) => call,
        Err(failure) => return Attempt::Answered(failure),
    };
    match call["sid"].as_str() {
        Some(call_sid) => Attempt::Placed(call_sid.to_owned()),
        None => Attempt::Answered(Response::Transient(
            "twilio did not say which call it placed".to_owned(),
        )),
    }
}

/// Looks once at a placed call's status: answered by a person, by a
/// machine (voicemail), not answered (busy, no answer), failed, or still
/// going.
pub fn call_status(client: &reqwest::blocking::Client, config: &Config, call: &str) -> CallStatus {
    let account = match account(config, None) {
        Ok(account) => account,
        Err(Response::Permanent(reason) | Response::Transient(reason)) => {
            return CallStatus::Unknown(reason)
        }
        Err(_) => return CallStatus::Unknown("no twilio account".to_owned()),
    };
    let status = client
        .get(account.url(&format!("Calls/{call}.json")))
        .basic_auth(&account.sid, Some(&account.token))
        .send()
        .map_err(|error| format!("twilio: {error}"))
        .and_then(|response| {
            capped_json(response, config.limits.response_bytes, "twilio").map_err(reason)
        });
    let status = match status {
        Ok(status) => status,
        Err(reason) => return CallStatus::Unknown(reason),
    };
    call_state(
        status["status"].as_str().unwrap_or_default(),
        status["answered_by"].as_str().unwrap_or("human"),
    )
}

/// What Twilio's call `status` and `answered_by` (its answering-machine
/// detection) mean, from the API or a status callback.
pub fn call_state(status: &str, answered_by: &str) -> CallStatus {
    match status {
        "completed" if answered_by.starts_with("machine") || answered_by == "fax" => {
            CallStatus::Ended(Outcome::Voicemail)
        }
        "completed" => CallStatus::Ended(Outcome::Answered),
        "busy" | "no-answer" => CallStatus::Ended(Outcome::NoAnswer),
        "failed" | "canceled" => CallStatus::Ended(Outcome::Failed),
        "in-progress" => CallStatus::Connected,
        _ => CallStatus::Ringing,
    }
}

/// The URL of `flowc serve`'s webhook `path` for the effect keyed `key`,
/// when the service has a public address: Twilio signs the URL with the
/// key in it, so a callback says which effect it is for and cannot be
/// turned to another.
fn status_callback(config: &Config, path: &str, key: &str) -> Option<String> {
    let public = config.serve.public_url.as_ref()?;
    let key = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC);
    Some(format!(
        "{}/v1/webhooks/twilio/{path}?key={key}",
        public.trim_end_matches('/')
    ))
}

/// Sends an SMS; `from` is a configured sender name or a phone number.
pub fn text(
    client: &reqwest::blocking::Client,
    config: &Config,
    to: &str,
    from: Option<&str>,
    body: &str,
    key: &str,
) -> Response {
    let account = match account(config, from) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let mut form = vec![
        ("To", to.to_owned()),
        ("From", account.from.clone()),
        ("Body", body.to_owned()),
    ];
    if let Some(callback) = status_callback(config, "status", key) {
        form.push(("StatusCallback", callback));
    }
    let sent = account.post(client, "Messages.json").form(&form).send();
    match sent {
        Ok(response) => by_status(&response, "twilio"),
        Err(error) => unreachable(&error, "twilio"),
    }
}
