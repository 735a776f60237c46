//! Steps and the blocks they hold: conditions, splits, waits and their
//! branches, gotos (effect steps are in `effects`).

use super::{Clock, DaySpec, Duration, Effect, Expr, FieldRef, Ident, Text, WindowZone};
use crate::span::{Span, Spanned};
/// A `steps` section.
#[derive(Clone, Debug, PartialEq)]
pub struct StepsSection {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The `steps` keyword.
    pub span: Span,
}

/// One step, with the label written before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `label NAME` on the line before, if any.
    pub label: Option<Ident>,
    /// What the step does.
    pub kind: StepKind,
    /// The step's first line.
    pub span: Span,
}

impl Step {
    /// The blocks nested in the step, in the order written: a condition's
    /// arms, a split's variants, an effect's outcome branches.
    pub fn blocks(&self) -> Vec<Block<'_>> {
        match &self.kind {
            StepKind::Condition(condition) => condition
                .arms
                .iter()
                .map(|arm| Block {
                    title: match &arm.test {
                        ArmTest::When { name, .. } => format!("branch {}", name.name),
                        ArmTest::Else => "else".to_owned(),
                    },
                    kind: BlockKind::Branch,
                    span: arm.span,
                    steps: &arm.steps,
                    heard: None,
                })
                .collect(),
            StepKind::Split(split) => split
                .variants
                .iter()
                .map(|variant| Block {
                    title: format!("variant {}", variant.name.name),
                    kind: BlockKind::Variant,
                    span: variant.span,
                    steps: &variant.steps,
                    heard: None,
                })
                .collect(),
            StepKind::WaitUntilField(wait) => wait
                .branches
                .iter()
                .map(|branch| Block {
                    title: format!("if {}", branch.case.node.keyword()),
                    kind: BlockKind::Branch,
                    span: branch.case.span,
                    steps: &branch.steps,
                    heard: None,
                })
                .collect(),
            StepKind::WaitForEvent(wait) => wait
                .branches
                .iter()
                .map(|branch| Block {
                    title: format!("on {}", branch.case.node.keyword()),
                    kind: BlockKind::Branch,
                    span: branch.case.span,
                    steps: &branch.steps,
                    heard: (branch.case.node == EventCase::Event)
                        .then_some(wait.event.name.as_str()),
                })
                .collect(),
            StepKind::Effect(effect) => effect
                .outcomes
                .iter()
                .map(|branch| Block {
                    title: format!("on {}", branch.outcome.node.keyword()),
                    kind: BlockKind::Outcome,
                    span: branch.outcome.span,
                    steps: &branch.steps,
                    heard: None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A list of steps nested in a step.
#[derive(Clone, Debug)]
pub struct Block<'a> {
    /// How the block is headed: `branch big`, `else`, `variant a`,
    /// `on answered` (the path its steps are identified under).
    pub title: String,
    /// What kind of block it is.
    pub kind: BlockKind,
    /// Its heading line.
    pub span: Span,
    /// Its steps.
    pub steps: &'a [Step],
    /// The event whose payload `event.FIELD` reads inside: the one an `on
    /// event` block heard; `None`: the same as around the step.
    pub heard: Option<&'a str>,
}

/// The kinds of nested block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// A condition's branch or `else`.
    Branch,
    /// A split's variant.
    Variant,
    /// An effect's `on` branch.
    Outcome,
}

/// The kinds of step.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// A step with an outside effect: send, call, notify, http, prompt.
    Effect(Effect),
    /// `wait 2 days`.
    Wait(Duration),
    /// `wait until [next] [DAYS] 09:30 [in lead timezone]`: the
    /// time-of-day step.
    WaitUntil(ClockWait),
    /// `wait until demo_at - 1 hour`: a datetime field and an offset.
    WaitUntilField(FieldWait),
    /// `wait 2 business days`: Monday to Friday, holidays left out.
    WaitBusinessDays(Spanned<u32>),
    /// `wait for call_ended up to 2 days`: an event, or the timeout.
    WaitForEvent(EventWait),
    /// `condition` with its branches.
    Condition(Condition),
    /// `split` with its variants: an A/B test.
    Split(Split),
    /// `goto LABEL [up to N times]`.
    Goto(Goto),
    /// `exit ["reason"]`.
    Exit(Option<Text>),
}

/// A `condition` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Branches and `else`, in the order written.
    pub arms: Vec<Arm>,
}

/// `wait until [next] [DAYS] HH:MM [in lead|account timezone]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockWait {
    /// `next`: never today, the first matching day after it.
    pub next: bool,
    /// The days it may end on, as in a window; `None`: any day.
    pub days: Option<Vec<Spanned<DaySpec>>>,
    /// The time of day.
    pub clock: Clock,
    /// Whose clock it reads; `None`: the account's.
    pub zone: Option<WindowZone>,
}

/// `wait until FIELD [+|- DURATION]`, with `if missing` / `if past`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldWait {
    /// The datetime field (or `event.FIELD`).
    pub field: FieldRef,
    /// The offset from it, if any.
    pub offset: Option<Offset>,
    /// `if missing` and `if past` blocks, in the order written.
    pub branches: Vec<WaitBranch>,
}

/// `wait for EVENT up to DURATION`, with `on event` / `on timeout`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventWait {
    /// The event waited for.
    pub event: Ident,
    /// How long at most.
    pub timeout: Duration,
    /// `on event` and `on timeout` blocks, in the order written.
    pub branches: Vec<EventBranch>,
}

/// `on event` or `on timeout` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBranch {
    /// Which case.
    pub case: Spanned<EventCase>,
    /// Steps taken in it (`event.FIELD` in `on event` reads the event's
    /// payload).
    pub steps: Vec<Step>,
}

/// How a wait for an event ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventCase {
    /// The event happened to the lead.
    Event,
    /// It did not within the time.
    Timeout,
}

impl EventCase {
    /// How it is written after `on`.
    pub fn keyword(self) -> &'static str {
        match self {
            EventCase::Event => "event",
            EventCase::Timeout => "timeout",
        }
    }
}

/// `+ 2 hours` or `- 1 day` after a field.
#[derive(Clone, Debug, PartialEq)]
pub struct Offset {
    /// Whether it is subtracted (`-`).
    pub before: bool,
    /// How much.
    pub duration: Duration,
}

/// `if missing` or `if past` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitBranch {
    /// Which case.
    pub case: Spanned<WaitCase>,
    /// Steps taken in it.
    pub steps: Vec<Step>,
}

/// The cases in which a wait on a field does not wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitCase {
    /// The field has no value.
    Missing,
    /// The instant has passed when the step is reached.
    Past,
}

impl WaitCase {
    /// How it is written after `if`.
    pub fn keyword(self) -> &'static str {
        match self {
            WaitCase::Missing => "missing",
            WaitCase::Past => "past",
        }
    }
}

/// `goto LABEL [up to N times]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Goto {
    /// The label gone to.
    pub label: Ident,
    /// How many times one enrollment goes there at most; past it, the lead
    /// goes on after the `goto`. `None`: every time.
    pub limit: Option<Spanned<u32>>,
}

/// A `split` block: each lead takes one variant, by a draw that depends
/// only on the workflow, the split and the lead.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The variants, in the order written.
    pub variants: Vec<Variant>,
}

/// `variant NAME PERCENT%` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The variant's name.
    pub name: Ident,
    /// The share of leads it gets, in percent.
    pub percent: Spanned<u32>,
    /// Steps its leads take.
    pub steps: Vec<Step>,
    /// The variant's first line.
    pub span: Span,
}

/// A `branch NAME when ...` or an `else`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    /// The test, or `else`.
    pub test: ArmTest,
    /// Steps taken when it matches.
    pub steps: Vec<Step>,
    /// The arm's first line.
    pub span: Span,
}

/// What an arm tests.
#[derive(Clone, Debug, PartialEq)]
pub enum ArmTest {
    /// `branch NAME when CRITERIA`.
    When {
        /// The branch's name.
        name: Ident,
        /// Its criteria.
        criteria: Expr,
    },
    /// `else`.
    Else,
}
