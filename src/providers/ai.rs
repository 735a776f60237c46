//! Prompt steps through an OpenAI-compatible chat completions endpoint,
//! asking for a JSON object with the fields to extract (structured output).
//! The step's tools (`web search`, `fetch url`) are offered as functions;
//! flowc runs each call the model makes and hands the result back, for a
//! few rounds, until the model answers.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{by_status, capped_body, capped_json, http, reason, secret, unreachable};
use crate::ast::Tool;
use crate::config::{Ai, Config};
use crate::vm::eval::{escaped, Escape};
use crate::vm::Response;

/// Rounds of tool calls before the model must answer.
const TOOL_ROUNDS: usize = 4;

/// The most characters of a search result or page handed to the model.
const TOOL_RESULT_CHARS: usize = 16_000;

/// How long a tool's request may take.
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// Asks the model; answers with the object it returned.
pub fn prompt(
    client: &reqwest::blocking::Client,
    config: &Config,
    instructions: &str,
    tools: &[Tool],
    fields: &[(String, String)],
) -> Response {
    let Some(ai) = &config.ai else {
        return Response::Permanent("no AI endpoint ([ai]) is configured in flowc.toml".to_owned());
    };
    if let Some(missing) = tools.iter().find(|tool| !ai.tools.offers(**tool)) {
        return Response::Permanent(format!(
            "the {} tool is not configured under [ai.tools] in flowc.toml",
            missing.keyword()
        ));
    }
    let mut messages = vec![
        json!({ "role": "system", "content": system_message(fields) }),
        json!({ "role": "user", "content": instructions }),
    ];
    for _ in 0..=TOOL_ROUNDS {
        let request = request(ai, &messages, tools, fields);
        let message = match ask(client, ai, &request, config.limits.response_bytes) {
            Ok(message) => message,
            Err(response) => return response,
        };
        let calls = message["tool_calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if calls.is_empty() {
            return answer(message["content"].as_str().unwrap_or_default());
        }
        messages.push(message);
        for call in &calls {
            let result = run_tool(config, ai, tools, &call["function"]);
            messages.push(json!({
                "role": "tool",
                "tool_call_id": call["id"],
                "content": result,
            }));
        }
    }
    Response::Permanent(format!(
        "the model was still calling tools after {TOOL_ROUNDS} rounds"
    ))
}

fn system_message(fields: &[(String, String)]) -> String {
    let wanted: Vec<String> = fields
        .iter()
        .map(|(name, description)| format!("{name} ({description})"))
        .collect();
    format!(
        "Answer with one JSON object with exactly these fields: {}.",
        wanted.join(", ")
    )
}

/// The chat completions request: the conversation so far, the tools and
/// the schema of the answer.
fn request(ai: &Ai, messages: &[Value], tools: &[Tool], fields: &[(String, String)]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(name, description)| (name.clone(), json!({ "description": description })))
        .collect();
    let names: Vec<&String> = fields.iter().map(|(name, _)| name).collect();
    let mut request = json!({
        "model": ai.model,
        "messages": messages,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "extraction",
                "schema": { "type": "object", "properties": properties, "required": names },
            },
        },
    });
    if !tools.is_empty() {
        request["tools"] = tools.iter().map(|tool| function(*tool)).collect();
    }
    request
}

/// One round trip: the model's message, or how the call failed.
fn ask(
    client: &reqwest::blocking::Client,
    ai: &Ai,
    request: &Value,
    limit: usize,
) -> Result<Value, Response> {
    let url = format!("{}/chat/completions", ai.base_url.trim_end_matches('/'));
    let mut builder = client.post(url).json(request);
    if let Some(variable) = &ai.api_key_env {
        builder = builder.bearer_auth(secret(variable)?);
    }
    let response = builder
        .send()
        .map_err(|error| unreachable(&error, "the AI endpoint"))?;
    let status = by_status(&response, "the AI endpoint");
    if status != Response::Delivered {
        return Err(status);
    }
    let mut body = capped_json(response, limit, "the AI endpoint")?;
    Ok(body["choices"][0]["message"].take())
}

/// The model's final content as the extracted object.
fn answer(content: &str) -> Response {
    match serde_json::from_str::<Value>(content) {
        Ok(answer @ Value::Object(_)) => Response::Answer(answer),
        _ => Response::Permanent(format!(
            "the model did not answer with a JSON object: {content:?}"
        )),
    }
}

/// How the model sees a tool: a function name, what it does, and its one
/// string argument.
fn signature(tool: Tool) -> (&'static str, &'static str, &'static str) {
    match tool {
        Tool::WebSearch => (
            "web_search",
            "Search the web; returns the results.",
            "query",
        ),
        Tool::FetchUrl => ("fetch_url", "Fetch a web page; returns its text.", "url"),
    }
}

/// A tool as the model sees it: a function with one string argument.
fn function(tool: Tool) -> Value {
    let (name, description, argument) = signature(tool);
    json!({
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": { argument: { "type": "string" } },
                "required": [argument],
            },
        },
    })
}

/// Runs one tool call; what it returns, or why it failed, goes back to the
/// model as text (a failed search is the model's to work around).
fn run_tool(config: &Config, ai: &Ai, tools: &[Tool], function: &Value) -> String {
    let arguments: Value = function["arguments"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(Value::Null);
    // Only the step's own tools run, whatever the model asks for.
    let tool = tools
        .iter()
        .copied()
        .find(|tool| function["name"] == signature(*tool).0);
    let result = match tool {
        Some(tool) => {
            let argument = arguments[signature(tool).2].as_str().unwrap_or_default();
            match tool {
                Tool::WebSearch => web_search(ai, argument),
                Tool::FetchUrl => fetch(config, argument, None),
            }
        }
        None => Err(format!("this step offers no tool {}", function["name"])),
    };
    match result {
        Ok(text) => text.chars().take(TOOL_RESULT_CHARS).collect(),
        Err(reason) => format!("error: {reason}"),
    }
}

fn web_search(ai: &Ai, query: &str) -> Result<String, String> {
    let Some(template) = &ai.tools.web_search_url else {
        return Err("web search is not configured".to_owned());
    };
    let url = template.replace("{query}", &escaped(query, Escape::Url));
    let key = match &ai.tools.web_search_key_env {
        Some(variable) => Some(secret(variable).map_err(|_| format!("{variable} is not set"))?),
        None => None,
    };
    // The search API is the configuration's own choice: not allow-listed.
    let open = Config::default();
    fetch(&open, &url, key.as_deref())
}

/// GETs `url` (its host, and any redirect, on `config`'s allow-list).
fn fetch(config: &Config, url: &str, key: Option<&str>) -> Result<String, String> {
    let url = http::allowed_url(config, url)?;
    let client =
        http::allow_listed_client(config, TOOL_TIMEOUT).map_err(|error| error.to_string())?;
    let mut builder = client.get(url);
    if let Some(key) = key {
        builder = builder.bearer_auth(key);
    }
    let response = builder.send().map_err(|error| error.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let body = capped_body(response, config.limits.response_bytes, "the server").map_err(reason)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}
