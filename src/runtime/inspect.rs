//! What users ask of a live store: leads with their status and next step,
//! a lead's timeline, counts per step, and retrying a failed enrollment.

use crate::store::params;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ast::Channel;
use crate::bytecode::Program;
use crate::runtime::consent::{self, State};
use crate::runtime::console::operator::{self, Action, ActionError};
use crate::runtime::console::Programs;
use crate::store::{instant, Store, StoreError};

/// One enrollment of a lead, as `flowc leads` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
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
    /// The same instant in the workflow's account timezone (RFC 3339), as
    /// every table prints instants.
    pub next_at_account: Option<String>,
    /// While paused (its workflow unpublished), the time it had left, in
    /// seconds.
    pub paused_left: Option<i64>,
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
    /// The same instant in the workflow's account timezone (RFC 3339).
    pub at_account: String,
    /// The same instant in the lead's own timezone, if it has a valid one.
    pub at_lead: Option<String>,
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

/// One lead as `flowc leads show` and `GET /v1/leads/{id}` show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadView {
    /// Its id.
    pub id: String,
    /// Its fields by name.
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Whether its address on each channel may be reached.
    pub consent: Vec<ChannelConsent>,
    /// Its enrollments, as `flowc leads` lists them.
    pub enrollments: Vec<LeadStatus>,
}

/// A lead's consent on one channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelConsent {
    /// `email`, `text` or `call`.
    pub channel: &'static str,
    /// The lead's address there (`email`, `phone_number`), normalized.
    pub address: String,
    /// Where it stands (`opted-in` when nothing was ever recorded).
    pub state: &'static str,
    /// What changed it last, and when, if anything did.
    pub source: Option<String>,
    /// When.
    pub at: Option<DateTime<Utc>>,
}

/// The lead `id`, if there is one.
pub fn lead(store: &Store, id: &str) -> Result<Option<LeadView>, StoreError> {
    let Some(fields) = store.query_opt(
        "SELECT fields FROM leads WHERE id = ?1",
        params![id],
        |row| row.get::<String>(0),
    )?
    else {
        return Ok(None);
    };
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&fields)?;
    let mut consent = Vec::new();
    for (channel, field) in [
        (Channel::Email, "email"),
        (Channel::Text, "phone_number"),
        (Channel::Call, "phone_number"),
    ] {
        let Some(address) = fields.get(field).and_then(serde_json::Value::as_str) else {
            continue;
        };
        let change = consent::current(store, channel, address)?;
        consent.push(ChannelConsent {
            channel: channel.keyword(),
            address: consent::normalize(channel, address),
            state: change
                .as_ref()
                .map_or(State::OptedIn, |change| change.state)
                .name(),
            source: change.as_ref().map(|change| change.source.clone()),
            at: change.map(|change| change.at),
        });
    }
    Ok(Some(LeadView {
        id: id.to_owned(),
        fields,
        consent,
        enrollments: leads(store, Some(id), None, None)?,
    }))
}

/// Every enrollment, newest per lead and workflow first, filtered by
/// lead, workflow name and status.
pub fn leads(
    store: &Store,
    lead: Option<&str>,
    workflow: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<LeadStatus>, StoreError> {
    // Each version's program is read and parsed once, not once a row.
    let mut programs = Programs::new(store);
    // One lead's enrollments are found through its index, not by a scan.
    let by_lead = if lead.is_some() {
        "e.lead = ?3"
    } else {
        "CAST(?3 AS TEXT) IS NULL"
    };
    let rows = store.query(
        &format!(
            "SELECT e.lead, w.name, w.version, e.workflow, e.status, e.pc, e.wake, e.hold_reason, e.remaining
             FROM enrollments e JOIN workflows w ON w.id = e.workflow
             WHERE {by_lead}
               AND (CAST(?1 AS TEXT) IS NULL OR w.name = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR e.status = ?2)
             ORDER BY e.lead, w.name, e.number"
        ),
        params![workflow, status, lead],
        |row| {
        Ok((
            row.get::<String>(0)?,
            row.get::<String>(1)?,
            row.get::<i64>(2)?,
            row.get::<i64>(3)?,
            row.get::<String>(4)?,
            row.get::<u32>(5)?,
            row.get::<Option<i64>>(6)?,
            row.get::<Option<String>>(7)?,
            row.get::<Option<i64>>(8)?,
        ))
        },
    )?;
    let mut out = Vec::new();
    for (lead, workflow, version, version_id, status, pc, wake, hold_reason, remaining) in rows {
        let step = programs.step(version_id, pc, &status)?;
        let zone = programs
            .get(version_id)?
            .map_or(chrono_tz::UTC, |program| program.timezone);
        let next_at = wake.map(instant);
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
            next_at,
            next_at_account: next_at.map(|at| crate::calendar::rfc3339(at, zone)),
            paused_left: remaining.map(|left| left / 1000),
            hold_reason,
        });
    }
    Ok(out)
}

/// A lead's timeline over every workflow, oldest first, with each instant
/// also in the `zones` of the lead and its workflows.
pub fn timeline(
    store: &Store,
    lead: &str,
    zones: &Zones,
) -> Result<Option<Vec<TimelineRow>>, StoreError> {
    let known: Option<String> =
        store.query_opt("SELECT id FROM leads WHERE id = ?1", params![lead], |row| {
            row.get(0)
        })?;
    if known.is_none() {
        return Ok(None);
    }
    // Refusals belong to no enrollment (number 0); at the same instant they
    // come after the events, as the entry rules run after the goals.
    let rows = store.query(
        "SELECT name, number, at, step, kind, detail FROM (
             SELECT w.name, e.number, v.at, v.step, v.kind, v.detail, 0 AS source, v.id
             FROM events v JOIN enrollments e ON e.id = v.enrollment JOIN workflows w ON w.id = e.workflow
             WHERE e.lead = ?1
             UNION ALL
             SELECT w.name, 0, r.at, '-', 'refused', r.detail, 1, r.id
             FROM refusals r JOIN workflows w ON w.id = r.workflow WHERE r.lead = ?1
         ) timeline ORDER BY at, source, id",
        params![lead],
        |row| {
        let workflow: String = row.get(0)?;
        let at = instant(row.get(2)?);
        Ok(TimelineRow {
            at_account: zones.account(&workflow, at),
            at_lead: zones.lead(at),
            workflow,
            enrollment: row.get(1)?,
            at,
            step: row.get(3)?,
            kind: row.get(4)?,
            detail: row.get(5)?,
        })
        },
    )?;
    Ok(Some(rows))
}

/// The timezones a lead's instants are shown in: each workflow's account
/// timezone (of its newest version), and the lead's own `timezone` field.
#[derive(Clone, Debug, Default)]
pub struct Zones {
    accounts: rustc_hash::FxHashMap<String, chrono_tz::Tz>,
    lead: Option<chrono_tz::Tz>,
}

impl Zones {
    /// The zones of `lead` and of every workflow.
    pub fn of(store: &Store, lead: &str) -> Result<Zones, StoreError> {
        let rows: Vec<(String, String)> = store.query(
            "SELECT name, program FROM workflows w
             WHERE version = (SELECT max(version) FROM workflows WHERE name = w.name)",
            params![],
            |row| row.columns(),
        )?;
        let mut accounts = rustc_hash::FxHashMap::default();
        for (name, program) in rows {
            if let Ok(program) = serde_json::from_str::<Program>(&program) {
                accounts.insert(name, program.timezone);
            }
        }
        let fields: Option<String> = store.query_opt(
            "SELECT fields FROM leads WHERE id = ?1",
            params![lead],
            |row| row.get(0),
        )?;
        let lead = fields
            .and_then(|fields| serde_json::from_str::<serde_json::Value>(&fields).ok())
            .and_then(|fields| fields.get("timezone")?.as_str()?.parse().ok());
        Ok(Zones { accounts, lead })
    }

    /// `at` in the account timezone of `workflow` (UTC if unknown).
    pub fn account(&self, workflow: &str, at: DateTime<Utc>) -> String {
        let zone = self
            .accounts
            .get(workflow)
            .copied()
            .unwrap_or(chrono_tz::UTC);
        crate::calendar::rfc3339(at, zone)
    }

    /// `at` in the lead's timezone, if it has a valid one.
    pub fn lead(&self, at: DateTime<Utc>) -> Option<String> {
        self.lead.map(|zone| crate::calendar::rfc3339(at, zone))
    }
}

/// Counts per step of every version of a workflow: events by kind, and
/// enrollments there now by status. `None` if no workflow has the name.
pub fn stats(store: &Store, name: &str) -> Result<Option<Vec<StepCount>>, StoreError> {
    let exists: bool = store.query_one(
        "SELECT EXISTS (SELECT 1 FROM workflows WHERE name = ?1)",
        params![name],
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
    let rows: Vec<(String, String, u64)> = store.query(
        "SELECT v.step, v.kind, count(*) FROM events v JOIN enrollments e ON e.id = v.enrollment
         JOIN workflows w ON w.id = e.workflow WHERE w.name = ?1 GROUP BY v.step, v.kind ORDER BY min(v.id)",
        params![name],
        |row| row.columns(),
    )?;
    for (step, kind, count) in rows {
        add(step, kind, false, count);
    }
    let mut programs = Programs::new(store);
    let rows: Vec<(i64, u32, String, i64)> = store.query(
        "SELECT e.workflow, e.pc, e.status, count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 GROUP BY e.workflow, e.pc, e.status",
        params![name],
        |row| row.columns(),
    )?;
    for (version, pc, status, count) in rows {
        add(
            programs.step(version, pc, &status)?,
            status,
            true,
            count as u64,
        );
    }
    Ok(Some(counts))
}

/// Effects of a workflow taken over from a runner that died holding them
/// (claimed more than once): each may have gone out twice, under its key.
pub fn taken_over(store: &Store, name: &str) -> Result<u64, StoreError> {
    let count: i64 = store.query_one(
        "SELECT count(*) FROM outbox o JOIN enrollments e ON e.id = o.enrollment
         JOIN workflows w ON w.id = e.workflow WHERE w.name = ?1 AND o.claims > 1",
        params![name],
        |row| row.get(0),
    )?;
    Ok(count as u64)
}

/// How enrollments of a workflow ended, by structured reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndingCount {
    /// `goal` (a conversion), `exit` (a disqualification), `failed` or
    /// `completed`.
    pub category: &'static str,
    /// The reason, stable over leads: `goal booked-demo`, `exit at
    /// steps/5/else/1`, `failed at company-lookup`.
    pub reason: String,
    /// How many enrollments ended so.
    pub count: u64,
}

/// How the enrollments of every version of a workflow ended: goals first,
/// then exits, failures and completions, most frequent first within each.
pub fn endings(store: &Store, name: &str) -> Result<Vec<EndingCount>, StoreError> {
    let rows: Vec<(String, String, i64)> = store.query(
        "SELECT w.program, e.ending, count(*) FROM enrollments e JOIN workflows w ON w.id = e.workflow
         WHERE w.name = ?1 AND e.ending IS NOT NULL GROUP BY w.id, w.program, e.ending",
        params![name],
        |row| row.columns(),
    )?;
    let mut programs: rustc_hash::FxHashMap<String, Program> = rustc_hash::FxHashMap::default();
    let mut counts: Vec<EndingCount> = Vec::new();
    for (program, key, count) in rows {
        let Some(ending) = crate::vm::Ending::from_key(&key) else {
            continue;
        };
        if !programs.contains_key(&program) {
            if let Ok(parsed) = serde_json::from_str::<Program>(&program) {
                programs.insert(program.clone(), parsed);
            }
        }
        let Some(program) = programs.get(&program) else {
            continue;
        };
        let (category, reason) = (ending.category(), ending.describe(program));
        match counts
            .iter_mut()
            .find(|known| known.category == category && known.reason == reason)
        {
            Some(known) => known.count += count as u64,
            None => counts.push(EndingCount {
                category,
                reason,
                count: count as u64,
            }),
        }
    }
    let order = |category: &str| {
        ["goal", "exit", "failed", "completed"]
            .iter()
            .position(|c| *c == category)
    };
    counts.sort_by(|a, b| {
        (order(a.category), std::cmp::Reverse(a.count), &a.reason).cmp(&(
            order(b.category),
            std::cmp::Reverse(b.count),
            &b.reason,
        ))
    });
    Ok(counts)
}

/// Resumes a lead's failed enrollments now: the failed step runs again
/// (see [`operator::retry`]), recorded on each timeline as done `by` the
/// operator. Returns how many enrollments.
pub fn retry(
    store: &mut Store,
    lead: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let failed: Vec<i64> = store.query(
        "SELECT id FROM enrollments WHERE lead = ?1 AND status = 'failed'",
        params![lead],
        |row| row.get(0),
    )?;
    let mut retried = 0;
    for id in failed {
        match operator::act(store, id, Action::Retry, by, now) {
            Ok(()) => retried += 1,
            // Moved on meanwhile: nothing to retry.
            Err(ActionError::NotNow { .. } | ActionError::Unknown(_)) => {}
            Err(ActionError::Store(error)) => return Err(error),
        }
    }
    Ok(retried)
}
