//! No input makes the runtime panic: random bytes as compiled programs,
//! lead and event files; damaged programs (every number in a real one
//! changed at random) run against real leads; mutated examples that still
//! compile, simulated. `fuzz/` runs the simulation target for longer.

use proptest::prelude::*;

use flowc::bytecode::Artifact;
use flowc::runtime::leads::{events_from_jsonl, leads_from_csv, leads_from_jsonl};
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};
use flowc::value::DateLiteral;

mod common;

/// Each example with its bundled leads and events.
fn examples() -> Vec<(String, String, String)> {
    common::examples()
        .iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let leads_dir = path
                .parent()
                .map(|dir| dir.join("leads"))
                .unwrap_or_default();
            let read =
                |name: String| std::fs::read_to_string(leads_dir.join(name)).unwrap_or_default();
            (
                std::fs::read_to_string(path).unwrap_or_default(),
                read(format!("{stem}.jsonl")),
                read(format!("{stem}.events.jsonl")),
            )
        })
        .collect()
}

/// Simulates every program of an artifact on leads and events, with a
/// clock bound so that damaged programs end.
fn simulate(artifact: &Artifact, leads: &str, events: &str) {
    for program in &artifact.programs {
        let leads = leads_from_jsonl(leads, "leads", program);
        let events = events_from_jsonl(events, "events", program.timezone);
        let mut inputs: Vec<Input> = leads.records.into_iter().map(Input::Lead).collect();
        inputs.extend(events.records.into_iter().map(Input::Event));
        let start =
            DateLiteral::parse("2026-03-06T09:00Z").map(|date| date.instant(program.timezone));
        let Some(start) = start else { return };
        let until = flowc::calendar::add_days(program.timezone, start, 400);
        let mut simulation =
            Simulation::new(program, Recorder::new(Default::default(), true), true);
        simulation.run(inputs, start, Some(until));
        let mut out = String::new();
        let events = simulation.timeline.take().unwrap_or_default();
        flowc::runtime::timeline::write_table(program, &simulation.leads, &events, &mut out);
        flowc::runtime::timeline::write_summary(program, &simulation.summary, &mut out);
        flowc::bytecode::disassemble(program);
    }
}

/// Replaces the `which`-th number of a JSON text with `value`.
fn replace_number(json: &str, which: usize, value: &str) -> String {
    let mut count = 0;
    let mut out = String::with_capacity(json.len());
    let mut chars = json.char_indices().peekable();
    let mut in_string = false;
    let mut escaped = false;
    while let Some((_, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            continue;
        }
        if c.is_ascii_digit() || c == '-' {
            let mut number = String::from(c);
            while let Some(&(_, next)) = chars.peek() {
                if next.is_ascii_digit() || matches!(next, '.' | 'e' | 'E' | '+' | '-') {
                    number.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push_str(if count == which { value } else { &number });
            count += 1;
            continue;
        }
        out.push(c);
    }
    out
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "255",
    "1440",
    "65535",
    "4294967295",
    "-1",
    "99999999999",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_are_never_a_program(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        // Refused with an error (and no panic): never taken for a program.
        prop_assert!(Artifact::from_bytes(&bytes).is_err());
    }

    #[test]
    fn random_lead_and_event_files_never_panic(text in "[ -~\n{}\\[\\]\":,0-9a-z]{0,400}") {
        let artifact = flowc::compile::compile_source(&examples()[0].0, Some(&common::examples_dir())).map_err(|_| TestCaseError::fail("compiles"))?;
        let program = &artifact.programs[0];
        let _ = leads_from_jsonl(&text, "leads", program);
        let _ = leads_from_csv(&text, "leads", program);
        let _ = events_from_jsonl(&text, "events", program.timezone);
    }

    #[test]
    fn damaged_programs_run_without_panicking(example in 0usize..6, which in 0usize..4000, value in 0usize..10) {
        let examples = examples();
        let (source, leads, events) = &examples[example % examples.len()];
        let artifact = flowc::compile::compile_source(source, Some(&common::examples_dir())).map_err(|_| TestCaseError::fail("compiles"))?;
        let json = String::from_utf8(artifact.to_bytes()).map_err(|_| TestCaseError::fail("utf-8"))?;
        let damaged = replace_number(&json, which, NUMBERS[value]);
        if let Ok(artifact) = Artifact::from_bytes(damaged.as_bytes()) {
            simulate(&artifact, leads, events);
        }
    }

    #[test]
    fn mutated_examples_that_compile_simulate_without_panicking(
        example in 0usize..6,
        cut in 0usize..4000,
        length in 0usize..40,
        insert in "[ -~\n]{0,12}",
    ) {
        let examples = examples();
        let (source, leads, events) = &examples[example % examples.len()];
        let mut start = cut.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + length).min(source.len());
        while !source.is_char_boundary(end) {
            end -= 1;
        }
        let mutated = format!("{}{}{}", &source[..start], insert, &source[end..]);
        if let Ok(artifact) = flowc::compile::compile_source(&mutated, Some(&common::examples_dir())) {
            simulate(&artifact, leads, events);
        }
    }
}

#[test]
fn every_example_simulates_when_its_numbers_are_damaged_one_by_one() {
    for (source, leads, events) in examples() {
        let Ok(artifact) = flowc::compile::compile_source(&source, Some(&common::examples_dir()))
        else {
            panic!("every example compiles");
        };
        let json = String::from_utf8(artifact.to_bytes()).unwrap_or_default();
        let numbers = json.matches(|c: char| c.is_ascii_digit()).count();
        let mut simulated = 0;
        for which in (0..numbers).step_by(7) {
            let damaged = replace_number(&json, which, "4294967295");
            if let Ok(artifact) = Artifact::from_bytes(damaged.as_bytes()) {
                simulate(&artifact, &leads, &events);
                simulated += 1;
            }
        }
        // Most damage keeps the artifact loadable: indexes out of range,
        // times that do not exist, and so on reach the interpreter.
        assert!(
            simulated * 2 > numbers / 7,
            "{simulated} of {} loaded",
            numbers / 7
        );
    }
}

#[test]
fn a_wait_of_zero_seconds_right_after_a_wake_up_wakes_every_lead_once() {
    let source = "workflow w\n  timezone UTC\n  trigger when email is set\n  windows\n    email mon-fri 09:00-17:00\n  steps\n    wait 1 minute\n    wait 2 minutes\n    send email\n      to lead\n      subject \"x\"\n      body \"y\"\n";
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    let json = String::from_utf8(artifact.to_bytes()).expect("utf-8");
    // A wait of nothing right after a wake-up: the enrollment is queued
    // again at the very key it was just taken with.
    let damaged = json.replace("{\"WaitSeconds\":120}", "{\"WaitSeconds\":0}");
    assert_ne!(damaged, json, "the wait is in the artifact");
    let artifact = Artifact::from_bytes(damaged.as_bytes()).expect("it loads");
    let program = &artifact.programs[0];
    // Saturday: the window is closed, every lead is held until Monday.
    let leads: String = (0..5)
        .map(|i| format!("{{\"id\": \"l{i}\", \"email\": \"l{i}@x.example\", \"at\": \"2026-03-07T10:00Z\"}}\n"))
        .collect();
    let records = leads_from_jsonl(&leads, "leads", program).records;
    let mut simulation = Simulation::new(program, Recorder::new(Default::default(), true), true);
    let start = DateLiteral::parse("2026-03-07T09:00Z")
        .expect("a time")
        .instant(program.timezone);
    simulation.run(records.into_iter().map(Input::Lead).collect(), start, None);
    let sent = simulation.summary.total(flowc::vm::EventKind::Sent);
    assert_eq!(sent, 5, "each lead is sent its email once, on Monday");
}
