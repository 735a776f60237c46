//! The interpreter: advances one enrollment through a program until it
//! suspends (a wait, a time of day, a closed window, a retry) or ends.

pub mod effects;
mod enrollment;
pub mod eval;
mod perform;
mod sealed;
mod waits;

use chrono::{DateTime, Utc};

pub use effects::{Channels, Message, Request, Response};
pub use enrollment::{Advance, Ending, Enrollment, Event, EventKind, Status};
pub use eval::Fields;
pub use sealed::{MissingSecret, Part, Sealed};
pub use waits::hear;

use crate::ast::Outcome;
use crate::bytecode::{Op, Pc, Program};
use crate::calendar;
use crate::value::Value;
use effects::Addresses;
use waits::time_of_day;

/// Instructions one enrollment may run at one instant before it is failed
/// (only a corrupt program can loop without waiting: the checker forbids it).
const INSTRUCTION_LIMIT: u32 = 100_000;

/// The interpreter for one program.
pub struct Vm<'p> {
    program: &'p Program,
    addresses: Addresses,
    /// Whether to describe every event (off when no timeline is kept: only
    /// exit and failure reasons are described then).
    pub describe: bool,
    /// Instructions executed so far.
    pub instructions: u64,
}

/// What an enrollment runs against: its lead's fields, the channels, and
/// where its timeline events go.
pub struct Context<'a> {
    /// The lead's fields by slot; extractions write here.
    pub lead: &'a mut [Option<Value>],
    /// The channels effects go through.
    pub channels: &'a mut dyn Channels,
    /// Timeline events, appended.
    pub events: &'a mut Vec<Event>,
    /// The lead's id, for idempotency keys.
    pub lead_id: &'a str,
    /// The outcomes of the calls that ended during the run, in order: the
    /// runtime raises `call_completed` for each once the run is over.
    pub calls: Vec<Outcome>,
}

impl<'p> Vm<'p> {
    /// An interpreter for `program`.
    pub fn new(program: &'p Program) -> Self {
        Vm {
            program,
            addresses: Addresses::of(program),
            describe: true,
            instructions: 0,
        }
    }

    /// The program it runs.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// The number of lead slots (event slots follow them).
    pub fn lead_slots(&self) -> usize {
        self.program
            .slots
            .iter()
            .take_while(|slot| slot.source != crate::bytecode::SlotSource::Event)
            .count()
    }

    /// Whether a goal holds for the lead; its index and name if so.
    pub fn goal_reached(
        &self,
        enrollment: &Enrollment,
        lead: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<(u32, &'p str)> {
        self.goal_holding(fields(lead, enrollment), now)
    }

    /// The first goal on the lead's fields that holds for `fields`: its
    /// index and name.
    fn goal_holding(&self, fields: Fields<'_>, now: DateTime<Utc>) -> Option<(u32, &'p str)> {
        self.program
            .goals
            .iter()
            .enumerate()
            .find(|(_, goal)| goal.on_fields().is_some_and(|c| self.holds(c, fields, now)))
            .map(|(index, goal)| (index as u32, goal.name.as_str()))
    }

    /// The first goal on the event `name` that this occurrence of it meets
    /// (`payload` as made by [`crate::runtime::entry::payload`] for it): its
    /// index and name.
    pub fn goal_on_event(
        &self,
        name: &str,
        lead: &[Option<Value>],
        payload: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<(u32, &'p str)> {
        let fields = Fields {
            lead,
            event: payload,
        };
        self.program
            .goals
            .iter()
            .enumerate()
            .filter(|(_, goal)| goal.event.as_deref() == Some(name))
            .find(|(_, goal)| goal.condition.is_none_or(|c| self.holds(c, fields, now)))
            .map(|(index, goal)| (index as u32, goal.name.as_str()))
    }

    fn holds(&self, condition: u32, fields: Fields<'_>, now: DateTime<Utc>) -> bool {
        let open = |channel| self.window_open(channel, fields.lead, now);
        let moment = eval::Moment {
            now,
            zone: self.program.timezone,
            open: &open,
        };
        self.program
            .conditions
            .get(condition as usize)
            .is_some_and(|condition| eval::holds(condition, fields, moment))
    }

    /// Whether any goal holds for a lead and event payload.
    pub fn goal_met(
        &self,
        lead: &[Option<Value>],
        event: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<&'p str> {
        self.goal_holding(Fields { lead, event }, now)
            .map(|(_, name)| name)
    }

    /// Whether the trigger's criteria hold for a lead and event payload.
    pub fn trigger_holds(
        &self,
        lead: &[Option<Value>],
        event: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> bool {
        let fields = Fields { lead, event };
        self.program
            .trigger
            .criteria
            .is_none_or(|condition| self.holds(condition, fields, now))
    }

    /// The first instant after `now` at which the trigger's criteria or a
    /// goal can change for a lead whose fields stay as they are: when a
    /// time-relative test (`is older than`, `is within last`, `is within
    /// next`) flips.
    pub fn next_change(
        &self,
        lead: &[Option<Value>],
        event: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let fields = Fields { lead, event };
        let zone = self.program.timezone;
        let trigger = self.program.trigger.criteria.into_iter();
        let goals = self
            .program
            .goals
            .iter()
            .filter_map(|goal| goal.on_fields());
        trigger
            .chain(goals)
            .filter_map(|condition| self.program.conditions.get(condition as usize))
            .filter_map(|condition| eval::next_change(condition, fields, now, zone))
            .min()
    }

    /// Runs an enrollment from its program counter at `now` until it
    /// suspends or ends, appending its timeline events.
    pub fn run(
        &mut self,
        enrollment: &mut Enrollment,
        now: DateTime<Utc>,
        context: &mut Context<'_>,
    ) -> Advance {
        if enrollment.status == Status::Held {
            self.event(
                context,
                now,
                enrollment.pc,
                EventKind::Released,
                String::new,
            );
        }
        let mut budget = INSTRUCTION_LIMIT;
        // `wait until` steps passed at once in this activation: reached
        // again at the same instant (a loop), they wait for the next day.
        let mut passed_at_once: Vec<Pc> = Vec::new();
        if enrollment.status == Status::Waiting {
            let at = self.program.standing_at(enrollment.pc, Status::Waiting);
            match self.program.code.get(at as usize) {
                // Resuming from a `wait until` counts as passing it now.
                Some(Op::WaitUntil(_) | Op::WaitClock(_)) if at != enrollment.pc => {
                    passed_at_once.push(at);
                }
                // Woken at its timeout, a wait for an event takes `on timeout`.
                Some(&Op::WaitEvent(index)) if at != enrollment.pc => {
                    let block = self.program.event_waits.get(index as usize);
                    if let Some(start) = block.and_then(|wait| wait.on_timeout) {
                        enrollment.pc = start;
                    }
                    let detail = || "on timeout".to_owned();
                    self.event(context, now, at, EventKind::Branched, detail);
                }
                // A wait on a field follows the field: moved later while the
                // lead waited (a demo rescheduled), it waits again.
                Some(&Op::WaitField(index)) if at != enrollment.pc => {
                    let instant = self.field_instant(index, fields(context.lead, enrollment));
                    if let Some(until) = instant.filter(|until| *until > now) {
                        enrollment.pc = at;
                        enrollment.status = Status::Active;
                        return self.wait(enrollment, context, now, until);
                    }
                }
                _ => {}
            }
        }
        enrollment.status = Status::Active;
        loop {
            if budget == 0 {
                return self.end(
                    enrollment,
                    context,
                    now,
                    Ending::Failed(enrollment.pc),
                    "the program loops without waiting".to_owned(),
                );
            }
            budget -= 1;
            self.instructions += 1;
            if !self.program.goals.is_empty() {
                if let Some((index, goal)) = self.goal_reached(enrollment, context.lead, now) {
                    return self.end(
                        enrollment,
                        context,
                        now,
                        Ending::Goal(index),
                        format!("goal {goal} reached"),
                    );
                }
            }
            let pc = enrollment.pc;
            let Some(&op) = self.program.code.get(pc as usize) else {
                return self.end(
                    enrollment,
                    context,
                    now,
                    Ending::Failed(pc),
                    format!("no instruction {pc}"),
                );
            };
            match op {
                Op::Jump(target) => enrollment.pc = target,
                Op::Loop { target, limit } => {
                    let index = match enrollment.loops.iter().position(|(at, _)| *at == pc) {
                        Some(index) => index,
                        None => {
                            enrollment.loops.push((pc, 0));
                            enrollment.loops.len() - 1
                        }
                    };
                    let count = &mut enrollment.loops[index].1;
                    let label = |target: Pc| {
                        let origins = &self.program.origins;
                        origins
                            .get(target as usize)
                            .map_or("", |o| o.label.as_str())
                    };
                    if *count < limit {
                        *count += 1;
                        let done = *count;
                        let detail = || format!("goto {} ({done} of {limit})", label(target));
                        self.event(context, now, pc, EventKind::Branched, detail);
                        enrollment.pc = target;
                    } else {
                        let times = if limit == 1 { "time" } else { "times" };
                        let detail = || format!("went back {limit} {times}: go on");
                        self.event(context, now, pc, EventKind::Branched, detail);
                        enrollment.pc = pc + 1;
                    }
                }
                Op::Complete => {
                    return self.end(enrollment, context, now, Ending::Completed, String::new())
                }
                Op::Exit(reason) => {
                    let reason = reason.map_or_else(String::new, |text| {
                        self.render(text, enrollment, context.lead)
                    });
                    return self.end(enrollment, context, now, Ending::Exit(pc), reason);
                }
                Op::NoMatch => {
                    return self.end(
                        enrollment,
                        context,
                        now,
                        Ending::NoBranch(pc),
                        "no branch matched".to_owned(),
                    )
                }
                Op::Else(target) => {
                    self.event(context, now, pc, EventKind::Branched, || "else".to_owned());
                    enrollment.pc = target;
                }
                Op::Split(split) => {
                    let variant = self
                        .program
                        .splits
                        .get(split as usize)
                        .and_then(|split| split.draw(&self.program.name, context.lead_id));
                    enrollment.pc = variant.map_or(pc + 1, |variant| variant.target);
                }
                Op::Variant(name) => {
                    let name = || format!("variant {}", self.name(name));
                    self.event(context, now, pc, EventKind::Branched, name);
                    enrollment.pc = pc + 1;
                }
                Op::Test {
                    condition,
                    branch,
                    target,
                } => {
                    if self.holds(condition, fields(context.lead, enrollment), now) {
                        let name = || self.name(branch).to_owned();
                        self.event(context, now, pc, EventKind::Branched, name);
                        enrollment.pc = target;
                    } else {
                        enrollment.pc = pc + 1;
                    }
                }
                Op::WaitSeconds(seconds) => {
                    let until = calendar::add_seconds(now, i64::from(seconds));
                    return self.wait(enrollment, context, now, until);
                }
                Op::WaitDays(days) => {
                    let until = calendar::add_days(self.program.timezone, now, u64::from(days));
                    return self.wait(enrollment, context, now, until);
                }
                Op::WaitUntil(minute) => {
                    let zone = self.program.timezone;
                    let next = |from| calendar::next_time_of_day(zone, from, minute);
                    if let Some(until) = time_of_day(next, pc, now, &mut passed_at_once) {
                        return self.wait(enrollment, context, now, until);
                    }
                    enrollment.pc = pc + 1;
                }
                Op::WaitClock(index) => {
                    let Some(wait) = self.program.clock_waits.get(index as usize) else {
                        return self.end(
                            enrollment,
                            context,
                            now,
                            Ending::Failed(pc),
                            format!("no clock wait {index}"),
                        );
                    };
                    let zone = self.window_zone(wait.zone, context.lead);
                    let next = |from| {
                        calendar::next_time_on_days(zone, from, wait.minute, wait.days, wait.next)
                    };
                    if let Some(until) = time_of_day(next, pc, now, &mut passed_at_once) {
                        return self.wait(enrollment, context, now, until);
                    }
                    enrollment.pc = pc + 1;
                }
                Op::WaitEvent(index) => {
                    let Some(wait) = self.program.event_waits.get(index as usize) else {
                        return self.end(
                            enrollment,
                            context,
                            now,
                            Ending::Failed(pc),
                            format!("no event wait {index}"),
                        );
                    };
                    let until = wait.timeout.shift(self.program.timezone, now, false);
                    let detail = || format!("for {} until {}", wait.event, self.local(until));
                    return self.suspend(enrollment, context, now, until, detail);
                }
                Op::WaitBusinessDays(days) => {
                    let zone = self.program.timezone;
                    let holidays = &self.program.holidays;
                    let until = calendar::add_business_days(zone, now, days, holidays);
                    return self.wait(enrollment, context, now, until);
                }
                Op::WaitField(index) => {
                    if let Some(advance) = self.field_wait(enrollment, context, now, index) {
                        return advance;
                    }
                }
                Op::Effect { effect, on_error } => {
                    if let Some(advance) =
                        self.effect(enrollment, context, now, effect, on_error, None)
                    {
                        return advance;
                    }
                }
                Op::Call { effect, outcomes } => {
                    if let Some(advance) = self.effect(
                        enrollment,
                        context,
                        now,
                        effect,
                        outcomes[3],
                        Some(outcomes),
                    ) {
                        return advance;
                    }
                }
            }
        }
    }

    /// A branch or variant name of the program.
    fn name(&self, name: u32) -> &'p str {
        let names = &self.program.names;
        names.get(name as usize).map_or("", String::as_str)
    }

    fn wait(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Advance {
        let detail = || format!("until {}", self.local(until));
        self.suspend(enrollment, context, now, until, detail)
    }

    /// Suspends the enrollment at its wait until `until`.
    fn suspend(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        detail: impl FnOnce() -> String,
    ) -> Advance {
        self.event(context, now, enrollment.pc, EventKind::Waited, detail);
        enrollment.pc += 1;
        enrollment.status = Status::Waiting;
        enrollment.wake = until;
        Advance::Suspended(until)
    }

    fn hold(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: impl FnOnce() -> String,
    ) -> Advance {
        let detail = || format!("{}; release at {}", reason(), self.local(until));
        self.event(context, now, enrollment.pc, EventKind::Held, detail);
        enrollment.status = Status::Held;
        enrollment.wake = until;
        Advance::Suspended(until)
    }

    fn end(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        ending: Ending,
        detail: String,
    ) -> Advance {
        let status = ending.status();
        let kind = match status {
            Status::Completed => EventKind::Completed,
            Status::Failed => EventKind::Failed,
            _ => EventKind::Exited,
        };
        self.event(context, now, enrollment.pc, kind, || detail);
        enrollment.status = status;
        Advance::Ended(ending)
    }

    /// Records an event; its detail is only made when timelines are kept,
    /// or when it is an exit or failure reason (the summary counts those).
    fn event(
        &self,
        context: &mut Context<'_>,
        at: DateTime<Utc>,
        pc: Pc,
        kind: EventKind,
        detail: impl FnOnce() -> String,
    ) {
        let needed = self.describe || matches!(kind, EventKind::Exited | EventKind::Failed);
        context.events.push(Event {
            at,
            pc,
            kind,
            detail: if needed { detail() } else { String::new() },
        });
    }

    /// An instant in RFC 3339 with the account timezone's offset.
    pub fn local(&self, instant: DateTime<Utc>) -> String {
        crate::calendar::rfc3339(instant, self.program.timezone)
    }

    fn render(&self, text: u32, enrollment: &Enrollment, lead: &[Option<Value>]) -> String {
        let mut out = String::new();
        if let Some(template) = self.program.texts.get(text as usize) {
            let fields = fields(lead, enrollment);
            eval::render(
                template,
                fields,
                self.program.timezone,
                eval::Escape::Plain,
                &mut out,
            );
        }
        out
    }
}

fn fields<'a>(lead: &'a [Option<Value>], enrollment: &'a Enrollment) -> Fields<'a> {
    Fields {
        lead,
        event: enrollment.event.as_deref().unwrap_or(&[]),
    }
}
