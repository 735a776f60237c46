//! The pages people look at, in a real browser (headless Chromium over
//! WebDriver): a simulation report opened from its file, and the console
//! of `flowc serve` from signing in to retrying a failed step. Screenshots
//! of each page go to `target/screenshots/`.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/live.rs"]
mod live;
#[path = "support/providers.rs"]
mod providers;
#[path = "support/python.rs"]
mod python;
#[path = "support/service.rs"]
mod service;

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

/// What keeps a page from being usable without a mouse or with weak
/// sight (empty when nothing does): a form control without a label, a
/// picture without a title, a button without text, a page without a
/// language or one main heading, and text whose contrast with what is
/// behind it is under 4.5:1 (WCAG AA).
const BARRIERS: &str = r#"
const barriers = [];
if (!document.documentElement.lang) barriers.push('no lang');
if (document.querySelectorAll('h1').length !== 1) barriers.push('not one h1');
for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const labelled = (control.id && document.querySelector('label[for="' + control.id + '"]'))
    || control.closest('label') || control.getAttribute('aria-label');
  if (!labelled) barriers.push('unlabelled ' + control.outerHTML);
}
for (const svg of document.querySelectorAll('svg')) {
  if (!svg.querySelector('title') && !svg.getAttribute('aria-label')) barriers.push('untitled svg');
}
for (const button of document.querySelectorAll('button')) {
  if (!button.textContent.trim()) barriers.push('empty button');
}
const rgb = (text) => (text.match(/[\d.]+/g) || []).map(Number);
const luminance = ([r, g, b]) => {
  const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
const background = (element) => {
  for (let at = element; at && at.nodeType === 1; at = at.parentElement) {
    const color = rgb(getComputedStyle(at).backgroundColor);
    if (color.length === 3 || (color.length === 4 && color[3] > 0)) return color.slice(0, 3);
  }
  return [255, 255, 255];
};
for (const element of document.querySelectorAll('main *, header *')) {
  if (element.closest('svg')) continue;
  const own = [...element.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || element.offsetParent === null) continue;
  const fore = luminance(rgb(getComputedStyle(element).color).slice(0, 3));
  const back = luminance(background(element));
  const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
  if (ratio < 4.5) barriers.push('contrast ' + ratio.toFixed(2) + ': ' + element.textContent.trim().slice(0, 40));
}
return barriers;
"#;

/// Fails the test on any of [`BARRIERS`] on the page open now.
fn accessible(browser: &Browser) {
    let barriers = browser.script(BARRIERS, vec![]);
    assert_eq!(barriers, serde_json::json!([]), "on {}", browser.url());
}

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
    accessible(&browser);
    browser.screenshot("report");
}

/// A workflow whose leads wait a month, except those on the `broken` plan,
/// whose enrichment call answers 404: their step fails for good. `PORT` is
/// the local provider server's.
const ONBOARDING: &str = r#"workflow onboarding
  timezone America/New_York
  fields
    plan optional text
  trigger when email is set
  goal upgraded when plan is "pro"
  steps
    notify slack sales
      message "new lead {{ email }}"
    condition
      branch broken when plan is "broken"
        http get "http://127.0.0.1:PORT/slack/gone"
          extract
            seats number from seats
      else
        wait 30 days
    end
    notify slack sales
      message "a month later: {{ email }}"
"#;

/// `flowc` on the console's database.
fn flowc(db: &flowc::store::Location, args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .env("FLOWC_DB", db.arg())
        .env_remove("FLOWC_CLOCK")
        .output()
        .expect("flowc runs");
    assert!(output.status.success(), "flowc {args:?}: {output:?}");
    output
}

/// Waits until `flowc leads` shows every `(lead, status)`: the runner in
/// `flowc serve` has reached them.
fn wait_for(db: &flowc::store::Location, wanted: &[(&str, &str)]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let listed = String::from_utf8(flowc(db, &["leads"]).stdout).expect("utf-8");
        let found = wanted.iter().all(|(lead, status)| {
            listed
                .lines()
                .any(|line| line.split_whitespace().next() == Some(lead) && line.contains(status))
        });
        if found {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reached {wanted:?}: {listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_console_from_sign_in_to_a_retried_step() {
    let dir = tempfile::tempdir().expect("a folder");
    let slack = providers::Server::start(dir.path());
    let db = live::database(dir.path());
    let flow = dir.path().join("onboarding.flow");
    let port = slack
        .url("")
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    std::fs::write(&flow, ONBOARDING.replace("PORT", &port)).expect("written");
    let config = dir.path().join("flowc.toml");
    std::fs::write(
        &config,
        "[slack.sales]\nurl_env = \"CONSOLE_SLACK_SALES\"\n\n[http]\nallow = [\"127.0.0.1\"]\n",
    )
    .expect("written");
    flowc(
        &db,
        &["publish", &flow.display().to_string(), "--by", "olga"],
    );
    let mut leads = String::from(
        "{\"id\": \"ada\", \"email\": \"ada@example.com\", \"plan\": \"basic\", \"timezone\": \"America/Chicago\"}\n\
         {\"id\": \"eve\", \"email\": \"eve@example.com\", \"plan\": \"broken\"}\n\
         {\"id\": \"kim\", \"email\": \"kim@example.com\", \"plan\": \"basic\"}\n",
    );
    // Hostile lead data: markup in an id and a field.
    leads.push_str(
        "{\"id\": \"x<script>window.__pwned=1</script>\", \"email\": \"x@example.com\", \"plan\": \"<img src=x onerror=window.__pwned=2>\"}\n",
    );
    for n in 0..117 {
        leads.push_str(&format!(
            "{{\"id\": \"lead-{n:03}\", \"email\": \"lead{n}@example.com\"}}\n"
        ));
    }
    let file = dir.path().join("leads.jsonl");
    std::fs::write(&file, leads).expect("written");
    flowc(&db, &["leads", "import", &file.display().to_string()]);
    let token = String::from_utf8(flowc(&db, &["token", "create", "maria"]).stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let sales = slack.url("/slack/ok");
    let service = service::Service::launch(
        &db,
        &["--config", &config.display().to_string()],
        &[("CONSOLE_SLACK_SALES", &sales)],
    );
    wait_for(
        &db,
        &[("ada", "waiting"), ("eve", "failed"), ("kim", "waiting")],
    );

    let browser = Browser::start();
    // Signing in: the console sends strangers to the sign-in page.
    browser.open(&format!("{}/console/workflows", service.url));
    assert!(
        browser.url().contains("/console/login"),
        "{}",
        browser.url()
    );
    accessible(&browser);
    browser.screenshot("console-login");
    browser.find("#token").type_text(&token);
    browser.find("form button[type=submit]").follow();
    assert!(
        browser.url().ends_with("/console/workflows"),
        "{} {}",
        browser.url(),
        browser.cookies()
    );
    assert!(browser.find("header.top .who").text().contains("maria"));
    let row = browser.find("table.workflows tbody tr").text();
    assert!(row.contains("onboarding") && row.contains("live"), "{row}");

    // A workflow: its canvas counts what `flowc stats` counts now.
    browser.find("table.workflows a").follow();
    let stats: serde_json::Value =
        serde_json::from_slice(&flowc(&db, &["stats", "onboarding", "--format", "json"]).stdout)
            .expect("json");
    let mut compared = 0;
    for step in stats["steps"].as_array().expect("steps") {
        let id = step["step"].as_str().expect("an id");
        for (status, count) in step["now"].as_object().expect("now") {
            if !["waiting", "failed", "held"].contains(&status.as_str()) {
                continue;
            }
            let shown = browser.script(
                "const id = arguments[0];
                 const card = [...document.querySelectorAll('svg.canvas [data-step]')].find(e => e.dataset.step === id);
                 const label = [...document.querySelectorAll('svg.canvas [data-steps]')].find(e => e.dataset.steps.split('|').includes(id));
                 return (card || label || {textContent: ''}).textContent;",
                vec![serde_json::json!(id)],
            );
            let shown = shown.as_str().unwrap_or_default();
            assert!(
                shown.contains(&format!("{count} {status}")),
                "{id}: `flowc stats` says {count} {status}, the canvas shows {shown:?}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 2, "{stats}");
    let entered = browser.find("svg.canvas g.trigger").text();
    assert!(entered.contains("121 entered"), "{entered}");
    assert_eq!(browser.script(SPILLS, vec![]), serde_json::json!([]));
    let versions = browser.find("table.versions tbody").text();
    assert!(versions.contains("olga"), "who published: {versions}");
    assert!(browser
        .find("table.diff")
        .text()
        .contains("workflow onboarding"));
    accessible(&browser);
    browser.screenshot("console-workflow");
    // A step's card leads to the leads at that step: the failed one.
    browser
        .find("svg.canvas a.card-link g.card.action[data-step*='broken']")
        .follow();
    assert!(browser.url().contains("step="), "{}", browser.url());
    assert!(browser.find("#count").text().starts_with("1 lead"));
    assert_eq!(browser.find("table.leads tbody th").text(), "eve");

    // Leads: search by email, open the lead, retry its failed step.
    browser.open(&format!("{}/console/leads", service.url));
    assert!(browser.find("#count").text().starts_with("121 leads"));
    browser.find("#q").type_text("EVE@example.com");
    browser.find("form.filters button[type=submit]").follow();
    assert_eq!(browser.find_all("table.leads tbody tr").len(), 1);
    browser.find("table.leads tbody a").follow();
    assert!(
        browser.url().ends_with("/console/leads/eve"),
        "{}",
        browser.url()
    );
    browser
        .find(".enrollment form[action$='/retry'] button")
        .follow();
    assert!(browser.find(".notice").text().contains("Retried by maria"));
    let timeline = browser.find(".enrollment table.timeline").text();
    assert!(
        timeline.contains("retried") && timeline.contains("by maria"),
        "{timeline}"
    );
    accessible(&browser);
    browser.screenshot("console-lead");
    let recorded = String::from_utf8(flowc(&db, &["timeline", "eve"]).stdout).expect("utf-8");
    assert!(
        recorded.contains("retried") && recorded.contains("by maria"),
        "{recorded}"
    );

    // Lead data is text wherever it shows: in the table and on its page.
    browser.open(&format!("{}/console/leads?q=x", service.url));
    let row = browser.find("table.leads tbody th").text();
    assert_eq!(row, "x<script>window.__pwned=1</script>");
    browser.find("table.leads tbody a").follow();
    let plan = browser.find("dl.fields").text();
    assert!(
        plan.contains("<img src=x onerror=window.__pwned=2>"),
        "{plan}"
    );
    assert_eq!(
        browser.script("return window.__pwned === undefined", vec![]),
        serde_json::json!(true)
    );
    assert!(browser.find_all("main img, main script").is_empty());

    // Pause and resume a waiting lead; remove another (after confirming).
    browser.open(&format!("{}/console/leads/ada", service.url));
    browser
        .find(".enrollment form[action$='/pause'] button")
        .follow();
    assert!(browser.find(".notice").text().contains("Paused by maria"));
    assert!(browser.find(".enrollment h3").text().contains("paused"));
    browser
        .find(".enrollment form[action$='/resume'] button")
        .follow();
    assert!(browser.find(".notice").text().contains("Resumed by maria"));
    assert!(browser.find(".enrollment h3").text().contains("waiting"));
    browser.open(&format!("{}/console/leads/kim", service.url));
    browser.script("window.__flowcLeaving = true; return true;", vec![]);
    browser
        .find(".enrollment form[action$='/remove'] button")
        .click();
    browser.accept_dialog();
    browser.wait_for_new_page();
    assert!(browser.find(".notice").text().contains("Removed by maria"));
    assert!(browser.find(".enrollment h3").text().contains("exited"));

    // Filters and paging: 50 a page, forward and back again.
    browser.open(&format!(
        "{}/console/leads?status=waiting&sort=id",
        service.url
    ));
    let first = browser.find("table.leads tbody th").text();
    assert_eq!(first, "ada");
    assert_eq!(browser.find_all("table.leads tbody tr").len(), 50);
    browser.find("a[rel=next]").follow();
    let second = browser.find("table.leads tbody th").text();
    assert!(second > first, "{second} after {first}");
    browser.find("a[rel=prev]").follow();
    assert_eq!(browser.find("table.leads tbody th").text(), first);
    accessible(&browser);
    browser.screenshot("console-leads");

    // Activity: the three charts, drawn.
    browser.open(&format!("{}/console/activity", service.url));
    let charts = browser.find_all("section.activity svg");
    assert_eq!(charts.len(), 3);
    let sent = browser
        .find("section.activity[data-measure=sent] h2")
        .text();
    assert!(!sent.ends_with(": 0"), "{sent}");
    assert!(!browser
        .find_all("section.activity[data-measure=sent] rect.column")
        .is_empty());
    accessible(&browser);
    browser.screenshot("console-activity");

    // Signing out ends the session.
    browser.open(&format!("{}/console/workflows", service.url));
    browser.find("header.top form button").follow();
    browser.open(&format!("{}/console/leads", service.url));
    assert!(browser.url().contains("/console/login"));
}
