//! http steps: allow-listed hosts only, redirects followed only onto the
//! list, the JSON answer handed back for extraction.

use std::time::Duration;

use crate::ast::HttpMethod;
use crate::config::Config;
use crate::vm::{Response, Sealed};

/// Redirects followed at most.
const REDIRECTS: usize = 5;

/// A rendered http step.
pub struct Request<'a> {
    /// The method.
    pub method: HttpMethod,
    /// The URL, lead values percent-encoded, secrets sealed.
    pub url: &'a Sealed,
    /// Headers, secrets sealed.
    pub headers: &'a [(String, Sealed)],
    /// The JSON body, secrets sealed.
    pub body: Option<&'a Sealed>,
    /// How long it may take.
    pub timeout: Duration,
    /// Sent as `Idempotency-Key`.
    pub idempotency_key: &'a str,
}

/// Carries out an http step. Its secrets are read from the environment
/// now, and live only in this request.
pub fn request(config: &Config, request: &Request<'_>) -> Response {
    match revealed(request) {
        Ok((url, headers, body)) => send(config, request, &url, &headers, body),
        Err(missing) => Response::Permanent(format!("{missing}: set it where flowc runs")),
    }
}

type Revealed = (String, Vec<(String, String)>, Option<String>);

/// The URL, headers and body with their secrets read.
fn revealed(request: &Request<'_>) -> Result<Revealed, crate::vm::MissingSecret> {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), value.reveal()?)))
        .collect::<Result<_, _>>()?;
    let body = request.body.map(Sealed::reveal).transpose()?;
    Ok((request.url.reveal()?, headers, body))
}

fn send(
    config: &Config,
    request: &Request<'_>,
    url: &str,
    headers: &[(String, String)],
    body: Option<String>,
) -> Response {
    let url = match allowed_url(config, url) {
        Ok(url) => url,
        Err(reason) => return Response::Permanent(reason),
    };
    let client = match allow_listed_client(config, request.timeout) {
        Ok(client) => client,
        Err(error) => return Response::Transient(format!("no http client: {error}")),
    };
    let method = match request.method {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
    };
    let mut builder = client
        .request(method, url)
        .header("Idempotency-Key", request.idempotency_key);
    for (name, value) in headers {
        // A line break from lead data would end the header early (and
        // reqwest refuses it): a permanent failure, which no retry fixes.
        if reqwest::header::HeaderValue::from_str(value).is_err() {
            return Response::Permanent(format!(
                "the header {name} has a line break or another control character (from lead data?): not sent"
            ));
        }
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = body {
        builder = builder
            .header("Content-Type", "application/json")
            .body(body);
    }
    match builder.send() {
        Ok(response) if response.status().is_redirection() => Response::Permanent(format!(
            "redirected off the http allow-list ({})",
            response.status()
        )),
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = super::retry_after(response.headers());
            // Not JSON (or empty) is no body: extractions then fail, while a
            // step that extracts nothing goes on.
            let body =
                match super::capped_body(response, config.limits.response_bytes, "the http step") {
                    Ok(body) => serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                    Err(failure) => return failure,
                };
            Response::Http {
                status,
                body,
                retry_after,
            }
        }
        Err(error) => super::unreachable(&error, "the http step"),
    }
}

/// `url` parsed, if it is an http(s) URL whose host the allow-list allows.
pub fn allowed_url(config: &Config, url: &str) -> Result<reqwest::Url, String> {
    if let Some(segment) = dot_segment(url) {
        return Err(format!(
            "the URL's path has a {segment:?} segment, which would move the request to another path (a lead value of `.` or `..`?): not sent"
        ));
    }
    let parsed =
        reqwest::Url::parse(url).map_err(|error| format!("{url:?} is not a URL: {error}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{url:?} is not an http or https URL"));
    }
    let host = parsed.host_str().unwrap_or_default();
    if !config.allows(host) {
        return Err(format!(
            "{host} is not on the http allow-list in flowc.toml"
        ));
    }
    Ok(parsed)
}

/// A `.` or `..` segment of a URL's path, however its dots are written
/// (`%2e` counts as a dot, as URL parsers read it): parsing would drop it
/// or climb a level, so a lead value of `..` in `/leads/{{ id }}/notes`
/// would reach `/notes`. Percent-encoding cannot keep such a segment.
fn dot_segment(url: &str) -> Option<String> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once('/')
        .map_or("", |(_, path)| path);
    path.split('/')
        .find(|segment| {
            matches!(
                segment.to_ascii_lowercase().replace("%2e", ".").as_str(),
                "." | ".."
            )
        })
        .map(str::to_owned)
}

/// A client that follows redirects only onto the allow-list (a redirect
/// elsewhere is answered as it is, never followed).
pub fn allow_listed_client(
    config: &Config,
    timeout: Duration,
) -> reqwest::Result<reqwest::blocking::Client> {
    let allowed = config.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= REDIRECTS {
            attempt.error("too many redirects")
        } else if allowed.allows(attempt.url().host_str().unwrap_or_default()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .redirect(policy)
        .build()
}

#[cfg(test)]
mod tests {
    use super::dot_segment;

    #[test]
    fn dot_segments_are_found_however_their_dots_are_written() {
        for url in [
            "https://crm.example/leads/../notes",
            "https://crm.example/leads/./notes",
            "https://crm.example/leads/%2e%2E/notes",
            "https://crm.example/leads/.%2e",
            "https://crm.example/..?x=1",
        ] {
            assert!(dot_segment(url).is_some(), "{url}");
        }
        for url in [
            "https://crm.example/leads/a..b/notes",
            "https://crm.example/leads/.../notes",
            "https://crm.example/leads/x?next=../y",
            "https://crm.example/leads/%2e%2e%2e",
        ] {
            assert_eq!(dot_segment(url), None, "{url}");
        }
    }
}
