//! Several workflows simulated on one virtual clock, as they run live:
//! each step of each workflow in time order (at one instant, in the order
//! the workflows are given), so that what they share — the contact
//! policy's touches — is counted as it would be live.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::policy::{ContactPolicy, Ledger};
use super::recorder::Recorder;
use super::{Input, Simulation};
use crate::bytecode::Program;

/// A simulation of each program whose channels answer with `fixtures` and
/// hold messages to `policy`, counting every touch in one shared ledger;
/// `keep_timeline` keeps every event.
pub fn policed<'p>(
    programs: impl IntoIterator<Item = &'p Program>,
    fixtures: &Map<String, Json>,
    policy: &Rc<ContactPolicy>,
    keep_timeline: bool,
) -> Vec<Simulation<'p>> {
    let ledger = Rc::new(RefCell::new(Ledger::default()));
    programs
        .into_iter()
        .map(|program| {
            let mut channels = Recorder::new(fixtures.clone(), false);
            channels.police(Rc::clone(policy), Rc::clone(&ledger));
            Simulation::new(program, channels, keep_timeline)
        })
        .collect()
}

/// Runs each simulation on its inputs from `start` until `until`,
/// interleaved in time order.
pub fn run_together(
    simulations: &mut [Simulation<'_>],
    inputs: Vec<Vec<Input>>,
    start: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) {
    for (simulation, inputs) in simulations.iter_mut().zip(inputs) {
        simulation.begin(inputs, start, until);
    }
    // What each simulation does next, kept so that only the one that
    // moved is asked again.
    let mut next: Vec<_> = simulations.iter_mut().map(Simulation::next_at).collect();
    while let Some((index, due)) = next
        .iter()
        .enumerate()
        .filter_map(|(index, due)| Some((index, (*due)?)))
        .min_by_key(|(index, (at, _))| (*at, *index))
    {
        simulations[index].step(due);
        next[index] = simulations[index].next_at();
    }
    for simulation in simulations {
        simulation.finish();
    }
}
