//! `GET /metrics`: the Prometheus text format (version 0.0.4) — leads,
//! enrollments by status, deliveries by channel and status, holds, the
//! due backlog and how late the oldest due work is, and requests served
//! by route and status.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use axum::extract::State as Shared;
use axum::http::header;
use axum::response::IntoResponse;

use super::{ApiError, State};
use crate::runtime::live::Live;
use crate::store::{millis, params, StoreError};

/// Requests answered, by route and status.
#[derive(Default)]
pub struct Requests(Mutex<BTreeMap<(String, u16), u64>>);

impl Requests {
    /// Counts a request to `path` answered with `status`; paths that are
    /// no route are counted together, so clients cannot grow the table.
    pub fn count(&self, path: &str, status: u16) {
        let route = match path {
            "/healthz"
            | "/metrics"
            | "/v1/leads"
            | "/v1/events"
            | "/v1/webhooks/twilio/messages" => path,
            _ => "other",
        };
        let mut counts = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        *counts.entry((route.to_owned(), status)).or_insert(0) += 1;
    }
}

/// `GET /metrics`, for a caller with a token (Prometheus sends it with
/// `authorization: {credentials: TOKEN}`).
#[utoipa::path(get, path = "/metrics", tag = "service", security(("token" = [])),
    responses(
        (status = 200, description = "The Prometheus text format, version 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "No valid token", body = super::error::ErrorBody),
    ))]
pub async fn render(Shared(state): Shared<Arc<State>>) -> Result<impl IntoResponse, ApiError> {
    let mut text = state.db.call(gauges).await??;
    family(
        &mut text,
        "flowc_http_requests_total",
        "counter",
        "Requests answered, by route and status.",
    );
    let counts = state
        .metrics
        .0
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .clone();
    for ((route, status), count) in counts {
        let _ = writeln!(
            text,
            "flowc_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

/// What the database says now.
fn gauges(live: &mut Live) -> Result<String, StoreError> {
    let now = millis(live.clock.now());
    let store = &live.store;
    let mut text = String::new();
    let leads: i64 = store.query_one("SELECT count(*) FROM leads", params![], |row| row.get(0))?;
    family(&mut text, "flowc_leads", "gauge", "Leads stored.");
    let _ = writeln!(text, "flowc_leads {leads}");

    family(
        &mut text,
        "flowc_enrollments",
        "gauge",
        "Enrollments by status (held: waiting on a window).",
    );
    let statuses: Vec<(String, i64)> = store.query(
        "SELECT status, count(*) FROM enrollments GROUP BY status ORDER BY status",
        params![],
        |row| row.columns(),
    )?;
    for (status, count) in statuses {
        let _ = writeln!(text, "flowc_enrollments{{status=\"{status}\"}} {count}");
    }

    family(
        &mut text,
        "flowc_deliveries",
        "gauge",
        "Effects in the outbox by kind (email, text, call, notify, http, prompt) and status (pending, placed, done).",
    );
    let deliveries: Vec<(String, String, i64)> = store.query(
        "SELECT kind, status, count(*) FROM outbox GROUP BY kind, status ORDER BY kind, status",
        params![],
        |row| row.columns(),
    )?;
    for (kind, status, count) in deliveries {
        let _ = writeln!(
            text,
            "flowc_deliveries{{kind=\"{kind}\",status=\"{status}\"}} {count}"
        );
    }

    let (due, oldest): (i64, Option<i64>) = store.query_one(
        "SELECT count(*), min(wake) FROM enrollments WHERE wake IS NOT NULL AND wake <= ?1",
        params![now],
        |row| row.columns(),
    )?;
    family(
        &mut text,
        "flowc_due",
        "gauge",
        "Enrollments due now and not yet run.",
    );
    let _ = writeln!(text, "flowc_due {due}");
    family(
        &mut text,
        "flowc_runner_lag_seconds",
        "gauge",
        "How long the oldest due enrollment has waited past its time.",
    );
    let lag = oldest.map_or(0.0, |oldest| (now - oldest) as f64 / 1000.0);
    let _ = writeln!(text, "flowc_runner_lag_seconds {lag}");
    Ok(text)
}

/// A metric family's header.
fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
}
