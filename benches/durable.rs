//! `cargo bench --bench durable`: durable enrollment transitions per second
//! on a real SQLite file, next to raw rusqlite writing the same rows in the
//! same run into the same schema, and the database's size per 1,000
//! suspended leads; then deliveries per second with one and four runners on
//! one database against a local HTTP server that answers after 50 ms, and
//! the delay 100 slow calls (each placed after 2 s) impose on 100 emails
//! due at the same instant.
//!
//! A transition is one enrollment run from one suspension to the next, its
//! state and timeline events committed. Targets: at least 30,000 per second,
//! and within 2x of the raw writes; deliveries scale with runners (each has
//! its own delivery threads); slow calls delay emails not at all beyond
//! their own delivery time (issue 12).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use flowc::config::Config;
use flowc::providers::Providers;
use flowc::runtime::leads::read_updates;
use flowc::runtime::live::{Carrier, Clock, FieldTypes, Live, Migration};
use flowc::store::Store;

#[path = "support/servers.rs"]
mod servers;
use servers::{SlowHttp, SmtpSink};

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
    let leads: String = (0..LEADS)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\", \"first_name\": \"Lead {i}\"}}\n"))
        .collect();
    let mut live = published(&db, &workflow(), &leads);
    live.store
        .query_one("PRAGMA wal_checkpoint(TRUNCATE)", flowc::params![], |_| {
            Ok(())
        })
        .expect("checkpointed");
    let per_thousand = file_size(&db) as f64 / (LEADS as f64 / 1000.0);

    let carrier = Carrier::Recorded;
    let mut transitions = 0;
    let began = Instant::now();
    for minute in 1..=WAITS as i64 {
        live.clock = Clock::Fixed(start() + chrono::Duration::minutes(minute));
        loop {
            let done = live.tick(&carrier).expect("a tick");
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

/// A plain rusqlite connection to `db`, set up as flowc sets up its own
/// (WAL, synchronous NORMAL).
fn raw_connection(db: &Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(db).expect("opened");
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .expect("set");
    connection
}

/// Raw rusqlite writing the rows a transition writes (the enrollment's
/// new state and a timeline event) into flowc's own schema, indexes and
/// all, 500 per transaction, with the statements flowc uses.
fn raw(dir: &Path, count: usize) -> f64 {
    let db = dir.join("raw.db");
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(format!("{}-wal", db.display()));
    drop(Store::open(&db).expect("flowc's schema"));
    let connection = &mut raw_connection(&db);
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

/// When every benchmark's clock starts: 2026-06-01 09:00 UTC.
fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
        .single()
        .expect("a time")
}

/// A live runtime on `db` (new) with `source` published and `leads`
/// (JSON Lines) imported, on a clock fixed at [`start`].
fn published(db: &Path, source: &str, leads: &str) -> Live {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let mut live = Live::new(Store::open(db).expect("a database"), Clock::Fixed(start()));
    live.publish(&artifact, source, Migration::None, "bench")
        .expect("published");
    let file = db.with_extension("jsonl");
    std::fs::write(&file, leads).expect("written");
    let updates = read_updates(&file, &FieldTypes::untyped(chrono_tz::UTC)).expect("read");
    live.import(updates.records).expect("imported");
    live
}

/// Enrollments not ended yet.
fn unfinished(live: &Live) -> i64 {
    live.store
        .query_one(
            "SELECT count(*) FROM enrollments WHERE status NOT IN ('completed', 'exited', 'failed')",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("counted")
}

/// Leads through one http step, in the 50 ms benchmark.
const HTTP_LEADS: usize = 400;

/// Deliveries per second of `runners` runners (each a thread with its own
/// connection and delivery threads, as separate processes would have) on
/// one database, through the real http provider to a server that answers
/// after 50 ms.
fn http_runners(dir: &Path, server: &SlowHttp, runners: usize) -> f64 {
    let db = dir.join("http.db");
    let source = format!(
        "workflow enrich\n  timezone UTC\n  trigger when email is set\n  steps\n    http post \"http://127.0.0.1:{}/api/enrich\"\n      body \"\"\"{{\"email\": \"{{{{ email }}}}\"}}\"\"\"\n",
        server.port
    );
    let leads: String = (0..HTTP_LEADS)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\"}}\n"))
        .collect();
    drop(published(&db, &source, &leads));
    let config = Config::parse("[http]\nallow = [\"127.0.0.1\"]\n").expect("a config");
    let began = Instant::now();
    let threads: Vec<_> = (0..runners)
        .map(|_| {
            let (db, config) = (db.clone(), config.clone());
            std::thread::spawn(move || {
                let clock = Clock::Fixed(start());
                let mut live = Live::new(Store::open(&db).expect("a database"), clock);
                let carrier = Carrier::Sent(Arc::new(Providers::new(config).expect("providers")));
                loop {
                    let done = live.tick(&carrier).expect("a tick");
                    if done == 0
                        && live.in_flight().expect("counted") == 0
                        && unfinished(&live) == 0
                    {
                        break;
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a runner");
    }
    HTTP_LEADS as f64 / began.elapsed().as_secs_f64()
}

/// Emails and calls in the slow-calls benchmark.
const EMAILS: usize = 100;

/// When each of 100 emails due now was accepted by the SMTP server,
/// counted from the runner's first tick (sorted), with `calls` calls due
/// at the same instant (ahead of them in the outbox) that Twilio takes
/// 2 s each to place.
fn emails_beside_calls(dir: &Path, server: &SlowHttp, sink: &SmtpSink, calls: usize) -> Vec<f64> {
    let db = dir.join("calls.db");
    let source = r#"workflow reach
  timezone UTC
  trigger when email is set
  steps
    condition
      branch caller when phone_number is set
        call phone
          agent sdr-bot
          on answered
            exit "talked"
          on voicemail
            exit "left a message"
          on no answer
            exit "nobody"
          on failed
            exit "broken"
        end
      else
        send email
          to lead
          subject "Hello"
          body "Thanks for looking."
    end
"#;
    let callers = (0..calls).map(|i| {
        format!("{{\"id\": \"caller-{i}\", \"email\": \"c{i}@x.example\", \"phone_number\": \"+1555{i:07}\"}}\n")
    });
    let writers =
        (0..EMAILS).map(|i| format!("{{\"id\": \"writer-{i}\", \"email\": \"w{i}@x.example\"}}\n"));
    let leads: String = callers.chain(writers).collect();
    let mut live = published(&db, source, &leads);
    std::env::set_var("FLOWC_BENCH_TWILIO_SID", "AC123");
    std::env::set_var("FLOWC_BENCH_TWILIO_TOKEN", "secret");
    let config = Config::parse(&format!(
        r#"[smtp]
host = "127.0.0.1"
port = {}
tls = "none"
default_from = "Acme <hello@acme.example>"

[twilio]
base_url = "http://127.0.0.1:{}"
account_sid_env = "FLOWC_BENCH_TWILIO_SID"
auth_token_env = "FLOWC_BENCH_TWILIO_TOKEN"
default_from = "+15550100"
agents = {{ sdr-bot = "https://voice.acme.example/sdr.xml" }}
"#,
        sink.port, server.port
    ))
    .expect("a config");
    let carrier = Carrier::Sent(Arc::new(Providers::new(config).expect("providers")));
    sink.clear();
    let began = Instant::now();
    while sink.accepted().len() < EMAILS {
        live.tick(&carrier).expect("a tick");
    }
    let mut delays: Vec<f64> = sink
        .accepted()
        .iter()
        .map(|at| at.duration_since(began).as_secs_f64())
        .collect();
    delays.sort_by(f64::total_cmp);
    // Dropping the runtime waits for the calls being placed.
    drop(live);
    delays
}

/// Median and slowest of sorted seconds, in milliseconds.
fn spread(sorted: &[f64]) -> String {
    format!(
        "median {:.0} ms, last {:.0} ms",
        sorted[sorted.len() / 2] * 1000.0,
        sorted[sorted.len() - 1] * 1000.0
    )
}

/// The delivery benchmarks: runners against a 50 ms API, emails beside
/// slow calls.
fn deliveries(dir: &Path, rounds: usize) {
    let server = SlowHttp::start(Duration::from_millis(50), Duration::from_secs(2));
    let sink = SmtpSink::start();
    println!("\ndeliveries: {HTTP_LEADS} http posts to a local server answering after 50 ms\n");
    for runners in [1, 4] {
        let mut rates: Vec<f64> = (0..rounds)
            .map(|_| http_runners(dir, &server, runners))
            .collect();
        rates.sort_by(f64::total_cmp);
        println!(
            "  {runners} runner{}   {:.0} deliveries/s  (median; {} in flight per runner)",
            if runners == 1 { " " } else { "s" },
            rates[rates.len() / 2],
            flowc::config::Concurrency::default().of("http")
        );
    }
    println!("\n{EMAILS} emails due at once, alone and beside 100 calls Twilio takes 2 s each to place\n");
    let alone = emails_beside_calls(dir, &server, &sink, 0);
    let beside = emails_beside_calls(dir, &server, &sink, 100);
    println!("  alone          {}", spread(&alone));
    println!("  beside calls   {}", spread(&beside));
    println!(
        "  delay          {:.0} ms for the last email  (target: none beyond its own delivery)",
        (beside[beside.len() - 1] - alone[alone.len() - 1]) * 1000.0
    );
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
    deliveries(&dir, if quick { 1 } else { 3 });
    let _ = std::fs::remove_dir_all(&dir);
}
