//! Who may enter a workflow: the rules the simulation and the live runtime
//! share.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::bytecode::{Period, Program, ReEntryPolicy, SlotSource};
use crate::calendar;
use crate::value::Value;
use crate::vm::Vm;

/// What the entry rules need to know of a lead's past in one workflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Whether an enrollment of the lead is still running.
    pub active: bool,
    /// When the lead last entered.
    pub last_entry: Option<DateTime<Utc>>,
    /// When the lead was last active, if known.
    pub last_activity: Option<DateTime<Utc>>,
    /// Whether the trigger's criteria held when they were last tested
    /// (criteria triggers: re-entry needs them to go from false to true).
    pub matching: bool,
    /// When a time-relative test of the trigger or goals next flips, as
    /// last scheduled.
    pub flip: Option<DateTime<Utc>>,
}

/// Why a lead did not enter a workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The trigger's criteria do not hold.
    TriggerFalse,
    /// The trigger already held before this change: re-entry is an edge.
    NoChange,
    /// An enrollment of the lead is still running.
    Active,
    /// `re-entry never`, and the lead entered before.
    ReEntryNever,
    /// `re-entry after`: the lead may enter again from this instant.
    ReEntryTooSoon(DateTime<Utc>),
    /// The lead was not active within the look-back.
    OutsideLookBack,
    /// This goal already holds: entering would only leave at once.
    GoalHolds(String),
}

impl Refusal {
    /// Every [`Refusal::code`], in the order of [`Refusal::number`].
    pub const CODES: [&'static str; 7] = [
        "trigger-false",
        "trigger-unchanged",
        "already-active",
        "re-entry-never",
        "re-entry-too-soon",
        "outside-look-back",
        "goal-holds",
    ];

    /// A stable name for grouping and filtering.
    pub fn code(&self) -> &'static str {
        Refusal::CODES[usize::from(self.number()) - 1]
    }

    /// The refusal's kind as a small number, from 1 (0 stands for none).
    pub fn number(&self) -> u8 {
        match self {
            Refusal::TriggerFalse => 1,
            Refusal::NoChange => 2,
            Refusal::Active => 3,
            Refusal::ReEntryNever => 4,
            Refusal::ReEntryTooSoon(_) => 5,
            Refusal::OutsideLookBack => 6,
            Refusal::GoalHolds(_) => 7,
        }
    }

    /// The refusal as a timeline detail: its code, then why.
    pub fn detail(&self) -> String {
        format!("{}: {self}", self.code())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TriggerFalse => write!(f, "the trigger does not match"),
            Refusal::NoChange => write!(
                f,
                "the trigger already matched before this change (re-entry needs it to stop matching first)"
            ),
            Refusal::Active => write!(f, "an enrollment of the lead is still running"),
            Refusal::ReEntryNever => write!(f, "the lead entered before and re-entry is never"),
            Refusal::ReEntryTooSoon(at) => write!(f, "re-entry is allowed from {}", at.to_rfc3339()),
            Refusal::OutsideLookBack => write!(f, "the lead was not active within the look-back"),
            Refusal::GoalHolds(goal) => write!(f, "goal {goal} already holds"),
        }
    }
}

/// Whether a lead may enter now, and if not why: the trigger's criteria
/// over its fields and the event payload (`event` says whether an event
/// arrived: each one is new), re-entry only on a change of the criteria
/// from false to true, no active enrollment, the re-entry policy, the
/// look-back, and no goal already met (entering only to leave at once
/// would be noise).
pub fn decide(
    vm: &Vm<'_>,
    history: History,
    fields: &[Option<Value>],
    payload: &[Option<Value>],
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let program = vm.program();
    if !vm.trigger_holds(fields, payload, now) {
        return Err(Refusal::TriggerFalse);
    }
    if history.active {
        return Err(Refusal::Active);
    }
    if let Some(last) = history.last_entry {
        if program.trigger.event.is_none() && history.matching {
            return Err(Refusal::NoChange);
        }
        match program.reentry {
            ReEntryPolicy::Never => return Err(Refusal::ReEntryNever),
            ReEntryPolicy::Always => {}
            ReEntryPolicy::After(period) => {
                let from = after(program, last, period);
                if now < from {
                    return Err(Refusal::ReEntryTooSoon(from));
                }
            }
        }
    }
    let active_recently = history.last_activity.is_none_or(|last| {
        last >= calendar::sub_days(program.timezone, now, u64::from(program.look_back_days))
    });
    if !active_recently {
        return Err(Refusal::OutsideLookBack);
    }
    match vm.goal_met(fields, payload, now) {
        Some(goal) => Err(Refusal::GoalHolds(goal.to_owned())),
        None => Ok(()),
    }
}

/// Whether a decision leaves the trigger's criteria matching.
pub fn matches(decision: &Result<(), Refusal>) -> bool {
    !matches!(decision, Err(Refusal::TriggerFalse))
}

/// When a lead that entered at `last` may enter again.
fn after(program: &Program, last: DateTime<Utc>, period: Period) -> DateTime<Utc> {
    match period {
        Period::Seconds(seconds) => {
            calendar::add_seconds(last, seconds.min(i64::MAX as u64) as i64)
        }
        Period::Days(days) => calendar::add_days(program.timezone, last, days),
    }
}

/// An event's data as the program's event slots, each read with its
/// declared type; or why it does not fit.
pub fn payload(
    program: &Program,
    event: Payload<'_>,
    data: &Map<String, Json>,
) -> Result<Vec<Option<Value>>, String> {
    let first = program
        .slots
        .iter()
        .position(|slot| slot.source == SlotSource::Event)
        .unwrap_or(program.slots.len());
    let prefix = match event {
        Payload::Trigger => "event.".to_owned(),
        Payload::Named(name) => format!("{name}."),
    };
    program.slots[first..]
        .iter()
        .map(|slot| {
            let Some(name) = slot.name.strip_prefix(prefix.as_str()) else {
                return Ok(None);
            };
            match data.get(name) {
                None => Ok(None),
                Some(json) => {
                    crate::value::from_json(json, slot.ty, program.timezone).map_err(|mismatch| {
                        format!(
                            "event field `{name}` should be {}, not {}",
                            mismatch.expected, mismatch.found
                        )
                    })
                }
            }
        })
        .collect()
}

/// Which of a program's event payloads to read an event into.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// The trigger event's: `event.FIELD` slots.
    Trigger,
    /// That of the event of this name that a goal or a `wait for` waits
    /// for: `EVENT.FIELD` slots.
    Named(&'a str),
}
