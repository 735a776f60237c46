//! Helpers for tests that run the live runtime in process: a published
//! workflow with imported leads, running until nothing is left, and the
//! events it recorded.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use flowc::runtime::leads::read_updates;
use flowc::runtime::live::{Clock, Live, Migration, Provider};
use flowc::store::Store;
use flowc::value::DateLiteral;

/// A live runtime on `dir/flowc.db` at `start` (a fixed clock), with
/// `source` published and `leads` (JSON Lines) imported.
pub fn started(dir: &Path, source: &str, leads: &str, start: &str) -> Live {
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let program = &artifact.programs[0];
    let start = DateLiteral::parse(start)
        .expect("a time")
        .instant(program.timezone);
    let store = Store::open(&dir.join("flowc.db")).expect("a database");
    let mut live = Live::new(store, Clock::Fixed(start));
    live.publish(&artifact, source, Migration::None)
        .expect("published");
    let file = dir.join("leads.jsonl");
    std::fs::write(&file, leads).expect("written");
    let types = program
        .slots
        .iter()
        .map(|slot| (slot.name.clone(), slot.ty))
        .collect();
    let updates = read_updates(&file, &types, program.timezone).expect("read");
    live.import(updates.records).expect("imported");
    live
}

/// Runs the live runtime on its fixed clock, moved from wake-up to wake-up,
/// until nothing is left to do.
pub fn run_to_the_end(live: &mut Live, provider: &Arc<dyn Provider>) {
    loop {
        settle(live, provider);
        match live.next_wake().expect("the next wake-up") {
            Some(next) => live.clock = Clock::Fixed(next),
            None => break,
        }
    }
}

/// Ticks until nothing is due now and nothing is in flight (deliveries
/// being made, calls placed and not yet ended).
pub fn settle(live: &mut Live, provider: &Arc<dyn Provider>) {
    while live.tick(provider).expect("a tick") > 0 || live.in_flight().expect("counted") > 0 {}
}

/// Every recorded event as `(lead, kind, column)`, in the order recorded;
/// `column` is an expression over the events table `v` (`v.detail`).
pub fn events(connection: &rusqlite::Connection, column: &str) -> Vec<(String, String, String)> {
    let sql = format!(
        "SELECT e.lead, v.kind, {column} FROM events v JOIN enrollments e ON e.id = v.enrollment ORDER BY v.id"
    );
    let mut statement = connection.prepare(&sql).expect("a query");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("rows");
    rows.map(|row| row.expect("a row")).collect()
}
