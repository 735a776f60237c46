//! `flowc build`, `flowc disasm` and `flowc run --simulate` as users run
//! them: every example compiles, disassembles and simulates against its
//! bundled leads (snapshots), and bad input gets clear errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn flowc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("flowc runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The bundled leads of an example, and its events if it has any.
fn lead_files(example: &Path) -> (PathBuf, Option<PathBuf>) {
    let dir = Path::new("examples/leads");
    let leads = dir.join(format!("{}.jsonl", stem(example)));
    let events = dir.join(format!("{}.events.jsonl", stem(example)));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    (leads, root.join(&events).is_file().then_some(events))
}

/// The simulation of an example on its bundled leads, in `format`.
fn simulate(example: &Path, format: &str) -> Output {
    let (leads, events) = lead_files(example);
    let example = format!("examples/{}.flow", stem(example));
    let leads = leads.display().to_string();
    let mut args = vec![
        "run",
        &example,
        "--leads",
        &leads,
        "--start",
        "2026-03-06T09:00",
    ];
    let events = events.map(|events| events.display().to_string());
    if let Some(events) = &events {
        args.extend(["--events", events]);
    }
    args.extend(["--simulate", "--format", format]);
    flowc(&args)
}

#[test]
fn every_example_has_leads_to_simulate() {
    for example in common::examples() {
        let (leads, _) = lead_files(&example);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&leads);
        assert!(
            path.is_file(),
            "{} has no {}",
            example.display(),
            leads.display()
        );
    }
}

#[test]
fn example_timelines() {
    for example in common::examples() {
        let output = simulate(&example, "table");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let shown = format!(
            "{}\n----- stderr -----\n{}",
            stdout(&output),
            stderr(&output)
        );
        insta::assert_snapshot!(format!("timeline-{}", stem(&example)), shown);
    }
}

/// JSON Lines are streamed as the simulation goes: in time order over all
/// leads, each lead's events the same, in the same order, as its table.
#[test]
fn example_timelines_as_json_lines_match_the_tables() {
    for example in common::examples() {
        let output = simulate(&example, "jsonl");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let lines: Vec<serde_json::Value> = stdout(&output)
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect();
        let (summary, events) = lines.split_last().expect("a summary line");
        assert!(
            summary.get("summary").is_some(),
            "the last line is the summary"
        );
        let instants: Vec<chrono::DateTime<chrono::FixedOffset>> = events
            .iter()
            .map(|event| {
                let at = event["at"].as_str().unwrap_or_default();
                chrono::DateTime::parse_from_rfc3339(at).expect("`at` is RFC 3339")
            })
            .collect();
        assert!(
            instants.is_sorted(),
            "{}: events are written in time order",
            example.display()
        );
        let table = stdout(&simulate(&example, "table"));
        let timelines = table.split("\nsummary of").next().unwrap_or_default();
        let mut tabled = 0;
        for block in timelines.split("\nlead ").skip(1) {
            let mut rows = block.lines();
            let lead = rows.next().unwrap_or_default();
            let rows: Vec<&str> = rows.filter(|row| !row.is_empty()).collect();
            let streamed: Vec<String> = events
                .iter()
                .zip(&instants)
                .filter(|(event, _)| event["lead"] == lead)
                .map(|(event, at)| {
                    let kind = event["kind"].as_str().unwrap_or_default();
                    let step = event["step"].as_str().unwrap_or_default();
                    format!("  {}  {kind:<9}  {step}", at.format("%Y-%m-%d %H:%M %:z"))
                })
                .collect();
            assert_eq!(
                rows.len(),
                streamed.len(),
                "{}: lead {lead}",
                example.display()
            );
            for (row, line) in rows.iter().zip(&streamed) {
                assert!(row.starts_with(line.as_str()), "{row:?} is {line:?}");
            }
            tabled += rows.len();
        }
        assert_eq!(tabled, events.len(), "{}", example.display());
    }
}

#[test]
fn example_disassembly() {
    for example in common::examples() {
        let path = format!("examples/{}.flow", stem(&example));
        let output = flowc(&["disasm", &path]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        insta::assert_snapshot!(format!("disasm-{}", stem(&example)), stdout(&output));
    }
}

#[test]
fn built_programs_run_like_their_sources() {
    let dir = tempdir("built");
    for example in common::examples() {
        let artifact = dir.join(format!("{}.flowc", stem(&example)));
        let source = format!("examples/{}.flow", stem(&example));
        let artifact_arg = artifact.display().to_string();
        let built = flowc(&["build", &source, "-o", &artifact_arg]);
        assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
        let from_artifact = flowc(&["disasm", &artifact_arg]);
        let from_source = flowc(&["disasm", &source]);
        assert_eq!(stdout(&from_artifact), stdout(&from_source));
        let (leads, events) = lead_files(&example);
        let leads = leads.display().to_string();
        let events = events.map(|events| events.display().to_string());
        let run = |program: &str| {
            let mut args = vec![
                "run",
                program,
                "--leads",
                &leads,
                "--start",
                "2026-03-06T09:00",
            ];
            if let Some(events) = &events {
                args.extend(["--events", events.as_str()]);
            }
            args.extend(["--simulate", "--format", "jsonl"]);
            stdout(&flowc(&args))
        };
        assert_eq!(run(&artifact_arg), run(&source), "{}", example.display());
    }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

#[test]
fn corrupt_and_foreign_artifacts_are_clear_errors() {
    let dir = tempdir("corrupt");
    let cases = [
        (
            "garbage.flowc",
            "\u{0}\u{1}not json".to_owned(),
            "not a compiled flowc program",
        ),
        (
            "foreign.flowc",
            r#"{"format":"something-else","version":1}"#.to_owned(),
            "not a compiled flowc program",
        ),
        (
            "future.flowc",
            r#"{"format":"flowc-program","version":999,"programs":[]}"#.to_owned(),
            "format version 999",
        ),
        (
            "truncated.flowc",
            r#"{"format":"flowc-program","version":1,"programs":[{"name""#.to_owned(),
            "not a compiled flowc program",
        ),
    ];
    for (name, contents, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("written");
        let output = flowc(&["disasm", &path.display().to_string()]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(
            stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn sources_with_errors_are_not_built() {
    let dir = tempdir("errors");
    let output_path = dir.join("bad.flowc");
    let output = flowc(&[
        "build",
        "tests/cases/E0101-unknown-field.flow",
        "-o",
        &output_path.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("E0101"), "{}", stderr(&output));
    assert!(!output_path.exists());
}

/// `flowc run FLOW --leads LEADS --start START --simulate ARGS...` on a
/// workflow source and leads written to a fresh folder named `name`.
fn simulate_written(name: &str, flow: &str, leads: &str, start: &str, args: &[&str]) -> Output {
    let dir = tempdir(name);
    let flow = write(&dir, "workflow.flow", flow);
    let leads = write(&dir, "leads.jsonl", leads);
    let mut all = vec![
        "run",
        &flow,
        "--leads",
        &leads,
        "--start",
        start,
        "--simulate",
    ];
    all.extend(args);
    flowc(&all)
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("written");
    path.display().to_string()
}

const SMALL: &str = "workflow small\n  timezone UTC\n  fields\n    score number\n  trigger when score > 1\n  steps\n    wait 1 hour\n";

#[test]
fn bad_lead_records_are_reported_by_line_and_skipped() {
    let dir = tempdir("bad-records");
    let flow = write(&dir, "small.flow", SMALL);
    let leads = write(
        &dir,
        "leads.jsonl",
        concat!(
            "{\"id\": \"a\", \"score\": 5}\n",
            "{\"id\": \"b\", \"score\": \"five\"}\n",
            "{not json\n",
            "\n",
            "{\"score\": 7}\n",
            "{\"id\": \"c\", \"score\": 9}\n",
        ),
    );
    let output = flowc(&[
        "run",
        &flow,
        "--leads",
        &leads,
        "--start",
        "2026-01-05T09:00Z",
        "--simulate",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains("leads.jsonl:2: `score` should be a number, not the text \"five\""),
        "{errors}"
    );
    assert!(errors.contains("leads.jsonl:3: not valid JSON"), "{errors}");
    assert!(
        errors.contains("leads.jsonl:5: the record has no `id`"),
        "{errors}"
    );
    let out = stdout(&output);
    assert!(out.contains("lead a") && out.contains("lead c"), "{out}");
    assert!(out.contains("bad records            3"), "{out}");
    assert!(out.contains("completed              2"), "{out}");

    let strict = flowc(&[
        "run",
        &flow,
        "--leads",
        &leads,
        "--start",
        "2026-01-05T09:00Z",
        "--simulate",
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(stderr(&strict).contains("error: ") && stderr(&strict).contains("leads.jsonl:2:"));
    assert!(stdout(&strict).is_empty());
}

#[test]
fn csv_leads_read_like_json_lines() {
    let dir = tempdir("csv");
    let flow = write(&dir, "small.flow", SMALL);
    let csv = write(
        &dir,
        "leads.csv",
        "id,score,email\na,5,a@x.example\nb,oops,\nc,9,\n",
    );
    let output = flowc(&[
        "run",
        &flow,
        "--leads",
        &csv,
        "--start",
        "2026-01-05T09:00Z",
        "--simulate",
        "--format",
        "jsonl",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("leads.csv:3: `score` should be a number, not `oops`"),
        "{}",
        stderr(&output)
    );
    let completed = stdout(&output).matches("\"kind\":\"completed\"").count();
    assert_eq!(completed, 2);
}

#[test]
fn run_needs_simulate_and_a_valid_start() {
    let dir = tempdir("usage");
    let flow = write(&dir, "small.flow", SMALL);
    let leads = write(&dir, "leads.jsonl", "{\"id\": \"a\", \"score\": 5}\n");
    let live = flowc(&[
        "run",
        &flow,
        "--leads",
        &leads,
        "--start",
        "2026-01-05T09:00Z",
    ]);
    assert_eq!(live.status.code(), Some(2));
    assert!(stderr(&live).contains("--simulate"), "{}", stderr(&live));
    let bad_start = flowc(&[
        "run",
        &flow,
        "--leads",
        &leads,
        "--start",
        "yesterday",
        "--simulate",
    ]);
    assert_eq!(bad_start.status.code(), Some(2));
    assert!(stderr(&bad_start).contains("--start \"yesterday\""));
    let missing = flowc(&[
        "run",
        &flow,
        "--leads",
        "no-such.jsonl",
        "--start",
        "2026-01-05T09:00Z",
        "--simulate",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read no-such.jsonl"));
}

#[test]
fn until_stops_the_clock_and_counts_who_is_still_waiting() {
    let output = simulate_written(
        "until",
        SMALL,
        "{\"id\": \"a\", \"score\": 5}\n",
        "2026-01-05T09:00Z",
        &["--until", "2026-01-05T09:30Z"],
    );
    let out = stdout(&output);
    assert!(out.contains("still waiting          1"), "{out}");
    assert!(!out.contains("completed  end"), "{out}");
}

#[test]
fn endless_loops_stop_at_a_horizon_with_a_warning() {
    let output = simulate_written(
        "horizon",
        "workflow forever\n  timezone UTC\n  trigger when email is set\n  steps\n    label again\n    wait 30 days\n    goto again\n",
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
        "2026-01-05T09:00Z",
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("stopped at 2036-01-03T09:00:00+00:00"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("still waiting          1"),
        "{}",
        stdout(&output)
    );
}

/// The loop of the issue (notify, wait a minute, go back) on one lead:
/// without a budget it ran ten years of minutes, 2.7 GB of memory and
/// 1.46 GB of output. The budget stops it, says so, and counts it.
#[test]
fn a_looping_simulation_stops_at_its_budget_and_says_so() {
    let run = |extra: &[&str]| {
        let mut args = vec!["--format", "jsonl"];
        args.extend(extra);
        simulate_written(
            "budget",
            "workflow pinger\n  timezone UTC\n  trigger when email is set\n  steps\n    label again\n    notify slack sales\n      message \"ping {{ email }}\"\n    wait 1 minute\n    goto again\n",
            "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
            "2026-01-05T09:00Z",
            &args,
        )
    };
    let default = run(&[]);
    assert_eq!(default.status.code(), Some(0), "{}", stderr(&default));
    assert!(
        stderr(&default).contains(
            "1 enrollment(s) reached the budget of 10000 activations and were stopped, \
             the first at 2026-01-12T07:40:00+00:00"
        ),
        "{}",
        stderr(&default)
    );
    let lines = stdout(&default).lines().count();
    assert!(lines < 40_000, "{lines} lines of output");
    let small = run(&["--budget", "3"]);
    let out = stdout(&small);
    let sent = out.matches("\"kind\":\"sent\"").count();
    assert_eq!(sent, 3, "{out}");
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().last().unwrap_or_default()).expect("a summary");
    assert_eq!(summary["summary"]["over_budget"], 1, "{summary}");
    assert_eq!(summary["summary"]["statuses"]["waiting"], 1, "{summary}");
}

/// A full disk stops the run with an error that says how far it got,
/// for both formats, never a silent success.
#[test]
fn a_failed_write_of_the_timelines_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    for format in ["jsonl", "table"] {
        let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .args(["run", "examples/inbound-demo-follow-up.flow", "--leads"])
            .args(["examples/leads/inbound-demo-follow-up.jsonl", "--start"])
            .args(["2026-03-06T09:00", "--simulate", "--format", format])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full.try_clone().expect("a second handle"))
            .output()
            .expect("flowc runs");
        assert_eq!(output.status.code(), Some(1), "{format}");
        let error = stderr(&output);
        assert!(
            error.contains("error: writing the timeline of inbound-demo-follow-up failed"),
            "{error}"
        );
        if format == "jsonl" {
            assert!(
                error.contains("after the first 0 events: No space left on device"),
                "{error}"
            );
        }
    }
}

#[test]
fn endings_are_grouped_by_structured_reason_not_by_text_with_lead_data() {
    let flow = "workflow endings\n  timezone UTC\n  on send failure fail\n  fields\n    booked bool\n  trigger when email is set\n  goal booked when booked is true\n  steps\n    send email\n      to lead\n      subject \"Hi {{ first_name }}\"\n      body \"Hello\"\n    exit \"done with {{ email }}\"\n";
    let leads: String = (0..5)
        .map(|i| {
            let script = if i < 3 { r#", "simulate": {"email": "rejected"}"# } else { "" };
            let booked = i == 4;
            format!("{{\"id\": \"l{i}\", \"email\": \"l{i}@x.example\", \"first_name\": \"L{i}\", \"booked\": {booked}{script}}}\n")
        })
        .collect();
    let output = simulate_written(
        "endings",
        flow,
        &leads,
        "2026-06-01T09:00",
        &["--format", "jsonl"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let summary: serde_json::Value = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|record| record.get("summary").cloned())
        .expect("a summary");
    assert_eq!(
        summary["endings"],
        serde_json::json!([
            {"category": "exit", "reason": "exit at steps/2: done with l3@x.example", "count": 1},
            {"category": "failed", "reason": "failed at steps/1", "count": 3},
        ]),
        "three failures whose texts name three addresses are one row: {summary}"
    );
}

/// A leads file may carry a lead's consent, as live runs keep it: a step
/// on a channel the lead may not be reached on is skipped, in JSON Lines
/// and CSV alike, and a malformed `consent` is a located bad record.
#[test]
fn consent_in_the_leads_file_skips_steps_as_live_runs_do() {
    let dir = tempdir("consent");
    let flow = dir.join("texts.flow");
    std::fs::write(
        &flow,
        "workflow texts\n  timezone UTC\n  trigger when phone_number is set\n  steps\n    send text\n      body \"hello\"\n    send email\n      to lead\n      subject \"Hi\"\n      body \"hello\"\n",
    )
    .unwrap();
    let jsonl = dir.join("leads.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            "{\"id\": \"a\", \"phone_number\": \"+15550100001\", \"email\": \"a@x.example\", \"consent\": {\"text\": \"opted-out\"}}\n",
            "{\"id\": \"b\", \"phone_number\": \"+15550100002\", \"email\": \"b@x.example\", \"consent\": {\"text\": \"opted-in\"}}\n",
            "{\"id\": \"c\", \"phone_number\": \"+15550100003\", \"consent\": {\"sms\": \"opted-out\"}}\n",
        ),
    )
    .unwrap();
    let csv = dir.join("leads.csv");
    std::fs::write(
        &csv,
        "id,phone_number,email,consent\na,+15550100001,a@x.example,\"{\"\"email\"\": \"\"unsubscribed\"\"}\"\n",
    )
    .unwrap();
    let run = |leads: &Path| {
        flowc(&[
            "run",
            &flow.display().to_string(),
            "--leads",
            &leads.display().to_string(),
            "--start",
            "2026-03-06T09:00Z",
            "--simulate",
        ])
    };
    let output = run(&jsonl);
    let shown = stdout(&output);
    assert!(
        shown.contains("skipped") && shown.contains("opted-out on text (the leads file)"),
        "{shown}"
    );
    assert_eq!(
        shown.matches("opted-out on text").count(),
        1,
        "only a: {shown}"
    );
    assert!(
        stderr(&output).contains("leads.jsonl:3") && stderr(&output).contains("`consent` must be"),
        "{}",
        stderr(&output)
    );
    let output = run(&csv);
    let shown = stdout(&output);
    assert!(
        shown.contains("unsubscribed on email (the leads file)"),
        "{shown}\n{}",
        stderr(&output)
    );
    assert!(
        shown.contains("sent") && shown.contains("text to +15550100001"),
        "{shown}"
    );
}

/// A call that ends raises `call_completed` in a simulation as live does:
/// a goal waiting for an answered call ends the enrollment after the call
/// step ran on; a voicemail leaves it going.
#[test]
fn a_completed_call_raises_call_completed_as_live_does() {
    let flow = concat!(
        "workflow calls\n  timezone UTC\n  trigger when phone_number is set\n",
        "  goal talked on call_completed when event.outcome is \"answered\"\n",
        "  steps\n    label dial\n    call phone\n      agent sdr\n    wait 1 day\n",
        "    send email\n      to lead\n      subject \"Sorry we missed you\"\n      body \"hello\"\n",
    );
    let leads = concat!(
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"phone_number\": \"+15550100001\", \"simulate\": {\"dial\": \"answered\"}}\n",
        "{\"id\": \"b\", \"email\": \"b@x.example\", \"phone_number\": \"+15550100002\", \"simulate\": {\"dial\": \"voicemail\"}}\n",
    );
    let output = simulate_written("call-completed", flow, leads, "2026-03-06T09:00Z", &[]);
    let shown = stdout(&output);
    let timelines = shown.split("summary of").next().unwrap_or_default();
    let lead = |id: &str| {
        timelines
            .split("lead ")
            .find(|part| part.starts_with(id))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        lead("a").contains("goal talked reached") && !lead("a").contains("Sorry"),
        "{shown}"
    );
    assert!(
        !lead("b").contains("goal talked") && lead("b").contains("Sorry we missed you"),
        "{shown}"
    );
}

/// A transactional email reaches an address that unsubscribed from
/// marketing, in a simulation as live; an opted-out one reaches nobody.
#[test]
fn transactional_emails_reach_unsubscribed_addresses_only() {
    let flow = concat!(
        "workflow receipts\n  timezone UTC\n  trigger when email is set\n  steps\n",
        "    send email\n      to lead\n      subject \"News\"\n      body \"Our news. [Unsubscribe]({{ unsubscribe_url }})\"\n",
        "    send email\n      to lead\n      transactional\n      subject \"Receipt\"\n      body \"Thanks\"\n",
    );
    let leads = concat!(
        "{\"id\": \"a\", \"email\": \"a@x.example\", \"consent\": {\"email\": \"unsubscribed\"}}\n",
        "{\"id\": \"b\", \"email\": \"b@x.example\", \"consent\": {\"email\": \"opted-out\"}}\n",
    );
    let output = simulate_written("transactional", flow, leads, "2026-03-06T09:00Z", &[]);
    let shown = stdout(&output);
    assert!(
        shown.contains("skipped    steps/1                   email to a@x.example: News"),
        "{shown}"
    );
    assert!(
        shown.contains("sent       steps/2                   email to a@x.example: Receipt"),
        "{shown}"
    );
    assert!(
        shown.contains("skipped    steps/2                   email to b@x.example: Receipt"),
        "{shown}"
    );
}

/// Workflows in one file are simulated together on one clock under the
/// contact policy of `--config`: over a cap, `skip` drops the message and
/// says why; a cap of 0 is refused with its place in the file.
#[test]
fn workflows_simulated_together_share_the_contact_policy() {
    let dir = std::env::temp_dir().join(format!("flowc-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let flow = dir.join("two.flow");
    std::fs::write(
        &flow,
        "workflow first\n  trigger when email is set\n  steps\n    send email\n      to lead\n      subject \"a\"\n      body \"a\"\n\n\
         workflow second\n  trigger when email is set\n  steps\n    wait 1 hour\n    send email\n      to lead\n      subject \"b\"\n      body \"b\"\n    exit \"after\"\n",
    )
    .expect("written");
    let leads = dir.join("leads.jsonl");
    std::fs::write(&leads, "{\"id\": \"a\", \"email\": \"a@x.example\"}\n").expect("written");
    let config = dir.join("policy.toml");
    std::fs::write(
        &config,
        "[policy]\nover_cap = \"skip\"\nemail = { per_week = 1 }\n",
    )
    .expect("written");
    let run = |config: &Path| {
        Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("run")
            .arg(&flow)
            .arg("--leads")
            .arg(&leads)
            .args(["--start", "2026-03-06T09:00", "--simulate", "--config"])
            .arg(config)
            .output()
            .expect("flowc runs")
    };
    let output = run(&config);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let shown = stdout(&output);
    assert!(shown.contains("sent       steps/1"), "{shown}");
    assert!(
        shown.contains(
            "skipped    steps/2                   contact policy: at most 1 email per week"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("exited     steps/3                   after"),
        "{shown}"
    );

    std::fs::write(&config, "[policy]\nemail = { per_day = 0 }\n").expect("written");
    let output = run(&config);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("a cap is 1 or more"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_dir_all(&dir).ok();
}
