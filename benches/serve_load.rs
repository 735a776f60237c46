//! `cargo bench --bench serve_load`: `flowc serve` under load, as a CRM
//! sync and a web form would load it, on SQLite and on PostgreSQL.
//!
//! Throughput: 16 concurrent clients (keep-alive connections) post 100,000
//! lead upserts, one lead a request, then 100,000 events, while the runner
//! in the same process works the enrollments they start (an email, a wait
//! that passes at once on an accelerated clock, a text, and a Slack note
//! per event) on the recording provider. Prints requests/s and the median
//! and 99th-percentile latency of each phase, as the clients saw them.
//!
//! Durability: the same clients post new leads while the service is killed
//! with SIGKILL at a random moment, three times, restarted after each; then
//! every lead whose request was answered 2xx must be in the database.
//! Prints how many acknowledged writes there were and how many were lost.
//!
//! `--quick`: 10,000 requests a phase.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flowc::params;
use flowc::store::{Location, Store};

#[path = "support/backend.rs"]
mod backend;
#[path = "support/serve.rs"]
mod serve;
use backend::{Backend, PostgresServer};
use serve::{flowc, Service};

/// Concurrent clients.
const CLIENTS: usize = 16;

const FLOW: &str = r#"workflow welcome
  timezone UTC
  trigger when email is set
  steps
    send email
      to lead
      subject "Welcome"
      body "Hi {{ first_name | default: "there" }}."
    wait 1 day
    send text
      body "Want a demo?"

workflow demo
  timezone UTC
  event demo_booked
    seats number
  trigger on demo_booked
  steps
    notify slack sales
      message "{{ email }} booked a demo"
"#;

/// A database with the bench's workflows and a token.
fn prepared(dir: &Path, backend: &Backend, name: &str) -> (Location, String) {
    let db = backend.fresh(dir, name);
    assert!(flowc(dir, &db, &["publish", "load.flow"])
        .stdout(Stdio::null())
        .status()
        .expect("runs")
        .success());
    let token = flowc(dir, &db, &["token", "create", "bench"])
        .output()
        .expect("runs");
    assert!(token.status.success());
    (db, String::from_utf8_lossy(&token.stdout).trim().to_owned())
}

/// Posts `count` requests from [`CLIENTS`] clients, request `i` with the
/// body `body(i)`; gives each request's latency, in order of completion.
fn load(
    url: &str,
    token: &str,
    path: &str,
    count: usize,
    body: fn(usize) -> String,
) -> Vec<Duration> {
    let latencies = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let latencies = &latencies;
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut mine = Vec::new();
                for i in (client..count).step_by(CLIENTS) {
                    let began = Instant::now();
                    let response = http
                        .post(format!("{url}{path}"))
                        .bearer_auth(token)
                        .body(body(i))
                        .send()
                        .expect("answered");
                    assert!(response.status().is_success(), "{}", response.status());
                    mine.push(began.elapsed());
                }
                latencies.lock().unwrap().extend(mine);
            });
        }
    });
    latencies.into_inner().unwrap()
}

fn report(phase: &str, count: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "    {phase:<14} {count} requests in {:.1} s: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
}

fn lead(i: usize) -> String {
    format!(
        r#"{{"id": "lead-{i}", "email": "lead{i}@example.com", "first_name": "Lead{i}", "phone_number": "+1555{i:07}"}}"#
    )
}

fn event(i: usize) -> String {
    format!(
        r#"{{"lead": "lead-{i}", "event": "demo_booked", "data": {{"seats": {}}}}}"#,
        i % 9
    )
}

fn throughput(dir: &Path, backend: &Backend, count: usize) {
    let (db, token) = prepared(dir, backend, "serve_load");
    let service = Service::start(dir, &db);
    let began = Instant::now();
    let latencies = load(&service.url, &token, "/v1/leads", count, lead);
    report("lead upserts", count, began.elapsed(), latencies);
    let began = Instant::now();
    let latencies = load(&service.url, &token, "/v1/events", count, event);
    report("events", count, began.elapsed(), latencies);
    service.kill();
}

/// Posts new leads from [`CLIENTS`] clients until the service stops
/// answering; gives the ids answered 2xx.
fn until_killed(url: &str, token: &str, round: usize, stop: &AtomicBool) -> Vec<String> {
    let acknowledged = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let acknowledged = &acknowledged;
            scope.spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("a client");
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("k{round}-{client}-{n}");
                    let body = format!(r#"{{"id": "{id}", "email": "{id}@example.com"}}"#);
                    match http
                        .post(format!("{url}/v1/leads"))
                        .bearer_auth(token)
                        .body(body)
                        .send()
                    {
                        Ok(response) if response.status().is_success() => {
                            acknowledged.lock().unwrap().push(id)
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }
    });
    acknowledged.into_inner().unwrap()
}

fn durability(dir: &Path, backend: &Backend) {
    let (db, token) = prepared(dir, backend, "serve_kill");
    let mut acknowledged = Vec::new();
    let mut seed = chrono::Utc::now().timestamp_subsec_nanos() as u64;
    for round in 0..3 {
        let service = Service::start(dir, &db);
        let stop = AtomicBool::new(false);
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = Duration::from_millis(500 + (seed >> 33) % 2500);
        let url = service.url.clone();
        let acked = std::thread::scope(|scope| {
            let posting = scope.spawn(|| until_killed(&url, &token, round, &stop));
            std::thread::sleep(after);
            service.kill();
            stop.store(true, Ordering::SeqCst);
            posting.join().expect("the clients")
        });
        acknowledged.extend(acked);
    }
    let service = Service::start(dir, &db);
    let store = Store::open(db.clone()).expect("opened");
    let stored: HashSet<String> = store
        .query("SELECT id FROM leads", params![], |row| row.get(0))
        .expect("read")
        .into_iter()
        .collect();
    let lost = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .count();
    println!(
        "    SIGKILL x3     {} acknowledged lead writes, {} stored, {lost} lost",
        acknowledged.len(),
        stored.len()
    );
    assert_eq!(lost, 0, "an acknowledged write was lost");
    service.kill();
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let count = if quick { 10_000 } else { 100_000 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("load.flow"), FLOW).expect("the flow");
    let server = PostgresServer::get();
    println!("flowc serve: {CLIENTS} clients, one lead or event a request, the runner working\n");
    for backend in [Backend::Sqlite, Backend::Postgres(server.url.clone())] {
        println!("  {}", backend.name());
        throughput(dir.path(), &backend, count);
        durability(dir.path(), &backend);
    }
}
