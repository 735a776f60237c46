//! The runtime behind the HTTP handlers: a few threads, each with its own
//! connection and [`Live`], taking jobs from a queue. Handlers wait for
//! their job without holding up tokio's threads. Small lead imports that
//! queue up while a thread is busy are committed together, in one
//! transaction (group commit): under load, one commit serves many
//! requests.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::api::{import_many, LeadsAnswer};
use super::ApiError;
use crate::runtime::live::{Clock, Live};
use crate::store::{Location, Store, StoreError};

/// A job for a connection's thread.
enum Job {
    /// Run this.
    Run(Box<dyn FnOnce(&mut Live) + Send>),
    /// Import these leads, with the imports queued beside it.
    Leads(LeadsJob),
}

/// A small `POST /v1/leads`: its records, and where its answer goes.
pub struct LeadsJob {
    /// The request's records.
    pub records: Vec<serde_json::Value>,
    /// Where the answer goes.
    pub answer: tokio::sync::oneshot::Sender<Result<LeadsAnswer, ApiError>>,
}

/// Requests of at most this many leads are committed together.
pub const SMALL: usize = 50;
/// Leads one shared commit takes at most.
const TOGETHER: usize = 500;

/// Connections to the database for the handlers.
pub struct Database {
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Database {
    /// Opens the connections: one on SQLite, whose writes take turns
    /// anyway, four on PostgreSQL.
    pub fn open(location: &Location) -> Result<Database, StoreError> {
        let count = match location {
            Location::Sqlite(_) => 1,
            Location::Postgres(_) => 4,
        };
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
        self.send(Job::Run(Box::new(move |live| {
            let _ = answer.send(job(live));
        })))?;
        // A job that panicked dropped its answer: the request fails, the
        // thread goes on.
        answered
            .await
            .map_err(|_| ApiError::internal("the request failed inside flowc"))
    }

    /// Imports a small request's lead records (at most [`SMALL`]),
    /// committed together with the imports queued beside it.
    pub async fn import(&self, records: Vec<serde_json::Value>) -> Result<LeadsAnswer, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.send(Job::Leads(LeadsJob { records, answer }))?;
        answered
            .await
            .map_err(|_| ApiError::internal("the request failed inside flowc"))?
    }

    fn send(&self, job: Job) -> Result<(), ApiError> {
        let sent = match &*self
            .jobs
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        match sent {
            true => Ok(()),
            false => Err(ApiError::unavailable("the service is stopping")),
        }
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
        let mut next = Some(job);
        while let Some(job) = next.take() {
            next = match job {
                Job::Run(job) => {
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut live)));
                    None
                }
                Job::Leads(first) => {
                    let (batch, after) = together(first, jobs);
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        import_many(&mut live, batch)
                    }));
                    after
                }
            };
        }
    }
}

/// `first` and the lead imports queued behind it, up to [`TOGETHER`]
/// leads; the first other job found, to run next.
fn together(first: LeadsJob, jobs: &Mutex<Receiver<Job>>) -> (Vec<LeadsJob>, Option<Job>) {
    let mut leads = first.records.len();
    let mut batch = vec![first];
    // Another thread waiting for work holds the queue while it waits:
    // then nothing is queued, and this batch goes alone.
    let Ok(jobs) = jobs.try_lock() else {
        return (batch, None);
    };
    while leads < TOGETHER {
        match jobs.try_recv() {
            Ok(Job::Leads(job)) => {
                leads += job.records.len();
                batch.push(job);
            }
            Ok(other) => return (batch, Some(other)),
            Err(_) => break,
        }
    }
    (batch, None)
}
