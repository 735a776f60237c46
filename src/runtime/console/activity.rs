//! Activity over time: what was sent, what failed and what was held, per
//! hour and per channel, read from the timelines of every workflow.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use super::Programs;
use crate::bytecode::Op;
use crate::store::{instant, millis, params, Store, StoreError};

/// What a chart of activity counts.
pub const MEASURES: [(&str, &str); 3] = [
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("held", "Held by a window or a cap"),
];

/// The series of each chart: channels, then everything else.
pub const SERIES: [&str; 4] = ["email", "text", "call", "other"];

/// Counts per hour over a span of time.
#[derive(Debug, Serialize)]
pub struct Activity {
    /// The first hour.
    pub from: DateTime<Utc>,
    /// Hours from `from`.
    pub hours: usize,
    /// Per measure (in [`MEASURES`] order), per series (in [`SERIES`]
    /// order), the count of each hour.
    pub counts: Vec<Vec<Vec<u64>>>,
}

impl Activity {
    /// The total of a measure over every hour and series.
    pub fn total(&self, measure: usize) -> u64 {
        self.counts[measure].iter().flatten().sum()
    }
}

/// The events the chart counts since `?1`, by workflow, step, kind and
/// hour. Its condition on `kind` is, word for word, that of the
/// `events_at` index (schema 19), which keeps only these events.
const COUNTS: &str = "SELECT e.workflow, v.pc, v.kind, v.at / 3600000, count(*)
     FROM events v JOIN enrollments e ON e.id = v.enrollment
     WHERE v.at >= ?1
       AND (v.kind = 'sent' OR v.kind = 'failed' OR v.kind = 'undelivered' OR v.kind = 'held')
     GROUP BY e.workflow, v.pc, v.kind, v.at / 3600000";

/// Activity in the `hours` hours up to `now` (the current hour included).
pub fn activity(store: &Store, now: DateTime<Utc>, hours: usize) -> Result<Activity, StoreError> {
    let hour = Duration::hours(1);
    let current = now.duration_trunc(hour).unwrap_or(now);
    let from = current - hour * (hours as i32 - 1);
    let rows: Vec<(i64, u32, String, i64, i64)> =
        store.query(COUNTS, params![millis(from)], |row| row.columns())?;
    let mut counts = vec![vec![vec![0u64; hours]; SERIES.len()]; MEASURES.len()];
    let mut programs = Programs::new(store);
    for (workflow, pc, kind, bucket, count) in rows {
        let measure = match kind.as_str() {
            "sent" => 0,
            "failed" | "undelivered" => 1,
            _ => 2,
        };
        let series = match programs.get(workflow)? {
            Some(program) => series_at(program, pc),
            None => SERIES.len() - 1,
        };
        let at = instant(bucket * 3_600_000);
        let index = (at - from).num_hours();
        if (0..hours as i64).contains(&index) {
            counts[measure][series][index as usize] += count as u64;
        }
    }
    Ok(Activity {
        from,
        hours,
        counts,
    })
}

/// The series of the step at `pc`: its channel, else `other`.
fn series_at(program: &crate::bytecode::Program, pc: u32) -> usize {
    let channel = match program.code.get(pc as usize) {
        Some(Op::Effect { effect, .. } | Op::Call { effect, .. }) => program
            .effects
            .get(*effect as usize)
            .and_then(|effect| effect.channel()),
        _ => None,
    };
    channel.map_or(SERIES.len() - 1, crate::bytecode::channel_index)
}

#[cfg(test)]
mod tests {
    use super::COUNTS;
    use crate::store::{fixtures, params, Store};

    /// The chart reads the recent events through the index by time (which
    /// keeps only the kinds it counts), not by walking every event.
    #[test]
    fn recent_activity_is_read_through_the_index_by_time() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(dir.path().join("flowc.db")).expect("a store");
        let plan = fixtures::plan(&store, COUNTS, params![0]);
        assert!(
            plan.iter()
                .any(|step| step.contains("SEARCH v USING INDEX events_at")),
            "{plan:#?}"
        );
    }
}
