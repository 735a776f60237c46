//! The durable store: one SQLite database in WAL mode with workflow
//! versions, leads, enrollments, timeline events and the effects outbox.
//! flowc creates and migrates its schema itself, and refuses databases it
//! did not create.

mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior};

/// The schema version this flowc writes and reads.
pub const SCHEMA_VERSION: i64 = 7;
/// SQLite's application id for flowc databases ("flow" in ASCII).
const APPLICATION_ID: i64 = 0x666C_6F77;
/// How long a transaction waits for another process's to end before it
/// gives up with [`StoreError::Locked`].
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Bytes of the database file read through a memory map.
pub const MMAP_SIZE: i64 = 1 << 30;
/// The database path when neither `--db` nor `FLOWC_DB` gives one.
pub const DEFAULT_PATH: &str = "flowc.db";

/// Why the store could not do what was asked. Nothing is half-written: every
/// change is one transaction.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file cannot be opened or created.
    #[error("cannot open the database {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// A SQLite database, but not one of flowc's.
    #[error("{path} is a SQLite database of another program, not a flowc database")]
    Foreign {
        /// The database file.
        path: PathBuf,
    },
    /// Not a database at all, or a damaged one.
    #[error("{path} is not a flowc database, or it is damaged: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// Written by a newer flowc.
    #[error("the database was written by a newer flowc (schema version {found}; this flowc reads up to {SCHEMA_VERSION})")]
    TooNew {
        /// The version in the file.
        found: i64,
    },
    /// Another process holds the database.
    #[error("the database is locked by another flowc process; try again")]
    Locked,
    /// No room to write.
    #[error("the disk is full")]
    Full,
    /// Anything else SQLite reports.
    #[error("database error: {0}")]
    Sql(String),
    /// A stored value flowc cannot read back.
    #[error("the database holds a value flowc cannot read: {0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked,
            Some(ErrorCode::DiskFull) => StoreError::Full,
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path: PathBuf::new(),
                reason: error.to_string(),
            },
            _ => StoreError::Sql(error.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Invalid(error.to_string())
    }
}

/// A flowc database.
pub struct Store {
    /// The open connection.
    pub connection: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, migrating its
    /// schema to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        refuse_non_database(path)?;
        let connection = Connection::open(path).map_err(|error| StoreError::Open {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        let mut store = Store {
            connection,
            path: path.to_owned(),
        };
        store.prepare().map_err(|error| store.located(error))?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the file path into errors that lack it.
    pub fn located(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::Corrupt { reason, .. } => StoreError::Corrupt {
                path: self.path.clone(),
                reason,
            },
            other => other,
        }
    }

    fn prepare(&mut self) -> Result<(), StoreError> {
        // Every transaction takes the write lock when it begins, so that
        // what it reads is what it changes (two runners never claim the
        // same row), and a writer that finds another waits its turn (up to
        // the busy timeout) instead of failing when it first writes.
        self.connection
            .set_transaction_behavior(TransactionBehavior::Immediate);
        let connection = &self.connection;
        wait_when_busy(connection)?;
        // The first read tells a non-database file apart.
        let application: i64 =
            connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let tables: i64 = connection.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )?;
        if application != APPLICATION_ID && (tables > 0 || application != 0) {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version });
        }
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // WAL with NORMAL sync survives a crash of the process (kill -9);
        // only a power loss can take the last transactions back.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // Pages read through a memory map: when another connection (a
        // provider, another runner) writes, this one's page cache is
        // dropped, and reading the pages again is then cheap.
        connection.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        if version < SCHEMA_VERSION {
            self.migrate(version)?;
        }
        Ok(())
    }

    /// Brings the schema from `from` to [`SCHEMA_VERSION`] in one transaction.
    fn migrate(&mut self, from: i64) -> Result<(), StoreError> {
        let transaction = self.connection.transaction()?;
        for (version, sql) in schema::MIGRATIONS.iter().enumerate() {
            if version as i64 >= from {
                transaction.execute_batch(sql)?;
            }
        }
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        transaction.commit()?;
        Ok(())
    }

    /// A stored value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .connection
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }
}

/// Makes `connection` wait its turn, up to [`BUSY_TIMEOUT`], when another
/// connection holds the database. SQLite's own wait sleeps 1 ms, then
/// longer and longer; the write lock is held for far less, so this one
/// looks again every 50 µs at first, backing off to every 2 ms.
pub fn wait_when_busy(connection: &Connection) -> rusqlite::Result<()> {
    connection.busy_handler(Some(busy))
}

/// SQLite's busy handler for [`wait_when_busy`]: whether to try again
/// after the `tries`-th failed try, having slept first.
fn busy(tries: i32) -> bool {
    match pause(tries) {
        Some(pause) => {
            std::thread::sleep(pause);
            true
        }
        None => false,
    }
}

/// How long to wait after the `tries`-th failed try for the lock (from 0),
/// or `None` once [`BUSY_TIMEOUT`] has been waited in all.
fn pause(tries: i32) -> Option<Duration> {
    const FAST: i32 = 200;
    let (fast, slow) = (Duration::from_micros(50), Duration::from_millis(2));
    let waited = fast * tries.clamp(0, FAST) as u32 + slow * (tries - FAST).max(0) as u32;
    (waited < BUSY_TIMEOUT).then_some(if tries < FAST { fast } else { slow })
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses an existing, non-empty file that does not start like a SQLite
/// database: SQLite would take a file shorter than a page for an empty
/// database and overwrite it.
fn refuse_non_database(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    let read = file
        .by_ref()
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header);
    match read {
        Ok(0) => Ok(()),
        Ok(_) if header == SQLITE_HEADER => Ok(()),
        Ok(_) => Err(StoreError::Corrupt {
            path: path.to_owned(),
            reason: "the file does not start like a SQLite database".to_owned(),
        }),
        Err(error) => Err(StoreError::Open {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// The path of the database: `--db`, else `FLOWC_DB`, else [`DEFAULT_PATH`].
pub fn resolve_path(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_owned)
        .or_else(|| std::env::var_os("FLOWC_DB").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
}

/// An instant as stored: milliseconds since the epoch.
pub fn millis(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_millis()
}

/// A stored instant.
pub fn instant(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that finds the lock taken looks again soon (it is held for
    /// a millisecond or two), and gives up only after the busy timeout.
    #[test]
    fn a_busy_writer_looks_again_soon_and_gives_up_after_the_timeout() {
        assert_eq!(pause(0), Some(Duration::from_micros(50)));
        let pauses: Vec<Duration> = (0..).map_while(pause).collect();
        let waited: Duration = pauses.iter().sum();
        assert!(
            waited >= BUSY_TIMEOUT && waited < BUSY_TIMEOUT + Duration::from_millis(10),
            "{waited:?}"
        );
        assert!(pauses
            .iter()
            .all(|pause| *pause <= Duration::from_millis(2)));
    }

    /// A database written at schema 2 opens at the current schema, its rows
    /// kept: trigger state gains `refused`, enrollments `ending`, the
    /// refusals table exists, and outbox rows can be claimed.
    #[test]
    fn a_schema_2_database_is_migrated_with_its_rows() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("flowc.db");
        {
            let connection = Connection::open(&path).expect("opened");
            for sql in &schema::MIGRATIONS[..2] {
                connection.execute_batch(sql).expect("schema 2");
            }
            connection
                .execute_batch(
                    "INSERT INTO leads (id, fields, updated_at) VALUES ('a', '{}', 0);
                     INSERT INTO triggers (workflow, lead, matching, flip) VALUES ('w', 'a', 1, NULL);
                     PRAGMA user_version = 2;",
                )
                .expect("rows");
            connection
                .pragma_update(None, "application_id", APPLICATION_ID)
                .expect("ours");
        }
        let store = Store::open(&path).expect("migrated");
        let version: i64 = store
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("a version");
        assert_eq!(version, SCHEMA_VERSION);
        let (matching, refused): (bool, u8) = store
            .connection
            .query_row("SELECT matching, refused FROM triggers", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .expect("the row is kept");
        assert_eq!((matching, refused), (true, 0));
        let columns: i64 = store
            .connection
            .query_row(
                "SELECT (SELECT count(*) FROM refusals) + (SELECT count(ending) FROM enrollments)
                      + (SELECT count(owner) + count(lease) + count(call) + count(poll) + coalesce(sum(claims), 0) FROM outbox)",
                [],
                |row| row.get(0),
            )
            .expect("the new table and column");
        assert_eq!(columns, 0);
    }
}
