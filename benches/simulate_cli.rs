//! `cargo bench --bench simulate_cli`: what a user sees. Runs the `flowc`
//! binary, `flowc run FLOW --leads LEADS --simulate --format json` with
//! its output to a file, on 1,000,000 leads through a 5-step flow
//! (condition → email → wait 2 days → text), and the same leads when none
//! enters (no email: the trigger is false), alternately, five times each.
//!
//! Prints the median wall time and leads/s of each, the ratio of the two
//! rates measured in the same rounds (machines differ; the ratio does not),
//! the peak resident memory per lead, and the bytes of output.
//!
//! Targets: at least 250,000 leads/s end to end; the full simulation at no
//! less than half the rate of reading the leads when none enters; under
//! 1 KB of memory per lead.
//!
//! Then the same leads through five copies of the flow in one file, run
//! together on one clock under a contact policy in `flowc.toml` (quiet
//! hours, one text a day, three emails a week, counted across the five),
//! as `flowc run FILE --simulate` does it: wall time, leads/s and peak
//! memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LEADS: usize = 1_000_000;

#[path = "support/child.rs"]
mod child;
#[path = "support/five.rs"]
mod five;
use five::FLOW;

/// `count` leads, one every 0.6 s over a week in file order, as a CRM
/// export sorted by creation; with `email` unless `enter` is false.
fn write_leads(path: &Path, count: usize, enter: bool) {
    let mut out = BufWriter::new(File::create(path).expect("the leads file"));
    let zones = ["America/Chicago", "Europe/Berlin", "Asia/Tokyo"];
    for i in 0..count {
        let seconds = i * 6 / 10;
        let (day, hour, minute, second) = (
            2 + seconds / 86_400,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60,
        );
        let email = if enter {
            format!("\"email\": \"lead{i}@example.com\", ")
        } else {
            String::new()
        };
        writeln!(
            out,
            "{{\"id\": \"lead-{i}\", {email}\"first_name\": \"Lead{i}\", \
             \"phone_number\": \"+1555{i:07}\", \"score\": {}, \"timezone\": \"{}\", \
             \"at\": \"2026-03-{day:02}T{hour:02}:{minute:02}:{second:02}Z\"}}",
            i % 100,
            zones[i % zones.len()],
        )
        .expect("written");
    }
    out.flush().expect("flushed");
}

/// One run of the binary: its wall time, its peak resident memory in
/// bytes, and the bytes it wrote.
fn run(flowc: &str, dir: &Path, leads: &str) -> (Duration, u64, u64) {
    run_file(flowc, dir, "five.flow", leads)
}

/// One run of the binary on `flow`: as [`run`].
fn run_file(flowc: &str, dir: &Path, flow: &str, leads: &str) -> (Duration, u64, u64) {
    run_with(flowc, dir, flow, leads, &[])
}

/// One run of the binary on `flow` with `extra` arguments: as [`run`].
fn run_with(
    flowc: &str,
    dir: &Path,
    flow: &str,
    leads: &str,
    extra: &[&str],
) -> (Duration, u64, u64) {
    let output = dir.join("timelines.jsonl");
    let began = Instant::now();
    // Waited for by `wait`, which reads its peak memory too.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(flowc)
        .args(["run", flow, "--leads", leads])
        .args(["--start", "2026-03-02T00:00:00Z", "--simulate"])
        .args(["--format", "json"])
        .args(extra)
        .current_dir(dir)
        .stdout(File::create(&output).expect("the output file"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("flowc runs");
    let (status, peak) = child::wait(child.id());
    let time = began.elapsed();
    assert!(status == 0, "flowc failed with status {status}");
    let written = std::fs::metadata(&output).map_or(0, |meta| meta.len());
    (time, peak, written)
}

fn median<T: Copy + PartialOrd>(values: &[T]) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    sorted[sorted.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = if quick { 1 } else { 5 };
    let flowc = env!("CARGO_BIN_EXE_flowc");
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("five.flow"), FLOW).expect("the flow");
    write_leads(&dir.path().join("enter.jsonl"), LEADS, true);
    write_leads(&dir.path().join("none.jsonl"), LEADS, false);
    println!(
        "flowc run --simulate --format json > FILE: {LEADS} leads through 5 steps, \
         through the CLI\n"
    );
    let (mut full, mut none, mut ratios, mut peaks) = (vec![], vec![], vec![], vec![]);
    let mut written = 0;
    for _ in 0..rounds {
        let (time, peak, bytes) = run(flowc, dir.path(), "enter.jsonl");
        let (baseline, _, _) = run(flowc, dir.path(), "none.jsonl");
        full.push(time.as_secs_f64());
        none.push(baseline.as_secs_f64());
        ratios.push(baseline.as_secs_f64() / time.as_secs_f64());
        peaks.push(peak);
        written = bytes;
    }
    let show = |times: &[f64]| {
        times
            .iter()
            .map(|time| format!("{time:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (full_median, none_median) = (median(&full), median(&none));
    println!("  rounds                   {rounds}");
    println!("  simulation times (s)     {}", show(&full));
    println!("  none entering times (s)  {}", show(&none));
    println!(
        "  simulation               {full_median:.2} s, {:.0} leads/s  (target 250,000)",
        LEADS as f64 / full_median
    );
    println!(
        "  none entering            {none_median:.2} s, {:.0} leads/s",
        LEADS as f64 / none_median
    );
    println!(
        "  rate ratio               {:.2}  (simulation / none entering, median of the \
         rounds; target 0.5)",
        median(&ratios)
    );
    println!(
        "  peak memory              {:.0} MB, {:.0} bytes per lead  (target 1024)",
        median(&peaks) as f64 / 1e6,
        median(&peaks) as f64 / LEADS as f64
    );
    println!(
        "  output                   {:.0} MB, {:.0} bytes per lead",
        written as f64 / 1e6,
        written as f64 / LEADS as f64
    );
    policed(flowc, dir.path(), rounds.min(3));
    report(flowc, dir.path(), rounds.min(3));
}

/// The same run with `--report report.html`, alternating with one
/// without, through the CLI: what the report adds in time and memory.
fn report(flowc: &str, dir: &Path, rounds: usize) {
    let (mut with, mut without, mut peaks) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        let (time, peak, _) = run_with(
            flowc,
            dir,
            "five.flow",
            "enter.jsonl",
            &["--report", "report.html"],
        );
        with.push(time.as_secs_f64());
        peaks.push(peak);
        without.push(run(flowc, dir, "enter.jsonl").0.as_secs_f64());
    }
    let size = std::fs::metadata(dir.join("report.html")).map_or(0, |meta| meta.len());
    println!(
        "\nflowc run --simulate --format json --report report.html > FILE: {LEADS} leads, \
         through the CLI\n"
    );
    println!("  rounds                   {rounds}");
    println!(
        "  with the report          {:.2} s, {:.0} leads/s",
        median(&with),
        LEADS as f64 / median(&with)
    );
    println!("  without (same rounds)    {:.2} s", median(&without));
    println!(
        "  peak memory              {:.0} MB, {:.0} bytes per lead",
        median(&peaks) as f64 / 1e6,
        median(&peaks) as f64 / LEADS as f64
    );
    println!("  report                   {:.0} KB", size as f64 / 1024.0);
}

/// The leads through five copies of the flow at once under a contact
/// policy, through the CLI.
fn policed(flowc: &str, dir: &Path, rounds: usize) {
    let five: String = (1..=5)
        .map(|n| FLOW.replacen("workflow five", &format!("workflow five{n}"), 1) + "\n")
        .collect();
    std::fs::write(dir.join("policed.flow"), five).expect("the flows");
    std::fs::write(
        dir.join("flowc.toml"),
        "[policy]\nquiet_hours = { from = \"21:00\", to = \"08:00\" }\n\
         text = { per_day = 1 }\nemail = { per_week = 3 }\n",
    )
    .expect("the policy");
    let (mut times, mut peaks) = (vec![], vec![]);
    for _ in 0..rounds {
        let (time, peak, _) = run_file(flowc, dir, "policed.flow", "enter.jsonl");
        times.push(time.as_secs_f64());
        peaks.push(peak);
    }
    let time = median(&times);
    println!(
        "\nflowc run --simulate --format json > FILE: {LEADS} leads through 5 workflows at \
         once under a contact policy, through the CLI\n"
    );
    println!("  rounds                   {rounds}");
    println!(
        "  median time              {time:.2} s, {:.0} leads/s (each lead in all 5)",
        LEADS as f64 / time
    );
    println!(
        "  peak memory              {:.0} MB, {:.0} bytes per lead",
        median(&peaks) as f64 / 1e6,
        median(&peaks) as f64 / LEADS as f64
    );
}
