//! Where recorded effects go: the `Provider` trait, and the carrier a
//! runner is given (a provider, or the recording that stands in for one).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ast::Outcome;
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

/// Carries effects to a provider (the real ones are [`crate::providers`]).
/// Shared by the runner's delivery threads.
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

/// Where a runner's effects go.
#[derive(Clone)]
pub enum Carrier {
    /// Nowhere: each effect is recorded in the database's `deliveries`
    /// table and answered as the simulation's recorder answers it (its
    /// lead's `simulate` script, else the unscripted answer) — a dry run,
    /// without a `flowc.toml` or with `--record`. The record is written in
    /// the transaction that reaches the effect's step, or that claims the
    /// effect when it waited in the outbox (a call; a workflow with windows
    /// or quiet hours, checked again at the moment of delivery; an effect
    /// reached by an import or an event), and confirmed in that same
    /// transaction: it needs no delivery thread or connection of its own,
    /// and a runner killed meanwhile leaves nothing half done.
    Recorded,
    /// Sent through a provider, on the runner's delivery threads.
    Sent(Arc<dyn Provider>),
}

/// Effects of one kind the recording carrier claims, records and confirms
/// per round, in one transaction (a runner killed meanwhile leaves none of
/// them done). Past about 256, larger rounds save no more commits' worth.
pub const RECORDED_PER_ROUND: usize = 256;
