//! One lead as the console shows it: its fields and consent (as `flowc
//! leads show`), and each enrollment with where it stands, what is next
//! and when (in the account's and the lead's time), its timeline, the
//! messages it sent, and what an operator may do with it.

use serde::Serialize;

use super::Programs;
use crate::runtime::inspect::{self, LeadView, TimelineRow, Zones};
use crate::store::{instant, params, Store, StoreError};
use crate::vm::{Message, Status};

/// A lead and its enrollments.
#[derive(Debug, Serialize)]
pub struct LeadPage {
    /// Fields and consent.
    pub lead: LeadView,
    /// Every enrollment, newest first.
    pub enrollments: Vec<EnrollmentView>,
}

/// One enrollment of the lead.
#[derive(Debug, Serialize)]
pub struct EnrollmentView {
    /// Its id, for actions.
    pub id: i64,
    /// Its number for the lead (1 for the first entry).
    pub number: u32,
    /// The workflow.
    pub workflow: String,
    /// The version it runs.
    pub version: i64,
    /// Its state (`paused` when paused).
    pub status: String,
    /// Who paused it, when an operator did.
    pub paused_by: Option<String>,
    /// The step it stands at.
    pub step: String,
    /// Why it is held, if it is.
    pub hold_reason: Option<String>,
    /// When it goes on: account time, lead time.
    pub next: Option<(String, Option<String>)>,
    /// Its events, oldest first.
    pub timeline: Vec<TimelineRow>,
    /// What it sent (or tried to), oldest first.
    pub messages: Vec<SentMessage>,
    /// What an operator may do now.
    pub actions: Vec<&'static str>,
}

/// A message an enrollment handed to a provider.
#[derive(Debug, Serialize)]
pub struct SentMessage {
    /// The step.
    pub step: String,
    /// `pending`, `placed` or `done`.
    pub status: String,
    /// When it was done, in the account's time.
    pub done: Option<String>,
    /// The message, field by field.
    pub rows: Vec<(String, String)>,
}

/// The lead `id` in full, if there is one.
pub fn lead(store: &Store, id: &str) -> Result<Option<LeadPage>, StoreError> {
    let Some(view) = inspect::lead(store, id)? else {
        return Ok(None);
    };
    let zones = Zones::of(store, id)?;
    let timeline = inspect::timeline(store, id, &zones)?.unwrap_or_default();
    let rows: Vec<Stored> = store.query(
        "SELECT e.id, e.number, e.workflow, w.name, w.version, e.status, e.pc,
                e.wake, e.remaining, e.hold_reason, e.paused_by
         FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE e.lead = ?1 ORDER BY e.id DESC",
        params![id],
        |row| {
            Ok(Stored {
                id: row.get(0)?,
                number: row.get(1)?,
                version_id: row.get(2)?,
                workflow: row.get(3)?,
                version: row.get(4)?,
                status: row.get(5)?,
                pc: row.get(6)?,
                wake: row.get(7)?,
                remaining: row.get(8)?,
                hold_reason: row.get(9)?,
                paused_by: row.get(10)?,
            })
        },
    )?;
    let mut programs = Programs::new(store);
    let mut enrollments = Vec::new();
    for stored in rows {
        let Stored {
            id: enrollment,
            number,
            version_id,
            workflow,
            version,
            status,
            pc,
            wake,
            remaining,
            hold_reason,
            paused_by,
        } = stored;
        let step = programs.step(version_id, pc, &status)?;
        let paused = remaining.is_some();
        let actions = actions(Status::from_name(&status), paused, wake.is_some());
        let next = wake.map(|wake| {
            let at = instant(wake);
            (zones.account(&workflow, at), zones.lead(at))
        });
        let timeline = timeline
            .iter()
            .filter(|row| row.workflow == workflow && row.enrollment == number)
            .cloned()
            .collect();
        enrollments.push(EnrollmentView {
            id: enrollment,
            number,
            status: if paused { "paused".to_owned() } else { status },
            paused_by,
            step,
            hold_reason,
            next,
            timeline,
            messages: messages(store, &mut programs, enrollment, version_id, |at| {
                zones.account(&workflow, instant(at))
            })?,
            actions,
            workflow,
            version,
        });
    }
    Ok(Some(LeadPage {
        lead: view,
        enrollments,
    }))
}

/// An enrollment row as stored.
struct Stored {
    id: i64,
    number: u32,
    version_id: i64,
    workflow: String,
    version: i64,
    status: String,
    pc: u32,
    wake: Option<i64>,
    remaining: Option<i64>,
    hold_reason: Option<String>,
    paused_by: Option<String>,
}

/// One attempt at an effect, as the outbox keeps it.
struct Attempt {
    key: String,
    message: String,
    status: String,
    done: Option<i64>,
    pc: Option<u32>,
}

/// What an operator may do with an enrollment in this state.
fn actions(status: Status, paused: bool, timed: bool) -> Vec<&'static str> {
    if paused {
        return vec!["resume", "remove"];
    }
    match status {
        Status::Failed => vec!["retry"],
        Status::Waiting | Status::Held if timed => vec!["pause", "remove"],
        _ => Vec::new(),
    }
}

/// The messages of an enrollment of workflow version `version`: the last
/// attempt of each effect.
fn messages(
    store: &Store,
    programs: &mut Programs<'_>,
    enrollment: i64,
    version: i64,
    account: impl Fn(i64) -> String,
) -> Result<Vec<SentMessage>, StoreError> {
    let attempts: Vec<Attempt> = store.query(
        "SELECT key, message, status, done, pc FROM outbox WHERE enrollment = ?1 ORDER BY id",
        params![enrollment],
        |row| {
            Ok(Attempt {
                key: row.get(0)?,
                message: row.get(1)?,
                status: row.get(2)?,
                done: row.get(3)?,
                pc: row.get(4)?,
            })
        },
    )?;
    let mut messages: Vec<(String, SentMessage)> = Vec::new();
    for attempt in attempts {
        let rows = serde_json::from_str::<Message>(&attempt.message)
            .map(|message| message.rows())
            .unwrap_or_default();
        let step = match attempt.pc {
            Some(pc) => programs.step(version, pc, "active")?,
            None => String::new(),
        };
        let sent = SentMessage {
            step,
            status: attempt.status,
            done: attempt.done.map(&account),
            rows,
        };
        match messages.iter_mut().find(|(known, _)| *known == attempt.key) {
            Some((_, last)) => *last = sent,
            None => messages.push((attempt.key, sent)),
        }
    }
    Ok(messages.into_iter().map(|(_, sent)| sent).collect())
}
