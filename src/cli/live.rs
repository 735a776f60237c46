//! `flowc run` without `--simulate`: the live runner on the real clock.

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
use crate::store::StoreError;

/// How often a sleeping runner looks for new leads, events and signals.
const POLL: Duration = Duration::from_millis(200);
/// How long an idle runner with nothing in flight sleeps on a database
/// whose commits announce new work (PostgreSQL): what no announcement
/// covers (a claim lapsing when its runner died) is found within it.
const LISTENING: Duration = Duration::from_secs(2);

/// Runs due work until stopped (SIGINT/SIGTERM finish the current batch),
/// or with `once` until nothing is due or in flight (calls placed
/// included). Effects go to the providers of
/// `flowc.toml` (`config`, else next to the database), or without one to
/// the recording provider. Returns the exit status.
pub fn run(args: &RunArgs) -> u8 {
    let (once, db, config) = (args.once, &args.db, args.config.as_deref());
    let mut live = match db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    live.runner = Runner::new(Duration::from_secs(args.lease));
    let location = db.location();
    let provider: Arc<dyn Provider> = match Config::find(config, location.file()) {
        Ok(Some(config)) => match Providers::new(config) {
            Ok(providers) => Arc::new(providers),
            Err(error) => return fail(&error),
        },
        Ok(None) => match RecordingProvider::open(&location) {
            Ok(provider) => Arc::new(provider),
            Err(error) => return fail(&error),
        },
        Err(error) => return fail(&error),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A second handler cannot be installed (tests call this twice): then
    // the default one, which ends the process, stays.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let mut done = 0;
    while !stop.load(Ordering::SeqCst) {
        match live.tick(&provider) {
            Ok(0) if once => match live.in_flight() {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) => return fail(&error),
            },
            Ok(0) => {
                let idle = match live.in_flight() {
                    Ok(0) if live.store.hears_notices() => LISTENING,
                    Ok(_) => POLL,
                    Err(error) => return fail(&error),
                };
                let next = live.next_wake().ok().flatten();
                let delay = next.map_or(idle, |next| live.clock.real_delay(next).min(idle));
                // A commit's notice ends the wait at once.
                if let Err(error) = live.store.await_notice(delay) {
                    return fail(&error);
                }
            }
            Ok(count) => done += count,
            // Other runners and imports hold the database in turns; what
            // this tick claimed is taken again by the next one.
            Err(StoreError::Locked) => {
                eprintln!("warning: the database stayed busy; trying again");
                std::thread::sleep(POLL);
            }
            // Turned back for another runner's sake: nothing was written.
            Err(StoreError::Conflict) => {}
            Err(error) => return fail(&error),
        }
    }
    // Stopped: what is being delivered is confirmed before exiting.
    if let Err(error) = live.drain() {
        return fail(&error);
    }
    eprintln!("flowc run: {done} steps of work done");
    EXIT_OK
}
