//! The runner's loop: due work until told to stop, sleeping between
//! rounds on the store's notices (PostgreSQL) or a short poll (SQLite).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::{Carrier, Live};
use crate::store::StoreError;

/// How often a sleeping runner looks for new leads, events and signals.
const POLL: Duration = Duration::from_millis(200);
/// How long an idle runner with nothing in flight sleeps on a database
/// whose commits announce new work (PostgreSQL): what no announcement
/// covers (a claim lapsing when its runner died) is found within it.
const LISTENING: Duration = Duration::from_secs(2);

impl Live {
    /// Runs due work until `stop` is set (then finishes the current batch
    /// and confirms what is being delivered), or with `once` until nothing
    /// is due or in flight (calls placed included). Returns how many steps
    /// of work were done.
    pub fn work(
        &mut self,
        carrier: &Carrier,
        stop: &AtomicBool,
        once: bool,
    ) -> Result<usize, StoreError> {
        let mut done = 0;
        while !stop.load(Ordering::SeqCst) {
            match self.tick(carrier) {
                Ok(0) if once => {
                    if self.in_flight()? == 0 {
                        break;
                    }
                }
                Ok(0) => self.idle()?,
                Ok(count) => done += count,
                // Other runners and imports hold the database in turns;
                // what this tick claimed is taken again by the next one.
                Err(StoreError::Locked) => {
                    eprintln!("warning: the database stayed busy; trying again");
                    std::thread::sleep(POLL);
                }
                // Turned back for another runner's sake: nothing was written.
                Err(StoreError::Conflict) => {}
                Err(error) => return Err(error),
            }
        }
        // Stopped: what is being delivered is confirmed before returning.
        self.drain()?;
        Ok(done)
    }

    /// Sleeps until the next wake-up, a commit's notice, or the idle
    /// period, whichever comes first.
    fn idle(&mut self) -> Result<(), StoreError> {
        let idle = match self.in_flight()? {
            0 if self.store.hears_notices() => LISTENING,
            _ => POLL,
        };
        let next = self.next_wake().ok().flatten();
        let delay = next.map_or(idle, |next| self.clock.real_delay(next).min(idle));
        self.store.await_notice(delay)?;
        Ok(())
    }
}
