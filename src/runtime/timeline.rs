//! Timelines and the run summary, and how both are printed: a readable
//! table, or JSON Lines with one event per line.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::leads::BadRecord;
use super::Lead;
use crate::bytecode::Program;
use crate::vm::{Ending, Enrollment, Event, EventKind, Status};

/// A timeline event with the lead and enrollment it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    /// The lead's index.
    pub lead: u32,
    /// The enrollment's number for that lead, from 1.
    pub enrollment: u32,
    /// What happened.
    pub event: Event,
}

/// Counts of a run: leads, entries, per-step events and how enrollments ended.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Distinct leads read.
    pub leads: u64,
    /// Records that could not be read, and events for unknown leads.
    pub bad_records: Vec<BadRecord>,
    /// Enrollments started.
    pub entered: u64,
    /// Entry decisions that turned a lead away, by refusal code (a lead
    /// turned away again for the same reason is counted once).
    pub refusals: BTreeMap<&'static str, u64>,
    /// Events per instruction and kind.
    per_instruction: Vec<[u64; KINDS]>,
    /// Enrollments by final (or current) status, once the run is over.
    pub statuses: BTreeMap<&'static str, u64>,
    /// How enrollments ended, by structured reason (never by free text,
    /// which may hold lead data), with their counts.
    pub endings: BTreeMap<Ending, u64>,
    /// The reason text of each `exit` step, as first seen.
    exit_texts: BTreeMap<Ending, String>,
    /// Enrollments the simulation stopped running at its budget of
    /// activations, and when the first was stopped.
    pub over_budget: u64,
    /// When the first enrollment was stopped at the budget.
    pub first_over_budget: Option<DateTime<Utc>>,
}

const KINDS: usize = 13;

impl Summary {
    /// An empty summary for `program`.
    pub fn new(program: &Program) -> Self {
        Summary {
            per_instruction: vec![[0; KINDS]; program.code.len()],
            ..Summary::default()
        }
    }

    /// Counts one event.
    pub fn count(&mut self, event: &Event) {
        if let Some(counts) = self.per_instruction.get_mut(event.pc as usize) {
            counts[event.kind as usize] += 1;
        }
    }

    /// Counts an enrollment that ended; `detail` is its last event's.
    pub fn end(&mut self, ending: Ending, detail: &str) {
        *self.endings.entry(ending).or_insert(0) += 1;
        if matches!(ending, Ending::Exit(_)) && !detail.is_empty() {
            self.exit_texts
                .entry(ending)
                .or_insert_with(|| detail.to_owned());
        }
    }

    /// Each ending described, with its category and count, in order:
    /// goals (conversions), exits (disqualifications), failures.
    pub fn ending_rows(&self, program: &Program) -> Vec<(&'static str, String, u64)> {
        let mut rows: Vec<(&'static str, String, u64)> = self
            .endings
            .iter()
            .filter(|(ending, _)| **ending != Ending::Completed)
            .map(|(ending, count)| {
                let mut described = ending.describe(program);
                if let Some(text) = self.exit_texts.get(ending) {
                    described = format!("{described}: {text}");
                }
                (ending.category(), described, *count)
            })
            .collect();
        let order = |category: &str| {
            ["goal", "exit", "failed"]
                .iter()
                .position(|c| *c == category)
        };
        rows.sort_by_key(|(category, _, _)| order(category));
        rows
    }

    /// Counts an enrollment the simulation stopped at its budget.
    pub fn over_budget(&mut self, now: DateTime<Utc>) {
        self.over_budget += 1;
        self.first_over_budget.get_or_insert(now);
    }

    /// Counts enrollments by status once the run is over: the ones that
    /// ended (from their endings), and those of `enrollments` still running
    /// (ended ones there, whose ids wait for reuse, are skipped).
    pub fn finish(&mut self, enrollments: &[Enrollment]) {
        self.statuses.clear();
        for (ending, count) in &self.endings {
            *self.statuses.entry(ending.status().name()).or_insert(0) += count;
        }
        for enrollment in enrollments {
            if !enrollment.status.is_final() {
                *self.statuses.entry(enrollment.status.name()).or_insert(0) += 1;
            }
        }
    }

    /// How many enrollments ended each way or are still under way, as a
    /// summary names them: completed, exited, failed, still waiting,
    /// still held.
    pub fn status_rows(&self) -> [(&'static str, u64); 5] {
        [
            (Status::Completed, "completed"),
            (Status::Exited, "exited"),
            (Status::Failed, "failed"),
            (Status::Waiting, "still waiting"),
            (Status::Held, "still held"),
        ]
        .map(|(status, name)| (name, self.statuses.get(status.name()).copied().unwrap_or(0)))
    }

    /// How many events of `kind` happened, over all steps.
    pub fn total(&self, kind: EventKind) -> u64 {
        self.per_instruction
            .iter()
            .map(|counts| counts[kind as usize])
            .sum()
    }

    /// Per-step counts, by step label in program order.
    pub fn steps<'p>(&self, program: &'p Program) -> Vec<(&'p str, [u64; KINDS])> {
        let mut steps: Vec<(&'p str, [u64; KINDS])> = Vec::new();
        for (pc, counts) in self.per_instruction.iter().enumerate() {
            let label = program
                .origins
                .get(pc)
                .map_or("?", |origin| origin.label.as_str());
            match steps.iter_mut().find(|(known, _)| *known == label) {
                Some((_, total)) => total
                    .iter_mut()
                    .zip(counts)
                    .for_each(|(total, count)| *total += count),
                None => steps.push((label, *counts)),
            }
        }
        steps.retain(|(_, counts)| counts.iter().any(|count| *count > 0));
        steps
    }
}

/// Timeline events grouped by lead (in order of arrival), each lead's in
/// time order.
fn by_lead(events: &[TimelineEvent]) -> Vec<&TimelineEvent> {
    let mut sorted: Vec<&TimelineEvent> = events.iter().collect();
    sorted.sort_by_key(|event| event.lead);
    sorted
}

fn step_label<'a>(program: &'a Program, event: &Event) -> &'a str {
    if !event.kind.at_a_step() {
        return "-";
    }
    program
        .origins
        .get(event.pc as usize)
        .map_or("?", |origin| origin.label.as_str())
}

/// The timelines as a table per lead.
pub fn write_table(program: &Program, leads: &[Lead], events: &[TimelineEvent], out: &mut String) {
    let mut current = None;
    for timeline_event in by_lead(events) {
        if current != Some(timeline_event.lead) {
            current = Some(timeline_event.lead);
            let id = leads
                .get(timeline_event.lead as usize)
                .map_or("?", |lead| &*lead.id);
            let _ = writeln!(out, "\nlead {id}");
        }
        let event = &timeline_event.event;
        let at = event
            .at
            .with_timezone(&program.timezone)
            .format("%Y-%m-%d %H:%M %:z");
        let line = format!(
            "  {at}  {:<9}  {:<width$}  {}",
            event.kind.name(),
            step_label(program, event),
            event.detail,
            width = label_width(program),
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The width of the step column: the longest step id, at least 24.
fn label_width(program: &Program) -> usize {
    program
        .origins
        .iter()
        .map(|origin| origin.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(24)
}

/// The summary as a table.
pub fn write_summary(program: &Program, summary: &Summary, out: &mut String) {
    let _ = writeln!(out, "\nsummary of {}", program.name);
    let _ = writeln!(out, "  leads read      {:>8}", summary.leads);
    let _ = writeln!(out, "  bad records     {:>8}", summary.bad_records.len());
    let _ = writeln!(out, "  entered         {:>8}", summary.entered);
    for (code, count) in &summary.refusals {
        let _ = writeln!(out, "  refused         {count:>8}  {code}");
    }
    for (name, count) in summary.status_rows() {
        let _ = writeln!(out, "  {name:<15} {count:>8}");
    }
    if summary.over_budget > 0 {
        let _ = writeln!(out, "  over budget     {:>8}", summary.over_budget);
    }
    let rows = summary.ending_rows(program);
    if !rows.is_empty() {
        let _ = writeln!(out, "\n  how enrollments ended");
        for (category, described, count) in rows {
            let _ = writeln!(out, "    {count:>8}  {category:<6}  {described}");
        }
    }
    let width = label_width(program);
    let _ = writeln!(
        out,
        "\n  {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "step", "sent", "failed", "skipped", "held", "waited", "branched", "exited"
    );
    for (label, counts) in summary.steps(program) {
        let count = |kind: EventKind| counts[kind as usize];
        let _ = writeln!(
            out,
            "  {label:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            count(EventKind::Sent),
            count(EventKind::Undelivered),
            count(EventKind::Skipped),
            count(EventKind::Held),
            count(EventKind::Waited),
            count(EventKind::Branched),
            count(EventKind::Exited) + count(EventKind::Failed) + count(EventKind::Completed),
        );
    }
}

/// The summary as one JSON object.
pub fn summary_json(program: &Program, summary: &Summary) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = summary
        .steps(program)
        .into_iter()
        .map(|(label, counts)| {
            let mut step = serde_json::Map::new();
            step.insert("step".to_owned(), label.into());
            for kind in ALL_KINDS {
                if counts[kind as usize] > 0 {
                    step.insert(kind.name().to_owned(), counts[kind as usize].into());
                }
            }
            serde_json::Value::Object(step)
        })
        .collect();
    serde_json::json!({
        "summary": {
            "workflow": program.name,
            "leads": summary.leads,
            "bad_records": summary.bad_records.len(),
            "entered": summary.entered,
            "refusals": summary.refusals,
            "over_budget": summary.over_budget,
            "statuses": summary.statuses,
            "endings": summary
                .ending_rows(program)
                .into_iter()
                .map(|(category, described, count)| {
                    serde_json::json!({"category": category, "reason": described, "count": count})
                })
                .collect::<Vec<_>>(),
            "steps": steps,
        }
    })
}

const ALL_KINDS: [EventKind; KINDS] = [
    EventKind::Entered,
    EventKind::Sent,
    EventKind::Skipped,
    EventKind::Held,
    EventKind::Released,
    EventKind::Waited,
    EventKind::Branched,
    EventKind::Exited,
    EventKind::Completed,
    EventKind::Failed,
    EventKind::Undelivered,
    EventKind::Delivered,
    EventKind::Refused,
];
