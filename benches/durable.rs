//! `cargo bench --bench durable`: durable enrollment transitions per second
//! on a real SQLite file, next to raw rusqlite writing the same rows in the
//! same run into the same schema, and the database's size per 1,000
//! suspended leads.
//!
//! A transition is one enrollment run from one suspension to the next, its
//! state and timeline events committed. Targets: at least 30,000 per second,
//! and within 2x of the raw writes.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use flowc::runtime::leads::read_updates;
use flowc::runtime::live::{Clock, Live, Migration, Provider, RecordingProvider};
use flowc::store::Store;

const LEADS: usize = 20_000;
const WAITS: usize = 5;

fn workflow() -> String {
    let mut source =
        String::from("workflow durable\n  timezone UTC\n  trigger when email is set\n  steps\n");
    for _ in 0..WAITS {
        source.push_str("    wait 1 minute\n");
    }
    source
}

fn file_size(db: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// Transitions per second of the live runtime, and the database size per
/// 1,000 leads suspended at their first wait.
fn durable(dir: &Path) -> (f64, usize, f64) {
    let db = dir.join("durable.db");
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(format!("{}-wal", db.display()));
    let source = workflow();
    let artifact = flowc::compile::compile_source(&source, None).expect("it compiles");
    let start = Utc
        .with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
        .single()
        .expect("a time");
    let mut live = Live::new(Store::open(&db).expect("a database"), Clock::Fixed(start));
    live.publish(&artifact, &source, Migration::None)
        .expect("published");
    let leads = dir.join("leads.jsonl");
    let text: String = (0..LEADS)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\", \"first_name\": \"Lead {i}\"}}\n"))
        .collect();
    std::fs::write(&leads, text).expect("written");
    let updates = read_updates(&leads, &Default::default(), chrono_tz::UTC).expect("read");
    live.import(updates.records).expect("imported");
    live.store
        .connection
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpointed");
    let per_thousand = file_size(&db) as f64 / (LEADS as f64 / 1000.0);

    let provider: Arc<dyn Provider> = Arc::new(RecordingProvider::open(&db).expect("a provider"));
    let mut transitions = 0;
    let began = Instant::now();
    for minute in 1..=WAITS as i64 {
        live.clock = Clock::Fixed(start + chrono::Duration::minutes(minute));
        loop {
            let done = live.tick(&provider).expect("a tick");
            if done == 0 && live.in_flight().expect("counted") == 0 {
                break;
            }
            transitions += done;
        }
    }
    let elapsed = began.elapsed();
    (
        transitions as f64 / elapsed.as_secs_f64(),
        transitions,
        per_thousand,
    )
}

/// Raw rusqlite writing the rows a transition writes (the enrollment's
/// new state and a timeline event) into flowc's own schema, indexes and
/// all, 500 per transaction, with the statements flowc uses.
fn raw(dir: &Path, count: usize) -> f64 {
    let db = dir.join("raw.db");
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(format!("{}-wal", db.display()));
    let mut store = Store::open(&db).expect("a database");
    let connection = &mut store.connection;
    {
        let transaction = connection.transaction().expect("a transaction");
        transaction
            .execute(
                "INSERT INTO workflows (id, name, version, hash, source, program, published, created_at)
                 VALUES (1, 'raw', 1, '', '', '{}', 1, 0)",
                [],
            )
            .expect("a workflow");
        for id in 0..LEADS as i64 {
            transaction
                .execute(
                    "INSERT INTO leads (id, fields, updated_at) VALUES (?1, '{}', 0)",
                    [format!("lead-{id}")],
                )
                .expect("a lead");
            transaction
                .execute(
                    "INSERT INTO enrollments (id, workflow, lead, number, pc, status, wake, attempts, effects, entered)
                     VALUES (?1, 1, ?2, 1, 0, 'waiting', 0, 0, 0, 0)",
                    (id, format!("lead-{id}")),
                )
                .expect("an enrollment");
        }
        transaction.commit().expect("committed");
    }
    let began = Instant::now();
    for batch in (0..count).collect::<Vec<_>>().chunks(500) {
        let transaction = connection.transaction().expect("a transaction");
        {
            let mut update = transaction
                .prepare_cached(
                    "UPDATE enrollments SET pc = ?1, status = ?2, wake = ?3, attempts = ?4, effects = ?5,
                     hold_reason = ?6 WHERE id = ?7",
                )
                .expect("prepared");
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO events (enrollment, at, pc, step, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .expect("prepared");
            for &i in batch {
                let id = (i % LEADS) as i64;
                let wake = i as i64 * 60_000;
                update
                    .execute((i as i64, "waiting", wake, 0, 0, None::<String>, id))
                    .expect("updated");
                insert
                    .execute((
                        id,
                        wake,
                        i as i64,
                        "wait@5",
                        "waited",
                        "until 2026-06-01T09:05:00+00:00",
                    ))
                    .expect("inserted");
            }
        }
        transaction.commit().expect("committed");
    }
    count as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let dir = std::env::temp_dir().join(format!("flowc-bench-durable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    println!("flowc live runtime on SQLite: {LEADS} leads through {WAITS} waits\n");
    let mut results = Vec::new();
    for _ in 0..if quick { 1 } else { 5 } {
        let (rate, transitions, per_thousand) = durable(&dir);
        let raw_rate = raw(&dir, transitions);
        results.push((rate, raw_rate, per_thousand, transitions));
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, raw_rate, per_thousand, transitions) = results[results.len() / 2];
    println!("  runs                         {}", results.len());
    println!("  transitions                  {transitions}");
    println!("  durable transitions/s        {rate:.0}  (median; target 30,000)");
    println!("  raw rusqlite pairs/s         {raw_rate:.0}  (same run)");
    println!(
        "  flowc / raw                  {:.2}  (target at least 0.5)",
        rate / raw_rate
    );
    println!(
        "  database per 1,000 suspended {:.0} KB",
        per_thousand / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::thread::sleep(Duration::from_millis(10));
}
