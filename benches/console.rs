//! `cargo bench --bench console`: the console's leads table at 1,000,000
//! leads, as an operator's browser sees it: each page fetched over HTTP
//! from `flowc serve` (signed in, the runner working beside it), the time
//! from request to the last byte. On SQLite and on PostgreSQL.
//!
//! The database holds 1,000,000 leads, each enrolled once in a workflow:
//! 74.5% waiting a month, 5% held, 0.5% failed, 20% completed; 1% of the
//! addresses opted out. Prints the median and the 95th percentile of 21
//! fetches of each page: the first page, a page half-way down (by cursor),
//! searches by email, phone and id prefix, each filter, and a sort.
//!
//! `--quick`: 100,000 leads, SQLite only.

use std::path::Path;
use std::time::{Duration, Instant};

use flowc::params;
use flowc::store::{Kind, Location, Store};

#[path = "support/backend.rs"]
mod backend;
#[path = "support/serve.rs"]
mod serve;
use backend::{Backend, PostgresServer};
use serve::{flowc, Service};

const FLOW: &str = r#"workflow onboarding
  timezone America/New_York
  trigger when email is set
  steps
    send email
      to lead
      subject "Welcome"
      body "Hi."
    wait 30 days
    send email
      to lead
      subject "A month in"
      body "How is it going?"
"#;

/// The first lead's `updated_at`, in milliseconds; each next one a second
/// later.
const BASE: i64 = 1_767_225_600_000;

/// Fills the database with `count` leads, their enrollments and opt-outs.
fn populate(db: &Location, count: i64) {
    let store = Store::open(db.clone()).expect("the database");
    let sqlite = store.kind() == Kind::Sqlite;
    let numbers = if sqlite {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) ",
            count - 1
        )
    } else {
        String::new()
    };
    let from = if sqlite {
        "FROM n".to_owned()
    } else {
        format!("FROM generate_series(0, {}) AS n(i)", count - 1)
    };
    let pad = |expression: &str| {
        if sqlite {
            format!("printf('%07d', {expression})")
        } else {
            format!("lpad(({expression})::text, 7, '0')")
        }
    };
    // A month and more from now: the runner beside the pages has no work.
    let wake = chrono::Utc::now().timestamp_millis() + 40 * 86_400_000;
    let statements = [
        format!(
            "{numbers}INSERT INTO leads (id, fields, updated_at, email, phone)
             SELECT 'lead-' || {id}, '{{\"email\": \"lead' || i || '@example.com\", \"phone_number\": \"+1555' || {id} || '\"}}',
                    {BASE} + i * 1000, 'lead' || i || '@example.com', '+1555' || {id} {from}",
            id = pad("i")
        ),
        format!(
            "{numbers}INSERT INTO enrollments (workflow, lead, number, pc, status, wake, attempts, effects, entered, ending)
             SELECT 1, 'lead-' || {id}, 1,
                    CASE WHEN i % 1000 < 55 THEN 0 WHEN i % 1000 < 800 THEN 1 ELSE 3 END,
                    CASE WHEN i % 1000 < 5 THEN 'failed' WHEN i % 1000 < 55 THEN 'held'
                         WHEN i % 1000 < 800 THEN 'waiting' ELSE 'completed' END,
                    CASE WHEN i % 1000 >= 5 AND i % 1000 < 800 THEN {wake} END,
                    0, 1, {BASE} + i * 1000,
                    CASE WHEN i % 1000 < 5 THEN 'failed:0' WHEN i % 1000 >= 800 THEN 'completed' END
             {from}",
            id = pad("i")
        ),
        format!(
            "{numbers}INSERT INTO consent (channel, address, state, source, at)
             SELECT 'email', 'lead' || i || '@example.com', 'opted-out', 'bench', {BASE} {from} WHERE i % 100 = 7"
        ),
    ];
    for statement in statements {
        store.execute(&statement, params![]).expect("rows written");
    }
    store.execute("ANALYZE", params![]).expect("analyzed");
}

/// Signs in as the bench's token; gives the session cookie.
fn sign_in(client: &reqwest::blocking::Client, url: &str, token: &str) -> String {
    let answer = client
        .post(format!("{url}/console/login"))
        .form(&[("token", token), ("next", "/console/leads")])
        .send()
        .expect("the service answers");
    let cookie = answer
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .expect("a session cookie");
    cookie.split(';').next().unwrap_or_default().to_owned()
}

/// Fetches `path` `rounds` times; the sorted times and the page's size.
fn fetch(
    client: &reqwest::blocking::Client,
    url: &str,
    cookie: &str,
    path: &str,
    rounds: usize,
) -> (Vec<Duration>, usize, String) {
    let mut times = Vec::with_capacity(rounds);
    let mut page = String::new();
    for _ in 0..rounds {
        let began = Instant::now();
        let answer = client
            .get(format!("{url}{path}"))
            .header("cookie", cookie)
            .send()
            .expect("the service answers");
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        page = answer.text().expect("the page");
        times.push(began.elapsed());
    }
    times.sort();
    // "1,234 leads match." after the element with id="count".
    let count = page
        .find("id=\"count\"")
        .and_then(|at| {
            let text = &page[at..];
            let text = &text[text.find('>')? + 1..];
            let text = &text[..text.find(" lead")?];
            Some(text.replace("More than ", ">"))
        })
        .unwrap_or_else(|| "-".to_owned());
    (times, page.len(), count)
}

fn run(dir: &Path, backend: &Backend, count: i64) {
    let db = backend.fresh(dir, "console");
    assert!(flowc(dir, &db, &["publish", "console.flow"])
        .status()
        .expect("runs")
        .success());
    let began = Instant::now();
    populate(&db, count);
    println!(
        "  {}: {} leads written in {:.1} s",
        backend.name(),
        count,
        began.elapsed().as_secs_f64()
    );
    let token = flowc(dir, &db, &["token", "create", "bench"])
        .output()
        .expect("runs");
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    let service = Service::start(dir, &db);
    // Redirects are not followed: the sign-in's answer carries the cookie.
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let cookie = sign_in(&client, &service.url, &token);
    let middle = count / 2;
    let pages = [
        (
            "first page (last changed first)",
            "/console/leads".to_owned(),
        ),
        (
            "a page half-way down",
            format!(
                "/console/leads?after={}:lead-{middle:07}",
                BASE + middle * 1000
            ),
        ),
        ("sorted by id, Z-A", "/console/leads?sort=-id".to_owned()),
        (
            "search by email",
            format!("/console/leads?q=lead{middle}@example.com"),
        ),
        (
            "search by phone",
            format!("/console/leads?q=%2B1555{middle:07}"),
        ),
        (
            "search by id prefix",
            "/console/leads?q=lead-00777".to_owned(),
        ),
        ("status failed", "/console/leads?status=failed".to_owned()),
        ("status held", "/console/leads?status=held".to_owned()),
        ("status waiting", "/console/leads?status=waiting".to_owned()),
        ("opted out", "/console/leads?opted_out=on".to_owned()),
        (
            "workflow and step",
            "/console/leads?workflow=onboarding&step=steps%2F2".to_owned(),
        ),
        ("a lead", format!("/console/leads/lead-{middle:07}")),
    ];
    println!(
        "  {:<34} {:>9} {:>9} {:>8} {:>10}",
        "page", "median", "p95", "KB", "matching"
    );
    for (name, path) in pages {
        let (times, bytes, matching) = fetch(&client, &service.url, &cookie, &path, 21);
        println!(
            "  {name:<34} {:>6.1} ms {:>6.1} ms {:>8} {:>10}",
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() * 95 / 100].as_secs_f64() * 1e3,
            bytes / 1024,
            matching
        );
    }
    service.kill();
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let count = if quick { 100_000 } else { 1_000_000 };
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("console.flow"), FLOW).expect("the flow");
    println!("The console's leads table over HTTP, {count} leads (21 fetches a page)\n");
    run(dir.path(), &Backend::Sqlite, count);
    if !quick {
        let server = PostgresServer::get();
        println!();
        run(dir.path(), &Backend::Postgres(server.url.clone()), count);
    }
}
