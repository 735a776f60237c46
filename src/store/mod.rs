//! The durable store: workflow versions, leads, enrollments, timeline
//! events and the effects outbox, in one database. Two backends sit behind
//! one interface: a SQLite file (the embedded default) and a PostgreSQL
//! server (many runners on many machines). The runtime above writes one
//! SQL dialect through [`Store`] and [`Tx`] and never knows which it talks
//! to; the dialect's few differences are translated here:
//!
//! - parameters are written `?1`, `?2` … (PostgreSQL gets `$1`, `$2` …);
//! - a claim's `FOR UPDATE [OF t] [SKIP LOCKED]` locks rows on PostgreSQL,
//!   and is left out on SQLite, where a writing transaction holds the
//!   whole database;
//! - integers are 64-bit on both, and truth values are stored as 0 or 1.
//!
//! flowc creates and migrates its schema itself, and refuses databases it
//! did not create and schemas newer than it reads.

mod postgres;
mod schema;
mod sqlite;
mod tx;
mod value;

#[cfg(test)]
pub(crate) mod fixtures;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use sqlite::{wait_when_busy, BUSY_TIMEOUT, MMAP_SIZE};
pub use tx::{marks, pieces, Tx, PIECES};
pub use value::{Cell, FromColumn, FromRow, Row, ToValue, Value};

/// The schema version this flowc writes and reads, on both backends.
pub const SCHEMA_VERSION: i64 = 19;
/// The database path when neither `--db` nor `FLOWC_DB` gives one.
pub const DEFAULT_PATH: &str = "flowc.db";

/// Why the store could not do what was asked. Nothing is half-written: every
/// change is one transaction.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be opened, created or reached.
    #[error("cannot open the database {path}: {reason}")]
    Open {
        /// The database file or server.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// A database, but not one of flowc's.
    #[error("{path} is a database of another program, not a flowc database")]
    Foreign {
        /// The database file or server.
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
        /// The version in the database.
        found: i64,
    },
    /// Another process holds the database.
    #[error("the database is locked by another flowc process; try again")]
    Locked,
    /// Two transactions got in each other's way (PostgreSQL found a
    /// deadlock); the one that got this error changed nothing and may be
    /// run again.
    #[error("the database turned this transaction back because another one needed the same rows; try again")]
    Conflict,
    /// No room to write.
    #[error("the disk is full")]
    Full,
    /// Anything else the database reports.
    #[error("database error: {0}")]
    Sql(String),
    /// A stored value flowc cannot read back.
    #[error("the database holds a value flowc cannot read: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Whether running the same work again may succeed: the database was
    /// busy, or turned the transaction back for another's sake.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Locked | StoreError::Conflict)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Invalid(error.to_string())
    }
}

/// Where a database is: a SQLite file, or a PostgreSQL server's URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl Location {
    /// `--db`, else `FLOWC_DB`, else [`DEFAULT_PATH`]; a `postgres://` or
    /// `postgresql://` URL names a PostgreSQL database, anything else a
    /// SQLite file.
    pub fn resolve(flag: Option<&str>) -> Location {
        let given = flag
            .map(str::to_owned)
            .or_else(|| std::env::var("FLOWC_DB").ok())
            .unwrap_or_else(|| DEFAULT_PATH.to_owned());
        Location::parse(&given)
    }

    /// The location `text` names.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_owned())
        } else {
            Location::Sqlite(PathBuf::from(text))
        }
    }

    /// The SQLite file, if this is one: where files that belong next to
    /// the database (`flowc.toml`) are looked for.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// The text `--db` and `FLOWC_DB` take for this location, password and
    /// all: for handing it to another flowc process, never for showing.
    pub fn arg(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => url.clone(),
        }
    }

    /// The location as errors name it (a URL without its password).
    fn named(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }
}

/// Shows a URL without its password: locations appear in errors and logs.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&postgres::redacted(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Location::Sqlite(path.to_owned())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Location::Sqlite(path.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::Sqlite(path)
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Self {
        location.clone()
    }
}

/// Which kind of database a store is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// What one transaction at a time may do, across processes and machines
/// ([`Tx::serialize`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serial {
    /// Publishing and unpublishing workflows: a new version's number, and
    /// the field types checked against the live versions, follow from
    /// what the publication before wrote.
    Publishing,
}

/// What each backend does; the rest of the store is shared.
trait Backend: Send {
    /// Runs one statement; gives the rows it changed.
    fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize, StoreError>;
    /// Runs an `INSERT` of one row into a table keyed by `id`; gives the
    /// new row's id (SQLite's rowid, PostgreSQL's `RETURNING id`: on
    /// SQLite, `RETURNING` costs a temporary table a statement).
    fn insert(&self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError>;
    /// Runs one query, handing each row to `each` in turn.
    fn query(
        &self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Runs statements without parameters (transaction control).
    fn batch(&self, sql: &str) -> Result<(), StoreError>;
    /// Starts a transaction that writes.
    fn begin(&self) -> Result<(), StoreError>;
    /// Tells listening runners that work arrived (PostgreSQL `NOTIFY`, sent
    /// when the transaction commits); nothing on SQLite, where runners
    /// look for work often and cheaply.
    fn notify(&self) -> Result<(), StoreError>;
    /// Waits up to `timeout` for a [`Backend::notify`] from another
    /// connection; gives whether one came. SQLite folds its write-ahead
    /// log into the database, then waits.
    fn await_notice(&self, timeout: std::time::Duration) -> Result<bool, StoreError>;
    /// Waits until no other transaction holds `what`, then holds it until
    /// the transaction in progress ends (PostgreSQL's advisory locks); on
    /// SQLite a transaction has the database's write lock from its start,
    /// which already keeps every other writer out.
    fn serialize(&self, what: Serial) -> Result<(), StoreError>;
    /// Which backend this is.
    fn kind(&self) -> Kind;
    /// A connection of its own that folds the write-ahead log into the
    /// database on request (SQLite); `None` where there is no such log.
    fn folder(&self) -> Result<Option<Folder>, StoreError>;
}

/// Folds a SQLite database's write-ahead log into the database on a
/// thread of its own, through a connection of its own, while the store
/// that made it goes on writing ([`Store::folder`]). A passive fold waits
/// for no reader or writer; what is folded during a long write is not
/// left for the last connection's close to fold.
pub struct Folder {
    asks: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Folder {
    /// Starts the thread; `fold` folds the log once.
    fn start(mut fold: impl FnMut() + Send + 'static) -> Folder {
        // One request waiting is enough: a fold takes all there is.
        let (asks, asked) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::spawn(move || {
            while asked.recv().is_ok() {
                fold();
            }
        });
        Folder {
            asks: Some(asks),
            thread: Some(thread),
        }
    }

    /// Asks for a fold of what is committed now, unless one is asked for
    /// already; does not wait for it.
    pub fn fold(&self) {
        if let Some(asks) = &self.asks {
            let _ = asks.try_send(());
        }
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        // The thread ends with its last request.
        drop(self.asks.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A flowc database, on either backend.
pub struct Store {
    backend: Box<dyn Backend>,
    location: Location,
    /// The schema version the database had when opened (0: new).
    found: i64,
}

impl Store {
    /// Opens the database at `location` (creating a SQLite file if
    /// needed), migrating its schema to [`SCHEMA_VERSION`].
    pub fn open(location: impl Into<Location>) -> Result<Store, StoreError> {
        let location = location.into();
        let (backend, found): (Box<dyn Backend>, i64) = match &location {
            Location::Sqlite(path) => {
                let (backend, found) = sqlite::Sqlite::open(path)?;
                (Box::new(backend), found)
            }
            Location::Postgres(url) => {
                let (backend, found) = postgres::Postgres::open(url, &location)?;
                (Box::new(backend), found)
            }
        };
        Ok(Store {
            backend,
            location,
            found,
        })
    }

    /// The schema version the database had when it was opened: 0 for a new
    /// one, below [`SCHEMA_VERSION`] when opening migrated it.
    pub fn found_version(&self) -> i64 {
        self.found
    }

    /// Where the database is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Which backend this is.
    pub fn kind(&self) -> Kind {
        self.backend.kind()
    }

    /// Within the transaction in progress, plans every query for the
    /// values it is given. PostgreSQL plans a statement it has run five
    /// times once for any value, which suits the runner's queries but not
    /// a search, where the values decide which index is cheap; SQLite
    /// always plans for the values.
    pub fn plan_for_values(&self) -> Result<(), StoreError> {
        match self.kind() {
            Kind::Postgres => self
                .execute("SET LOCAL plan_cache_mode = force_custom_plan", params![])
                .map(drop),
            Kind::Sqlite => Ok(()),
        }
    }

    /// Starts a transaction. On SQLite it holds the write lock from its
    /// start, so what it reads is what it changes; on PostgreSQL, rows are
    /// locked as statements reach them (`FOR UPDATE`). Rolled back unless
    /// [`Tx::commit`] is called.
    pub fn transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        self.backend.begin()?;
        Ok(Tx::new(self))
    }

    /// Runs one statement outside a transaction; gives the rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize, StoreError> {
        self.backend.execute(sql, params)
    }

    /// Inserts one row into a table keyed by `id` (`sql` an `INSERT`
    /// without `RETURNING`); gives the new row's id.
    pub fn insert(&self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError> {
        self.backend.insert(sql, params)
    }

    /// A [`Folder`] for this store's database, if it has a write-ahead log
    /// to fold (SQLite).
    pub fn folder(&self) -> Result<Option<Folder>, StoreError> {
        self.backend.folder()
    }

    /// Every row of a query, each read by `read`.
    pub fn query<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut rows = Vec::new();
        self.backend.query(sql, params, &mut |row| {
            rows.push(read(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The first row of a query, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        read: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut read = Some(read);
        let mut found = None;
        self.backend.query(sql, params, &mut |row| {
            if let Some(read) = read.take() {
                found = Some(read(row)?);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// The first row of a query, which must have one.
    pub fn query_one<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        read: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.query_opt(sql, params, read)?
            .ok_or_else(|| StoreError::Sql(format!("no row from: {}", first_line(sql))))
    }

    /// A stored value of the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.query_opt(
            "SELECT value FROM meta WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
    }

    /// Whether [`Store::await_notice`] hears other processes' commits
    /// announce work (PostgreSQL), so a runner may sleep longer.
    pub fn hears_notices(&self) -> bool {
        self.kind() == Kind::Postgres
    }

    /// Waits up to `timeout` for another process to say work arrived;
    /// gives whether it did. On PostgreSQL the store listens for the
    /// notices of [`Tx::notify`]; on SQLite this folds the write-ahead log
    /// into the database (the runner has nothing else to do) and waits.
    pub fn await_notice(&self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        self.backend.await_notice(timeout)
    }
}

/// The first line of a statement, for errors.
fn first_line(sql: &str) -> &str {
    sql.trim().lines().next().unwrap_or_default()
}

/// The parameters of a statement: `params![a, b]` for `?1`, `?2`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::ToValue::to_value(&$value)),*] as &[$crate::store::Value<'_>]
    };
}
pub use params;

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

    /// SQLite tests `x IN (...)` of more than two values by building a
    /// table of them each time a statement runs: no index condition may
    /// make writing a row that costly (it was a quarter of the time of
    /// writing the bench's rows one by one).
    #[test]
    fn writing_a_row_builds_no_table_of_values_for_an_index() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(dir.path().join("flowc.db")).expect("a store");
        let tables: Vec<String> = store
            .query(
                "SELECT name FROM sqlite_schema WHERE type = 'table'",
                params![],
                |row| row.get(0),
            )
            .expect("the tables");
        assert!(tables.len() > 10, "{tables:?}");
        for table in tables {
            let columns: Vec<(String, bool)> = store
                .query(
                    "SELECT name, pk > 0 FROM pragma_table_info(?1)",
                    params![table],
                    |row| row.columns(),
                )
                .expect("the columns");
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            // Rows change in place, their keys kept.
            let sets: Vec<String> = columns
                .iter()
                .zip(&marks)
                .filter(|((_, key), _)| !key)
                .map(|((column, _), mark)| format!("{column} = {mark}"))
                .collect();
            let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
            // The row by its key: one pass, as flowc's own updates.
            let mut keys: Vec<String> = columns
                .iter()
                .filter(|(_, key)| *key)
                .enumerate()
                .map(|(at, (column, _))| format!("{column} = ?{}", columns.len() + 1 + at))
                .collect();
            if keys.is_empty() {
                keys.push(format!("rowid = ?{}", columns.len() + 1));
            }
            for sql in [
                format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    marks.join(", ")
                ),
                format!(
                    "UPDATE {table} SET {} WHERE {}",
                    sets.join(", "),
                    keys.join(" AND ")
                ),
            ] {
                let nulls = vec![Value::Null; columns.len() + keys.len()];
                assert!(!fixtures::builds_a_table(&store, &sql, &nulls), "{sql}");
            }
        }
    }

    /// `--db` and `FLOWC_DB` name PostgreSQL by URL and SQLite by path,
    /// and a URL's password never shows in what flowc prints.
    #[test]
    fn a_location_is_a_url_or_a_path_and_hides_its_password() {
        assert_eq!(
            Location::parse("flowc.db"),
            Location::Sqlite(PathBuf::from("flowc.db"))
        );
        let url = "postgres://flowc:s3cret@db.example.com:5432/flowc";
        assert_eq!(Location::parse(url), Location::Postgres(url.to_owned()));
        let shown = Location::parse(url).to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example.com:5432/flowc"), "{shown}");
        assert!(matches!(
            Location::parse("postgresql://localhost/x"),
            Location::Postgres(_)
        ));
    }
}
