//! The SQLite backend: one database file in WAL mode, the embedded
//! default. A writing transaction holds the whole database from its start,
//! so claims need no row locks.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, ToSql};
use rustc_hash::FxHashMap as HashMap;

use super::value::{Cell, Cells, Row, Value};
use super::{schema, Backend, Folder, Kind, Serial, StoreError, SCHEMA_VERSION};

/// SQLite's application id for flowc databases ("flow" in ASCII).
const APPLICATION_ID: i64 = 0x666C_6F77;
/// How long a transaction waits for another process's to end before it
/// gives up with [`StoreError::Locked`].
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of the database file read through a memory map.
pub const MMAP_SIZE: i64 = 1 << 30;

/// Pages the write-ahead log grows to before a commit folds it into the
/// database (SQLite's default is 1,000: 4 MB). A checkpoint rewrites every
/// page changed since the last one and syncs the file, so a busy runner
/// rewrote the same hot pages (the outbox's, the enrollments' indexes)
/// every few rounds: a tenth of a run's time. An idle runner folds the log
/// in while it waits ([`Backend::await_notice`]).
const WAL_PAGES: i64 = 8_192;

/// Prepared statements a connection keeps: more than one round of a runner
/// or one imported lead uses (some 40), so none is parsed again each time
/// (rusqlite's default of 16 had a runner spend 8% of its time preparing).
const STATEMENTS: usize = 128;

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

/// A SQLite database file.
pub(super) struct Sqlite {
    connection: Connection,
    path: PathBuf,
    /// Statements with their row locks left out, by the text given.
    unlocked: RefCell<HashMap<String, String>>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path`, migrating its
    /// schema to [`SCHEMA_VERSION`]; gives the connection and the schema
    /// version the file had.
    pub(super) fn open(path: &Path) -> Result<(Sqlite, i64), StoreError> {
        let mut open = OPEN_FILES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Closing any descriptor of the file drops every lock this process
        // holds on it (POSIX), those of its open connections too: its
        // header is read only while no connection of this process has it.
        if !open.contains_key(&identity(path)) {
            refuse_non_database(path)?;
        }
        let connection = Connection::open(path).map_err(|error| StoreError::Open {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        *open.entry(identity(path)).or_insert(0) += 1;
        drop(open);
        let mut store = Sqlite {
            connection,
            path: path.to_owned(),
            unlocked: RefCell::default(),
        };
        let found = store.prepare().map_err(|error| store.located(error))?;
        Ok((store, found))
    }

    /// Puts the file path into errors that lack it.
    fn located(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::Corrupt { reason, .. } => StoreError::Corrupt {
                path: self.path.clone(),
                reason,
            },
            other => other,
        }
    }

    /// Checks the file is flowc's and migrates it; gives the version found.
    fn prepare(&mut self) -> Result<i64, StoreError> {
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
        connection.pragma_update(None, "wal_autocheckpoint", WAL_PAGES)?;
        // Pages read through a memory map: when another connection (a
        // provider, another runner) writes, this one's page cache is
        // dropped, and reading the pages again is then cheap.
        connection.pragma_update(None, "mmap_size", MMAP_SIZE)?;
        connection.set_prepared_statement_cache_capacity(STATEMENTS);
        if version < SCHEMA_VERSION {
            return self.migrate();
        }
        Ok(version)
    }

    /// Brings the schema to [`SCHEMA_VERSION`] in one transaction, from the
    /// version read under its write lock: another process opening the file
    /// at the same moment may have migrated it meanwhile. Gives that version.
    fn migrate(&mut self) -> Result<i64, StoreError> {
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let from: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if from > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: from });
        }
        for (version, sql) in schema::SQLITE.iter().enumerate() {
            if version as i64 >= from {
                transaction.execute_batch(sql)?;
            }
        }
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        transaction.commit()?;
        Ok(from)
    }

    /// Runs `work` on the statement for `sql` (its row locks left out),
    /// bound to as many of `params` as it uses.
    fn with_statement<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        work: impl FnOnce(&mut rusqlite::CachedStatement<'_>, &[&dyn ToSql]) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut statement = if sql.contains(" FOR UPDATE") {
            let mut unlocked = self.unlocked.borrow_mut();
            let text = unlocked
                .entry(sql.to_owned())
                .or_insert_with(|| without_locks(sql));
            self.connection.prepare_cached(text)?
        } else {
            self.connection.prepare_cached(sql)?
        };
        let used = statement.parameter_count().min(params.len());
        let bound: Vec<&dyn ToSql> = params[..used].iter().map(|p| p as &dyn ToSql).collect();
        work(&mut statement, &bound)
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        let mut open = OPEN_FILES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = identity(&self.path);
        if let Some(count) = open.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&key);
            }
        }
    }
}

/// The database files this process has connections to, by [`identity`],
/// with how many.
static OPEN_FILES: std::sync::Mutex<std::collections::BTreeMap<PathBuf, usize>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// One name for a file however it is reached.
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput::Borrowed;
        Ok(Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(int) => ValueRef::Integer(*int),
            Value::Real(real) => ValueRef::Real(*real),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

impl Cells for rusqlite::Row<'_> {
    fn cell(&self, index: usize) -> Result<Cell<'_>, StoreError> {
        Ok(match self.get_ref(index)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(int) => Cell::Int(int),
            ValueRef::Real(real) => Cell::Real(real),
            ValueRef::Text(text) | ValueRef::Blob(text) => Cell::Text(
                std::str::from_utf8(text)
                    .map_err(|error| StoreError::Invalid(error.to_string()))?
                    .into(),
            ),
        })
    }
}

impl Backend for Sqlite {
    fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize, StoreError> {
        self.with_statement(
            sql,
            params,
            |statement, bound| Ok(statement.execute(bound)?),
        )
    }

    fn insert(&self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError> {
        self.execute(sql, params)?;
        Ok(self.connection.last_insert_rowid())
    }

    fn query(
        &self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.with_statement(sql, params, |statement, bound| {
            let mut rows = statement.query(bound)?;
            while let Some(row) = rows.next()? {
                each(&Row::new(row))?;
            }
            Ok(())
        })
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.connection.execute_batch(sql)?)
    }

    fn begin(&self) -> Result<(), StoreError> {
        // Every transaction takes the write lock when it begins, so that
        // what it reads is what it changes (two runners never claim the
        // same row), and a writer that finds another waits its turn (up to
        // the busy timeout) instead of failing when it first writes.
        self.batch("BEGIN IMMEDIATE")
    }

    fn notify(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn await_notice(&self, timeout: Duration) -> Result<bool, StoreError> {
        let began = std::time::Instant::now();
        // Nothing to do: fold the log into the database now, not in a busy
        // round later. A passive checkpoint waits for no reader or writer.
        self.connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        std::thread::sleep(timeout.saturating_sub(began.elapsed()));
        Ok(false)
    }

    fn serialize(&self, _: Serial) -> Result<(), StoreError> {
        // The transaction holds the write lock since `BEGIN IMMEDIATE`.
        Ok(())
    }

    fn kind(&self) -> Kind {
        Kind::Sqlite
    }

    fn folder(&self) -> Result<Option<Folder>, StoreError> {
        let connection = Connection::open(&self.path)?;
        wait_when_busy(&connection)?;
        Ok(Some(Folder::start(move || {
            // A fold that fails leaves the log to the next one, or to
            // the close: nothing is lost.
            let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        })))
    }
}

/// `sql` without its `FOR UPDATE …` clauses: each runs to the end of its
/// (sub)query, the next `)` or the end of the text.
fn without_locks(sql: &str) -> String {
    let mut kept = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find(" FOR UPDATE") {
        kept.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = &rest[rest.find(')').unwrap_or(rest.len())..];
    }
    kept.push_str(rest);
    kept
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits a row of `meta` for each of `keys`, one a transaction.
    fn write(store: &mut crate::store::Store, keys: std::ops::Range<usize>) {
        for key in keys {
            let transaction = store.transaction().expect("begun");
            transaction
                .execute(
                    "INSERT INTO meta (key, value) VALUES (?1, 'x')",
                    crate::params![format!("k{key}")],
                )
                .expect("inserted");
            transaction.commit().expect("committed");
        }
    }

    /// A runner waiting for work folds the write-ahead log into the
    /// database, so the next commit starts the log again at its beginning
    /// instead of growing it.
    #[test]
    fn an_idle_wait_folds_the_log_so_it_starts_again() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = crate::store::Store::open(dir.path().join("flowc.db")).expect("opened");
        let log = || std::fs::metadata(dir.path().join("flowc.db-wal")).map_or(0, |m| m.len());
        write(&mut store, 0..20);
        let written = log();
        assert!(written > 0, "the commits are in the log");
        store.await_notice(Duration::ZERO).expect("waited");
        write(&mut store, 20..25);
        assert_eq!(log(), written, "the log started again at its beginning");
    }

    /// Connections opening a new file at the same moment (two commands
    /// started together) each find it new; one creates the schema, the
    /// others take it as it is.
    #[test]
    fn a_new_file_opened_by_many_at_once_gets_its_schema_once() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("flowc.db");
        let start = std::sync::Barrier::new(6);
        let opened: Vec<_> = std::thread::scope(|scope| {
            let opening: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        Sqlite::open(&path).map(|(_, found)| found)
                    })
                })
                .collect();
            opening
                .into_iter()
                .map(|open| open.join().expect("ran"))
                .collect()
        });
        for found in &opened {
            assert!(matches!(found, Ok(0 | SCHEMA_VERSION)), "{found:?}");
        }
        let created = opened.iter().filter(|found| matches!(found, Ok(0))).count();
        assert_eq!(created, 1, "one of them created the schema: {opened:?}");
    }

    /// A folder folds the log while its store stays open and writes on:
    /// the next commit starts the log again at its beginning.
    #[test]
    fn a_folder_folds_the_log_while_the_store_writes_on() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = crate::store::Store::open(dir.path().join("flowc.db")).expect("opened");
        let log = || std::fs::metadata(dir.path().join("flowc.db-wal")).map_or(0, |m| m.len());
        let folder = store.folder().expect("a folder").expect("SQLite has a log");
        write(&mut store, 0..20);
        let written = log();
        folder.fold();
        // Dropped, it finishes the fold asked for.
        drop(folder);
        write(&mut store, 20..21);
        assert_eq!(log(), written, "the log started again at its beginning");
    }

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
            for sql in &schema::SQLITE[..2] {
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
        let (store, found) = Sqlite::open(&path).expect("migrated");
        assert_eq!(found, 2);
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

    /// Leads written before schema 11 get their address keys, so a reply
    /// or an opt-out from their number or address finds them.
    #[test]
    fn a_schema_10_database_gets_its_leads_address_keys() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("flowc.db");
        {
            let connection = Connection::open(&path).expect("opened");
            for sql in &schema::SQLITE[..10] {
                connection.execute_batch(sql).expect("schema 10");
            }
            connection
                .execute_batch(
                    r#"INSERT INTO leads (id, fields, updated_at) VALUES
                         ('a', '{"email": " Ann@Acme.Example ", "phone_number": "+1 (555) 010-0001"}', 0),
                         ('b', '{"phone_number": 15550100002}', 0),
                         ('c', '{}', 0);
                       PRAGMA user_version = 10;"#,
                )
                .expect("rows");
            connection
                .pragma_update(None, "application_id", APPLICATION_ID)
                .expect("ours");
        }
        let (store, found) = Sqlite::open(&path).expect("migrated");
        assert_eq!(found, 10);
        let keys: Vec<(String, Option<String>, Option<String>)> = store
            .connection
            .prepare("SELECT id, email, phone FROM leads ORDER BY id")
            .expect("a query")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("read");
        let key = |s: &str| Some(s.to_owned());
        assert_eq!(
            keys,
            [
                ("a".to_owned(), key("ann@acme.example"), key("+15550100001")),
                ("b".to_owned(), None, None),
                ("c".to_owned(), None, None),
            ]
        );
    }
}
