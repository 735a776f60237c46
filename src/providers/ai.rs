//! Prompt steps through an OpenAI-compatible chat completions endpoint,
//! asking for a JSON object with the fields to extract (structured output).

use serde_json::{json, Map, Value};

use super::{by_status, secret, unreachable};
use crate::config::Config;
use crate::vm::Response;

/// Asks the model; answers with the object it returned.
pub fn prompt(
    client: &reqwest::blocking::Client,
    config: &Config,
    instructions: &str,
    fields: &[(String, String)],
) -> Response {
    let Some(ai) = &config.ai else {
        return Response::Permanent("no AI endpoint ([ai]) is configured in flowc.toml".to_owned());
    };
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(name, description)| (name.clone(), json!({ "description": description })))
        .collect();
    let names: Vec<&String> = fields.iter().map(|(name, _)| name).collect();
    let request = json!({
        "model": ai.model,
        "messages": [
            {
                "role": "system",
                "content": format!(
                    "Answer with one JSON object with exactly these fields: {}.",
                    fields.iter().map(|(name, description)| format!("{name} ({description})")).collect::<Vec<_>>().join(", ")
                ),
            },
            { "role": "user", "content": instructions },
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "extraction",
                "schema": { "type": "object", "properties": properties, "required": names },
            },
        },
    });
    let url = format!("{}/chat/completions", ai.base_url.trim_end_matches('/'));
    let mut builder = client.post(url).json(&request);
    if let Some(variable) = &ai.api_key_env {
        match secret(variable) {
            Ok(key) => builder = builder.bearer_auth(key),
            Err(missing) => return missing,
        }
    }
    let response = match builder.send() {
        Ok(response) => response,
        Err(error) => return unreachable(&error, "the AI endpoint"),
    };
    let status = by_status(response.status(), "the AI endpoint");
    if status != Response::Delivered {
        return status;
    }
    let body: Value = match response.json() {
        Ok(body) => body,
        Err(error) => {
            return Response::Transient(format!("the AI endpoint's answer is not JSON: {error}"))
        }
    };
    let content = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    match serde_json::from_str::<Value>(content) {
        Ok(answer @ Value::Object(_)) => Response::Answer(answer),
        _ => Response::Permanent(format!(
            "the model did not answer with a JSON object: {content:?}"
        )),
    }
}
