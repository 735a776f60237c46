//! Every rule of the runtime semantics, pinned by leads whose timelines are
//! written out by hand: DST days in New York and Berlin, calendar days and
//! elapsed hours, time of day, windows, holds, branches, goto, re-entry,
//! goals, event triggers and missing values.

use flowc::runtime::leads::{events_from_jsonl, leads_from_jsonl};
use flowc::runtime::{together, Input};
use flowc::value::DateLiteral;

/// The timeline of every lead, one line per event:
/// `lead  local time  kind  detail`.
fn timeline(source: &str, leads: &str, events: &str, start: &str) -> String {
    simulate(source, leads, events, start, None)
}

/// The timeline of a run that stops at `until`.
fn timeline_until(source: &str, leads: &str, start: &str, until: &str) -> String {
    simulate(source, leads, "", start, Some(until))
}

fn simulate(source: &str, leads: &str, events: &str, start: &str, until: Option<&str>) -> String {
    simulate_under(source, leads, events, start, until, "")
}

/// A timeline under the `[policy]` of `config` (flowc.toml text).
fn simulate_under(
    source: &str,
    leads: &str,
    events: &str,
    start: &str,
    until: Option<&str>,
    config: &str,
) -> String {
    let artifact = match flowc::compile::compile_source(source, None) {
        Ok(artifact) => artifact,
        Err(diagnostics) => panic!("the test workflow has errors: {diagnostics:?}"),
    };
    let program = &artifact.programs[0];
    let leads = leads_from_jsonl(leads, "leads", program);
    assert!(leads.bad.is_empty(), "bad leads: {:?}", leads.bad);
    let events = events_from_jsonl(events, "events", program.timezone);
    assert!(events.bad.is_empty(), "bad events: {:?}", events.bad);
    let mut inputs: Vec<Input> = leads.records.into_iter().map(Input::Lead).collect();
    inputs.extend(events.records.into_iter().map(Input::Event));
    let instant = |text: &str| {
        DateLiteral::parse(text)
            .expect("a time")
            .instant(program.timezone)
    };
    let start = instant(start);
    let policy = flowc::config::Config::parse(config)
        .expect("a config")
        .policy;
    let mut simulations = together::policed([program], &Default::default(), &policy.into(), true);
    let simulation = &mut simulations[0];
    simulation.run(inputs, start, until.map(instant));
    let mut lines = Vec::new();
    let mut events = simulation.timeline.take().unwrap_or_default();
    events.sort_by_key(|event| event.lead);
    for event in events {
        let lead = &simulation.leads[event.lead as usize].id;
        let at = event
            .event
            .at
            .with_timezone(&program.timezone)
            .format("%Y-%m-%d %H:%M %Z");
        let line = format!(
            "{lead}  {at}  {}  {}",
            event.event.kind.name(),
            event.event.detail
        );
        lines.push(line.trim_end().to_owned());
    }
    lines.join("\n")
}

fn workflow(zone: &str, extra: &str, steps: &str) -> String {
    format!("workflow test\n  timezone {zone}\n  re-entry always\n{extra}  trigger when email is set\n  steps\n{steps}")
}

const ONE_LEAD: &str = r#"{"id": "a", "email": "a@x.example"}"#;

#[test]
fn a_day_on_spring_forward_keeps_the_wall_clock_and_hours_do_not() {
    let days = workflow("America/New_York", "", "    wait 1 day\n");
    assert_eq!(
        timeline(&days, ONE_LEAD, "", "2026-03-07T09:00"),
        "a  2026-03-07 09:00 EST  entered\n\
         a  2026-03-07 09:00 EST  waited  until 2026-03-08T09:00:00-04:00\n\
         a  2026-03-08 09:00 EDT  completed"
    );
    let hours = workflow("America/New_York", "", "    wait 24 hours\n");
    assert_eq!(
        timeline(&hours, ONE_LEAD, "", "2026-03-07T09:00"),
        "a  2026-03-07 09:00 EST  entered\n\
         a  2026-03-07 09:00 EST  waited  until 2026-03-08T10:00:00-04:00\n\
         a  2026-03-08 10:00 EDT  completed"
    );
}

#[test]
fn a_day_on_fall_back_keeps_the_wall_clock_and_hours_do_not() {
    let days = workflow("America/New_York", "", "    wait 1 day\n");
    assert_eq!(
        timeline(&days, ONE_LEAD, "", "2026-10-31T09:00"),
        "a  2026-10-31 09:00 EDT  entered\n\
         a  2026-10-31 09:00 EDT  waited  until 2026-11-01T09:00:00-05:00\n\
         a  2026-11-01 09:00 EST  completed"
    );
    let hours = workflow("America/New_York", "", "    wait 24h\n");
    assert_eq!(
        timeline(&hours, ONE_LEAD, "", "2026-10-31T09:00"),
        "a  2026-10-31 09:00 EDT  entered\n\
         a  2026-10-31 09:00 EDT  waited  until 2026-11-01T08:00:00-05:00\n\
         a  2026-11-01 08:00 EST  completed"
    );
}

#[test]
fn berlin_dst_days_for_days_and_hours() {
    let steps = "    wait 1 day\n    wait 24 hours\n";
    let source = workflow("Europe/Berlin", "", steps);
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-03-28T09:00"),
        "a  2026-03-28 09:00 CET  entered\n\
         a  2026-03-28 09:00 CET  waited  until 2026-03-29T09:00:00+02:00\n\
         a  2026-03-29 09:00 CEST  waited  until 2026-03-30T09:00:00+02:00\n\
         a  2026-03-30 09:00 CEST  completed"
    );
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-10-24T09:00"),
        "a  2026-10-24 09:00 CEST  entered\n\
         a  2026-10-24 09:00 CEST  waited  until 2026-10-25T09:00:00+01:00\n\
         a  2026-10-25 09:00 CET  waited  until 2026-10-26T09:00:00+01:00\n\
         a  2026-10-26 09:00 CET  completed"
    );
}

#[test]
fn a_day_into_the_spring_gap_moves_forward_by_the_gap() {
    let source = workflow("America/New_York", "", "    wait 1 day\n");
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-03-07T02:30"),
        "a  2026-03-07 02:30 EST  entered\n\
         a  2026-03-07 02:30 EST  waited  until 2026-03-08T03:30:00-04:00\n\
         a  2026-03-08 03:30 EDT  completed"
    );
}

#[test]
fn a_day_onto_the_repeated_hour_takes_the_earlier_instant() {
    let source = workflow("America/New_York", "", "    wait 1 day\n    wait 1 hour\n");
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-10-31T01:30"),
        "a  2026-10-31 01:30 EDT  entered\n\
         a  2026-10-31 01:30 EDT  waited  until 2026-11-01T01:30:00-04:00\n\
         a  2026-11-01 01:30 EDT  waited  until 2026-11-01T01:30:00-05:00\n\
         a  2026-11-01 01:30 EST  completed"
    );
}

#[test]
fn time_of_day_before_at_and_after() {
    let source = workflow("Europe/Berlin", "", "    wait until 10:00\n");
    let leads = r#"{"id": "before", "email": "b@x.example", "at": "2026-06-01T09:59"}
{"id": "at", "email": "a@x.example", "at": "2026-06-01T10:00"}
{"id": "after", "email": "c@x.example", "at": "2026-06-01T10:01"}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T00:00"),
        "before  2026-06-01 09:59 CEST  entered\n\
         before  2026-06-01 09:59 CEST  waited  until 2026-06-01T10:00:00+02:00\n\
         before  2026-06-01 10:00 CEST  completed\n\
         at  2026-06-01 10:00 CEST  entered\n\
         at  2026-06-01 10:00 CEST  completed\n\
         after  2026-06-01 10:01 CEST  entered\n\
         after  2026-06-01 10:01 CEST  waited  until 2026-06-02T10:00:00+02:00\n\
         after  2026-06-02 10:00 CEST  completed"
    );
}

#[test]
fn a_loop_through_a_time_of_day_passes_it_once_per_instant() {
    let steps = "    label daily\n    wait until 10:00\n    notify slack sales\n      message \"tick\"\n    goto daily\n";
    let source = workflow("UTC", "", steps);
    let lines: Vec<String> =
        timeline_until(&source, ONE_LEAD, "2026-06-01T10:00", "2026-06-02T10:00")
            .lines()
            .map(str::to_owned)
            .collect();
    assert_eq!(
        lines,
        [
            "a  2026-06-01 10:00 UTC  entered",
            "a  2026-06-01 10:00 UTC  sent  slack sales: tick",
            "a  2026-06-01 10:00 UTC  waited  until 2026-06-02T10:00:00+00:00",
            "a  2026-06-02 10:00 UTC  sent  slack sales: tick",
            "a  2026-06-02 10:00 UTC  waited  until 2026-06-03T10:00:00+00:00",
        ]
    );
}

#[test]
fn time_of_day_across_fall_back_waits_an_extra_hour() {
    let source = workflow("America/New_York", "", "    wait until 09:00\n");
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-10-31T18:00"),
        "a  2026-10-31 18:00 EDT  entered\n\
         a  2026-10-31 18:00 EDT  waited  until 2026-11-01T09:00:00-05:00\n\
         a  2026-11-01 09:00 EST  completed"
    );
}

#[test]
fn time_of_day_in_the_second_pass_of_fall_back_never_releases_in_the_past() {
    // 06:15Z on 2026-11-01 is 01:15 EST, the second 01:15 in New York.
    let source = workflow("America/New_York", "", "    wait until 01:30\n");
    let lead = r#"{"id": "a", "email": "a@x.example", "at": "2026-11-01T06:15:00Z"}"#;
    assert_eq!(
        timeline(&source, lead, "", "2026-11-01T00:00"),
        "a  2026-11-01 01:15 EST  entered\n\
         a  2026-11-01 01:15 EST  waited  until 2026-11-01T01:30:00-05:00\n\
         a  2026-11-01 01:30 EST  completed"
    );
}

const SEND: &str = "    send email\n      to lead\n      subject \"Hi\"\n      body \"Hello\"\n";

#[test]
fn a_closed_window_holds_then_releases_at_the_next_opening() {
    let windows = "  windows\n    email mon-fri 09:00-17:00\n";
    let source = workflow("America/New_York", windows, SEND);
    let leads = r#"{"id": "friday-evening", "email": "f@x.example", "at": "2026-03-06T17:00"}
{"id": "open", "email": "o@x.example", "at": "2026-03-06T16:59"}
{"id": "dawn", "email": "d@x.example", "at": "2026-03-09T08:00"}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-03-06T00:00"),
        "open  2026-03-06 16:59 EST  entered\n\
         open  2026-03-06 16:59 EST  sent  email to o@x.example: Hi\n\
         open  2026-03-06 16:59 EST  completed\n\
         friday-evening  2026-03-06 17:00 EST  entered\n\
         friday-evening  2026-03-06 17:00 EST  held  email window closed; release at 2026-03-09T09:00:00-04:00\n\
         friday-evening  2026-03-09 09:00 EDT  released\n\
         friday-evening  2026-03-09 09:00 EDT  sent  email to f@x.example: Hi\n\
         friday-evening  2026-03-09 09:00 EDT  completed\n\
         dawn  2026-03-09 08:00 EDT  entered\n\
         dawn  2026-03-09 08:00 EDT  held  email window closed; release at 2026-03-09T09:00:00-04:00\n\
         dawn  2026-03-09 09:00 EDT  released\n\
         dawn  2026-03-09 09:00 EDT  sent  email to d@x.example: Hi\n\
         dawn  2026-03-09 09:00 EDT  completed"
    );
}

#[test]
fn a_window_opening_in_the_spring_gap_releases_when_a_send_would_go_out() {
    // 2026-03-08, New York: 02:00 EST jumps to 03:00 EDT. The window opens
    // when the clock reads a time in 02:30-04:00: at 03:00 EDT, for a lead
    // held since midnight and a lead arriving then alike.
    let windows = "  windows\n    email every day 02:30-04:00\n";
    let source = workflow("America/New_York", windows, SEND);
    let leads = r#"{"id": "held", "email": "h@x.example", "at": "2026-03-08T00:00"}
{"id": "arrives", "email": "a@x.example", "at": "2026-03-08T07:00:00Z"}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-03-08T00:00"),
        "held  2026-03-08 00:00 EST  entered\n\
         held  2026-03-08 00:00 EST  held  email window closed; release at 2026-03-08T03:00:00-04:00\n\
         held  2026-03-08 03:00 EDT  released\n\
         held  2026-03-08 03:00 EDT  sent  email to h@x.example: Hi\n\
         held  2026-03-08 03:00 EDT  completed\n\
         arrives  2026-03-08 03:00 EDT  entered\n\
         arrives  2026-03-08 03:00 EDT  sent  email to a@x.example: Hi\n\
         arrives  2026-03-08 03:00 EDT  completed"
    );
}

#[test]
fn windows_across_midnight_and_on_weekends() {
    let windows = "  windows\n    email weekends 22:00-24:00, 00:00-02:00\n";
    let source = workflow("Europe/Berlin", windows, SEND);
    let leads = r#"{"id": "sat-late", "email": "s@x.example", "at": "2026-06-06T23:30"}
{"id": "sun-night", "email": "n@x.example", "at": "2026-06-07T01:59"}
{"id": "sun-two", "email": "t@x.example", "at": "2026-06-07T02:00"}
{"id": "mon", "email": "m@x.example", "at": "2026-06-08T00:30"}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-06T00:00"),
        "sat-late  2026-06-06 23:30 CEST  entered\n\
         sat-late  2026-06-06 23:30 CEST  sent  email to s@x.example: Hi\n\
         sat-late  2026-06-06 23:30 CEST  completed\n\
         sun-night  2026-06-07 01:59 CEST  entered\n\
         sun-night  2026-06-07 01:59 CEST  sent  email to n@x.example: Hi\n\
         sun-night  2026-06-07 01:59 CEST  completed\n\
         sun-two  2026-06-07 02:00 CEST  entered\n\
         sun-two  2026-06-07 02:00 CEST  held  email window closed; release at 2026-06-07T22:00:00+02:00\n\
         sun-two  2026-06-07 22:00 CEST  released\n\
         sun-two  2026-06-07 22:00 CEST  sent  email to t@x.example: Hi\n\
         sun-two  2026-06-07 22:00 CEST  completed\n\
         mon  2026-06-08 00:30 CEST  entered\n\
         mon  2026-06-08 00:30 CEST  held  email window closed; release at 2026-06-13T00:00:00+02:00\n\
         mon  2026-06-13 00:00 CEST  released\n\
         mon  2026-06-13 00:00 CEST  sent  email to m@x.example: Hi\n\
         mon  2026-06-13 00:00 CEST  completed"
    );
}

#[test]
fn windows_in_the_lead_timezone_fall_back_to_the_account_timezone() {
    let windows = "  windows\n    email every day 09:00-10:00 in lead timezone\n";
    let source = workflow("Europe/Berlin", windows, SEND);
    let leads = r#"{"id": "tokyo", "email": "t@x.example", "timezone": "Asia/Tokyo"}
{"id": "missing", "email": "m@x.example"}
{"id": "invalid", "email": "i@x.example", "timezone": "Mars/Base"}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T08:00"),
        "tokyo  2026-06-01 08:00 CEST  entered\n\
         tokyo  2026-06-01 08:00 CEST  held  email window closed; release at 2026-06-02T02:00:00+02:00\n\
         tokyo  2026-06-02 02:00 CEST  released\n\
         tokyo  2026-06-02 02:00 CEST  sent  email to t@x.example: Hi\n\
         tokyo  2026-06-02 02:00 CEST  completed\n\
         missing  2026-06-01 08:00 CEST  entered\n\
         missing  2026-06-01 08:00 CEST  held  email window closed; release at 2026-06-01T09:00:00+02:00\n\
         missing  2026-06-01 09:00 CEST  released\n\
         missing  2026-06-01 09:00 CEST  sent  email to m@x.example: Hi\n\
         missing  2026-06-01 09:00 CEST  completed\n\
         invalid  2026-06-01 08:00 CEST  entered\n\
         invalid  2026-06-01 08:00 CEST  held  email window closed; release at 2026-06-01T09:00:00+02:00\n\
         invalid  2026-06-01 09:00 CEST  released\n\
         invalid  2026-06-01 09:00 CEST  sent  email to i@x.example: Hi\n\
         invalid  2026-06-01 09:00 CEST  completed"
    );
}

#[test]
fn channel_steps_without_an_address_are_skipped() {
    let steps = "    send text\n      body \"Hi\"\n    call phone\n    send email\n      to lead and rep\n      subject \"Hi\"\n      body \"Hello\"\n";
    let source = workflow("UTC", "", steps);
    let leads = r#"{"id": "a", "email": "a@x.example", "assigned_rep_email": ""}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T08:00"),
        "a  2026-06-01 08:00 UTC  entered\n\
         a  2026-06-01 08:00 UTC  skipped  no phone number\n\
         a  2026-06-01 08:00 UTC  skipped  no phone number\n\
         a  2026-06-01 08:00 UTC  sent  email to a@x.example: Hi\n\
         a  2026-06-01 08:00 UTC  completed"
    );
}

const BRANCHES: &str = "    condition
      branch big when num_employees >= 100
        exit \"big\"
      branch bigger when num_employees >= 1000
        exit \"bigger\"
      branch not-acme when not (company_name is \"Acme\")
        exit \"not acme\"
    end
";

#[test]
fn the_first_matching_branch_wins_and_no_match_exits() {
    let source = workflow("UTC", "", BRANCHES);
    let leads = r#"{"id": "huge", "email": "h@x.example", "num_employees": 5000}
{"id": "unknown", "email": "u@x.example"}
{"id": "acme", "email": "a@x.example", "company_name": "Acme", "num_employees": 10}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T08:00"),
        "huge  2026-06-01 08:00 UTC  entered\n\
         huge  2026-06-01 08:00 UTC  branched  big\n\
         huge  2026-06-01 08:00 UTC  exited  big\n\
         unknown  2026-06-01 08:00 UTC  entered\n\
         unknown  2026-06-01 08:00 UTC  branched  not-acme\n\
         unknown  2026-06-01 08:00 UTC  exited  not acme\n\
         acme  2026-06-01 08:00 UTC  entered\n\
         acme  2026-06-01 08:00 UTC  exited  no branch matched"
    );
}

#[test]
fn missing_values_fail_every_comparison_but_is_not_set() {
    let steps = "    condition
      branch not-ops when job_title is not \"Ops\"
        exit \"is not\"
      branch outside when job_title is not one of \"Ops\", \"IT\"
        exit \"not one of\"
      branch no-x when job_title does not contain \"x\"
        exit \"does not contain\"
      branch small when num_employees < 10
        exit \"small\"
      branch absent when job_title is not set
        exit \"absent\"
    end
";
    let source = workflow("UTC", "", steps);
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-06-01T08:00"),
        "a  2026-06-01 08:00 UTC  entered\n\
         a  2026-06-01 08:00 UTC  branched  absent\n\
         a  2026-06-01 08:00 UTC  exited  absent"
    );
}

#[test]
fn goto_merges_paths_and_loops_through_waits() {
    let steps = "    condition
      branch vip when tags contains \"vip\"
        goto notify-team
      else
        wait 1 hour
    end
    exit \"regular\"
    label notify-team
    notify slack sales
      message \"VIP {{ email }}\"
";
    let extra = "  fields\n    tags list of text\n";
    let source = workflow("UTC", extra, steps);
    let leads = r#"{"id": "vip", "email": "v@x.example", "tags": ["vip"]}
{"id": "plain", "email": "p@x.example", "tags": []}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T08:00"),
        "vip  2026-06-01 08:00 UTC  entered\n\
         vip  2026-06-01 08:00 UTC  branched  vip\n\
         vip  2026-06-01 08:00 UTC  sent  slack sales: VIP v@x.example\n\
         vip  2026-06-01 08:00 UTC  completed\n\
         plain  2026-06-01 08:00 UTC  entered\n\
         plain  2026-06-01 08:00 UTC  branched  else\n\
         plain  2026-06-01 08:00 UTC  waited  until 2026-06-01T09:00:00+00:00\n\
         plain  2026-06-01 09:00 UTC  exited  regular"
    );
}

const REENTRY_STEPS: &str = "    wait 1 day\n";
/// The trigger (`email is set`) goes true at 08:00 on June 1st, stays true
/// through updates that change other fields, goes false on June 3rd and
/// true again on June 3rd and June 6th.
const UPDATES: &str = r#"{"id": "a", "email": "a@x.example"}
{"id": "a", "at": "2026-06-01T12:00", "first_name": "A"}
{"id": "a", "at": "2026-06-02T12:00", "first_name": "B"}
{"id": "a", "at": "2026-06-03T11:00", "email": null}
{"id": "a", "at": "2026-06-03T12:00", "email": "a@x.example"}
{"id": "a", "at": "2026-06-04T12:00", "first_name": "C"}
{"id": "a", "at": "2026-06-05T12:00", "email": null}
{"id": "a", "at": "2026-06-06T12:00", "email": "a@x.example"}
{"id": "a", "at": "2026-06-07T12:00"}"#;

fn entries(policy: &str) -> Vec<String> {
    let source = format!(
        "workflow test\n  timezone UTC\n  re-entry {policy}\n  trigger when email is set\n  steps\n{REENTRY_STEPS}"
    );
    timeline(&source, UPDATES, "", "2026-06-01T08:00")
        .lines()
        .filter(|line| line.contains("  entered"))
        .map(|line| line.split("  ").nth(1).unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn re_entry_is_an_edge_of_the_trigger_under_never_always_and_after() {
    assert_eq!(entries("never"), ["2026-06-01 08:00 UTC"]);
    // Updates that leave the trigger matching (June 2nd, 4th and 7th: the
    // lead is no longer active then) never re-enroll; only the trigger going
    // from false to true does.
    assert_eq!(
        entries("always"),
        [
            "2026-06-01 08:00 UTC",
            "2026-06-03 12:00 UTC",
            "2026-06-06 12:00 UTC"
        ]
    );
    assert_eq!(
        entries("after 4 days"),
        ["2026-06-01 08:00 UTC", "2026-06-06 12:00 UTC"]
    );
}

#[test]
fn re_entry_never_happens_while_an_enrollment_is_active() {
    // The trigger flips false and true again on June 1st while the lead
    // still waits: no second enrollment.
    let leads = r#"{"id": "a", "email": "a@x.example"}
{"id": "a", "at": "2026-06-01T10:00", "email": null}
{"id": "a", "at": "2026-06-01T11:00", "email": "a@x.example"}"#;
    let source = format!(
        "workflow test\n  timezone UTC\n  re-entry always\n  trigger when email is set\n  steps\n{REENTRY_STEPS}"
    );
    let entered = timeline(&source, leads, "", "2026-06-01T08:00")
        .lines()
        .filter(|line| line.contains("entered"))
        .count();
    assert_eq!(entered, 1);
}

#[test]
fn goals_end_enrollments_when_the_lead_changes_and_keep_leads_that_met_them_out() {
    let extra = "  fields\n    replied bool\n  goal replied when replied is true\n";
    let source = workflow("UTC", extra, "    wait 2 days\n    exit \"no reply\"\n");
    let leads = r#"{"id": "replies", "email": "r@x.example", "replied": false}
{"id": "silent", "email": "s@x.example", "replied": false}
{"id": "already", "email": "a@x.example", "replied": true}
{"id": "replies", "at": "2026-06-02T10:00", "replied": true}"#;
    assert_eq!(
        timeline(&source, leads, "", "2026-06-01T08:00"),
        "replies  2026-06-01 08:00 UTC  entered\n\
         replies  2026-06-01 08:00 UTC  waited  until 2026-06-03T08:00:00+00:00\n\
         replies  2026-06-02 10:00 UTC  exited  goal replied reached\n\
         replies  2026-06-02 10:00 UTC  refused  trigger-unchanged: the trigger already matched before this change (re-entry needs it to stop matching first)\n\
         silent  2026-06-01 08:00 UTC  entered\n\
         silent  2026-06-01 08:00 UTC  waited  until 2026-06-03T08:00:00+00:00\n\
         silent  2026-06-03 08:00 UTC  exited  no reply\n\
         already  2026-06-01 08:00 UTC  refused  goal-holds: goal replied already holds"
    );
}

#[test]
fn event_triggers_enroll_on_matching_events_with_their_payload() {
    let source = "workflow test
  timezone UTC
  re-entry always
  event call_ended
    outcome text
    seconds number
  trigger on call_ended when event.outcome is \"answered\" and email is set
  steps
    notify slack sales
      message \"{{ email }} talked for {{ event.seconds }}s\"
";
    let leads = r#"{"id": "a", "email": "a@x.example"}
{"id": "b"}"#;
    let events = r#"{"at": "2026-06-01T09:00Z", "lead": "a", "event": "call_ended", "data": {"outcome": "answered", "seconds": 95}}
{"at": "2026-06-01T10:00Z", "lead": "a", "event": "call_ended", "data": {"outcome": "voicemail", "seconds": 20}}
{"at": "2026-06-01T11:00Z", "lead": "a", "event": "chat_left", "data": {}}
{"at": "2026-06-01T12:00Z", "lead": "b", "event": "call_ended", "data": {"outcome": "answered", "seconds": 40}}"#;
    assert_eq!(
        timeline(source, leads, events, "2026-06-01T08:00"),
        "a  2026-06-01 09:00 UTC  entered\n\
         a  2026-06-01 09:00 UTC  sent  slack sales: a@x.example talked for 95s\n\
         a  2026-06-01 09:00 UTC  completed\n\
         a  2026-06-01 10:00 UTC  refused  trigger-false: the trigger does not match\n\
         b  2026-06-01 12:00 UTC  refused  trigger-false: the trigger does not match"
    );
}

#[test]
fn the_look_back_keeps_long_inactive_leads_out() {
    let source = "workflow test\n  timezone UTC\n  look back 30 days\n  trigger when email is set\n  steps\n    wait 1 hour\n";
    let leads = r#"{"id": "recent", "email": "r@x.example", "last_activity_at": "2026-05-20T00:00Z"}
{"id": "stale", "email": "s@x.example", "last_activity_at": "2026-04-01T00:00Z"}
{"id": "unknown", "email": "u@x.example"}"#;
    let entered: Vec<String> = timeline(source, leads, "", "2026-06-01T08:00")
        .lines()
        .filter(|line| line.contains("entered"))
        .map(|line| line.split("  ").next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(entered, ["recent", "unknown"]);
}

#[test]
fn transient_failures_hold_and_back_off_then_permanent_ones_branch() {
    let steps = "    http get \"https://api.example/{{ email }}\"
      extract
        size number from data.size
      on error
        exit \"lookup failed\"
    end
    notify slack sales
      message \"size {{ size }}\"
";
    let source = workflow("UTC", "", steps);
    let leads = r#"{"id": "flaky", "email": "f@x.example", "simulate": {"http": [503, 429, {"status": 200, "body": {"data": {"size": "12"}}}]}}
{"id": "gone", "email": "g@x.example", "simulate": {"http": 404}}
{"id": "wrong", "email": "w@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"size": "many"}}}}}"#;
    let timeline = timeline(&source, leads, "", "2026-06-01T08:00");
    // Retries back off with jitter: retry n comes after half to all of
    // 60 s × 2^(n-1), at an instant each held line states.
    let releases: Vec<chrono::DateTime<chrono::FixedOffset>> = timeline
        .lines()
        .filter_map(|line| line.split_once("; release at ").map(|(_, at)| at))
        .map(|at| chrono::DateTime::parse_from_rfc3339(at).expect("an instant"))
        .collect();
    let start = chrono::DateTime::parse_from_rfc3339("2026-06-01T08:00:00Z").expect("instant");
    assert_eq!(releases.len(), 2, "{timeline}");
    let first = (releases[0] - start).num_seconds();
    let second = (releases[1] - releases[0]).num_seconds();
    assert!((30..=60).contains(&first), "first retry after {first} s");
    assert!(
        (60..=120).contains(&second),
        "second retry after {second} s"
    );
    let minute = |at: &chrono::DateTime<chrono::FixedOffset>| at.format("%Y-%m-%d %H:%M UTC");
    let (r1, r2) = (releases[0].to_rfc3339(), releases[1].to_rfc3339());
    let (m1, m2) = (minute(&releases[0]), minute(&releases[1]));
    assert_eq!(
        timeline,
        format!(
            "flaky  2026-06-01 08:00 UTC  entered\n\
             flaky  2026-06-01 08:00 UTC  held  GET https://api.example/f%40x.example failed (attempt 1): status 503; release at {r1}\n\
             flaky  {m1}  released\n\
             flaky  {m1}  held  GET https://api.example/f%40x.example failed (attempt 2): status 429; release at {r2}\n\
             flaky  {m2}  released\n\
             flaky  {m2}  sent  GET https://api.example/f%40x.example (status 200; size=12)\n\
             flaky  {m2}  sent  slack sales: size 12\n\
             flaky  {m2}  completed\n\
             gone  2026-06-01 08:00 UTC  entered\n\
             gone  2026-06-01 08:00 UTC  branched  on error: GET https://api.example/g%40x.example failed: status 404\n\
             gone  2026-06-01 08:00 UTC  exited  lookup failed\n\
             wrong  2026-06-01 08:00 UTC  entered\n\
             wrong  2026-06-01 08:00 UTC  branched  on error: GET https://api.example/w%40x.example failed: `size` should be a number but the response has `many`\n\
             wrong  2026-06-01 08:00 UTC  exited  lookup failed"
        )
    );
}

/// A rejected text used to stop the lead before its call: now a step
/// nothing depends on goes on by default, on the timeline as `undelivered`.
#[test]
fn a_permanent_send_failure_goes_on_by_default_and_fails_when_told_to() {
    let steps = "    send text\n      body \"hi\"\n    notify slack sales\n      message \"hi\"\n    wait 1 hour\n";
    let leads = r#"{"id": "a", "email": "a@x.example", "phone_number": "+15550100", "simulate": {"text": "rejected"}}"#;
    assert_eq!(
        timeline(&workflow("UTC", "", steps), leads, "", "2026-06-01T08:00"),
        "a  2026-06-01 08:00 UTC  entered\n\
         a  2026-06-01 08:00 UTC  undelivered  text to +15550100: hi failed: rejected (scripted)\n\
         a  2026-06-01 08:00 UTC  sent  slack sales: hi\n\
         a  2026-06-01 08:00 UTC  waited  until 2026-06-01T09:00:00+00:00\n\
         a  2026-06-01 09:00 UTC  completed"
    );
    let failing = workflow("UTC", "  on send failure fail\n", steps);
    assert_eq!(
        timeline(&failing, leads, "", "2026-06-01T08:00"),
        "a  2026-06-01 08:00 UTC  entered\n\
         a  2026-06-01 08:00 UTC  failed  text to +15550100: hi failed: rejected (scripted)"
    );
}

/// A step whose extracted fields come later fails the enrollment, whatever
/// the setting: nothing could stand in for the missing value.
#[test]
fn a_permanent_failure_of_a_step_that_extracts_fails_the_enrollment() {
    let steps = "    http get \"https://api.example/{{ email }}\"\n      extract\n        size number from data.size\n    wait 1 hour\n";
    let leads = r#"{"id": "a", "email": "a@x.example", "simulate": {"http": 404}}"#;
    assert_eq!(
        timeline(
            &workflow("UTC", "  on send failure continue\n", steps),
            leads,
            "",
            "2026-06-01T08:00"
        ),
        "a  2026-06-01 08:00 UTC  entered\n\
         a  2026-06-01 08:00 UTC  failed  GET https://api.example/a%40x.example failed: status 404"
    );
}

#[test]
fn a_missing_required_extraction_fails_the_step_and_an_optional_one_may_be_missing() {
    let steps = "    http get \"https://api.example/{{ email }}\"
      extract
        size number from data.size
        region optional text from data.region
      on error
        exit \"lookup failed\"
    end
    prompt
      instructions \"Classify {{ email }}\"
      extract
        segment text \"enterprise, mid-market or smb\"
    notify slack sales
      message \"{{ size }} people, {{ segment }}, {{ region | default: \"no region\" }}\"
";
    let source = workflow("UTC", "", steps);
    let leads = r#"{"id": "full", "email": "f@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"size": 12, "region": "EU"}}}, "prompt": {"segment": "smb"}}}
{"id": "no-region", "email": "n@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"size": 12}}}, "prompt": {"segment": "smb"}}}
{"id": "no-size", "email": "s@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"region": "EU"}}}}}
{"id": "null-size", "email": "z@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"size": null}}}}}
{"id": "empty-answer", "email": "e@x.example", "simulate": {"http": {"status": 200, "body": {"data": {"size": 3}}}, "prompt": {}}}"#;
    let timeline = timeline(&source, leads, "", "2026-06-01T08:00");
    let last = |lead: &str| {
        timeline
            .lines()
            .rfind(|line| line.starts_with(&format!("{lead} ")))
            .unwrap_or_default()
            .split("  ")
            .skip(2)
            .collect::<Vec<_>>()
            .join("  ")
    };
    assert!(
        timeline.contains("slack sales: 12 people, smb, EU"),
        "{timeline}"
    );
    assert!(
        timeline.contains("slack sales: 12 people, smb, no region"),
        "{timeline}"
    );
    assert_eq!(last("no-size"), "exited  lookup failed");
    assert!(
        timeline.contains("failed: the response has no `size` (at data.size)"),
        "{timeline}"
    );
    assert_eq!(last("null-size"), "exited  lookup failed");
    assert!(
        last("empty-answer").starts_with("failed")
            && last("empty-answer").contains("the answer has no `segment`"),
        "an answer of {{}} is a failure, not success: {timeline}"
    );
    assert!(!timeline.contains("slack sales:  people"), "{timeline}");
}

/// Every step's id, in instruction order.
fn step_ids(source: &str) -> Vec<String> {
    let artifact = flowc::compile::compile_source(source, None).expect("it compiles");
    artifact.programs[0]
        .origins
        .iter()
        .map(|origin| origin.label.clone())
        .collect()
}

#[test]
fn step_ids_are_labels_or_structural_paths_that_survive_edits_elsewhere() {
    let source = "workflow ids
  timezone UTC
  trigger when email is set
  steps
    send email
      to lead
      subject \"Hi\"
      body \"Hello\"
    label sdr-call
    call phone
      on answered
        notify slack sales
          message \"answered\"
    end
    condition
      branch big when num_employees >= 100
        wait 1 day
      else
        exit \"small\"
    end
";
    let ids = step_ids(source);
    for id in [
        "steps/1",
        "sdr-call",
        "sdr-call/on answered/1",
        "steps/3",
        "steps/3/branch big/1",
        "steps/3/else/1",
    ] {
        assert!(ids.iter().any(|known| known == id), "{id} in {ids:?}");
    }
    // A comment, a blank line and a changed subject move no step.
    let edited = source
        .replace("  steps\n", "  steps\n    # the welcome\n\n")
        .replace("subject \"Hi\"", "subject \"Hello there\"");
    assert_eq!(step_ids(&edited), ids);
}

#[test]
fn a_scripted_answer_that_names_no_step_is_an_error() {
    let source = workflow(
        "UTC",
        "",
        "    http get \"https://api.example/{{ email }}\"\n",
    );
    let artifact = flowc::compile::compile_source(&source, None).expect("it compiles");
    let program = &artifact.programs[0];
    let leads = r#"{"id": "a", "email": "a@x.example", "simulate": {"http@4": 503}}
{"id": "b", "email": "b@x.example", "simulate": {"steps/1": 503, "http": 200}}"#;
    let read = leads_from_jsonl(leads, "leads", program);
    assert_eq!(read.records.len(), 1, "only b is read");
    assert_eq!(read.bad.len(), 1);
    let said = read.bad[0].to_string();
    assert!(
        said.contains(
            "`simulate` names `http@4`, which is no step with an effect: name one of steps/1"
        ),
        "{said}"
    );
}

#[test]
fn time_relative_triggers_and_goals_are_tested_as_time_passes() {
    // `quiet` is 30 days quiet when its record arrives: it enters when it
    // turns 90 days quiet, with no update. `noisy` has been active since.
    let source = "workflow wake-up
  timezone UTC
  fields
    last_activity_at datetime
    replied_at optional datetime
  trigger when last_activity_at is older than 90 days
  goal replied when replied_at is within last 30 days
  steps
    wait 30 days
    exit \"no reply\"
";
    let leads = r#"{"id": "quiet", "last_activity_at": "2026-03-01T10:00:00Z"}
{"id": "noisy", "last_activity_at": "2026-03-01T10:00:00Z"}
{"id": "noisy", "at": "2026-05-01T00:00", "last_activity_at": "2026-05-01T00:00:00Z"}"#;
    assert_eq!(
        timeline(source, leads, "", "2026-03-31T00:00"),
        "quiet  2026-03-31 00:00 UTC  refused  trigger-false: the trigger does not match\n\
         quiet  2026-05-30 10:00 UTC  entered\n\
         quiet  2026-05-30 10:00 UTC  waited  until 2026-06-29T10:00:01+00:00\n\
         quiet  2026-06-29 10:00 UTC  exited  no reply\n\
         noisy  2026-03-31 00:00 UTC  refused  trigger-false: the trigger does not match\n\
         noisy  2026-07-30 00:00 UTC  entered\n\
         noisy  2026-07-30 00:00 UTC  waited  until 2026-08-29T00:00:01+00:00\n\
         noisy  2026-08-29 00:00 UTC  exited  no reply"
    );
    // A goal that a reply met stops holding 30 days later: a lead whose
    // trigger goes true meanwhile enters only once it no longer holds.
    let leads = r#"{"id": "replied", "last_activity_at": "2026-01-01T00:00:00Z", "replied_at": "2026-03-20T00:00:00Z"}"#;
    assert_eq!(
        timeline(source, leads, "", "2026-04-01T00:00"),
        "replied  2026-04-01 00:00 UTC  refused  trigger-false: the trigger does not match\n\
         replied  2026-04-01 00:00 UTC  refused  goal-holds: goal replied already holds\n\
         replied  2026-04-19 00:00 UTC  entered\n\
         replied  2026-04-19 00:00 UTC  waited  until 2026-05-19T00:00:01+00:00\n\
         replied  2026-05-19 00:00 UTC  exited  no reply"
    );
}

/// A split with shares 50/30/20 that records the variant each lead takes.
const SPLIT_STEPS: &str = "    label subject-test\n    split\n      variant short 50%\n        wait 1 hour\n      variant long 30%\n        wait 2 hours\n      variant none 20%\n        exit \"held out\"\n    end\n";

/// The variant each lead took, from a timeline.
fn variants(timeline: &str) -> Vec<(String, String)> {
    timeline
        .lines()
        .filter(|line| line.contains("branched"))
        .map(|line| {
            let lead = line.split_whitespace().next().unwrap_or_default();
            let variant = line.rsplit("variant ").next().unwrap_or_default();
            (lead.to_owned(), variant.to_owned())
        })
        .collect()
}

fn many_leads(count: usize) -> String {
    (0..count)
        .map(|i| format!("{{\"id\": \"lead-{i}\", \"email\": \"l{i}@x.example\"}}\n"))
        .collect()
}

#[test]
fn a_split_records_the_variant_and_goes_on_after_its_end() {
    let source = workflow(
        "America/New_York",
        "",
        &format!("{SPLIT_STEPS}    wait 1 day\n"),
    );
    let line = timeline(&source, ONE_LEAD, "", "2026-03-07T09:00");
    let taken = variants(&line);
    assert_eq!(taken.len(), 1, "{line}");
    let expected = match taken[0].1.as_str() {
        "short" => {
            "a  2026-03-07 09:00 EST  entered\n\
                    a  2026-03-07 09:00 EST  branched  variant short\n\
                    a  2026-03-07 09:00 EST  waited  until 2026-03-07T10:00:00-05:00\n\
                    a  2026-03-07 10:00 EST  waited  until 2026-03-08T10:00:00-04:00\n\
                    a  2026-03-08 10:00 EDT  completed"
        }
        "long" => {
            "a  2026-03-07 09:00 EST  entered\n\
                   a  2026-03-07 09:00 EST  branched  variant long\n\
                   a  2026-03-07 09:00 EST  waited  until 2026-03-07T11:00:00-05:00\n\
                   a  2026-03-07 11:00 EST  waited  until 2026-03-08T11:00:00-04:00\n\
                   a  2026-03-08 11:00 EDT  completed"
        }
        _ => {
            "a  2026-03-07 09:00 EST  entered\n\
              a  2026-03-07 09:00 EST  branched  variant none\n\
              a  2026-03-07 09:00 EST  exited  held out"
        }
    };
    assert_eq!(line, expected);
}

#[test]
fn split_assignment_follows_the_shares_and_never_changes_for_a_lead() {
    let source = workflow("America/New_York", "", SPLIT_STEPS);
    let leads = many_leads(4000);
    let first = variants(&timeline(&source, &leads, "", "2026-03-07T09:00"));
    assert_eq!(first.len(), 4000);
    let share = |name: &str| first.iter().filter(|(_, taken)| taken == name).count();
    // 50/30/20 of 4,000 within three standard deviations (at most 95).
    for (name, expected) in [("short", 2000), ("long", 1200), ("none", 800)] {
        let got = share(name);
        assert!(
            got.abs_diff(expected) < 95,
            "{name}: {got} of 4000, expected about {expected}"
        );
    }
    // Another run on another day, with the leads in another order, and a
    // version of the workflow with a step added before the labelled split:
    // every lead takes the variant it took before.
    let mut reversed: Vec<&str> = leads.lines().collect();
    reversed.reverse();
    let edited = workflow(
        "America/New_York",
        "",
        &format!("    wait 5 minutes\n{SPLIT_STEPS}"),
    );
    let mut again = variants(&timeline(
        &edited,
        &reversed.join("\n"),
        "",
        "2026-11-01T01:30",
    ));
    let mut first = first;
    first.sort();
    again.sort();
    assert_eq!(first, again);
}

#[test]
fn two_splits_draw_independently() {
    let steps = "    split\n      variant a 50%\n        wait 1 hour\n      variant b 50%\n        wait 1 hour\n    end\n    split\n      variant c 50%\n        wait 1 hour\n      variant d 50%\n        wait 1 hour\n    end\n";
    let source = workflow("UTC", "", steps);
    let taken = variants(&timeline(
        &source,
        &many_leads(2000),
        "",
        "2026-03-07T09:00",
    ));
    let mut by_lead: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (lead, variant) in taken {
        by_lead.entry(lead).or_default().push(variant);
    }
    let a_then_c = by_lead
        .values()
        .filter(|taken| taken.as_slice() == ["a", "c"])
        .count();
    // Independent draws put about a quarter of the leads on a-then-c; the
    // same draw for both splits would put half there.
    assert!(a_then_c.abs_diff(500) < 70, "a then c: {a_then_c} of 2000");
}

/// The fields of the waits on a field.
const DEMO_FIELDS: &str = "  fields\n    demo_at optional datetime\n";

#[test]
fn a_wait_on_a_field_counts_days_on_the_calendar_and_hours_elapsed_across_dst() {
    // The demo is on the Monday after spring forward, 10:00 EDT.
    let lead = r#"{"id": "a", "email": "a@x.example", "demo_at": "2026-03-09T10:00:00-04:00"}"#;
    let days = workflow(
        "America/New_York",
        DEMO_FIELDS,
        "    wait until demo_at - 2 days\n    wait until demo_at + 1 hour\n",
    );
    assert_eq!(
        timeline(&days, lead, "", "2026-03-06T09:00"),
        "a  2026-03-06 09:00 EST  entered\n\
         a  2026-03-06 09:00 EST  waited  until 2026-03-07T10:00:00-05:00\n\
         a  2026-03-07 10:00 EST  waited  until 2026-03-09T11:00:00-04:00\n\
         a  2026-03-09 11:00 EDT  completed"
    );
    let hours = workflow(
        "America/New_York",
        DEMO_FIELDS,
        "    wait until demo_at - 48 hours\n",
    );
    assert_eq!(
        timeline(&hours, lead, "", "2026-03-06T09:00"),
        "a  2026-03-06 09:00 EST  entered\n\
         a  2026-03-06 09:00 EST  waited  until 2026-03-07T09:00:00-05:00\n\
         a  2026-03-07 09:00 EST  completed"
    );
}

#[test]
fn a_missing_field_or_a_passed_instant_goes_on_at_once_or_takes_its_block() {
    let leads = r#"{"id": "none", "email": "n@x.example"}
{"id": "past", "email": "p@x.example", "demo_at": "2026-03-01T10:00:00-05:00"}"#;
    let plain = workflow(
        "America/New_York",
        DEMO_FIELDS,
        "    wait until demo_at - 1 hour\n    exit \"after\"\n",
    );
    assert_eq!(
        timeline(&plain, leads, "", "2026-03-06T09:00"),
        "none  2026-03-06 09:00 EST  entered\n\
         none  2026-03-06 09:00 EST  skipped  no wait: demo_at is not set\n\
         none  2026-03-06 09:00 EST  exited  after\n\
         past  2026-03-06 09:00 EST  entered\n\
         past  2026-03-06 09:00 EST  skipped  no wait: 2026-03-01T09:00:00-05:00 passed\n\
         past  2026-03-06 09:00 EST  exited  after"
    );
    let branched = workflow(
        "America/New_York",
        DEMO_FIELDS,
        "    wait until demo_at - 1 hour\n      if missing\n        exit \"no demo\"\n      if past\n        wait 1 hour\n    end\n    exit \"after\"\n",
    );
    assert_eq!(
        timeline(&branched, leads, "", "2026-03-06T09:00"),
        "none  2026-03-06 09:00 EST  entered\n\
         none  2026-03-06 09:00 EST  branched  if missing\n\
         none  2026-03-06 09:00 EST  exited  no demo\n\
         past  2026-03-06 09:00 EST  entered\n\
         past  2026-03-06 09:00 EST  branched  if past\n\
         past  2026-03-06 09:00 EST  waited  until 2026-03-06T10:00:00-05:00\n\
         past  2026-03-06 10:00 EST  exited  after"
    );
}

#[test]
fn a_wait_on_a_field_follows_the_field_moved_later() {
    // The demo moves from Tuesday to Thursday while the lead waits.
    let leads = r#"{"id": "a", "email": "a@x.example", "demo_at": "2026-03-10T10:00:00-04:00"}
{"id": "a", "demo_at": "2026-03-12T10:00:00-04:00", "at": "2026-03-09T12:00:00-04:00"}"#;
    let source = workflow(
        "America/New_York",
        DEMO_FIELDS,
        "    wait until demo_at - 1 hour\n    exit \"reminded\"\n",
    );
    assert_eq!(
        timeline(&source, leads, "", "2026-03-09T09:00"),
        "a  2026-03-09 09:00 EDT  entered\n\
         a  2026-03-09 09:00 EDT  waited  until 2026-03-10T09:00:00-04:00\n\
         a  2026-03-09 12:00 EDT  refused  already-active: an enrollment of the lead is still running\n\
         a  2026-03-10 09:00 EDT  waited  until 2026-03-12T09:00:00-04:00\n\
         a  2026-03-12 09:00 EDT  exited  reminded"
    );
}

#[test]
fn clock_waits_on_days_with_next_and_in_the_lead_timezone() {
    let steps = "    wait until weekday 09:30\n    wait until next weekday 09:30\n    wait until sun 02:30\n    wait until mon 09:00 in lead timezone\n";
    let source = workflow("America/New_York", "", steps);
    let leads = r#"{"id": "berlin", "email": "b@x.example", "timezone": "Europe/Berlin"}
{"id": "mars", "email": "m@x.example", "timezone": "Mars/Base"}"#;
    // Thursday 08:00: today at 09:30, then Friday (not today), then the
    // spring-forward Sunday's 02:30 (in the gap: 03:30 EDT), then Monday
    // 09:00 in Berlin (CET) or, with no valid timezone, in New York.
    assert_eq!(
        timeline(&source, leads, "", "2026-03-05T08:00"),
        "berlin  2026-03-05 08:00 EST  entered\n\
         berlin  2026-03-05 08:00 EST  waited  until 2026-03-05T09:30:00-05:00\n\
         berlin  2026-03-05 09:30 EST  waited  until 2026-03-06T09:30:00-05:00\n\
         berlin  2026-03-06 09:30 EST  waited  until 2026-03-08T03:30:00-04:00\n\
         berlin  2026-03-08 03:30 EDT  waited  until 2026-03-09T04:00:00-04:00\n\
         berlin  2026-03-09 04:00 EDT  completed\n\
         mars  2026-03-05 08:00 EST  entered\n\
         mars  2026-03-05 08:00 EST  waited  until 2026-03-05T09:30:00-05:00\n\
         mars  2026-03-05 09:30 EST  waited  until 2026-03-06T09:30:00-05:00\n\
         mars  2026-03-06 09:30 EST  waited  until 2026-03-08T03:30:00-04:00\n\
         mars  2026-03-08 03:30 EDT  waited  until 2026-03-09T09:00:00-04:00\n\
         mars  2026-03-09 09:00 EDT  completed"
    );
}

#[test]
fn clock_waits_on_the_fall_back_sunday() {
    let steps = "    wait until sun 01:30\n    wait until next sunday 01:30\n";
    let source = workflow("America/New_York", "", steps);
    // The repeated hour's first 01:30 counts; `next` skips the rest of the day.
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-11-01T00:00"),
        "a  2026-11-01 00:00 EDT  entered\n\
         a  2026-11-01 00:00 EDT  waited  until 2026-11-01T01:30:00-04:00\n\
         a  2026-11-01 01:30 EDT  waited  until 2026-11-08T01:30:00-05:00\n\
         a  2026-11-08 01:30 EST  completed"
    );
}

#[test]
fn a_bounded_goto_goes_back_its_count_then_goes_on() {
    let steps = "    label sdr-call\n    wait 1 day\n    goto sdr-call up to 2 times\n    exit \"no answer after three calls\"\n";
    let source = workflow("America/New_York", "", steps);
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-03-07T09:00"),
        "a  2026-03-07 09:00 EST  entered\n\
         a  2026-03-07 09:00 EST  waited  until 2026-03-08T09:00:00-04:00\n\
         a  2026-03-08 09:00 EDT  branched  goto sdr-call (1 of 2)\n\
         a  2026-03-08 09:00 EDT  waited  until 2026-03-09T09:00:00-04:00\n\
         a  2026-03-09 09:00 EDT  branched  goto sdr-call (2 of 2)\n\
         a  2026-03-09 09:00 EDT  waited  until 2026-03-10T09:00:00-04:00\n\
         a  2026-03-10 09:00 EDT  branched  went back 2 times: go on\n\
         a  2026-03-10 09:00 EDT  exited  no answer after three calls"
    );
}

/// A workflow that waits for `call_ended` up to a day.
fn call_wait(blocks: &str) -> String {
    workflow(
        "America/New_York",
        "  event call_ended\n    outcome text\n",
        &format!("    wait for call_ended up to 1 day\n{blocks}"),
    )
}

#[test]
fn a_wait_for_an_event_goes_on_when_it_happens_with_its_payload() {
    let blocks = "      on event\n        exit \"call {{ event.outcome }}\"\n      on timeout\n        exit \"no call\"\n    end\n";
    let leads = r#"{"id": "a", "email": "a@x.example"}
{"id": "b", "email": "b@x.example"}"#;
    let events = r#"{"at": "2026-03-07T15:00", "lead": "a", "event": "call_ended", "data": {"outcome": "booked"}}
{"at": "2026-03-08T12:00", "lead": "b", "event": "call_ended", "data": {"outcome": "late"}}"#;
    // The timeout is a calendar day: 09:00 EST to 09:00 EDT across spring
    // forward; b's call comes after it and changes nothing.
    assert_eq!(
        timeline(&call_wait(blocks), leads, events, "2026-03-07T09:00"),
        "a  2026-03-07 09:00 EST  entered\n\
         a  2026-03-07 09:00 EST  waited  for call_ended until 2026-03-08T09:00:00-04:00\n\
         a  2026-03-07 15:00 EST  branched  on event call_ended\n\
         a  2026-03-07 15:00 EST  exited  call booked\n\
         b  2026-03-07 09:00 EST  entered\n\
         b  2026-03-07 09:00 EST  waited  for call_ended until 2026-03-08T09:00:00-04:00\n\
         b  2026-03-08 09:00 EDT  branched  on timeout\n\
         b  2026-03-08 09:00 EDT  exited  no call"
    );
}

#[test]
fn without_blocks_a_wait_for_an_event_goes_on_either_way() {
    let leads = r#"{"id": "a", "email": "a@x.example"}
{"id": "b", "email": "b@x.example"}"#;
    let events = r#"{"at": "2026-11-01T01:30", "lead": "a", "event": "call_ended", "data": {"outcome": "x"}}"#;
    assert_eq!(
        timeline(
            &call_wait("    exit \"after\"\n"),
            leads,
            events,
            "2026-10-31T09:00"
        ),
        "a  2026-10-31 09:00 EDT  entered\n\
         a  2026-10-31 09:00 EDT  waited  for call_ended until 2026-11-01T09:00:00-05:00\n\
         a  2026-11-01 01:30 EDT  branched  on event call_ended\n\
         a  2026-11-01 01:30 EDT  exited  after\n\
         b  2026-10-31 09:00 EDT  entered\n\
         b  2026-10-31 09:00 EDT  waited  for call_ended until 2026-11-01T09:00:00-05:00\n\
         b  2026-11-01 09:00 EST  branched  on timeout\n\
         b  2026-11-01 09:00 EST  exited  after"
    );
}

/// A workflow with holidays on Friday 2026-03-06 and on Christmas.
const HOLIDAYS: &str = "  holidays 2026-03-06, 2026-12-25\n";

#[test]
fn business_days_skip_weekends_and_holidays_and_keep_the_wall_clock() {
    let source = workflow("America/New_York", HOLIDAYS, "    wait 2 business days\n");
    let leads = r#"{"id": "thu", "email": "t@x.example"}"#;
    // Thursday: Friday is a holiday, the weekend does not count, and the
    // clock moves to EDT on the Sunday.
    assert_eq!(
        timeline(&source, leads, "", "2026-03-05T10:00"),
        "thu  2026-03-05 10:00 EST  entered\n\
         thu  2026-03-05 10:00 EST  waited  until 2026-03-10T10:00:00-04:00\n\
         thu  2026-03-10 10:00 EDT  completed"
    );
    let one = workflow("America/New_York", HOLIDAYS, "    wait 1 business day\n");
    assert_eq!(
        timeline(&one, ONE_LEAD, "", "2026-03-07T10:00"),
        "a  2026-03-07 10:00 EST  entered\n\
         a  2026-03-07 10:00 EST  waited  until 2026-03-09T10:00:00-04:00\n\
         a  2026-03-09 10:00 EDT  completed"
    );
}

#[test]
fn a_window_that_skips_holidays_stays_closed_on_them() {
    let skipping = format!("{HOLIDAYS}  windows\n    email mon-fri 09:00-17:00 skip holidays\n");
    let source = workflow("America/New_York", &skipping, SEND);
    assert_eq!(
        timeline(&source, ONE_LEAD, "", "2026-12-24T18:00"),
        "a  2026-12-24 18:00 EST  entered\n\
         a  2026-12-24 18:00 EST  held  email window closed; release at 2026-12-28T09:00:00-05:00\n\
         a  2026-12-28 09:00 EST  released\n\
         a  2026-12-28 09:00 EST  sent  email to a@x.example: Hi\n\
         a  2026-12-28 09:00 EST  completed"
    );
    let plain = format!("{HOLIDAYS}  windows\n    email mon-fri 09:00-17:00\n");
    let source = workflow("America/New_York", &plain, SEND);
    assert!(
        timeline(&source, ONE_LEAD, "", "2026-12-24T18:00")
            .contains("release at 2026-12-25T09:00:00-05:00"),
        "without skip holidays the window opens on Christmas"
    );
}

#[test]
fn outside_its_window_a_step_may_skip_or_hold_a_while_then_skip() {
    let windows = "  windows\n    email mon-fri 09:00-17:00\n";
    let step = |option: &str| {
        format!("    send email\n      to lead\n      subject \"Hi\"\n      body \"x\"\n      {option}\n    exit \"after\"\n")
    };
    // Friday 18:00: the window opens Monday 09:00, 63 hours later.
    let skip = workflow("America/New_York", windows, &step("outside window skip"));
    assert_eq!(
        timeline(&skip, ONE_LEAD, "", "2026-03-06T18:00"),
        "a  2026-03-06 18:00 EST  entered\n\
         a  2026-03-06 18:00 EST  skipped  email window closed: skipped (outside window skip)\n\
         a  2026-03-06 18:00 EST  exited  after"
    );
    let short = workflow(
        "America/New_York",
        windows,
        &step("outside window hold up to 2 days then skip"),
    );
    assert_eq!(
        timeline(&short, ONE_LEAD, "", "2026-03-06T18:00"),
        "a  2026-03-06 18:00 EST  entered\n\
         a  2026-03-06 18:00 EST  skipped  email window closed: skipped: it does not open within 2d (outside window hold)\n\
         a  2026-03-06 18:00 EST  exited  after"
    );
    // On a Thursday evening the window opens within the two days: it holds.
    assert_eq!(
        timeline(&short, ONE_LEAD, "", "2026-03-05T18:00"),
        "a  2026-03-05 18:00 EST  entered\n\
         a  2026-03-05 18:00 EST  held  email window closed; release at 2026-03-06T09:00:00-05:00\n\
         a  2026-03-06 09:00 EST  released\n\
         a  2026-03-06 09:00 EST  sent  email to a@x.example: Hi\n\
         a  2026-03-06 09:00 EST  exited  after"
    );
}

#[test]
fn within_next_days_counts_calendar_days_across_spring_forward() {
    // 1 day before 12:00 EDT on Sunday is 12:00 EST on Saturday: 23 hours.
    let source = "workflow ahead
  timezone America/New_York
  fields
    demo_at datetime
  trigger when demo_at is within next 1 day
  steps
    exit \"reminded\"
";
    let leads = r#"{"id": "a", "demo_at": "2026-03-08T12:00:00-04:00"}"#;
    assert_eq!(
        timeline(source, leads, "", "2026-03-06T09:00"),
        "a  2026-03-06 09:00 EST  refused  trigger-false: the trigger does not match\n\
         a  2026-03-07 12:00 EST  entered\n\
         a  2026-03-07 12:00 EST  exited  reminded\n\
         a  2026-03-08 12:00 EDT  refused  trigger-false: the trigger does not match"
    );
}

#[test]
fn fields_compare_with_fields_bounds_are_included_and_lists_are_counted() {
    let source = "workflow compare
  timezone UTC
  fields
    seats number
    seats_used optional number
    renewal_at datetime
    contract_end_at optional datetime
    tags list of text
  trigger when seats is set
  steps
    condition
      branch over when seats_used > seats
        exit \"over\"
      branch early when renewal_at is before contract_end_at
        exit \"early\"
      branch edge when seats_used is between 1 and seats
        exit \"edge\"
      branch tagged when tags has more than 1 item
        exit \"tagged\"
      else
        exit \"none\"
    end
";
    let lead = |id: &str, fields: &str| {
        format!(
            r#"{{"id": "{id}", "seats": 10, "renewal_at": "2026-06-01T00:00:00Z", "tags": ["x"]{fields}}}"#
        )
    };
    let leads = [
        lead("over", r#", "seats_used": 11"#),
        lead("early", r#", "contract_end_at": "2026-07-01T00:00:00Z""#),
        lead("late", r#", "contract_end_at": "2026-05-01T00:00:00Z""#),
        lead("edge", r#", "seats_used": 10"#),
        lead("tagged", r#", "tags": ["x", "y"]"#),
        // A missing field to compare with fails the test, as a missing value does.
        lead("missing", ""),
    ]
    .join("\n");
    let exits: Vec<String> = timeline(source, &leads, "", "2026-03-06T09:00")
        .lines()
        .filter(|line| line.contains("exited"))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            format!("{} {}", words[0], words[words.len() - 1])
        })
        .collect();
    assert_eq!(
        exits,
        [
            "over over",
            "early early",
            "late none",
            "edge edge",
            "tagged tagged",
            "missing none"
        ]
    );
}

#[test]
fn a_default_may_name_another_field() {
    let steps = "    send email\n      to lead\n      subject \"Hi {{ first_name | default: company_name }}\"\n      body \"x\"\n";
    let source = workflow("UTC", "", steps);
    let leads = r#"{"id": "named", "email": "n@x.example", "first_name": "Ann", "company_name": "Acme"}
{"id": "company", "email": "c@x.example", "company_name": "Acme"}
{"id": "neither", "email": "e@x.example"}"#;
    let timeline = timeline(&source, leads, "", "2026-03-06T09:00");
    let sent: Vec<&str> = timeline
        .lines()
        .filter(|line| line.contains("sent"))
        .filter_map(|line| line.split(": ").nth(1))
        .collect();
    assert_eq!(sent, ["Hi Ann", "Hi Acme", "Hi"]);
}

#[test]
fn a_window_test_reads_the_lead_clock_and_takes_the_other_path_when_closed() {
    // 09:30 on the day US clocks go forward: 09:30 EDT in New York, 08:30
    // CDT in Chicago; a lead with no valid timezone reads the account's.
    let windows = "  windows\n    email every day 09:00-17:00 in lead timezone\n";
    let steps = "    condition\n      branch now when email window is open\n        exit \"now\"\n      else\n        exit \"later\"\n    end\n";
    let source = workflow("America/New_York", windows, steps);
    let leads = r#"{"id": "ny", "email": "n@x.example", "timezone": "America/New_York"}
{"id": "chi", "email": "c@x.example", "timezone": "America/Chicago"}
{"id": "bad", "email": "b@x.example", "timezone": "Mars/Olympus"}"#;
    let exits: Vec<String> = timeline(&source, leads, "", "2026-03-08T09:30")
        .lines()
        .filter(|line| line.contains("exited"))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        exits,
        [
            "ny 2026-03-08 09:30 EDT exited now",
            "chi 2026-03-08 09:30 EDT exited later",
            "bad 2026-03-08 09:30 EDT exited now"
        ]
    );
}

/// Quiet hours 21:00-08:00 on the recipient's clock, on the weekend US
/// clocks go forward: its timezone, else its number's country's one clock
/// (said on the timeline), else the workflow's (said too).
#[test]
fn quiet_hours_hold_texts_on_the_recipients_clock() {
    let config = "[policy]\nquiet_hours = { from = \"21:00\", to = \"08:00\" }\n";
    let steps = "    send text\n      body \"Hi\"\n";
    let source =
        "workflow quiet\n  timezone America/New_York\n  trigger when phone_number is set\n  steps\n"
            .to_owned() + steps;
    let leads = r#"{"id": "ny", "phone_number": "+12125550100", "timezone": "America/New_York"}
{"id": "berlin", "phone_number": "+4915155550143"}
{"id": "us", "phone_number": "+12125550101"}
{"id": "la", "phone_number": "+13105550100", "timezone": "America/Los_Angeles"}"#;
    let timeline = simulate_under(&source, leads, "", "2026-03-07T22:00", None, config);
    let lines: Vec<&str> = timeline.lines().collect();
    assert_eq!(
        lines,
        [
            "ny  2026-03-07 22:00 EST  entered",
            "ny  2026-03-07 22:00 EST  held  contact policy: quiet hours 21:00-08:00 in America/New_York; release at 2026-03-08T08:00:00-04:00",
            "ny  2026-03-08 08:00 EDT  released",
            "ny  2026-03-08 08:00 EDT  sent  text to +12125550100: Hi",
            "ny  2026-03-08 08:00 EDT  completed",
            // 22:00 EST is 04:00 in Berlin.
            "berlin  2026-03-07 22:00 EST  entered",
            "berlin  2026-03-07 22:00 EST  held  contact policy: quiet hours 21:00-08:00 in Europe/Berlin, from the phone number's country (DE); release at 2026-03-08T03:00:00-04:00",
            "berlin  2026-03-08 03:00 EDT  released",
            "berlin  2026-03-08 03:00 EDT  sent  text to +4915155550143: Hi",
            "berlin  2026-03-08 03:00 EDT  completed",
            "us  2026-03-07 22:00 EST  entered",
            "us  2026-03-07 22:00 EST  held  contact policy: quiet hours 21:00-08:00 in America/New_York, the workflow's: the lead has no valid timezone and its number gives none; release at 2026-03-08T08:00:00-04:00",
            "us  2026-03-08 08:00 EDT  released",
            "us  2026-03-08 08:00 EDT  sent  text to +12125550101: Hi",
            "us  2026-03-08 08:00 EDT  completed",
            // 22:00 in New York is 19:00 in Los Angeles: not quiet there.
            "la  2026-03-07 22:00 EST  entered",
            "la  2026-03-07 22:00 EST  sent  text to +13105550100: Hi",
            "la  2026-03-07 22:00 EST  completed",
        ]
    );
}
