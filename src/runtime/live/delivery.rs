//! Delivering the outbox: the runner claims pending effects (and placed
//! calls due for a look) with a lease ([`super::claims`]), kind by kind as
//! the provider has room for them, hands them to its delivery threads, and
//! confirms what they did in one transaction per round (group commit),
//! running each enrollment on from the instant it reached the step.
//! Recorded effects, and those consent suppresses, are answered and
//! confirmed in the claiming transaction (recorded ones are claimed with no
//! lease written: nothing of them outlives it).
//!
//! A call is two things: placing it (one request; once the provider has
//! accepted it, its id is recorded and it is never placed again) and
//! learning its outcome (looks at its status every poll interval, which
//! hold no thread in between, until it ends or the call timeout passes).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::activation::{load_enrollment, resume};
use super::claims::{Hold, Pending, PlacedCall};
use super::delivered::Delivered;
use super::lease::{self, Heartbeat};
use super::loaded::Loaded;
use super::pool::{Done, Job, Pool};
use super::provider::{Attempt, CallStatus, Carrier, RECORDED_PER_ROUND};
use super::recording::Answering;
use super::stored_leads::lead_slots;
use super::timeline_events::insert_events;
use super::{recording, touches, Live, Version};
use crate::ast::Outcome;
use crate::runtime::consent;
use crate::runtime::policy::{self, ContactPolicy, Touch};
use crate::runtime::recorder::KINDS;
use crate::store::{instant, millis, params, StoreError, Tx};
use crate::vm::{Event, EventKind, Message, Response, Vm};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

/// How a runner carries out the effects it claims (set by each tick).
pub(super) enum Outlet {
    /// No tick has run yet.
    Unset,
    /// Recorded in the transaction that claims them ([`Carrier::Recorded`]).
    Recorded,
    /// Sent on a provider's delivery threads.
    Threads(Pool),
}

impl Outlet {
    /// Records the claimed jobs in `transaction` when effects are recorded
    /// ([`Carrier::Recorded`]); gives the jobs to start on the delivery
    /// threads once the claims are committed, and the answers recorded, to
    /// be confirmed in the same transaction.
    pub(super) fn record(
        &self,
        transaction: &Tx<'_>,
        jobs: Vec<Job>,
    ) -> Result<(Vec<Job>, Vec<Done>), StoreError> {
        match self {
            Outlet::Recorded => Ok((Vec::new(), recording::carry(transaction, jobs)?)),
            Outlet::Threads(_) | Outlet::Unset => Ok((jobs, Vec::new())),
        }
    }

    /// How the effects claimed for this outlet are held: recorded ones
    /// only by the transaction that claims, records and confirms them.
    pub(super) fn hold(&self) -> Hold {
        match self {
            Outlet::Recorded => Hold::InTransaction,
            Outlet::Threads(_) | Outlet::Unset => Hold::Leased,
        }
    }

    /// Who answers, at `now`, the effects a round's enrollments reach:
    /// the recording carrier, in the transaction that reaches them.
    pub(super) fn answering(&self, now: DateTime<Utc>) -> Option<Answering> {
        match self {
            Outlet::Recorded => Some(Answering { at: now }),
            Outlet::Threads(_) | Outlet::Unset => None,
        }
    }

    /// The delivery threads, if effects are sent.
    fn pool(&self) -> Option<&Pool> {
        match self {
            Outlet::Threads(pool) => Some(pool),
            Outlet::Unset | Outlet::Recorded => None,
        }
    }
}

impl Live {
    /// Carries effects by `carrier` from now on (after the deliveries in
    /// flight through another provider are confirmed).
    pub(super) fn use_carrier(&mut self, carrier: &Carrier) -> Result<(), StoreError> {
        let same = match (carrier, &self.outlet) {
            (Carrier::Recorded, Outlet::Recorded) => true,
            (Carrier::Sent(provider), Outlet::Threads(pool)) => {
                Arc::ptr_eq(pool.provider(), provider)
            }
            _ => false,
        };
        if same {
            return Ok(());
        }
        self.drain()?;
        self.outlet = match carrier {
            Carrier::Recorded => Outlet::Recorded,
            Carrier::Sent(provider) => Outlet::Threads(Pool::new(Arc::clone(provider))),
        };
        Ok(())
    }

    /// Effects being delivered and calls placed whose outcome is not known
    /// yet: `--once` waits for them.
    pub fn in_flight(&self) -> Result<usize, StoreError> {
        let placed: i64 = self.store.query_one(
            "SELECT count(*) FROM outbox WHERE status = 'placed'",
            params![],
            |row| row.get(0),
        )?;
        let delivering = self.outlet.pool().map_or(0, Pool::in_flight);
        Ok(delivering + placed as usize)
    }

    /// Waits, at most `wait`, until the next look at a placed call is due
    /// (when nothing else is to be done).
    pub(super) fn await_look(&self, wait: Duration) -> Result<(), StoreError> {
        let next: Option<i64> = self.store.query_one(
            "SELECT min(poll) FROM outbox WHERE status = 'placed'",
            params![],
            |row| row.get(0),
        )?;
        if let Some(next) = next {
            let until = u64::try_from(next - lease::now_millis()).unwrap_or(0);
            std::thread::sleep(wait.min(Duration::from_millis(until)));
        }
        Ok(())
    }

    /// Waits for every delivery in flight and confirms it (a runner that
    /// is stopped finishes what it started).
    pub fn drain(&mut self) -> Result<(), StoreError> {
        loop {
            self.collect(Some(Duration::from_secs(1)));
            if self.finished.is_empty() {
                if self.outlet.pool().is_none_or(|pool| pool.in_flight() == 0) {
                    return Ok(());
                }
                continue;
            }
            let timing = self.call_timing();
            let at = self.clock.now();
            let transaction = self.store.transaction()?;
            confirm(
                &transaction,
                &self.finished,
                &self.versions,
                timing,
                at,
                None,
            )?;
            transaction.commit()?;
            self.finished.clear();
        }
    }

    /// Takes what the delivery threads finished into `finished`; with
    /// `wait`, waits that long for a first job when none has finished.
    pub(super) fn collect(&mut self, wait: Option<Duration>) {
        if let Outlet::Threads(pool) = &mut self.outlet {
            let wait = wait.filter(|_| self.finished.is_empty());
            self.finished.extend(pool.collect(wait));
        }
    }

    /// The kinds the runner has room for this round, and how much.
    pub(super) fn room(&self) -> Vec<(&'static str, usize)> {
        let free = |kind: &str| match &self.outlet {
            Outlet::Unset => 0,
            Outlet::Recorded => RECORDED_PER_ROUND,
            Outlet::Threads(pool) => pool.free(kind),
        };
        KINDS
            .iter()
            .map(|kind| (*kind, free(kind)))
            .filter(|(_, free)| *free > 0)
            .collect()
    }

    /// The provider's call timing (see [`super::Provider::call_timing`]).
    pub(super) fn call_timing(&self) -> (Duration, Duration) {
        self.outlet.pool().map_or(
            (Duration::from_secs(5), Duration::from_secs(3600)),
            |pool| pool.provider().call_timing(),
        )
    }

    /// Starts the heartbeat that renews this runner's claims, once.
    pub(super) fn beat(&mut self) -> Result<(), StoreError> {
        if self.heartbeat.is_none() {
            self.heartbeat = Some(Heartbeat::start(self.store.location(), &self.runner)?);
        }
        Ok(())
    }

    /// Starts claimed jobs on the delivery threads.
    pub(super) fn start(&mut self, jobs: Vec<Job>) {
        if let Outlet::Threads(pool) = &mut self.outlet {
            for job in jobs {
                pool.start(job);
            }
        }
    }
}

/// Holds, instead of delivering, the claimed effects whose channel window
/// is closed at `now`, the real moment of delivery (a runner that started
/// late, a backlog after downtime), or whose channel is in quiet hours
/// then: the enrollment is held at the step until the window opens (the
/// quiet hours end), and the step is carried out again then under the same
/// key. Returns the jobs to start.
pub(super) fn hold_closed(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    jobs: Vec<Job>,
    now: DateTime<Utc>,
) -> Result<Vec<Job>, StoreError> {
    // Without a window anywhere or quiet hours, there is nothing to read.
    let windows = |version: &Version| version.program.has_windows();
    let policy = touches::current(transaction)?;
    let quiet = Some(policy.as_ref()).filter(|policy| policy.quiet_hours.is_some());
    if !versions.values().any(windows) && quiet.is_none() {
        return Ok(jobs);
    }
    let mut go = Vec::with_capacity(jobs.len());
    for job in jobs {
        let held = match &job {
            Job::Deliver(pending) => hold_if_closed(transaction, versions, quiet, pending, now)?,
            Job::Look(_) => false,
        };
        if !held {
            go.push(job);
        }
    }
    Ok(go)
}

/// Takes out of `jobs` the effects whose recipient may no longer be
/// reached (a STOP or an unsubscribe that came after the step was
/// reached): they are not delivered but answered as suppressed at once,
/// and the enrollment skips the step when they are confirmed. Returns the
/// jobs to start and the answers.
pub(super) fn suppress(
    transaction: &Tx<'_>,
    jobs: Vec<Job>,
) -> Result<(Vec<Job>, Vec<Done>), StoreError> {
    let messages: Vec<Option<Message>> = jobs
        .iter()
        .map(|job| match job {
            Job::Deliver(pending)
                if matches!(pending.delivery.kind.as_str(), "email" | "text" | "call") =>
            {
                serde_json::from_str(&pending.delivery.message).ok()
            }
            _ => None,
        })
        .collect();
    let addressed: Vec<&Message> = messages.iter().flatten().collect();
    let mut refusals = consent::refusals(transaction, &addressed)?.into_iter();
    let mut go = Vec::with_capacity(jobs.len());
    let mut answered = Vec::new();
    for (job, message) in jobs.into_iter().zip(&messages) {
        let why = message.as_ref().and_then(|_| refusals.next().flatten());
        match (job, why) {
            (Job::Deliver(pending), Some(why)) => answered.push(Done::Delivered(
                pending,
                Attempt::Answered(Response::Suppressed(why)),
            )),
            (job, _) => go.push(job),
        }
    }
    Ok((go, answered))
}

/// Holds one effect's enrollment if its window is closed now, or its
/// channel in quiet hours; whether it did.
fn hold_if_closed(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    policy: Option<&ContactPolicy>,
    pending: &Pending,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // Only channels have windows: nothing to read for the other kinds.
    let Some(channel) = consent::channel(&pending.delivery.kind) else {
        return Ok(false);
    };
    let policy = policy.filter(|policy| policy.governs(channel));
    let Some((row, fields)) = load_enrollment(transaction, pending.enrollment)? else {
        return Ok(false);
    };
    let Some(version) = versions.get(&row.workflow) else {
        return Ok(false);
    };
    let program = &version.program;
    let windowed = program.has_windows();
    if !(windowed || policy.is_some()) || row.enrollment.status.is_final() {
        return Ok(false);
    }
    let fields: Map<String, Json> = serde_json::from_str(&fields)?;
    let vm = Vm::new(program);
    let pc = row.enrollment.pc;
    let slots = lead_slots(program, &fields);
    // A window that was open when the step was reached opens again; quiet
    // hours end.
    let closed = match vm.closed_until(pc, &slots, now) {
        Some(Some(opens)) => Some((opens, format!("{} window closed", pending.delivery.kind))),
        _ => policy.and_then(|policy| {
            let message = serde_json::from_str(&pending.delivery.message).ok()?;
            let lead_zone = fields
                .get("timezone")
                .and_then(Json::as_str)
                .and_then(|name| name.parse().ok());
            let (zone, source) = policy::recipient_clock(lead_zone, program.timezone, &message);
            let touch = Touch {
                key: &pending.delivery.key,
                lead: &row.lead,
                channel,
                zone,
                source,
                at: now,
            };
            let quiet = policy.quiet_check(&touch).err()?;
            Some((quiet.release?, format!("contact policy: {}", quiet.reason)))
        }),
    };
    let Some((opens, why)) = closed else {
        return Ok(false);
    };
    transaction.execute(
        "DELETE FROM outbox WHERE id = ?1",
        params![pending.delivery.id],
    )?;
    let detail = format!(
        "{why} when it was to go out (the step was reached at {}); release at {}",
        vm.local(pending.created),
        vm.local(opens)
    );
    transaction.execute(
        "UPDATE enrollments SET status = 'held', wake = ?1, hold_reason = ?2 WHERE id = ?3",
        params![millis(opens), detail, pending.enrollment],
    )?;
    let event = Event {
        at: now,
        pc,
        kind: EventKind::Held,
        detail,
    };
    insert_events(transaction, pending.enrollment, program, &[event]);
    Ok(true)
}

/// Confirms the jobs the delivery threads finished, and runs their
/// enrollments on (the effects they reach answered by `answering`, if
/// any). Returns how many.
pub(super) fn confirm(
    transaction: &Tx<'_>,
    finished: &[Done],
    versions: &HashMap<i64, Version>,
    timing: (Duration, Duration),
    now: DateTime<Utc>,
    answering: Option<&Answering>,
) -> Result<usize, StoreError> {
    // The enrollments the answers run on, read in a few statements.
    let answered: Vec<i64> = finished
        .iter()
        .filter_map(|job| match job {
            Done::Delivered(pending, Attempt::Answered(_)) => Some(pending.enrollment),
            _ => None,
        })
        .collect();
    let mut loaded = Loaded::read(transaction, &answered)?;
    for job in finished {
        let (pending, response) = match job {
            Done::Delivered(pending, Attempt::Answered(response)) => {
                (pending, Some(response.clone()))
            }
            Done::Delivered(pending, Attempt::Placed(call)) => {
                placed(transaction, pending, call, timing.0)?;
                (pending, None)
            }
            Done::Looked(call, status) => {
                (&call.pending, looked(transaction, call, status, timing)?)
            }
        };
        if let Some(response) = response {
            finish(
                transaction,
                versions,
                pending,
                &response,
                now,
                answering,
                &mut loaded,
            )?;
        }
    }
    Ok(finished.len())
}

/// Records an effect's response and runs its enrollment on. Only the first
/// confirmation of an effect does (another runner may have taken over a
/// lapsed claim); the enrollment runs on at the instant it reached the
/// step, as in a simulation: a late runner keeps the schedule. When the
/// effect went out a minute or more after that instant, its timeline
/// event says when it really did.
fn finish(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    pending: &Pending,
    response: &Response,
    at: DateTime<Utc>,
    answering: Option<&Answering>,
    loaded: &mut Loaded,
) -> Result<(), StoreError> {
    let confirmed = transaction.execute(
        "UPDATE outbox SET status = 'done', response = ?1, done = ?2, owner = NULL, lease = NULL
         WHERE id = ?3 AND status IN ('pending', 'placed')",
        params![
            serde_json::to_string(response)?,
            millis(at),
            pending.delivery.id
        ],
    )?;
    if confirmed == 0 {
        return Ok(());
    }
    resume(
        transaction,
        versions,
        pending.enrollment,
        pending.created,
        &Delivered {
            delivery: &pending.delivery,
            response,
            // As the outbox keeps it, so a replay reads the same instant.
            at: instant(millis(at)),
            late: at - pending.created >= LATE,
        },
        answering,
        loaded,
    )
}

/// How late an effect goes out before its timeline event says when.
pub(super) const LATE: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Records that the provider accepted a call: it is never placed again,
/// and its status is looked at after `poll`.
fn placed(
    transaction: &Tx<'_>,
    pending: &Pending,
    call: &str,
    poll: Duration,
) -> Result<(), StoreError> {
    let now = lease::now_millis();
    transaction.execute("UPDATE outbox SET status = 'placed', call = ?1, placed = ?2, poll = ?3, owner = NULL, lease = NULL
         WHERE id = ?4 AND status = 'pending'",
        params![call, now, now + poll.as_millis() as i64, pending.delivery.id],
    )?;
    Ok(())
}

/// What a look at a placed call means: its outcome once it ended or the
/// call timeout passed (`no answer` if nobody answered, else `failed`);
/// otherwise the next look is scheduled and there is no outcome yet.
fn looked(
    transaction: &Tx<'_>,
    call: &PlacedCall,
    status: &CallStatus,
    (poll, timeout): (Duration, Duration),
) -> Result<Option<Response>, StoreError> {
    let now = lease::now_millis();
    let timed_out = now - call.placed >= timeout.as_millis() as i64;
    let outcome = match status {
        CallStatus::Ended(outcome) => Some(*outcome),
        CallStatus::Ringing | CallStatus::Unknown(_) if timed_out => Some(Outcome::NoAnswer),
        CallStatus::Connected if timed_out => Some(Outcome::Failed),
        _ => None,
    };
    if outcome.is_none() {
        transaction.execute("UPDATE outbox SET poll = ?1, owner = NULL, lease = NULL WHERE id = ?2 AND status = 'placed'",
            params![now + poll.as_millis() as i64, call.pending.delivery.id],
        )?;
    }
    Ok(outcome.map(Response::Call))
}
