//! Slack and Microsoft Teams incoming webhooks, each with its own payload.

use serde_json::json;

use super::{by_status, secret, unreachable};
use crate::ast::NotifyService;
use crate::config::Config;
use crate::vm::Response;

/// Posts a message to the webhook configured for `target`.
pub fn notify(
    client: &reqwest::blocking::Client,
    config: &Config,
    service: NotifyService,
    target: &str,
    message: &str,
) -> Response {
    let webhooks = match service {
        NotifyService::Slack => &config.slack,
        NotifyService::Teams => &config.teams,
    };
    let what = format!("{} webhook {target}", service.keyword());
    let Some(webhook) = webhooks.get(target) else {
        return Response::Permanent(format!("no {what} is configured in flowc.toml"));
    };
    let url = match secret(&webhook.url_env) {
        Ok(url) => url,
        Err(missing) => return missing,
    };
    let payload = match service {
        NotifyService::Slack => json!({ "text": message }),
        // An Adaptive Card in a message: what Teams Workflows webhooks
        // take, and incoming webhooks (which retire MessageCard) too.
        NotifyService::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{ "type": "TextBlock", "text": message, "wrap": true }],
                },
            }],
        }),
    };
    match client.post(&url).json(&payload).send() {
        Ok(response) => by_status(&response, &what),
        Err(error) => unreachable(&error, &what),
    }
}
