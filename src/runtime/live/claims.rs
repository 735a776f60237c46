//! Claiming work from the outbox: pending effects (those whose runner
//! died first, then those nobody holds) and placed calls due for a look,
//! each taken with a lease in the transaction that reads it, so that any
//! number of runners deliver each effect once.

use chrono::{DateTime, Utc};

use super::lease::{self, Runner};
use super::pool::Job;
use super::provider::Delivery;
use super::Live;
use crate::ast::Outcome;
use crate::store::{instant, params, Row, Store, StoreError, Tx};

/// A claimed outbox row: the delivery, and the enrollment waiting for it
/// since the instant it reached the step.
pub(super) struct Pending {
    pub(super) delivery: Delivery,
    pub(super) enrollment: i64,
    pub(super) created: DateTime<Utc>,
}

/// A claimed call the provider accepted, due for a look at its status.
pub(super) struct PlacedCall {
    pub(super) pending: Pending,
    /// The provider's id of the call.
    pub(super) call: String,
    /// When it was placed, in real milliseconds.
    pub(super) placed: i64,
    /// How it ended, if the provider's status callback said so.
    pub(super) reported: Option<Outcome>,
}

/// The columns [`pending`] reads, in order.
const PENDING_COLUMNS: &str = "id, key, attempt, kind, message, enrollment, created";

/// A claimed row, to go out `at`.
fn pending(row: &Row<'_>, at: DateTime<Utc>) -> Result<Pending, StoreError> {
    Ok(Pending {
        delivery: Delivery {
            id: row.get(0)?,
            key: row.get(1)?,
            attempt: row.get(2)?,
            kind: row.get(3)?,
            message: row.get(4)?,
            at,
            enrollment: row.get(5)?,
        },
        enrollment: row.get(5)?,
        created: instant(row.get(6)?),
    })
}

impl Live {
    /// Whether there is a pending effect of a kind in `room`, or a placed
    /// call due for a look, that no live runner holds; read without taking
    /// the write lock.
    pub(super) fn claimable(&self, room: &[(&'static str, usize)]) -> Result<bool, StoreError> {
        let now = lease::now_millis();
        for (kind, _) in room {
            for rows in [&FREE, &LAPSED, &LOOKS] {
                if waiting(&self.store, rows, kind, now)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// How a runner holds the pending effects it claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hold {
    /// With a lease in the row (owner, expiry), renewed while they are
    /// delivered after the claiming transaction commits.
    Leased,
    /// By the claiming transaction alone (the write lock on SQLite, row
    /// locks on PostgreSQL): they are carried out and confirmed before it
    /// commits, so no lease is written (and no claim counted: they cannot
    /// go out twice).
    InTransaction,
}

/// Claims, for `runner`, what the delivery threads have `room` for:
/// pending effects kind by kind in outbox order, then placed calls due for
/// a look.
pub(super) fn claim_jobs(
    transaction: &Tx<'_>,
    runner: &Runner,
    room: &[(&'static str, usize)],
    at: DateTime<Utc>,
    hold: Hold,
) -> Result<Vec<Job>, StoreError> {
    let (owner, expiry, now) = (&runner.owner, runner.expiry(), lease::now_millis());
    let mut jobs = Vec::new();
    for &(kind, free) in room {
        // Rows whose runner died first (taken over with a lease, which
        // counts the takeover), then rows nobody has held.
        let mut claimed = Vec::new();
        for (rows, hold) in [(&LAPSED, Hold::Leased), (&FREE, hold)] {
            let left = free - claimed.len();
            if left == 0 || !waiting(transaction, rows, kind, now)? {
                continue;
            }
            let read = |row: &Row<'_>| pending(row, at);
            let mut taken = match hold {
                Hold::InTransaction => {
                    transaction.query(&take_sql(rows), params![kind, now, left], read)?
                }
                Hold::Leased => {
                    let params = params![kind, now, owner, expiry, left];
                    transaction.query(&claim_sql(rows, ""), params, read)?
                }
            };
            // RETURNING gives rows in no set order.
            taken.sort_by_key(|pending| pending.delivery.id);
            claimed.extend(taken);
        }
        let looks = free - claimed.len();
        jobs.extend(claimed.into_iter().map(Job::Deliver));
        if looks > 0 && waiting(transaction, &LOOKS, kind, now)? {
            let mut due = transaction.query(
                &claim_sql(&LOOKS, ", call, placed, reported"),
                params![kind, now, owner, expiry, looks],
                |row| {
                    let reported: Option<String> = row.get(9)?;
                    Ok(PlacedCall {
                        pending: pending(row, at)?,
                        call: row.get(7)?,
                        placed: row.get(8)?,
                        reported: reported.as_deref().and_then(Outcome::from_keyword),
                    })
                },
            )?;
            due.sort_by_key(|call| call.pending.delivery.id);
            jobs.extend(due.into_iter().map(Job::Look));
        }
    }
    Ok(jobs)
}

/// Outbox rows a runner may claim: which, and in what order.
struct Claimable {
    /// A condition on the row, over kind `?1` and real time now `?2`.
    filter: &'static str,
    /// The column to take them by (one the filter's index is in order of).
    order: &'static str,
}

/// Pending effects whose claim lapsed (their runner died).
const LAPSED: Claimable = Claimable {
    filter: "status = 'pending' AND kind = ?1 AND lease IS NOT NULL AND lease <= ?2",
    order: "id",
};
/// Pending effects nobody has claimed (an index holds only these, so
/// claiming never walks past rows other runners hold).
const FREE: Claimable = Claimable {
    filter: "status = 'pending' AND kind = ?1 AND lease IS NULL",
    order: "id",
};

/// Placed calls due for a look that no live runner holds, the longest
/// due first (by the index of placed calls: taken by id, the whole outbox
/// would be walked).
const LOOKS: Claimable = Claimable {
    filter: "status = 'placed' AND kind = ?1 AND poll <= ?2 AND (lease IS NULL OR lease <= ?2)",
    order: "poll",
};

/// Whether any row of `rows` waits for a runner: a look that takes no
/// lock and changes nothing, where a claim that finds nothing would still
/// cost an update.
fn waiting(store: &Store, rows: &Claimable, kind: &str, now: i64) -> Result<bool, StoreError> {
    // A filter may not use `now`: the store binds what it uses.
    store.query_one(&waiting_sql(rows), params![kind, now], |row| row.get(0))
}

/// The statement [`waiting`] runs.
fn waiting_sql(rows: &Claimable) -> String {
    format!("SELECT EXISTS (SELECT 1 FROM outbox WHERE {})", rows.filter)
}

/// The statement that claims up to `?5` outbox rows of `rows` (of kind
/// `?1`, at `?2`, real time now) for owner `?3` with lease expiry `?4`,
/// reading [`PENDING_COLUMNS`] and `more`.
fn claim_sql(rows: &Claimable, more: &str) -> String {
    format!(
        "UPDATE outbox SET owner = ?3, lease = ?4, claims = claims + 1
         WHERE id IN (SELECT id FROM outbox WHERE {} ORDER BY {} LIMIT ?5
                      FOR UPDATE SKIP LOCKED)
         RETURNING {PENDING_COLUMNS}{more}",
        rows.filter, rows.order
    )
}

/// The statement that takes up to `?3` outbox rows of `rows` (of kind
/// `?1`, at `?2`) for the transaction alone ([`Hold::InTransaction`]),
/// reading [`PENDING_COLUMNS`].
fn take_sql(rows: &Claimable) -> String {
    format!(
        "SELECT {PENDING_COLUMNS} FROM outbox WHERE {} ORDER BY {} LIMIT ?3
         FOR UPDATE SKIP LOCKED",
        rows.filter, rows.order
    )
}

#[cfg(test)]
mod tests {
    use super::{claim_sql, take_sql, waiting_sql, FREE, LAPSED, LOOKS};
    use crate::store::{fixtures, params, Store};

    /// Claims, and the looks before them, run on every tick of every
    /// runner: each must go straight to the rows it takes through an index,
    /// never walk the outbox (which keeps every effect ever delivered).
    #[test]
    fn claims_never_walk_the_outbox() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(dir.path().join("flowc.db")).expect("a store");
        let statements = [&LAPSED, &FREE, &LOOKS]
            .into_iter()
            .flat_map(|rows| [claim_sql(rows, ""), take_sql(rows), waiting_sql(rows)]);
        for sql in statements {
            let plan = fixtures::plan(&store, &sql, params!["email", 0, "runner", 1, 64]);
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN outbox")),
                "{sql}: {plan:#?}"
            );
        }
    }
}
