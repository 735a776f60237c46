//! The runtime behind the HTTP handlers: a few threads, each with its own
//! connection and [`Live`], taking jobs from a queue. Handlers wait for
//! their job without holding up tokio's threads.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::ApiError;
use crate::runtime::live::{Clock, Live};
use crate::store::{Kind, Location, Store, StoreError};

/// A job for a connection's thread.
type Job = Box<dyn FnOnce(&mut Live) + Send>;

/// Connections to the database for the handlers.
pub struct Database {
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Database {
    /// Opens the connections: one on SQLite, whose writes take turns
    /// anyway, four on PostgreSQL.
    pub fn open(location: &Location) -> Result<Database, StoreError> {
        let first = Store::open(location.clone())?;
        let count = match first.kind() {
            Kind::Sqlite => 1,
            Kind::Postgres => 4,
        };
        drop(first);
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut threads = Vec::with_capacity(count);
        for _ in 0..count {
            let (opened, answer) = channel();
            let (location, receiver) = (location.clone(), Arc::clone(&receiver));
            threads.push(std::thread::spawn(move || match open(&location) {
                Ok(live) => {
                    let _ = opened.send(Ok(()));
                    work(live, &receiver);
                }
                Err(error) => {
                    let _ = opened.send(Err(error));
                }
            }));
            answer
                .recv()
                .unwrap_or_else(|_| Err(StoreError::Invalid("a connection thread died".into())))?;
        }
        Ok(Database {
            jobs: Mutex::new(Some(sender)),
            threads: Mutex::new(threads),
        })
    }

    /// Runs `job` on a connection's thread and gives what it returned.
    pub async fn call<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Live) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |live| {
            let _ = answer.send(job(live));
        });
        let sent = match &*self
            .jobs
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(ApiError::unavailable("the service is stopping"));
        }
        // A job that panicked dropped its answer: the request fails, the
        // thread goes on.
        answered
            .await
            .map_err(|_| ApiError::internal("the request failed inside flowc"))
    }
}

/// Stops taking jobs, finishes the queued ones and closes the connections.
impl Drop for Database {
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

/// The runtime over a new connection to `location`, on the clock
/// `FLOWC_CLOCK` sets (the real one by default).
pub fn open(location: &Location) -> Result<Live, StoreError> {
    let clock = Clock::from_env().map_err(|error| StoreError::Invalid(error.to_string()))?;
    Ok(Live::new(Store::open(location.clone())?, clock))
}

/// A connection thread's loop: jobs until the queue closes.
fn work(mut live: Live, jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut live)));
    }
}
