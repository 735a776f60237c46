//! Waits that end on something other than the clock alone: a field's
//! instant, an event, and time-of-day waits met again in a loop.

use chrono::{DateTime, Utc};

use super::{fields, Advance, Context, Enrollment, Event, EventKind, Fields, Status, Vm};
use crate::ast::WaitCase;
use crate::bytecode::{Op, Pc};
use crate::calendar;
use crate::value::Value;

impl Vm<'_> {
    /// The instant a wait on a field ends for these fields: the field's
    /// value plus or minus the offset; `None` when the field has no value.
    pub(super) fn field_instant(&self, index: u32, fields: Fields<'_>) -> Option<DateTime<Utc>> {
        let wait = self.program.field_waits.get(index as usize)?;
        let Some(Value::Datetime(at)) = fields.get(wait.slot) else {
            return None;
        };
        Some(wait.offset.shift(self.program.timezone, *at, wait.before))
    }

    /// A wait on a field reached at `now`: it waits until the instant, or
    /// when the field has no value or the instant has passed, takes the
    /// block for that case, else goes on at once (`None`: it went on).
    pub(super) fn field_wait(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        index: u32,
    ) -> Option<Advance> {
        let pc = enrollment.pc;
        let wait = self.program.field_waits.get(index as usize)?;
        let passed = self.field_instant(index, fields(context.lead, enrollment));
        let (case, block) = match passed {
            Some(until) if until >= now => {
                return Some(self.wait(enrollment, context, now, until));
            }
            Some(_) => (WaitCase::Past, wait.past),
            None => (WaitCase::Missing, wait.missing),
        };
        match block {
            Some(start) => {
                let name = || format!("if {}", case.keyword());
                self.event(context, now, pc, EventKind::Branched, name);
                enrollment.pc = start;
            }
            None => {
                let detail = || match passed {
                    Some(until) => format!("no wait: {} passed", self.local(until)),
                    None => format!("no wait: {} is not set", wait.name),
                };
                self.event(context, now, pc, EventKind::Skipped, detail);
                enrollment.pc = pc + 1;
            }
        }
        None
    }

    /// The event `name` happened to the lead, with its payload (as
    /// [`crate::runtime::entry::payload`] reads it for the event): if the
    /// enrollment waits for it, it takes `on event` (or the next step),
    /// active again with the payload in its `NAME.FIELD` slots, and the
    /// runtime runs it on. Whether it waited for the event.
    pub fn event_arrived(
        &self,
        enrollment: &mut Enrollment,
        name: &str,
        payload: &[Option<Value>],
        now: DateTime<Utc>,
        events: &mut Vec<Event>,
    ) -> bool {
        let at = self.program.standing_at(enrollment.pc, enrollment.status);
        let Some(&Op::WaitEvent(index)) = self.program.code.get(at as usize) else {
            return false;
        };
        let Some(wait) = self.program.event_waits.get(index as usize) else {
            return false;
        };
        if at == enrollment.pc || wait.event != name {
            return false;
        }
        hear(enrollment, payload);
        if let Some(start) = wait.on_event {
            enrollment.pc = start;
        }
        enrollment.status = Status::Active;
        enrollment.wake = now;
        events.push(Event {
            at: now,
            pc: at,
            kind: EventKind::Branched,
            detail: format!("on event {name}"),
        });
        true
    }
}

/// Writes an event's payload (all event slots, this event's filled) into
/// the enrollment's, keeping what other events filled.
pub fn hear(enrollment: &mut Enrollment, payload: &[Option<Value>]) {
    let slots = enrollment
        .event
        .get_or_insert_with(|| vec![None; payload.len()].into_boxed_slice());
    for (slot, value) in slots.iter_mut().zip(payload) {
        if value.is_some() {
            *slot = value.clone();
        }
    }
}

/// When a time-of-day wait at `pc` reached at `now` ends, by `next` (the
/// end from an instant); `None` when it passes at once. Reached again at
/// the same instant (a loop), it waits for its next end instead.
pub(super) fn time_of_day(
    next: impl Fn(DateTime<Utc>) -> DateTime<Utc>,
    pc: Pc,
    now: DateTime<Utc>,
    passed_at_once: &mut Vec<Pc>,
) -> Option<DateTime<Utc>> {
    let mut until = next(now);
    if until == now && passed_at_once.contains(&pc) {
        until = next(calendar::add_seconds(now, 1));
    }
    if until == now {
        passed_at_once.push(pc);
        return None;
    }
    Some(until)
}
