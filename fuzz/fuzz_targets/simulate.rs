//! `cargo +nightly fuzz run simulate`: any `.flow` text that compiles is
//! simulated against a few leads and events; nothing may panic.
#![no_main]

use flowc::runtime::leads::{events_from_jsonl, leads_from_jsonl};
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};
use libfuzzer_sys::fuzz_target;

const LEADS: &str = r#"{"id": "a", "email": "a@x.example", "phone_number": "+15550100", "num_employees": 500, "timezone": "Asia/Tokyo"}
{"id": "b", "first_name": "B", "simulate": {"http": [503, {"status": 200, "body": {"a": {"b": 1}}}], "call": "voicemail"}}
{"id": "a", "at": "2026-03-08T02:30:00", "company_name": "Acme"}"#;

const EVENTS: &str = r#"{"at": "2026-03-07T10:00:00Z", "lead": "a", "event": "call_ended", "data": {"outcome": "answered"}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let Ok(artifact) = flowc::compile::compile_source(source, None) else { return };
    for program in &artifact.programs {
        let leads = leads_from_jsonl(LEADS, "leads", program);
        let events = events_from_jsonl(EVENTS, "events", program.timezone);
        let mut inputs: Vec<Input> = leads.records.into_iter().map(Input::Lead).collect();
        inputs.extend(events.records.into_iter().map(Input::Event));
        let Some(start) = flowc::value::DateLiteral::parse("2026-03-06T09:00Z") else { return };
        let start = start.instant(program.timezone);
        let until = flowc::calendar::add_days(program.timezone, start, 60);
        let mut simulation = Simulation::new(program, Recorder::new(Default::default(), false), true);
        simulation.run(inputs, start, Some(until));
    }
});
