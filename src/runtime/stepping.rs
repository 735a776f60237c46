//! How a simulation moves its virtual clock: inputs, wake-ups and
//! re-tests in time order, one at a time, so that several simulations
//! can be stepped together (see [`super::together`]).

use chrono::{DateTime, Utc};

use super::{Input, Simulation};
use crate::calendar;

/// How long after the last input a run without `until` may go on.
const HORIZON_DAYS: u64 = 10 * 365;

/// How often (in activations) `on_progress` is called.
const PROGRESS_EVERY: u64 = 4096;

/// What a simulation does next, in this order at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    /// The next input arrives.
    Input,
    /// A suspended enrollment wakes.
    Wake,
    /// A lead's trigger or goals are tested again.
    Retest,
}

/// When an input arrives in a run from `start`: its own time, or `start`
/// for one without (or before it).
fn arrival(input: &Input, start: DateTime<Utc>) -> DateTime<Utc> {
    input.at().unwrap_or(start).max(start)
}

impl Simulation<'_> {
    /// Runs every input in time order from `start`, with the enrollments
    /// they start, until `until` (or until nothing is left to do).
    pub fn run(&mut self, inputs: Vec<Input>, start: DateTime<Utc>, until: Option<DateTime<Utc>>) {
        self.begin(inputs, start, until);
        while let Some(due) = self.next_at() {
            self.step(due);
        }
        self.finish();
    }

    /// Takes the inputs to run from `start` until `until` (without one,
    /// ten years past the last input, so that a loop through waits ends).
    pub(super) fn begin(
        &mut self,
        mut inputs: Vec<Input>,
        start: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) {
        let arrival = |input: &Input| arrival(input, start);
        if !inputs.is_sorted_by_key(arrival) {
            inputs.sort_by_key(arrival);
        }
        let last_input = inputs.last().map_or(start, arrival);
        self.until = until.or_else(|| {
            self.horizon = Some(calendar::add_days(
                self.program().timezone,
                last_input,
                HORIZON_DAYS,
            ));
            self.horizon
        });
        self.start = start;
        self.by_id.reserve(inputs.len());
        self.leads.reserve(inputs.len());
        self.values.reserve(inputs.len() * self.slots);
        self.pending = inputs.into_iter().peekable();
    }

    /// What is due next, and when, if before the end: an input first, then
    /// a wake-up, then a re-test, at one instant.
    pub(super) fn next_at(&mut self) -> Option<(DateTime<Utc>, Due)> {
        let start = self.start;
        let next_input = self.pending.peek().map(|input| arrival(input, start));
        let next_wake = self.queue.peek().map(|(at, _)| at);
        let next_retest = self.retests.peek().map(|(at, _)| at);
        [
            next_input.map(|at| (at, Due::Input)),
            next_wake.map(|at| (at, Due::Wake)),
            next_retest.map(|at| (at, Due::Retest)),
        ]
        .into_iter()
        .flatten()
        .min()
        .filter(|(now, _)| self.until.is_none_or(|until| *now <= until))
    }

    /// Does the one thing [`Simulation::next_at`] said is due at `now`.
    pub(super) fn step(&mut self, (now, due): (DateTime<Utc>, Due)) {
        match due {
            Due::Input => {
                if let Some(input) = self.pending.next() {
                    self.input(input, now);
                }
            }
            Due::Wake => {
                if let Some(id) = self.queue.pop() {
                    self.wake(id, now);
                }
            }
            Due::Retest => {
                if let Some(index) = self.retests.pop() {
                    self.retest(index, now);
                }
            }
        }
        self.activations += 1;
        if self.activations % PROGRESS_EVERY == 0 {
            if let Some(progress) = self.on_progress.as_mut() {
                progress(now);
            }
        }
    }

    /// Counts what the run left for the summary.
    pub(super) fn finish(&mut self) {
        self.summary.finish(&self.enrollments);
        if self.queue.is_empty() {
            self.horizon = None;
        }
    }
}
