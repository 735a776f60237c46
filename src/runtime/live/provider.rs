//! Where recorded effects go: the `Provider` trait, and the recording
//! provider that stands in for real ones.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::ast::Outcome;
use crate::runtime::recorder;
use crate::store::{millis, params, Location, Store, StoreError, Tx};
use crate::vm::Response;

/// An effect to deliver, as the outbox holds it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The outbox row.
    pub id: i64,
    /// The idempotency key.
    pub key: String,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The effect's kind.
    pub kind: String,
    /// The rendered message, as JSON.
    pub message: String,
    /// The moment it goes out, on the runtime's clock (the one the rest
    /// of the database is on, accelerated or fixed in demos and tests).
    pub at: DateTime<Utc>,
    /// The enrollment it is for.
    pub enrollment: i64,
}

/// What delivering an effect came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// The provider's answer.
    Answered(Response),
    /// A call the provider accepted, by its id there: its outcome comes
    /// later (see [`Provider::call_status`]), and it is never placed again.
    Placed(String),
}

/// What a look at a placed call found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// The call ended so.
    Ended(Outcome),
    /// Queued or ringing: nobody has answered yet.
    Ringing,
    /// Answered and going on.
    Connected,
    /// The look failed (the provider unreachable): look again later.
    Unknown(String),
}

/// Carries effects to providers: [`RecordingProvider`], or the real ones of
/// [`crate::providers`]. Shared by the runner's delivery threads.
pub trait Provider: Send + Sync {
    /// Delivers one effect and says how it went.
    fn deliver(&self, delivery: &Delivery) -> Attempt;

    /// Looks once at a placed call (`call` is the provider's id for it).
    fn call_status(&self, call: &str) -> CallStatus {
        CallStatus::Unknown(format!("no provider can look at call {call}"))
    }

    /// How many effects of `kind` may be in flight at once.
    fn concurrency(&self, kind: &str) -> usize {
        let _ = kind;
        DEFAULT_CONCURRENCY
    }

    /// How long to wait between two looks at a placed call, and how long
    /// after placing it to give up (the call then ends as `no answer`, or
    /// `failed` if it was answered but never ended).
    fn call_timing(&self) -> (Duration, Duration) {
        (Duration::from_secs(5), Duration::from_secs(3600))
    }
}

/// Effects of one kind in flight at once when nothing says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// A provider that sends nothing and records every delivery in the
/// database's `deliveries` table, answering like the simulation's
/// unscripted recorder. Each delivery is durable before it is answered, as
/// a provider's would be; deliveries made at the same moment share one
/// commit (group commit), through the recorder's own connection.
pub struct RecordingProvider {
    records: Sender<Record>,
}

/// A delivery to record, and where to say what the provider answers.
struct Record {
    delivery: Delivery,
    answer: Sender<Result<Response, String>>,
}

/// Deliveries of one kind the recording provider takes at once: its
/// commits are shared, so the more in flight, the fewer there are.
pub const RECORDING_CONCURRENCY: usize = 64;

impl RecordingProvider {
    /// Records into the database at `location`, through a connection of
    /// its own.
    pub fn open(location: impl Into<Location>) -> Result<Self, StoreError> {
        let store = Store::open(location)?;
        let (records, queue) = mpsc::channel();
        std::thread::spawn(move || record(store, &queue));
        Ok(RecordingProvider { records })
    }
}

/// The recorder's thread: commits what is waiting, all at once, and gives
/// each its answer; ends when the provider is dropped.
fn record(mut store: Store, queue: &Receiver<Record>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter());
        match insert(&mut store, &batch) {
            Ok(answers) => {
                for (record, answer) in batch.into_iter().zip(answers) {
                    let _ = record.answer.send(Ok(answer));
                }
            }
            Err(error) => {
                for record in batch {
                    let _ = record.answer.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// Inserts a batch of deliveries in one transaction; gives each the
/// answer its lead's `simulate` script says (as the simulation answers),
/// else the unscripted one.
fn insert(store: &mut Store, batch: &[Record]) -> Result<Vec<Response>, StoreError> {
    let transaction = store.transaction()?;
    let mut answers = Vec::with_capacity(batch.len());
    for Record { delivery, .. } in batch {
        answers.push(
            scripted(&transaction, delivery)?
                .unwrap_or_else(|| recorder::default_response(&delivery.kind)),
        );
        transaction.execute(
            "INSERT INTO deliveries (key, attempt, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                delivery.key,
                delivery.attempt,
                delivery.kind,
                delivery.message,
                millis(delivery.at)
            ],
        )?;
    }
    transaction.commit()?;
    Ok(answers)
}

/// The answer the `simulate` script of the delivery's lead gives it, if
/// the lead has one that speaks of its step or kind.
fn scripted(transaction: &Tx<'_>, delivery: &Delivery) -> Result<Option<Response>, StoreError> {
    let found: Option<(String, Option<String>)> = transaction.query_opt(
        "SELECT l.id, l.script FROM enrollments e JOIN leads l ON l.id = e.lead WHERE e.id = ?1",
        params![delivery.enrollment],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some((lead, Some(script))) = found else {
        return Ok(None);
    };
    let Ok(Json::Object(script)) = serde_json::from_str::<Json>(&script) else {
        return Ok(None);
    };
    let step = step_of(&delivery.key, &lead).unwrap_or_default();
    Ok(recorder::scripted_answer(
        &script,
        step,
        &delivery.kind,
        delivery.attempt,
    ))
}

/// The step (its label or id) of an effect's key,
/// `WORKFLOW@VERSION/LEAD/ENROLLMENT/STEP#N`, knowing its lead (whose id
/// may hold a `/`).
fn step_of<'k>(key: &'k str, lead: &str) -> Option<&'k str> {
    let (_, rest) = key.split_once('/')?;
    let rest = rest.strip_prefix(lead)?.strip_prefix('/')?;
    let (_, rest) = rest.split_once('/')?;
    Some(rest.rsplit_once('#').map_or(rest, |(step, _)| step))
}

impl Provider for RecordingProvider {
    fn deliver(&self, delivery: &Delivery) -> Attempt {
        let (answer, answered) = mpsc::channel();
        let record = Record {
            delivery: delivery.clone(),
            answer,
        };
        let stopped = || "the recording provider stopped".to_owned();
        let recorded = match self.records.send(record) {
            Ok(()) => answered.recv().unwrap_or_else(|_| Err(stopped())),
            Err(_) => Err(stopped()),
        };
        Attempt::Answered(recorded.unwrap_or_else(|error| {
            Response::Transient(format!("the recording provider failed: {error}"))
        }))
    }

    fn concurrency(&self, kind: &str) -> usize {
        let _ = kind;
        RECORDING_CONCURRENCY
    }
}
