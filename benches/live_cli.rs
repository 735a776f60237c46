//! `cargo bench --bench live_cli`: the live runtime as a user runs it,
//! through the `flowc` binary: `flowc publish`, `flowc leads import` of
//! 10,000 leads, then `flowc run` (one runner, then four at once on the
//! same database) until every enrollment has ended, on the recording
//! provider, for condition → email → wait 2 days → text on a clock that
//! runs a million times faster than the real one (the wait passes in a
//! fifth of a second). Three rounds of each; prints the median end-to-end
//! time (publish to the last enrollment ended) and leads/s.
//!
//! Target (issue 12): at least 10,000 leads/s end to end with effects.

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
        let mut times: Vec<Duration> = (0..rounds).map(|_| round(dir.path(), runners)).collect();
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "  {runners} runner{}   median {:.2} s, {:.0} leads/s  (target 10,000)",
            if runners == 1 { " " } else { "s" },
            median.as_secs_f64(),
            LEADS as f64 / median.as_secs_f64()
        );
    }
}
