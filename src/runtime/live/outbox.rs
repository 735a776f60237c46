//! The outbox: the VM's channels in live runs.

use chrono::{DateTime, Utc};

use super::activation::Delivered;
use super::touches;
use crate::runtime::consent;
use crate::runtime::policy::{ContactPolicy, Touch};
use crate::store::{instant, millis, params, StoreError, Tx};
use crate::vm::{Channels, Request, Response};

/// The VM's channels in a live run: an effect asked for the first time is
/// recorded as pending; asked again once delivered, it gets its response.
pub(super) struct Outbox<'t, 'c> {
    pub(super) transaction: &'t Tx<'c>,
    pub(super) enrollment: i64,
    pub(super) now: DateTime<Utc>,
    pub(super) error: Option<StoreError>,
    /// When the answer last given was confirmed: the real attempt.
    pub(super) attempted: Option<DateTime<Utc>>,
    /// The effect just confirmed, if the enrollment runs on from it: its
    /// answer is known without reading the outbox again.
    pub(super) delivered: Option<&'t Delivered<'t>>,
    /// The contact policy, once read.
    pub(super) policy: Option<ContactPolicy>,
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
        if self.policy.is_none() {
            self.policy = Some(touches::stored(self.transaction)?.unwrap_or_default());
        }
        let Some(policy) = self
            .policy
            .as_ref()
            .filter(|policy| policy.caps(channel).is_some())
        else {
            return Ok(None);
        };
        let touch = Touch::of(request, key, channel);
        Ok(touches::touch(self.transaction, policy, touch)?
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
        let stored: Option<(String, Option<String>, Option<i64>)> = self.transaction.query_opt(
            "SELECT status, response, done FROM outbox WHERE key = ?1 AND attempt = ?2",
            params![key, request.attempt],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
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
                let (status, response, done) = match &suppressed {
                    Some(response) => (
                        "done",
                        Some(serde_json::to_string(response)?),
                        Some(millis(self.now)),
                    ),
                    None => ("pending", None, None),
                };
                self.transaction.execute(
                    "INSERT INTO outbox (enrollment, key, attempt, kind, message, status, response, created, done, pc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        self.enrollment,
                        key,
                        request.attempt,
                        request.kind,
                        serde_json::to_string(request.message)?,
                        status,
                        response,
                        millis(self.now),
                        done,
                        request.pc
                    ],
                )?;
                Ok(suppressed.unwrap_or(Response::Pending))
            }
        }
    }
}
