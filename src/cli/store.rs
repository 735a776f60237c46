//! What the store-backed subcommands share: `--db`, opening the live
//! runtime with clear errors, and printing tables or JSON.

use std::path::PathBuf;

use super::EXIT_ERRORS;
use crate::runtime::live::{Clock, Live};
use crate::store::{self, Store};

/// The `--db` option.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The database file (default: `FLOWC_DB`, else `./flowc.db`).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
}

impl DbArgs {
    /// The database path in use.
    pub fn path(&self) -> PathBuf {
        store::resolve_path(self.db.as_deref())
    }

    /// Opens the live runtime, or prints why not and gives the exit status.
    pub fn open(&self) -> Result<Live, u8> {
        let clock = Clock::from_env().map_err(|error| fail(&error))?;
        let path = self.path();
        match Store::open(&path) {
            Ok(store) => Ok(Live::new(store, clock)),
            Err(error) => Err(fail(&error)),
        }
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
    Table,
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
