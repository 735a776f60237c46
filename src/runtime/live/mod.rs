//! The durable runtime: the same interpreter as the simulation, with every
//! state change committed to the store. An effect is recorded in the outbox
//! by the transaction that reaches its step, delivered after commit, and
//! confirmed by a second transaction that also runs the enrollment on (the
//! recording carrier answers it in the transaction that reaches it).

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use crate::bytecode::Program;
use crate::store::{instant, millis, params, Store, StoreError, Tx};

/// Due enrollments claimed per transaction.
pub const BATCH: usize = 500;
/// How many times an import batch turned back by a conflict is tried again.
const CONFLICT_RETRIES: usize = 5;
/// How long a tick with nothing else to do waits for a delivery in flight.
const WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// A query for enrollment rows with their lead's fields, in the columns
/// [`read_row`] reads, ending with `$rest` (a `WHERE` clause and more).
macro_rules! select_rows {
    ($rest:literal) => {
        concat!(
            "SELECT e.id, e.workflow, e.lead, e.number, e.pc, e.status, e.wake, e.attempts,
                    e.effects, e.entered, e.event, e.loops, e.heard, l.fields
             FROM enrollments e JOIN leads l ON l.id = e.lead ",
            $rest
        )
    };
}

mod activation;
mod claims;
mod clock;
mod delivered;
mod delivery;
mod due;
mod events;
pub mod lease;
mod loaded;
mod outbox;
mod pool;
mod provider;
mod publish;
mod receipts;
mod recording;
pub mod scheduled;
mod stored_leads;
mod timeline_events;
mod touches;
mod work;

pub use clock::{Clock, ClockError};
pub use events::{EntryDecision, EventError, EventOutcome, Heard, Hearing};
pub use provider::{
    Attempt, CallStatus, Carrier, Delivery, Provider, DEFAULT_CONCURRENCY, RECORDED_PER_ROUND,
};
pub(crate) use publish::resumed_wake;
pub use publish::{Migration, Publication, PublishError};
pub use receipts::Receipt;

use lease::{Heartbeat, Runner};

use activation::{test_goals, try_enroll, GoalTest};
use claims::{Pending, PlacedCall};
use delivery::Outlet;
use stored_leads::{upsert_lead, Applicant, Prior, ReadAhead, Upserted};

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
    /// How claimed effects are carried out, from the first tick on.
    outlet: Outlet,
    /// Jobs the threads finished that are not confirmed yet.
    finished: Vec<pool::Done>,
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
            outlet: Outlet::Unset,
            finished: Vec::new(),
            versions: HashMap::default(),
        }
    }

    /// Every stored workflow version.
    pub fn versions(&mut self) -> Result<Vec<Version>, StoreError> {
        stored_versions(&self.store, &mut self.versions)
    }

    /// The types live workflows give lead fields (where two declare one,
    /// the first by name) and the time zone local lead times are read in:
    /// how an import types what it is given.
    pub fn field_types(&mut self) -> Result<FieldTypes, StoreError> {
        let mut types = FieldTypes {
            types: std::collections::BTreeMap::new(),
            zone: crate::compile::DEFAULT_TIMEZONE,
        };
        for version in self.versions()?.iter().filter(|version| version.published) {
            types.zone = version.program.timezone;
            for slot in &version.program.slots {
                types.types.entry(slot.name.clone()).or_insert(slot.ty);
            }
        }
        Ok(types)
    }

    /// Upserts leads (fields by name, JSON values) and enrolls those that
    /// may enter a live workflow, running each to its first suspension.
    /// One transaction per batch: on an error, the batches before it stay
    /// committed and the error says how many leads they held (importing
    /// the same leads again completes the import).
    pub fn import(&mut self, leads: Vec<LeadUpdate>) -> Result<Imported, ImportError> {
        self.import_batches(leads.chunks(BATCH))
    }

    /// [`Live::import`] of leads as `batches` gives them (each of at most
    /// [`BATCH`] leads, one transaction each), so that reading the next
    /// batch can overlap importing this one. On an error, the batches
    /// still to come are counted, not imported.
    pub fn import_batches<B: AsRef<[LeadUpdate]>>(
        &mut self,
        batches: impl IntoIterator<Item = B>,
    ) -> Result<Imported, ImportError> {
        let mut batches = batches.into_iter();
        let mut done = Imported::default();
        let live: Vec<Version> = match self.versions() {
            Ok(versions) => versions.into_iter().filter(|v| v.published).collect(),
            Err(error) => return Err(stopped(&done, 0, batches, error)),
        };
        // From the second batch on, each batch's pages are folded into
        // the database while the next is written, on the other core, not
        // all when the store closes.
        let mut folder = None;
        let mut index = 0;
        while let Some(batch) = batches.next() {
            let batch = batch.as_ref();
            if index == 1 {
                folder = match self.store.folder() {
                    Ok(folder) => folder,
                    Err(error) => return Err(stopped(&done, batch.len(), batches, error)),
                };
            }
            index += 1;
            let mut tally = done.clone();
            let mut imported = self.import_batch(&live, batch, &mut tally);
            // Turned back for another transaction's sake (a runner holding
            // the same leads' enrollments): nothing was written, try again.
            for _ in 0..CONFLICT_RETRIES {
                if !matches!(imported, Err(StoreError::Conflict)) {
                    break;
                }
                tally = done.clone();
                imported = self.import_batch(&live, batch, &mut tally);
            }
            match imported {
                Ok(()) => {
                    done = tally;
                    done.imported += batch.len();
                    if let Some(folder) = &folder {
                        folder.fold();
                    }
                }
                Err(error) => return Err(stopped(&done, batch.len(), batches, error)),
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
        self.import_groups(live, &mut [(batch, tally)])
    }

    /// Imports several groups of leads (each a request of the API) in one
    /// transaction, counting each group's entry decisions into its tally.
    fn import_groups(
        &mut self,
        live: &[Version],
        groups: &mut [(&[LeadUpdate], &mut Imported)],
    ) -> Result<(), StoreError> {
        let transaction = self.store.transaction()?;
        let live: Vec<&Version> = live.iter().collect();
        let ids = groups.iter().flat_map(|(batch, _)| batch.iter());
        let mut read = ReadAhead::read(&transaction, ids.map(|update| update.id.as_str()))?;
        for (batch, tally) in groups.iter_mut() {
            for update in batch.iter() {
                // A record whose `at` is still to come is applied then, by
                // a runner; one whose `at` has passed, now.
                let now = self.clock.now();
                let prior = read.take(&update.id);
                match update.at.filter(|at| *at > now) {
                    Some(at) => {
                        scheduled::schedule(&transaction, update, at)?;
                        tally.scheduled += 1;
                    }
                    None => apply_update(&transaction, &live, update, prior, now, tally)?,
                }
            }
        }
        transaction.notify()?;
        transaction.commit()?;
        Ok(())
    }

    /// Imports small groups of leads together, in one transaction — the
    /// API's concurrent requests, committed at once instead of one by one
    /// — and gives each group what it did. All or none of them are
    /// committed; a transaction turned back by a conflict is run again.
    pub fn import_together(
        &mut self,
        groups: &[Vec<LeadUpdate>],
    ) -> Result<Vec<Imported>, StoreError> {
        let live: Vec<Version> = self
            .versions()?
            .into_iter()
            .filter(|v| v.published)
            .collect();
        let mut attempt = 0;
        loop {
            let mut tallies: Vec<Imported> = groups
                .iter()
                .map(|group| Imported {
                    imported: group.len(),
                    ..Imported::default()
                })
                .collect();
            let mut pairs: Vec<(&[LeadUpdate], &mut Imported)> = groups
                .iter()
                .map(Vec::as_slice)
                .zip(tallies.iter_mut())
                .collect();
            match self.import_groups(&live, &mut pairs) {
                Ok(()) => return Ok(tallies),
                Err(StoreError::Conflict) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// Does one round of the work due now: confirms the deliveries that
    /// finished (running on the enrollments that waited for them), starts
    /// the ones there is room for, runs a batch of due enrollments and
    /// tests a batch of time-relative triggers. When there was nothing to
    /// do but deliveries are in flight, waits a moment for one. Returns
    /// how much it did (0: nothing); call it again until it returns 0 and
    /// [`Live::in_flight`] says nothing is left.
    pub fn tick(&mut self, carrier: &Carrier) -> Result<usize, StoreError> {
        // Every version an enrollment may be on, loaded before the round.
        self.versions()?;
        self.use_carrier(carrier)?;
        self.collect(None);
        let room = self.room();
        if self.finished.is_empty() && !self.due(&room)? {
            // Nothing to write: wait for a delivery in flight, or until the
            // next look at a placed call.
            self.collect(Some(WAIT));
            if self.finished.is_empty() {
                self.await_look(WAIT)?;
                return Ok(0);
            }
        }
        if !room.is_empty() {
            self.beat()?;
        }
        // One transaction a round: confirmations, claims and runs share
        // the write lock, which other runners and imports take in turn.
        let now = self.clock.now();
        let timing = self.call_timing();
        // Effects the round's enrollments reach are answered where they
        // are reached when the carrier records them.
        let answering = self.outlet.answering(now);
        let answering = answering.as_ref();
        let transaction = self.store.transaction()?;
        let confirmed = delivery::confirm(
            &transaction,
            &self.finished,
            &self.versions,
            timing,
            now,
            answering,
        )?;
        let jobs = claims::claim_jobs(&transaction, &self.runner, &room, now, self.outlet.hold())?;
        let jobs = delivery::hold_closed(&transaction, &self.versions, jobs, now)?;
        let (jobs, mut answered) = delivery::suppress(&transaction, jobs)?;
        let (jobs, recorded) = self.outlet.record(&transaction, jobs)?;
        answered.extend(recorded);
        // Answered without a provider: confirmed in the transaction that
        // claimed them, so nothing of them outlives it.
        let confirmed_now = delivery::confirm(
            &transaction,
            &answered,
            &self.versions,
            timing,
            now,
            answering,
        )?;
        let live: Vec<&Version> = self.versions.values().filter(|v| v.published).collect();
        let applied = scheduled::apply_due(&transaction, &live, now)?;
        let ran = due::run_due(&transaction, &self.versions, now, answering)?;
        let retested = due::retest_due(&transaction, &self.versions, now)?;
        transaction.commit()?;
        self.finished.clear();
        let started = jobs.len() + answered.len();
        self.start(jobs);
        Ok(confirmed + started + confirmed_now + applied + ran + retested)
    }

    /// Whether anything is due now: an enrollment, a trigger flip, or an
    /// effect the delivery threads have room for. Read without taking the
    /// write lock, so an idle runner does not contend for it.
    fn due(&self, room: &[(&'static str, usize)]) -> Result<bool, StoreError> {
        let now = millis(self.clock.now());
        let due: bool = self.store.query_one(
            "SELECT EXISTS (SELECT 1 FROM enrollments WHERE wake IS NOT NULL AND wake <= ?1)
                 OR EXISTS (SELECT 1 FROM triggers WHERE flip IS NOT NULL AND flip <= ?1)
                 OR EXISTS (SELECT 1 FROM scheduled_updates WHERE at <= ?1)",
            params![now],
            |row| row.get(0),
        )?;
        Ok(due || self.claimable(room)?)
    }

    /// When the next enrollment is due, the next trigger flips or the next
    /// scheduled lead record is applied, if ever.
    pub fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.store.query_one(
            "SELECT min(at) FROM (SELECT min(wake) AS at FROM enrollments WHERE wake IS NOT NULL
                                  UNION ALL SELECT min(flip) FROM triggers WHERE flip IS NOT NULL
                                  UNION ALL SELECT min(at) FROM scheduled_updates) next",
            params![],
            |row| row.get(0),
        )?;
        Ok(next.map(instant))
    }
}

/// Every workflow version stored in `store` (read through a transaction
/// or not), each program parsed once: `known` keeps those read before.
fn stored_versions(
    store: &Store,
    known: &mut HashMap<i64, Version>,
) -> Result<Vec<Version>, StoreError> {
    let rows: Vec<(i64, String, i64, bool)> = store.query(
        "SELECT id, name, version, published FROM workflows ORDER BY name, version",
        params![],
        |row| row.columns(),
    )?;
    let mut versions = Vec::with_capacity(rows.len());
    for (id, name, version, published) in rows {
        // Programs never change once stored: each is read and parsed once.
        let program = match known.get(&id) {
            Some(known) => Rc::clone(&known.program),
            None => {
                let text: String = store.query_one(
                    "SELECT program FROM workflows WHERE id = ?1",
                    params![id],
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
        known.insert(id, stored.clone());
        versions.push(stored);
    }
    Ok(versions)
}

/// Applies a lead record at `now`: the lead updated, the goals tested
/// again, and the entry rules of every live workflow with a criteria
/// trigger, counted into `tally`.
fn apply_update(
    transaction: &Tx<'_>,
    live: &[&Version],
    update: &LeadUpdate,
    prior: Prior,
    now: DateTime<Utc>,
    tally: &mut Imported,
) -> Result<(), StoreError> {
    let Upserted { fields, created } = upsert_lead(transaction, update, prior, now)?;
    for version in live {
        // A lead just created has no enrollment a goal could end.
        if !created {
            let test = GoalTest::Fields;
            test_goals(transaction, version, &update.id, &fields, test, now)?;
        }
        if version.program.trigger.event.is_none() {
            let applicant = if created {
                Applicant::created(&update.id, &fields, update.last_activity)
            } else {
                Applicant::stored(&update.id, &fields)
            };
            match try_enroll(transaction, version, applicant, &[], None, now)? {
                Ok(()) => tally.entered += 1,
                Err(refusal) => *tally.refused.entry(refusal.code()).or_insert(0) += 1,
            }
        }
    }
    Ok(())
}

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
    /// Records whose `at` is still to come: applied then, by a runner.
    pub scheduled: usize,
}

/// An import stopped by `error` after `done`, with `unsent` leads of the
/// batch it was at and those of the batches `rest` holds not imported.
fn stopped<B: AsRef<[LeadUpdate]>>(
    done: &Imported,
    unsent: usize,
    rest: impl Iterator<Item = B>,
    error: StoreError,
) -> ImportError {
    ImportError {
        imported: done.imported,
        total: done.imported + unsent + rest.map(|batch| batch.as_ref().len()).sum::<usize>(),
        entered: done.entered,
        error,
    }
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

/// How an import types lead fields: see [`Live::field_types`].
#[derive(Clone, Debug)]
pub struct FieldTypes {
    /// Each declared field's type.
    pub types: std::collections::BTreeMap<String, crate::value::ValueType>,
    /// The zone of local times given for datetime fields.
    pub zone: chrono_tz::Tz,
}

impl FieldTypes {
    /// No field declared: every value is kept as given, local times are
    /// read in `zone`.
    pub fn untyped(zone: chrono_tz::Tz) -> FieldTypes {
        FieldTypes {
            types: std::collections::BTreeMap::new(),
            zone,
        }
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
    /// Its `simulate` script, if the record has one: how the recording
    /// provider answers its steps.
    pub script: Option<Map<String, Json>>,
}
