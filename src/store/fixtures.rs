//! For unit tests: rows that need a workflow and its enrollments in the
//! database, not a program; SQLite's plan and program for a statement.

use super::{Store, Value};

/// Inserts workflow 1, `w`, published, with no program.
pub(crate) const WORKFLOW: &str =
    "INSERT INTO workflows (name, version, hash, source, program, published, created_at)
     VALUES ('w', 1, '', '', '', 1, 0)";

/// Inserts enrollment number 1 of workflow 1 for lead `?1`, at the start, in
/// status `?2`.
pub(crate) const ENROLLMENT: &str =
    "INSERT INTO enrollments (workflow, lead, number, pc, status, attempts, effects, entered)
     VALUES (1, ?1, 1, 0, ?2, 0, 0, 0)";

/// SQLite's plan for `sql` with `params`, a line a step (`SCAN outbox`,
/// `SEARCH v USING INDEX events_at (at>?)`).
pub(crate) fn plan(store: &Store, sql: &str, params: &[Value<'_>]) -> Vec<String> {
    store
        .query(&format!("EXPLAIN QUERY PLAN {sql}"), params, |row| {
            row.get(3)
        })
        .expect("explained")
}

/// Whether SQLite's program for `sql` builds a table as it runs
/// (`OpenEphemeral`): for an `IN` list of more than two values, an `IN
/// (SELECT ...)`, or rows it must sort or keep apart, each time the
/// statement runs. `params` are as many values as it takes.
pub(crate) fn builds_a_table(store: &Store, sql: &str, params: &[Value<'_>]) -> bool {
    let opcodes: Vec<String> = store
        .query(&format!("EXPLAIN {sql}"), params, |row| row.get(1))
        .expect("explained");
    opcodes.iter().any(|opcode| opcode == "OpenEphemeral")
}
