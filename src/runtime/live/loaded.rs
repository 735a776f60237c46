//! Enrollments read ahead for a round of confirmations: one statement for
//! many rows instead of one a row.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::activation::{load_enrollment, read_row, Row};
use crate::store::{marks, pieces, StoreError, Tx, Value as Column};

/// The enrollments a round will run on, with their leads' fields, read
/// (and locked) before the first of them runs. A run may change its lead's
/// fields and its lead's other enrollments (a goal, an event heard, a
/// field extracted), never another lead's: a row read ahead is given only
/// while no enrollment of its lead has run in the round, and read again
/// after.
#[derive(Default)]
pub(super) struct Loaded {
    rows: HashMap<i64, (Row, String)>,
    /// The leads of the enrollments given so far.
    ran: HashSet<String>,
}

impl Loaded {
    /// Reads the enrollments `ids` ahead, in id order (so that two
    /// transactions locking some of the same rows lock them in one order).
    pub(super) fn read(transaction: &Tx<'_>, ids: &[i64]) -> Result<Self, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut loaded = Loaded::default();
        for piece in pieces(&ids) {
            let sql = format!(
                "{} WHERE e.id IN {} ORDER BY e.id FOR UPDATE OF e",
                select_rows!(""),
                marks(1, piece.len())
            );
            let ids: Vec<Column<'_>> = piece.iter().map(|id| Column::Int(*id)).collect();
            for (row, fields) in transaction.query(&sql, &ids, read_row)? {
                loaded.rows.insert(row.id, (row, fields));
            }
        }
        Ok(loaded)
    }

    /// Enrollment `id` and its lead's fields as they stand now: as read
    /// ahead, unless another enrollment of its lead ran since.
    pub(super) fn take(
        &mut self,
        transaction: &Tx<'_>,
        id: i64,
    ) -> Result<Option<(Row, String)>, StoreError> {
        let loaded = match self.rows.remove(&id) {
            Some(ahead) if !self.ran.contains(&ahead.0.lead) => Some(ahead),
            _ => load_enrollment(transaction, id)?,
        };
        if let Some((row, _)) = &loaded {
            self.ran.insert(row.lead.clone());
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{fixtures, params, Store};

    /// Rows are read ahead for every enrollment asked for; once an
    /// enrollment of a lead has been given, that lead's others are read
    /// again, with what its run wrote.
    #[test]
    fn a_lead_whose_enrollment_ran_is_read_again() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = Store::open(dir.path().join("flowc.db")).expect("opened");
        let transaction = store.transaction().expect("begun");
        transaction
            .execute(fixtures::WORKFLOW, params![])
            .expect("a workflow");
        for lead in ["a", "b"] {
            transaction
                .execute(
                    "INSERT INTO leads (id, fields, updated_at) VALUES (?1, '{}', 0)",
                    params![lead],
                )
                .expect("a lead");
        }
        // Enrollments 1 and 2 of lead a, 3 of lead b.
        for lead in ["a", "a", "b"] {
            transaction
                .execute(fixtures::ENROLLMENT, params![lead, "active"])
                .expect("an enrollment");
        }
        let mut loaded = Loaded::read(&transaction, &[3, 2, 1, 9]).expect("read ahead");
        let moved = |id: i64| {
            transaction
                .execute("UPDATE enrollments SET pc = 7 WHERE id = ?1", params![id])
                .expect("moved");
        };
        // What the runs of enrollments 1 and 3 would write to others.
        moved(2);
        moved(3);
        let pc = |loaded: &mut Loaded, id: i64| {
            loaded
                .take(&transaction, id)
                .expect("taken")
                .map(|(row, _)| row.enrollment.pc)
        };
        assert_eq!(pc(&mut loaded, 1), Some(0), "read ahead");
        assert_eq!(pc(&mut loaded, 2), Some(7), "lead a ran: read again");
        assert_eq!(pc(&mut loaded, 3), Some(0), "read ahead before it moved");
        assert_eq!(pc(&mut loaded, 9), None, "no such enrollment");
    }
}
