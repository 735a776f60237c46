//! Running stored enrollments: loading them with their leads, entering
//! leads, testing goals, and committing what an activation changed.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use super::delivered::{late_delivery, note_late, reports_delivery, Delivered};
use super::events;
use super::loaded::Loaded;
use super::outbox::{Outbox, Recorded};
use super::recording::Answering;
use super::stored_leads::{
    history, lead_slots, record_refusal, set_refused, set_trigger_state, Applicant,
};
use super::timeline_events::insert_events;
use super::Version;
use crate::bytecode::{Program, SlotSource};
use crate::runtime::entry;
use crate::store::{
    instant, millis, params, Row as Columns, StoreError, ToValue, Tx, Value as Column,
};
use crate::value::Value;
use crate::vm::{Advance, Context, Enrollment, Event, EventKind, Response, Status, Vm};

/// Runs a stored enrollment on from where it stands (a version not loaded
/// yet, published since, is left for the next tick).
pub(super) fn resume(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    id: i64,
    now: DateTime<Utc>,
    delivered: &Delivered<'_>,
    answering: Option<&Answering>,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let lead = match loaded.take(transaction, id)? {
        Some((row, _)) if row.enrollment.status.is_final() => {
            return late_delivery(transaction, versions, &row, now, delivered);
        }
        Some((row, fields)) => {
            let lead = row.lead.clone();
            let moment = Moment {
                at: now,
                delivered: Some(delivered),
                answering,
            };
            run_loaded(transaction, versions, row, &fields, &moment)?;
            lead
        }
        None => return Ok(()),
    };
    if let Response::Call(outcome) = delivered.response {
        // The call ended: `call_completed` happens to its lead, in every
        // live workflow, after the enrollment that placed it ran on.
        let live: Vec<&Version> = versions.values().filter(|v| v.published).collect();
        let data = crate::schema::call_completed(*outcome);
        events::happen(transaction, &live, "call_completed", &lead, &data, now)
            .map_err(events::EventError::into_store)?;
    }
    Ok(())
}

/// When an activation runs, and what it runs on from.
#[derive(Clone, Copy)]
pub(super) struct Moment<'a> {
    /// The instant the enrollment runs at: when it was due, or reached the
    /// step whose effect was just confirmed (a late runner keeps the
    /// schedule).
    pub(super) at: DateTime<Utc>,
    /// The effect just confirmed, if the enrollment runs on from one.
    pub(super) delivered: Option<&'a Delivered<'a>>,
    /// Who answers the effects the enrollment reaches at once, if anyone
    /// does (the recording carrier); otherwise they wait in the outbox.
    pub(super) answering: Option<&'a Answering>,
}

impl Moment<'_> {
    /// Running at `at`, from no effect, the effects reached left in the
    /// outbox.
    pub(super) fn at(at: DateTime<Utc>) -> Self {
        Moment {
            at,
            delivered: None,
            answering: None,
        }
    }
}

/// Runs a loaded enrollment on from where it stands, at `moment` (from the
/// effect it delivered, if it waited for one).
pub(super) fn run_loaded(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    row: Row,
    fields: &str,
    moment: &Moment<'_>,
) -> Result<(), StoreError> {
    if row.enrollment.status.is_final() {
        return Ok(());
    }
    let Some(version) = versions.get(&row.workflow) else {
        return Ok(());
    };
    run_in(transaction, version, row, fields, moment)
}

/// Runs a loaded enrollment of `version` on from where it stands.
pub(super) fn run_in(
    transaction: &Tx<'_>,
    version: &Version,
    mut row: Row,
    fields: &str,
    moment: &Moment<'_>,
) -> Result<(), StoreError> {
    let fields = match serde_json::from_str(fields)? {
        Json::Object(fields) => fields,
        _ => {
            return Err(StoreError::Invalid(format!(
                "the fields of lead {:?} are not an object",
                row.lead
            )))
        }
    };
    if let Some(text) = &row.event {
        let data: Map<String, Json> = serde_json::from_str(text)?;
        let payload = entry::payload(&version.program, entry::Payload::Trigger, &data)
            .map_err(StoreError::Invalid)?;
        row.enrollment.event = Some(payload.into_boxed_slice());
    }
    if let Some(text) = &row.heard {
        let heard: Map<String, Json> = serde_json::from_str(text)?;
        for (name, data) in &heard {
            let Json::Object(data) = data else { continue };
            let payload = entry::payload(&version.program, entry::Payload::Named(name), data)
                .map_err(StoreError::Invalid)?;
            crate::vm::hear(&mut row.enrollment, &payload);
        }
    }
    let mut lead = LeadState {
        id: &row.lead,
        slots: lead_slots(&version.program, &fields),
        fields: &fields,
    };
    activate(
        transaction,
        version,
        row.id,
        &mut row.enrollment,
        &mut lead,
        moment,
    )
}

/// An enrollment row.
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) workflow: i64,
    pub(super) lead: String,
    pub(super) enrollment: Enrollment,
    /// The trigger event's data, as stored.
    pub(super) event: Option<String>,
    /// The data of the events `wait for` steps heard, by name, as stored.
    pub(super) heard: Option<String>,
}

/// An enrollment row and its lead's fields (as stored).
pub(super) fn read_row(row: &Columns<'_>) -> Result<(Row, String), StoreError> {
    let mut enrollment = Enrollment::new(0, row.get(3)?, instant(row.get(9)?), None);
    enrollment.pc = row.get(4)?;
    enrollment.status = Status::from_name(&row.get::<String>(5)?);
    enrollment.wake = row
        .get::<Option<i64>>(6)?
        .map_or(enrollment.entered, instant);
    enrollment.attempts = row.get(7)?;
    enrollment.effects = row.get(8)?;
    enrollment.loops = Enrollment::read_loops(row.get::<Option<String>>(11)?.as_deref());
    let heard = row.get(12)?;
    Ok((
        Row {
            id: row.get(0)?,
            workflow: row.get(1)?,
            lead: row.get(2)?,
            enrollment,
            event: row.get(10)?,
            heard,
        },
        row.get(13)?,
    ))
}

/// An enrollment and its lead's fields, the enrollment's row locked until
/// the transaction ends: what is written back from it (a delivery's
/// confirmation running it on, a goal ending it) never overwrites what
/// another transaction wrote meanwhile.
pub(super) fn load_enrollment(
    transaction: &Tx<'_>,
    id: i64,
) -> Result<Option<(Row, String)>, StoreError> {
    transaction.query_opt(
        select_rows!("WHERE e.id = ?1 FOR UPDATE OF e"),
        params![id],
        read_row,
    )
}

/// Enrolls a lead if it may enter, and runs it to its first suspension;
/// gives the entry decision (why not, when the lead did not enter).
pub(super) fn try_enroll(
    transaction: &Tx<'_>,
    version: &Version,
    applicant: Applicant<'_>,
    payload: &[Option<Value>],
    stored_payload: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(), entry::Refusal>, StoreError> {
    let program = &version.program;
    let Applicant {
        id: lead,
        fields,
        past,
    } = applicant;
    let past = match past {
        Some(past) => past,
        None => history(transaction, &version.name, lead)?,
    };
    let history = past.history;
    let slots = lead_slots(program, fields);
    let vm = Vm::new(program);
    let decision = entry::decide(&vm, history, &slots, payload, now);
    if program.trigger.event.is_none() {
        let matching = entry::matches(&decision);
        let flip = vm.next_change(&slots, payload, now);
        if (history.matching, history.flip) != (matching, flip) {
            set_trigger_state(transaction, &version.name, lead, matching, flip)?;
        }
    }
    if let Err(refusal) = &decision {
        let workflow = (version.id, version.name.as_str());
        record_refusal(transaction, workflow, lead, refusal, past.refused, now)?;
        return Ok(decision);
    }
    if past.refused != 0 {
        set_refused(transaction, &version.name, lead, 0)?;
    }
    let number = past.enrollments + 1;
    let event = (!payload.is_empty()).then(|| payload.to_vec().into_boxed_slice());
    let mut enrollment = Enrollment::new(0, number, now, event);
    let mut lead = LeadState {
        id: lead,
        slots,
        fields,
    };
    // Run first and inserted as it stands after: one write of the new row,
    // not an insert and an update.
    let ran = run_vm(
        transaction,
        version,
        None,
        &mut enrollment,
        &mut lead,
        &Moment::at(now),
    )?;
    let state = ran.state(&enrollment);
    let entered_at = millis(now);
    let mut columns = params![version.id, lead.id, number, entered_at, stored_payload].to_vec();
    columns.extend(state.values());
    let id = transaction.insert(
        "INSERT INTO enrollments (workflow, lead, number, entered, event,
             pc, status, wake, attempts, effects, hold_reason, ending, loops)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        &columns,
    )?;
    for row in &ran.recorded {
        row.insert(transaction, id)?;
    }
    let entered = Event {
        at: now,
        pc: 0,
        kind: EventKind::Entered,
        detail: String::new(),
    };
    insert_events(transaction, id, program, &[entered]);
    insert_events(transaction, id, program, &ran.events);
    store_extracted(transaction, program, &lead)?;
    Ok(Ok(()))
}

/// What may have made a goal hold.
#[derive(Clone, Copy)]
pub(super) enum GoalTest<'a> {
    /// The lead's fields changed, or time flipped a test of them.
    Fields,
    /// The event `name` happened, with this payload (read for the goals
    /// waiting for it).
    Event {
        /// The event's name.
        name: &'a str,
        /// Its payload.
        payload: &'a [Option<Value>],
    },
}

/// The enrollments of lead `?1` in workflow `?2` (any version) that have
/// not ended: read for every update of a stored lead that a goal may end,
/// so its statuses are comparisons (an `IN` list of more than two values
/// makes SQLite build a table of them each time).
pub(super) const UNENDED: &str =
    "SELECT e.id FROM enrollments e JOIN workflows w ON w.id = e.workflow
     WHERE e.lead = ?1 AND w.name = ?2
       AND e.status <> 'completed' AND e.status <> 'exited' AND e.status <> 'failed'";

/// Ends the lead's active enrollment in this workflow if one of its goals
/// now holds; returns the goal's name if one did.
pub(super) fn test_goals(
    transaction: &Tx<'_>,
    version: &Version,
    lead: &str,
    fields: &Map<String, Json>,
    test: GoalTest<'_>,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let goals = &version.program.goals;
    let relevant = match test {
        GoalTest::Fields => goals.iter().any(|goal| goal.on_fields().is_some()),
        GoalTest::Event { name, .. } => goals.iter().any(|g| g.event.as_deref() == Some(name)),
    };
    if !relevant {
        return Ok(None);
    }
    let active: Vec<i64> =
        transaction.query(UNENDED, params![lead, version.name], |row| row.get(0))?;
    let mut reached = None;
    for id in active {
        let Some((row, _)) = load_enrollment(transaction, id)? else {
            continue;
        };
        let slots = lead_slots(&version.program, fields);
        let vm = Vm::new(&version.program);
        let goal = match test {
            GoalTest::Fields => vm.goal_reached(&row.enrollment, &slots, now),
            GoalTest::Event { name, payload } => vm.goal_on_event(name, &slots, payload, now),
        };
        if let Some((index, goal)) = goal {
            transaction.execute("UPDATE enrollments SET status = 'exited', wake = NULL, remaining = NULL, ending = ?2
                 WHERE id = ?1",
                params![id, crate::vm::Ending::Goal(index).key()],
            )?;
            let event = Event {
                at: now,
                pc: row.enrollment.pc,
                kind: EventKind::Exited,
                detail: format!("goal {goal} reached"),
            };
            insert_events(transaction, id, &version.program, &[event]);
            reached = Some(goal.to_owned());
        }
    }
    Ok(reached)
}

/// Runs an enrollment until it suspends or ends and commits what changed
/// (its state, its events, new outbox rows, extracted fields) to the
/// transaction. An effect just delivered ([`Moment::delivered`]) is
/// answered from it, and its event says when it went out if late.
pub(super) fn activate(
    transaction: &Tx<'_>,
    version: &Version,
    id: i64,
    enrollment: &mut Enrollment,
    lead: &mut LeadState<'_>,
    moment: &Moment<'_>,
) -> Result<(), StoreError> {
    let ran = run_vm(transaction, version, Some(id), enrollment, lead, moment)?;
    let state = ran.state(enrollment);
    let mut columns = state.values().to_vec();
    columns.push(Column::Int(id));
    transaction.execute(
        "UPDATE enrollments SET pc = ?1, status = ?2, wake = ?3, attempts = ?4, effects = ?5,
             hold_reason = ?6, ending = ?7, loops = ?8 WHERE id = ?9",
        &columns,
    )?;
    insert_events(transaction, id, &version.program, &ran.events);
    store_extracted(transaction, &version.program, lead)
}

/// What running an enrollment did, to be written with its state.
struct Ran {
    advance: Advance,
    events: Vec<Event>,
    /// The effects it asked for, kept to be recorded once the enrollment
    /// has its row (a new one).
    recorded: Vec<Recorded>,
}

/// An enrollment's columns as a run leaves them.
struct State {
    pc: u32,
    status: &'static str,
    wake: Option<i64>,
    attempts: u32,
    effects: u32,
    hold_reason: Option<String>,
    ending: Option<String>,
    loops: Option<String>,
}

impl State {
    /// The columns' values, in the order of [`State`]'s fields.
    fn values(&self) -> [Column<'_>; 8] {
        [
            self.pc.to_value(),
            self.status.to_value(),
            self.wake.to_value(),
            self.attempts.to_value(),
            self.effects.to_value(),
            self.hold_reason.to_value(),
            self.ending.to_value(),
            self.loops.to_value(),
        ]
    }
}

impl Ran {
    /// The columns of `enrollment` as this run left it.
    fn state(&self, enrollment: &Enrollment) -> State {
        let (wake, ending) = match &self.advance {
            Advance::Suspended(until) => (Some(millis(*until)), None),
            Advance::Ended(ending) => (None, Some(ending.key())),
            Advance::InFlight => (None, None),
        };
        State {
            pc: enrollment.pc,
            status: enrollment.status.name(),
            wake,
            attempts: enrollment.attempts,
            effects: enrollment.effects,
            hold_reason: self
                .events
                .iter()
                .rev()
                .find(|event| event.kind == EventKind::Held)
                .map(|event| event.detail.clone()),
            ending,
            loops: enrollment.loops_key(),
        }
    }
}

/// Runs an enrollment (the one of row `id`, or a new one without a row
/// yet) until it suspends or ends.
fn run_vm(
    transaction: &Tx<'_>,
    version: &Version,
    id: Option<i64>,
    enrollment: &mut Enrollment,
    lead: &mut LeadState<'_>,
    moment: &Moment<'_>,
) -> Result<Ran, StoreError> {
    let program = &version.program;
    let (now, delivered) = (moment.at, moment.delivered);
    let mut vm = Vm::new(program);
    // A window is checked again at the moment of delivery, which a claim
    // does: effects of a workflow with windows wait for theirs.
    let mut outbox = Outbox {
        transaction,
        enrollment: id,
        kept: Vec::new(),
        now,
        error: None,
        attempted: None,
        delivered,
        answering: moment.answering.filter(|_| !program.has_windows()),
        late: Vec::new(),
    };
    let mut events = Vec::new();
    let mut context = Context {
        lead: &mut lead.slots,
        channels: &mut outbox,
        events: &mut events,
        lead_id: lead.id,
        calls: Vec::new(),
    };
    let advance = vm.run(enrollment, now, &mut context);
    if let Some(error) = outbox.error {
        return Err(error);
    }
    if let Some(delivered) = delivered {
        if let Some(event) = events.iter_mut().find(|event| reports_delivery(event)) {
            delivered.note(event, program.timezone);
        }
    }
    note_late(&mut events, &outbox.late, program.timezone);
    Ok(Ran {
        advance,
        events,
        recorded: outbox.kept,
    })
}

/// A lead as an activation sees it: stored fields by name, and the same as
/// the program's slots (which extractions fill).
pub(super) struct LeadState<'a> {
    pub(super) id: &'a str,
    pub(super) fields: &'a Map<String, Json>,
    pub(super) slots: Vec<Option<Value>>,
}

/// Writes the values of extracted fields back to the lead.
pub(super) fn store_extracted(
    transaction: &Tx<'_>,
    program: &Program,
    lead: &LeadState<'_>,
) -> Result<(), StoreError> {
    let extracted: Vec<(usize, &crate::bytecode::Slot)> = program
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| slot.source == SlotSource::Extracted)
        .collect();
    if extracted.is_empty() {
        return Ok(());
    }
    // Read again, locked: what another transaction wrote to the lead since
    // the activation began is kept.
    let mut fields = super::stored_leads::lead_fields(transaction, lead.id)?
        .unwrap_or_else(|| lead.fields.clone());
    for (index, slot) in extracted {
        if let Some(value) = lead.slots.get(index).and_then(Option::as_ref) {
            fields.insert(slot.name.clone(), value.to_json());
        }
    }
    transaction.execute(
        "UPDATE leads SET fields = ?1 WHERE id = ?2",
        params![Json::Object(fields).to_string(), lead.id],
    )?;
    Ok(())
}
