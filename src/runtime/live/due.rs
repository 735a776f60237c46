//! The work a round finds due by the clock: enrollments whose wake-up has
//! come, and leads whose trigger or goals a time-relative test flips now.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::activation::{read_row, run_loaded, test_goals, try_enroll, GoalTest, Moment, Row};
use super::recording::Answering;
use super::stored_leads::{lead_fields, Applicant};
use super::{Version, BATCH};
use crate::store::{instant, millis, params, StoreError, Tx};

/// Claims a batch of due enrollments in wake-up order and runs each on
/// at the instant it was due, in one transaction (the effects they reach
/// answered by `answering`, if any).
pub(super) fn run_due(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    now: DateTime<Utc>,
    answering: Option<&Answering>,
) -> Result<usize, StoreError> {
    // Locked as claimed: another runner skips them and takes the next.
    let due: Vec<(Row, String)> = transaction.query(
        select_rows!(
            "WHERE e.wake IS NOT NULL AND e.wake <= ?1 ORDER BY e.wake, e.id LIMIT ?2
             FOR UPDATE OF e SKIP LOCKED"
        ),
        params![millis(now), BATCH],
        read_row,
    )?;
    let count = due.len();
    for (row, fields) in due {
        let moment = Moment {
            at: row.enrollment.wake,
            delivered: None,
            answering,
        };
        run_loaded(transaction, versions, row, &fields, &moment)?;
    }
    Ok(count)
}

/// Tests again, in `transaction`, a batch of leads whose trigger or
/// goals a time-relative test flips by now (`is older than 90 days`
/// turning true): as if the lead had changed, at the instant it flips.
/// The `triggers` table indexes each lead's next flip, so nothing else
/// is scanned.
pub(super) fn retest_due(
    transaction: &Tx<'_>,
    versions: &HashMap<i64, Version>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let live: Vec<&Version> = versions
        .values()
        .filter(|version| version.published)
        .collect();
    let due: Vec<(String, String, i64)> = transaction.query(
        "SELECT workflow, lead, flip FROM triggers
         WHERE flip IS NOT NULL AND flip <= ?1 ORDER BY flip LIMIT ?2 FOR UPDATE SKIP LOCKED",
        params![millis(now), BATCH],
        |row| row.columns(),
    )?;
    for (name, lead, flip) in &due {
        // Unschedule first: a workflow no longer live is not tested again.
        transaction.execute(
            "UPDATE triggers SET flip = NULL WHERE workflow = ?1 AND lead = ?2",
            params![name, lead],
        )?;
        let (Some(version), Some(fields)) = (
            live.iter().find(|version| version.name == *name),
            lead_fields(transaction, lead)?,
        ) else {
            continue;
        };
        let at = instant(*flip);
        test_goals(transaction, version, lead, &fields, GoalTest::Fields, at)?;
        if version.program.trigger.event.is_none() {
            // A refusal leaves the lead as it is; the next flip or
            // update tests it again.
            let applicant = Applicant::stored(lead, &fields);
            let _refused = try_enroll(transaction, version, applicant, &[], None, at)?;
        }
    }
    Ok(due.len())
}
