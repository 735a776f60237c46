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

use super::database::{LeadsJob, SMALL};
use super::error::{ErrorBody, ErrorDetail};
use super::{ApiError, State};
use crate::runtime::inspect;
use crate::runtime::leads::update_from_object;
use crate::runtime::live::{EventError, FieldTypes, LeadUpdate, Live};
use crate::store::params;

/// Whether the service is up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// `GET /healthz`: 200 when the database answers, 503 when not.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "The service and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    ))]
pub async fn health(Shared(state): Shared<Arc<State>>) -> Result<Json<Health>, ApiError> {
    state
        .db
        .call(|live| {
            live.store
                .query_one("SELECT 1", params![], |row| row.get::<i64>(0))
        })
        .await??;
    Ok(Json(Health { status: "ok" }))
}

/// `GET /v1/leads/{id}`: the lead's fields, consent per channel and
/// enrollments; 404 when there is no such lead.
#[utoipa::path(get, path = "/v1/leads/{id}", tag = "leads", security(("token" = [])),
    params(("id" = String, Path, description = "The lead's id")),
    responses(
        (status = 200, description = "The lead", body = inspect::LeadView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No lead has the id", body = ErrorBody),
    ))]
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Refused {
    /// Its index in the batch (0 for a single record).
    pub index: usize,
    /// Why.
    pub error: String,
}

/// What `POST /v1/leads` did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadsAnswer {
    /// Leads upserted.
    pub accepted: usize,
    /// Records refused, and why: nothing of them was written.
    pub refused: Vec<Refused>,
    /// Enrollments the accepted leads started.
    pub enrollments_started: usize,
    /// Entry decisions that turned a lead away, by refusal code.
    #[schema(value_type = BTreeMap<String, usize>)]
    pub not_entered: BTreeMap<&'static str, usize>,
    /// Records whose `at` is still to come: applied at that instant.
    pub scheduled: usize,
}

/// `POST /v1/leads`: one lead (a JSON object) or a batch (an array), with
/// the upsert, typing and entry rules of `flowc leads import`. 200 with
/// what was accepted and refused; 422 when nothing was accepted.
#[utoipa::path(post, path = "/v1/leads", tag = "leads", security(("token" = [])),
    request_body(content = Object, description = "A lead, or an array of them: `id`, then fields by name (typed as the live workflows declare them; `null` clears one)",
        example = json!([{"id": "a-17", "email": "ann@acme.example", "score": 72}])),
    responses(
        (status = 200, description = "Committed: what was accepted and refused, and the enrollments started", body = LeadsAnswer),
        (status = 422, description = "Every record was refused; nothing was written", body = LeadsAnswer),
        (status = 400, description = "Not JSON, or not an object or array", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Larger than --body-limit", body = ErrorBody),
    ))]
pub async fn leads(
    Shared(state): Shared<Arc<State>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<LeadsAnswer>), ApiError> {
    let records = records(parse(body)?)?;
    let answer = match records.len() <= SMALL {
        true => state.db.import(records).await?,
        false => state.db.call(move |live| import(live, records)).await??,
    };
    let status = match answer.accepted == 0 && !answer.refused.is_empty() {
        true => StatusCode::UNPROCESSABLE_ENTITY,
        false => StatusCode::OK,
    };
    Ok((status, Json(answer)))
}

/// A large request: its batches committed one by one, as `flowc leads
/// import` does.
fn import(live: &mut Live, records: Vec<JsonValue>) -> Result<LeadsAnswer, ApiError> {
    let types = live.field_types()?;
    let (updates, refused) = typed(records, &types);
    let accepted = updates.len();
    let done = live.import(updates).map_err(|error| {
        let message = error.to_string();
        ApiError::from(&error.error).with_message(message)
    })?;
    Ok(LeadsAnswer {
        accepted,
        refused,
        enrollments_started: done.entered,
        not_entered: done.refused,
        scheduled: done.scheduled,
    })
}

/// Small requests queued together: their leads committed in one
/// transaction, each answered with what its own leads did (or, if the
/// commit failed, with the error: then none of them was written).
pub fn import_many(live: &mut Live, batch: Vec<LeadsJob>) {
    let types = match live.field_types() {
        Ok(types) => types,
        Err(error) => {
            for job in batch {
                let _ = job.answer.send(Err(ApiError::from(&error)));
            }
            return;
        }
    };
    let mut groups = Vec::with_capacity(batch.len());
    let mut pending = Vec::with_capacity(batch.len());
    for job in batch {
        let (updates, refused) = typed(job.records, &types);
        groups.push(updates);
        pending.push((job.answer, refused));
    }
    match live.import_together(&groups) {
        Ok(tallies) => {
            for (((answer, refused), done), group) in pending.into_iter().zip(tallies).zip(&groups)
            {
                let _ = answer.send(Ok(LeadsAnswer {
                    accepted: group.len(),
                    refused,
                    enrollments_started: done.entered,
                    not_entered: done.refused,
                    scheduled: done.scheduled,
                }));
            }
        }
        Err(error) => {
            for (answer, _) in pending {
                let _ = answer.send(Err(ApiError::from(&error)));
            }
        }
    }
}

/// A request's records as lead updates, typed as the live workflows
/// declare their fields, and the ones refused, by index.
fn typed(records: Vec<JsonValue>, types: &FieldTypes) -> (Vec<LeadUpdate>, Vec<Refused>) {
    let mut refused = Vec::new();
    let mut updates = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let update = match record {
            JsonValue::Object(object) => update_from_object(object, types),
            other => Err(format!("a lead is a JSON object, not {}", kind(&other))),
        };
        match update {
            Ok(update) => updates.push(update),
            Err(error) => refused.push(Refused { index, error }),
        }
    }
    (updates, refused)
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventAnswer {
    /// Its index in the batch.
    pub index: usize,
    /// Enrollments the event ended through a goal waiting for it.
    pub goals_reached: Vec<GoalReached>,
    /// Workflows the lead entered.
    pub entered: Vec<String>,
    /// Workflows triggered by the event that turned the lead away, and why.
    pub not_entered: Vec<NotEntered>,
    /// Workflows whose enrollment of the lead waited for the event (`wait
    /// for`) and went on.
    pub resumed: Vec<String>,
    /// Why the event was not taken (`unknown-lead`, `bad-data`,
    /// `invalid`); nothing of it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// An enrollment an event ended through a goal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GoalReached {
    /// The workflow.
    pub workflow: String,
    /// The goal reached.
    pub goal: String,
}

/// A workflow that turned a lead away.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
#[utoipa::path(post, path = "/v1/events", tag = "events", security(("token" = [])),
    request_body(content = Object, description = "An event `{\"lead\", \"event\", \"data\"}`, or an array of them",
        example = json!({"lead": "a-17", "event": "demo_booked", "data": {"seats": 3}})),
    responses(
        (status = 200, description = "One event: what it did; an array: `{\"events\": [...]}`, each with what it did or its `error`", body = EventAnswer),
        (status = 400, description = "Not JSON, or not an object or array", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "One event, for a lead that does not exist", body = ErrorBody),
        (status = 422, description = "One event whose data does not fit its declared fields", body = ErrorBody),
    ))]
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
                        goals_reached: Vec::new(),
                        entered: Vec::new(),
                        not_entered: Vec::new(),
                        resumed: Vec::new(),
                        error: Some(ErrorDetail {
                            code: error.code.to_owned(),
                            message: error.message,
                        }),
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
    let outcome = live
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
            EventError::Unheard { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unheard-event",
                error.to_string(),
            ),
            EventError::Store(error) => ApiError::from(error),
        })?;
    let goals_reached = outcome.goals.into_iter();
    let mut answer = EventAnswer {
        index,
        goals_reached: goals_reached
            .map(|(workflow, goal)| GoalReached { workflow, goal })
            .collect(),
        entered: Vec::new(),
        not_entered: Vec::new(),
        resumed: outcome.resumed,
        error: None,
    };
    for (workflow, decision) in outcome.entries {
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
