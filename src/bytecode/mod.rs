//! The compiled form of a workflow: a flat instruction array, a constant
//! pool (templates, conditions, effects) and a side table of where each
//! instruction came from. Serialisable, so `flowc build` can store it.

mod conditions;
mod disasm;
mod effects;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use conditions::{CondOp, Condition, Operand, Period, Test};
pub use disasm::disassemble;
pub use effects::{Case, Effect, Email, Extraction, Http, Piece, Prompt, Template};

use crate::ast::{Channel, Outcome, WindowZone};
use crate::calendar::Hours;
use crate::span::Span;
use crate::value::ValueType;

/// The version of the artifact format; loading any other is an error.
pub const FORMAT_VERSION: u32 = 1;
/// The `format` tag every artifact carries.
pub const FORMAT_NAME: &str = "flowc-program";

/// A compiled `.flow` file: every workflow in it, with a versioned header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version it was written with.
    pub version: u32,
    /// SHA-256 of the source text, in hex.
    pub source_hash: String,
    /// One program per workflow, in source order.
    pub programs: Vec<Program>,
}

/// Index of an instruction in [`Program::code`].
pub type Pc = u32;

/// One compiled workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// The workflow's name.
    pub name: String,
    /// The version: the start of the source's hash (part of idempotency keys).
    pub version: String,
    /// The account timezone.
    pub timezone: Tz,
    /// When a lead may enter again.
    pub reentry: ReEntryPolicy,
    /// Only leads active within this many days are evaluated for entry.
    pub look_back_days: u32,
    /// What a permanent failure of a step nothing depends on does.
    #[serde(default)]
    pub send_failure: crate::ast::SendFailure,
    /// Every field the program reads or writes, by slot.
    pub slots: Vec<Slot>,
    /// Who enters.
    pub trigger: Trigger,
    /// Exit goals, tested before every step.
    pub goals: Vec<Goal>,
    /// Outgoing windows by channel: email, text, call.
    pub windows: [Option<Window>; 3],
    /// The instructions.
    pub code: Vec<Op>,
    /// Where each instruction came from, by index.
    pub origins: Vec<Origin>,
    /// Compiled criteria.
    pub conditions: Vec<Condition>,
    /// Compiled templates.
    pub texts: Vec<Template>,
    /// What effect instructions do.
    pub effects: Vec<Effect>,
    /// Branch names.
    pub names: Vec<String>,
    /// A/B splits.
    #[serde(default)]
    pub splits: Vec<Split>,
    /// Time-of-day waits on chosen days or in the lead's timezone.
    #[serde(default)]
    pub clock_waits: Vec<ClockWait>,
    /// Waits until a datetime field plus or minus an offset.
    #[serde(default)]
    pub field_waits: Vec<FieldWait>,
    /// Waits for an event, with a timeout.
    #[serde(default)]
    pub event_waits: Vec<EventWait>,
    /// Dates that are no business day, sorted.
    #[serde(default)]
    pub holidays: Vec<chrono::NaiveDate>,
    /// What channel steps do outside their window, by effect, where it is
    /// not to hold until it opens.
    #[serde(default)]
    pub outside: Vec<(u32, Outside)>,
}

/// What a channel step reached outside its window does instead of holding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outside {
    /// Skip the step.
    Skip,
    /// Hold while the window opens within this many seconds, else skip.
    HoldUpTo(u64),
}

/// `wait for EVENT up to DURATION` and where its cases go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventWait {
    /// The event's name.
    pub event: String,
    /// How long at most: elapsed seconds, or calendar days.
    pub timeout: Period,
    /// The `on event` block; without one the lead goes on.
    pub on_event: Option<Pc>,
    /// The `on timeout` block; without one the lead goes on.
    pub on_timeout: Option<Pc>,
}

/// `wait until [next] [DAYS] HH:MM [in lead|account timezone]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockWait {
    /// The minute of the day.
    pub minute: u16,
    /// The days it may end on as bits, Monday = bit 0.
    pub days: u8,
    /// Whether today never counts.
    pub next: bool,
    /// Whose clock it reads.
    pub zone: WindowZone,
}

/// `wait until FIELD [+|- DURATION]` and where its cases go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWait {
    /// The datetime field's slot.
    pub slot: u32,
    /// The field's name, for timelines.
    pub name: String,
    /// The offset: elapsed seconds, or calendar days in the account timezone.
    pub offset: Period,
    /// Whether the offset is subtracted.
    pub before: bool,
    /// The `if missing` block; without one the lead goes on at once.
    pub missing: Option<Pc>,
    /// The `if past` block; without one the lead goes on at once.
    pub past: Option<Pc>,
}

/// A `split`: each lead takes one variant, drawn from the workflow's name,
/// the split's key and the lead's id alone, so a lead takes the same
/// variant in every run, simulation and version that keeps the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The split step's id: its label, else its structural path.
    pub key: String,
    /// The variants, in the order written.
    pub variants: Vec<SplitVariant>,
}

/// One variant of a [`Split`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitVariant {
    /// The variant's name.
    pub name: String,
    /// Its share of leads, in percent.
    pub percent: u32,
    /// Its first instruction: an [`Op::Variant`].
    pub target: Pc,
}

impl Split {
    /// The variant a lead takes: a SHA-256 of the workflow's name, the
    /// split's key and the lead's id, read as a number, picks one of 100
    /// buckets, and the variants own consecutive runs of buckets by share.
    pub fn draw(&self, workflow: &str, lead: &str) -> Option<&SplitVariant> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(workflow)
            .chain_update([0])
            .chain_update(&self.key)
            .chain_update([0])
            .chain_update(lead)
            .finalize();
        let mut head = [0; 8];
        head.copy_from_slice(&digest[..8]);
        let bucket = u64::from_be_bytes(head) % 100;
        let mut bound = 0;
        self.variants
            .iter()
            .find(|variant| {
                bound += u64::from(variant.percent);
                bucket < bound
            })
            .or(self.variants.last())
    }
}

/// When a lead may enter a workflow again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReEntryPolicy {
    /// Once per lead, ever.
    Never,
    /// Whenever no enrollment of the lead is active.
    Always,
    /// Once this much time passed since the previous entry.
    After(Period),
}

/// A field slot: where a value lives in a lead or an event payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The field's name (`event.` prefixed for payload fields).
    pub name: String,
    /// Its type.
    pub ty: ValueType,
    /// Where its values come from.
    pub source: SlotSource,
}

/// Where a slot's values come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotSource {
    /// The lead record (standard and declared fields).
    Lead,
    /// An http or prompt extraction, kept on the lead.
    Extracted,
    /// The payload of an event: the one that started the enrollment
    /// (`event.FIELD`), or one a goal waits for (`EVENT.FIELD`).
    Event,
}

/// Who enters the workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// The event that starts enrollments; `None` for criteria triggers.
    pub event: Option<String>,
    /// Criteria the lead (and payload) must meet.
    pub criteria: Option<u32>,
}

/// `goal NAME when CRITERIA` or `goal NAME on EVENT [when CRITERIA]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    /// The goal's name.
    pub name: String,
    /// The event it waits for; `None` for goals on the lead's fields,
    /// tested whenever they may have changed.
    #[serde(default)]
    pub event: Option<String>,
    /// Its criteria, in [`Program::conditions`]; over the event's payload
    /// (slots `EVENT.FIELD`) for goals on an event.
    pub condition: Option<u32>,
}

impl Goal {
    /// The criteria of a goal on the lead's fields; `None` for goals on an
    /// event, which only their event tests.
    pub fn on_fields(&self) -> Option<u32> {
        self.condition.filter(|_| self.event.is_none())
    }
}

/// An outgoing window in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// When it is open.
    pub hours: Hours,
    /// Whose timezone it is read in.
    pub zone: WindowZone,
    /// Whether it is closed all day on the program's holidays.
    #[serde(default)]
    pub skip_holidays: bool,
}

/// Where an instruction came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The step's id: its label, else its structural path (`steps/3`,
    /// `sdr-call/on answered/1`).
    pub label: String,
    /// The span of the step's first line.
    pub span: Span,
}

/// One instruction. Targets are instruction indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Performs an effect; a permanent failure goes to `on_error`, or fails
    /// the enrollment when there is none.
    Effect {
        /// The effect, in [`Program::effects`].
        effect: u32,
        /// Where a permanent failure goes.
        on_error: Option<Pc>,
    },
    /// Places a call and goes where its outcome says (the next instruction
    /// when the outcome has no branch).
    Call {
        /// The effect, in [`Program::effects`].
        effect: u32,
        /// Targets for answered, voicemail, no answer and failed.
        outcomes: [Option<Pc>; 4],
    },
    /// Waits this many seconds of elapsed time.
    WaitSeconds(u32),
    /// Waits until the same wall-clock time this many days later.
    WaitDays(u32),
    /// Waits until this minute of the day in the account timezone.
    WaitUntil(u16),
    /// Waits for a time of day on chosen days (in [`Program::clock_waits`]).
    WaitClock(u32),
    /// Waits until a field's instant (in [`Program::field_waits`]).
    WaitField(u32),
    /// Waits for an event or its timeout (in [`Program::event_waits`]).
    WaitEvent(u32),
    /// Waits this many business days (weekdays, holidays left out), to the
    /// same wall-clock time.
    WaitBusinessDays(u32),
    /// Goes to `target` if the condition holds, recording the branch.
    Test {
        /// The criteria, in [`Program::conditions`].
        condition: u32,
        /// The branch name, in [`Program::names`].
        branch: u32,
        /// The branch's first instruction.
        target: Pc,
    },
    /// Takes a condition's `else` arm.
    Else(Pc),
    /// Goes to the variant of the split (in [`Program::splits`]) the lead draws.
    Split(u32),
    /// The start of a split's variant, named in [`Program::names`]: records
    /// that the lead took it.
    Variant(u32),
    /// No branch matched and there is no `else`: the lead exits.
    NoMatch,
    /// Goes to another instruction (goto, or the end of a block).
    Jump(Pc),
    /// `goto ... up to N times`: goes to `target` the first `limit` times
    /// an enrollment reaches it, then on to the next instruction.
    Loop {
        /// Where it goes back to.
        target: Pc,
        /// How many times at most.
        limit: u32,
    },
    /// Leaves the workflow, with a reason from [`Program::texts`].
    Exit(Option<u32>),
    /// The end of the steps: the enrollment is complete.
    Complete,
}

impl Op {
    /// Whether the instruction suspends an enrollment for a time.
    pub fn is_wait(&self) -> bool {
        matches!(
            self,
            Op::WaitSeconds(_)
                | Op::WaitDays(_)
                | Op::WaitUntil(_)
                | Op::WaitClock(_)
                | Op::WaitField(_)
                | Op::WaitEvent(_)
                | Op::WaitBusinessDays(_)
        )
    }
}

/// Index of a call outcome in [`Op::Call`]'s targets.
pub fn outcome_index(outcome: Outcome) -> Option<usize> {
    match outcome {
        Outcome::Answered => Some(0),
        Outcome::Voicemail => Some(1),
        Outcome::NoAnswer => Some(2),
        Outcome::Failed => Some(3),
        Outcome::Error => None,
    }
}

/// The call outcomes in [`Op::Call`] order.
pub const CALL_OUTCOMES: [Outcome; 4] = [
    Outcome::Answered,
    Outcome::Voicemail,
    Outcome::NoAnswer,
    Outcome::Failed,
];

impl Program {
    /// Whether any channel has an outgoing window.
    pub fn has_windows(&self) -> bool {
        self.windows.iter().any(Option::is_some)
    }

    /// Whether the trigger, a goal or a `wait for` waits for the event `name`.
    pub fn uses_event(&self, name: &str) -> bool {
        self.events_used().any(|used| used == name)
    }

    /// The events the trigger, the goals and the `wait for` steps wait for
    /// (an event may come more than once).
    pub fn events_used(&self) -> impl Iterator<Item = &str> {
        let trigger = self.trigger.event.as_deref();
        let goals = self.goals.iter().filter_map(|goal| goal.event.as_deref());
        let waits = self.event_waits.iter().map(|wait| wait.event.as_str());
        trigger.into_iter().chain(goals).chain(waits)
    }

    /// Whether a `wait for` step waits for the event `name`.
    pub fn waits_for(&self, name: &str) -> bool {
        self.event_waits.iter().any(|wait| wait.event == name)
    }
    /// The instruction an enrollment at `pc` with `status` stands at: the
    /// wait it waits in (its `pc` is already past it), else `pc` itself.
    pub fn standing_at(&self, pc: Pc, status: crate::vm::Status) -> Pc {
        let waited = pc
            .checked_sub(1)
            .filter(|_| status == crate::vm::Status::Waiting)
            .filter(|at| self.code.get(*at as usize).is_some_and(Op::is_wait));
        waited.unwrap_or(pc)
    }

    /// The `wait until` an enrollment at `pc` with `status` waits in, as
    /// its instruction and minute of the day, if it waits in one.
    pub fn clock_wait(&self, pc: Pc, status: crate::vm::Status) -> Option<(Pc, u16)> {
        let at = self.standing_at(pc, status);
        match self.code.get(at as usize) {
            Some(Op::WaitUntil(minute)) if at != pc => Some((at, *minute)),
            _ => None,
        }
    }

    /// The slot of a field by name.
    pub fn slot(&self, name: &str) -> Option<u32> {
        self.slots
            .iter()
            .position(|slot| slot.name == name)
            .map(|index| index as u32)
    }

    /// What the step with this effect does outside its window, when it is
    /// not to hold.
    pub fn outside(&self, effect: u32) -> Option<Outside> {
        self.outside
            .iter()
            .find(|(known, _)| *known == effect)
            .map(|(_, outside)| *outside)
    }

    /// The dates a window is closed on: the holidays, if it skips them.
    pub fn closed_dates(&self, window: &Window) -> &[chrono::NaiveDate] {
        if window.skip_holidays {
            &self.holidays
        } else {
            &[]
        }
    }

    /// The window of a channel, if one is set.
    pub fn window(&self, channel: Channel) -> Option<&Window> {
        self.windows[channel_index(channel)].as_ref()
    }
}

/// Index of a channel in [`Program::windows`].
pub fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::Email => 0,
        Channel::Text => 1,
        Channel::Call => 2,
    }
}

/// Why an artifact could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not an artifact at all, or a damaged one.
    #[error("not a compiled flowc program (or a damaged one): {0}")]
    Corrupt(String),
    /// Written by another version of the format.
    #[error(
        "compiled with artifact format version {found}, but this flowc reads version {expected}: \
         build it again with `flowc build`"
    )]
    Incompatible {
        /// The version in the file.
        found: u32,
        /// The version this flowc reads.
        expected: u32,
    },
}

/// Just the header of an artifact, read before the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Artifact {
    /// The artifact as bytes (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads an artifact, checking its format tag and version first.
    pub fn from_bytes(bytes: &[u8]) -> Result<Artifact, LoadError> {
        let header: Header =
            serde_json::from_slice(bytes).map_err(|error| LoadError::Corrupt(error.to_string()))?;
        if header.format != FORMAT_NAME {
            return Err(LoadError::Corrupt(format!(
                "its format is {:?}",
                header.format
            )));
        }
        if header.version != FORMAT_VERSION {
            return Err(LoadError::Incompatible {
                found: header.version,
                expected: FORMAT_VERSION,
            });
        }
        serde_json::from_slice(bytes).map_err(|error| LoadError::Corrupt(error.to_string()))
    }
}
