//! `cargo bench --bench live_cli`: the live runtime as a user runs it,
//! through the `flowc` binary: `flowc publish`, `flowc leads import` of
//! 10,000 leads, then `flowc run` (one runner, then four at once on the
//! same database) until every enrollment has ended, on the recording
//! provider, for condition → email → wait 2 days → text on a clock that
//! runs a million times faster than the real one (the wait passes in a
//! fifth of a second). Three rounds of each; prints the median end-to-end
//! time (publish to the last enrollment ended) and leads/s, next to raw
//! rusqlite writing the same rows in the same run: every row the run left
//! in each table, into a new database with flowc's schema, 500 rows a
//! transaction.
//!
//! Targets (issue 12): at least 10,000 leads/s end to end with effects, and
//! at least half the raw rate.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LEADS: usize = 10_000;

#[path = "support/five.rs"]
mod five;
use five::FLOW;

fn flowc(dir: &Path, clock: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowc"));
    command
        .args(args)
        .current_dir(dir)
        .env("FLOWC_DB", dir.join("flowc.db"))
        .env("FLOWC_CLOCK", clock)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// One round with `runners` runners: the end-to-end time.
fn round(dir: &Path, runners: usize) -> Duration {
    for file in ["flowc.db", "flowc.db-wal", "flowc.db-shm"] {
        let _ = std::fs::remove_file(dir.join(file));
    }
    let origin = chrono::Utc::now().timestamp_millis();
    let clock = format!("2026-03-02T14:00:00Z@{origin}*1000000");
    let began = Instant::now();
    let ok = |command: &mut Command| assert!(command.status().expect("runs").success());
    ok(&mut flowc(dir, &clock, &["publish", "five.flow"]));
    ok(&mut flowc(dir, &clock, &["leads", "import", "leads.jsonl"]));
    let mut running: Vec<Child> = (0..runners)
        .map(|_| flowc(dir, &clock, &["run"]).spawn().expect("starts"))
        .collect();
    let connection = rusqlite::Connection::open(dir.join("flowc.db")).expect("opened");
    connection
        .busy_timeout(Duration::from_secs(30))
        .expect("set");
    loop {
        let left: i64 = connection
            .query_row(
                "SELECT count(*) FROM enrollments WHERE status NOT IN ('completed', 'exited', 'failed')",
                [],
                |row| row.get(0),
            )
            .expect("counted");
        if left == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = began.elapsed();
    for runner in &mut running {
        let _ = runner.kill();
        let _ = runner.wait();
    }
    let delivered: i64 = connection
        .query_row("SELECT count(*) FROM deliveries", [], |row| row.get(0))
        .expect("counted");
    assert_eq!(
        delivered as usize, LEADS,
        "an email and a text for each hot lead"
    );
    elapsed
}

/// The tables a run writes.
const TABLES: [&str; 7] = [
    "workflows",
    "leads",
    "triggers",
    "enrollments",
    "events",
    "outbox",
    "deliveries",
];

/// How long raw rusqlite takes to write every row the last run left, table
/// by table, into a new database with flowc's schema.
fn raw(dir: &Path) -> Duration {
    let from = rusqlite::Connection::open(dir.join("flowc.db")).expect("opened");
    let rows: Vec<(String, Vec<Vec<rusqlite::types::Value>>)> = TABLES
        .iter()
        .map(|table| {
            let mut statement = from
                .prepare(&format!("SELECT * FROM {table}"))
                .expect("a query");
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..columns).map(|column| row.get(column)).collect()
                })
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("read");
            (table.to_string(), rows)
        })
        .collect();
    let db = dir.join("raw.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut store = flowc::store::Store::open(&db).expect("a database");
    let began = Instant::now();
    for (table, rows) in &rows {
        let Some(first) = rows.first() else { continue };
        let marks = vec!["?"; first.len()].join(", ");
        for batch in rows.chunks(500) {
            let transaction = store.connection.transaction().expect("a transaction");
            {
                let mut insert = transaction
                    .prepare_cached(&format!("INSERT INTO {table} VALUES ({marks})"))
                    .expect("prepared");
                for row in batch {
                    insert
                        .execute(rusqlite::params_from_iter(row))
                        .expect("inserted");
                }
            }
            transaction.commit().expect("committed");
        }
    }
    began.elapsed()
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("five.flow"), FLOW).expect("the flow");
    let leads: String = (0..LEADS)
        .map(|i| {
            format!(
                "{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@example.com\", \"first_name\": \"Lead{i}\", \"phone_number\": \"+1555{i:07}\", \"score\": {}}}\n",
                i % 100
            )
        })
        .collect();
    std::fs::write(dir.path().join("leads.jsonl"), leads).expect("the leads");
    println!("flowc publish + leads import + run until done: {LEADS} leads, recording provider\n");
    for runners in [1, 4] {
        let mut times: Vec<(Duration, Duration)> = (0..rounds)
            .map(|_| (round(dir.path(), runners), raw(dir.path())))
            .collect();
        times.sort();
        let (median, raw) = times[times.len() / 2];
        println!(
            "  {runners} runner{}   median {:.2} s, {:.0} leads/s  (target 10,000); raw rusqlite {:.2} s, flowc / raw {:.2}  (target at least 0.5)",
            if runners == 1 { " " } else { "s" },
            median.as_secs_f64(),
            LEADS as f64 / median.as_secs_f64(),
            raw.as_secs_f64(),
            raw.as_secs_f64() / median.as_secs_f64()
        );
    }
}
