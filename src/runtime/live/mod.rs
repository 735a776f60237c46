//! The durable runtime: the same interpreter as the simulation, with every
//! state change committed to the store. An effect is recorded in the outbox
//! by the transaction that reaches its step, delivered after commit, and
//! confirmed by a second transaction that also runs the enrollment on.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use super::entry;
use crate::bytecode::Program;
use crate::store::{instant, millis, Store, StoreError};

/// Due enrollments claimed per transaction.
pub const BATCH: usize = 500;
/// Pending effects claimed at once. Each is confirmed on its own right
/// after its delivery, so a crash repeats at most the one delivery it cut
/// short (under the same key); the others are taken over when its lease
/// lapses.
pub const PENDING_BATCH: usize = 32;

/// A query for enrollment rows with their lead's fields, in the columns
/// [`read_row`] reads, ending with `$rest` (a `WHERE` clause and more).
macro_rules! select_rows {
    ($rest:literal) => {
        concat!(
            "SELECT e.id, e.workflow, e.lead, e.number, e.pc, e.status, e.wake, e.attempts,
                    e.effects, e.entered, e.event, l.fields
             FROM enrollments e JOIN leads l ON l.id = e.lead ",
            $rest
        )
    };
}

mod activation;
mod clock;
pub mod lease;
mod outbox;
mod provider;
mod publish;
mod stored_leads;

/// Runs a statement through the connection's statement cache.
fn execute(
    transaction: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    Ok(transaction.prepare_cached(sql)?.execute(params)?)
}

/// Reads one row through the connection's statement cache.
fn query_row<T>(
    transaction: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    transaction.prepare_cached(sql)?.query_row(params, read)
}

pub use clock::{Clock, ClockError};
pub use provider::{Delivery, Provider, RecordingProvider};
pub use publish::{Migration, Publication, PublishError};

use lease::{Heartbeat, Runner};

use activation::{read_row, resume, run_loaded, test_goals, try_enroll, Delivered, Row};
use stored_leads::{lead_fields, upsert_lead};

/// A stored workflow version.
#[derive(Clone, Debug)]
pub struct Version {
    /// The row id.
    pub id: i64,
    /// The workflow's name.
    pub name: String,
    /// Its version number, from 1.
    pub version: i64,
    /// Whether it takes new leads.
    pub published: bool,
    /// The program.
    pub program: Rc<Program>,
}

/// The live runtime over one store.
pub struct Live {
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Clock,
    /// Who claims effects, and for how long.
    pub runner: Runner,
    /// Renews the runner's claims, from its first claim on.
    heartbeat: Option<Heartbeat>,
    versions: HashMap<i64, Version>,
}

impl Live {
    /// The runtime over `store`.
    pub fn new(store: Store, clock: Clock) -> Self {
        Live {
            store,
            clock,
            runner: Runner::new(lease::DEFAULT),
            heartbeat: None,
            versions: HashMap::default(),
        }
    }

    /// Every stored workflow version.
    pub fn versions(&mut self) -> Result<Vec<Version>, StoreError> {
        let rows: Vec<(i64, String, i64, bool)> = {
            let mut statement = self.store.connection.prepare_cached(
                "SELECT id, name, version, published FROM workflows ORDER BY name, version",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut versions = Vec::with_capacity(rows.len());
        for (id, name, version, published) in rows {
            // Programs never change once stored: each is read and parsed once.
            let program = match self.versions.get(&id) {
                Some(known) => Rc::clone(&known.program),
                None => {
                    let text: String = self.store.connection.query_row(
                        "SELECT program FROM workflows WHERE id = ?1",
                        [id],
                        |row| row.get(0),
                    )?;
                    Rc::new(serde_json::from_str::<Program>(&text)?)
                }
            };
            let stored = Version {
                id,
                name,
                version,
                published,
                program,
            };
            self.versions.insert(id, stored.clone());
            versions.push(stored);
        }
        Ok(versions)
    }

    /// Upserts leads (fields by name, JSON values) and enrolls those that
    /// may enter a live workflow, running each to its first suspension.
    /// One transaction per batch: on an error, the batches before it stay
    /// committed and the error says how many leads they held (importing
    /// the same leads again completes the import).
    pub fn import(&mut self, leads: Vec<LeadUpdate>) -> Result<Imported, ImportError> {
        let total = leads.len();
        let mut done = Imported::default();
        let stopped = |imported, entered, error| ImportError {
            imported,
            total,
            entered,
            error,
        };
        let live: Vec<Version> = match self.versions() {
            Ok(versions) => versions.into_iter().filter(|v| v.published).collect(),
            Err(error) => return Err(stopped(0, 0, error)),
        };
        for batch in leads.chunks(BATCH) {
            let mut tally = done.clone();
            match self.import_batch(&live, batch, &mut tally) {
                Ok(()) => {
                    done = tally;
                    done.imported += batch.len();
                }
                Err(error) => return Err(stopped(done.imported, done.entered, error)),
            }
        }
        Ok(done)
    }

    /// Imports one batch in one transaction, counting what the entry
    /// rules decided into `tally`.
    fn import_batch(
        &mut self,
        live: &[Version],
        batch: &[LeadUpdate],
        tally: &mut Imported,
    ) -> Result<(), StoreError> {
        let transaction = self.store.connection.transaction()?;
        for update in batch {
            // Live imports happen now: `at` is for simulations.
            let now = self.clock.now();
            let fields = upsert_lead(&transaction, update, now)?;
            for version in live {
                test_goals(&transaction, version, &update.id, &fields, now)?;
                if version.program.trigger.event.is_none() {
                    match try_enroll(&transaction, version, &update.id, &fields, &[], None, now)? {
                        Ok(()) => tally.entered += 1,
                        Err(refusal) => *tally.refused.entry(refusal.code()).or_insert(0) += 1,
                    }
                }
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// An event happens to a lead: live workflows triggered by it may
    /// enroll the lead. Returns each such workflow with whether the lead
    /// entered it, and why not.
    pub fn event(
        &mut self,
        name: &str,
        lead: &str,
        data: &Map<String, Json>,
    ) -> Result<Vec<EntryDecision>, EventError> {
        let now = self.clock.now();
        let live: Vec<Version> = self
            .versions()?
            .into_iter()
            .filter(|v| v.published)
            .collect();
        let transaction = self
            .store
            .connection
            .transaction()
            .map_err(StoreError::from)?;
        let Some(fields) = lead_fields(&transaction, lead)? else {
            return Err(EventError::UnknownLead(lead.to_owned()));
        };
        let mut decisions = Vec::new();
        for version in live
            .iter()
            .filter(|v| v.program.trigger.event.as_deref() == Some(name))
        {
            let program = &version.program;
            let payload = entry::payload(program, data).map_err(EventError::BadData)?;
            let stored = Json::Object(data.clone()).to_string();
            let decision = try_enroll(
                &transaction,
                version,
                lead,
                &fields,
                &payload,
                Some(&stored),
                now,
            )?;
            decisions.push((version.name.clone(), decision));
        }
        transaction.commit().map_err(StoreError::from)?;
        Ok(decisions)
    }

    /// Does one round of the work due now: delivers a batch of recorded
    /// effects and runs on the enrollments that waited for them, then runs
    /// a batch of due enrollments. Returns how much it did (0: nothing was
    /// due); call it again until it returns 0.
    pub fn tick(&mut self, provider: &mut dyn Provider) -> Result<usize, StoreError> {
        // Every version an enrollment may be on, loaded before the batches.
        self.versions()?;
        let delivered = self.deliver(provider)?;
        let ran = self.run_due()?;
        let retested = self.retest_due()?;
        Ok(delivered + ran + retested)
    }

    /// Claims a batch of pending effects and delivers them, each confirmed
    /// right after its delivery in a transaction that also runs its
    /// enrollment on. A confirmation that finds the effect already done
    /// (another runner took over a lapsed claim and confirmed first) is
    /// dropped, so an enrollment never runs on twice from one effect.
    fn deliver(&mut self, provider: &mut dyn Provider) -> Result<usize, StoreError> {
        let claimed = self.claim(PENDING_BATCH)?;
        for pending in &claimed {
            let response = provider.deliver(&pending.delivery);
            let transaction = self.store.connection.transaction()?;
            let confirmed = execute(
                &transaction,
                "UPDATE outbox SET status = 'done', response = ?1, done = ?2, owner = NULL, lease = NULL
                 WHERE id = ?3 AND status = 'pending'",
                params![
                    serde_json::to_string(&response)?,
                    millis(self.clock.now()),
                    pending.delivery.id
                ],
            )?;
            if confirmed == 1 {
                // The enrollment runs on at the instant it reached the
                // step, as in a simulation: a late runner keeps the schedule.
                resume(
                    &transaction,
                    &self.versions,
                    pending.enrollment,
                    pending.created,
                    &Delivered {
                        message: &pending.delivery.message,
                        response: &response,
                    },
                )?;
            }
            transaction.commit()?;
        }
        Ok(claimed.len())
    }

    /// Claims a batch of due enrollments in wake-up order and runs each on
    /// at the instant it was due, in one transaction.
    fn run_due(&mut self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let transaction = self.store.connection.transaction()?;
        let due: Vec<(Row, String)> = {
            let mut statement = transaction.prepare_cached(select_rows!(
                "WHERE e.wake IS NOT NULL AND e.wake <= ?1 ORDER BY e.wake, e.id LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![millis(now), BATCH as i64], read_row)?;
            rows.collect::<Result<_, _>>()?
        };
        let count = due.len();
        for (row, fields) in due {
            let at = row.enrollment.wake;
            run_loaded(&transaction, &self.versions, row, &fields, at)?;
        }
        transaction.commit()?;
        Ok(count)
    }

    /// Tests again, in one transaction, a batch of leads whose trigger or
    /// goals a time-relative test flips by now (`is older than 90 days`
    /// turning true): as if the lead had changed, at the instant it flips.
    /// The `triggers` table indexes each lead's next flip, so nothing else
    /// is scanned.
    /// Uses the versions [`Live::tick`] loaded.
    fn retest_due(&mut self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let live: Vec<Version> = self
            .versions
            .values()
            .filter(|version| version.published)
            .cloned()
            .collect();
        let transaction = self.store.connection.transaction()?;
        let due: Vec<(String, String, i64)> = {
            let mut statement = transaction.prepare_cached(
                "SELECT workflow, lead, flip FROM triggers
                 WHERE flip IS NOT NULL AND flip <= ?1 ORDER BY flip LIMIT ?2",
            )?;
            let rows = statement.query_map(params![millis(now), BATCH as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        for (name, lead, flip) in &due {
            // Unschedule first: a workflow no longer live is not tested again.
            execute(
                &transaction,
                "UPDATE triggers SET flip = NULL WHERE workflow = ?1 AND lead = ?2",
                params![name, lead],
            )?;
            let (Some(version), Some(fields)) = (
                live.iter().find(|version| version.name == *name),
                lead_fields(&transaction, lead)?,
            ) else {
                continue;
            };
            let at = instant(*flip);
            test_goals(&transaction, version, lead, &fields, at)?;
            if version.program.trigger.event.is_none() {
                // A refusal leaves the lead as it is; the next flip or
                // update tests it again.
                let _refused = try_enroll(&transaction, version, lead, &fields, &[], None, at)?;
            }
        }
        transaction.commit()?;
        Ok(due.len())
    }

    /// When the next enrollment is due or the next trigger flips, if ever.
    pub fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.store.connection.query_row(
            "SELECT min(at) FROM (SELECT min(wake) AS at FROM enrollments WHERE wake IS NOT NULL
                                  UNION ALL SELECT min(flip) FROM triggers WHERE flip IS NOT NULL)",
            [],
            |row| row.get(0),
        )?;
        Ok(next.map(instant))
    }

    /// Claims up to `limit` pending effects in outbox order that no other
    /// live runner holds: unclaimed, claimed under a lease that lapsed, or
    /// claimed by this runner in a tick that failed part-way.
    fn claim(&mut self, limit: usize) -> Result<Vec<Pending>, StoreError> {
        if self.heartbeat.is_none() {
            self.heartbeat = Some(Heartbeat::start(self.store.path(), &self.runner)?);
        }
        let transaction = self.store.connection.transaction()?;
        let mut claimed = {
            let mut statement = transaction.prepare_cached(
                "UPDATE outbox SET owner = ?1, lease = ?2
                 WHERE id IN (SELECT id FROM outbox
                              WHERE status = 'pending' AND (lease IS NULL OR lease <= ?3 OR owner = ?1)
                              ORDER BY id LIMIT ?4)
                 RETURNING id, key, attempt, kind, message, enrollment, created",
            )?;
            let rows = statement.query_map(
                params![
                    self.runner.owner,
                    self.runner.expiry(),
                    lease::now_millis(),
                    limit as i64
                ],
                |row| {
                    Ok(Pending {
                        delivery: Delivery {
                            id: row.get(0)?,
                            key: row.get(1)?,
                            attempt: row.get(2)?,
                            kind: row.get(3)?,
                            message: row.get(4)?,
                        },
                        enrollment: row.get(5)?,
                        created: instant(row.get(6)?),
                    })
                },
            )?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        transaction.commit()?;
        claimed.sort_by_key(|pending| pending.delivery.id);
        Ok(claimed)
    }
}

/// A pending outbox row: the delivery, and the enrollment waiting for it
/// since the instant it reached the step.
struct Pending {
    delivery: Delivery,
    enrollment: i64,
    created: DateTime<Utc>,
}

/// Why an event could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No lead has the id.
    #[error("no lead has the id {0:?}; import it first")]
    UnknownLead(String),
    /// The payload does not fit the event's declared fields.
    #[error("the event's data does not fit: {0}")]
    BadData(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A workflow's name and whether a lead entered it, or why not.
pub type EntryDecision = (String, Result<(), entry::Refusal>);

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Leads imported.
    pub imported: usize,
    /// Enrollments started.
    pub entered: usize,
    /// Entry decisions that turned a lead away from a live workflow, by
    /// refusal code.
    pub refused: std::collections::BTreeMap<&'static str, usize>,
}

/// An import that stopped part-way: what was committed before the error.
#[derive(Debug, thiserror::Error)]
pub struct ImportError {
    /// Leads committed before the error (whole batches).
    pub imported: usize,
    /// Leads given.
    pub total: usize,
    /// Enrollments those leads started.
    pub entered: usize,
    /// What stopped it.
    #[source]
    pub error: StoreError,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.imported == 0 {
            return write!(f, "{}; nothing was imported", self.error);
        }
        write!(
            f,
            "{} after {} of {} leads were imported ({} enrollments started): those stay imported, the other {} were not; importing the same file again completes it",
            self.error,
            self.imported,
            self.total,
            self.entered,
            self.total - self.imported
        )
    }
}

/// A lead record for import: fields by name.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadUpdate {
    /// The lead's id.
    pub id: String,
    /// When it happened; `None` for now.
    pub at: Option<DateTime<Utc>>,
    /// When the lead was last active.
    pub last_activity: Option<DateTime<Utc>>,
    /// Field values by name (`null` clears).
    pub fields: Map<String, Json>,
}
