//! `flowc serve` driven over real HTTP, as a CRM or a web form would: API
//! tokens, the lead and event endpoints, body limits, health, metrics and
//! a clean stop, with the runner in the same process. On the PostgreSQL
//! run each test has a database of its own on the test server.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowc::store::{params, Location, Store};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[path = "support/live.rs"]
mod support;

/// Leads with an email get a Slack note at once; `demo_booked` (an event)
/// enrolls a lead in a second workflow.
const WORKFLOWS: &str = r#"workflow welcome
  timezone UTC
  fields
    score optional number
  trigger when email is set
  steps
    notify slack sales
      message "new lead {{ email }}"

workflow demo
  timezone UTC
  event demo_booked
    seats number
  trigger on demo_booked
  steps
    notify slack sales
      message "demo booked"
"#;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn flowc(db: &Location, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .env("FLOWC_DB", db.arg())
        .env_remove("FLOWC_CLOCK")
        .output()
        .expect("flowc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `flowc serve` on a free port, stopped (SIGKILL) when dropped
/// unless [`Service::stop`] stopped it.
struct Service {
    child: Option<Child>,
    url: String,
    /// What it wrote on stderr so far.
    log: Arc<Mutex<String>>,
}

impl Service {
    /// Starts the service on `db` and waits until it says it listens.
    fn start(db: &Location) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .args(["serve", "--listen", "127.0.0.1:0", "--body-limit", "65536"])
            .env("FLOWC_DB", db.arg())
            .env_remove("FLOWC_CLOCK")
            .stderr(Stdio::piped())
            .spawn()
            .expect("flowc serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (found, url) = std::sync::mpsc::channel();
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on ".len()..];
                    let _ = found.send(rest[..rest.find('"').unwrap_or(rest.len())].to_owned());
                }
                shared.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let url = url
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("flowc serve did not start: {}", log.lock().unwrap()));
        Service {
            child: Some(child),
            url,
            log,
        }
    }

    fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<reqwest::blocking::Body>,
    ) -> Response {
        let mut request = Client::new().post(format!("{}{path}", self.url)).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().expect("the service answers")
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = Client::new().get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().expect("the service answers")
    }

    /// Sends SIGTERM and gives the exit status and everything it logged.
    fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = child.wait().expect("it ends");
        // The reader thread sees the end of stderr once the process is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log.lock().unwrap().contains("flowc serve: stopped")
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        (status.code(), self.log.lock().unwrap().clone())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A database with [`WORKFLOWS`] published and a token; gives the token.
fn prepared(dir: &Path) -> (Location, String) {
    let db = support::database(dir);
    let file = dir.join("workflows.flow");
    std::fs::write(&file, WORKFLOWS).expect("written");
    let published = flowc(&db, &["publish", &file.display().to_string()]);
    assert!(published.status.success(), "{}", text(&published.stderr));
    let created = flowc(&db, &["token", "create", "crm"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    (db, text(&created.stdout).trim().to_owned())
}

fn count(db: &Location, table: &str) -> i64 {
    let store = Store::open(db.clone()).expect("opened");
    store
        .query_one(&format!("SELECT count(*) FROM {table}"), params![], |row| {
            row.get(0)
        })
        .expect("counted")
}

fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.text().expect("a body");
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON, not {body}"));
    (status, json)
}

/// Polls `flowc timeline` until it shows `wanted` (the runner works on its
/// own thread), for at most a minute.
fn timeline_shows(db: &Location, lead: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = text(&flowc(db, &["timeline", lead]).stdout);
        if shown.contains(wanted) || Instant::now() > deadline {
            return shown;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_token_is_shown_once_and_kept_only_as_a_hash() {
    let dir = tempdir("tokens");
    let (db, token) = prepared(&dir);
    assert!(token.starts_with("flowc_") && token.len() > 60, "{token}");
    let listed = text(&flowc(&db, &["token", "list"]).stdout);
    assert!(
        listed.contains("crm") && !listed.contains(&token[6..]),
        "{listed}"
    );
    let again = flowc(&db, &["token", "create", "crm"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
    let store = Store::open(db.clone()).expect("opened");
    let kept: String = store
        .query_one("SELECT hash FROM tokens", params![], |row| row.get(0))
        .expect("a row");
    assert!(!kept.contains(&token[6..]));
}

#[test]
fn requests_without_a_valid_token_get_401_and_change_nothing() {
    let dir = tempdir("unauthorized");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let lead = r#"{"id": "a", "email": "a@x.example"}"#;
    for bearer in [None, Some("flowc_0000"), Some("not-a-token"), Some("")] {
        let response = service.post("/v1/leads", bearer, lead);
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let (_, body) = json_of(response);
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let event = r#"{"lead": "a", "event": "demo_booked"}"#;
    assert_eq!(
        service.post("/v1/events", None, event).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        service.get("/metrics", None).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&db, "leads"), 0, "nothing was written");

    // Health needs no token; a revoked token stops working at once.
    assert_eq!(service.get("/healthz", None).status(), StatusCode::OK);
    assert_eq!(
        service.post("/v1/leads", Some(&token), lead).status(),
        StatusCode::OK
    );
    assert!(flowc(&db, &["token", "revoke", "crm"]).status.success());
    let other = r#"{"id": "b", "email": "b@x.example"}"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), other).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&db, "leads"), 1);
}

#[test]
fn leads_are_upserted_typed_and_enrolled_as_an_import_does() {
    let dir = tempdir("leads");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let batch = json!([
        {"id": "a", "email": "a@x.example", "score": 7},
        {"id": "b", "score": "high"},
        42,
        {"email": "no-id@x.example"},
        {"id": "c"}
    ]);
    let (status, answer) = json_of(service.post("/v1/leads", Some(&token), batch.to_string()));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["enrollments_started"], 1, "{answer}");
    let refused = answer["refused"].as_array().expect("a list");
    let indexes: Vec<u64> = refused
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 3], "{answer}");
    assert!(
        refused[0]["error"].as_str().unwrap().contains("score"),
        "{answer}"
    );
    assert!(
        refused[1]["error"]
            .as_str()
            .unwrap()
            .contains("not a number"),
        "{answer}"
    );
    assert!(
        refused[2]["error"].as_str().unwrap().contains("id"),
        "{answer}"
    );
    assert_eq!(answer["not_entered"]["trigger-false"], 1, "{answer}");
    assert_eq!(count(&db, "leads"), 2);

    // The runner in the same process delivers the step.
    let shown = timeline_shows(&db, "a", "sent");
    assert!(shown.contains("new lead a@x.example"), "{shown}");

    // The same id again is an update: c gets an email and enters.
    let (status, answer) = json_of(service.post(
        "/v1/leads",
        Some(&token),
        r#"{"id": "c", "email": "c@x.example"}"#,
    ));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            answer["accepted"].clone(),
            answer["enrollments_started"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(count(&db, "leads"), 2);

    // A single record that is refused: 422, nothing written.
    let (status, answer) =
        json_of(service.post("/v1/leads", Some(&token), r#"{"id": "d", "score": true}"#));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(count(&db, "leads"), 2);
}

#[test]
fn events_enroll_leads_and_say_why_not() {
    let dir = tempdir("events");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let lead = r#"{"id": "a", "email": "a@x.example"}"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), lead).status(),
        StatusCode::OK
    );
    let event = r#"{"lead": "a", "event": "demo_booked", "data": {"seats": 3}}"#;
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), event));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["entered"], json!(["demo"]), "{answer}");

    let unknown = r#"{"lead": "nobody", "event": "demo_booked"}"#;
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), unknown));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown-lead"))
    );
    let bad = r#"{"lead": "a", "event": "demo_booked", "data": {"seats": "three"}}"#;
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), bad));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("bad-data")),
        "{answer}"
    );

    // A batch answers for each event; the lead is in `demo` already.
    let batch = json!([
        {"lead": "a", "event": "demo_booked"},
        {"lead": "nobody", "event": "demo_booked"},
        {"lead": "a"}
    ]);
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), batch.to_string()));
    assert_eq!(status, StatusCode::OK, "{answer}");
    let events = answer["events"].as_array().expect("a list");
    assert_eq!(events[0]["not_entered"][0]["workflow"], "demo", "{answer}");
    assert_eq!(events[1]["error"]["code"], "unknown-lead", "{answer}");
    assert_eq!(events[2]["error"]["code"], "invalid", "{answer}");
    let shown = timeline_shows(&db, "a", "demo booked");
    assert!(shown.contains("demo booked"), "{shown}");
}

#[test]
fn oversize_and_malformed_bodies_are_refused_clearly() {
    let dir = tempdir("bodies");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let big = format!(r#"[{{"id": "a", "note": "{}"}}]"#, "x".repeat(70_000));
    let (status, answer) = json_of(service.post("/v1/leads", Some(&token), big));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("body-too-large"))
    );
    let (status, answer) = json_of(service.post("/v1/leads", Some(&token), "{\"id\": \n\"a\""));
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], "malformed-json");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{answer}"
    );
    let (status, answer) = json_of(service.post("/v1/leads", Some(&token), "\"a lead\""));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid"))
    );
    let (status, _) = json_of(service.get("/v1/nothing", Some(&token)));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&db, "leads"), 0);
}

#[test]
fn metrics_are_prometheus_text_and_sigterm_stops_cleanly() {
    let dir = tempdir("metrics");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let batch = r#"[{"id": "a", "email": "a@x.example"}, {"id": "b"}]"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), batch).status(),
        StatusCode::OK
    );
    timeline_shows(&db, "a", "sent");
    let response = service.get("/metrics", Some(&token));
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let metrics = response.text().expect("text");
    for line in [
        "flowc_leads 2",
        "flowc_enrollments{status=\"completed\"} 1",
        "flowc_deliveries{kind=\"notify\",status=\"done\"} 1",
        "flowc_due 0",
        "flowc_http_requests_total{route=\"/v1/leads\",status=\"200\"} 1",
        "# TYPE flowc_leads gauge",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    let (code, log) = service.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("flowc serve: stopped"), "{log}");
    let request = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|entry| entry["path"] == "/v1/leads")
        .expect("the request was logged");
    assert_eq!(
        (request["status"].clone(), request["token"].clone()),
        (json!(200), json!("crm"))
    );
}
