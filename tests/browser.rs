//! The pages people look at, in a real browser (headless Chromium over
//! WebDriver): a simulation report opened from its file. Screenshots of
//! each page go to `target/screenshots/`.

#[path = "support/browser.rs"]
mod browser;

use std::path::Path;
use std::process::Command;

use browser::Browser;

/// Every card, label and tag of the canvas whose text spills out of its
/// box, as the browser lays the text out (empty when all fit).
const SPILLS: &str = r#"
const spills = [];
for (const group of document.querySelectorAll('svg.canvas g.card, svg.canvas g.label, svg.canvas a.jump')) {
  const shape = group.querySelector('rect, polygon').getBBox();
  const text = group.querySelector('text').getBBox();
  if (text.width === 0) spills.push('not drawn: ' + group.textContent);
  if (text.x < shape.x - 0.5 || text.x + text.width > shape.x + shape.width + 0.5
      || text.y < shape.y - 0.5 || text.y + text.height > shape.y + shape.height + 0.5) {
    spills.push(group.textContent.trim());
  }
}
return spills;
"#;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn a_report_opens_with_its_charts_drawn() {
    let dir = tempfile::tempdir().expect("a folder");
    let report = dir.path().join("report.html");
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("run")
        .arg(example("examples/inbound-demo-follow-up.flow"))
        .arg("--leads")
        .arg(example("examples/leads/inbound-demo-follow-up.jsonl"))
        .args(["--start", "2026-03-06T09:00", "--simulate", "--report"])
        .arg(&report)
        .output()
        .expect("flowc runs");
    assert!(output.status.success(), "{output:?}");

    let browser = Browser::start();
    browser.open(&format!("file://{}", report.display()));
    assert_eq!(
        browser.find("h1").text(),
        "inbound-demo-follow-up",
        "the report's title"
    );
    // The canvas: every card drawn, every text inside its box.
    let cards = browser.find_all("svg.canvas g.card");
    assert!(cards.len() >= 8, "{} cards", cards.len());
    let spills = browser.script(SPILLS, vec![]);
    assert_eq!(spills, serde_json::json!([]), "text outside its box");
    // Counts on the canvas: the trigger says how many entered.
    assert!(browser
        .find("svg.canvas g.trigger")
        .text()
        .contains("5 entered"));
    // A heatmap per channel sent on, each with a cell per hour of the
    // week, laid out with a size.
    for channel in ["email", "text", "call"] {
        let selector = format!("figure.heatmap[data-channel={channel}] rect.cell");
        let cells = browser.find_all(&selector);
        assert_eq!(cells.len(), 7 * 24, "{channel}");
        let width = browser.script(
            "return arguments[0].getBoundingClientRect().width",
            vec![cells[0].reference()],
        );
        assert!(width.as_f64().unwrap_or(0.0) > 10.0, "{channel}: {width}");
    }
    // The funnel's bars have lengths; the sample lead shows its email.
    let bars = browser.script(
        "return [...document.querySelectorAll('.funnel rect')].map(r => r.getBBox().width)",
        vec![],
    );
    let lengths: Vec<f64> = serde_json::from_value(bars).expect("numbers");
    assert!(lengths.iter().all(|length| *length > 0.0), "{lengths:?}");
    let sample = browser.find("details.sample").text();
    assert!(sample.contains("Thanks for your interest, Ada"), "{sample}");
    browser.screenshot("report");
}
