//! Helpers for tests that run the live runtime in process: a published
//! workflow with imported leads, running until nothing is left, and the
//! events it recorded.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::path::Path;

use flowc::runtime::leads::read_updates;
use flowc::runtime::live::{Carrier, Clock, FieldTypes, Live, Migration};
use flowc::store::{Location, Store};
use flowc::value::DateLiteral;

/// A live runtime on `dir/flowc.db` at `start` (a fixed clock), with
/// `source` published and `leads` (JSON Lines) imported.
pub fn started(dir: &Path, source: &str, leads: &str, start: &str) -> Live {
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let program = &artifact.programs[0];
    let start = DateLiteral::parse(start)
        .expect("a time")
        .instant(program.timezone);
    let store = Store::open(database(dir)).expect("a database");
    let mut live = Live::new(store, Clock::Fixed(start));
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    let file = dir.join("leads.jsonl");
    std::fs::write(&file, leads).expect("written");
    let types = program
        .slots
        .iter()
        .map(|slot| (slot.name.clone(), slot.ty))
        .collect();
    let updates = read_updates(
        &file,
        &FieldTypes {
            types,
            zone: program.timezone,
        },
    )
    .expect("read");
    live.import(updates.records).expect("imported");
    live
}

/// Runs the live runtime on its fixed clock, moved from wake-up to wake-up,
/// until nothing is left to do.
pub fn run_to_the_end(live: &mut Live, provider: &Carrier) {
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
pub fn settle(live: &mut Live, provider: &Carrier) {
    while live.tick(provider).expect("a tick") > 0 || live.in_flight().expect("counted") > 0 {}
}

/// Every recorded event as `(lead, kind, column)`, in the order recorded;
/// `column` is an expression over the events table `v` (`v.detail`).
pub fn events(store: &Store, column: &str) -> Vec<(String, String, String)> {
    let sql = format!(
        "SELECT e.lead, v.kind, {column} FROM events v JOIN enrollments e ON e.id = v.enrollment ORDER BY v.id"
    );
    store
        .query(&sql, flowc::params![], |row| row.columns())
        .expect("rows")
}

/// The server `scripts/test` started for the PostgreSQL run of the
/// suites (`postgres://flowc@127.0.0.1:PORT`), if this is that run.
pub fn postgres_server() -> Option<String> {
    std::env::var("FLOWC_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether the suites run on PostgreSQL this time.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// The database a test runs on: on the PostgreSQL run, a new empty
/// database of its own on the test server; otherwise `dir/flowc.db`.
pub fn database(dir: &Path) -> Location {
    let Some(server) = postgres_server() else {
        return Location::Sqlite(dir.join("flowc.db"));
    };
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos()
    );
    let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .expect("the test server");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("a database");
    Location::Postgres(format!("{server}/{name}"))
}
