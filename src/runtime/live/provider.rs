//! Where recorded effects go: the `Provider` trait, and the recording
//! provider that stands in for real ones.

use chrono::Utc;
use rusqlite::params;

use crate::runtime::recorder;
use crate::store::{millis, StoreError};
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
}

/// Carries effects to providers: [`RecordingProvider`], or the real ones of
/// [`crate::providers`].
pub trait Provider {
    /// Delivers one effect and says how it went.
    fn deliver(&mut self, delivery: &Delivery) -> Response;
}

/// A provider that sends nothing and records every delivery in the
/// database's `deliveries` table, answering like the simulation's
/// unscripted recorder.
pub struct RecordingProvider {
    connection: rusqlite::Connection,
}

impl RecordingProvider {
    /// Records into the database at `path` (its own connection, so each
    /// delivery is durable on its own, as a provider's would be).
    pub fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let connection = rusqlite::Connection::open(path)?;
        connection.busy_timeout(crate::store::BUSY_TIMEOUT)?;
        Ok(RecordingProvider { connection })
    }
}

impl Provider for RecordingProvider {
    fn deliver(&mut self, delivery: &Delivery) -> Response {
        let recorded = self.connection.execute(
            "INSERT INTO deliveries (key, attempt, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                delivery.key,
                delivery.attempt,
                delivery.kind,
                delivery.message,
                millis(Utc::now())
            ],
        );
        match recorded {
            Ok(_) => recorder::default_response(&delivery.kind),
            Err(error) => Response::Transient(format!("the recording provider failed: {error}")),
        }
    }
}
