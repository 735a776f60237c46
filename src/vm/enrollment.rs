//! An enrollment's state, what happens to it, and how an activation ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bytecode::Pc;
use crate::value::Value;

/// Where an enrollment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Running now.
    Active,
    /// Suspended on a wait or time-of-day step.
    Waiting,
    /// Suspended at a channel step: a closed window or a retry.
    Held,
    /// Ran past the last step.
    Completed,
    /// Left through `exit`, a goal, or a condition no branch matched.
    Exited,
    /// An effect failed permanently with no branch for it.
    Failed,
}

impl Status {
    /// The status as tables print it.
    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Waiting => "waiting",
            Status::Held => "held",
            Status::Completed => "completed",
            Status::Exited => "exited",
            Status::Failed => "failed",
        }
    }

    /// The status a name stands for ([`Status::name`] read back); unknown
    /// names are `Active`, which the runner resumes.
    pub fn from_name(name: &str) -> Status {
        match name {
            "waiting" => Status::Waiting,
            "held" => Status::Held,
            "completed" => Status::Completed,
            "exited" => Status::Exited,
            "failed" => Status::Failed,
            _ => Status::Active,
        }
    }

    /// Whether the enrollment is over.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Completed | Status::Exited | Status::Failed)
    }
}

/// One lead's passage through one workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct Enrollment {
    /// The lead's index in the run.
    pub lead: u32,
    /// The enrollment's number among the lead's enrollments in this
    /// workflow, from 1 (part of idempotency keys).
    pub number: u32,
    /// The next instruction.
    pub pc: Pc,
    /// Where it stands.
    pub status: Status,
    /// When it resumes, while waiting or held.
    pub wake: DateTime<Utc>,
    /// When it entered.
    pub entered: DateTime<Utc>,
    /// Attempts made at the current effect.
    pub attempts: u32,
    /// Effects carried out so far (part of idempotency keys).
    pub effects: u32,
    /// The payload of the event that started it, by event slot.
    pub event: Option<Box<[Option<Value>]>>,
    /// How many times it went back at each bounded `goto`, by instruction.
    pub loops: Vec<(Pc, u32)>,
}

impl Enrollment {
    /// A new enrollment of `lead` entering at `now`.
    pub fn new(
        lead: u32,
        number: u32,
        now: DateTime<Utc>,
        event: Option<Box<[Option<Value>]>>,
    ) -> Self {
        Enrollment {
            lead,
            number,
            pc: 0,
            status: Status::Active,
            wake: now,
            entered: now,
            attempts: 0,
            effects: 0,
            event,
            loops: Vec::new(),
        }
    }
}

impl Enrollment {
    /// The loop counts as stored: `PC:COUNT` pairs joined by `,`; `None`
    /// when there are none ([`Enrollment::read_loops`] reads it back).
    pub fn loops_key(&self) -> Option<String> {
        let pairs: Vec<String> = self
            .loops
            .iter()
            .map(|(pc, count)| format!("{pc}:{count}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join(","))
    }

    /// Reads loop counts stored by [`Enrollment::loops_key`]; pairs that
    /// do not read are dropped.
    pub fn read_loops(key: Option<&str>) -> Vec<(Pc, u32)> {
        key.unwrap_or_default()
            .split(',')
            .filter_map(|pair| {
                let (pc, count) = pair.split_once(':')?;
                Some((pc.parse().ok()?, count.parse().ok()?))
            })
            .collect()
    }
}

/// What happened, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The lead entered the workflow.
    Entered,
    /// An effect was carried out.
    Sent,
    /// A channel step was skipped: the lead has no address for it.
    Skipped,
    /// The lead is held at a channel step.
    Held,
    /// A hold ended.
    Released,
    /// The lead waits (a duration or a time of day).
    Waited,
    /// A condition branch or call outcome was taken.
    Branched,
    /// The lead left the workflow.
    Exited,
    /// The lead ran past the last step.
    Completed,
    /// The enrollment failed.
    Failed,
    /// An effect nothing depends on failed for good and the enrollment
    /// went on (`on send failure continue`).
    Undelivered,
    /// The provider confirmed an effect reached its recipient (a text's
    /// delivery receipt); live runs only.
    Delivered,
    /// The entry rules turned the lead away (the detail says which and
    /// why); it belongs to no enrollment.
    Refused,
}

impl EventKind {
    /// Whether the event happened at a step (entering and being turned
    /// away happen before the first).
    pub fn at_a_step(self) -> bool {
        !matches!(self, EventKind::Entered | EventKind::Refused)
    }

    /// The kind as timelines print it.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Entered => "entered",
            EventKind::Sent => "sent",
            EventKind::Skipped => "skipped",
            EventKind::Held => "held",
            EventKind::Released => "released",
            EventKind::Waited => "waited",
            EventKind::Branched => "branched",
            EventKind::Exited => "exited",
            EventKind::Completed => "completed",
            EventKind::Failed => "failed",
            EventKind::Undelivered => "undelivered",
            EventKind::Delivered => "delivered",
            EventKind::Refused => "refused",
        }
    }
}

/// A timeline event of one enrollment.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The instruction it happened at (its origin names the step).
    pub pc: Pc,
    /// What happened.
    pub kind: EventKind,
    /// Details: what was sent, until when, which branch, why.
    pub detail: String,
}

/// Why an enrollment ended: a value to group and count by, never free
/// text (an exit reason or a failure may hold lead data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ending {
    /// Ran past the last step.
    Completed,
    /// Reached the goal with this index: a conversion.
    Goal(u32),
    /// Left through the `exit` step at this instruction: disqualified.
    Exit(Pc),
    /// A condition at this instruction matched no branch and has no `else`.
    NoBranch(Pc),
    /// The step at this instruction failed.
    Failed(Pc),
}

impl Ending {
    /// The status it leaves the enrollment in.
    pub fn status(self) -> Status {
        match self {
            Ending::Completed => Status::Completed,
            Ending::Goal(_) | Ending::Exit(_) | Ending::NoBranch(_) => Status::Exited,
            Ending::Failed(_) => Status::Failed,
        }
    }

    /// What kind of ending it is, for counts that tell conversions from
    /// disqualifications: `completed`, `goal`, `exit`, `failed`.
    pub fn category(self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::Goal(_) => "goal",
            Ending::Exit(_) | Ending::NoBranch(_) => "exit",
            Ending::Failed(_) => "failed",
        }
    }

    /// The ending as stored: `completed`, `goal:INDEX`, `exit:PC`,
    /// `no-branch:PC` or `failed:PC` ([`Ending::from_key`] reads it back).
    pub fn key(self) -> String {
        match self {
            Ending::Completed => "completed".to_owned(),
            Ending::Goal(index) => format!("goal:{index}"),
            Ending::Exit(pc) => format!("exit:{pc}"),
            Ending::NoBranch(pc) => format!("no-branch:{pc}"),
            Ending::Failed(pc) => format!("failed:{pc}"),
        }
    }

    /// The ending a [`Ending::key`] stands for.
    pub fn from_key(key: &str) -> Option<Ending> {
        if key == "completed" {
            return Some(Ending::Completed);
        }
        let (kind, number) = key.split_once(':')?;
        let number: u32 = number.parse().ok()?;
        match kind {
            "goal" => Some(Ending::Goal(number)),
            "exit" => Some(Ending::Exit(number)),
            "no-branch" => Some(Ending::NoBranch(number)),
            "failed" => Some(Ending::Failed(number)),
            _ => None,
        }
    }

    /// A stable description of it in `program`: `goal booked-demo`,
    /// `exit at steps/5/else/1`, `no branch matched at steps/2`,
    /// `failed at company-lookup`.
    pub fn describe(self, program: &crate::bytecode::Program) -> String {
        let step = |pc: Pc| {
            program
                .origins
                .get(pc as usize)
                .map_or_else(|| format!("@{pc}"), |origin| origin.label.clone())
        };
        match self {
            Ending::Completed => "completed".to_owned(),
            Ending::Goal(index) => match program.goals.get(index as usize) {
                Some(goal) => format!("goal {}", goal.name),
                None => format!("goal {index}"),
            },
            Ending::Exit(pc) => format!("exit at {}", step(pc)),
            Ending::NoBranch(pc) => format!("no branch matched at {}", step(pc)),
            Ending::Failed(pc) => format!("failed at {}", step(pc)),
        }
    }
}

/// How an activation of an enrollment ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advance {
    /// Suspended until the instant (status waiting or held).
    Suspended(DateTime<Utc>),
    /// Over: completed, exited or failed, and why.
    Ended(Ending),
    /// Waiting for an effect recorded in the outbox to be carried out;
    /// run it again once the answer is in.
    InFlight,
}
