//! `flowc serve` driven over real HTTP, as a CRM or a web form would: API
//! tokens, the lead and event endpoints, body limits, health, metrics and
//! a clean stop, with the runner in the same process. On the PostgreSQL
//! run each test has a database of its own on the test server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use flowc::store::{params, Location, Store};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[path = "support/providers.rs"]
mod providers;
#[path = "support/python.rs"]
mod python;
#[path = "support/service.rs"]
mod service;
#[path = "support/smtp.rs"]
mod smtp;
#[path = "support/live.rs"]
mod support;

use service::Service;

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

impl Service {
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

    /// Posts a form as Twilio would, with `signature` as
    /// `X-Twilio-Signature` (if any).
    fn twilio(&self, form: &str, signature: Option<&str>) -> Response {
        let mut request = Client::new()
            .post(format!("{}/v1/webhooks/twilio/messages", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(signature) = signature {
            request = request.header("x-twilio-signature", signature);
        }
        request.send().expect("the service answers")
    }

    /// Posts a Twilio callback `form` to `path` with `signature`; gives
    /// the status.
    fn callback(&self, path: &str, form: &str, signature: &str) -> StatusCode {
        Client::new()
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form.to_owned())
            .send()
            .expect("answered")
            .status()
    }

    fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = Client::new().get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().expect("the service answers")
    }
}

/// A database with [`WORKFLOWS`] published and a token; gives the token.
fn prepared(dir: &Path) -> (Location, String) {
    prepared_with(dir, WORKFLOWS)
}

/// A database with `source` published and a token; gives the token.
fn prepared_with(dir: &Path, source: &str) -> (Location, String) {
    let db = support::database(dir);
    let file = dir.join("workflows.flow");
    std::fs::write(&file, source).expect("written");
    let published = flowc(&db, &["publish", &file.display().to_string()]);
    assert!(published.status.success(), "{}", text(&published.stderr));
    let created = flowc(&db, &["token", "create", "crm"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    (db, text(&created.stdout).trim().to_owned())
}

/// The service on `db` with `toml` as its `flowc.toml` (in `dir`) and
/// `env`, on a clock where an hour passes in a second.
fn launch_configured(db: &Location, dir: &Path, toml: &str, env: &[(&str, &str)]) -> Service {
    let config = dir.join("flowc.toml");
    std::fs::write(&config, toml).expect("written");
    let clock = format!(
        "{}@{}*3600",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        chrono::Utc::now().timestamp_millis()
    );
    let mut env = env.to_vec();
    env.push(("FLOWC_CLOCK", &clock));
    Service::launch(db, &["--config", &config.display().to_string()], &env)
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

    // The scheme's name is case-insensitive; the token is not.
    for authorization in [format!("bearer {token}"), format!("BEARER  {token}")] {
        let response = Client::new()
            .post(format!("{}/v1/leads", service.url))
            .header("authorization", authorization.as_str())
            .body(r#"{"id": "z", "email": "z@x.example"}"#)
            .send()
            .expect("answered");
        assert_eq!(response.status(), StatusCode::OK, "{authorization}");
    }
    let shouted = service.post("/v1/leads", Some(&token.to_uppercase()), lead);
    assert_eq!(shouted.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&db, "leads"), 1, "only z");

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
    assert_eq!(count(&db, "leads"), 2, "z and a");
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
    let unheard = r#"{"lead": "a", "event": "demo_bookd"}"#;
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), unheard));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("unheard-event")),
        "{answer}"
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("did you mean `demo_booked`?"), "{answer}");
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

/// Twilio's signature for a form posted to `url`, made by an independent
/// implementation (Python's standard library) from Twilio's documented
/// scheme: base64 of HMAC-SHA1 over the URL and the sorted parameters.
fn twilio_signature(token: &str, url: &str, form: &str) -> String {
    let script = "import sys, hmac, hashlib, base64, urllib.parse\n\
token, url, form = sys.argv[1:4]\n\
params = sorted(urllib.parse.parse_qsl(form, keep_blank_values=True))\n\
data = url + ''.join(k + v for k, v in params)\n\
print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())";
    let output = Command::new("python3")
        .args(["-c", script, token, url, form])
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).trim().to_owned()
}

/// The `StatusCallback` URL flowc gave Twilio in `request` (as the
/// stand-in recorded it), and its path on the `public` address.
fn status_callback(request: &Value, public: &str) -> (String, String) {
    let form: Vec<(String, String)> =
        serde_urlencoded::from_str(request["body"].as_str().unwrap()).unwrap();
    let callback = form
        .into_iter()
        .find(|(name, _)| name == "StatusCallback")
        .map(|(_, url)| url)
        .expect("a StatusCallback");
    let path = callback
        .strip_prefix(public)
        .unwrap_or_else(|| panic!("on the public URL: {callback}"))
        .to_owned();
    (callback, path)
}

/// A text from `from` saying `body`, as Twilio posts it.
fn inbound(sid: &str, from: &str, body: &str) -> String {
    serde_urlencoded::to_string([
        ("MessageSid", sid),
        ("AccountSid", "AC123"),
        ("From", from),
        ("To", "+15550000000"),
        ("Body", body),
        ("NumMedia", "0"),
    ])
    .expect("a form")
}

#[test]
fn stop_and_start_texts_from_twilio_change_what_is_sent_and_forgeries_change_nothing() {
    let dir = tempdir("twilio");
    let twilio = providers::Server::start(&dir);
    let public = "https://flowc.test.example";
    let (db, token) = prepared_with(
        &dir,
        "workflow texts\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    send text\n      body \"first\"\n    wait 1 hour\n    send text\n      body \"second\"\n",
    );
    let service = launch_configured(
        &db,
        &dir,
        &format!(
            "[twilio]\nbase_url = \"{}\"\naccount_sid_env = \"FLOWC_TEST_SID\"\nauth_token_env = \"FLOWC_TEST_TOKEN\"\ndefault_from = \"+15550000000\"\n\n[serve]\npublic_url = \"{public}/\"\nhelp_text = \"Acme <reps>: reply STOP to stop & START to start\"\n",
            twilio.url("")
        ),
        &[("FLOWC_TEST_SID", "AC123"), ("FLOWC_TEST_TOKEN", "secret")],
    );
    let url = format!("{public}/v1/webhooks/twilio/messages");
    let consent = || text(&flowc(&db, &["consent", "show", "+15550100001"]).stdout);

    // Forged: no signature, another token, another URL, a changed body.
    let stop = inbound("SM1", "+1 555 010 0001", "Stop");
    for signature in [
        None,
        Some(twilio_signature("not-the-token", &url, &stop)),
        Some(twilio_signature(
            "secret",
            "https://evil.example/v1/webhooks/twilio/messages",
            &stop,
        )),
        Some(twilio_signature(
            "secret",
            &url,
            &inbound("SM1", "+15550100001", "HELP"),
        )),
    ] {
        let (status, answer) = json_of(service.twilio(&stop, signature.as_deref()));
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (StatusCode::FORBIDDEN, json!("bad-signature")),
            "{signature:?}"
        );
    }
    assert!(consent().contains("no consent changes"), "{}", consent());

    // STOP: the number is opted out; the lead's first text is skipped.
    let answered = service.twilio(&stop, Some(&twilio_signature("secret", &url, &stop)));
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(answered.headers()["content-type"], "text/xml");
    assert!(answered.text().unwrap().ends_with("<Response/>"));
    assert!(
        consent().contains("opted-out") && consent().contains("twilio: Stop (SM1)"),
        "{}",
        consent()
    );
    let lead = r#"{"id": "a", "phone_number": "+15550100001"}"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), lead).status(),
        StatusCode::OK
    );
    let shown = timeline_shows(&db, "a", "skipped");
    assert!(
        shown.contains("first: +15550100001 is opted-out on text (twilio: Stop (SM1)"),
        "{shown}"
    );
    // The lead's consent, through the API and the CLI.
    let (status, view) = json_of(service.get("/v1/leads/a", Some(&token)));
    assert_eq!(status, StatusCode::OK, "{view}");
    let text_consent = view["consent"]
        .as_array()
        .and_then(|channels| channels.iter().find(|c| c["channel"] == "text"))
        .cloned()
        .expect("text consent");
    assert_eq!(
        (
            text_consent["state"].clone(),
            text_consent["source"].clone()
        ),
        (json!("opted-out"), json!("twilio: Stop (SM1)"))
    );
    assert_eq!(view["fields"]["phone_number"], "+15550100001");
    assert_eq!(
        service.get("/v1/leads/nobody", Some(&token)).status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        service.get("/v1/leads/a", None).status(),
        StatusCode::UNAUTHORIZED
    );
    let shown = text(&flowc(&db, &["leads", "show", "a"]).stdout);
    assert!(
        shown.contains("text   +15550100001") && shown.contains("opted-out  (twilio: Stop (SM1)"),
        "{shown}"
    );

    // START: back in, and the second text goes out an hour later.
    let start = inbound("SM2", "+15550100001", "start");
    let answered = service.twilio(&start, Some(&twilio_signature("secret", &url, &start)));
    assert_eq!(answered.status(), StatusCode::OK);
    // The same STOP sent again (Twilio retrying) changes nothing.
    let again = service.twilio(&stop, Some(&twilio_signature("secret", &url, &stop)));
    assert_eq!(again.status(), StatusCode::OK);
    assert!(
        consent().trim_end().ends_with("twilio: start (SM2)"),
        "{}",
        consent()
    );
    let shown = timeline_shows(&db, "a", "completed");
    assert!(
        shown.contains("sent") && shown.contains("second"),
        "{shown}"
    );
    let texts: Vec<Value> = twilio
        .requests()
        .into_iter()
        .filter(|request| {
            request["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("Messages.json")
        })
        .collect();
    assert_eq!(texts.len(), 1, "only the second text went out: {texts:?}");
    assert!(texts[0].to_string().contains("second"), "{texts:?}");

    // Its delivery receipt: Twilio was given a status callback on the
    // public URL; `delivered` lands on the timeline once, signed; other
    // statuses are dropped; a refusal that says the number cannot take
    // texts (30005) makes it undeliverable.
    let (callback, path) = status_callback(&texts[0], public);
    let path = path.as_str();
    assert!(
        path.starts_with("/v1/webhooks/twilio/status?key="),
        "{path}"
    );
    let status = |sid: &str, state: &str, code: &str| {
        serde_urlencoded::to_string([
            ("MessageSid", sid),
            ("MessageStatus", state),
            ("ErrorCode", code),
            ("To", "+15550100001"),
        ])
        .unwrap()
    };
    let receipt = |form: &str, signature: &str| service.callback(path, form, signature);
    let sent = status("SM9", "sent", "");
    assert_eq!(
        receipt(&sent, &twilio_signature("secret", &callback, &sent)),
        StatusCode::NO_CONTENT
    );
    let delivered = status("SM9", "delivered", "");
    assert_eq!(receipt(&delivered, "forged"), StatusCode::FORBIDDEN);
    for _ in 0..2 {
        assert_eq!(
            receipt(
                &delivered,
                &twilio_signature("secret", &callback, &delivered)
            ),
            StatusCode::NO_CONTENT
        );
    }
    let undelivered = status("SM10", "undelivered", "30005");
    assert_eq!(
        receipt(
            &undelivered,
            &twilio_signature("secret", &callback, &undelivered)
        ),
        StatusCode::NO_CONTENT
    );
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert_eq!(
        shown
            .lines()
            .filter(|line| line.contains(": delivered"))
            .count(),
        1,
        "{shown}"
    );
    assert!(
        shown.contains("text to +15550100001: second: delivered"),
        "{shown}"
    );
    assert!(
        shown.contains("second: the carrier did not deliver it (error 30005)"),
        "{shown}"
    );
    assert!(
        consent().contains("undeliverable")
            && consent().contains("twilio: error 30005 (SM10:undelivered)"),
        "{}",
        consent()
    );

    // HELP: answered with the help text, as TwiML.
    let help = inbound("SM3", "+15550100001", "help");
    let answered = service.twilio(&help, Some(&twilio_signature("secret", &url, &help)));
    assert_eq!(
        answered.text().unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Acme &lt;reps&gt;: reply STOP to stop &amp; START to start</Message></Response>"
    );
}

/// A text reply is a `text_replied` event for every lead with that number
/// (however the lead's number is written): a goal waiting for it ends the
/// sequence before its next text, a workflow it triggers starts, and
/// Twilio sending the reply again changes nothing. A STOP raises
/// `opted_out` for the number's leads.
#[test]
fn a_text_reply_ends_the_sequence_through_a_goal_and_starts_what_it_triggers() {
    let dir = tempdir("reply");
    let twilio = providers::Server::start(&dir);
    let public = "https://flowc.test.example";
    let (db, token) = prepared_with(
        &dir,
        concat!(
            "workflow texts\n  timezone UTC\n  trigger when phone_number is set\n  goal replied on text_replied\n",
            "  steps\n    send text\n      body \"first\"\n    wait 3 days\n    send text\n      body \"second\"\n\n",
            "workflow pricing\n  timezone UTC\n  trigger on text_replied when event.text contains \"price\"\n",
            "  steps\n    wait 1 hour\n\n",
            "workflow goodbye\n  timezone UTC\n  trigger on opted_out when event.channel is \"text\"\n",
            "  steps\n    wait 1 hour\n",
        ),
    );
    let service = launch_configured(
        &db,
        &dir,
        &format!(
            "[twilio]\nbase_url = \"{}\"\naccount_sid_env = \"FLOWC_TEST_SID\"\nauth_token_env = \"FLOWC_TEST_TOKEN\"\ndefault_from = \"+15550000000\"\n\n[serve]\npublic_url = \"{public}\"\n",
            twilio.url("")
        ),
        &[("FLOWC_TEST_SID", "AC123"), ("FLOWC_TEST_TOKEN", "secret")],
    );
    let url = format!("{public}/v1/webhooks/twilio/messages");
    let leads = r#"[{"id": "a", "phone_number": "+1 (555) 010-0001"}, {"id": "b", "phone_number": "+15550100002"}]"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), leads).status(),
        StatusCode::OK
    );
    let shown = timeline_shows(&db, "a", "text to +1 (555) 010-0001: first");
    assert!(shown.contains("first"), "{shown}");

    let reply = inbound("SM5", "+15550100001", "What's the price for 40 seats?");
    assert_eq!(
        service.twilio(&reply, Some("forged")).status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(count(&db, "webhooks"), 0, "a forgery is not even noted");
    for _ in 0..2 {
        let answered = service.twilio(&reply, Some(&twilio_signature("secret", &url, &reply)));
        assert_eq!(answered.status(), StatusCode::OK);
        assert!(
            answered.text().unwrap().ends_with("<Response/>"),
            "no answer to a reply"
        );
    }
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(shown.contains("goal replied reached"), "{shown}");
    assert_eq!(
        shown.matches("entered").count(),
        2,
        "texts, then pricing, once though Twilio sent the reply twice: {shown}"
    );
    let shown = text(&flowc(&db, &["timeline", "b"]).stdout);
    assert!(
        !shown.contains("goal replied"),
        "another number's lead goes on: {shown}"
    );

    let stop = inbound("SM6", "+15550100002", "STOP");
    let answered = service.twilio(&stop, Some(&twilio_signature("secret", &url, &stop)));
    assert_eq!(answered.status(), StatusCode::OK);
    let shown = text(&flowc(&db, &["timeline", "b"]).stdout);
    assert_eq!(
        shown.matches("entered").count(),
        2,
        "texts, then goodbye: {shown}"
    );
    let texts = twilio
        .requests()
        .into_iter()
        .filter(|request| {
            request["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("Messages.json")
        })
        .count();
    assert_eq!(texts, 2, "each lead's first text only");
}

/// A call's outcome arrives by Twilio's status callback: the call placed
/// with the callback URL on the public address, a forged or unfinished
/// status changes nothing, the signed final one runs the enrollment on at
/// once (no look at the call is due for an hour) and raises
/// `call_completed` for the lead, once however often Twilio sends it.
#[test]
fn a_calls_outcome_arrives_by_status_callback_and_raises_call_completed() {
    let dir = tempdir("call-callback");
    let twilio = providers::Server::start(&dir);
    let public = "https://flowc.test.example";
    let (db, token) = prepared_with(
        &dir,
        concat!(
            "workflow calling\n  timezone UTC\n  trigger when phone_number is set\n  steps\n",
            "    call phone\n      agent sdr\n      on answered\n        exit \"talked\"\n",
            "      on voicemail\n        exit \"left a message\"\n    end\n\n",
            "workflow follow-up\n  timezone UTC\n  trigger on call_completed when event.outcome is \"answered\"\n",
            "  steps\n    wait 1 hour\n",
        ),
    );
    let service = launch_configured(
        &db,
        &dir,
        &format!(
            "[twilio]\nbase_url = \"{}\"\naccount_sid_env = \"FLOWC_TEST_SID\"\nauth_token_env = \"FLOWC_TEST_TOKEN\"\ndefault_from = \"+15550000000\"\npoll_seconds = 3600\n\n[twilio.agents]\nsdr = \"https://agents.acme.example/sdr.xml\"\n\n[serve]\npublic_url = \"{public}\"\n",
            twilio.url("")
        ),
        &[("FLOWC_TEST_SID", "AC123"), ("FLOWC_TEST_TOKEN", "secret")],
    );
    let lead = r#"{"id": "a", "phone_number": "+15550100007"}"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), lead).status(),
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let placed = loop {
        let calls: Vec<Value> = twilio
            .requests()
            .into_iter()
            .filter(|request| {
                request["path"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("Calls.json")
            })
            .collect();
        if let Some(call) = calls.first() {
            break call.clone();
        }
        assert!(Instant::now() < deadline, "no call was placed");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (callback, path) = status_callback(&placed, public);
    assert!(path.starts_with("/v1/webhooks/twilio/calls?key="), "{path}");
    let status = |state: &str| {
        serde_urlencoded::to_string([
            ("CallSid", "CA15550100007"),
            ("CallStatus", state),
            ("AnsweredBy", "human"),
        ])
        .unwrap()
    };
    let report = |form: &str, signature: &str| service.callback(&path, form, signature);
    let completed = status("completed");
    assert_eq!(report(&completed, "forged"), StatusCode::FORBIDDEN);
    let ringing = status("ringing");
    assert_eq!(
        report(&ringing, &twilio_signature("secret", &callback, &ringing)),
        StatusCode::NO_CONTENT
    );
    assert_eq!(count(&db, "webhooks"), 0, "nothing final was reported");
    for _ in 0..2 {
        assert_eq!(
            report(
                &completed,
                &twilio_signature("secret", &callback, &completed)
            ),
            StatusCode::NO_CONTENT
        );
    }
    let shown = timeline_shows(&db, "a", "talked");
    assert!(
        shown.contains("on answered") && shown.contains("talked"),
        "{shown}"
    );
    let shown = timeline_shows(&db, "a", "waited");
    assert_eq!(
        shown.matches("entered").count(),
        2,
        "calling, then follow-up once: {shown}"
    );
    let looks = twilio
        .requests()
        .into_iter()
        .filter(|request| request["path"].as_str().unwrap_or("").contains("/Calls/"))
        .count();
    assert_eq!(looks, 0, "the callback answered; nobody asked Twilio");
}

/// Posts `body` as `content_type` to `path` with `auth` as one header.
fn post_as(
    service: &Service,
    path: &str,
    content_type: &str,
    auth: (&str, &str),
    body: &str,
) -> (StatusCode, Value) {
    let response = Client::new()
        .post(format!("{}{path}", service.url))
        .header("content-type", content_type)
        .header(auth.0, auth.1)
        .body(body.to_owned())
        .send()
        .expect("answered");
    json_of(response)
}

/// Replies by email reach the service in each provider's shape (JSON,
/// a form, a multipart form), behind a shared secret: each is an
/// `email_replied` event for the sender's leads, a goal on it ends their
/// sequence, the same Message-ID twice counts once. Bounces make an
/// address undeliverable, complaints unsubscribe it (raising
/// `unsubscribed`); opens and soft bounces change nothing.
#[test]
fn replies_bounces_and_complaints_by_email_in_each_providers_shape() {
    let dir = tempdir("email-webhooks");
    let (db, token) = prepared_with(
        &dir,
        concat!(
            "workflow nurture\n  timezone UTC\n  trigger when email is set\n",
            "  goal interested on email_replied when event.text contains \"interested\"\n",
            "  steps\n    wait 3 days\n    send email\n      to lead\n      subject \"Hi\"\n      body \"hello\"\n\n",
            "workflow sorry\n  timezone UTC\n  trigger on unsubscribed\n  steps\n    wait 1 hour\n",
        ),
    );
    let service = launch_configured(
        &db,
        &dir,
        "[serve]\nwebhook_secret_env = \"FLOWC_TEST_SECRET\"\n",
        &[("FLOWC_TEST_SECRET", "s3cret")],
    );
    let leads = r#"[{"id": "a", "email": "Ann@Acme.example"}, {"id": "b", "email": "bob@acme.example"}, {"id": "c", "email": "cat@acme.example"}]"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), leads).status(),
        StatusCode::OK
    );
    let secret = ("x-flowc-secret", "s3cret");
    let json = "application/json";
    let generic =
        r#"{"from": "ann@acme.example", "text": "I am interested", "id": "<g1@acme.example>"}"#;

    for (path, auth, status) in [
        (
            "/v1/webhooks/email/generic/inbound",
            ("x-flowc-secret", "wrong"),
            StatusCode::FORBIDDEN,
        ),
        (
            "/v1/webhooks/email/generic/inbound",
            ("x-other", "s3cret"),
            StatusCode::FORBIDDEN,
        ),
        (
            "/v1/webhooks/email/generic/inbound",
            ("authorization", "Basic Zmxvd2M6d3Jvbmc="),
            StatusCode::FORBIDDEN,
        ),
        (
            "/v1/webhooks/email/hotmail/inbound",
            secret,
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(
            post_as(&service, path, json, auth, generic).0,
            status,
            "{path} {auth:?}"
        );
    }
    assert_eq!(count(&db, "webhooks"), 0, "refused requests note nothing");

    // Postmark, with the secret as Basic auth's password: not interested.
    let postmark = r#"{"FromFull": {"Email": "ann@acme.example"}, "From": "ann@acme.example", "Subject": "Re: Hi", "TextBody": "Not now", "MessageID": "pm-1"}"#;
    let basic = format!("Basic {}", base64_of("flowc:s3cret"));
    let (status, answer) = post_as(
        &service,
        "/v1/webhooks/email/postmark/inbound",
        json,
        ("authorization", &basic),
        postmark,
    );
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"new": true, "leads": 1}))
    );
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(!shown.contains("goal interested"), "{shown}");

    // SendGrid's multipart Inbound Parse, an attachment left out.
    let multipart = concat!(
        "--XYZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nAnn <ANN@acme.example>\r\n",
        "--XYZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nYes, interested!\r\n",
        "--XYZ\r\nContent-Disposition: form-data; name=\"headers\"\r\n\r\nMessage-ID: <sg1@acme.example>\nSubject: Re: Hi\r\n",
        "--XYZ\r\nContent-Disposition: form-data; name=\"attachment1\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n",
        "--XYZ--\r\n",
    );
    for (new, leads) in [(true, 1), (false, 0)] {
        let (status, answer) = post_as(
            &service,
            "/v1/webhooks/email/sendgrid/inbound",
            "multipart/form-data; boundary=XYZ",
            secret,
            multipart,
        );
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"new": new, "leads": leads}))
        );
    }
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert_eq!(
        shown.matches("goal interested reached").count(),
        1,
        "{shown}"
    );

    // Mailgun's form.
    let mailgun = "sender=bob%40acme.example&subject=Re%3A+Hi&stripped-text=interested+indeed&Message-Id=%3Cmg1%40acme.example%3E";
    let (status, _) = post_as(
        &service,
        "/v1/webhooks/email/mailgun/inbound",
        "application/x-www-form-urlencoded",
        secret,
        mailgun,
    );
    assert_eq!(status, StatusCode::OK);
    let shown = text(&flowc(&db, &["timeline", "b"]).stdout);
    assert!(shown.contains("goal interested reached"), "{shown}");

    // Bounces and complaints.
    let sendgrid = r#"[{"event": "bounce", "type": "bounce", "email": "cat@acme.example", "sg_event_id": "e1"}, {"event": "open", "email": "bob@acme.example", "sg_event_id": "e2"}]"#;
    let (status, answer) = post_as(
        &service,
        "/v1/webhooks/email/sendgrid/events",
        json,
        secret,
        sendgrid,
    );
    assert_eq!((status, answer), (StatusCode::OK, json!({"changed": 1})));
    let consent = |address: &str| text(&flowc(&db, &["consent", "show", address]).stdout);
    assert!(
        consent("cat@acme.example").contains("undeliverable  sendgrid: bounce (e1)"),
        "{}",
        consent("cat@acme.example")
    );
    assert!(consent("bob@acme.example").contains("no consent changes"));
    let complaint = r#"{"RecordType": "SpamComplaint", "Email": "bob@acme.example", "ID": 77}"#;
    for changed in [1, 0] {
        let (status, answer) = post_as(
            &service,
            "/v1/webhooks/email/postmark/events",
            json,
            secret,
            complaint,
        );
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"changed": changed}))
        );
    }
    assert!(
        consent("bob@acme.example").contains("unsubscribed   postmark: complaint (77)"),
        "{}",
        consent("bob@acme.example")
    );
    let shown = text(&flowc(&db, &["timeline", "b"]).stdout);
    assert_eq!(
        shown.matches("entered").count(),
        2,
        "nurture, then sorry once: {shown}"
    );
}

/// Standard base64 of `text`, for Basic auth.
fn base64_of(text: &str) -> String {
    let output = Command::new("python3")
        .args([
            "-c",
            "import base64, sys; print(base64.b64encode(sys.argv[1].encode()).decode())",
            text,
        ])
        .output()
        .expect("python3 runs");
    self::text(&output.stdout).trim().to_owned()
}

#[test]
fn webhooks_are_refused_until_they_can_be_verified() {
    let dir = tempdir("unverifiable");
    let (db, _) = prepared(&dir);
    let service = Service::start(&db);
    let stop = inbound("SM1", "+15550100001", "STOP");
    let (status, answer) = json_of(service.twilio(&stop, Some("anything")));
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!("webhook-not-configured")
        )
    );
    let bounce = r#"{"type": "bounce", "email": "a@x.example"}"#;
    for path in [
        "/v1/webhooks/email/generic/events",
        "/v1/webhooks/email/generic/inbound",
    ] {
        let (status, answer) = post_as(
            &service,
            path,
            "application/json",
            ("x-flowc-secret", ""),
            bounce,
        );
        assert_eq!(
            (status, answer["error"]["code"].clone()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!("webhook-not-configured")
            ),
            "{path}"
        );
    }
    assert_eq!(count(&db, "consent"), 0);
}

/// A header of a raw message, unfolded.
fn header(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap_or(message);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

#[test]
fn one_click_unsubscribe_from_an_emails_header_stops_the_next_email() {
    let dir = tempdir("unsubscribe");
    let server = smtp::SmtpServer::start(&dir);
    let public = "https://flowc.test.example";
    let (db, token) = prepared_with(
        &dir,
        concat!(
            "workflow mails\n  timezone UTC\n  trigger when email is set\n  steps\n",
            "    send email\n      to lead\n      subject \"Welcome\"\n      body \"Hello. [Unsubscribe]({{ unsubscribe_url }})\"\n",
            // The next emails wait for an event the test sends after the
            // click: a wait on the fast clock would race the click.
            "workflow later\n  timezone UTC\n  event nudge\n  trigger on nudge\n  steps\n",
            "    send email\n      to lead\n      subject \"Second\"\n      body \"Again.\"\n",
            "    send email\n      to lead\n      transactional\n      subject \"Your receipt\"\n      body \"Thanks.\"\n",
        ),
    );
    let service = launch_configured(
        &db,
        &dir,
        &format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ndefault_from = \"Acme <hello@acme.example>\"\n\n[serve]\npublic_url = \"{public}\"\nsigning_key_env = \"FLOWC_TEST_SIGNING_KEY\"\n",
            server.port
        ),
        &[("FLOWC_TEST_SIGNING_KEY", "k3y-for-tests-only")],
    );
    let lead = r#"{"id": "a", "email": "Ann@X.example"}"#;
    assert_eq!(
        service.post("/v1/leads", Some(&token), lead).status(),
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.messages().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "the welcome email");
    assert_eq!(
        header(&messages[0], "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let listed = header(&messages[0], "List-Unsubscribe").expect("List-Unsubscribe");
    let link = listed
        .strip_prefix(&format!("<{public}"))
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("a link on the public URL: {listed}"));
    let consent = || text(&flowc(&db, &["consent", "show", "ann@x.example"]).stdout);
    // The body's `{{ unsubscribe_url }}` is the same link.
    let unfolded = messages[0].replace("=\r\n", "").replace("=\n", "");
    assert!(
        unfolded.contains(&format!("({public}{link})")),
        "{unfolded}"
    );

    // Opening the link asks; it does not unsubscribe (link scanners open links).
    let page = service.get(link, None);
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().unwrap();
    assert!(
        page.contains("ann@x.example") && page.contains("<form method=\"post\">"),
        "{page}"
    );
    assert!(consent().contains("no consent changes"), "{}", consent());

    // A forged token: another MAC, or another address under this one.
    let (path, mac) = link.rsplit_once('.').expect("a token");
    let flipped = if mac.starts_with('A') { "B" } else { "A" };
    let forged = format!("{path}.{flipped}{}", &mac[1..]);
    assert_eq!(service.get(&forged, None).status(), StatusCode::NOT_FOUND);
    let other = format!(
        "/v1/unsubscribe/{}.{mac}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            "bob@x.example"
        )
    );
    assert_eq!(
        service
            .post(&other, None, "List-Unsubscribe=One-Click")
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(consent().contains("no consent changes"), "{}", consent());

    // One click, as a mail client posts it; twice changes nothing more.
    for _ in 0..2 {
        let posted = Client::new()
            .post(format!("{}{link}", service.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .expect("answered");
        assert_eq!(posted.status(), StatusCode::OK);
    }
    let history = consent();
    assert_eq!(history.matches("unsubscribed").count(), 1, "{history}");
    assert!(history.contains("one-click unsubscribe"), "{history}");

    // The next email is skipped; the transactional receipt goes out,
    // without unsubscribe headers.
    let nudge = r#"{"lead": "a", "event": "nudge"}"#;
    let (status, answer) = json_of(service.post("/v1/events", Some(&token), nudge));
    assert_eq!(answer["entered"], json!(["later"]), "{status}: {answer}");
    let shown = timeline_shows(&db, "a", "Your receipt (went out");
    assert!(
        shown.contains("Second")
            && shown.contains("is unsubscribed on email (one-click unsubscribe"),
        "{shown}"
    );
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "no second email, but the receipt");
    assert!(messages[1].contains("Your receipt"), "{}", messages[1]);
    assert_eq!(header(&messages[1], "List-Unsubscribe"), None);
}

/// `/openapi.json` documents every route, and every route it documents
/// is served (none falls through to the 404 of unknown paths).
#[test]
fn the_openapi_document_lists_every_route_the_service_serves() {
    let dir = tempdir("openapi");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let (status, document) = json_of(service.get("/openapi.json", None));
    assert_eq!(status, StatusCode::OK);
    assert!(
        document["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{document}"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let paths = document["paths"].as_object().expect("paths");
    let mut documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let expected = [
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/v1/leads/{id}"),
        ("get", "/v1/unsubscribe/{token}"),
        ("post", "/v1/events"),
        ("post", "/v1/leads"),
        ("post", "/v1/unsubscribe/{token}"),
        ("post", "/v1/webhooks/email/{shape}/events"),
        ("post", "/v1/webhooks/email/{shape}/inbound"),
        ("post", "/v1/webhooks/twilio/calls"),
        ("post", "/v1/webhooks/twilio/messages"),
        ("post", "/v1/webhooks/twilio/status"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented, expected);
    assert_eq!(
        paths["/v1/leads"]["post"]["security"][0]["token"],
        json!([])
    );
    assert!(paths["/healthz"]["get"].get("security").is_none());
    for (method, path) in &documented {
        let path = path
            .replace("{id}", "nobody")
            .replace("{token}", "x.y")
            .replace("{shape}", "generic");
        let url = format!("{}{path}", service.url);
        let request = match method.as_str() {
            "get" => Client::new().get(url),
            _ => Client::new().post(url).body("{}"),
        };
        let answer = request.bearer_auth(&token).send().expect("answered");
        let status = answer.status();
        let body = answer.text().unwrap_or_default();
        assert!(
            !body.contains("\"not-found\""),
            "{method} {path}: {status} {body}"
        );
    }
}

/// Two services on one database (as two machines behind a load balancer
/// would be): leads posted to either are each enrolled once and each
/// effect is delivered once, whichever runner takes it.
#[test]
fn two_services_on_one_database_deliver_each_effect_once() {
    let dir = tempdir("two");
    let (db, token) = prepared(&dir);
    let services = [Service::start(&db), Service::start(&db)];
    let leads = 60;
    for i in 0..leads {
        let lead = format!(r#"{{"id": "l{i}", "email": "l{i}@x.example"}}"#);
        let service = &services[i % 2];
        assert_eq!(
            service.post("/v1/leads", Some(&token), lead).status(),
            StatusCode::OK
        );
        // Every third lead is posted again to the other service: an update, not a second enrollment.
        if i % 3 == 0 {
            let again = format!(r#"{{"id": "l{i}", "email": "l{i}@x.example", "score": 1}}"#);
            assert_eq!(
                services[(i + 1) % 2]
                    .post("/v1/leads", Some(&token), again)
                    .status(),
                StatusCode::OK
            );
        }
    }
    let store = Store::open(db.clone()).expect("opened");
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = || -> i64 {
        store
            .query_one("SELECT count(*) FROM deliveries", params![], |row| {
                row.get(0)
            })
            .expect("counted")
    };
    while delivered() < leads as i64 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let keys: Vec<String> = store
        .query(
            "SELECT key FROM deliveries ORDER BY key",
            params![],
            |row| row.get(0),
        )
        .expect("read");
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(
        (keys.len(), unique.len()),
        (leads, leads),
        "each lead's note once: {keys:?}"
    );
    assert_eq!(
        count(&db, "enrollments"),
        leads as i64,
        "one enrollment per lead in `welcome`"
    );
}

/// Small requests that arrive together are committed together; each is
/// still answered with what its own records did.
#[test]
fn concurrent_small_requests_each_get_their_own_answer() {
    let dir = tempdir("together");
    let (db, token) = prepared(&dir);
    let service = Service::start(&db);
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let posting: Vec<_> = (0..40)
            .map(|i| {
                let (service, token) = (&service, &token);
                scope.spawn(move || {
                    let batch = json!([
                        {"id": format!("p{i}"), "email": format!("p{i}@x.example"), "score": i},
                        {"id": format!("q{i}"), "score": "not a number"},
                    ]);
                    let (status, answer) =
                        json_of(service.post("/v1/leads", Some(token), batch.to_string()));
                    assert_eq!(status, StatusCode::OK, "{answer}");
                    answer
                })
            })
            .collect();
        posting
            .into_iter()
            .map(|thread| thread.join().expect("posted"))
            .collect()
    });
    for answer in &answers {
        assert_eq!(answer["accepted"], 1, "{answer}");
        assert_eq!(answer["enrollments_started"], 1, "{answer}");
        assert_eq!(answer["refused"][0]["index"], 1, "{answer}");
    }
    assert_eq!(count(&db, "leads"), 40);
    assert_eq!(count(&db, "enrollments"), 40);
}
