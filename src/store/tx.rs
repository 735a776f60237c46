//! A transaction ([`Tx`]) and the rows it appends for its commit, written
//! a piece at a time ([`pieces`], with their [`marks`]).

use std::any::Any;
use std::cell::{Cell as Flag, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Serial, Store, StoreError, Value};

/// A transaction: the store's queries, committed together by
/// [`Tx::commit`] or rolled back when dropped.
pub struct Tx<'s> {
    store: &'s Store,
    open: Flag<bool>,
    /// Rows [`Tx::append`] keeps for the commit, table by table.
    appended: RefCell<Vec<Appended>>,
    /// What [`Tx::memo`] worked out, one value of each type.
    memos: RefCell<Vec<Rc<dyn Any>>>,
}

/// The rows appended to one table, in order.
struct Appended {
    /// The table and its columns: `events (enrollment, at)`.
    into: &'static str,
    columns: usize,
    /// Each row's values, one row after the other.
    values: Vec<Value<'static>>,
}

impl<'s> Tx<'s> {
    /// A transaction the backend has begun.
    pub(super) fn new(store: &'s Store) -> Self {
        Tx {
            store,
            open: Flag::new(true),
            appended: RefCell::new(Vec::new()),
            memos: RefCell::new(Vec::new()),
        }
    }

    /// Commits the transaction (first writing the rows appended).
    pub fn commit(self) -> Result<(), StoreError> {
        for table in self.appended.take() {
            // A piece of rows is a run of the values kept one row after
            // the other: bound as they are, not copied.
            let rows: Vec<&[Value<'static>]> = table.values.chunks(table.columns).collect();
            let mut values = table.values.as_slice();
            for piece in pieces(&rows) {
                let sql = format!(
                    "INSERT INTO {} VALUES {}",
                    table.into,
                    marks(piece.len(), table.columns)
                );
                let (bound, rest) = values.split_at(piece.len() * table.columns);
                self.store.backend.execute(&sql, bound)?;
                values = rest;
            }
        }
        self.open.set(false);
        self.store.backend.batch("COMMIT")
    }

    /// Appends a row to a table (`into`: the table and its columns, `events
    /// (enrollment, at)`) when the transaction commits, with the other rows
    /// appended to it, a piece at a time: for rows nothing reads back
    /// before then, such as timeline events. One table's rows keep their
    /// order.
    pub fn append<const N: usize>(&self, into: &'static str, row: [Value<'static>; N]) {
        let mut appended = self.appended.borrow_mut();
        let table = match appended.iter().position(|table| table.into == into) {
            Some(found) => &mut appended[found],
            None => {
                appended.push(Appended {
                    into,
                    columns: N,
                    values: Vec::new(),
                });
                appended.last_mut().expect("just pushed")
            }
        };
        table.values.extend(row);
    }

    /// The value of type `T` this transaction worked out before, or the
    /// one `make` works out now, kept until the transaction ends: for what
    /// many steps read and the transaction itself does not change (the
    /// contact policy, read once a round instead of once a message).
    pub fn memo<T: 'static, E>(&self, make: impl FnOnce() -> Result<T, E>) -> Result<Rc<T>, E> {
        let found = self
            .memos
            .borrow()
            .iter()
            .find_map(|memo| Rc::clone(memo).downcast::<T>().ok());
        if let Some(found) = found {
            return Ok(found);
        }
        let made = Rc::new(make()?);
        self.memos
            .borrow_mut()
            .push(Rc::clone(&made) as Rc<dyn Any>);
        Ok(made)
    }

    /// Waits until no other transaction holds `what`, then holds it
    /// until this one ends: a publication reads what the one before it
    /// wrote. (SQLite's transactions hold the write lock from their
    /// start, so there they already have it.)
    pub fn serialize(&self, what: Serial) -> Result<(), StoreError> {
        self.store.backend.serialize(what)
    }

    /// Tells idle runners, once this transaction commits, that it made
    /// work for them.
    pub fn notify(&self) -> Result<(), StoreError> {
        self.store.backend.notify()
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            // A failed rollback leaves nothing to undo: the connection
            // rolls back when it closes.
            let _ = self.store.backend.batch("ROLLBACK");
        }
    }
}

/// Statements that write or read many rows at once take them in pieces of
/// these sizes (as many of the largest as fit, then smaller ones), so a
/// connection prepares a handful of texts, not one per count.
pub const PIECES: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Splits `items` into pieces of the sizes in [`PIECES`].
pub fn pieces<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = PIECES.into_iter().find(|size| *size <= items.len())?;
        let (piece, rest) = items.split_at(size);
        items = rest;
        Some(piece)
    })
}

/// The parameter marks of `rows` rows of `columns` values each, numbered
/// from `?1`: `(?1, ?2), (?3, ?4)`. Made once per shape: a runner asks for
/// the same few ([`PIECES`]) every round, and writing 64 rows' marks
/// anew each time was 4% of an import.
pub fn marks(rows: usize, columns: usize) -> Arc<str> {
    static MADE: Mutex<BTreeMap<(usize, usize), Arc<str>>> = Mutex::new(BTreeMap::new());
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    let text = made.entry((rows, columns)).or_insert_with(|| {
        let mut text = String::new();
        for row in 0..rows {
            text.push_str(if row == 0 { "(" } else { ", (" });
            for column in 1..=columns {
                if column > 1 {
                    text.push_str(", ");
                }
                text.push_str(&format!("?{}", row * columns + column));
            }
            text.push(')');
        }
        text.into()
    });
    Arc::clone(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[test]
    fn many_rows_go_in_pieces_of_a_few_sizes_with_their_marks() {
        let items: Vec<usize> = (0..203).collect();
        let sizes: Vec<usize> = pieces(&items).map(<[usize]>::len).collect();
        assert_eq!(sizes, [64, 64, 64, 8, 2, 1]);
        let rejoined: Vec<usize> = pieces(&items).flatten().copied().collect();
        assert_eq!(rejoined, items);
        assert_eq!(pieces::<u8>(&[]).count(), 0);
        assert_eq!(&*marks(2, 3), "(?1, ?2, ?3), (?4, ?5, ?6)");
        assert_eq!(&*marks(1, 1), "(?1)");
    }

    /// Appended rows are written at commit, in order, a piece at a time
    /// (here 70 rows: 64 + 4 + 2), beside the statements run directly;
    /// rolled back, they are not written at all.
    #[test]
    fn appended_rows_are_written_in_order_at_commit_and_not_on_rollback() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = Store::open(dir.path().join("flowc.db")).expect("opened");
        let row = |i: i64| {
            [
                Value::Text(format!("k{i:03}").into()),
                Value::Text(i.to_string().into()),
            ]
        };
        let count = |store: &Store| -> i64 {
            store
                .query_one("SELECT count(*) FROM meta", params![], |row| row.get(0))
                .expect("counted")
        };
        let transaction = store.transaction().expect("begun");
        for i in 0..70 {
            transaction.append("meta (key, value)", row(i));
        }
        transaction
            .execute(
                "INSERT INTO meta (key, value) VALUES ('direct', 'x')",
                params![],
            )
            .expect("inserted");
        drop(transaction);
        assert_eq!(count(&store), 0, "nothing written without a commit");
        let transaction = store.transaction().expect("begun");
        for i in 0..70 {
            transaction.append("meta (key, value)", row(i));
        }
        transaction.commit().expect("committed");
        let values: Vec<String> = store
            .query("SELECT value FROM meta ORDER BY rowid", params![], |row| {
                row.get(0)
            })
            .expect("read");
        let expected: Vec<String> = (0..70).map(|i| i.to_string()).collect();
        assert_eq!(values, expected);
    }

    /// A memo is worked out once a transaction, one value a type, and
    /// anew in the next transaction (which may see another value).
    #[test]
    fn a_memo_is_worked_out_once_a_transaction() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = Store::open(dir.path().join("flowc.db")).expect("opened");
        let made = Flag::new(0);
        let make = |value: i64| {
            made.set(made.get() + 1);
            Ok::<_, StoreError>(value)
        };
        let transaction = store.transaction().expect("begun");
        assert_eq!(*transaction.memo(|| make(1)).expect("made"), 1);
        assert_eq!(*transaction.memo(|| make(2)).expect("kept"), 1);
        let text = transaction
            .memo(|| Ok::<_, StoreError>("text"))
            .expect("made");
        assert_eq!((*text, made.get()), ("text", 1));
        drop(transaction);
        let transaction = store.transaction().expect("begun");
        assert_eq!(*transaction.memo(|| make(3)).expect("made"), 3);
        assert_eq!(made.get(), 2);
    }
}
