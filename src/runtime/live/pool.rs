//! The runner's delivery threads: per effect kind, as many threads as the
//! provider allows in flight for that kind, fed by the runner and answering
//! through one channel. A slow kind (calls, a hanging API) takes only its
//! own threads: the other kinds go on.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::provider::{Attempt, CallStatus, Provider};
use super::{Pending, PlacedCall};
use crate::vm::Response;

/// Work for a delivery thread.
pub(super) enum Job {
    /// Deliver an effect.
    Deliver(Pending),
    /// Look at a placed call.
    Look(PlacedCall),
}

impl Job {
    /// The kind whose threads do it.
    fn kind(&self) -> &str {
        match self {
            Job::Deliver(pending) => &pending.delivery.kind,
            Job::Look(_) => "call",
        }
    }
}

/// A job done.
pub(super) enum Done {
    /// An effect delivered, and how it went.
    Delivered(Pending, Attempt),
    /// A placed call looked at, and what was seen.
    Looked(PlacedCall, CallStatus),
}

impl Done {
    /// The kind whose threads did it.
    fn kind(&self) -> &str {
        match self {
            Done::Delivered(pending, _) => &pending.delivery.kind,
            Done::Looked(..) => "call",
        }
    }
}

/// Delivery threads over one provider.
pub(super) struct Pool {
    provider: Arc<dyn Provider>,
    queues: HashMap<String, Sender<Job>>,
    in_flight: HashMap<String, usize>,
    done: Receiver<Done>,
    report: Sender<Done>,
    threads: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Threads for `provider`, started for each kind as its first job comes.
    pub(super) fn new(provider: Arc<dyn Provider>) -> Pool {
        let (report, done) = mpsc::channel();
        Pool {
            provider,
            queues: HashMap::new(),
            in_flight: HashMap::new(),
            done,
            report,
            threads: Vec::new(),
        }
    }

    /// The provider the threads deliver through.
    pub(super) fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    /// How many more jobs of `kind` may start now.
    pub(super) fn free(&self, kind: &str) -> usize {
        let busy = self.in_flight.get(kind).copied().unwrap_or(0);
        self.provider.concurrency(kind).max(1).saturating_sub(busy)
    }

    /// Jobs started and not yet collected.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.values().sum()
    }

    /// Starts a job.
    pub(super) fn start(&mut self, job: Job) {
        let kind = job.kind().to_owned();
        *self.in_flight.entry(kind.clone()).or_insert(0) += 1;
        let queue = match self.queues.get(&kind) {
            Some(queue) => queue,
            None => {
                let queue = self.spawn(&kind);
                self.queues.entry(kind).or_insert(queue)
            }
        };
        // The threads live as long as the pool: a send cannot fail.
        let _ = queue.send(job);
    }

    /// The threads of one kind, and the queue that feeds them.
    fn spawn(&mut self, kind: &str) -> Sender<Job> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..self.provider.concurrency(kind).max(1) {
            let (jobs, report) = (Arc::clone(&jobs), self.report.clone());
            let provider = Arc::clone(&self.provider);
            self.threads.push(std::thread::spawn(move || loop {
                let job = match jobs.lock() {
                    Ok(jobs) => jobs.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                if report.send(work(provider.as_ref(), job)).is_err() {
                    return;
                }
            }));
        }
        queue
    }

    /// The jobs done so far; with `wait`, waits that long for a first one
    /// when none is done yet.
    pub(super) fn collect(&mut self, wait: Option<Duration>) -> Vec<Done> {
        let mut done: Vec<Done> = self.done.try_iter().collect();
        if done.is_empty() && self.in_flight() > 0 {
            if let Some(wait) = wait {
                match self.done.recv_timeout(wait) {
                    Ok(first) => {
                        done.push(first);
                        done.extend(self.done.try_iter());
                    }
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
                }
            }
        }
        for job in &done {
            if let Some(count) = self.in_flight.get_mut(job.kind()) {
                *count = count.saturating_sub(1);
            }
        }
        done
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.queues.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Does a job; a provider that panics fails the effect instead of the
/// runner.
fn work(provider: &dyn Provider, job: Job) -> Done {
    match job {
        Job::Deliver(pending) => {
            let attempt = catch_unwind(AssertUnwindSafe(|| provider.deliver(&pending.delivery)))
                .unwrap_or_else(|_| {
                    Attempt::Answered(Response::Permanent(
                        "the provider crashed delivering it".to_owned(),
                    ))
                });
            Done::Delivered(pending, attempt)
        }
        Job::Look(call) => {
            let status = match call.reported {
                // Its status callback came: no need to ask.
                Some(outcome) => CallStatus::Ended(outcome),
                None => catch_unwind(AssertUnwindSafe(|| provider.call_status(&call.call)))
                    .unwrap_or_else(|_| CallStatus::Unknown("the provider crashed".to_owned())),
            };
            Done::Looked(call, status)
        }
    }
}
