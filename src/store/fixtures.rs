//! Rows for unit tests that need a workflow and its enrollments in the
//! database, not a program.

/// Inserts workflow 1, `w`, published, with no program.
pub(crate) const WORKFLOW: &str =
    "INSERT INTO workflows (name, version, hash, source, program, published, created_at)
     VALUES ('w', 1, '', '', '', 1, 0)";

/// Inserts enrollment number 1 of workflow 1 for lead `?1`, at the start, in
/// status `?2`.
pub(crate) const ENROLLMENT: &str =
    "INSERT INTO enrollments (workflow, lead, number, pc, status, attempts, effects, entered)
     VALUES (1, ?1, 1, 0, ?2, 0, 0, 0)";
