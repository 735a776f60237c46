//! The durable runtime against real database files: the same interpreter
//! as the simulation (a workflow run both ways gives the same timelines),
//! effects delivered once through the outbox, pausing and resuming, and
//! clear errors for databases flowc cannot use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use flowc::runtime::leads::{leads_from_jsonl, read_updates};
use flowc::runtime::live::{Attempt, Carrier, Clock, FieldTypes, Live, Migration, Provider};
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};
use flowc::store::{Location, Store};
use flowc::value::DateLiteral;
use std::sync::{Arc, Mutex};

#[path = "support/live.rs"]
mod support;

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn flowc(db: impl Into<Location>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .env("FLOWC_DB", db.into().arg())
        .env_remove("FLOWC_CLOCK")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("flowc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// How many deliveries the recording provider made.
fn delivered(live: &Live) -> i64 {
    live.store
        .query_one("SELECT count(*) FROM deliveries", flowc::params![], |row| {
            row.get(0)
        })
        .expect("counted")
}

/// Timeline lines `lead at kind step detail`, per lead in time order,
/// refusals after the events of their instant.
fn live_timeline(store: &Store) -> Vec<String> {
    store
        .query(
            "SELECT lead, at, kind, step, detail FROM (
                 SELECT e.lead, v.at, v.kind, v.step, v.detail, 0 AS source, v.id
                 FROM events v JOIN enrollments e ON e.id = v.enrollment
                 UNION ALL
                 SELECT lead, at, 'refused', '-', detail, 1, id FROM refusals
             ) timeline ORDER BY lead, at, source, id",
            flowc::params![],
            |row| {
                Ok(format!(
                    "{} {} {} {} {}",
                    row.get::<String>(0)?,
                    row.get::<i64>(1)?,
                    row.get::<String>(2)?,
                    row.get::<String>(3)?,
                    row.get::<String>(4)?
                ))
            },
        )
        .expect("rows")
}

/// bob's call goes to voicemail and cyd's is not answered live too, as
/// their `simulate` scripts say.
#[test]
fn a_workflow_run_live_and_simulated_gives_the_same_timelines() {
    live_equals_simulation("inbound-demo-follow-up", "2026-03-06T09:00");
}

/// Waits on a field and clock waits on days, live as simulated (with an
/// update that changes a lead's demo time later on).
#[test]
fn waits_on_fields_run_live_as_simulated() {
    live_equals_simulation("sms-reminder-sequence", "2026-03-06T09:00");
}

/// Leads with `simulate` scripts (an enrichment API that fails, a prompt's
/// answer) and updates that arrive later (re-engagement) live as
/// simulated: the recording provider answers each lead as its script says
/// (live answered every lead alike) and each update is applied at its
/// `at` (live applied them at import). The demo's example, where bob's call
/// goes to voicemail and cyd's is not answered, is the test above.
#[test]
fn scripted_leads_and_later_updates_run_live_as_simulated() {
    live_equals_simulation("enrichment-routing", "2026-03-06T09:00");
    live_equals_simulation("re-engagement", "2026-03-06T09:00");
}

/// Runs the bundled example `name` on its leads (updates at later times
/// and `simulate` scripts included) live and in simulation from `start`:
/// the timelines are equal and every effect was delivered once.
fn live_equals_simulation(name: &str, start: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source =
        std::fs::read_to_string(root.join(format!("examples/{name}.flow"))).expect("the example");
    let leads = std::fs::read_to_string(root.join(format!("examples/leads/{name}.jsonl")))
        .expect("the leads");
    same_both_ways(&source, &leads, start);
}

/// The lines of a timeline from [`same_both_ways`] for one lead: local
/// time (New York), kind, step and detail.
fn lead_lines(lines: &[String], lead: &str) -> Vec<String> {
    let zone: chrono_tz::Tz = "America/New_York".parse().expect("a zone");
    lines
        .iter()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            (parts.next()? == lead).then_some(())?;
            let millis: i64 = parts.next()?.parse().ok()?;
            let at = DateTime::from_timestamp_millis(millis)?.with_timezone(&zone);
            let rest = parts.next().unwrap_or_default();
            Some(
                format!("{} {rest}", at.format("%m-%d %H:%M"))
                    .trim_end()
                    .to_owned(),
            )
        })
        .collect()
}

/// Criteria between fields, counts, look-ahead and window tests (in the
/// lead's timezone, on the day US clocks go forward), live as simulated.
#[test]
fn new_criteria_run_live_as_simulated() {
    let source = "workflow criteria
  timezone America/New_York
  fields
    tags list of text
    seats number
    seats_used optional number
    demo_at optional datetime
  windows
    email every day 09:00-17:00 in lead timezone
  trigger when tags has at least 1 item and (seats > seats_used or demo_at is within next 7 days)
  steps
    condition
      branch now when email window is open and seats_used is between 1 and seats
        send email
          to lead
          subject \"Hi {{ first_name | default: company_name }}\"
          body \"x\"
      branch later when email window is not open
        exit \"window closed\"
      else
        exit \"other\"
    end
";
    let leads = r#"{"id": "ny", "email": "ny@x.example", "company_name": "NY Co", "timezone": "America/New_York", "tags": ["a"], "seats": 9, "seats_used": 5}
{"id": "chi", "email": "chi@x.example", "timezone": "America/Chicago", "tags": ["a"], "seats": 9, "seats_used": 5}
{"id": "soon", "email": "soon@x.example", "timezone": "America/New_York", "tags": ["a", "b"], "seats": 5, "demo_at": "2026-03-20T10:00:00-04:00"}
{"id": "none", "email": "none@x.example", "tags": [], "seats": 9, "seats_used": 5}"#;
    let lines = same_both_ways(source, leads, "2026-03-08T09:30");
    // 09:30 in New York is 08:30 in Chicago: one window open, one closed.
    assert_eq!(
        lead_lines(&lines, "ny"),
        [
            "03-08 09:30 entered -",
            "03-08 09:30 branched steps/1 now",
            "03-08 09:30 sent steps/1/branch now/1 email to ny@x.example: Hi NY Co",
            "03-08 09:30 completed end"
        ]
    );
    assert_eq!(
        lead_lines(&lines, "chi"),
        [
            "03-08 09:30 entered -",
            "03-08 09:30 branched steps/1 later",
            "03-08 09:30 exited steps/1/branch later/1 window closed"
        ]
    );
    // No seats_used to compare with: it enters when the demo comes within
    // 7 days, and `between` does not hold; once the demo has passed the
    // trigger no longer matches.
    assert_eq!(
        lead_lines(&lines, "soon"),
        [
            "03-08 09:30 refused - trigger-false: the trigger does not match",
            "03-13 10:00 entered -",
            "03-13 10:00 branched steps/1 else",
            "03-13 10:00 exited steps/1/else/1 other",
            "03-20 10:00 refused - trigger-false: the trigger does not match"
        ]
    );
    assert_eq!(
        lead_lines(&lines, "none"),
        ["03-08 09:30 refused - trigger-false: the trigger does not match"]
    );
}

/// Runs `source` on `leads` (updates at later times and `simulate`
/// scripts included) live and in simulation from `start`: the timelines
/// are equal and every delivery is made once.
fn same_both_ways(source: &str, leads: &str, start: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifact =
        flowc::compile::compile_source(source, Some(&root.join("examples"))).expect("it compiles");
    let program = &artifact.programs[0];
    // Updates at later times are applied live at their instant, and the
    // recording provider answers each lead as its `simulate` script says,
    // as the simulation does (both were left out before: live applied
    // updates at import and answered every lead alike).
    let leads = leads.to_owned();
    let start = DateLiteral::parse(start)
        .expect("a time")
        .instant(program.timezone);

    let read = leads_from_jsonl(&leads, "leads", program);
    let mut simulation = Simulation::new(program, Recorder::new(Default::default(), false), true);
    simulation.run(
        read.records.into_iter().map(Input::Lead).collect(),
        start,
        None,
    );
    let mut simulated: Vec<String> = simulation
        .timeline
        .take()
        .unwrap_or_default()
        .into_iter()
        .map(|event| {
            let step = if !event.event.kind.at_a_step() {
                "-".to_owned()
            } else {
                program.origins[event.event.pc as usize].label.clone()
            };
            format!(
                "{} {} {} {step} {}",
                simulation.leads[event.lead as usize].id,
                event.event.at.timestamp_millis(),
                event.event.kind.name(),
                event.event.detail
            )
        })
        .collect();
    simulated.sort_by_key(|line| line.split(' ').next().unwrap_or_default().to_owned());

    // A folder of its own: tests run this at once on threads of one
    // process, and a shared one was deleted under another's database.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = tempdir(&format!("both-ways-{run}"));
    let db = support::database(&dir);
    let leads_file = dir.join("leads.jsonl");
    std::fs::write(&leads_file, &leads).expect("written");
    let mut live = Live::new(
        Store::open(&db).expect("a new database"),
        Clock::Fixed(start),
    );
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    let types = program
        .slots
        .iter()
        .map(|slot| (slot.name.clone(), slot.ty))
        .collect();
    let updates = read_updates(
        &leads_file,
        &FieldTypes {
            types,
            zone: program.timezone,
        },
    )
    .expect("read");
    live.import(updates.records).expect("imported");
    let provider = Carrier::Recorded;
    support::run_to_the_end(&mut live, &provider);

    assert_eq!(live_timeline(&live.store), simulated);
    // Every attempt was delivered once (scripted failures are attempted
    // again under the same key), every effect sent was delivered, and the
    // outbox agrees.
    let (deliveries, attempts, keys, outbox): (i64, i64, i64, i64) = live
        .store
        .query_one(
            "SELECT (SELECT count(*) FROM deliveries),
                    (SELECT count(*) FROM (SELECT DISTINCT key, attempt FROM deliveries) a),
                    (SELECT count(DISTINCT key) FROM deliveries),
                    (SELECT count(*) FROM outbox WHERE status = 'done')",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("counts");
    let sent = simulated
        .iter()
        .filter(|line| line.contains(" sent "))
        .count() as i64;
    assert_eq!(deliveries, attempts, "an attempt delivered twice");
    assert_eq!(outbox, deliveries);
    assert!(keys >= sent, "{keys} effects delivered, {sent} sent");
    // Each delivery is recorded at the instant of an event of the run, on
    // the runtime's clock like the rest of the database (it was the wall
    // clock: months apart from every other instant in a demo).
    let mismatched: i64 = live
        .store
        .query_one(
            "SELECT count(*) FROM deliveries d WHERE NOT EXISTS (
                 SELECT 1 FROM events v WHERE v.at = d.at)",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("compared");
    assert_eq!(mismatched, 0, "deliveries at instants no event has");
    simulated
}

fn at(text: &str) -> DateTime<Utc> {
    DateLiteral::parse(text)
        .expect("a time")
        .instant(chrono_tz::UTC)
}

const WAITING: &str = "workflow waiting\n  timezone UTC\n  trigger when email is set\n  steps\n    wait 2 hours\n    notify slack sales\n      message \"{{ email }}\"\n";

#[test]
fn unpublishing_pauses_timers_and_republishing_resumes_them_with_the_time_left() {
    let dir = tempdir("pause");
    let db = support::database(&dir);
    let artifact = flowc::compile::compile_source(WAITING, None).expect("it compiles");
    let mut live = Live::new(
        Store::open(&db).expect("a database"),
        Clock::Fixed(at("2026-06-01T09:00Z")),
    );
    live.publish(&artifact, WAITING, Migration::None, "tests")
        .expect("published");
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n").expect("written");
    let updates = read_updates(&leads, &FieldTypes::untyped(chrono_tz::UTC)).expect("read");
    live.import(updates.records).expect("imported");

    live.clock = Clock::Fixed(at("2026-06-01T09:30Z"));
    assert_eq!(live.unpublish("waiting").expect("unpublished"), Some(1));
    live.clock = Clock::Fixed(at("2026-06-01T15:00Z"));
    let provider = Carrier::Recorded;
    assert_eq!(
        live.tick(&provider).expect("a tick"),
        0,
        "paused timers do not run"
    );
    assert_eq!(live.next_wake().expect("next"), None);
    // `flowc leads --status paused` finds it (its stored status is waiting).
    let paused = flowc(&db, &["leads", "--status", "paused"]);
    assert!(text(&paused.stdout).contains("paused"), "{paused:?}");
    assert!(text(&paused.stdout)
        .lines()
        .any(|line| line.starts_with("a ")));
    let waiting = flowc(&db, &["leads", "--status", "waiting"]);
    assert!(!text(&waiting.stdout)
        .lines()
        .any(|line| line.starts_with("a ")));

    live.publish(&artifact, WAITING, Migration::None, "tests")
        .expect("published again");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-01T16:30Z"))
    );
    live.clock = Clock::Fixed(at("2026-06-01T16:30Z"));
    while live.tick(&provider).expect("a tick") > 0 {}
    let status: String = live
        .store
        .query_one("SELECT status FROM enrollments", flowc::params![], |row| {
            row.get(0)
        })
        .expect("one enrollment");
    assert_eq!(status, "completed");
}

#[test]
fn a_changed_workflow_is_a_new_version_and_running_leads_stay_on_theirs() {
    let dir = tempdir("versions");
    let db = support::database(&dir);
    let file = dir.join("waiting.flow");
    std::fs::write(&file, WAITING).expect("written");
    let file = file.display().to_string();
    let published = flowc(&db, &["publish", &file]);
    assert_eq!(
        text(&published.stdout),
        "published waiting version 1\n",
        "{}",
        text(&published.stderr)
    );
    let again = flowc(&db, &["publish", &file]);
    assert!(
        text(&again.stdout).contains("unchanged"),
        "{}",
        text(&again.stdout)
    );
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n").expect("written");
    let imported = flowc(&db, &["leads", "import", &leads.display().to_string()]);
    assert!(
        text(&imported.stdout).contains("1 enrollments started"),
        "{}",
        text(&imported.stdout)
    );
    std::fs::write(
        dir.join("waiting.flow"),
        WAITING.replace("2 hours", "3 hours"),
    )
    .expect("written");
    let changed = flowc(&db, &["publish", &file]);
    assert_eq!(text(&changed.stdout), "published waiting version 2\n");
    let listed = flowc(&db, &["leads", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(rows[0]["version"], 1, "{rows}");
    assert_eq!(rows[0]["status"], "waiting");
    assert_eq!(
        rows[0]["step"], "steps/1",
        "reported at the wait it waits in"
    );
}

#[test]
fn publishes_of_one_workflow_at_once_each_get_a_version() {
    let dir = tempdir("publish-race");
    let db = support::database(&dir);
    let files: Vec<String> = (1..=6)
        .map(|hours| {
            let file = dir.join(format!("waiting-{hours}.flow"));
            std::fs::write(&file, WAITING.replace("2 hours", &format!("{hours} hours")))
                .expect("written");
            file.display().to_string()
        })
        .collect();
    let start = std::sync::Barrier::new(files.len());
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = files
            .iter()
            .map(|file| {
                let (db, start) = (db.clone(), &start);
                scope.spawn(move || {
                    start.wait();
                    flowc(db, &["publish", file])
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("ran"))
            .collect()
    });
    let mut versions: Vec<String> = outputs
        .iter()
        .map(|output| {
            assert!(output.status.success(), "{}", text(&output.stderr));
            text(&output.stdout)
        })
        .collect();
    versions.sort();
    let expected: Vec<String> = (1..=6)
        .map(|version| format!("published waiting version {version}\n"))
        .collect();
    assert_eq!(versions, expected);
    let store = Store::open(&db).expect("a database");
    let published: i64 = store
        .query_one(
            "SELECT count(*) FROM workflows WHERE published = 1",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("counted");
    assert_eq!(published, 1, "one version of a workflow is live");
}

#[test]
fn live_commands_report_bad_input_clearly() {
    let dir = tempdir("cli");
    let db = support::database(&dir);
    let missing_lead = flowc(&db, &["event", "call_ended", "--lead", "nobody"]);
    assert_eq!(missing_lead.status.code(), Some(2));
    assert!(text(&missing_lead.stderr).contains("no lead has the id \"nobody\""));
    let bad_data = flowc(
        &db,
        &["event", "call_ended", "--lead", "a", "--data", "[1]"],
    );
    assert_eq!(bad_data.status.code(), Some(2));
    let no_workflow = flowc(&db, &["unpublish", "nothing"]);
    assert_eq!(no_workflow.status.code(), Some(2));
    let no_stats = flowc(&db, &["stats", "nothing"]);
    assert_eq!(no_stats.status.code(), Some(2));
    let no_timeline = flowc(&db, &["timeline", "nobody"]);
    assert_eq!(no_timeline.status.code(), Some(2));
    let nothing_to_retry = flowc(&db, &["retry", "nobody"]);
    assert_eq!(nothing_to_retry.status.code(), Some(2));
    let errors = flowc(&db, &["publish", "tests/cases/E0101-unknown-field.flow"]);
    assert_eq!(errors.status.code(), Some(1));
    assert!(text(&errors.stderr).contains("E0101"));
}

#[test]
fn corrupt_foreign_and_newer_databases_are_refused_without_damage() {
    let dir = tempdir("refused");
    let garbage = dir.join("garbage.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&garbage, &bytes).expect("written");
    let output = flowc(&garbage, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("is not a flowc database, or it is damaged"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        std::fs::read(&garbage).expect("still there"),
        bytes,
        "nothing was written"
    );

    for small in [&b"x"[..], b"SQLite", b"not a database at all, but a note"] {
        let file = dir.join("small.db");
        std::fs::write(&file, small).expect("written");
        let output = flowc(&file, &["publish", "examples/inbound-demo-follow-up.flow"]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        assert!(
            text(&output.stderr).contains("is not a flowc database"),
            "{}",
            text(&output.stderr)
        );
        assert_eq!(std::fs::read(&file).expect("still there"), small);
    }

    let foreign = dir.join("foreign.db");
    let connection = rusqlite::Connection::open(&foreign).expect("a database");
    connection
        .execute_batch("CREATE TABLE invoices (id INTEGER)")
        .expect("a table");
    drop(connection);
    let output = flowc(&foreign, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("another program"),
        "{}",
        text(&output.stderr)
    );

    let newer = dir.join("newer.db");
    drop(Store::open(&newer).expect("created"));
    let connection = rusqlite::Connection::open(&newer).expect("opened");
    connection
        .pragma_update(None, "user_version", 99)
        .expect("set");
    drop(connection);
    let output = flowc(&newer, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("newer flowc (schema version 99"),
        "{}",
        text(&output.stderr)
    );
}

/// A client of the PostgreSQL database at `location`, to change it behind
/// flowc's back.
fn connect(location: &Location) -> postgres::Client {
    postgres::Client::connect(&location.arg(), postgres::NoTls).expect("connected")
}

/// On PostgreSQL, as on SQLite: a database holding another program's
/// tables, or a schema written by a newer flowc, is refused with the same
/// errors and left as it was; an unreachable server is a clear error.
#[test]
fn foreign_and_newer_postgres_databases_are_refused_without_damage() {
    let Some(server) = support::postgres_server() else {
        eprintln!("skipped: the PostgreSQL run of the suites does this");
        return;
    };
    let dir = tempdir("refused-postgres");
    let foreign = support::database(&dir);
    let mut client = connect(&foreign);
    client
        .batch_execute("CREATE TABLE invoices (id BIGINT); INSERT INTO invoices VALUES (7)")
        .expect("a table");
    let output = flowc(&foreign, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("another program"),
        "{}",
        text(&output.stderr)
    );
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .expect("counted")
        .get(0);
    assert_eq!(tables, 1, "nothing was created");

    let newer = support::database(&dir);
    drop(Store::open(&newer).expect("created"));
    connect(&newer)
        .batch_execute("UPDATE flowc_schema SET version = 99")
        .expect("set");
    let output = flowc(&newer, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("newer flowc (schema version 99"),
        "{}",
        text(&output.stderr)
    );

    let port = server.rsplit(':').next().expect("a port");
    let nowhere = Location::Postgres(server.replace(port, "1") + "/flowc");
    let output = flowc(&nowhere, &["leads"]);
    assert_eq!(output.status.code(), Some(1));
    let said = text(&output.stderr);
    assert!(
        said.contains("cannot open the database postgres://flowc@127.0.0.1:1/flowc"),
        "{said}"
    );
}

#[test]
fn a_locked_database_is_a_clear_error_and_changes_nothing() {
    let dir = tempdir("locked");
    let db = dir.join("flowc.db");
    let file = dir.join("waiting.flow");
    std::fs::write(&file, WAITING).expect("written");
    drop(Store::open(&db).expect("created"));
    let holder = rusqlite::Connection::open(&db).expect("opened");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("locked");
    let output = flowc(&db, &["publish", &file.display().to_string()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("locked"),
        "{}",
        text(&output.stderr)
    );
    holder.execute_batch("ROLLBACK").expect("unlocked");
    let versions: i64 = holder
        .query_row("SELECT count(*) FROM workflows", [], |row| row.get(0))
        .expect("counted");
    assert_eq!(versions, 0);
}

/// A database in a new directory with `source` published.
/// `flowc leads import` of `lines` (written to `DIR/leads.jsonl`), which
/// must succeed; gives what it printed.
fn import_leads(db: &Location, dir: &Path, lines: &str) -> String {
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, lines).expect("written");
    let output = flowc(db, &["leads", "import", &leads.display().to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
}

fn published(name: &str, source: &str) -> (PathBuf, Location) {
    let dir = tempdir(name);
    let db = support::database(&dir);
    let file = dir.join("workflow.flow");
    std::fs::write(&file, source).expect("written");
    let output = flowc(&db, &["publish", &file.display().to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, db)
}

#[test]
fn sigterm_finishes_the_batch_and_exits_cleanly() {
    let (_, db) = published("sigterm", WAITING);
    let mut runner = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("run")
        .env("FLOWC_DB", db.arg())
        .env_remove("FLOWC_CLOCK")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    // Its first line says it is working: the signal handler is in place.
    let mut stderr = std::io::BufReader::new(runner.stderr.take().expect("stderr"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).expect("a line");
    assert!(first.contains("working on"), "{first}");
    let killed = Command::new("kill")
        .args(["-TERM", &runner.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("the rest");
    let status = runner.wait().expect("it ends");
    assert_eq!(status.code(), Some(0), "{first}{rest}");
    assert!(rest.contains("steps of work done"), "{first}{rest}");
}

/// `flowc leads import` reads the next batch while it imports one: a file
/// of several batches, with bad records among them and a lead updated in
/// two batches, imports every good record in file order and reports every
/// bad one by line; `--strict` imports nothing from it.
#[test]
fn an_import_of_many_batches_reads_while_it_writes() {
    let (dir, db) = published("batches", WAITING);
    let count = 3 * flowc::runtime::live::BATCH + 7;
    let mut lines: Vec<String> = (0..count)
        .map(|i| format!("{{\"id\": \"l{i}\", \"email\": \"l{i}@x.example\", \"n\": {i}}}"))
        .collect();
    lines[10] = "not json".to_owned();
    lines[1_200] = "{\"email\": \"no-id@x.example\"}".to_owned();
    // The first lead again, in the last batch: the later record wins.
    lines.push("{\"id\": \"l0\", \"n\": \"last\"}".to_owned());
    let file = dir.join("many.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("written");
    let strict = flowc(
        &db,
        &["leads", "import", "--strict", &file.display().to_string()],
    );
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    let output = flowc(&db, &["leads", "import", &file.display().to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let good = count - 2 + 1;
    assert_eq!(
        text(&output.stdout).lines().next(),
        Some(
            format!(
                "imported {good} leads (2 bad records skipped); {} enrollments started",
                count - 2
            )
            .as_str()
        )
    );
    let warnings = text(&output.stderr);
    assert!(
        warnings.contains("many.jsonl:11: not valid JSON")
            && warnings.contains("many.jsonl:1201: the record has no `id`"),
        "{warnings}"
    );
    let store = Store::open(&db).expect("opened");
    let leads: i64 = store
        .query_one("SELECT count(*) FROM leads", flowc::params![], |row| {
            row.get(0)
        })
        .expect("counted");
    assert_eq!(leads as usize, count - 2);
    let first: String = store
        .query_one(
            "SELECT fields FROM leads WHERE id = 'l0'",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("the first lead");
    assert!(first.contains("\"n\":\"last\""), "{first}");
}

#[test]
fn run_once_does_what_is_due_and_exits() {
    let (dir, db) = published("once", &WAITING.replace("wait 2 hours\n", ""));
    import_leads(&db, &dir, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n");
    let once = flowc(&db, &["run", "--once"]);
    assert_eq!(once.status.code(), Some(0), "{}", text(&once.stderr));
    let timeline = flowc(&db, &["timeline", "a"]);
    let shown = text(&timeline.stdout);
    assert!(
        shown.contains("sent") && shown.contains("slack sales: a@x.example"),
        "{shown}"
    );
    assert!(shown.contains("completed"), "{shown}");
    let stats = flowc(&db, &["stats", "waiting", "--format", "json"]);
    let counts: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("JSON");
    assert_eq!(counts["steps"][1]["step"], "steps/1", "{counts}");
    assert_eq!(counts["steps"][1]["events"]["sent"], 1, "{counts}");
    assert_eq!(
        counts["endings"],
        serde_json::json!([{"category": "completed", "reason": "completed", "count": 1}])
    );
}

/// `flowc stats` tells conversions (goals) from disqualifications (exits)
/// and failures, grouped by structured reason, never by text that holds
/// lead data.
#[test]
fn stats_group_endings_and_tell_goals_from_exits() {
    let source = "workflow scoring\n  timezone UTC\n  on send failure fail\n  fields\n    booked bool\n    score number\n  trigger when email is set\n  goal booked when booked is true\n  steps\n    condition\n      branch low when score < 10\n        exit \"low score for {{ email }}\"\n      else\n        wait 1 hour\n    end\n    wait 1 day\n";
    let (dir, db) = published("endings", source);
    let import = |lines: &str| import_leads(&db, &dir, lines);
    import(concat!(
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"score\": 5}\n",
        "{\"id\": \"b\", \"email\": \"b@x.example\", \"score\": 3}\n",
        "{\"id\": \"c\", \"email\": \"c@x.example\", \"score\": 50}\n",
    ));
    import("{\"id\": \"c\", \"booked\": true}\n");
    let stats: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["stats", "scoring", "--format", "json"]).stdout)
            .expect("JSON");
    assert_eq!(
        stats["endings"],
        serde_json::json!([
            {"category": "goal", "reason": "goal booked", "count": 1},
            {"category": "exit", "reason": "exit at steps/1/branch low/1", "count": 2},
        ]),
        "{stats}"
    );
    let table = text(&flowc(&db, &["stats", "scoring"]).stdout);
    assert!(
        table.contains("how enrollments ended") && table.contains("1  goal       goal booked"),
        "{table}"
    );
}

#[test]
fn migrating_moves_running_leads_by_label_or_refuses_and_lists_them() {
    let dir = tempdir("migrate");
    let db = support::database(&dir);
    let labelled = "workflow waiting\n  timezone UTC\n  trigger when email is set\n  steps\n    label first-wait\n    wait 2 hours\n    label ping\n    notify slack sales\n      message \"{{ email }}\"\n";
    let file = dir.join("waiting.flow");
    std::fs::write(&file, labelled).expect("written");
    let file_arg = file.display().to_string();
    assert!(flowc(&db, &["publish", &file_arg]).status.success());
    import_leads(&db, &dir, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n");

    // `a` is reported at the wait it waits in.
    let listed: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["leads", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(listed[0]["step"], "first-wait", "{listed}");
    let wake = listed[0]["next_at"].clone();

    // A new version that keeps the wait and changes what follows: `a`
    // moves onto the same wait and keeps its wake-up time.
    let changed = labelled.replace("message \"{{ email }}\"", "message \"new {{ email }}\"");
    std::fs::write(&file, &changed).expect("written");
    let moved = flowc(&db, &["publish", &file_arg, "--migrate"]);
    assert_eq!(moved.status.code(), Some(0), "{}", text(&moved.stderr));
    let listed: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["leads", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(listed[0]["version"], 2, "{listed}");
    assert_eq!(listed[0]["step"], "first-wait", "{listed}");
    assert_eq!(listed[0]["next_at"], wake, "the wake-up time is kept");

    // The next version renames the wait: nothing is published, and `a` is
    // listed at it.
    let renamed = changed.replace("label first-wait", "label cool-off");
    std::fs::write(&file, &renamed).expect("written");
    let refused = flowc(&db, &["publish", &file_arg, "--migrate"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("a at first-wait"),
        "{}",
        text(&refused.stderr)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["leads", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(listed[0]["version"], 2);

    let unknown = flowc(
        &db,
        &["publish", &file_arg, "--migrate", "--force", "nowhere"],
    );
    assert!(
        text(&unknown.stderr).contains("no step labelled `nowhere`"),
        "{}",
        text(&unknown.stderr)
    );
    let forced = flowc(
        &db,
        &["publish", &file_arg, "--migrate", "--force", "cool-off"],
    );
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains("1 running enrollments moved to version 3"),
        "{}",
        text(&forced.stdout)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["leads", "--format", "json"]).stdout).expect("JSON");
    assert_eq!(listed[0]["version"], 3, "{listed}");
    assert_eq!(listed[0]["step"], "cool-off", "{listed}");
    assert_eq!(listed[0]["next_at"], wake, "the wake-up time is kept");
}

/// A provider whose answers are scripted per delivery, in order.
#[derive(Default)]
struct Scripted {
    answers: Mutex<Vec<flowc::vm::Response>>,
    seen: Mutex<Vec<(String, u32)>>,
}

impl Scripted {
    fn seen(&self) -> Vec<(String, u32)> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

impl Provider for Scripted {
    fn deliver(&self, delivery: &flowc::runtime::live::Delivery) -> Attempt {
        self.seen
            .lock()
            .expect("not poisoned")
            .push((delivery.key.clone(), delivery.attempt));
        let mut answers = self.answers.lock().expect("not poisoned");
        Attempt::Answered(if answers.is_empty() {
            flowc::vm::Response::Delivered
        } else {
            answers.remove(0)
        })
    }
}

/// A live runtime in `dir` with a workflow whose one step notifies Slack
/// published, and one lead imported, at 2026-06-01 09:00 UTC.
fn notifying(dir: &Path) -> (Location, Live, chrono::DateTime<chrono::Utc>) {
    let db = support::database(dir);
    let source = "workflow notifying\n  timezone UTC\n  on send failure fail\n  trigger when email is set\n  steps\n    notify slack sales\n      message \"{{ email }}\"\n";
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let start = at("2026-06-01T09:00Z");
    let mut live = Live::new(Store::open(&db).expect("a database"), Clock::Fixed(start));
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n").expect("written");
    live.import(
        read_updates(&leads, &FieldTypes::untyped(chrono_tz::UTC))
            .expect("read")
            .records,
    )
    .expect("imported");
    (db, live, start)
}

/// A runner that died holding an effect leaves a claim that lapses: the
/// next runner takes it over with a lease of its own (whether it sends the
/// effect on a delivery thread or records it in the claiming transaction),
/// carries it out once more under its key, and `taken_over` counts it. An
/// effect nobody held is recorded in the transaction that claims it, with
/// no lease written and no claim counted.
#[test]
fn a_lapsed_claim_is_taken_over_and_counted() {
    for (name, lapsed, recorded) in [
        ("lapsed-sent", true, false),
        ("lapsed-recorded", true, true),
        ("free-recorded", false, true),
    ] {
        let dir = tempdir(name);
        let (_, mut live, _) = notifying(&dir);
        if lapsed {
            // Its lease ran out a second ago, on the real clock.
            let expired = Utc::now().timestamp_millis() - 1_000;
            live.store
                .execute(
                    "UPDATE outbox SET owner = 'dead', lease = ?1, claims = 1",
                    flowc::params![expired],
                )
                .expect("held by a dead runner");
        }
        let scripted = Arc::new(Scripted::default());
        let carrier = if recorded {
            Carrier::Recorded
        } else {
            Carrier::Sent(scripted.clone())
        };
        support::run_to_the_end(&mut live, &carrier);
        let count = |sql: &str| -> i64 {
            live.store
                .query_one(sql, flowc::params![], |row| row.get(0))
                .expect("counted")
        };
        let carried = if recorded {
            count("SELECT count(*) FROM deliveries")
        } else {
            scripted.seen().len() as i64
        };
        assert_eq!(carried, 1, "{name}: carried out once by this runner");
        let row: (String, i64, Option<String>, Option<i64>) = live
            .store
            .query_one(
                "SELECT status, claims, owner, lease FROM outbox",
                flowc::params![],
                |row| row.columns(),
            )
            .expect("the effect");
        let claims = if lapsed { 2 } else { 0 };
        assert_eq!(row, ("done".to_owned(), claims, None, None), "{name}");
        let taken = flowc::runtime::inspect::taken_over(&live.store, "notifying").expect("counted");
        assert_eq!(taken, u64::from(lapsed), "{name}");
    }
}

/// When the step held after its first attempt failed, since the start.
fn held_for(live: &Live, start: chrono::DateTime<chrono::Utc>) -> i64 {
    let released: i64 = live
        .store
        .query_one(
            "SELECT at FROM events WHERE kind = 'released'",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("released");
    released - start.timestamp_millis()
}

/// Retry times come from the effect's key and attempt, never from chance
/// or the wall clock: two runs of the same failure wait exactly as long
/// (a simulation of it waits the same, by the same function).
#[test]
fn a_failed_delivery_waits_the_same_in_every_run() {
    use flowc::vm::Response;
    let delays: Vec<i64> = ["replay-1", "replay-2"]
        .iter()
        .map(|name| {
            let dir = tempdir(name);
            let (_, mut live, start) = notifying(&dir);
            let scripted = Arc::new(Scripted {
                answers: Mutex::new(vec![Response::Transient("timed out".to_owned())]),
                ..Scripted::default()
            });
            let provider = Carrier::Sent(scripted);
            support::run_to_the_end(&mut live, &provider);
            held_for(&live, start)
        })
        .collect();
    assert!((30_000..=60_000).contains(&delays[0]), "{delays:?}");
    assert_eq!(delays[0], delays[1]);
}

#[test]
fn transient_failures_back_off_and_permanent_ones_fail_until_retried() {
    use flowc::vm::Response;
    let dir = tempdir("failures");
    let (db, mut live, start) = notifying(&dir);

    let scripted = Arc::new(Scripted {
        answers: Mutex::new(vec![
            Response::Transient("timed out".to_owned()),
            Response::Permanent("webhook gone".to_owned()),
        ]),
        ..Scripted::default()
    });
    let provider = Carrier::Sent(scripted.clone());
    support::run_to_the_end(&mut live, &provider);
    let key = "notifying@".to_owned();
    assert_eq!(scripted.seen().len(), 2);
    let seen = scripted.seen();
    assert!(seen
        .iter()
        .all(|(seen, _)| seen.starts_with(&key) && seen == &scripted.seen()[0].0));
    assert_eq!(
        seen.iter().map(|(_, attempt)| *attempt).collect::<Vec<_>>(),
        [1, 2]
    );
    let kinds: Vec<String> = live_timeline(&live.store)
        .iter()
        .map(|line| line.split(' ').nth(2).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["entered", "held", "released", "failed"],
        "{:?}",
        live_timeline(&live.store)
    );
    let delay = held_for(&live, start);
    assert!(
        (30_000..=60_000).contains(&delay),
        "the first retry comes half a minute to a minute later, not {delay} ms"
    );

    let retried = flowc(&db, &["retry", "a"]);
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    live.clock = Clock::Fixed(chrono::Utc::now() + chrono::Duration::seconds(1));
    support::run_to_the_end(&mut live, &provider);
    assert_eq!(scripted.seen().len(), 3);
    assert_eq!(
        scripted.seen()[2],
        (scripted.seen()[0].0.clone(), 3),
        "a retried step is the same effect, under its key, as its third attempt"
    );
    let status: String = live
        .store
        .query_one("SELECT status FROM enrollments", flowc::params![], |row| {
            row.get(0)
        })
        .expect("one enrollment");
    assert_eq!(status, "completed");
}

#[test]
fn a_full_database_is_a_clear_error_and_leaves_no_partial_batch() {
    let dir = tempdir("full");
    let db = dir.join("flowc.db");
    let artifact = flowc::compile::compile_source(WAITING, None).expect("it compiles");
    let mut live = Live::new(
        Store::open(&db).expect("a database"),
        Clock::Fixed(at("2026-06-01T09:00Z")),
    );
    live.publish(&artifact, WAITING, Migration::None, "tests")
        .expect("published");
    let pages: i64 = live
        .store
        .query_one("PRAGMA page_count", flowc::params![], |row| row.get(0))
        .expect("counted");
    // SQLite reports a full disk and a database at its size limit alike.
    live.store
        .query_one(
            &format!("PRAGMA max_page_count = {}", pages + 2),
            flowc::params![],
            |row| row.get::<i64>(0),
        )
        .expect("limited");
    let leads = dir.join("leads.jsonl");
    let text: String = (0..300)
        .map(|i| {
            format!(
                "{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\", \"note\": \"{}\"}}\n",
                "x".repeat(200)
            )
        })
        .collect();
    std::fs::write(&leads, text).expect("written");
    let updates = read_updates(&leads, &FieldTypes::untyped(chrono_tz::UTC)).expect("read");
    let error = live
        .import(updates.records)
        .expect_err("the database is full");
    assert!(
        error
            .to_string()
            .contains("the disk is full; nothing was imported"),
        "{error}"
    );
    let (leads, enrollments): (i64, i64) = live
        .store
        .query_one(
            "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM enrollments)",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("counted");
    assert_eq!(
        (leads, enrollments),
        (0, 0),
        "the failed batch left nothing behind"
    );
}

/// Imports one JSON Lines record at `now` and runs what is due.
fn import_at(live: &mut Live, dir: &Path, now: &str, record: &str) {
    live.clock = Clock::Fixed(at(now));
    let file = dir.join("update.jsonl");
    std::fs::write(&file, format!("{record}\n")).expect("written");
    let updates = read_updates(&file, &FieldTypes::untyped(chrono_tz::UTC)).expect("read");
    live.import(updates.records).expect("imported");
    let provider = Carrier::Recorded;
    while live.tick(&provider).expect("a tick") > 0 {}
}

#[test]
fn live_re_entry_needs_the_trigger_to_go_from_false_to_true() {
    let dir = tempdir("re-entry");
    let source = "workflow hourly\n  timezone UTC\n  re-entry always\n  trigger when email is set\n  steps\n    notify slack sales\n      message \"{{ email }}\"\n";
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let mut live = Live::new(
        Store::open(support::database(&dir)).expect("a database"),
        Clock::Fixed(at("2026-06-01T09:00Z")),
    );
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    let entered = |live: &Live| -> i64 {
        live.store
            .query_one(
                "SELECT count(*) FROM enrollments",
                flowc::params![],
                |row| row.get(0),
            )
            .expect("a count")
    };
    import_at(
        &mut live,
        &dir,
        "2026-06-01T09:00Z",
        r#"{"id": "a", "email": "a@x.example"}"#,
    );
    assert_eq!(entered(&live), 1);
    // An hourly CRM sync sending the same record, or only the id.
    import_at(
        &mut live,
        &dir,
        "2026-06-01T10:00Z",
        r#"{"id": "a", "email": "a@x.example"}"#,
    );
    import_at(&mut live, &dir, "2026-06-01T11:00Z", r#"{"id": "a"}"#);
    import_at(
        &mut live,
        &dir,
        "2026-06-01T12:00Z",
        r#"{"id": "a", "first_name": "A"}"#,
    );
    assert_eq!(entered(&live), 1, "updates that leave the trigger true");
    import_at(
        &mut live,
        &dir,
        "2026-06-01T13:00Z",
        r#"{"id": "a", "email": null}"#,
    );
    import_at(
        &mut live,
        &dir,
        "2026-06-01T14:00Z",
        r#"{"id": "a", "email": "a@x.example"}"#,
    );
    assert_eq!(entered(&live), 2, "the trigger went from false to true");
}

#[test]
fn a_hostile_flowc_clock_is_a_clear_error_not_a_panic() {
    let dir = tempdir("clock");
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", "--once"])
        .env("FLOWC_DB", support::database(&dir).arg())
        .env("FLOWC_CLOCK", "2026-06-01T09:00:00Z@0*-1e308")
        .output()
        .expect("flowc runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FLOWC_CLOCK"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A live runtime on `db` at `start` (a fixed clock) with `source`
/// published, and the artifact published.
fn published_at(db: &Location, source: &str, start: &str) -> (Live, flowc::bytecode::Artifact) {
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let mut live = Live::new(
        Store::open(db).expect("a database"),
        Clock::Fixed(at(start)),
    );
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    (live, artifact)
}

/// A live runtime on a fresh database with [`WAITING`] published.
fn waiting_runtime(db: &Location) -> Live {
    published_at(db, WAITING, "2026-06-01T09:00Z").0
}

fn page_count(live: &Live) -> i64 {
    live.store
        .query_one("PRAGMA page_count", flowc::params![], |row| row.get(0))
        .expect("counted")
}

#[test]
fn an_import_that_fills_the_disk_part_way_says_exactly_what_was_committed() {
    let dir = tempdir("full-part-way");
    let leads = dir.join("leads.jsonl");
    let text: String = (0..1500)
        .map(|i| {
            format!(
                "{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\", \"note\": \"{}\"}}\n",
                "x".repeat(200)
            )
        })
        .collect();
    std::fs::write(&leads, text).expect("written");
    let updates = read_updates(&leads, &FieldTypes::untyped(chrono_tz::UTC)).expect("read");
    let batch = flowc::runtime::live::BATCH;

    // How many pages one batch takes, measured on a scratch database.
    let mut scratch = waiting_runtime(&Location::from(dir.join("scratch.db")));
    let empty = page_count(&scratch);
    scratch
        .import(updates.records[..batch].to_vec())
        .expect("imported");
    let per_batch = page_count(&scratch) - empty;

    let mut live = waiting_runtime(&Location::from(dir.join("flowc.db")));
    let limit = page_count(&live) + per_batch * 3 / 2;
    live.store
        .query_one(
            &format!("PRAGMA max_page_count = {}", limit),
            flowc::params![],
            |row| row.get::<i64>(0),
        )
        .expect("limited");
    let error = live
        .import(updates.records.clone())
        .expect_err("the database fills up");
    assert_eq!(error.imported, batch, "{error}");
    let stored: i64 = live
        .store
        .query_one("SELECT count(*) FROM leads", flowc::params![], |row| {
            row.get(0)
        })
        .expect("counted");
    assert_eq!(
        stored as usize, error.imported,
        "what it says is what is there"
    );
    let said = error.to_string();
    assert!(
        said.contains(&format!("after {batch} of 1500 leads were imported"))
            && said.contains("importing the same file again completes it"),
        "{said}"
    );

    live.store
        .query_one(
            &format!("PRAGMA max_page_count = {}", 1_000_000),
            flowc::params![],
            |row| row.get::<i64>(0),
        )
        .expect("room again");
    live.import(updates.records)
        .expect("the re-run completes it");
    let (stored, enrollments): (i64, i64) = live
        .store
        .query_one(
            "SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM enrollments)",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("counted");
    assert_eq!(
        (stored, enrollments),
        (1500, 1500),
        "each lead enrolled once"
    );
}

#[test]
fn a_field_typed_differently_by_two_live_workflows_is_refused_at_publish() {
    let dir = tempdir("field-conflict");
    let db = support::database(&dir);
    let write = |name: &str, ty: &str| {
        let path = dir.join(format!("{name}.flow"));
        std::fs::write(
            &path,
            format!("workflow {name}\n  fields\n    score {ty}\n  trigger when score is set\n  steps\n    wait 1 hour\n"),
        )
        .expect("written");
        path.display().to_string()
    };
    let scoring = write("scoring", "number");
    let tagging = write("tagging", "text");
    assert_eq!(flowc(&db, &["publish", &scoring]).status.code(), Some(0));
    let refused = flowc(&db, &["publish", &tagging]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "field `score` is text in workflow tagging but a number in live workflow scoring; nothing was published"
        ),
        "{stderr}"
    );
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, "{\"id\": \"a\", \"score\": 42}\n").expect("written");
    let imported = flowc(&db, &["leads", "import", &leads.display().to_string()]);
    assert!(
        text(&imported.stdout).contains("1 enrollments started"),
        "{}{}",
        text(&imported.stdout),
        text(&imported.stderr)
    );
    // The same field with the same type in another workflow is fine.
    let ranking = write("ranking", "number");
    assert_eq!(flowc(&db, &["publish", &ranking]).status.code(), Some(0));
}

#[test]
fn an_effect_delivered_after_a_goal_ended_its_enrollment_is_on_the_timeline() {
    let dir = tempdir("late-delivery");
    let db = support::database(&dir);
    let source = "workflow welcome\n  timezone UTC\n  fields\n    booked bool\n  trigger when email is set\n  goal booked when booked is true\n  steps\n    notify slack sales\n      message \"welcome {{ email }}\"\n    wait 1 day\n";
    let (mut live, artifact) = published_at(&db, source, "2026-06-01T09:00Z");
    let import = |live: &mut Live, record: &str| {
        let file = dir.join("update.jsonl");
        std::fs::write(&file, format!("{record}\n")).expect("written");
        let types = artifact.programs[0]
            .slots
            .iter()
            .map(|slot| (slot.name.clone(), slot.ty))
            .collect();
        let updates = read_updates(
            &file,
            &FieldTypes {
                types,
                zone: chrono_tz::UTC,
            },
        )
        .expect("read");
        live.import(updates.records).expect("imported");
    };
    // The notification is recorded; the goal is met before it is delivered.
    import(
        &mut live,
        r#"{"id": "dee", "email": "dee@x.example", "booked": false}"#,
    );
    import(&mut live, r#"{"id": "dee", "booked": true}"#);
    let provider = Carrier::Recorded;
    while live.tick(&provider).expect("a tick") > 0 {}
    let timeline = live_timeline(&live.store);
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|line| line.split(' ').nth(2).unwrap_or_default())
        .collect();
    // The booked update that ended it also turned the lead away from
    // entering again (at the same instant, listed after the events).
    assert_eq!(
        kinds,
        ["entered", "exited", "sent", "refused"],
        "{timeline:?}"
    );
    assert!(
        timeline[2].contains("welcome dee@x.example (delivered after the enrollment ended)"),
        "{timeline:?}"
    );
}

#[test]
fn a_clock_wait_paused_by_unpublish_still_ends_at_its_clock_time() {
    let dir = tempdir("pause-clock");
    let db = support::database(&dir);
    let source = "workflow noon\n  timezone UTC\n  trigger when email is set\n  steps\n    wait until 12:00\n    notify slack sales\n      message \"{{ email }}\"\n";
    let (mut live, artifact) = published_at(&db, source, "2026-06-01T08:00Z");
    import_at(
        &mut live,
        &dir,
        "2026-06-01T08:00Z",
        r#"{"id": "a", "email": "a@x.example"}"#,
    );
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-01T12:00Z"))
    );
    live.clock = Clock::Fixed(at("2026-06-01T09:00Z"));
    live.unpublish("noon").expect("unpublished");
    live.clock = Clock::Fixed(at("2026-06-01T11:00Z"));
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published again");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-01T12:00Z")),
        "not 14:00 (the 3 hours it had left)"
    );
    // Republished after noon: tomorrow at noon, as a new `wait until`.
    live.clock = Clock::Fixed(at("2026-06-01T11:30Z"));
    live.unpublish("noon").expect("unpublished");
    live.clock = Clock::Fixed(at("2026-06-01T13:00Z"));
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published again");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-02T12:00Z"))
    );
}

#[test]
fn a_window_hold_paused_by_unpublish_is_tested_again_on_resume() {
    let dir = tempdir("pause-hold");
    let db = support::database(&dir);
    let source = "workflow weekday\n  timezone UTC\n  trigger when email is set\n  windows\n    email mon-fri 09:00-17:00\n  steps\n    send email\n      to lead\n      subject \"Hi\"\n      body \"Hello\"\n";
    let (mut live, artifact) = published_at(&db, source, "2026-06-06T10:00Z");
    import_at(
        &mut live,
        &dir,
        "2026-06-06T10:00Z",
        r#"{"id": "a", "email": "a@x.example"}"#,
    );
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-08T09:00Z"))
    );
    live.unpublish("weekday").expect("unpublished");
    live.clock = Clock::Fixed(at("2026-06-08T10:00Z")); // Monday, open
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published again");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-08T10:00Z")),
        "the window is open now: not the 47 hours the hold had left"
    );
}

#[test]
fn live_time_relative_triggers_fire_when_they_flip_without_an_update() {
    let dir = tempdir("flip");
    let source = "workflow wake-up\n  timezone UTC\n  fields\n    last_activity_at datetime\n  trigger when last_activity_at is older than 90 days\n  steps\n    notify slack sales\n      message \"{{ last_activity_at }}\"\n";
    let leads = "{\"id\": \"quiet\", \"last_activity_at\": \"2026-03-01T10:00:00Z\"}\n{\"id\": \"fresh\", \"last_activity_at\": \"2026-03-30T10:00:00Z\"}\n";
    let mut live = support::started(&dir, source, leads, "2026-03-31T00:00Z");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-05-30T10:00:01Z")),
        "the runner wakes when the first trigger flips"
    );
    let provider = Carrier::Recorded;
    support::run_to_the_end(&mut live, &provider);
    let entered: Vec<(String, i64)> = live
        .store
        .query(
            "SELECT lead, entered FROM enrollments ORDER BY entered",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("rows");
    assert_eq!(
        entered,
        [
            (
                "quiet".to_owned(),
                at("2026-05-30T10:00:01Z").timestamp_millis()
            ),
            (
                "fresh".to_owned(),
                at("2026-06-28T10:00:01Z").timestamp_millis()
            ),
        ]
    );
    assert_eq!(
        live.next_wake().expect("next"),
        None,
        "nothing left to flip"
    );
}

#[test]
fn flowc_event_says_why_a_lead_did_not_enter() {
    let dir = tempdir("event-why");
    let db = support::database(&dir);
    let file = dir.join("calls.flow");
    std::fs::write(
        &file,
        "workflow calls\n  timezone UTC\n  re-entry never\n  event call_ended\n    outcome text\n  trigger on call_ended when event.outcome is \"answered\"\n  steps\n    wait 1 hour\n",
    )
    .expect("written");
    assert!(flowc(&db, &["publish", &file.display().to_string()])
        .status
        .success());
    import_leads(&db, &dir, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n");
    let event = |outcome: &str, name: &str| {
        let data = format!("{{\"outcome\": \"{outcome}\"}}");
        text(&flowc(&db, &["event", name, "--lead", "a", "--data", &data]).stdout)
    };
    let voicemail = event("voicemail", "call_ended");
    assert!(
        voicemail.contains("0 enrollments started")
            && voicemail.contains("calls: not entered: the trigger does not match"),
        "{voicemail}"
    );
    let answered = event("answered", "call_ended");
    assert!(answered.contains("calls: entered"), "{answered}");
    let again = event("answered", "call_ended");
    assert!(
        again.contains("calls: not entered: an enrollment of the lead is still running"),
        "{again}"
    );
    // An event no published workflow hears is refused, with the closest
    // one heard, and nothing is recorded (it once said "0 enrollments
    // started" as if all was well).
    for (name, hint) in [
        ("chat_left", "the events they wait for: call_ended"),
        ("call_endd", "did you mean `call_ended`?"),
    ] {
        let refused = flowc(&db, &["event", name, "--lead", "a"]);
        let said = text(&refused.stderr);
        assert_eq!(refused.status.code(), Some(2), "{said}");
        assert!(
            said.contains(&format!("no published workflow is triggered by `{name}`"))
                && said.contains("nothing was recorded")
                && said.contains(hint),
            "{said}"
        );
        let timeline = text(&flowc(&db, &["timeline", "a"]).stdout);
        assert!(!timeline.contains(name), "{timeline}");
    }
}

/// A goal on an event ends the lead's enrollment when the event happens
/// and meets its criteria, in every version's workflow that waits for it;
/// a built-in event triggers like a declared one; a payload that does not
/// fit the built-in fields is refused and changes nothing.
#[test]
fn a_goal_on_an_event_ends_the_enrollment_when_the_event_meets_it() {
    let (dir, db) = published(
        "goal-on-event",
        "workflow nurture\n  timezone UTC\n  trigger when email is set\n  goal interested on email_replied when event.text contains \"interested\"\n  steps\n    wait 2 days\n    send email\n      to lead\n      subject \"Hi\"\n      body \"hello\"\n",
    );
    let replies = dir.join("replies.flow");
    std::fs::write(
        &replies,
        "workflow replies\n  timezone UTC\n  trigger on text_replied when event.text contains \"call me\"\n  steps\n    wait 1 hour\n",
    )
    .expect("written");
    assert!(flowc(&db, &["publish", &replies.display().to_string()])
        .status
        .success());
    import_leads(&db, &dir, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n");
    let event =
        |name: &str, data: &str| flowc(&db, &["event", name, "--lead", "a", "--data", data]);
    let no = text(&event("email_replied", "{\"text\": \"not now\"}").stdout);
    assert!(
        no.contains("0 enrollments started, 0 ended by a goal"),
        "{no}"
    );
    let bad = event("email_replied", "{\"text\": 5}");
    assert!(
        !bad.status.success() && text(&bad.stderr).contains("event field `text` should be text"),
        "{}",
        text(&bad.stderr)
    );
    let yes = text(
        &event(
            "email_replied",
            "{\"text\": \"I am interested!\", \"subject\": \"Re: Hi\"}",
        )
        .stdout,
    );
    assert!(
        yes.contains("0 enrollments started, 1 ended by a goal")
            && yes.contains("nurture: goal interested reached"),
        "{yes}"
    );
    let timeline = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(timeline.contains("goal interested reached"), "{timeline}");
    let again = text(&event("email_replied", "{\"text\": \"interested\"}").stdout);
    assert!(
        again.contains("0 ended by a goal"),
        "nothing left to end: {again}"
    );
    let texted = text(
        &event(
            "text_replied",
            "{\"text\": \"please call me\", \"from\": \"+15550100\"}",
        )
        .stdout,
    );
    assert!(texted.contains("replies: entered"), "{texted}");
}

/// An import that starts nothing says why, and each lead's timeline keeps
/// the refusal: the trigger false, still active, the trigger unchanged. A
/// lead turned away again for the same reason is recorded once.
#[test]
fn imports_and_timelines_say_why_a_lead_did_not_enter() {
    let (dir, db) = published("why", WAITING);
    let import = |lines: &str| import_leads(&db, &dir, lines);
    let first = import("{\"id\": \"a\", \"email\": \"a@x.example\"}\n{\"id\": \"b\"}\n");
    assert!(
        first.contains("1 enrollments started") && first.contains("not entered: 1 trigger-false"),
        "{first}"
    );
    let again =
        import("{\"id\": \"a\", \"first_name\": \"A\"}\n{\"id\": \"b\", \"first_name\": \"B\"}\n");
    assert!(
        again.contains("0 enrollments started")
            && again.contains("not entered: 1 already-active, 1 trigger-false"),
        "{again}"
    );
    let refusals = |lead: &str| -> Vec<String> {
        text(&flowc(&db, &["timeline", lead]).stdout)
            .lines()
            .filter(|line| line.contains(" refused "))
            .map(|line| {
                line.split_whitespace()
                    .skip(4)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(
        refusals("b"),
        ["- trigger-false: the trigger does not match"],
        "recorded once"
    );
    assert_eq!(
        refusals("a"),
        ["- already-active: an enrollment of the lead is still running"]
    );
    let json: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["timeline", "b", "--format", "json"]).stdout)
            .expect("JSON");
    assert_eq!(json["events"][0]["kind"], "refused", "{json}");
    assert_eq!(json["events"][0]["enrollment"], 0, "{json}");
}

/// `flowc timeline LEAD` shows each instant in the account's time and the
/// lead's, what comes next, and a paused wait with the time it has left.
#[test]
fn timelines_show_lead_local_time_and_what_comes_next() {
    let (dir, db) = published("local", WAITING);
    import_leads(
        &db,
        &dir,
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"timezone\": \"Asia/Kolkata\"}\n",
    );
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    let entered = shown
        .lines()
        .find(|line| line.contains(" entered "))
        .unwrap_or_default();
    assert!(
        entered.contains("+00:00 (lead ") && entered.contains("+05:30)"),
        "{shown}"
    );
    let next = shown
        .lines()
        .find(|line| line.trim_start().starts_with("next: steps/1 at "))
        .unwrap_or_default();
    assert!(
        next.contains("+05:30)") && next.contains("(waiting in waiting)"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["timeline", "a", "--format", "json"]).stdout)
            .expect("JSON");
    assert!(
        json["upcoming"][0]["at_lead"]
            .as_str()
            .is_some_and(|at| at.ends_with("+05:30")),
        "{json}"
    );
    assert!(flowc(&db, &["unpublish", "waiting"]).status.success());
    let paused = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(
        paused.contains(
            "next: steps/1 paused with 1h 59m left, from when waiting is published again"
        ) || paused
            .contains("next: steps/1 paused with 2h left, from when waiting is published again"),
        "{paused}"
    );
}

/// A lead reaches an email step at 17:59:50 on a Friday, inside a window
/// that closes at 18:00; the runner comes 15 s later. The window is asked
/// again when the email is to go out: it is held until Monday 08:00 and
/// goes out then, and the timeline says so.
#[test]
fn a_window_that_closed_before_delivery_holds_the_effect_until_it_opens() {
    let dir = tempdir("late-window");
    let source = "workflow office\n  timezone UTC\n  windows\n    email mon-fri 08:00-18:00\n  trigger when email is set\n  steps\n    send email\n      to lead\n      subject \"Hi\"\n      body \"Hello\"\n";
    let leads = "{\"id\": \"a\", \"email\": \"a@x.example\"}\n";
    let mut live = support::started(&dir, source, leads, "2026-06-05T17:59:50Z");

    let provider = Carrier::Recorded;
    live.clock = Clock::Fixed(at("2026-06-05T18:00:05Z"));
    support::settle(&mut live, &provider);
    assert_eq!(
        delivered(&live),
        0,
        "nothing goes out after the window closed"
    );
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-08T08:00Z")),
        "held until Monday 08:00"
    );

    support::run_to_the_end(&mut live, &provider);
    assert_eq!(delivered(&live), 1, "it goes out once, on Monday");
    let timeline = live_timeline(&live.store);
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|line| line.split(' ').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        ["entered", "held", "released", "sent", "completed"],
        "{timeline:#?}"
    );
    let monday = at("2026-06-08T08:00Z").timestamp_millis();
    assert!(
        timeline[3].starts_with(&format!("a {monday} sent")),
        "{timeline:#?}"
    );
    assert!(
        timeline[1].contains("email window closed when it was to go out (the step was reached at 2026-06-05T17:59:50+00:00); release at 2026-06-08T08:00:00+00:00"),
        "{timeline:#?}"
    );
}

/// A runner that comes five minutes after a step was reached keeps the
/// schedule (the enrollment runs on from the step's instant) and the
/// timeline says when the effect really went out.
#[test]
fn a_late_delivery_says_when_it_went_out() {
    let dir = tempdir("late-delivery-time");
    let source = "workflow greeting\n  timezone UTC\n  trigger when email is set\n  steps\n    notify slack sales\n      message \"{{ email }}\"\n";
    let leads = "{\"id\": \"a\", \"email\": \"a@x.example\"}\n";
    let mut live = support::started(&dir, source, leads, "2026-06-05T09:00Z");
    live.clock = Clock::Fixed(at("2026-06-05T09:05Z"));
    let provider = Carrier::Recorded;
    support::run_to_the_end(&mut live, &provider);
    let timeline = live_timeline(&live.store);
    let nine = at("2026-06-05T09:00Z").timestamp_millis();
    assert_eq!(
        timeline[1],
        format!("a {nine} sent steps/1 slack sales: a@x.example (went out at 2026-06-05T09:05:00+00:00)"),
        "{timeline:#?}"
    );
}

/// With the recording carrier, an effect the runner's round reaches (here
/// the text right after the email it confirmed) is recorded and answered
/// in that round, as its lead's `simulate` script says: the outbox row is
/// written once, done, and the enrollment runs on without waiting for
/// another round to claim and confirm it.
#[test]
fn a_recorded_effect_a_round_reaches_is_answered_in_that_round() {
    let dir = tempdir("answered-where-reached");
    let source = "workflow both\n  timezone UTC\n  trigger when email is set\n  steps\n    send email\n      to lead\n      subject \"Hi\"\n      body \"Hello\"\n    send text\n      body \"Hi again\"\n";
    let leads = "{\"id\": \"a\", \"email\": \"a@x.example\", \"phone_number\": \"+15550100\"}\n\
                 {\"id\": \"b\", \"email\": \"b@x.example\", \"phone_number\": \"+15550101\", \"simulate\": {\"text\": \"rejected\"}}\n";
    let mut live = support::started(&dir, source, leads, "2026-06-05T09:00Z");
    let provider = Carrier::Recorded;
    assert!(live.tick(&provider).expect("a round") > 0);
    let outbox: Vec<(String, String, String)> = live
        .store
        .query(
            "SELECT e.lead, o.kind, o.status FROM outbox o JOIN enrollments e ON e.id = o.enrollment ORDER BY e.lead, o.id",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("rows");
    let row = |lead: &str, kind: &str| (lead.to_owned(), kind.to_owned(), "done".to_owned());
    assert_eq!(
        outbox,
        [
            row("a", "email"),
            row("a", "text"),
            row("b", "email"),
            row("b", "text")
        ],
        "both effects of each lead done after one round"
    );
    assert_eq!(delivered(&live), 4);
    let timeline = live_timeline(&live.store);
    let kinds = |lead: &str| -> Vec<String> {
        timeline
            .iter()
            .filter(|line| line.starts_with(&format!("{lead} ")))
            .map(|line| line.split(' ').nth(2).unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(kinds("a"), ["entered", "sent", "sent", "completed"]);
    assert_eq!(
        kinds("b"),
        ["entered", "sent", "undelivered", "completed"],
        "b's script rejects its text: {timeline:#?}"
    );
    assert_eq!(live.tick(&provider).expect("a round"), 0, "nothing left");
}

/// A runner that comes five minutes after an enrollment woke up reaches
/// its effect at the instant it was due: the effect goes out then, and
/// its timeline event says when.
#[test]
fn an_effect_a_late_runner_reaches_says_when_it_went_out() {
    let dir = tempdir("late-reached");
    let mut live = support::started(
        &dir,
        WAITING,
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
        "2026-06-05T09:00Z",
    );
    live.clock = Clock::Fixed(at("2026-06-05T11:05Z"));
    support::settle(&mut live, &Carrier::Recorded);
    let timeline = live_timeline(&live.store);
    let eleven = at("2026-06-05T11:00Z").timestamp_millis();
    assert_eq!(
        timeline[2],
        format!("a {eleven} sent steps/2 slack sales: a@x.example (went out at 2026-06-05T11:05:00+00:00)"),
        "{timeline:#?}"
    );
}

/// An email a runner reaches just before its window closes, and would
/// carry out just after, is held until the window opens again.
#[test]
fn an_effect_a_round_reaches_as_its_window_closes_is_held() {
    let dir = tempdir("reached-window");
    let source = "workflow office\n  timezone UTC\n  windows\n    email mon-fri 08:00-18:00\n  trigger when email is set\n  steps\n    wait 2 hours\n    send email\n      to lead\n      subject \"Hi\"\n      body \"Hello\"\n";
    let leads = "{\"id\": \"a\", \"email\": \"a@x.example\"}\n";
    let mut live = support::started(&dir, source, leads, "2026-06-05T15:59:50Z");
    live.clock = Clock::Fixed(at("2026-06-05T18:00:05Z"));
    support::settle(&mut live, &Carrier::Recorded);
    assert_eq!(delivered(&live), 0, "nothing goes out after 18:00");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-06-08T08:00Z")),
        "held until Monday 08:00"
    );
}

/// Control characters from lead data (an escape sequence that would clear
/// the terminal) are shown escaped by `flowc timeline`.
#[test]
fn the_timeline_shows_control_characters_from_lead_data_escaped() {
    let (dir, db) = published("escaped-timeline", &WAITING.replace("wait 2 hours\n", ""));
    import_leads(
        &db,
        &dir,
        "{\"id\": \"a\", \"email\": \"a\\u001b[2J\\u0007@x.example\"}\n",
    );
    let once = flowc(&db, &["run", "--once"]);
    assert_eq!(once.status.code(), Some(0), "{}", text(&once.stderr));
    let shown = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert!(shown.contains("a\\u{1b}[2J\\u{7}@x.example"), "{shown}");
}

/// A runner opens more connections to its database (the heartbeat's)
/// while its first one works. Opening one must not
/// release the locks the others hold: then another process closing the
/// database would take itself for the last one, fold the write-ahead log
/// into the file and delete it, and the runner would go on committing
/// into a log nobody else reads (its work invisible until it exits).
#[test]
fn another_connection_in_the_process_keeps_the_first_ones_work_visible() {
    let dir = tempdir("second-connection");
    let db = Location::from(dir.join("flowc.db"));
    let mut live = waiting_runtime(&db);
    drop(Store::open(&db).expect("a second connection"));
    let other = flowc(&db, &["leads"]);
    assert!(other.status.success(), "{}", text(&other.stderr));
    import_at(
        &mut live,
        &dir,
        "2026-06-01T09:00Z",
        "{\"id\": \"a\", \"email\": \"a@x.example\"}",
    );
    let seen = flowc(&db, &["leads", "--format", "json"]);
    assert!(
        text(&seen.stdout).contains("\"lead\": \"a\""),
        "another process sees the import: {}",
        text(&seen.stdout)
    );
}

/// On PostgreSQL, an idle runner sleeps on `LISTEN`: a commit that makes
/// work (here an import) wakes it at once, and nothing else does.
#[test]
fn a_commit_that_makes_work_wakes_a_listening_runner() {
    if !support::on_postgres() {
        eprintln!("skipped: SQLite runners look for work instead");
        return;
    }
    let dir = tempdir("notice");
    let db = support::database(&dir);
    let mut live = waiting_runtime(&db);
    let listener = Store::open(&db).expect("a second connection");
    assert!(listener.hears_notices());
    assert!(
        !listener
            .await_notice(std::time::Duration::from_millis(50))
            .expect("listened"),
        "no notice without work"
    );
    import_at(
        &mut live,
        &dir,
        "2026-06-01T09:00Z",
        "{\"id\": \"a\", \"email\": \"a@x.example\"}",
    );
    assert!(
        listener
            .await_notice(std::time::Duration::from_secs(30))
            .expect("listened"),
        "the import's commit is heard"
    );
}

/// `flowc migrate` creates the schema in a new database, then says it is
/// current, on either backend.
#[test]
fn migrate_creates_the_schema_then_says_it_is_current() {
    let dir = tempdir("migrate-schema");
    let db = support::database(&dir);
    let created = flowc(&db, &["migrate"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(
        text(&created.stdout).contains(&format!(
            "created flowc's schema (version {})",
            flowc::store::SCHEMA_VERSION
        )),
        "{}",
        text(&created.stdout)
    );
    let again = flowc(&db, &["migrate"]);
    assert!(
        text(&again.stdout).contains(&format!(
            "is at schema version {} already",
            flowc::store::SCHEMA_VERSION
        )),
        "{}",
        text(&again.stdout)
    );
}

/// A PostgreSQL server of the test's own that takes only TLS connections
/// (`scripts/postgres start DIR --tls`), stopped when dropped.
struct TlsServer {
    dir: PathBuf,
    /// `postgres://flowc@localhost:PORT`: its certificate names
    /// `localhost`, not `127.0.0.1`.
    url: String,
}

impl TlsServer {
    fn start(dir: PathBuf) -> TlsServer {
        let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
            .args(["start", &dir.display().to_string(), "--tls"])
            .output()
            .expect("scripts/postgres runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        let url = text(&output.stdout).trim().to_owned();
        TlsServer { dir, url }
    }

    /// The server's database `postgres` with `query` as its URL's query.
    fn at(&self, query: &str) -> Location {
        let query = query.replace("DIR", &self.dir.display().to_string());
        Location::Postgres(format!("{}/postgres?{query}", self.url))
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
            .args(["stop", &self.dir.display().to_string()])
            .status();
    }
}

/// `sslmode` and `sslrootcert` in the URL work as libpq's users know them,
/// against a server that refuses plain connections: `prefer` and `require`
/// encrypt, `verify-ca` checks the chain, `verify-full` the chain and the
/// host name, and every refusal says why.
#[test]
fn postgres_connections_are_encrypted_and_verified_as_the_url_asks() {
    if !support::on_postgres() {
        eprintln!("skipped: runs with the PostgreSQL suites");
        return;
    }
    let dir = tempdir("tls");
    let server = TlsServer::start(dir.join("server"));
    let migrate = |query: &str| flowc(server.at(query), &["migrate"]);
    for query in [
        "",
        "sslmode=prefer",
        "sslmode=require",
        "sslmode=verify-ca&sslrootcert=DIR/ca.pem",
        "sslmode=verify-full&sslrootcert=DIR/ca.pem",
    ] {
        let output = migrate(query);
        assert!(output.status.success(), "{query}: {}", text(&output.stderr));
    }
    for (query, why) in [
        ("sslmode=disable", "no encryption"),
        (
            "sslmode=verify-ca&sslrootcert=DIR/other-ca.pem",
            "UnknownIssuer",
        ),
        (
            "sslmode=require&sslrootcert=DIR/other-ca.pem",
            "UnknownIssuer",
        ),
        ("sslmode=verify-full", "UnknownIssuer"),
        (
            "sslmode=verify-full&sslrootcert=DIR/missing.pem",
            "missing.pem",
        ),
        ("sslmode=verify", "not `verify`"),
    ] {
        let output = migrate(query);
        assert_eq!(output.status.code(), Some(1), "{query}");
        let error = text(&output.stderr);
        assert!(
            error.contains("cannot open the database") && error.contains(why),
            "{query}: {error}"
        );
    }
    // The certificate names localhost: verify-full refuses 127.0.0.1,
    // verify-ca (the chain only) takes it.
    let by_address = |mode: &str| {
        let url = server.url.replace("localhost", "127.0.0.1");
        let root = server.dir.join("ca.pem");
        let db = format!(
            "{url}/postgres?sslmode={mode}&sslrootcert={}",
            root.display()
        );
        flowc(Location::Postgres(db), &["migrate"])
    };
    let full = by_address("verify-full");
    assert!(
        text(&full.stderr).contains("not valid for name \"127.0.0.1\""),
        "{}",
        text(&full.stderr)
    );
    assert!(by_address("verify-ca").status.success());

    // The whole flow runs over a verified connection.
    let db = server.at("sslmode=verify-full&sslrootcert=DIR/ca.pem");
    let file = dir.join("workflow.flow");
    std::fs::write(&file, WAITING.replace("wait 2 hours\n", "")).expect("written");
    let output = flowc(&db, &["publish", &file.display().to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    import_leads(&db, &dir, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n");
    let once = flowc(&db, &["run", "--once"]);
    assert_eq!(once.status.code(), Some(0), "{}", text(&once.stderr));
    let timeline = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(timeline.contains("completed"), "{timeline}");
}

/// An address that may not be reached is skipped, never sent: when the
/// step is reached after the opt-out, and when the opt-out came after the
/// step was reached but before the effect went out; an opt-in lets the
/// next step through.
#[test]
fn an_opted_out_number_is_skipped_when_reached_and_when_about_to_go_out() {
    let source = "workflow texts\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    send text\n      body \"first\"\n    wait 1 hour\n    send text\n      body \"second\"\n";
    let (dir, db) = published("consent", source);
    let consent = |address: &str, state: &str| {
        let output = flowc(
            &db,
            &["consent", "set", "text", address, state, "--note", "test"],
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
    };
    // a opted out before it was imported; b after its first text was
    // recorded to go out, before a runner took it.
    consent("+1 (555) 010-0001", "opted-out");
    import_leads(
        &db,
        &dir,
        "{\"id\": \"a\", \"phone_number\": \"+15550100001\"}\n{\"id\": \"b\", \"phone_number\": \"+15550100002\"}\n",
    );
    consent("+15550100002", "opted-out");
    let once = flowc(&db, &["run", "--once"]);
    assert!(once.status.success(), "{}", text(&once.stderr));
    for lead in ["a", "b"] {
        let shown = text(&flowc(&db, &["timeline", lead]).stdout);
        assert!(
            shown.contains("skipped") && shown.contains("is opted-out on text (operator: test"),
            "{lead}: {shown}"
        );
        assert!(!shown.contains("sent"), "{lead}: {shown}");
    }
    let store = Store::open(db.clone()).expect("opened");
    let delivered: i64 = store
        .query_one("SELECT count(*) FROM deliveries", flowc::params![], |row| {
            row.get(0)
        })
        .expect("counted");
    assert_eq!(delivered, 0, "nothing went out");
    let history = text(&flowc(&db, &["consent", "show", "+15550100002"]).stdout);
    assert!(
        history.contains("opted-out") && history.contains("operator: test"),
        "{history}"
    );

    // Back in: the lead's next text goes out.
    consent("+15550100002", "opted-in");
    let later = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", "--once"])
        .env("FLOWC_DB", db.arg())
        .env(
            "FLOWC_CLOCK",
            format!(
                "{}@{}*1",
                (chrono::Utc::now() + chrono::Duration::hours(2))
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                chrono::Utc::now().timestamp_millis()
            ),
        )
        .output()
        .expect("runs");
    assert!(later.status.success(), "{}", text(&later.stderr));
    let shown = text(&flowc(&db, &["timeline", "b"]).stdout);
    assert!(
        shown.contains("sent") && shown.contains("second"),
        "{shown}"
    );
}

/// A split live: each lead takes the variant the simulation gives it, and
/// `flowc stats` counts each variant.
#[test]
fn a_split_live_assigns_as_simulated_and_stats_count_each_variant() {
    let source = "workflow ab\n  timezone UTC\n  trigger when email is set\n  steps\n    label subject-test\n    split\n      variant short 60%\n        notify slack sales\n          message \"short {{ email }}\"\n      variant long 40%\n        notify slack sales\n          message \"long {{ email }}\"\n    end\n";
    let (dir, db) = published("split", source);
    let leads: String = (0..300)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"email\": \"l{i}@x.example\"}}\n"))
        .collect();
    import_leads(&db, &dir, &leads);
    let once = flowc(&db, &["run", "--once"]);
    assert_eq!(once.status.code(), Some(0), "{}", text(&once.stderr));

    // The simulation of the same file and leads, through the CLI.
    let file = dir.join("workflow.flow").display().to_string();
    let leads_file = dir.join("leads.jsonl").display().to_string();
    let simulated = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", "--simulate", &file, "--leads", &leads_file])
        .args(["--start", "2026-03-08T02:30:00Z", "--format", "jsonl"])
        .output()
        .expect("flowc runs");
    assert!(simulated.status.success(), "{}", text(&simulated.stderr));
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for line in text(&simulated.stdout).lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("JSON");
        if event["kind"] == "branched" {
            let lead = event["lead"].as_str().unwrap_or_default().to_owned();
            expected.insert(
                lead,
                event["detail"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    assert_eq!(expected.len(), 300, "every lead branched in the simulation");

    let store = Store::open(&db).expect("opened");
    let live: Vec<(String, String)> = store
        .query(
            "SELECT e.lead, v.detail FROM events v JOIN enrollments e ON e.id = v.enrollment
             WHERE v.kind = 'branched'",
            flowc::params![],
            |row| row.columns(),
        )
        .expect("read");
    assert_eq!(live.into_iter().collect::<BTreeMap<_, _>>(), expected);

    let stats: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["stats", "ab", "--format", "json"]).stdout)
            .expect("JSON");
    let branched = |step: &str| {
        stats["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|count| count["step"] == step))
            .map_or(0, |count| count["events"]["branched"].as_u64().unwrap_or(0))
    };
    let short = expected.values().filter(|v| *v == "variant short").count() as u64;
    assert_eq!(branched("subject-test/variant short"), short, "{stats}");
    assert_eq!(
        branched("subject-test/variant long"),
        300 - short,
        "{stats}"
    );
    assert!((150..=210).contains(&short), "60% of 300: {short}");
}

/// Live, a wait on a field follows the field moved later while the lead
/// waits, as in simulation.
#[test]
fn a_wait_on_a_field_follows_a_rescheduled_demo_live() {
    let dir = tempdir("field-wait");
    let db = support::database(&dir);
    let source = "workflow reminder\n  timezone America/New_York\n  fields\n    demo_at optional datetime\n  trigger when email is set\n  steps\n    wait until demo_at - 1 hour\n    notify slack sales\n      message \"{{ email }}\"\n";
    let (mut live, artifact) = published_at(&db, source, "2026-03-09T13:00Z");
    let import = |live: &mut Live, line: &str| import_live(live, &dir, &artifact.programs[0], line);
    import(
        &mut live,
        r#"{"id": "a", "email": "a@x.example", "demo_at": "2026-03-10T10:00:00-04:00"}"#,
    );
    let provider = Carrier::Recorded;
    support::settle(&mut live, &provider);
    // The demo moves to Thursday while the lead waits for Tuesday.
    live.clock = Clock::Fixed(at("2026-03-09T16:00Z"));
    import(
        &mut live,
        r#"{"id": "a", "demo_at": "2026-03-12T10:00:00-04:00"}"#,
    );
    support::run_to_the_end(&mut live, &provider);
    let waits: Vec<(String, String)> = support::events(&live.store, "v.detail")
        .into_iter()
        .filter(|(_, kind, _)| kind == "waited" || kind == "sent")
        .map(|(_, kind, detail)| (kind, detail))
        .collect();
    assert_eq!(
        waits,
        [
            (
                "waited".to_owned(),
                "until 2026-03-10T09:00:00-04:00".to_owned()
            ),
            (
                "waited".to_owned(),
                "until 2026-03-12T09:00:00-04:00".to_owned()
            ),
            ("sent".to_owned(), "slack sales: a@x.example".to_owned()),
        ]
    );
}

/// Live, a wait for an event goes on when the event happens (its payload
/// read in `on event`), and at its timeout otherwise, as in simulation.
#[test]
fn a_wait_for_an_event_goes_on_live_when_it_happens_or_times_out() {
    let dir = tempdir("event-wait");
    let db = support::database(&dir);
    let source = "workflow calls\n  timezone UTC\n  event call_ended\n    outcome text\n  trigger when email is set\n  steps\n    wait for call_ended up to 1 day\n      on event\n        wait 1 hour\n        notify slack sales\n          message \"{{ email }}: {{ event.outcome }}\"\n      on timeout\n        exit \"no call\"\n    end\n";
    let (mut live, artifact) = published_at(&db, source, "2026-06-01T09:00Z");
    import_live(
        &mut live,
        &dir,
        &artifact.programs[0],
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n{\"id\": \"b\", \"email\": \"b@x.example\"}\n",
    );
    let provider = Carrier::Recorded;
    support::settle(&mut live, &provider);
    live.clock = Clock::Fixed(at("2026-06-01T12:00Z"));
    let data = serde_json::json!({"outcome": "booked"});
    let outcome = live
        .event("call_ended", "a", data.as_object().expect("an object"))
        .expect("taken");
    assert_eq!(outcome.resumed, ["calls"]);
    // Heard again while not waiting, it changes nothing.
    let again = live
        .event("call_ended", "a", data.as_object().expect("an object"))
        .expect("taken");
    assert!(again.resumed.is_empty());
    support::run_to_the_end(&mut live, &provider);
    let shown: Vec<(String, String, String)> = support::events(&live.store, "v.detail")
        .into_iter()
        .filter(|(_, kind, _)| kind != "entered")
        .collect();
    let row = |lead: &str, kind: &str, detail: &str| {
        (lead.to_owned(), kind.to_owned(), detail.to_owned())
    };
    let mut expected = vec![
        row(
            "a",
            "waited",
            "for call_ended until 2026-06-02T09:00:00+00:00",
        ),
        row(
            "b",
            "waited",
            "for call_ended until 2026-06-02T09:00:00+00:00",
        ),
        row("a", "branched", "on event call_ended"),
        row("a", "waited", "until 2026-06-01T13:00:00+00:00"),
        row("a", "sent", "slack sales: a@x.example: booked"),
        row("a", "completed", ""),
        row("b", "branched", "on timeout"),
        row("b", "exited", "no call"),
    ];
    let mut shown_sorted = shown.clone();
    shown_sorted.sort();
    expected.sort();
    assert_eq!(shown_sorted, expected, "{shown:?}");
}

/// Imports JSON Lines into `live` in this process, at its clock.
fn import_live(live: &mut Live, dir: &Path, program: &flowc::bytecode::Program, lines: &str) {
    let types = FieldTypes {
        types: program
            .slots
            .iter()
            .map(|slot| (slot.name.clone(), slot.ty))
            .collect(),
        zone: program.timezone,
    };
    let file = dir.join("leads.jsonl");
    std::fs::write(&file, lines).expect("written");
    let updates = read_updates(&file, &types).expect("read");
    live.import(updates.records).expect("imported");
}

/// Two workflows text one lead under a cap of one text per day in the
/// lead's calendar (Chicago, on the day US clocks go forward): live, as
/// simulated, the second text waits for the next local day and the third
/// for the one after, whichever workflow sends it.
#[test]
fn a_contact_policy_caps_touches_across_workflows_live_as_simulated() {
    use flowc::runtime::policy::ContactPolicy;
    use std::rc::Rc;
    let source = "workflow first
  timezone America/New_York
  trigger when phone_number is set
  steps
    send text
      body \"one\"
    wait 1 hour
    send text
      body \"two\"

workflow second
  timezone America/New_York
  trigger when phone_number is set
  steps
    wait 30 minutes
    send text
      body \"three\"
";
    let leads = r#"{"id": "a", "phone_number": "+15550100", "timezone": "America/Chicago"}"#;
    let policy: ContactPolicy = flowc::config::Config::parse("[policy]\ntext = { per_day = 1 }\n")
        .expect("a policy")
        .policy;
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let start = DateLiteral::parse("2026-03-07T20:00")
        .expect("a time")
        .instant(artifact.programs[0].timezone);

    let policy = Rc::new(policy);
    let mut simulations =
        flowc::runtime::together::policed(&artifact.programs, &Default::default(), &policy, true);
    let inputs = artifact
        .programs
        .iter()
        .map(|program| {
            let read = leads_from_jsonl(leads, "leads", program);
            read.records.into_iter().map(Input::Lead).collect()
        })
        .collect();
    flowc::runtime::together::run_together(&mut simulations, inputs, start, None);
    let mut simulated: Vec<String> = simulations
        .iter_mut()
        .flat_map(|simulation| {
            let program = simulation.program();
            let leads = simulation.leads.clone();
            simulation
                .timeline
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(move |event| {
                    let step = if event.event.kind.at_a_step() {
                        program.origins[event.event.pc as usize].label.clone()
                    } else {
                        "-".to_owned()
                    };
                    format!(
                        "{} {} {} {step} {}",
                        leads[event.lead as usize].id,
                        event.event.at.timestamp_millis(),
                        event.event.kind.name(),
                        event.event.detail
                    )
                })
        })
        .collect();
    simulated.sort();
    let sent: Vec<&String> = simulated
        .iter()
        .filter(|line| line.contains(" sent "))
        .collect();
    assert_eq!(sent.len(), 3, "{simulated:#?}");
    // 20:00 in New York, then local midnights in Chicago: 00:00 CST on the
    // 8th, and 00:00 CDT on the 9th (a 23-hour day).
    let times: Vec<i64> = sent
        .iter()
        .map(|line| {
            line.split(' ')
                .nth(1)
                .and_then(|t| t.parse().ok())
                .expect("a time")
        })
        .collect();
    assert_eq!(
        times,
        [
            at("2026-03-08T01:00:00Z").timestamp_millis(),
            at("2026-03-08T06:00:00Z").timestamp_millis(),
            at("2026-03-09T05:00:00Z").timestamp_millis(),
        ]
    );
    assert!(simulated.iter().any(
        |line| line.contains("held") && line.contains("contact policy: at most 1 text per day")
    ));

    let dir = tempdir("policy");
    let db = support::database(&dir);
    let mut live = Live::new(
        Store::open(&db).expect("a new database"),
        Clock::Fixed(start),
    );
    live.publish(&artifact, source, Migration::None, "tests")
        .expect("published");
    assert!(
        !live
            .set_policy(&ContactPolicy::default())
            .expect("recorded"),
        "none yet"
    );
    assert!(live.set_policy(&policy).expect("recorded"));
    assert!(!live.set_policy(&policy).expect("recorded"), "unchanged");
    let leads_file = dir.join("leads.jsonl");
    std::fs::write(&leads_file, leads).expect("written");
    let updates = read_updates(&leads_file, &live.field_types().expect("types")).expect("read");
    live.import(updates.records).expect("imported");
    let provider = Carrier::Recorded;
    support::run_to_the_end(&mut live, &provider);
    let mut lived = live_timeline(&live.store);
    lived.sort();
    assert_eq!(lived, simulated);
    let touches: i64 = live
        .store
        .query_one("SELECT count(*) FROM touches", flowc::params![], |row| {
            row.get(0)
        })
        .expect("a count");
    assert_eq!(touches, 3);
}

/// Quiet hours are tested again when a text is to go out: one reached at
/// 20:59:50 on the recipient's clock (Berlin, from its number) but
/// delivered at 21:00:05 waits for 08:00 there, and goes out once.
#[test]
fn quiet_hours_that_began_before_delivery_hold_the_text_until_they_end() {
    let dir = tempdir("late-quiet");
    let source = "workflow texts\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    send text\n      body \"Hi\"\n";
    let leads = "{\"id\": \"a\", \"phone_number\": \"+4915155550143\"}\n";
    let mut live = support::started(&dir, source, leads, "2026-03-07T19:59:50Z");
    let policy = flowc::config::Config::parse(
        "[policy]\nquiet_hours = { from = \"21:00\", to = \"08:00\" }\n",
    )
    .expect("a policy")
    .policy;
    assert!(live.set_policy(&policy).expect("recorded"));
    let provider = Carrier::Recorded;
    live.clock = Clock::Fixed(at("2026-03-07T20:00:05Z"));
    support::settle(&mut live, &provider);
    assert_eq!(delivered(&live), 0, "nothing goes out in quiet hours");
    assert_eq!(
        live.next_wake().expect("next"),
        Some(at("2026-03-08T07:00Z")),
        "held until 08:00 in Berlin"
    );
    support::run_to_the_end(&mut live, &provider);
    assert_eq!(delivered(&live), 1, "it goes out once");
    let timeline = live_timeline(&live.store);
    assert!(
        timeline[1].contains("contact policy: quiet hours 21:00-08:00 in Europe/Berlin, from the phone number's country (DE) when it was to go out (the step was reached at 2026-03-07T19:59:50+00:00); release at 2026-03-08T07:00:00+00:00"),
        "{timeline:#?}"
    );
    let touches: i64 = live
        .store
        .query_one("SELECT count(*) FROM touches", flowc::params![], |row| {
            row.get(0)
        })
        .expect("a count");
    assert_eq!(touches, 0, "quiet hours alone count no touches");
}

/// `flowc publish` records the policy of the flowc.toml it reads, says so
/// when it changes, and without a flowc.toml keeps the one recorded.
#[test]
fn publish_records_the_contact_policy_and_keeps_it_without_a_config() {
    let dir = tempdir("publish-policy");
    let db = support::database(&dir);
    let file = dir.join("texts.flow");
    std::fs::write(
        &file,
        "workflow texts\n  trigger when phone_number is set\n  steps\n    send text\n      body \"Hi\"\n",
    )
    .expect("written");
    let config = dir.join("policy.toml");
    std::fs::write(&config, "[policy]\ntext = { per_day = 1 }\n").expect("written");
    let (file, config) = (file.display().to_string(), config.display().to_string());
    let first = flowc(&db, &["publish", &file, "--config", &config]);
    assert_eq!(
        text(&first.stdout),
        "contact policy: at most 1 text per day; over a cap, hold\npublished texts version 1\n",
        "{}",
        text(&first.stderr)
    );
    let again = flowc(&db, &["publish", &file]);
    assert_eq!(
        text(&again.stdout),
        "texts version 1 is unchanged and live (0 paused timers resumed)\n",
        "{}",
        text(&again.stderr)
    );
    let store = Store::open(&db).expect("opened");
    let kept: String = store
        .query_one(
            "SELECT value FROM meta WHERE key = 'policy'",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("recorded");
    assert!(kept.contains("\"per_day\":1"), "{kept}");
}

/// `flowc leads | head`: a reader that stops early ends flowc quietly
/// (it panicked on the next line it printed).
#[test]
fn a_closed_stdout_ends_a_listing_quietly() {
    let (dir, db) = published("closed-stdout", WAITING);
    let leads: String = (0..3000)
        .map(|n| format!("{{\"id\": \"lead-{n}\", \"email\": \"l{n}@x.example\"}}\n"))
        .collect();
    import_leads(&db, &dir, &leads);
    let mut listing = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("leads")
        .env("FLOWC_DB", db.arg())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdout = std::io::BufReader::new(listing.stdout.take().expect("stdout"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).expect("a line");
    assert!(first.starts_with("lead "), "{first}");
    drop(stdout);
    let output = listing.wait_with_output().expect("it ends");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stderr), "");
}

/// Instants print one way everywhere: RFC 3339 in the workflow's account
/// timezone, and the lead's own time beside it where a lead is shown
/// (`flowc leads` printed UTC while `flowc timeline` printed the account's).
#[test]
fn instants_print_in_the_accounts_offset_everywhere() {
    let (dir, db) = published(
        "instants",
        "workflow zoned\n  timezone Asia/Tokyo\n  trigger when email is set\n  steps\n    wait 2 days\n    exit\n",
    );
    import_leads(
        &db,
        &dir,
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"timezone\": \"America/Chicago\"}\n",
    );
    assert!(flowc(&db, &["run", "--once"]).status.success());
    let listed = text(&flowc(&db, &["leads"]).stdout);
    let row = listed
        .lines()
        .find(|line| line.starts_with("a "))
        .expect("a row");
    assert!(row.ends_with("+09:00"), "{listed}");
    let shown = text(&flowc(&db, &["leads", "show", "a"]).stdout);
    let enrollment = shown.lines().last().expect("an enrollment");
    assert!(
        enrollment.contains("+09:00 (lead ") && enrollment.ends_with(":00)"),
        "{shown}"
    );
    let timeline = text(&flowc(&db, &["timeline", "a"]).stdout);
    assert!(timeline.contains("+09:00 (lead "), "{timeline}");
    let json = flowc(&db, &["leads", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let account = rows[0]["next_at_account"]
        .as_str()
        .expect("an account time");
    assert!(account.ends_with("+09:00"), "{rows}");
}

/// A record imported with an `at` still to come is applied at that
/// instant by the runner, not at import (it was applied at once, so a lead
/// upgraded "next Monday" entered today); one whose `at` has passed is
/// applied at import.
#[test]
fn a_future_at_on_import_is_applied_at_that_instant() {
    let dir = tempdir("future-at");
    let source = "workflow upgrades\n  timezone UTC\n  fields\n    plan text\n  trigger when plan is \"pro\"\n  steps\n    wait 1 day\n";
    let mut live = support::started(
        &dir,
        source,
        concat!(
            "{\"id\": \"a\", \"email\": \"a@x.example\", \"plan\": \"free\"}\n",
            "{\"id\": \"a\", \"plan\": \"pro\", \"at\": \"2026-06-01T12:00:00Z\"}\n",
            "{\"id\": \"b\", \"email\": \"b@x.example\", \"plan\": \"pro\", \"at\": \"2026-05-01T00:00:00Z\"}\n",
        ),
        "2026-06-01T09:00Z",
    );
    let plan = |live: &Live, lead: &str| -> String {
        live.store
            .query_one(
                "SELECT fields FROM leads WHERE id = ?1",
                flowc::params![lead],
                |row| row.get::<String>(0),
            )
            .map(|fields| {
                serde_json::from_str::<serde_json::Value>(&fields).expect("JSON")["plan"]
                    .to_string()
            })
            .expect("a lead")
    };
    assert_eq!(plan(&live, "a"), "\"free\"", "not applied at import");
    assert_eq!(
        plan(&live, "b"),
        "\"pro\"",
        "a past at is applied at import"
    );
    let waiting = flowc::runtime::live::scheduled::waiting(&live.store).expect("counted");
    assert_eq!(waiting, (1, Some(at("2026-06-01T12:00Z"))));
    let provider = Carrier::Recorded;
    support::run_to_the_end(&mut live, &provider);
    assert_eq!(plan(&live, "a"), "\"pro\"");
    let entered: i64 = live
        .store
        .query_one(
            "SELECT v.at FROM events v JOIN enrollments e ON e.id = v.enrollment
             WHERE e.lead = 'a' AND v.kind = 'entered'",
            flowc::params![],
            |row| row.get(0),
        )
        .expect("a entered");
    assert_eq!(
        entered,
        at("2026-06-01T12:00Z").timestamp_millis(),
        "entered at the record's at"
    );
    assert_eq!(
        flowc::runtime::live::scheduled::waiting(&live.store)
            .expect("counted")
            .0,
        0
    );
}
