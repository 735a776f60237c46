//! The API's handlers: read and check the request, run it on the runtime,
//! answer with what it did.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State as Shared};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Map, Value as JsonValue};

use super::{ApiError, State};
use crate::runtime::inspect;
use crate::runtime::leads::update_from_object;
use crate::runtime::live::{EventError, Live};
use crate::store::params;

/// `GET /healthz`: 200 when the database answers, 503 when not.
pub async fn health(Shared(state): Shared<Arc<State>>) -> Result<Json<JsonValue>, ApiError> {
    state
        .db
        .call(|live| {
            live.store
                .query_one("SELECT 1", params![], |row| row.get::<i64>(0))
        })
        .await??;
    Ok(Json(json!({"status": "ok"})))
}

/// `GET /v1/leads/{id}`: the lead's fields, consent per channel and
/// enrollments; 404 when there is no such lead.
pub async fn lead(
    Shared(state): Shared<Arc<State>>,
    Path(id): Path<String>,
) -> Result<Json<inspect::LeadView>, ApiError> {
    let shown = id.clone();
    state
        .db
        .call(move |live| inspect::lead(&live.store, &id))
        .await??
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown-lead",
                format!("no lead has the id {shown:?}"),
            )
        })
}

/// Any other path: 404.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such endpoint; see /openapi.json",
    )
}

/// A record the request refused, by its place in the batch.
#[derive(Debug, Serialize)]
pub struct Refused {
    /// Its index in the batch (0 for a single record).
    pub index: usize,
    /// Why.
    pub error: String,
}

/// What `POST /v1/leads` did.
#[derive(Debug, Serialize)]
pub struct LeadsAnswer {
    /// Leads upserted.
    pub accepted: usize,
    /// Records refused, and why: nothing of them was written.
    pub refused: Vec<Refused>,
    /// Enrollments the accepted leads started.
    pub enrollments_started: usize,
    /// Entry decisions that turned a lead away, by refusal code.
    pub not_entered: BTreeMap<&'static str, usize>,
}

/// `POST /v1/leads`: one lead (a JSON object) or a batch (an array), with
/// the upsert, typing and entry rules of `flowc leads import`. 200 with
/// what was accepted and refused; 422 when nothing was accepted.
pub async fn leads(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<LeadsAnswer>), ApiError> {
    let records = records(parse(body)?)?;
    let answer = state.db.call(move |live| import(live, records)).await??;
    let status = match answer.accepted == 0 && !answer.refused.is_empty() {
        true => StatusCode::UNPROCESSABLE_ENTITY,
        false => StatusCode::OK,
    };
    Ok((status, Json(answer)))
}

fn import(live: &mut Live, records: Vec<JsonValue>) -> Result<LeadsAnswer, ApiError> {
    let types = live.field_types()?;
    let mut refused = Vec::new();
    let mut updates = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let update = match record {
            JsonValue::Object(object) => update_from_object(object, &types),
            other => Err(format!("a lead is a JSON object, not {}", kind(&other))),
        };
        match update {
            Ok(update) => updates.push(update),
            Err(error) => refused.push(Refused { index, error }),
        }
    }
    let accepted = updates.len();
    let done = live.import(updates).map_err(|error| {
        let message = error.to_string();
        ApiError::from(error.error).with_message(message)
    })?;
    Ok(LeadsAnswer {
        accepted,
        refused,
        enrollments_started: done.entered,
        not_entered: done.refused,
    })
}

/// An event for a lead, as `POST /v1/events` takes it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRecord {
    lead: String,
    event: String,
    #[serde(default)]
    data: Map<String, JsonValue>,
}

/// What one event did.
#[derive(Debug, Serialize)]
pub struct EventAnswer {
    /// Its index in the batch.
    pub index: usize,
    /// Workflows the lead entered.
    pub entered: Vec<String>,
    /// Workflows triggered by the event that turned the lead away, and why.
    pub not_entered: Vec<NotEntered>,
    /// Why the event was not taken (`unknown-lead`, `bad-data`,
    /// `invalid`); nothing of it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<JsonValue>,
}

/// A workflow that turned a lead away.
#[derive(Debug, Serialize)]
pub struct NotEntered {
    /// The workflow.
    pub workflow: String,
    /// The refusal's code.
    pub code: &'static str,
    /// Why, for people.
    pub reason: String,
}

/// `POST /v1/events`: one event `{"lead", "event", "data"}` or an array
/// of them, each taken in its own transaction. A single event that cannot
/// be taken gets its error's status (404 unknown lead, 422 bad data); a
/// batch answers 200 with each event's outcome.
pub async fn events(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<JsonValue>, ApiError> {
    let body = parse(body)?;
    let single = body.is_object();
    let records = records(body)?;
    let answers = state
        .db
        .call(move |live| {
            records
                .into_iter()
                .enumerate()
                .map(|(index, record)| happen(live, index, record))
                .collect::<Vec<_>>()
        })
        .await?;
    match single {
        true => match answers.into_iter().next() {
            Some(Err(error)) => Err(error),
            Some(Ok(answer)) => Ok(Json(json!(answer))),
            None => Err(ApiError::internal("no answer")),
        },
        false => {
            let answers: Vec<EventAnswer> = answers
                .into_iter()
                .enumerate()
                .map(|(index, answer)| {
                    answer.unwrap_or_else(|error| EventAnswer {
                        index,
                        entered: Vec::new(),
                        not_entered: Vec::new(),
                        error: Some(json!({"code": error.code, "message": error.message})),
                    })
                })
                .collect();
            Ok(Json(json!({ "events": answers })))
        }
    }
}

fn happen(live: &mut Live, index: usize, record: JsonValue) -> Result<EventAnswer, ApiError> {
    let record: EventRecord = serde_json::from_value(record).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("an event is {{\"lead\", \"event\", \"data\"}}: {error}"),
        )
    })?;
    let decisions = live
        .event(&record.event, &record.lead, &record.data)
        .map_err(|error| match error {
            EventError::UnknownLead(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown-lead", error.to_string())
            }
            EventError::BadData(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad-data",
                error.to_string(),
            ),
            EventError::Store(error) => ApiError::from(error),
        })?;
    let mut answer = EventAnswer {
        index,
        entered: Vec::new(),
        not_entered: Vec::new(),
        error: None,
    };
    for (workflow, decision) in decisions {
        match decision {
            Ok(()) => answer.entered.push(workflow),
            Err(refusal) => answer.not_entered.push(NotEntered {
                workflow,
                code: refusal.code(),
                reason: refusal.to_string(),
            }),
        }
    }
    Ok(answer)
}

/// The request's records: a JSON object is one, an array many.
fn records(body: JsonValue) -> Result<Vec<JsonValue>, ApiError> {
    match body {
        JsonValue::Array(records) => Ok(records),
        record @ JsonValue::Object(_) => Ok(vec![record]),
        other => Err(ApiError::bad_request(
            "invalid",
            format!(
                "the body is a JSON object or an array of them, not {}",
                kind(&other)
            ),
        )),
    }
}

/// The body as JSON: 413 past the size limit, 400 when it is not JSON
/// (with the line and column where it stops being JSON).
fn parse(body: Result<Bytes, BytesRejection>) -> Result<JsonValue, ApiError> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "the body is larger than the service takes (`flowc serve --body-limit`); send smaller batches",
        ),
        status => ApiError::new(status, "unreadable-body", rejection.body_text()),
    })?;
    serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request("malformed-json", format!("the body is not JSON: {error}"))
    })
}

/// What kind of JSON value `value` is, for messages.
fn kind(value: &JsonValue) -> &'static str {
    match value {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "a boolean",
        JsonValue::Number(_) => "a number",
        JsonValue::String(_) => "a string",
        JsonValue::Array(_) => "an array",
        JsonValue::Object(_) => "an object",
    }
}
