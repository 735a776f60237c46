//! What an operator may do to one enrollment from the console: retry a
//! failed step, pause and resume, remove the lead from the workflow. Each
//! is one transaction that checks the enrollment is still in a state that
//! allows it (another runner or operator may have moved it), and records
//! on its timeline what was done and by whom.

use chrono::{DateTime, Utc};

use super::Programs;
use crate::runtime::live::resumed_wake;
use crate::store::Store;
use crate::store::{millis, params, StoreError, Tx};

/// An operator's action on an enrollment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run the failed step again now.
    Retry,
    /// Stop its timer, keeping the time it had left.
    Pause,
    /// Start its timer again.
    Resume,
    /// Take the lead out of the workflow: nothing more is sent.
    Remove,
}

impl Action {
    /// The action a name stands for, as the console's forms post it.
    pub fn parse(name: &str) -> Option<Action> {
        match name {
            "retry" => Some(Action::Retry),
            "pause" => Some(Action::Pause),
            "resume" => Some(Action::Resume),
            "remove" => Some(Action::Remove),
            _ => None,
        }
    }

    /// Its name, as timelines record it (`retried`, `paused`...).
    pub fn done(self) -> &'static str {
        match self {
            Action::Retry => "retried",
            Action::Pause => "paused",
            Action::Resume => "resumed",
            Action::Remove => "removed",
        }
    }
}

/// Why an action was not done.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// No enrollment has the id.
    #[error("no enrollment {0}")]
    Unknown(i64),
    /// The enrollment's state does not allow it (any more).
    #[error("cannot {action} it: it is {state}")]
    NotNow {
        /// What was asked.
        action: &'static str,
        /// Where it stands.
        state: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where an enrollment stands, as an action finds it.
struct Standing {
    workflow: i64,
    pc: u32,
    status: String,
    wake: Option<i64>,
    remaining: Option<i64>,
    paused_by: Option<String>,
    effects: u32,
}

/// Does `action` to enrollment `id` for the operator `by` at `now`.
pub fn act(
    store: &mut Store,
    id: i64,
    action: Action,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), ActionError> {
    let transaction = store.transaction()?;
    let row = transaction.query_opt(
        "SELECT workflow, pc, status, wake, remaining, paused_by, effects FROM enrollments
         WHERE id = ?1 FOR UPDATE",
        params![id],
        |row| {
            Ok(Standing {
                workflow: row.get(0)?,
                pc: row.get(1)?,
                status: row.get(2)?,
                wake: row.get(3)?,
                remaining: row.get(4)?,
                paused_by: row.get(5)?,
                effects: row.get(6)?,
            })
        },
    )?;
    let Some(Standing {
        workflow,
        pc,
        status,
        wake,
        remaining,
        paused_by,
        effects,
    }) = row
    else {
        return Err(ActionError::Unknown(id));
    };
    let state = match (&remaining, &paused_by) {
        (Some(_), Some(who)) => format!("paused by {who}"),
        (Some(_), None) => "paused with its workflow".to_owned(),
        _ => status.clone(),
    };
    let refuse = |action: &'static str| ActionError::NotNow {
        action,
        state: state.clone(),
    };
    match action {
        Action::Retry if status == "failed" => {
            retry(&transaction, id, effects, now)?;
        }
        Action::Pause if remaining.is_none() && wake.is_some() && !in_flight(&transaction, id)? => {
            let left = wake.map_or(0, |wake| (wake - millis(now)).max(0));
            transaction.execute(
                "UPDATE enrollments SET remaining = ?1, wake = NULL, paused_by = ?2 WHERE id = ?3",
                params![left, by, id],
            )?;
        }
        Action::Resume if paused_by.is_some() => {
            let mut programs = Programs::new(&transaction);
            let program = programs.get(workflow)?;
            let wake = resumed_wake(program, pc, &status, remaining.unwrap_or(0), now);
            transaction.execute(
                "UPDATE enrollments SET wake = ?1, remaining = NULL, paused_by = NULL WHERE id = ?2",
                params![millis(wake), id],
            )?;
        }
        Action::Remove
            if (wake.is_some() || paused_by.is_some()) && !in_flight(&transaction, id)? =>
        {
            transaction.execute(
                "UPDATE enrollments SET status = 'exited', wake = NULL, remaining = NULL,
                 paused_by = NULL, hold_reason = NULL WHERE id = ?1",
                params![id],
            )?;
        }
        Action::Retry => return Err(refuse("retry")),
        Action::Pause => return Err(refuse("pause")),
        Action::Resume => return Err(refuse("resume")),
        Action::Remove => return Err(refuse("remove")),
    }
    let step = Programs::new(&transaction).step(workflow, pc, &status)?;
    transaction.execute(
        "INSERT INTO events (enrollment, at, pc, step, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, millis(now), pc, step, action.done(), format!("by {by}")],
    )?;
    transaction.notify()?;
    transaction.commit()?;
    Ok(())
}

/// Whether an effect of the enrollment is being delivered right now (a
/// runner holds its claim): it is neither paused nor removed under it.
fn in_flight(transaction: &Tx<'_>, id: i64) -> Result<bool, StoreError> {
    transaction.query_one(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE enrollment = ?1 AND lease IS NOT NULL)",
        params![id],
        |row| row.get(0),
    )
}

/// Puts a failed enrollment back to run its failed step now. An effect
/// that failed is tried again as the same effect, under its idempotency
/// key, as its next attempt (a provider that saw it can tell the repeat).
pub fn retry(
    transaction: &Tx<'_>,
    id: i64,
    effects: u32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    // The enrollment's last effect, if it is the one that failed.
    let last: Option<(String, u32, Option<String>)> = transaction.query_opt(
        "SELECT key, attempt, response FROM outbox WHERE enrollment = ?1 ORDER BY id DESC LIMIT 1",
        params![id],
        |row| row.columns(),
    )?;
    let failed_effect = last.filter(|(key, _, response)| {
        let failure = response
            .as_deref()
            .and_then(|text| serde_json::from_str::<crate::vm::Response>(text).ok())
            .is_some_and(|response| {
                matches!(
                    response,
                    crate::vm::Response::Permanent(_)
                        | crate::vm::Response::Transient(_)
                        | crate::vm::Response::Throttled { .. }
                )
            });
        failure && effects > 0 && key.ends_with(&format!("#{}", effects - 1))
    });
    let (effects, attempts) = match failed_effect {
        Some((_, attempt, _)) => (effects - 1, attempt),
        None => (effects, 0),
    };
    transaction.execute(
        "UPDATE enrollments SET status = 'held', wake = ?1, attempts = ?2, effects = ?3,
         hold_reason = 'retried', ending = NULL WHERE id = ?4",
        params![millis(now), attempts, effects, id],
    )?;
    Ok(())
}
