//! Texts through a Twilio-compatible REST API.

use super::{by_status, secret, unreachable};
use crate::config::Config;
use crate::runtime::live::Delivery;
use crate::vm::Response;

/// Sends an SMS; `from` is a configured sender name or a phone number.
pub fn text(
    client: &reqwest::blocking::Client,
    config: &Config,
    delivery: &Delivery,
    to: &str,
    from: Option<&str>,
    body: &str,
) -> Response {
    let Some(twilio) = &config.twilio else {
        return Response::Permanent(
            "no text provider ([twilio]) is configured in flowc.toml".to_owned(),
        );
    };
    let (sid, token) = match (
        secret(&twilio.account_sid_env),
        secret(&twilio.auth_token_env),
    ) {
        (Ok(sid), Ok(token)) => (sid, token),
        (Err(missing), _) | (_, Err(missing)) => return missing,
    };
    let from = match from.map(|name| twilio.numbers.get(name).map_or(name, String::as_str)) {
        Some(number) => number.to_owned(),
        None => match &twilio.default_from {
            Some(number) => number.clone(),
            None => {
                return Response::Permanent(
                    "the text names no sender and [twilio] has no default_from".to_owned(),
                )
            }
        },
    };
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        twilio.base_url.trim_end_matches('/'),
        sid
    );
    let sent = client
        .post(url)
        .basic_auth(&sid, Some(&token))
        // Twilio drops a request it already took under the same token.
        .header("I-Twilio-Idempotency-Token", &delivery.key)
        .form(&[("To", to), ("From", from.as_str()), ("Body", body)])
        .send();
    match sent {
        Ok(response) => by_status(response.status(), "twilio"),
        Err(error) => unreachable(&error, "twilio"),
    }
}
