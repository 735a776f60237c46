//! The outbox: the VM's channels in live runs.

use chrono::{DateTime, Utc};

use super::delivered::Delivered;
use super::delivery::LATE;
use super::recording::Answering;
use super::touches;
use crate::runtime::consent;
use crate::runtime::policy::Touch;
use crate::store::{instant, millis, params, StoreError, Tx};
use crate::vm::{Channels, Request, Response};

/// The VM's channels in a live run: an effect asked for the first time is
/// recorded as pending; asked again once delivered, it gets its response.
pub(super) struct Outbox<'t, 'c> {
    pub(super) transaction: &'t Tx<'c>,
    /// The enrollment's row; `None` for one not inserted yet, whose
    /// effects are [`Outbox::kept`] to be recorded once it is.
    pub(super) enrollment: Option<i64>,
    /// The effects asked for by an enrollment without a row yet.
    pub(super) kept: Vec<Recorded>,
    pub(super) now: DateTime<Utc>,
    pub(super) error: Option<StoreError>,
    /// When the answer last given was confirmed: the real attempt.
    pub(super) attempted: Option<DateTime<Utc>>,
    /// The effect just confirmed, if the enrollment runs on from it: its
    /// answer is known without reading the outbox again.
    pub(super) delivered: Option<&'t Delivered<'t>>,
    /// Who answers new effects at once, if anyone does.
    pub(super) answering: Option<&'t Answering>,
    /// The steps (by pc, in order) of the effects answered at once that
    /// went out late, with when: their timeline events say so.
    pub(super) late: Vec<(u32, DateTime<Utc>)>,
}

impl Channels for Outbox<'_, '_> {
    fn attempted_at(&self) -> Option<DateTime<Utc>> {
        self.attempted
    }

    fn perform(&mut self, request: &Request<'_>) -> Response {
        match self.record(request) {
            Ok(response) => response,
            Err(error) => {
                self.error.get_or_insert(error);
                Response::Pending
            }
        }
    }
}

impl Outbox<'_, '_> {
    /// The answer when the contact policy does not let the request go now;
    /// a request it lets go is counted as a touch.
    fn capped(&mut self, request: &Request<'_>, key: &str) -> Result<Option<Response>, StoreError> {
        let Some(channel) = consent::channel(request.kind) else {
            return Ok(None);
        };
        let policy = touches::current(self.transaction)?;
        if policy.caps(channel).is_none() {
            return Ok(None);
        }
        let touch = Touch::of(request, key, channel);
        Ok(touches::touch(self.transaction, &policy, touch)?
            .err()
            .map(Response::from))
    }

    fn record(&mut self, request: &Request<'_>) -> Result<Response, StoreError> {
        let key = request.idempotency_key();
        if let Some(delivered) = self.delivered.filter(|delivered| {
            delivered.delivery.key == key && delivered.delivery.attempt == request.attempt
        }) {
            self.attempted = Some(delivered.at);
            return Ok(delivered.response.clone());
        }
        // An enrollment without a row yet has nothing in the outbox: its
        // keys (by its number, which only grows) are new.
        let stored: Option<(String, Option<String>, Option<i64>)> = match self.enrollment {
            Some(_) => self.transaction.query_opt(
                "SELECT status, response, done FROM outbox WHERE key = ?1 AND attempt = ?2",
                params![key, request.attempt],
                |row| row.columns(),
            )?,
            None => None,
        };
        self.attempted = None;
        match stored {
            Some((status, Some(response), done)) if status == "done" => {
                self.attempted = done.map(instant);
                Ok(serde_json::from_str(&response)?)
            }
            Some(_) => Ok(Response::Pending),
            None => {
                // A recipient who may not be reached: skipped, and the
                // decision kept under the key like an answer.
                let suppressed =
                    consent::refusal(self.transaction, request.message)?.map(Response::Suppressed);
                if suppressed.is_none() {
                    if let Some(capped) = self.capped(request, &key)? {
                        return Ok(capped);
                    }
                }
                let message = serde_json::to_string(request.message)?;
                let answered = match (&suppressed, self.answering) {
                    (Some(response), _) => Some((response.clone(), self.now)),
                    (None, Some(answering))
                        if answering.takes(self.transaction, request.kind)? =>
                    {
                        let response =
                            answering.answer(self.transaction, request, &key, &message)?;
                        // As the outbox keeps it, so a replay reads the same instant.
                        let at = instant(millis(answering.at));
                        self.attempted = Some(at);
                        if at - request.at >= LATE {
                            self.late.push((request.pc, at));
                        }
                        Some((response, answering.at))
                    }
                    (None, _) => None,
                };
                let (status, response, done) = match &answered {
                    Some((response, at)) => (
                        "done",
                        Some(serde_json::to_string(response)?),
                        Some(millis(*at)),
                    ),
                    None => ("pending", None, None),
                };
                let recorded = Recorded {
                    key,
                    attempt: request.attempt,
                    kind: request.kind,
                    message,
                    status,
                    response,
                    created: millis(self.now),
                    done,
                    pc: request.pc,
                };
                match self.enrollment {
                    Some(enrollment) => recorded.insert(self.transaction, enrollment)?,
                    None => self.kept.push(recorded),
                }
                Ok(answered.map_or(Response::Pending, |(response, _)| response))
            }
        }
    }
}

/// An effect as the outbox records it.
pub(super) struct Recorded {
    key: String,
    attempt: u32,
    kind: &'static str,
    message: String,
    status: &'static str,
    response: Option<String>,
    created: i64,
    done: Option<i64>,
    pc: u32,
}

impl Recorded {
    /// Records the effect in the outbox, for the enrollment of row
    /// `enrollment`.
    pub(super) fn insert(&self, transaction: &Tx<'_>, enrollment: i64) -> Result<(), StoreError> {
        transaction.execute(
            "INSERT INTO outbox (enrollment, key, attempt, kind, message, status, response, created, done, pc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                enrollment,
                self.key,
                self.attempt,
                self.kind,
                self.message,
                self.status,
                self.response,
                self.created,
                self.done,
                self.pc
            ],
        )?;
        Ok(())
    }
}
