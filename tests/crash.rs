//! Crash safety: 10,000 leads flow through a workflow with short waits on
//! an accelerated clock while `flowc run` is killed with SIGKILL at random
//! moments 50 times and restarted each time. Then every lead must have
//! reached the end the simulation predicts, through the same steps, and
//! the recording provider must have seen every effect, each under one
//! idempotency key (twice at most when a kill fell between delivery and
//! confirmation).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flowc::runtime::leads::leads_from_jsonl;
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};

#[path = "support/live.rs"]
mod live;

const LEADS: usize = 10_000;
const KILLS: usize = 50;

const WORKFLOW: &str = r#"workflow crash
  timezone UTC
  fields
    score number
  trigger when email is set
  steps
    notify slack sales
      message "hello {{ email }}"
    wait 5 minutes
    condition
      branch high when score >= 50
        send email
          to lead
          subject "Hi"
          body "A high score: {{ score }}"
        wait 10 minutes
      else
        wait 2 minutes
    end
    http get "https://api.example/{{ email }}"
    notify slack sales
      message "done {{ email }}"
"#;

fn leads() -> String {
    (0..LEADS)
        .map(|i| {
            format!(
                "{{\"id\": \"lead-{i}\", \"email\": \"lead{i}@x.example\", \"score\": {}}}\n",
                i % 100
            )
        })
        .collect()
}

/// A small deterministic generator for kill times.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn flowc(db: &Path, clock: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowc"));
    command
        .args(args)
        .env("FLOWC_DB", db)
        .env("FLOWC_CLOCK", clock)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// The steps each lead goes through in a simulation: `lead -> [kind step]`.
fn predicted() -> (BTreeMap<String, Vec<String>>, usize) {
    let artifact = flowc::compile::compile_source(WORKFLOW, None).expect("it compiles");
    let program = &artifact.programs[0];
    let read = leads_from_jsonl(&leads(), "leads", program);
    let start = flowc::value::DateLiteral::parse("2026-06-01T09:00Z")
        .expect("a time")
        .instant(program.timezone);
    let mut simulation = Simulation::new(program, Recorder::new(Default::default(), false), true);
    simulation.run(
        read.records.into_iter().map(Input::Lead).collect(),
        start,
        None,
    );
    let mut steps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut effects = 0;
    for event in simulation.timeline.take().unwrap_or_default() {
        let step = if event.event.kind == flowc::vm::EventKind::Entered {
            "-".to_owned()
        } else {
            program.origins[event.event.pc as usize].label.clone()
        };
        if event.event.kind == flowc::vm::EventKind::Sent {
            effects += 1;
        }
        let lead = simulation.leads[event.lead as usize].id.to_string();
        steps
            .entry(lead)
            .or_default()
            .push(format!("{} {step}", event.event.kind.name()));
    }
    (steps, effects)
}

#[test]
fn killing_the_runner_at_random_loses_and_repeats_nothing() {
    let dir = std::env::temp_dir().join(format!("flowc-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    let db = dir.join("flowc.db");
    std::fs::write(dir.join("crash.flow"), WORKFLOW).expect("written");
    std::fs::write(dir.join("leads.jsonl"), leads()).expect("written");
    // 1 real second is 5 virtual minutes: the waits pass while we kill.
    let origin = chrono::Utc::now().timestamp_millis();
    let clock = format!("2026-06-01T09:00:00Z@{origin}*300");
    let flow = dir.join("crash.flow").display().to_string();
    let leads_file = dir.join("leads.jsonl").display().to_string();
    assert!(flowc(&db, &clock, &["publish", &flow])
        .status()
        .expect("runs")
        .success());
    assert!(flowc(&db, &clock, &["leads", "import", &leads_file])
        .status()
        .expect("runs")
        .success());

    let mut random = Lcg(7);
    for _ in 0..KILLS {
        let mut runner = flowc(&db, &clock, &["run"]).spawn().expect("starts");
        std::thread::sleep(Duration::from_millis(30 + random.below(400)));
        runner.kill().expect("killed");
        runner.wait().expect("reaped");
    }

    let mut runner = flowc(&db, &clock, &["run"]).spawn().expect("starts");
    let connection = rusqlite::Connection::open(&db).expect("opened");
    connection
        .busy_timeout(Duration::from_secs(10))
        .expect("set");
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let unfinished: i64 = connection
            .query_row(
                "SELECT (SELECT count(*) FROM enrollments WHERE status NOT IN ('completed', 'exited', 'failed'))
                      + (SELECT count(*) FROM outbox WHERE status = 'pending')",
                [],
                |row| row.get(0),
            )
            .expect("counted");
        if unfinished == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{unfinished} enrollments or effects unfinished after 4 minutes"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    runner.kill().expect("stopped");
    runner.wait().expect("reaped");

    let (predicted, effects) = predicted();
    let mut actual: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (lead, kind, step) in live::events(&connection, "v.step") {
        actual
            .entry(lead)
            .or_default()
            .push(format!("{kind} {step}"));
    }
    assert_eq!(actual.len(), LEADS, "every lead entered once");
    for (lead, steps) in &predicted {
        assert_eq!(actual.get(lead), Some(steps), "{lead} went another way");
    }

    let (delivered, keys, unknown, most): (i64, i64, i64, i64) = connection
        .query_row(
            "SELECT count(*), count(DISTINCT key),
                    (SELECT count(*) FROM deliveries WHERE key NOT IN (SELECT key FROM outbox)),
                    (SELECT max(n) FROM (SELECT count(*) AS n FROM deliveries GROUP BY key))
             FROM deliveries",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .expect("counted");
    assert_eq!(
        keys as usize, effects,
        "every effect delivered, each under its own key"
    );
    assert_eq!(
        unknown, 0,
        "nothing delivered that the outbox did not record"
    );
    // Each kill cuts short at most the one delivery in flight, which the
    // next runner repeats under its key; two kills can land in the same
    // delivery, so the bound is on the total, one repeat per kill.
    assert!(
        (delivered - keys) as usize <= KILLS,
        "{} repeats for {KILLS} kills (one effect {most} times)",
        delivered - keys
    );
    eprintln!(
        "{KILLS} kills: {effects} effects, {delivered} deliveries ({} repeated with the same key)",
        delivered - keys
    );
}
