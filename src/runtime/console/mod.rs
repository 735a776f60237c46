//! What the operator console (`flowc serve`'s web pages) reads and does:
//! the leads table, one lead in full, workflows with their versions and
//! live counts, activity over time, and an operator's actions on one
//! enrollment. Each works on either backend through [`Store`]; the pages
//! only render what these return.

pub mod activity;
mod conditions;
pub mod lead;
pub mod leads;
pub mod operator;
pub mod workflows;

use rustc_hash::FxHashMap as HashMap;

use crate::bytecode::Program;
use crate::store::{params, Store, StoreError};
use crate::vm::Status;

/// Stored programs by workflow version id, each read and parsed once.
pub struct Programs<'s> {
    store: &'s Store,
    parsed: HashMap<i64, Option<Program>>,
}

impl<'s> Programs<'s> {
    /// An empty cache over `store`.
    pub fn new(store: &'s Store) -> Self {
        Programs {
            store,
            parsed: HashMap::default(),
        }
    }

    /// The program of workflow version `id`, if it parses.
    pub fn get(&mut self, id: i64) -> Result<Option<&Program>, StoreError> {
        if !self.parsed.contains_key(&id) {
            let text: Option<String> = self.store.query_opt(
                "SELECT program FROM workflows WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )?;
            let program = text.and_then(|text| serde_json::from_str(&text).ok());
            self.parsed.insert(id, program);
        }
        Ok(self.parsed.get(&id).and_then(Option::as_ref))
    }

    /// The id of the step an enrollment of version `id` stands at (its
    /// `pc`, or the wait it waits in), `@PC` if unknown.
    pub fn step(&mut self, id: i64, pc: u32, status: &str) -> Result<String, StoreError> {
        Ok(self
            .get(id)?
            .and_then(|program| {
                let at = program.standing_at(pc, Status::from_name(status));
                program.origins.get(at as usize)
            })
            .map_or_else(|| format!("@{pc}"), |origin| origin.label.clone()))
    }
}
