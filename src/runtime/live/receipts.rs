//! Delivery receipts: what a provider learns after it took an effect (a
//! text delivered, or the carrier refusing it) goes on the timeline at
//! the effect's step, and a refusal that says the number cannot or may
//! not be texted changes its consent.

use chrono::{DateTime, Utc};

use super::lease;
use super::timeline_events::insert_events;
use super::Live;
use crate::ast::{Channel, Outcome};
use crate::runtime::consent::{self, State};
use crate::store::{params, StoreError};
use crate::vm::{effects, Event, EventKind, Message};

/// What a receipt says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// The recipient has it.
    Delivered,
    /// The carrier did not deliver it, with the provider's error code.
    Undelivered(Option<String>),
}

/// Twilio's error codes that say a number may not be texted (21610: it
/// replied STOP at the carrier) or cannot be (30005: unknown or inactive,
/// 30006: a landline or an unreachable carrier).
fn consent_for(code: &str) -> Option<State> {
    match code {
        "21610" => Some(State::OptedOut),
        "30005" | "30006" => Some(State::Undeliverable),
        _ => None,
    }
}

impl Live {
    /// Puts receipt `id` (the provider's id for it) of the effect whose
    /// idempotency key is `key` on its lead's timeline, once; gives
    /// whether it was new. A receipt for no effect flowc knows changes
    /// nothing.
    pub fn receipt(&mut self, key: &str, id: &str, receipt: &Receipt) -> Result<bool, StoreError> {
        let versions = self.versions()?;
        let now: DateTime<Utc> = self.clock.now();
        let transaction = self.store.transaction()?;
        let first = consent::webhook_taken(&transaction, "receipt", id, now)?;
        let effect: Option<(i64, Option<u32>, String, i64)> = transaction.query_opt(
            "SELECT o.enrollment, o.pc, o.message, e.workflow FROM outbox o
             JOIN enrollments e ON e.id = o.enrollment
             WHERE o.key = ?1 ORDER BY o.attempt DESC LIMIT 1",
            params![key],
            |row| row.columns(),
        )?;
        let (Some((enrollment, Some(pc), message, workflow)), true) = (effect, first) else {
            transaction.commit()?;
            return Ok(false);
        };
        let message: Message = serde_json::from_str(&message)?;
        let summary = effects::summary(&message);
        let (kind, detail) = match receipt {
            Receipt::Delivered => (EventKind::Delivered, format!("{summary}: delivered")),
            Receipt::Undelivered(code) => (
                EventKind::Undelivered,
                format!(
                    "{summary}: the carrier did not deliver it (error {})",
                    code.as_deref().unwrap_or("unknown")
                ),
            ),
        };
        if let Some(version) = versions.iter().find(|version| version.id == workflow) {
            let event = Event {
                at: now,
                pc,
                kind,
                detail,
            };
            insert_events(&transaction, enrollment, &version.program, &[event]);
        }
        if let (Receipt::Undelivered(Some(code)), Message::Text { to, .. }) = (receipt, &message) {
            if let Some(state) = consent_for(code) {
                let source = format!("twilio: error {code} ({id})");
                consent::record(&transaction, Channel::Text, to, state, &source, now)?;
            }
        }
        transaction.commit()?;
        Ok(true)
    }

    /// A placed call ended so, as the provider's status callback for the
    /// call `call` of the effect keyed `key` says: the next look takes the
    /// outcome without asking the provider, and it is due at once. Once per
    /// call; gives whether it was new and for a call still waiting.
    pub fn call_reported(
        &mut self,
        key: &str,
        call: &str,
        outcome: Outcome,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let transaction = self.store.transaction()?;
        let reported = consent::webhook_taken(&transaction, "call", call, now)?
            && transaction.execute(
                "UPDATE outbox SET reported = ?1, poll = ?2
                 WHERE key = ?3 AND call = ?4 AND status = 'placed'",
                params![outcome.keyword(), lease::now_millis(), key, call],
            )? > 0;
        if reported {
            transaction.notify()?;
        }
        transaction.commit()?;
        Ok(reported)
    }
}
