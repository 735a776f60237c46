//! Runners under operations: 10,000 leads flow through a workflow with
//! short waits on an accelerated clock while `flowc run` runs as one
//! process or four at once on the same database, killed with SIGKILL at
//! random moments and restarted. Then every lead must have gone through
//! the steps the simulation predicts, at the same offsets from its entry
//! (no wait skipped), and the recording provider must have seen every
//! effect exactly once, each under its idempotency key, kills or not: it
//! claims, records and confirms an effect in one transaction, so a kill
//! leaves either all of it or none. (A delivery cut short between a real
//! provider and its confirmation is repeated under its key once its claim
//! lapses: `tests/live.rs`, `a_lapsed_claim_is_taken_over_and_counted`.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flowc::params;
use flowc::runtime::leads::leads_from_jsonl;
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};
use flowc::store::{Location, Store};

#[path = "support/live.rs"]
mod support;

const LEADS: usize = 10_000;

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

/// Each lead's steps, `kind step +seconds since it entered`, in order.
type Steps = BTreeMap<String, Vec<String>>;

/// The steps each lead goes through in a simulation, and the effects.
fn predicted() -> (Steps, usize) {
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
    let mut effects = 0;
    let mut rows = Vec::new();
    for event in simulation.timeline.take().unwrap_or_default() {
        let kind = event.event.kind;
        let step = if kind == flowc::vm::EventKind::Entered {
            "-".to_owned()
        } else {
            program.origins[event.event.pc as usize].label.clone()
        };
        effects += usize::from(kind == flowc::vm::EventKind::Sent);
        let lead = simulation.leads[event.lead as usize].id.to_string();
        rows.push((
            lead,
            kind.name().to_owned(),
            step,
            event.event.at.timestamp_millis(),
        ));
    }
    (by_lead(rows), effects)
}

/// Rows `(lead, kind, step, at in ms)` in order, as each lead's steps with
/// their offsets from the lead's entry.
fn by_lead(rows: Vec<(String, String, String, i64)>) -> Steps {
    let mut entered: BTreeMap<String, i64> = BTreeMap::new();
    let mut steps = Steps::new();
    for (lead, kind, step, at) in rows {
        let since = at - *entered.entry(lead.clone()).or_insert(at);
        steps
            .entry(lead)
            .or_default()
            .push(format!("{kind} {step} +{}s", since / 1000));
    }
    steps
}

/// A database with the workflow published and the leads imported, on a
/// clock where 1 real second is 5 virtual minutes.
struct Drill {
    dir: PathBuf,
    db: Location,
    clock: String,
}

impl Drill {
    fn new(name: &str) -> Drill {
        Drill::with(name, WORKFLOW, &leads(), None)
    }

    /// A database with `workflows` published (under the `flowc.toml` text
    /// `config`, if any) and `leads` imported.
    fn with(name: &str, workflows: &str, leads: &str, config: Option<&str>) -> Drill {
        let dir = std::env::temp_dir().join(format!("flowc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        let origin = chrono::Utc::now().timestamp_millis();
        let drill = Drill {
            db: support::database(&dir),
            clock: format!("2026-06-01T09:00:00Z@{origin}*300"),
            dir,
        };
        std::fs::write(drill.dir.join("crash.flow"), workflows).expect("written");
        std::fs::write(drill.dir.join("leads.jsonl"), leads).expect("written");
        let flow = drill.dir.join("crash.flow").display().to_string();
        let leads_file = drill.dir.join("leads.jsonl").display().to_string();
        let mut publish = vec!["publish", &flow];
        let config_file = drill.dir.join("policy.toml").display().to_string();
        if let Some(config) = config {
            std::fs::write(&config_file, config).expect("written");
            publish.extend(["--config", &config_file]);
        }
        assert!(drill.flowc(&publish).status().expect("runs").success());
        assert!(drill
            .flowc(&["leads", "import", &leads_file])
            .status()
            .expect("runs")
            .success());
        drill
    }

    fn flowc(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flowc"));
        command
            .args(args)
            .env("FLOWC_DB", self.db.arg())
            .env("FLOWC_CLOCK", &self.clock)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// A runner whose leases last `lease` seconds.
    fn runner(&self, lease: &str) -> Child {
        self.flowc(&["run", "--lease", lease])
            .spawn()
            .expect("starts")
    }

    /// Keeps `count` runners going, killing one at random `kills` times
    /// (and starting another in its place), then lets them finish all the
    /// work and stops them. Returns the database.
    fn run(&self, count: usize, kills: usize, lease: &str) -> Store {
        let mut random = Lcg(7);
        let mut runners: Vec<Child> = (0..count).map(|_| self.runner(lease)).collect();
        for _ in 0..kills {
            std::thread::sleep(Duration::from_millis(30 + random.below(400)));
            let victim = random.below(count as u64) as usize;
            runners[victim].kill().expect("killed");
            runners[victim].wait().expect("reaped");
            runners[victim] = self.runner(lease);
        }
        let store = Store::open(&self.db).expect("opened");
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let unfinished: i64 = store
                .query_one(
                    "SELECT (SELECT count(*) FROM enrollments WHERE status NOT IN ('completed', 'exited', 'failed'))
                          + (SELECT count(*) FROM outbox WHERE status = 'pending')",
                    params![],
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
        for mut runner in runners {
            runner.kill().expect("stopped");
            runner.wait().expect("reaped");
        }
        store
    }
}

/// Every lead went the predicted way at the predicted offsets; every
/// effect was delivered exactly once.
fn verify(store: &Store) {
    let (predicted, effects) = predicted();
    let rows: Vec<(String, String, String, i64)> = store
        .query(
            "SELECT e.lead, v.kind, v.step, v.at FROM events v
             JOIN enrollments e ON e.id = v.enrollment ORDER BY v.id",
            params![],
            |row| row.columns(),
        )
        .expect("rows");
    let actual = by_lead(rows);
    assert_eq!(actual.len(), LEADS, "every lead entered once");
    for (lead, steps) in &predicted {
        assert_eq!(actual.get(lead), Some(steps), "{lead} went another way");
    }
    let (delivered, keys, unknown, most): (i64, i64, i64, i64) = store
        .query_one(
            "SELECT count(*), count(DISTINCT key),
                    (SELECT count(*) FROM deliveries WHERE key NOT IN (SELECT key FROM outbox)),
                    (SELECT max(n) FROM (SELECT count(*) AS n FROM deliveries GROUP BY key) per_key)
             FROM deliveries",
            params![],
            |row| row.columns(),
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
    assert_eq!(
        delivered,
        keys,
        "{} repeats (one effect {most} times)",
        delivered - keys
    );
}

/// Importing is the normal case while runners work: the import waits its
/// turn for the write lock, batch by batch, and every lead is committed.
#[test]
fn importing_while_runners_work_waits_its_turn() {
    let drill = Drill::new("import");
    let mut runners: Vec<Child> = (0..2).map(|_| drill.runner("30")).collect();
    let more: String = (0..LEADS)
        .map(|i| {
            format!("{{\"id\": \"more-{i}\", \"email\": \"more{i}@x.example\", \"score\": 1}}\n")
        })
        .collect();
    let file = drill.dir.join("more.jsonl");
    std::fs::write(&file, more).expect("written");
    let imported = drill
        .flowc(&["leads", "import", &file.display().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    for runner in &mut runners {
        runner.kill().expect("stopped");
        runner.wait().expect("reaped");
    }
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(
        String::from_utf8_lossy(&imported.stdout).contains(&format!("imported {LEADS} leads")),
        "{}",
        String::from_utf8_lossy(&imported.stdout)
    );
    let store = Store::open(&drill.db).expect("opened");
    let leads: i64 = store
        .query_one("SELECT count(*) FROM leads", params![], |row| row.get(0))
        .expect("counted");
    assert_eq!(leads as usize, 2 * LEADS);
}

/// Two workflows text every lead at the same instant under a cap of one
/// text a day, while four runners claim the work: each lead gets exactly
/// one text (the lead's row is locked while its touches are counted), and
/// the other is skipped with the cap as its reason.
#[test]
fn four_runners_never_send_past_a_cap() {
    let flow = |name: &str| {
        format!("workflow {name}\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    wait 1 minute\n    send text\n      body \"{name}\"\n")
    };
    let workflows = flow("first") + "\n" + &flow("second");
    let count = 2_000;
    let leads: String = (0..count)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"phone_number\": \"+1555{i:07}\", \"timezone\": \"UTC\"}}\n"))
        .collect();
    let policy = "[policy]\ntext = { per_day = 1 }\nover_cap = \"skip\"\n";
    let drill = Drill::with("capped", &workflows, &leads, Some(policy));
    let store = drill.run(4, 0, "30");
    let per_lead: Vec<(String, i64)> = store
        .query(
            "SELECT e.lead, count(*) FROM outbox o JOIN enrollments e ON e.id = o.enrollment
             WHERE o.kind = 'text' GROUP BY e.lead",
            params![],
            |row| row.columns(),
        )
        .expect("counted");
    assert_eq!(per_lead.len(), count, "every lead got a text");
    let twice: Vec<&(String, i64)> = per_lead.iter().filter(|(_, texts)| *texts != 1).collect();
    assert!(twice.is_empty(), "leads texted twice in a day: {twice:?}");
    let skipped: i64 = store
        .query_one(
            "SELECT count(*) FROM events WHERE kind = 'skipped' AND detail = 'contact policy: at most 1 text per day'",
            params![],
            |row| row.get(0),
        )
        .expect("counted");
    assert_eq!(
        skipped, count as i64,
        "the other text of each lead was skipped"
    );
    let touches: i64 = store
        .query_one("SELECT count(*) FROM touches", params![], |row| row.get(0))
        .expect("counted");
    assert_eq!(touches, count as i64);
}

#[test]
fn four_runners_on_one_database_deliver_every_effect_once() {
    let drill = Drill::new("runners");
    let store = drill.run(4, 0, "30");
    verify(&store);
}

#[test]
fn killing_the_runner_at_random_loses_and_repeats_nothing() {
    let drill = Drill::new("crash");
    let store = drill.run(1, 50, "5");
    verify(&store);
}

#[test]
fn killing_one_of_four_runners_at_random_loses_and_repeats_nothing() {
    let drill = Drill::new("crash4");
    let store = drill.run(4, 50, "5");
    verify(&store);
}
