//! Claiming outbox rows: a runner takes pending effects with a lease (its
//! owner id and an expiry in real time) in the transaction that reads
//! them, a heartbeat renews the leases while it delivers, and another
//! runner takes over a row whose lease lapsed (its runner died).
//!
//! Leases run on the real clock, whatever the workflow clock says: they
//! measure how long a process has been silent, not workflow time.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::{params, Location, Store, StoreError};

/// How long a claim lasts unless renewed, by default.
pub const DEFAULT: Duration = Duration::from_secs(30);

/// Who a runner is in the `owner` column, and how long its claims last.
#[derive(Clone, Debug)]
pub struct Runner {
    /// Unique among the runners of a database: process id and start time.
    pub owner: String,
    /// How long a claim lasts unless renewed (renewed every third of it).
    pub lease: Duration,
}

impl Runner {
    /// This process as a runner with leases of `lease`.
    pub fn new(lease: Duration) -> Runner {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Runner {
            owner: format!("{}@{started}", std::process::id()),
            lease,
        }
    }

    /// When a claim made now lapses, in milliseconds since the epoch.
    pub fn expiry(&self) -> i64 {
        now_millis() + i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

/// The real time in milliseconds since the epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

/// Renews a runner's leases on its pending rows every third of the lease,
/// through its own connection, until dropped.
pub struct Heartbeat {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts renewing `runner`'s leases in the database at `location`.
    pub fn start(location: &Location, runner: &Runner) -> Result<Heartbeat, StoreError> {
        let store = Store::open(location)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let runner = runner.clone();
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(runner.lease / 3) {
                // A renewal that fails (the database busy too long) is tried
                // again at the next beat, well before the lease lapses.
                let _ = store.execute(
                    "UPDATE outbox SET lease = ?1
                     WHERE lease IS NOT NULL AND owner = ?2 AND status IN ('pending', 'placed')",
                    params![runner.expiry(), runner.owner],
                );
            }
        });
        Ok(Heartbeat {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
