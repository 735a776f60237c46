//! The interpreter: advances one enrollment through a program until it
//! suspends (a wait, a time of day, a closed window, a retry) or ends.

pub mod effects;
mod enrollment;
pub mod eval;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

pub use effects::{Channels, Message, Request, Response};
pub use enrollment::{Advance, Enrollment, Event, EventKind, Status};
pub use eval::Fields;

use crate::ast::{Channel, Outcome, WindowZone};
use crate::bytecode::{Effect, Op, Pc, Program, CALL_OUTCOMES};
use crate::calendar;
use crate::value::Value;
use effects::Addresses;

/// Instructions one enrollment may run at one instant before it is failed
/// (only a corrupt program can loop without waiting: the checker forbids it).
const INSTRUCTION_LIMIT: u32 = 100_000;
/// Attempts at an effect before a transient failure counts as permanent.
const MAX_ATTEMPTS: u32 = 8;
/// The first retry delay in seconds; each next one doubles, up to an hour.
const FIRST_RETRY_SECONDS: i64 = 60;
const LONGEST_RETRY_SECONDS: i64 = 3600;

/// The interpreter for one program.
pub struct Vm<'p> {
    program: &'p Program,
    addresses: Addresses,
    /// Whether templates may read environment variables (live runs only).
    pub secrets: bool,
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
}

impl<'p> Vm<'p> {
    /// An interpreter for `program`.
    pub fn new(program: &'p Program) -> Self {
        Vm {
            program,
            addresses: Addresses::of(program),
            secrets: false,
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

    /// Whether a goal holds for the lead; its name if so.
    pub fn goal_reached(
        &self,
        enrollment: &Enrollment,
        lead: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<&'p str> {
        self.goal_holding(fields(lead, enrollment), now)
    }

    /// The first goal that holds for `fields`, by name.
    fn goal_holding(&self, fields: Fields<'_>, now: DateTime<Utc>) -> Option<&'p str> {
        self.program
            .goals
            .iter()
            .find(|goal| self.holds(goal.condition, fields, now))
            .map(|goal| goal.name.as_str())
    }

    fn holds(&self, condition: u32, fields: Fields<'_>, now: DateTime<Utc>) -> bool {
        self.program
            .conditions
            .get(condition as usize)
            .is_some_and(|condition| eval::holds(condition, fields, now, self.program.timezone))
    }

    /// Whether any goal holds for a lead and event payload.
    pub fn goal_met(
        &self,
        lead: &[Option<Value>],
        event: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> bool {
        self.goal_holding(Fields { lead, event }, now).is_some()
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
            // Resuming from a `wait until` counts as passing it now.
            let waited_at = enrollment.pc.checked_sub(1);
            if let Some(pc) = waited_at
                .filter(|pc| matches!(self.program.code.get(*pc as usize), Some(Op::WaitUntil(_))))
            {
                passed_at_once.push(pc);
            }
        }
        enrollment.status = Status::Active;
        loop {
            if budget == 0 {
                return self.end(
                    enrollment,
                    context,
                    now,
                    Status::Failed,
                    "the program loops without waiting".to_owned(),
                );
            }
            budget -= 1;
            self.instructions += 1;
            if !self.program.goals.is_empty() {
                if let Some(goal) = self.goal_reached(enrollment, context.lead, now) {
                    return self.end(
                        enrollment,
                        context,
                        now,
                        Status::Exited,
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
                    Status::Failed,
                    format!("no instruction {pc}"),
                );
            };
            match op {
                Op::Jump(target) => enrollment.pc = target,
                Op::Complete => {
                    return self.end(enrollment, context, now, Status::Completed, String::new())
                }
                Op::Exit(reason) => {
                    let reason = reason.map_or_else(String::new, |text| {
                        self.render(text, enrollment, context.lead)
                    });
                    return self.end(enrollment, context, now, Status::Exited, reason);
                }
                Op::NoMatch => {
                    return self.end(
                        enrollment,
                        context,
                        now,
                        Status::Exited,
                        "no branch matched".to_owned(),
                    )
                }
                Op::Else(target) => {
                    self.event(context, now, pc, EventKind::Branched, || "else".to_owned());
                    enrollment.pc = target;
                }
                Op::Test {
                    condition,
                    branch,
                    target,
                } => {
                    if self.holds(condition, fields(context.lead, enrollment), now) {
                        let name = || {
                            let names = &self.program.names;
                            names.get(branch as usize).cloned().unwrap_or_default()
                        };
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
                    let mut until = calendar::next_time_of_day(zone, now, minute);
                    if until == now && passed_at_once.contains(&pc) {
                        until =
                            calendar::next_time_of_day(zone, calendar::add_seconds(now, 1), minute);
                    }
                    if until == now {
                        passed_at_once.push(pc);
                        enrollment.pc = pc + 1;
                    } else {
                        return self.wait(enrollment, context, now, until);
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

    fn wait(
        &self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Advance {
        let detail = || format!("until {}", self.local(until));
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
        status: Status,
        detail: String,
    ) -> Advance {
        let kind = match status {
            Status::Completed => EventKind::Completed,
            Status::Failed => EventKind::Failed,
            _ => EventKind::Exited,
        };
        self.event(context, now, enrollment.pc, kind, || detail);
        enrollment.status = status;
        Advance::Ended(status)
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
        instant.with_timezone(&self.program.timezone).to_rfc3339()
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
                self.secrets,
                &mut out,
            );
        }
        out
    }

    /// The timezone a channel's window is read in for this lead.
    fn window_zone(&self, zone: WindowZone, lead: &[Option<Value>]) -> Tz {
        let lead_zone = || match self
            .addresses
            .timezone
            .and_then(|slot| lead.get(slot as usize)?.as_ref())
        {
            Some(Value::Text(name)) => name.parse::<Tz>().ok(),
            _ => None,
        };
        match zone {
            WindowZone::Account => self.program.timezone,
            WindowZone::Lead => lead_zone().unwrap_or(self.program.timezone),
        }
    }

    /// Carries out an effect instruction; `None` when the enrollment goes
    /// on at once (its program counter set), else how the activation ends.
    fn effect(
        &mut self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        effect_index: u32,
        on_error: Option<Pc>,
        call_outcomes: Option<[Option<Pc>; 4]>,
    ) -> Option<Advance> {
        let pc = enrollment.pc;
        let program = self.program;
        let Some(effect) = program.effects.get(effect_index as usize) else {
            return Some(self.end(
                enrollment,
                context,
                now,
                Status::Failed,
                format!("no effect {effect_index}"),
            ));
        };
        let message = effects::message(
            program,
            effect,
            fields(context.lead, enrollment),
            &self.addresses,
            self.secrets,
        );
        let Some(message) = message else {
            let missing = match effect.channel() {
                Some(Channel::Email) => "no email address",
                _ => "no phone number",
            };
            self.event(context, now, pc, EventKind::Skipped, || missing.to_owned());
            enrollment.pc = pc + 1;
            enrollment.attempts = 0;
            return None;
        };
        if let Some(window) = effect.channel().and_then(|channel| program.window(channel)) {
            let zone = self.window_zone(window.zone, context.lead);
            if !window.hours.is_open(zone, now) {
                let channel = effect.channel().map_or("", Channel::keyword);
                return Some(match window.hours.next_open(zone, now) {
                    Some(opens) => self.hold(enrollment, context, now, opens, || {
                        format!("{channel} window closed")
                    }),
                    None => self.end(
                        enrollment,
                        context,
                        now,
                        Status::Failed,
                        format!("the {channel} window never opens"),
                    ),
                });
            }
        }
        enrollment.attempts += 1;
        let label = program
            .origins
            .get(pc as usize)
            .map_or("", |origin| origin.label.as_str());
        let request = Request {
            lead: enrollment.lead,
            label,
            kind: effect.kind(),
            attempt: enrollment.attempts,
            message: &message,
            owner: effects::Owner {
                workflow: &program.name,
                version: &program.version,
                lead: context.lead_id,
                enrollment: enrollment.number,
                sequence: enrollment.effects,
            },
        };
        let response = context.channels.perform(&request);
        if response == Response::Pending {
            // Asked again, with the same attempt number, once answered.
            enrollment.attempts -= 1;
            enrollment.status = Status::Active;
            return Some(Advance::InFlight);
        }
        let summary = || effects::summary(&message);
        let outcome = self.outcome(effect, response, context.lead);
        match outcome {
            Ok((detail, call_outcome)) => {
                enrollment.attempts = 0;
                enrollment.effects += 1;
                let detail = || {
                    if detail.is_empty() {
                        summary()
                    } else {
                        format!("{} ({detail})", summary())
                    }
                };
                self.event(context, now, pc, EventKind::Sent, detail);
                let target = match (call_outcome, call_outcomes) {
                    (Some(outcome), Some(targets)) => {
                        let index = CALL_OUTCOMES
                            .iter()
                            .position(|known| *known == outcome)
                            .unwrap_or(3);
                        targets[index].inspect(|_| {
                            self.event(context, now, pc, EventKind::Branched, || {
                                format!("on {}", outcome.keyword())
                            });
                        })
                    }
                    _ => None,
                };
                enrollment.pc = target.unwrap_or(pc + 1);
                None
            }
            Err(Failure::Transient(reason)) if enrollment.attempts < MAX_ATTEMPTS => {
                let delay = (FIRST_RETRY_SECONDS << (enrollment.attempts - 1).min(20))
                    .min(LONGEST_RETRY_SECONDS);
                let until = calendar::add_seconds(now, delay);
                let attempt = enrollment.attempts;
                let reason = || format!("{} failed (attempt {attempt}): {reason}", summary());
                Some(self.hold(enrollment, context, now, until, reason))
            }
            Err(Failure::Transient(reason) | Failure::Permanent(reason)) => {
                enrollment.attempts = 0;
                enrollment.effects += 1;
                let reason = format!("{} failed: {reason}", summary());
                match on_error {
                    Some(target) => {
                        self.event(context, now, pc, EventKind::Branched, || {
                            format!("on error: {reason}")
                        });
                        enrollment.pc = target;
                        None
                    }
                    None => Some(self.end(enrollment, context, now, Status::Failed, reason)),
                }
            }
        }
    }

    /// What a response means: success (with a detail and, for calls, the
    /// outcome; extracted fields written to the lead) or a failure.
    fn outcome(
        &self,
        effect: &Effect,
        response: Response,
        lead: &mut [Option<Value>],
    ) -> Result<(String, Option<Outcome>), Failure> {
        let zone = self.program.timezone;
        match (effect, response) {
            (_, Response::Transient(reason)) => Err(Failure::Transient(reason)),
            (_, Response::Permanent(reason)) => Err(Failure::Permanent(reason)),
            (Effect::Call { .. }, Response::Call(outcome)) => {
                Ok((outcome.keyword().to_owned(), Some(outcome)))
            }
            (Effect::Call { .. }, _) => Ok(("answered".to_owned(), Some(Outcome::Answered))),
            (Effect::Http(http), Response::Http { status, body }) => {
                if status == 429 || status >= 500 {
                    return Err(Failure::Transient(format!("status {status}")));
                }
                if status >= 400 {
                    return Err(Failure::Permanent(format!("status {status}")));
                }
                let values = effects::extract(self.program, &http.extract, &body, true, zone)
                    .map_err(Failure::Permanent)?;
                Ok((format!("status {status}{}", self.store(values, lead)), None))
            }
            (Effect::Prompt(prompt), Response::Answer(answer)) => {
                let values = effects::extract(self.program, &prompt.extract, &answer, false, zone)
                    .map_err(Failure::Permanent)?;
                Ok((
                    self.store(values, lead).trim_start_matches("; ").to_owned(),
                    None,
                ))
            }
            (Effect::Http(_), _) => Err(Failure::Permanent(
                "the provider gave no http response".to_owned(),
            )),
            (Effect::Prompt(_), _) => {
                Err(Failure::Permanent("the model gave no answer".to_owned()))
            }
            (_, _) => Ok((String::new(), None)),
        }
    }

    /// Writes extracted values to the lead; describes them for the timeline.
    fn store(&self, values: Vec<(u32, Option<Value>)>, lead: &mut [Option<Value>]) -> String {
        let mut detail = String::new();
        for (slot, value) in values {
            if self.describe {
                let slots = &self.program.slots;
                let name = slots
                    .get(slot as usize)
                    .map_or("", |slot| slot.name.as_str());
                let shown = value
                    .as_ref()
                    .map_or_else(|| "missing".to_owned(), |value| value.to_json().to_string());
                detail.push_str(&format!("; {name}={shown}"));
            }
            if let Some(place) = lead.get_mut(slot as usize) {
                *place = value;
            }
        }
        detail
    }
}

/// Why an effect failed.
enum Failure {
    /// Worth retrying.
    Transient(String),
    /// Not worth retrying.
    Permanent(String),
}

fn fields<'a>(lead: &'a [Option<Value>], enrollment: &'a Enrollment) -> Fields<'a> {
    Fields {
        lead,
        event: enrollment.event.as_deref().unwrap_or(&[]),
    }
}
