//! `flowc run` without `--simulate`: the live runner on the real clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::run::RunArgs;
use super::store::fail;
use super::EXIT_OK;

use crate::config::Config;
use crate::providers::Providers;
use crate::runtime::live::lease::Runner;
use crate::runtime::live::Carrier;
use crate::store::Location;

/// Runs due work until stopped (SIGINT/SIGTERM finish the current batch),
/// or with `once` until nothing is due or in flight (calls placed
/// included). Effects go to the providers of
/// `flowc.toml` (`config`, else next to the database), or without one are
/// recorded in the database. Returns the exit status.
pub fn run(args: &RunArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    live.runner = Runner::new(args.runner.lease());
    let location = args.db.location();
    let carrier = match args
        .runner
        .config(&location)
        .and_then(|config| args.runner.carrier(config.as_ref()))
    {
        Ok(carrier) => carrier,
        Err(status) => return status,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A second handler cannot be installed (tests call this twice): then
    // the default one, which ends the process, stays.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    if !args.once {
        // Also the sign, for whoever started it, that a signal now stops it
        // cleanly.
        eprintln!(
            "flowc run: working on {location}; Ctrl-C or SIGTERM finishes the batch and stops"
        );
    }
    match live.work(&carrier, &stop, args.once) {
        Ok(done) => {
            eprintln!("flowc run: {done} steps of work done");
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}

// The `--lease` help says the default.
const _: () = assert!(crate::runtime::live::lease::DEFAULT.as_secs() == 30);

/// How a runner (of `flowc run` or `flowc serve`) claims and delivers.
#[derive(Debug, clap::Args)]
pub struct RunnerArgs {
    /// How long, in seconds, the runner's claim on an effect lasts unless
    /// renewed (it renews its claims every third of that while it runs);
    /// another runner takes over a claim that lapsed [default: 30].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lease: Option<u64>,
    /// The providers' configuration (default: `flowc.toml` next to the
    /// database, or in the current folder on PostgreSQL; without one,
    /// effects are recorded, not sent).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Send nothing, whatever the configuration says: record every effect
    /// in the database as without a `flowc.toml` (a dry run).
    #[arg(long)]
    pub record: bool,
}

impl RunnerArgs {
    /// How long a claim lasts.
    pub fn lease(&self) -> Duration {
        self.lease
            .map_or(crate::runtime::live::lease::DEFAULT, Duration::from_secs)
    }

    /// A flag given that only a live runner uses, as written.
    pub fn live_only_flag(&self) -> Option<&'static str> {
        if self.lease.is_some() {
            Some("--lease")
        } else if self.record {
            Some("--record")
        } else {
            None
        }
    }

    /// The configuration of `--config`, else the one found for the
    /// database at `location`; prints why not and gives the exit status on
    /// an error.
    pub fn config(&self, location: &Location) -> Result<Option<Config>, u8> {
        Config::find(self.config.as_deref(), location.file()).map_err(|error| fail(&error))
    }

    /// Where effects go: the providers of `config`, or with `--record` or
    /// without a configuration into the database, recorded. Prints why not
    /// and gives the exit status on an error.
    pub fn carrier(&self, config: Option<&Config>) -> Result<Carrier, u8> {
        match config.filter(|_| !self.record) {
            Some(config) => match Providers::new(config.clone()) {
                Ok(providers) => Ok(Carrier::Sent(Arc::new(providers))),
                Err(error) => Err(fail(&error)),
            },
            None => Ok(Carrier::Recorded),
        }
    }
}
