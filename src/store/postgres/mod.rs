//! The PostgreSQL backend: one server shared by many runners on many
//! machines. Transactions run at READ COMMITTED; a claim locks the rows it
//! takes (`FOR UPDATE SKIP LOCKED`), so runners never take the same
//! enrollment or outbox row and never wait for each other's; idle runners
//! sleep on `LISTEN` until a commit's `NOTIFY` says work arrived.

use std::cell::{Cell as Flag, RefCell};
use std::error::Error;
use std::time::Duration;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use rustc_hash::FxHashMap as HashMap;

use super::value::{Cell, Cells, Row, Value};
use super::{schema, Backend, Folder, Kind, Location, Serial, StoreError, SCHEMA_VERSION};

mod tls;

/// The channel of the notices that say work arrived.
const CHANNEL: &str = "flowc_work";
/// The advisory lock that makes one process at a time create or migrate
/// the schema ("flow" in ASCII).
const MIGRATION_LOCK: i64 = 0x666C_6F77;
/// The advisory lock publications take in turn.
const PUBLISHING_LOCK: i64 = 0x666C_6F78;

/// A connection to a PostgreSQL database.
pub(super) struct Postgres {
    client: RefCell<Client>,
    /// Prepared statements, by the text given (in `?N` form).
    statements: RefCell<HashMap<String, Statement>>,
    /// Whether the connection `LISTEN`s for work yet.
    listening: Flag<bool>,
}

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        let Some(db) = error.as_db_error() else {
            return StoreError::Sql(explained(&error));
        };
        match *db.code() {
            SqlState::T_R_DEADLOCK_DETECTED | SqlState::T_R_SERIALIZATION_FAILURE => {
                StoreError::Conflict
            }
            SqlState::LOCK_NOT_AVAILABLE => StoreError::Locked,
            SqlState::DISK_FULL => StoreError::Full,
            _ => StoreError::Sql(match db.detail() {
                Some(detail) => format!("{} ({detail})", db.message()),
                None => db.message().to_owned(),
            }),
        }
    }
}

/// An error with the causes it wraps: the `postgres` crate's own message
/// ("db error", "error performing TLS handshake") says what failed, its
/// sources say why.
fn explained(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let more = error.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = error.source();
    }
    text
}

impl Postgres {
    /// Connects to the database at `url`, creating or migrating flowc's
    /// schema in it; gives the connection and the schema version found.
    pub(super) fn open(url: &str, location: &Location) -> Result<(Postgres, i64), StoreError> {
        let refused = |reason: String| StoreError::Open {
            path: location.named(),
            reason,
        };
        let settings = tls::Settings::parse(url).map_err(refused)?;
        let mut config: postgres::Config = settings
            .url
            .parse()
            .map_err(|error: postgres::Error| refused(explained(&error)))?;
        config.ssl_mode(settings.ssl_mode());
        let client = match settings.mode {
            tls::Mode::Disable => config.connect(NoTls),
            _ => config.connect(settings.connector().map_err(refused)?),
        }
        .map_err(|error| refused(explained(&error)))?;
        let store = Postgres {
            client: RefCell::new(client),
            statements: RefCell::default(),
            listening: Flag::new(false),
        };
        let found = store.prepare(location)?;
        Ok((store, found))
    }

    /// Refuses a foreign database or a newer schema, and brings an older
    /// (or empty) one to [`SCHEMA_VERSION`], one process at a time.
    fn prepare(&self, location: &Location) -> Result<i64, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut transaction = client.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let tables: i64 = transaction
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )?
            .get(0);
        let ours: bool = transaction
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                                WHERE table_schema = current_schema() AND table_name = 'flowc_schema')",
                &[],
            )?
            .get(0);
        if tables > 0 && !ours {
            return Err(StoreError::Foreign {
                path: location.named(),
            });
        }
        let version: i64 = if ours {
            transaction
                .query_one("SELECT version FROM flowc_schema", &[])?
                .get(0)
        } else {
            0
        };
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version });
        }
        if version < SCHEMA_VERSION {
            for (from, sql) in schema::POSTGRES {
                if *from >= version {
                    transaction.batch_execute(sql)?;
                }
            }
            transaction.execute("UPDATE flowc_schema SET version = $1", &[&SCHEMA_VERSION])?;
        }
        transaction.commit()?;
        Ok(version)
    }

    /// The prepared statement for `sql`.
    fn statement(&self, client: &mut Client, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let (text, used) = numbered(sql);
        // A parameter the text skips (`?1` and `?3` but no `?2`) would have
        // no type: it is declared text, and each used one left to the
        // server to infer (`unknown`).
        let types: Vec<Type> = used
            .iter()
            .map(|used| if *used { Type::UNKNOWN } else { Type::TEXT })
            .collect();
        let statement = client.prepare_typed(&text, &types)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// As many of `params` as `statement` uses, as the client takes them.
fn bound<'v>(statement: &Statement, params: &'v [Value<'_>]) -> Vec<&'v (dyn ToSql + Sync)> {
    let used = statement.params().len().min(params.len());
    params[..used]
        .iter()
        .map(|value| value as &(dyn ToSql + Sync))
        .collect()
}

impl Backend for Postgres {
    fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize, StoreError> {
        let mut client = self.client.borrow_mut();
        let statement = self.statement(&mut client, sql)?;
        let changed = client.execute(&statement, &bound(&statement, params))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn insert(&self, sql: &str, params: &[Value<'_>]) -> Result<i64, StoreError> {
        let mut id = None;
        self.query(&format!("{sql} RETURNING id"), params, &mut |row| {
            id = Some(row.get(0)?);
            Ok(())
        })?;
        id.ok_or_else(|| StoreError::Sql(format!("no id from: {sql}")))
    }

    fn query(
        &self,
        sql: &str,
        params: &[Value<'_>],
        each: &mut dyn FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let rows = {
            let mut client = self.client.borrow_mut();
            let statement = self.statement(&mut client, sql)?;
            client.query(&statement, &bound(&statement, params))?
        };
        for row in &rows {
            each(&Row::new(row))?;
        }
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    fn begin(&self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }

    fn notify(&self) -> Result<(), StoreError> {
        // Notices of one transaction are sent once, when it commits.
        self.batch(&format!("NOTIFY {CHANNEL}"))
    }

    fn serialize(&self, what: Serial) -> Result<(), StoreError> {
        let key = match what {
            Serial::Publishing => PUBLISHING_LOCK,
        };
        self.client
            .borrow_mut()
            .execute("SELECT pg_advisory_xact_lock($1)", &[&key])?;
        Ok(())
    }

    fn await_notice(&self, timeout: Duration) -> Result<bool, StoreError> {
        let mut client = self.client.borrow_mut();
        if !self.listening.get() {
            client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
            self.listening.set(true);
        }
        let mut notifications = client.notifications();
        let came = notifications.timeout_iter(timeout).next()?.is_some();
        // Several notices say the same: take them all at once.
        while notifications.iter().next()?.is_some() {}
        Ok(came)
    }

    fn kind(&self) -> Kind {
        Kind::Postgres
    }

    fn folder(&self) -> Result<Option<Folder>, StoreError> {
        Ok(None)
    }
}

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(int) => match *ty {
                Type::INT4 => i32::try_from(*int)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*int)?.to_sql(ty, out),
                Type::BOOL => (*int != 0).to_sql(ty, out),
                Type::FLOAT8 => (*int as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => int.to_string().to_sql(ty, out),
                _ => int.to_sql(ty, out),
            },
            Value::Real(real) => match *ty {
                Type::TEXT | Type::VARCHAR => real.to_string().to_sql(ty, out),
                _ => real.to_sql(ty, out),
            },
            Value::Text(text) => text.as_ref().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl Cells for postgres::Row {
    fn cell(&self, index: usize) -> Result<Cell<'_>, StoreError> {
        let column = self
            .columns()
            .get(index)
            .ok_or_else(|| StoreError::Invalid(format!("no column {index}")))?;
        let cell = match *column.type_() {
            Type::INT8 => self.try_get::<_, Option<i64>>(index)?.map(Cell::Int),
            Type::INT4 => self
                .try_get::<_, Option<i32>>(index)?
                .map(|int| Cell::Int(int.into())),
            Type::INT2 => self
                .try_get::<_, Option<i16>>(index)?
                .map(|int| Cell::Int(int.into())),
            Type::BOOL => self
                .try_get::<_, Option<bool>>(index)?
                .map(|truth| Cell::Int(truth.into())),
            Type::FLOAT8 => self.try_get::<_, Option<f64>>(index)?.map(Cell::Real),
            Type::FLOAT4 => self
                .try_get::<_, Option<f32>>(index)?
                .map(|real| Cell::Real(real.into())),
            _ => self
                .try_get::<_, Option<&str>>(index)?
                .map(|text| Cell::Text(text.into())),
        };
        Ok(cell.unwrap_or(Cell::Null))
    }
}

/// `sql` with its `?N` parameters written `$N`, as PostgreSQL numbers
/// them (quoted text left alone), and which of `$1` to the highest it
/// uses.
fn numbered(sql: &str) -> (String, Vec<bool>) {
    let mut out = String::with_capacity(sql.len());
    let mut used = Vec::new();
    let mut quoted = false;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        let digits = rest.len() - rest.trim_start_matches(|d: char| d.is_ascii_digit()).len();
        match c {
            '\'' => quoted = !quoted,
            '?' if !quoted && digits > 0 => {
                if let Ok(number) = rest[..digits].parse::<usize>() {
                    if used.len() < number {
                        used.resize(number, false);
                    }
                    used[number - 1] = true;
                }
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    (out, used)
}

/// `url` without its password, to show in messages.
pub(super) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _password)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_outside_quotes() {
        let (text, used) = numbered("SELECT ?1, '?2', ?4 WHERE a = '?' AND b = ?1");
        assert_eq!(text, "SELECT $1, '?2', $4 WHERE a = '?' AND b = $1");
        assert_eq!(used, [true, false, false, true]);
    }

    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            redacted("postgres://flowc:pw@host:5432/db?sslmode=require&password=x"),
            "postgres://flowc:***@host:5432/db?sslmode=require&password=***"
        );
        assert_eq!(redacted("postgres://host/db"), "postgres://host/db");
    }
}
