//! What the timeline says of a delivered effect: when it went out, if
//! late, and that it was carried out after its enrollment ended.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::activation::Row;
use super::provider::Delivery;
use super::timeline_events::insert_events;
use super::Version;
use crate::store::{StoreError, Tx};
use crate::vm::{Event, EventKind, Message, Response};

/// An effect's outcome, as the delivery that carried it out saw it.
pub(super) struct Delivered<'a> {
    /// The effect, as the outbox holds it.
    pub delivery: &'a Delivery,
    /// What the provider answered.
    pub response: &'a Response,
    /// When it was confirmed: the real attempt.
    pub at: DateTime<Utc>,
    /// Whether it went out late enough after its step was reached for its
    /// timeline event to say when.
    pub late: bool,
}

impl Delivered<'_> {
    /// Says when the effect went out, at the end of the event that reports
    /// it, if it went out late.
    pub(super) fn note(&self, event: &mut Event, zone: chrono_tz::Tz) {
        if self.late && reports_delivery(event) {
            went_out(event, self.at, zone);
        }
    }
}

/// Whether `event` reports how an effect's delivery went.
pub(super) fn reports_delivery(event: &Event) -> bool {
    matches!(event.kind, EventKind::Sent | EventKind::Undelivered)
}

/// Says at the end of `event` when its effect really went out.
fn went_out(event: &mut Event, at: DateTime<Utc>, zone: chrono_tz::Tz) {
    event.detail += &format!(" (went out at {})", crate::calendar::rfc3339(at, zone));
}

/// Says when the effects answered at once that went out `late` (steps by
/// pc, in the order answered) did, on the events that report them.
pub(super) fn note_late(events: &mut [Event], late: &[(u32, DateTime<Utc>)], zone: chrono_tz::Tz) {
    let mut late = late.iter().peekable();
    for event in events.iter_mut().filter(|event| reports_delivery(event)) {
        if let Some((_, at)) = late.next_if(|(pc, _)| *pc == event.pc) {
            went_out(event, *at, zone);
        }
    }
}

/// Puts on the timeline an effect carried out after its enrollment ended
/// (a goal was reached while the effect was in flight): every delivered
/// effect is on the timeline, whatever happened to the enrollment.
pub(super) fn late_delivery(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    row: &Row,
    at: DateTime<Utc>,
    delivered: &Delivered<'_>,
) -> Result<(), StoreError> {
    let Some(version) = versions.get(&row.workflow) else {
        return Ok(());
    };
    let summary = serde_json::from_str::<Message>(&delivered.delivery.message)
        .map(|message| crate::vm::effects::summary(&message))
        .unwrap_or_default();
    let (kind, detail) = match delivered.response {
        Response::Suppressed(reason) => (
            EventKind::Skipped,
            format!("{summary}: not sent after the enrollment ended ({reason})"),
        ),
        Response::Transient(reason)
        | Response::Permanent(reason)
        | Response::Throttled { reason, .. } => (
            EventKind::Undelivered,
            format!("{summary}: not delivered after the enrollment ended ({reason})"),
        ),
        _ => (
            EventKind::Sent,
            format!("{summary} (delivered after the enrollment ended)"),
        ),
    };
    let mut event = Event {
        at,
        pc: row.enrollment.pc,
        kind,
        detail,
    };
    delivered.note(&mut event, version.program.timezone);
    insert_events(transaction, row.id, &version.program, &[event]);
    Ok(())
}
