//! `flowc publish FILE` and `flowc unpublish NAME`: make workflows live,
//! or pause them.

use std::path::PathBuf;

use super::store::{fail, DbArgs};
use super::{load, EXIT_OK, EXIT_USAGE};
use crate::config::Config;
use crate::runtime::live::{Migration, Publication};

/// Arguments of `flowc publish`.
#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// The `.flow` file whose workflows go live.
    pub file: PathBuf,
    /// Move running enrollments to the new version, by step label.
    #[arg(long)]
    pub migrate: bool,
    /// With --migrate: where enrollments at a step that is gone go (a label).
    #[arg(long, requires = "migrate", value_name = "LABEL")]
    pub force: Option<String>,
    /// The `flowc.toml` whose contact policy every process follows
    /// (default: the one next to the database).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Who publishes, as the console's version history shows it (default:
    /// the system user, `$USER`).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `flowc unpublish`.
#[derive(Debug, clap::Args)]
pub struct UnpublishArgs {
    /// The workflow to take off line.
    pub name: String,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Checks, compiles and publishes; returns the exit status.
pub fn publish(args: &PublishArgs) -> u8 {
    let artifact = match load::compile_file(&args.file) {
        Ok(artifact) => artifact,
        Err(status) => return status,
    };
    let source = std::fs::read_to_string(&args.file).unwrap_or_default();
    let config = match Config::find(args.config.as_deref(), args.db.location().file()) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    // Without a flowc.toml the policy recorded before stays: publishing
    // from another folder must not lift every cap.
    if let Some(policy) = config.map(|config| config.policy) {
        match live.set_policy(&policy) {
            Ok(true) if policy.is_empty() => println!("contact policy: none"),
            Ok(true) => println!("contact policy: {}", policy.describe()),
            Ok(false) => {}
            Err(error) => return fail(&error),
        }
    }
    let migration = if args.migrate {
        Migration::ByLabel {
            force: args.force.clone(),
        }
    } else {
        Migration::None
    };
    let by = args.by.clone().unwrap_or_else(super::system_user);
    match live.publish(&artifact, &source, migration, &by) {
        Ok(publications) => {
            for publication in publications {
                match publication {
                    Publication::NewVersion {
                        name,
                        version,
                        migrated,
                    } => {
                        println!("published {name} version {version}");
                        if args.migrate {
                            println!("  {migrated} running enrollments moved to version {version}");
                        }
                    }
                    Publication::Unchanged {
                        name,
                        version,
                        resumed,
                    } => {
                        println!("{name} version {version} is unchanged and live ({resumed} paused timers resumed)");
                    }
                }
            }
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}

/// Pauses a workflow; returns the exit status.
pub fn unpublish(args: &UnpublishArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    match live.unpublish(&args.name) {
        Ok(Some(paused)) => {
            println!(
                "unpublished {}: {paused} timers paused with the time they had left",
                args.name
            );
            EXIT_OK
        }
        Ok(None) => {
            eprintln!("error: no workflow is named {:?}", args.name);
            EXIT_USAGE
        }
        Err(error) => fail(&error),
    }
}
