//! `flowc run FILE --simulate --report report.html`: one self-contained
//! page whose counts agree with the timelines the same run prints, and
//! where lead data is text, never markup.

use std::path::Path;
use std::process::Command;

/// Runs a simulation of `flow` on `leads` with a report; the JSON Lines
/// timeline and the report.
fn simulate(flow: &Path, leads: &Path, dir: &Path) -> (Vec<serde_json::Value>, String) {
    let report = dir.join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("run")
        .arg(flow)
        .arg("--leads")
        .arg(leads)
        .args([
            "--start",
            "2026-03-06T09:00",
            "--simulate",
            "--format",
            "jsonl",
        ])
        .arg("--report")
        .arg(&report)
        .output()
        .expect("flowc runs");
    assert!(output.status.success(), "{output:?}");
    let lines = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect();
    (lines, std::fs::read_to_string(report).expect("the report"))
}

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn the_report_stands_alone_and_agrees_with_the_timelines() {
    let dir = tempfile::tempdir().expect("a folder");
    let (events, html) = simulate(
        &example("examples/inbound-demo-follow-up.flow"),
        &example("examples/leads/inbound-demo-follow-up.jsonl"),
        dir.path(),
    );
    // Self-contained: nothing is fetched when it opens.
    for outside in ["<script src", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(outside), "the report loads {outside}");
    }
    // Every send in the timeline is a cell count of its channel's heatmap.
    let sends = |channel: &str| {
        events
            .iter()
            .filter(|event| event["kind"] == "sent")
            .filter(|event| {
                event["detail"]
                    .as_str()
                    .is_some_and(|detail| detail.starts_with(channel))
            })
            .count() as u64
    };
    for channel in ["email", "text", "call"] {
        let start = html
            .find(&format!("data-channel=\"{channel}\""))
            .unwrap_or_else(|| panic!("no heatmap for {channel}"));
        let figure = &html[start..start + html[start..].find("</figure>").expect("closed")];
        let drawn: u64 = figure
            .split("data-count=\"")
            .skip(1)
            .map(|rest| {
                rest[..rest.find('"').expect("quoted")]
                    .parse::<u64>()
                    .expect("a count")
            })
            .sum();
        assert_eq!(drawn, sends(channel), "{channel}");
        assert!(
            figure.contains("window open"),
            "{channel}: the window is marked"
        );
    }
    // The canvas counts what the summary counts.
    let summary = events.last().expect("a summary");
    let entered = summary["summary"]["entered"].as_u64().expect("entered");
    assert!(
        html.contains(&format!(">{entered} entered</text>")),
        "trigger badge"
    );
    assert!(html.contains("data-step=\"sdr-call\""));
    // The first sample lead's messages, as they would be sent.
    assert!(html.contains("<dt>subject</dt><dd>Thanks for your interest, Ada</dd>"));
    assert!(html.contains("<dt>to</dt><dd>ada@northwind.example</dd>"));
}

#[test]
fn lead_data_in_the_report_is_text_not_markup() {
    let dir = tempfile::tempdir().expect("a folder");
    let leads = dir.path().join("leads.jsonl");
    std::fs::write(
        &leads,
        r#"{"id": "<img src=x onerror=alert(1)>", "email": "eve@evil.example", "first_name": "<script>alert(1)</script>", "lead_score": 90, "source": "website", "phone_number": "+13125550101", "num_employees": 5000}"#,
    )
    .expect("written");
    let (_, html) = simulate(
        &example("examples/inbound-demo-follow-up.flow"),
        &leads,
        dir.path(),
    );
    assert!(!html.contains("<script>alert"), "a script from lead data");
    assert!(!html.contains("<img src=x"), "markup from lead data");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
}

#[test]
fn a_report_that_cannot_be_written_says_what_was_done() {
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("run")
        .arg(example("examples/inbound-demo-follow-up.flow"))
        .arg("--leads")
        .arg(example("examples/leads/inbound-demo-follow-up.jsonl"))
        .args(["--start", "2026-03-06T09:00", "--simulate"])
        .args(["--report", "/nonexistent-folder/report.html"])
        .output()
        .expect("flowc runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the simulation ran and its timelines were written, but the report could not be written to /nonexistent-folder/report.html"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("summary of inbound-demo-follow-up"));
}
