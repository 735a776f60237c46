//! What users ask of a live store: leads with their status and next step,
//! a lead's timeline, counts per step, and retrying a failed enrollment.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::bytecode::Program;
use crate::store::{instant, millis, Store, StoreError};

/// One enrollment of a lead, as `flowc leads` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadStatus {
    /// The lead's id.
    pub lead: String,
    /// The workflow.
    pub workflow: String,
    /// The workflow version the enrollment is on.
    pub version: i64,
    /// The enrollment's status.
    pub status: String,
    /// The step it is at (or ended at).
    pub step: String,
    /// When it goes on, while waiting or held.
    pub next_at: Option<DateTime<Utc>>,
    /// Why it is held, if it is.
    pub hold_reason: Option<String>,
}

/// An event of a lead's timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelineRow {
    /// The workflow.
    pub workflow: String,
    /// The enrollment's number for the lead.
    pub enrollment: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The step.
    pub step: String,
    /// What happened.
    pub kind: String,
    /// Details.
    pub detail: String,
}

/// Counts of one step of a workflow.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StepCount {
    /// The step's label.
    pub step: String,
    /// Events by kind.
    pub events: std::collections::BTreeMap<String, u64>,
    /// Enrollments at the step now, by status.
    pub now: std::collections::BTreeMap<String, u64>,
}

/// The step an enrollment of a stored program stands at: its `pc`, or the
/// wait it waits in.
fn step_label(
    program: &str,
    pc: u32,
    status: &str,
    cache: &mut rustc_hash::FxHashMap<String, Program>,
) -> String {
    if !cache.contains_key(program) {
        if let Ok(parsed) = serde_json::from_str::<Program>(program) {
            cache.insert(program.to_owned(), parsed);
        }
    }
    cache
        .get(program)
        .and_then(|program| {
            let at = program.standing_at(pc, crate::vm::Status::from_name(status));
            program.origins.get(at as usize)
        })
        .map_or_else(|| format!("@{pc}"), |origin| origin.label.clone())
}

/// Every enrollment, newest per lead and workflow first, filtered by
/// workflow name and status.
pub fn leads(
    store: &Store,
    workflow: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<LeadStatus>, StoreError> {
    let mut statement = store.connection.prepare(
        "SELECT e.lead, w.name, w.version, w.program, e.status, e.pc, e.wake, e.hold_reason, e.remaining
         FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE (?1 IS NULL OR w.name = ?1) AND (?2 IS NULL OR e.status = ?2)
         ORDER BY e.lead, w.name, e.number",
    )?;
    let mut programs = rustc_hash::FxHashMap::default();
    let rows = statement.query_map(params![workflow, status], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, u32>(5)?,
            row.get::<_, Option<i64>>(6)?,
            row.get::<_, Option<String>>(7)?,
            row.get::<_, Option<i64>>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (lead, workflow, version, program, status, pc, wake, hold_reason, remaining) = row?;
        let step = step_label(&program, pc, &status, &mut programs);
        let status = if remaining.is_some() {
            "paused".to_owned()
        } else {
            status
        };
        out.push(LeadStatus {
            lead,
            workflow,
            version,
            step,
            status,
            next_at: wake.map(instant),
            hold_reason,
        });
    }
    Ok(out)
}

/// A lead's timeline over every workflow, oldest first.
pub fn timeline(store: &Store, lead: &str) -> Result<Option<Vec<TimelineRow>>, StoreError> {
    let known: Option<String> = store
        .connection
        .query_row("SELECT id FROM leads WHERE id = ?1", [lead], |row| {
            row.get(0)
        })
        .optional()?;
    if known.is_none() {
        return Ok(None);
    }
    let mut statement = store.connection.prepare(
        "SELECT w.name, e.number, v.at, v.step, v.kind, v.detail
         FROM events v JOIN enrollments e ON e.id = v.enrollment JOIN workflows w ON w.id = e.workflow
         WHERE e.lead = ?1 ORDER BY v.at, v.id",
    )?;
    let rows = statement.query_map([lead], |row| {
        Ok(TimelineRow {
            workflow: row.get(0)?,
            enrollment: row.get(1)?,
            at: instant(row.get(2)?),
            step: row.get(3)?,
            kind: row.get(4)?,
            detail: row.get(5)?,
        })
    })?;
    Ok(Some(rows.collect::<Result<_, _>>()?))
}

/// Counts per step of every version of a workflow: events by kind, and
/// enrollments there now by status. `None` if no workflow has the name.
pub fn stats(store: &Store, name: &str) -> Result<Option<Vec<StepCount>>, StoreError> {
    let exists: bool = store.connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM workflows WHERE name = ?1)",
        [name],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(None);
    }
    let mut counts: Vec<StepCount> = Vec::new();
    let mut add = |step: String, kind: String, now: bool, count: u64| {
        let index = counts
            .iter()
            .position(|known| known.step == step)
            .unwrap_or_else(|| {
                counts.push(StepCount {
                    step,
                    ..StepCount::default()
                });
                counts.len() - 1
            });
        let map = if now {
            &mut counts[index].now
        } else {
            &mut counts[index].events
        };
        *map.entry(kind).or_insert(0) += count;
    };
    let mut statement = store.connection.prepare(
        "SELECT v.step, v.kind, count(*) FROM events v JOIN enrollments e ON e.id = v.enrollment
         JOIN workflows w ON w.id = e.workflow WHERE w.name = ?1 GROUP BY v.step, v.kind ORDER BY min(v.id)",
    )?;
    for row in statement.query_map([name], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)?))
    })? {
        let (step, kind, count) = row?;
        add(step, kind, false, count as u64);
    }
    let mut programs = rustc_hash::FxHashMap::default();
    let mut statement = store.connection.prepare(
        "SELECT w.program, e.pc, e.status, count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 GROUP BY w.id, e.pc, e.status",
    )?;
    let rows: Vec<(String, u32, String, i64)> = statement
        .query_map([name], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    for (program, pc, status, count) in rows {
        add(
            step_label(&program, pc, &status, &mut programs),
            status,
            true,
            count as u64,
        );
    }
    Ok(Some(counts))
}

/// Resumes a lead's failed enrollments now: the failed step runs again (as
/// a new effect, with a new idempotency key). Returns how many.
pub fn retry(store: &Store, lead: &str, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(store.connection.execute(
        "UPDATE enrollments SET status = 'held', wake = ?1, attempts = 0, hold_reason = 'retried'
         WHERE lead = ?2 AND status = 'failed'",
        params![millis(now), lead],
    )?)
}
