//! Structured logs: one JSON object per line on stderr, for the service's
//! own events and for every request (method, path, status, duration, the
//! caller's token name).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State as Shared};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

use super::auth::Caller;
use super::State;

/// Logs a service event.
pub fn info(message: &str) {
    line(json!({"level": "info", "message": message}));
}

/// Logs each request when it is answered, and counts it for `/metrics`.
pub async fn requests(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let caller = response
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.0.clone());
    state.metrics.count(&path, status);
    line(json!({
        "level": "info",
        "message": "request",
        "method": method.as_str(),
        "path": path,
        "status": status,
        "ms": started.elapsed().as_secs_f64() * 1000.0,
        "token": caller,
    }));
    response
}

fn line(mut object: serde_json::Value) {
    object["time"] = json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    eprintln!("{object}");
}
