//! Many leads on a virtual clock: lead arrivals and events in time order,
//! entry rules (trigger, re-entry, look-back), and a heap of suspended
//! enrollments ordered by wake-up instant.

pub mod consent;
pub mod console;
pub mod entry;
pub mod inspect;
pub mod jsonl;
pub mod leads;
pub mod live;
pub mod policy;
pub mod queue;
pub mod recorder;
mod stepping;
pub mod timeline;
pub mod together;
pub mod tokens;
pub mod unsubscribe;

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use crate::ast::Outcome;
use crate::bytecode::Program;
use crate::value::Value;
use crate::vm::{Advance, Context, Ending, Enrollment, Event, EventKind, Status, Vm};
use leads::{EventRecord, LeadRecord};
use queue::WakeQueue;
use recorder::Recorder;
pub use timeline::{Summary, TimelineEvent};

/// Something that happens at an instant: a lead arrives or changes, or an
/// event happens to a lead.
#[derive(Clone, Debug)]
pub enum Input {
    /// A lead record.
    Lead(LeadRecord),
    /// An event record.
    Event(EventRecord),
}

impl Input {
    fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Input::Lead(lead) => lead.at,
            Input::Event(event) => Some(event.at),
        }
    }
}

/// A lead as the simulation knows it.
#[derive(Clone, Debug)]
pub struct Lead {
    /// Its id.
    pub id: Rc<str>,
    /// When it was last active, if known.
    pub last_activity: Option<DateTime<Utc>>,
    /// How many times it entered.
    pub entries: u32,
    /// When it last entered.
    pub last_entry: Option<DateTime<Utc>>,
    /// Its active enrollment, if any.
    pub active: Option<u32>,
    /// Whether the trigger's criteria held when last tested.
    pub matching: bool,
    /// The [`entry::Refusal::number`] of the last refusal recorded since
    /// the lead last entered (0: none), so that a lead turned away again
    /// for the same reason is recorded once.
    pub refused: u8,
    /// Activations of its current (or last) enrollment, for the budget;
    /// kept here, beside what every activation reads anyway.
    pub activations: u32,
    /// When its trigger or goals are tested again as time passes (a
    /// time-relative test flips then), if they can change.
    pub retest: Option<DateTime<Utc>>,
}

/// Where a streamed simulation sends each timeline event, with its lead's id.
type Sink<'p> = Box<dyn FnMut(&str, &TimelineEvent) + 'p>;

/// One workflow simulated over many leads.
pub struct Simulation<'p> {
    vm: Vm<'p>,
    /// Every lead seen, in order of arrival.
    pub leads: Vec<Lead>,
    /// Every lead's fields by slot, extracted ones included: lead `i` holds
    /// `values[i * slots..(i + 1) * slots]`.
    values: Vec<Option<Value>>,
    /// Lead slots per lead.
    slots: usize,
    by_id: HashMap<Rc<str>, u32>,
    /// Enrollments by id; the ids of ended ones are reused (see `free`).
    enrollments: Vec<Enrollment>,
    /// Ids of ended enrollments that nothing refers to any more.
    free: Vec<u32>,
    /// Suspended enrollments, earliest wake-up first.
    queue: WakeQueue,
    /// Leads whose trigger or goals a time-relative test flips, by lead
    /// index, earliest first (entries a later schedule replaced are stale).
    retests: WakeQueue,
    /// The channels effects go through.
    pub channels: Recorder,
    buffer: Vec<Event>,
    /// Every timeline event, when kept.
    pub timeline: Option<Vec<TimelineEvent>>,
    /// Where timeline events go as they happen, when streamed (see
    /// [`Simulation::stream`]), with the id of their lead.
    on_event: Option<Sink<'p>>,
    /// How many times one enrollment may be activated before the
    /// simulation stops running it (a loop through waits).
    pub budget: u32,
    /// Counts for the summary.
    pub summary: Summary,
    /// Where the clock stopped when no end was given and enrollments were
    /// still running there (the horizon, ten years after the last input).
    pub horizon: Option<DateTime<Utc>>,
    /// Called now and then with the virtual clock, for progress display.
    pub on_progress: Option<Box<dyn FnMut(DateTime<Utc>) + 'p>>,
    /// How deep built-in events raised by runs (`call_completed`) nest
    /// right now.
    raising: u32,
    /// The inputs not run yet, in time order.
    pending: std::iter::Peekable<std::vec::IntoIter<Input>>,
    /// When the run started: inputs without a time arrive then.
    start: DateTime<Utc>,
    /// When it stops.
    until: Option<DateTime<Utc>>,
    /// Steps taken, for progress display.
    activations: u64,
}

/// Activations of one enrollment a simulation allows by default: a loop
/// through a daily wait runs for 27 years before it reaches it.
pub const BUDGET: u32 = 10_000;

/// How deep raised events may nest at one instant: a workflow whose calls
/// trigger itself again at once would otherwise never let time pass.
const RAISE_DEPTH: u32 = 16;

impl<'p> Simulation<'p> {
    /// A simulation of `program`; `keep_timeline` keeps every event.
    pub fn new(program: &'p Program, channels: Recorder, keep_timeline: bool) -> Self {
        let mut vm = Vm::new(program);
        vm.describe = keep_timeline;
        Simulation {
            slots: vm.lead_slots(),
            values: Vec::new(),
            vm,
            leads: Vec::new(),
            by_id: HashMap::default(),
            enrollments: Vec::new(),
            free: Vec::new(),
            queue: WakeQueue::default(),
            retests: WakeQueue::default(),
            channels,
            buffer: Vec::new(),
            timeline: keep_timeline.then(Vec::new),
            on_event: None,
            budget: BUDGET,
            summary: Summary::new(program),
            on_progress: None,
            horizon: None,
            raising: 0,
            pending: Vec::new().into_iter().peekable(),
            start: DateTime::<Utc>::MIN_UTC,
            until: None,
            activations: 0,
        }
    }

    /// Sends every timeline event to `sink` as it happens, with its lead's
    /// id, instead of keeping it: memory stays bounded however long the run.
    pub fn stream(&mut self, sink: impl FnMut(&str, &TimelineEvent) + 'p) {
        self.vm.describe = true;
        self.timeline = None;
        self.on_event = Some(Box::new(sink));
    }

    /// The fields of lead `index`, by slot.
    pub fn fields(&self, index: u32) -> &[Option<Value>] {
        let start = index as usize * self.slots;
        &self.values[start..start + self.slots]
    }

    /// The timezone `channel`'s window is read in for lead `index`: the
    /// lead's own when the window says so (and it names a valid one), else
    /// the account's.
    pub fn window_zone(&self, index: u32, channel: crate::ast::Channel) -> chrono_tz::Tz {
        let program = self.vm.program();
        match &program.windows[crate::bytecode::channel_index(channel)] {
            Some(window) => self.vm.window_zone(window.zone, self.fields(index)),
            None => program.timezone,
        }
    }

    /// Lead `index`'s own timezone, if its `timezone` names a valid one.
    pub fn lead_zone(&self, index: u32) -> Option<chrono_tz::Tz> {
        self.vm.lead_zone(self.fields(index))
    }

    /// The program simulated.
    pub fn program(&self) -> &'p Program {
        self.vm.program()
    }

    /// Instructions executed so far.
    pub fn instructions(&self) -> u64 {
        self.vm.instructions
    }

    fn input(&mut self, input: Input, now: DateTime<Utc>) {
        match input {
            Input::Lead(record) => self.lead(record, now),
            Input::Event(record) => self.event(record, now),
        }
    }

    /// A lead arrives or changes: goals of its active enrollment are tested,
    /// then a criteria trigger may enroll it.
    fn lead(&mut self, record: LeadRecord, now: DateTime<Utc>) {
        let index = match self.by_id.get(record.id.as_str()) {
            Some(&index) => index,
            None => {
                let index = self.leads.len() as u32;
                let id: Rc<str> = record.id.as_str().into();
                self.by_id.insert(Rc::clone(&id), index);
                self.values
                    .resize_with(self.values.len() + self.slots, || None);
                self.leads.push(Lead {
                    id,
                    last_activity: None,
                    entries: 0,
                    last_entry: None,
                    active: None,
                    matching: false,
                    refused: 0,
                    activations: 0,
                    retest: None,
                });
                self.summary.leads += 1;
                index
            }
        };
        self.channels.script(index, record.simulate);
        self.channels.consent(index, record.consent);
        let fields = fields_mut(&mut self.values, self.slots, index);
        for (slot, value) in record.fields {
            if let Some(place) = fields.get_mut(slot as usize) {
                *place = value;
            }
        }
        let lead = &mut self.leads[index as usize];
        lead.last_activity = record.last_activity.or(lead.last_activity);
        if let Some(active) = lead.active {
            self.test_goals(active, now);
        }
        self.test_trigger(index, now);
    }

    /// A time-relative test of the lead's trigger or goals flips now: the
    /// lead is tested as if it had changed.
    fn retest(&mut self, index: u32, now: DateTime<Utc>) {
        if self.leads[index as usize].retest != Some(now) {
            return; // replaced by a later schedule
        }
        self.leads[index as usize].retest = None;
        if let Some(active) = self.leads[index as usize].active {
            self.test_goals(active, now);
        }
        self.test_trigger(index, now);
    }

    /// Tests a criteria trigger for the lead (entering it on an edge), then
    /// schedules the next instant time alone can change the result.
    fn test_trigger(&mut self, index: u32, now: DateTime<Utc>) {
        if self.program().trigger.event.is_none() {
            let decision = self.decide(index, &[], now);
            self.leads[index as usize].matching = entry::matches(&decision);
            match decision {
                Ok(()) => self.enroll(index, None, now),
                Err(refusal) => self.refuse(index, &refusal, now),
            }
        }
        let next = self.vm.next_change(self.fields(index), &[], now);
        let lead = &mut self.leads[index as usize];
        if next != lead.retest {
            lead.retest = next;
            if let Some(at) = next {
                self.retests.push(at, index);
            }
        }
    }

    /// An event happens to a lead: it ends the lead's enrollment if a goal
    /// waits for it (and holds), else runs it on if it waits for it (`wait
    /// for`), then an event trigger may enroll the lead.
    fn event(&mut self, record: EventRecord, now: DateTime<Utc>) {
        let Some(&index) = self.by_id.get(record.lead.as_str()) else {
            self.summary.bad_records.push(leads::BadRecord {
                file: record.file.clone(),
                line: record.line,
                message: format!("no lead has the id {:?}", record.lead),
            });
            return;
        };
        let name = record.name.as_str();
        let program = self.program();
        let goal = program
            .goals
            .iter()
            .any(|goal| goal.event.as_deref() == Some(name));
        if goal || program.waits_for(name) {
            let Some(payload) = self.payload(&record, entry::Payload::Named(name)) else {
                return;
            };
            if let Some(active) = self.leads[index as usize].active.filter(|_| goal) {
                self.test_event_goals(active, name, &payload, now);
            }
            // A goal may have ended it; else it may wait for the event.
            if let Some(active) = self.leads[index as usize].active {
                let enrollment = &mut self.enrollments[active as usize];
                if self
                    .vm
                    .event_arrived(enrollment, name, &payload, now, &mut self.buffer)
                {
                    self.activate(active, now);
                }
            }
        }
        if self.program().trigger.event.as_deref() != Some(name) {
            return;
        }
        let Some(payload) = self.payload(&record, entry::Payload::Trigger) else {
            return;
        };
        match self.decide(index, &payload, now) {
            Ok(()) => self.enroll(index, Some(payload.into_boxed_slice()), now),
            Err(refusal) => self.refuse(index, &refusal, now),
        }
    }

    /// The event's data read as one of the program's payloads; a bad record
    /// (kept for the summary) if it does not fit.
    fn payload(
        &mut self,
        record: &EventRecord,
        which: entry::Payload<'_>,
    ) -> Option<Vec<Option<Value>>> {
        match entry::payload(self.program(), which, &record.data) {
            Ok(payload) => Some(payload),
            Err(message) => {
                self.summary.bad_records.push(leads::BadRecord {
                    file: "events".to_owned(),
                    line: record.line,
                    message,
                });
                None
            }
        }
    }

    /// Records that the entry rules turned the lead away, unless they last
    /// did for the same reason.
    fn refuse(&mut self, index: u32, refusal: &entry::Refusal, now: DateTime<Utc>) {
        let lead = &mut self.leads[index as usize];
        if lead.refused == refusal.number() {
            return;
        }
        lead.refused = refusal.number();
        *self.summary.refusals.entry(refusal.code()).or_insert(0) += 1;
        if self.on_event.is_none() && self.timeline.is_none() {
            return;
        }
        let event = TimelineEvent {
            lead: index,
            enrollment: 0,
            event: Event {
                at: now,
                pc: 0,
                kind: EventKind::Refused,
                detail: refusal.detail(),
            },
        };
        self.emit(event);
    }

    /// Whether a lead may enter now, or why not (see [`entry::decide`]).
    fn decide(
        &self,
        index: u32,
        payload: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Result<(), entry::Refusal> {
        let lead = &self.leads[index as usize];
        let history = entry::History {
            active: lead.active.is_some(),
            last_entry: lead.last_entry,
            last_activity: lead.last_activity,
            matching: lead.matching,
            flip: lead.retest,
        };
        entry::decide(&self.vm, history, self.fields(index), payload, now)
    }

    fn enroll(&mut self, index: u32, payload: Option<Box<[Option<Value>]>>, now: DateTime<Utc>) {
        let lead = &mut self.leads[index as usize];
        lead.entries += 1;
        lead.last_entry = Some(now);
        lead.refused = 0;
        lead.activations = 0;
        let enrollment = Enrollment::new(index, lead.entries, now, payload);
        let id = match self.free.pop() {
            Some(id) => {
                self.enrollments[id as usize] = enrollment;
                id
            }
            None => {
                self.enrollments.push(enrollment);
                self.enrollments.len() as u32 - 1
            }
        };
        lead.active = Some(id);
        self.summary.entered += 1;
        self.buffer.push(Event {
            at: now,
            pc: 0,
            kind: EventKind::Entered,
            detail: String::new(),
        });
        self.activate(id, now);
    }

    fn wake(&mut self, id: u32, now: DateTime<Utc>) {
        let enrollment = &self.enrollments[id as usize];
        if enrollment.status.is_final() {
            // A goal ended it while it waited: this was its last reference.
            self.free.push(id);
            return;
        }
        if enrollment.wake != now {
            return;
        }
        if self.leads[enrollment.lead as usize].activations >= self.budget {
            self.summary.over_budget(now);
            return;
        }
        self.activate(id, now);
    }

    /// Runs an enrollment until it suspends or ends, then files its events.
    fn activate(&mut self, id: u32, now: DateTime<Utc>) {
        let enrollment = &mut self.enrollments[id as usize];
        let lead = &mut self.leads[enrollment.lead as usize];
        lead.activations += 1;
        let mut context = Context {
            lead: fields_mut(&mut self.values, self.slots, enrollment.lead),
            channels: &mut self.channels,
            events: &mut self.buffer,
            lead_id: &lead.id,
            calls: Vec::new(),
        };
        let advance = self.vm.run(enrollment, now, &mut context);
        let calls = std::mem::take(&mut context.calls);
        let lead_index = enrollment.lead;
        match advance {
            Advance::Suspended(until) => self.queue.push(until, id),
            Advance::Ended(ending) => {
                lead.active = None;
                let detail = self.buffer.last().map_or("", |event| event.detail.as_str());
                self.summary.end(ending, detail);
            }
            // The recorder answers at once; nothing is ever in flight here.
            Advance::InFlight => {}
        }
        self.file_events(id);
        if let Advance::Ended(_) = advance {
            // Nothing waits for it: its id is free for the next enrollment.
            self.free.push(id);
        }
        for outcome in calls {
            self.call_completed(lead_index, outcome, now);
        }
    }

    /// A call to the lead ended: `call_completed` happens to it, as live
    /// raises it when the outcome arrives. A workflow whose own calls
    /// trigger it again at once stops after [`RAISE_DEPTH`] rounds.
    fn call_completed(&mut self, index: u32, outcome: Outcome, now: DateTime<Utc>) {
        if !self.program().uses_event("call_completed") {
            return;
        }
        if self.raising >= RAISE_DEPTH {
            self.summary.over_budget(now);
            return;
        }
        self.raising += 1;
        let record = EventRecord {
            file: "calls".to_owned(),
            line: 0,
            at: now,
            lead: self.leads[index as usize].id.to_string(),
            name: "call_completed".to_owned(),
            data: crate::schema::call_completed(outcome),
        };
        self.event(record, now);
        self.raising -= 1;
    }

    /// Ends an enrollment at once if a goal on the lead's fields holds
    /// (they changed, or time flipped a test of them).
    fn test_goals(&mut self, id: u32, now: DateTime<Utc>) {
        let enrollment = &self.enrollments[id as usize];
        let fields = fields_mut(&mut self.values, self.slots, enrollment.lead);
        if let Some((index, goal)) = self.vm.goal_reached(enrollment, fields, now) {
            self.reach_goal(id, index, goal, now);
        }
    }

    /// Ends an enrollment at once if a goal waiting for the event `name`
    /// holds for this occurrence of it.
    fn test_event_goals(
        &mut self,
        id: u32,
        name: &str,
        payload: &[Option<Value>],
        now: DateTime<Utc>,
    ) {
        let lead = self.enrollments[id as usize].lead;
        let fields = fields_mut(&mut self.values, self.slots, lead);
        if let Some((index, goal)) = self.vm.goal_on_event(name, fields, payload, now) {
            self.reach_goal(id, index, goal, now);
        }
    }

    /// Ends an enrollment through the goal with this index.
    fn reach_goal(&mut self, id: u32, index: u32, goal: &str, now: DateTime<Utc>) {
        let enrollment = &mut self.enrollments[id as usize];
        enrollment.status = Status::Exited;
        self.leads[enrollment.lead as usize].active = None;
        self.summary.end(Ending::Goal(index), "");
        self.buffer.push(Event {
            at: now,
            pc: enrollment.pc,
            kind: EventKind::Exited,
            detail: format!("goal {goal} reached"),
        });
        self.file_events(id);
    }

    fn file_events(&mut self, id: u32) {
        let enrollment = &self.enrollments[id as usize];
        let (lead, number) = (enrollment.lead, enrollment.number);
        let mut buffer = std::mem::take(&mut self.buffer);
        for event in buffer.drain(..) {
            self.summary.count(&event);
            self.emit(TimelineEvent {
                lead,
                enrollment: number,
                event,
            });
        }
        self.buffer = buffer;
    }

    /// Streams or keeps a timeline event.
    fn emit(&mut self, event: TimelineEvent) {
        if let Some(sink) = self.on_event.as_mut() {
            sink(&self.leads[event.lead as usize].id, &event);
        } else if let Some(timeline) = self.timeline.as_mut() {
            timeline.push(event);
        }
    }
}

/// The fields of lead `index` in the value arena.
fn fields_mut(values: &mut [Option<Value>], slots: usize, index: u32) -> &mut [Option<Value>] {
    let start = index as usize * slots;
    &mut values[start..start + slots]
}
