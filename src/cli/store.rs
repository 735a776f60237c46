//! What the store-backed subcommands share: `--db`, opening the live
//! runtime with clear errors, and printing tables or JSON.

use super::EXIT_ERRORS;
use crate::runtime::live::{Clock, Live};
use crate::store::{self, Location, Store};

/// The `--db` option.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database: a SQLite file, or a PostgreSQL URL
    /// (`postgres://user:password@host:5432/name`); default: `FLOWC_DB`,
    /// else `./flowc.db`.
    #[arg(long, global = true, value_name = "FILE|URL")]
    pub db: Option<String>,
}

impl DbArgs {
    /// The database in use.
    pub fn location(&self) -> Location {
        Location::resolve(self.db.as_deref())
    }

    /// Opens the live runtime, or prints why not and gives the exit status.
    pub fn open(&self) -> Result<Live, u8> {
        let clock = Clock::from_env().map_err(|error| fail(&error))?;
        match Store::open(self.location()) {
            Ok(store) => Ok(Live::new(store, clock)),
            Err(error) => Err(fail(&error)),
        }
    }
}

impl DbArgs {
    /// Opens the live runtime for a command that only reads: a SQLite file
    /// that is not there is an error, not a new empty database.
    pub fn open_existing(&self) -> Result<Live, u8> {
        if let Location::Sqlite(path) = self.location() {
            if !path.exists() {
                eprintln!(
                    "error: there is no database at {}: `flowc publish FILE` makes one, or pass --db",
                    path.display()
                );
                return Err(super::EXIT_USAGE);
            }
        }
        self.open()
    }
}

/// Arguments of `flowc migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Creates or migrates the database's schema and says what it did;
/// returns the exit status.
pub fn migrate(args: &MigrateArgs) -> u8 {
    let location = args.db.location();
    match Store::open(location.clone()) {
        Ok(store) => {
            let (found, now) = (store.found_version(), store::SCHEMA_VERSION);
            match found {
                0 => println!("created flowc's schema (version {now}) in {location}"),
                _ if found < now => {
                    println!("migrated {location} from schema version {found} to {now}")
                }
                _ => println!("{location} is at schema version {now} already"),
            }
            super::EXIT_OK
        }
        Err(error) => fail(&error),
    }
}

/// Prints an error and gives the exit status for it.
pub fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    EXIT_ERRORS
}

/// Output formats of the store's reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    #[value(alias = "table")]
    Text,
    /// JSON for scripts.
    Json,
}

/// Prints `rows` as pretty JSON.
pub fn print_json<T: serde::Serialize>(rows: &T) {
    match serde_json::to_string_pretty(rows) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("error: {error}"),
    }
}
