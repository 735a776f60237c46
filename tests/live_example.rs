//! `examples/run-live`, the one-command end-to-end example: a bundled
//! workflow runs live against local SMTP and HTTP stand-ins for every
//! provider, and every lead ends, and every message arrives, as the
//! simulation of the same workflow on the same leads predicts.

use std::collections::BTreeMap;
use std::process::Command;

const EXAMPLE: &str = "examples/inbound-demo-follow-up.flow";
const LEADS: &str = "examples/leads/inbound-demo-follow-up.jsonl";

fn flowc() -> &'static str {
    env!("CARGO_BIN_EXE_flowc")
}

/// What the simulation predicts: each lead's final status, and how many
/// effects were sent on each channel.
fn simulation() -> (BTreeMap<String, String>, BTreeMap<String, u64>) {
    let output = Command::new(flowc())
        .args([
            "run",
            EXAMPLE,
            "--leads",
            LEADS,
            "--simulate",
            "--format",
            "jsonl",
        ])
        .args(["--start", "2026-03-06T09:00"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("flowc runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut statuses = BTreeMap::new();
    let mut sent = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
        if record["kind"] == "sent" {
            // What was sent, by the channel its summary names.
            let detail = record["detail"].as_str().unwrap_or_default();
            let kind = [
                ("email to", "send-email"),
                ("text to", "send-text"),
                ("call to", "call"),
                ("slack ", "notify"),
                ("teams ", "notify"),
            ]
            .into_iter()
            .find(|(prefix, _)| detail.starts_with(prefix))
            .map_or("other", |(_, kind)| kind);
            *sent.entry(kind.to_owned()).or_insert(0) += 1;
        } else if matches!(
            record["kind"].as_str(),
            Some("completed" | "exited" | "failed")
        ) {
            statuses.insert(
                record["lead"].as_str().unwrap_or_default().to_owned(),
                record["kind"].as_str().unwrap_or_default().to_owned(),
            );
        }
    }
    (statuses, sent)
}

#[test]
fn the_live_example_ends_every_lead_as_simulated_with_every_message_delivered() {
    let output = Command::new("examples/run-live")
        .env("FLOWC", flowc())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("examples/run-live runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (statuses, sent) = simulation();
    assert!(statuses.len() >= 5, "{statuses:?}");
    for (lead, status) in &statuses {
        let row = text
            .lines()
            .find(|line| line.split_whitespace().next() == Some(lead))
            .unwrap_or_else(|| panic!("no row for {lead} in:\n{text}"));
        assert_eq!(
            row.split_whitespace().nth(3),
            Some(status.as_str()),
            "{lead} live: {row}"
        );
    }
    let emails: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix("== the SMTP server received "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("an email count");
    assert_eq!(emails, sent["send-email"], "{text}");
    assert_eq!(received(&text, "Twilio text"), sent["send-text"], "{text}");
    assert_eq!(
        received(&text, "Twilio call placed"),
        sent["call"],
        "{text}"
    );
    let webhooks = received(&text, "webhook /slack/");
    assert_eq!(webhooks, sent["notify"], "{text}");
    assert!(emails > 0 && webhooks > 0, "{text}");
}

/// The requests the script's summary counts under labels starting with
/// `label` (its lines read `  COUNT  LABEL`).
fn received(text: &str, label: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.trim().split_once("  "))
        .filter(|(_, rest)| rest.starts_with(label))
        .filter_map(|(count, _)| count.parse::<u64>().ok())
        .sum()
}
