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
}

/// Whether a lead may enter now: no active enrollment, the re-entry policy,
/// the look-back, the trigger's criteria over its fields and the event
/// payload, and no goal already met (entering only to leave at once would
/// be noise).
pub fn may_enter(
    vm: &Vm<'_>,
    history: History,
    fields: &[Option<Value>],
    payload: &[Option<Value>],
    now: DateTime<Utc>,
) -> bool {
    let program = vm.program();
    if history.active {
        return false;
    }
    let may_reenter = match (program.reentry, history.last_entry) {
        (_, None) => true,
        (ReEntryPolicy::Never, Some(_)) => false,
        (ReEntryPolicy::Always, Some(_)) => true,
        (ReEntryPolicy::After(period), Some(last)) => now >= after(program, last, period),
    };
    let active_recently = history.last_activity.is_none_or(|last| {
        last >= calendar::sub_days(program.timezone, now, u64::from(program.look_back_days))
    });
    may_reenter
        && active_recently
        && vm.trigger_holds(fields, payload, now)
        && !vm.goal_met(fields, payload, now)
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
pub fn payload(program: &Program, data: &Map<String, Json>) -> Result<Vec<Option<Value>>, String> {
    let first = program
        .slots
        .iter()
        .position(|slot| slot.source == SlotSource::Event)
        .unwrap_or(program.slots.len());
    program.slots[first..]
        .iter()
        .map(|slot| {
            let name = slot.name.trim_start_matches("event.");
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
