//! `flowc run` without `--simulate`: the live runner on the real clock.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::run::RunArgs;
use super::store::fail;
use super::EXIT_OK;

use crate::config::Config;
use crate::providers::Providers;
use crate::runtime::live::lease::Runner;
use crate::runtime::live::{Provider, RecordingProvider};
use crate::store::Location;

/// Runs due work until stopped (SIGINT/SIGTERM finish the current batch),
/// or with `once` until nothing is due or in flight (calls placed
/// included). Effects go to the providers of
/// `flowc.toml` (`config`, else next to the database), or without one to
/// the recording provider. Returns the exit status.
pub fn run(args: &RunArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    live.runner = Runner::new(Duration::from_secs(args.lease));
    let location = args.db.location();
    let provider = match config(args.config.as_deref(), &location)
        .and_then(|config| provider(config.as_ref().filter(|_| !args.record), &location))
    {
        Ok(provider) => provider,
        Err(status) => return status,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A second handler cannot be installed (tests call this twice): then
    // the default one, which ends the process, stays.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    match live.work(&provider, &stop, args.once) {
        Ok(done) => {
            eprintln!("flowc run: {done} steps of work done");
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}

/// The configuration of `--config`, else the one found for the database
/// at `location`; prints why not and gives the exit status on an error.
pub fn config(flag: Option<&Path>, location: &Location) -> Result<Option<Config>, u8> {
    Config::find(flag, location.file()).map_err(|error| fail(&error))
}

/// Where effects go: the providers of `config`, or without one the
/// recording provider into the database at `location`. Prints why not and
/// gives the exit status on an error.
pub fn provider(config: Option<&Config>, location: &Location) -> Result<Arc<dyn Provider>, u8> {
    match config {
        Some(config) => match Providers::new(config.clone()) {
            Ok(providers) => Ok(Arc::new(providers)),
            Err(error) => Err(fail(&error)),
        },
        None => match RecordingProvider::open(location) {
            Ok(provider) => Ok(Arc::new(provider)),
            Err(error) => Err(fail(&error)),
        },
    }
}
