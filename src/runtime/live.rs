//! The durable runtime: the same interpreter as the simulation, with every
//! state change committed to the store. An effect is recorded in the outbox
//! by the transaction that reaches its step, delivered after commit, and
//! confirmed by a second transaction that also runs the enrollment on.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use super::entry::{self, History};
use super::recorder;
use crate::bytecode::{Artifact, Program, SlotSource};
use crate::store::{instant, millis, Store, StoreError};
use crate::value::{self, Value};
use crate::vm::{Advance, Channels, Context, Enrollment, Event, Request, Response, Status, Vm};

/// Due enrollments claimed per transaction.
pub const BATCH: usize = 500;
/// Effects delivered before their confirmations are committed: a crash
/// repeats at most this many deliveries (under the same keys).
pub const DELIVERY_BATCH: usize = 32;

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

/// An effect to deliver, as the outbox holds it.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The outbox row.
    pub id: i64,
    /// The idempotency key.
    pub key: String,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The effect's kind.
    pub kind: String,
    /// The rendered message, as JSON.
    pub message: String,
}

/// Carries effects to providers: the recording provider here, real ones
/// with the channels issue.
pub trait Provider {
    /// Delivers one effect and says how it went.
    fn deliver(&mut self, delivery: &Delivery) -> Response;
}

/// A provider that sends nothing and records every delivery in the
/// database's `deliveries` table, answering like the simulation's
/// unscripted recorder.
pub struct RecordingProvider {
    connection: rusqlite::Connection,
}

impl RecordingProvider {
    /// Records into the database at `path` (its own connection, so each
    /// delivery is durable on its own, as a provider's would be).
    pub fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let connection = rusqlite::Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(RecordingProvider { connection })
    }
}

impl Provider for RecordingProvider {
    fn deliver(&mut self, delivery: &Delivery) -> Response {
        let recorded = self.connection.execute(
            "INSERT INTO deliveries (key, attempt, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                delivery.key,
                delivery.attempt,
                delivery.kind,
                delivery.message,
                millis(Utc::now())
            ],
        );
        match recorded {
            Ok(_) => recorder::default_response(&delivery.kind),
            Err(error) => Response::Transient(format!("the recording provider failed: {error}")),
        }
    }
}

/// The clock of a live run: the real one, or for tests an accelerated one
/// (`FLOWC_CLOCK=START@EPOCH_MS*SPEED`: virtual START at real EPOCH_MS,
/// SPEED virtual seconds per real second) that survives restarts.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// Wall-clock time.
    Real,
    /// A fixed instant that a test moves by hand.
    Fixed(DateTime<Utc>),
    /// Accelerated time from a fixed origin.
    Accelerated {
        /// The virtual instant at the origin.
        start: DateTime<Utc>,
        /// The real instant of the origin.
        origin: DateTime<Utc>,
        /// Virtual seconds per real second.
        speed: f64,
    },
}

impl Clock {
    /// The clock `FLOWC_CLOCK` describes, or the real one.
    pub fn from_env() -> Clock {
        std::env::var("FLOWC_CLOCK")
            .ok()
            .and_then(|text| {
                let (start, rest) = text.split_once('@')?;
                let (origin, speed) = rest.split_once('*')?;
                Some(Clock::Accelerated {
                    start: DateTime::parse_from_rfc3339(start)
                        .ok()?
                        .with_timezone(&Utc),
                    origin: DateTime::from_timestamp_millis(origin.parse().ok()?)?,
                    speed: speed.parse().ok()?,
                })
            })
            .unwrap_or(Clock::Real)
    }

    /// The current instant.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::Real => Utc::now(),
            Clock::Fixed(instant) => instant,
            Clock::Accelerated {
                start,
                origin,
                speed,
            } => {
                let real = (Utc::now() - origin).num_milliseconds() as f64;
                let elapsed = chrono::Duration::milliseconds((real * speed) as i64);
                start.checked_add_signed(elapsed).unwrap_or(start)
            }
        }
    }

    /// How long to sleep in real time until the virtual instant `until`.
    pub fn real_delay(self, until: DateTime<Utc>) -> std::time::Duration {
        let virtual_ms = (until - self.now()).num_milliseconds().max(0) as f64;
        let real_ms = match self {
            Clock::Real | Clock::Fixed(_) => virtual_ms,
            Clock::Accelerated { speed, .. } => virtual_ms / speed.max(f64::MIN_POSITIVE),
        };
        std::time::Duration::from_millis(real_ms.min(3_600_000.0) as u64)
    }
}

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

/// What publishing did to one workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// A new version was stored and made live.
    NewVersion {
        /// The workflow.
        name: String,
        /// Its new version number.
        version: i64,
        /// Enrollments moved to it from older versions.
        migrated: usize,
    },
    /// The source did not change; the version is live again.
    Unchanged {
        /// The workflow.
        name: String,
        /// Its version number.
        version: i64,
        /// Paused timers resumed.
        resumed: usize,
    },
}

/// What publishing a changed workflow does to running enrollments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Migration {
    /// They stay on the version they entered.
    None,
    /// They move to the new version, to the step with the same label; with
    /// `force`, those whose label is gone move to that label.
    ByLabel {
        /// Where enrollments at a step that no longer exists go.
        force: Option<String>,
    },
}

/// Why publishing stopped (nothing was published).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Some enrollments stand at steps the new version no longer has.
    #[error(
        "{} enrollments stand at steps the new version no longer has; nothing was published:\n{}\n\
         add `--force LABEL` to move them to that step",
        .0.len(),
        .0.iter().map(|(lead, label)| format!("  {lead} at {label}")).collect::<Vec<_>>().join("\n")
    )]
    Unmigratable(Vec<(String, String)>),
    /// `--force` names a label the new version does not have.
    #[error("the new version has no step labelled `{0}`; nothing was published")]
    UnknownLabel(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for PublishError {
    fn from(error: rusqlite::Error) -> Self {
        PublishError::Store(error.into())
    }
}

impl From<serde_json::Error> for PublishError {
    fn from(error: serde_json::Error) -> Self {
        PublishError::Store(error.into())
    }
}

/// Moves the running enrollments of older versions of `name` to the new
/// version `id`, step by step label. In-flight enrollments (an effect
/// recorded, not yet confirmed) stay, so no effect is sent twice.
fn migrate(
    transaction: &Transaction<'_>,
    name: &str,
    id: i64,
    program: &Program,
    force: Option<&str>,
) -> Result<usize, PublishError> {
    let target_of = |label: &str| {
        program
            .origins
            .iter()
            .position(|origin| origin.label == label)
            .map(|pc| pc as u32)
    };
    let forced = match force {
        Some(label) => {
            Some(target_of(label).ok_or_else(|| PublishError::UnknownLabel(label.to_owned()))?)
        }
        None => None,
    };
    let running: Vec<(i64, String, u32, String)> = {
        let mut statement = transaction
            .prepare_cached(
                "SELECT e.id, e.lead, e.pc, w.program FROM enrollments e JOIN workflows w ON w.id = e.workflow
                 WHERE w.name = ?1 AND w.id != ?2 AND e.status IN ('waiting', 'held')",
            )
            .map_err(StoreError::from)?;
        let rows = statement
            .query_map(params![name, id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .map_err(StoreError::from)?;
        rows.collect::<Result<_, _>>().map_err(StoreError::from)?
    };
    let mut moves = Vec::new();
    let mut stuck = Vec::new();
    for (enrollment, lead, pc, old) in running {
        let old: Program = serde_json::from_str(&old).map_err(StoreError::from)?;
        let label = old
            .origins
            .get(pc as usize)
            .map_or_else(String::new, |origin| origin.label.clone());
        match target_of(&label).or(forced) {
            Some(target) => moves.push((enrollment, target)),
            None => stuck.push((lead, label)),
        }
    }
    if !stuck.is_empty() {
        return Err(PublishError::Unmigratable(stuck));
    }
    for (enrollment, target) in &moves {
        execute(
            transaction,
            "UPDATE enrollments SET workflow = ?1, pc = ?2 WHERE id = ?3",
            params![id, target, enrollment],
        )?;
    }
    Ok(moves.len())
}

/// The live runtime over one store.
pub struct Live {
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Clock,
    versions: HashMap<i64, Version>,
}

impl Live {
    /// The runtime over `store`.
    pub fn new(store: Store, clock: Clock) -> Self {
        Live {
            store,
            clock,
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

    /// Stores every workflow of a compiled file that changed as a new
    /// version and makes each live; an unchanged one is made live again,
    /// its paused timers resumed with the time they had left.
    pub fn publish(
        &mut self,
        artifact: &Artifact,
        source: &str,
        migration: Migration,
    ) -> Result<Vec<Publication>, PublishError> {
        let now = self.clock.now();
        let transaction = self
            .store
            .connection
            .transaction()
            .map_err(StoreError::from)?;
        let mut publications = Vec::new();
        for program in &artifact.programs {
            let latest: Option<(i64, i64, String)> = query_row(&transaction,
                    "SELECT id, version, hash FROM workflows WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                    [&program.name],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            execute(
                &transaction,
                "UPDATE workflows SET published = 0 WHERE name = ?1",
                [&program.name],
            )?;
            match latest {
                Some((id, version, hash)) if hash == artifact.source_hash => {
                    transaction
                        .execute("UPDATE workflows SET published = 1 WHERE id = ?1", [id])?;
                    let resumed = execute(&transaction,
                        "UPDATE enrollments SET wake = ?1 + remaining, remaining = NULL
                         WHERE remaining IS NOT NULL AND workflow IN (SELECT id FROM workflows WHERE name = ?2)",
                        params![millis(now), program.name],
                    )?;
                    publications.push(Publication::Unchanged {
                        name: program.name.clone(),
                        version,
                        resumed,
                    });
                }
                latest => {
                    let version = latest.map_or(1, |(_, version, _)| version + 1);
                    execute(&transaction,
                        "INSERT INTO workflows (name, version, hash, source, program, published, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                        params![
                            program.name,
                            version,
                            artifact.source_hash,
                            source,
                            serde_json::to_string(program)?,
                            millis(now)
                        ],
                    )?;
                    // Timers paused by unpublishing run again: their
                    // enrollments stay on the version they entered.
                    execute(&transaction,
                        "UPDATE enrollments SET wake = ?1 + remaining, remaining = NULL
                         WHERE remaining IS NOT NULL AND workflow IN (SELECT id FROM workflows WHERE name = ?2)",
                        params![millis(now), program.name],
                    )?;
                    let id = transaction.last_insert_rowid();
                    let migrated = match &migration {
                        Migration::None => 0,
                        Migration::ByLabel { force } => {
                            migrate(&transaction, &program.name, id, program, force.as_deref())?
                        }
                    };
                    publications.push(Publication::NewVersion {
                        name: program.name.clone(),
                        version,
                        migrated,
                    });
                }
            }
        }
        transaction.commit().map_err(StoreError::from)?;
        Ok(publications)
    }

    /// Takes a workflow off line: no new leads, and every timer of its
    /// enrollments paused with the time it had left. Returns how many were
    /// paused, or `None` if no workflow has that name.
    pub fn unpublish(&mut self, name: &str) -> Result<Option<usize>, StoreError> {
        let now = millis(self.clock.now());
        let transaction = self.store.connection.transaction()?;
        let known = execute(
            &transaction,
            "UPDATE workflows SET published = 0 WHERE name = ?1",
            [name],
        )?;
        if known == 0 {
            return Ok(None);
        }
        let paused = execute(
            &transaction,
            "UPDATE enrollments SET remaining = max(wake - ?1, 0), wake = NULL
             WHERE wake IS NOT NULL AND workflow IN (SELECT id FROM workflows WHERE name = ?2)",
            params![now, name],
        )?;
        transaction.commit()?;
        Ok(Some(paused))
    }

    /// Upserts leads (fields by name, JSON values) and enrolls those that
    /// may enter a live workflow, running each to its first suspension.
    /// One transaction per batch.
    pub fn import(&mut self, leads: Vec<LeadUpdate>) -> Result<usize, StoreError> {
        let live: Vec<Version> = self
            .versions()?
            .into_iter()
            .filter(|v| v.published)
            .collect();
        let mut entered = 0;
        for batch in leads.chunks(BATCH) {
            let transaction = self.store.connection.transaction()?;
            for update in batch {
                // Live imports happen now: `at` is for simulations.
                let now = self.clock.now();
                let fields = upsert_lead(&transaction, update, now)?;
                for version in &live {
                    test_goals(&transaction, version, &update.id, &fields, now)?;
                    if version.program.trigger.event.is_none()
                        && try_enroll(&transaction, version, &update.id, &fields, &[], None, now)?
                    {
                        entered += 1;
                    }
                }
            }
            transaction.commit()?;
        }
        Ok(entered)
    }

    /// An event happens to a lead: live workflows triggered by it may
    /// enroll the lead. Returns how many enrollments started.
    pub fn event(
        &mut self,
        name: &str,
        lead: &str,
        data: &Map<String, Json>,
    ) -> Result<usize, EventError> {
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
        let mut entered = 0;
        for version in live
            .iter()
            .filter(|v| v.program.trigger.event.as_deref() == Some(name))
        {
            let program = &version.program;
            let payload = entry::payload(program, data).map_err(EventError::BadData)?;
            let stored = Json::Object(data.clone()).to_string();
            if try_enroll(
                &transaction,
                version,
                lead,
                &fields,
                &payload,
                Some(&stored),
                now,
            )? {
                entered += 1;
            }
        }
        transaction.commit().map_err(StoreError::from)?;
        Ok(entered)
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
        Ok(delivered + ran)
    }

    /// Delivers a batch of pending effects, then confirms them and runs
    /// their enrollments on in one transaction.
    fn deliver(&mut self, provider: &mut dyn Provider) -> Result<usize, StoreError> {
        let deliveries = self.pending(DELIVERY_BATCH)?;
        if deliveries.is_empty() {
            return Ok(0);
        }
        let answered: Vec<(&Delivery, Response)> = deliveries
            .iter()
            .map(|delivery| (delivery, provider.deliver(delivery)))
            .collect();
        let now = self.clock.now();
        let transaction = self.store.connection.transaction()?;
        for (delivery, response) in answered {
            execute(
                &transaction,
                "UPDATE outbox SET status = 'done', response = ?1, done = ?2 WHERE id = ?3",
                params![serde_json::to_string(&response)?, millis(now), delivery.id],
            )?;
            // The enrollment runs on at the instant it reached the step, as
            // in a simulation: a late runner keeps the schedule.
            let (enrollment, created): (i64, i64) = query_row(
                &transaction,
                "SELECT enrollment, created FROM outbox WHERE id = ?1",
                [delivery.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            resume(&transaction, &self.versions, enrollment, instant(created))?;
        }
        transaction.commit()?;
        Ok(deliveries.len())
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

    /// When the next enrollment is due, if any is.
    pub fn next_wake(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.store.connection.query_row(
            "SELECT min(wake) FROM enrollments WHERE wake IS NOT NULL",
            [],
            |row| row.get(0),
        )?;
        Ok(next.map(instant))
    }

    fn pending(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let mut statement = self.store.connection.prepare_cached(
            "SELECT id, key, attempt, kind, message FROM outbox WHERE status = 'pending' ORDER BY id LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok(Delivery {
                id: row.get(0)?,
                key: row.get(1)?,
                attempt: row.get(2)?,
                kind: row.get(3)?,
                message: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Runs a stored enrollment on from where it stands (a version not loaded
/// yet, published since, is left for the next tick).
fn resume(
    transaction: &Transaction<'_>,
    versions: &HashMap<i64, Version>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    match load_enrollment(transaction, id)? {
        Some((row, fields)) => run_loaded(transaction, versions, row, &fields, now),
        None => Ok(()),
    }
}

/// Runs a loaded enrollment on from where it stands.
fn run_loaded(
    transaction: &Transaction<'_>,
    versions: &HashMap<i64, Version>,
    mut row: Row,
    fields: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if row.enrollment.status.is_final() {
        return Ok(());
    }
    let Some(version) = versions.get(&row.workflow) else {
        return Ok(());
    };
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
        let payload = entry::payload(&version.program, &data).map_err(StoreError::Invalid)?;
        row.enrollment.event = Some(payload.into_boxed_slice());
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
        now,
    )
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

/// An enrollment row.
struct Row {
    id: i64,
    workflow: i64,
    lead: String,
    enrollment: Enrollment,
    /// The trigger event's data, as stored.
    event: Option<String>,
}

/// An enrollment row and its lead's fields (as stored).
fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Row, String)> {
    let mut enrollment = Enrollment::new(0, row.get(3)?, instant(row.get(9)?), None);
    enrollment.pc = row.get(4)?;
    enrollment.status = Status::from_name(&row.get::<_, String>(5)?);
    enrollment.wake = row
        .get::<_, Option<i64>>(6)?
        .map_or(enrollment.entered, instant);
    enrollment.attempts = row.get(7)?;
    enrollment.effects = row.get(8)?;
    Ok((
        Row {
            id: row.get(0)?,
            workflow: row.get(1)?,
            lead: row.get(2)?,
            enrollment,
            event: row.get(10)?,
        },
        row.get(11)?,
    ))
}

fn load_enrollment(
    transaction: &Transaction<'_>,
    id: i64,
) -> Result<Option<(Row, String)>, StoreError> {
    Ok(query_row(transaction, select_rows!("WHERE e.id = ?1"), [id], read_row).optional()?)
}

/// The stored fields of a lead, by name.
fn lead_fields(
    transaction: &Transaction<'_>,
    id: &str,
) -> Result<Option<Map<String, Json>>, StoreError> {
    let text: Option<String> = query_row(
        transaction,
        "SELECT fields FROM leads WHERE id = ?1",
        [id],
        |row| row.get(0),
    )
    .optional()?;
    match text {
        None => Ok(None),
        Some(text) => match serde_json::from_str(&text)? {
            Json::Object(fields) => Ok(Some(fields)),
            _ => Err(StoreError::Invalid(format!(
                "the fields of lead {id:?} are not an object"
            ))),
        },
    }
}

/// A lead's fields as a program's lead slots (values that do not fit a
/// slot's type count as missing).
fn lead_slots(program: &Program, fields: &Map<String, Json>) -> Vec<Option<Value>> {
    program
        .slots
        .iter()
        .take_while(|slot| slot.source != SlotSource::Event)
        .map(|slot| {
            fields.get(&slot.name).and_then(|json| {
                value::from_json(json, slot.ty, program.timezone)
                    .ok()
                    .flatten()
            })
        })
        .collect()
}

/// Merges a lead update into the stored lead; returns the lead's fields.
fn upsert_lead(
    transaction: &Transaction<'_>,
    update: &LeadUpdate,
    now: DateTime<Utc>,
) -> Result<Map<String, Json>, StoreError> {
    let mut fields = lead_fields(transaction, &update.id)?.unwrap_or_default();
    for (name, value) in &update.fields {
        fields.insert(name.clone(), value.clone());
    }
    execute(
        transaction,
        "INSERT INTO leads (id, fields, last_activity, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET fields = excluded.fields,
             last_activity = coalesce(excluded.last_activity, leads.last_activity),
             updated_at = excluded.updated_at",
        params![
            update.id,
            Json::Object(fields.clone()).to_string(),
            update.last_activity.map(millis),
            millis(now)
        ],
    )?;
    Ok(fields)
}

/// The lead's past in one workflow (any of its versions).
fn history(
    transaction: &Transaction<'_>,
    name: &str,
    lead: &str,
) -> Result<(History, u32), StoreError> {
    let (active, last_entry, count): (bool, Option<i64>, u32) = query_row(transaction,
        "SELECT coalesce(max(status NOT IN ('completed', 'exited', 'failed')), 0), max(entered), count(*)
         FROM enrollments WHERE lead = ?1 AND workflow IN (SELECT id FROM workflows WHERE name = ?2)",
        params![lead, name],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let last_activity: Option<i64> = query_row(
        transaction,
        "SELECT last_activity FROM leads WHERE id = ?1",
        [lead],
        |row| row.get(0),
    )
    .optional()?
    .flatten();
    Ok((
        History {
            active,
            last_entry: last_entry.map(instant),
            last_activity: last_activity.map(instant),
        },
        count,
    ))
}

/// Enrolls a lead if it may enter, and runs it to its first suspension.
fn try_enroll(
    transaction: &Transaction<'_>,
    version: &Version,
    lead: &str,
    fields: &Map<String, Json>,
    payload: &[Option<Value>],
    stored_payload: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let program = &version.program;
    let (history, count) = history(transaction, &version.name, lead)?;
    let slots = lead_slots(program, fields);
    let vm = Vm::new(program);
    if !entry::may_enter(&vm, history, &slots, payload, now) {
        return Ok(false);
    }
    let number = count + 1;
    execute(transaction,
        "INSERT INTO enrollments (workflow, lead, number, pc, status, attempts, effects, entered, event)
         VALUES (?1, ?2, ?3, 0, 'active', 0, 0, ?4, ?5)",
        params![version.id, lead, number, millis(now), stored_payload],
    )?;
    let id = transaction.last_insert_rowid();
    let event = (!payload.is_empty()).then(|| payload.to_vec().into_boxed_slice());
    let mut enrollment = Enrollment::new(0, number, now, event);
    insert_events(
        transaction,
        id,
        program,
        &[Event {
            at: now,
            pc: 0,
            kind: crate::vm::EventKind::Entered,
            detail: String::new(),
        }],
    )?;
    let mut lead = LeadState {
        id: lead,
        slots,
        fields,
    };
    activate(transaction, version, id, &mut enrollment, &mut lead, now)?;
    Ok(true)
}

/// Ends the lead's active enrollment in this workflow if one of its goals
/// now holds.
fn test_goals(
    transaction: &Transaction<'_>,
    version: &Version,
    lead: &str,
    fields: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let active: Vec<(i64, i64)> = {
        let mut statement = transaction.prepare_cached(
            "SELECT e.id, e.workflow FROM enrollments e JOIN workflows w ON w.id = e.workflow
             WHERE e.lead = ?1 AND w.name = ?2 AND e.status NOT IN ('completed', 'exited', 'failed')",
        )?;
        let rows = statement.query_map(params![lead, version.name], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, _) in active {
        let Some((row, _)) = load_enrollment(transaction, id)? else {
            continue;
        };
        let slots = lead_slots(&version.program, fields);
        let vm = Vm::new(&version.program);
        if let Some(goal) = vm.goal_reached(&row.enrollment, &slots, now) {
            execute(transaction,
                "UPDATE enrollments SET status = 'exited', wake = NULL, remaining = NULL WHERE id = ?1",
                [id],
            )?;
            let event = Event {
                at: now,
                pc: row.enrollment.pc,
                kind: crate::vm::EventKind::Exited,
                detail: format!("goal {goal} reached"),
            };
            insert_events(transaction, id, &version.program, &[event])?;
        }
    }
    Ok(())
}

/// Runs an enrollment until it suspends or ends and commits what changed
/// (its state, its events, new outbox rows, extracted fields) to the
/// transaction.
fn activate(
    transaction: &Transaction<'_>,
    version: &Version,
    id: i64,
    enrollment: &mut Enrollment,
    lead: &mut LeadState<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let program = &version.program;
    let mut vm = Vm::new(program);
    let mut outbox = Outbox {
        transaction,
        enrollment: id,
        now,
        error: None,
    };
    let mut events = Vec::new();
    let mut context = Context {
        lead: &mut lead.slots,
        channels: &mut outbox,
        events: &mut events,
        lead_id: lead.id,
    };
    let advance = vm.run(enrollment, now, &mut context);
    if let Some(error) = outbox.error {
        return Err(error);
    }
    let wake = match advance {
        Advance::Suspended(until) => Some(millis(until)),
        Advance::Ended(_) | Advance::InFlight => None,
    };
    execute(transaction,
        "UPDATE enrollments SET pc = ?1, status = ?2, wake = ?3, attempts = ?4, effects = ?5, hold_reason = ?6
         WHERE id = ?7",
        params![
            enrollment.pc,
            enrollment.status.name(),
            wake,
            enrollment.attempts,
            enrollment.effects,
            events
                .iter()
                .rev()
                .find(|event| event.kind == crate::vm::EventKind::Held)
                .map(|event| event.detail.clone()),
            id
        ],
    )?;
    insert_events(transaction, id, program, &events)?;
    store_extracted(transaction, program, lead)
}

/// A lead as an activation sees it: stored fields by name, and the same as
/// the program's slots (which extractions fill).
struct LeadState<'a> {
    id: &'a str,
    fields: &'a Map<String, Json>,
    slots: Vec<Option<Value>>,
}

fn insert_events(
    transaction: &Transaction<'_>,
    enrollment: i64,
    program: &Program,
    events: &[Event],
) -> Result<(), StoreError> {
    let mut statement = transaction.prepare_cached(
        "INSERT INTO events (enrollment, at, pc, step, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for event in events {
        let step = if event.kind == crate::vm::EventKind::Entered {
            "-"
        } else {
            program
                .origins
                .get(event.pc as usize)
                .map_or("?", |origin| origin.label.as_str())
        };
        statement.execute(params![
            enrollment,
            millis(event.at),
            event.pc,
            step,
            event.kind.name(),
            event.detail
        ])?;
    }
    Ok(())
}

/// Writes the values of extracted fields back to the lead.
fn store_extracted(
    transaction: &Transaction<'_>,
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
    let mut fields = lead.fields.clone();
    for (index, slot) in extracted {
        if let Some(value) = lead.slots.get(index).and_then(Option::as_ref) {
            fields.insert(slot.name.clone(), value.to_json());
        }
    }
    execute(
        transaction,
        "UPDATE leads SET fields = ?1 WHERE id = ?2",
        params![Json::Object(fields).to_string(), lead.id],
    )?;
    Ok(())
}

/// The VM's channels in a live run: an effect asked for the first time is
/// recorded as pending; asked again once delivered, it gets its response.
struct Outbox<'t, 'c> {
    transaction: &'t Transaction<'c>,
    enrollment: i64,
    now: DateTime<Utc>,
    error: Option<StoreError>,
}

impl Channels for Outbox<'_, '_> {
    fn perform(&mut self, request: &Request<'_>) -> Response {
        match self.record(request) {
            Ok(response) => response,
            Err(error) => {
                self.error.get_or_insert(error);
                Response::Pending
            }
        }
    }
}

impl Outbox<'_, '_> {
    fn record(&mut self, request: &Request<'_>) -> Result<Response, StoreError> {
        let key = request.idempotency_key();
        let stored: Option<(String, Option<String>)> = query_row(
            self.transaction,
            "SELECT status, response FROM outbox WHERE key = ?1 AND attempt = ?2",
            params![key, request.attempt],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
        match stored {
            Some((status, Some(response))) if status == "done" => {
                Ok(serde_json::from_str(&response)?)
            }
            Some(_) => Ok(Response::Pending),
            None => {
                execute(
                    self.transaction,
                    "INSERT INTO outbox (enrollment, key, attempt, kind, message, status, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                    params![
                        self.enrollment,
                        key,
                        request.attempt,
                        request.kind,
                        serde_json::to_string(request.message)?,
                        millis(self.now)
                    ],
                )?;
                Ok(Response::Pending)
            }
        }
    }
}
