//! Several workflows simulated on one virtual clock, as they run live:
//! each step of each workflow in time order (at one instant, in the order
//! the workflows are given), so that what they share — the contact
//! policy's touches — is counted as it would be live.

use chrono::{DateTime, Utc};

use super::{Input, Simulation};

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
    // The instant each simulation is next due, kept so that only the one
    // that moved is asked again.
    let mut next: Vec<Option<DateTime<Utc>>> =
        simulations.iter_mut().map(Simulation::next_at).collect();
    while let Some((index, now)) = next
        .iter()
        .enumerate()
        .filter_map(|(index, at)| Some((index, (*at)?)))
        .min_by_key(|(index, at)| (*at, *index))
    {
        simulations[index].step(now);
        next[index] = simulations[index].next_at();
    }
    for simulation in simulations {
        simulation.finish();
    }
}
