//! The databases the CLI benchmarks run on: SQLite files in the bench's
//! folder, or new databases on a PostgreSQL server — the one at
//! `FLOWC_BENCH_POSTGRES` (`postgres://user@host:port`, without a database
//! name), else one `scripts/postgres` starts for the run and stops after.

use std::path::Path;
use std::process::Command;

use flowc::store::Location;

/// Where a round's database is made.
pub enum Backend {
    /// A file in the bench's folder.
    Sqlite,
    /// A new database on this server for each round.
    Postgres(String),
}

impl Backend {
    /// The backend's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }

    /// A new, empty database named `name`.
    pub fn fresh(&self, dir: &Path, name: &str) -> Location {
        match self {
            Backend::Sqlite => {
                let db = dir.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
                }
                Location::Sqlite(db)
            }
            Backend::Postgres(server) => {
                let mut admin =
                    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
                        .expect("the server");
                for statement in [
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    format!("CREATE DATABASE {name}"),
                ] {
                    admin.batch_execute(&statement).expect("a new database");
                }
                Location::Postgres(format!("{server}/{name}"))
            }
        }
    }
}

/// The PostgreSQL server of the run, stopped when dropped if the bench
/// started it.
pub struct PostgresServer {
    /// Its URL, without a database name.
    pub url: String,
    started: Option<tempfile::TempDir>,
}

impl PostgresServer {
    /// `FLOWC_BENCH_POSTGRES`, else a server started now.
    pub fn get() -> PostgresServer {
        if let Ok(url) = std::env::var("FLOWC_BENCH_POSTGRES") {
            return PostgresServer { url, started: None };
        }
        let dir = tempfile::tempdir().expect("a folder");
        let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
            .args(["start", &dir.path().join("server").display().to_string()])
            .output()
            .expect("scripts/postgres runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        PostgresServer {
            url,
            started: Some(dir),
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Some(started) = &self.started {
            let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
                .args(["stop", &started.path().join("server").display().to_string()])
                .status();
        }
    }
}
