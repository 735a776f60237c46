//! Where recorded effects go: the `Provider` trait, and the recording
//! provider that stands in for real ones.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ast::Outcome;
use crate::runtime::recorder;
use crate::store::{millis, params, Location, Store, StoreError};
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

/// A delivery to record, and where to say how it went.
struct Record {
    delivery: Delivery,
    answer: Sender<Result<(), String>>,
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

/// The recorder's thread: commits what is waiting, all at once, and says
/// how it went to each; ends when the provider is dropped.
fn record(mut store: Store, queue: &Receiver<Record>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter());
        let outcome = insert(&mut store, &batch).map_err(|error| error.to_string());
        for record in batch {
            let _ = record.answer.send(outcome.clone());
        }
    }
}

/// Inserts a batch of deliveries in one transaction.
fn insert(store: &mut Store, batch: &[Record]) -> Result<(), StoreError> {
    let transaction = store.transaction()?;
    for Record { delivery, .. } in batch {
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
    transaction.commit()
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
        Attempt::Answered(match recorded {
            Ok(()) => recorder::default_response(&delivery.kind),
            Err(error) => Response::Transient(format!("the recording provider failed: {error}")),
        })
    }

    fn concurrency(&self, kind: &str) -> usize {
        let _ = kind;
        RECORDING_CONCURRENCY
    }
}
