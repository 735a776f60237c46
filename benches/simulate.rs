//! `cargo bench --bench simulate`: 1,000,000 leads through a 12-step
//! workflow (waits, a time-of-day hold, windows, branches, templates) on
//! the virtual clock, on one core. Prints leads/s, instructions/s, peak
//! memory and engine state per suspended enrollment, as medians.
//!
//! Targets: at least 250,000 leads/s and 5,000,000 instructions/s, and at
//! most 256 bytes of engine state per suspended enrollment beyond the
//! lead's own data.
//!
//! Then a time-relative trigger (`last_activity_at is older than 90
//! days`): 1,000,000 leads arrive not yet quiet, and each enters when it
//! turns 90 days quiet, those instants spread over a month. Every lead is
//! tested at its own flip instant, never by a scan of all leads.
//!
//! Then the same leads through the workflow written with the newer
//! constructs (a split, business days and holidays, a wait on a field, a
//! clock wait in the lead's timezone, a window test, a bounded loop, field
//! comparisons): it must stay within 10% of the first figure. And last,
//! 1,000,000 leads through five such workflows at once under a contact
//! policy (one text a day, three emails a week, counted across them).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use flowc::bytecode::Program;
use flowc::runtime::leads::LeadRecord;
use flowc::runtime::recorder::Recorder;
use flowc::runtime::{Input, Simulation};
use flowc::value::Value;

/// Counts live bytes and the highest count since the last reset, over
/// mimalloc (the allocator of the `flowc` binary).
struct PeakAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Counting costs two atomic operations per allocation: timed runs leave
/// it off, and memory is measured in runs of its own.
static COUNTING: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !pointer.is_null() && COUNTING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(pointer, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

/// Twelve steps: two emails, a text, a notification, five waits (hours,
/// days), a time of day, two conditions and an exit.
const WORKFLOW: &str = r#"workflow bench
  timezone America/New_York
  fields
    score number
    plan text
  trigger when score >= 10 and email is set
  windows
    email mon-fri 09:00-17:00
    text mon-fri 10:00-18:00 in lead timezone
  steps
    send email
      to lead
      subject "Hi {{ first_name | default: "there" }}"
      body "Thanks for looking at Acme, {{ first_name | default: "there" }} from {{ company_name | default: "your team" }}."
    wait 2 days
    condition
      branch big when num_employees >= 500
        notify slack sales
          message "{{ email }} works at a big company"
      branch mid when num_employees >= 50
        wait 4 hours
      else
        wait 1 hour
    end
    wait until 10:00
    send text
      body "Hi {{ first_name | default: "there" }}, want a demo?"
    wait 1 day
    condition
      branch pro when plan is "pro"
        send email
          to lead
          subject "Your pro trial"
          body "Here is what pro adds."
      else
        exit "not pro"
    end
"#;

/// The bench workflow as the newer language writes it.
const NEWER: &str = r#"workflow bench
  timezone America/New_York
  holidays 2026-12-25, 2027-01-01
  fields
    score number
    plan text
    demo_at optional datetime
  trigger when score is between 10 and 99 and email is set
  windows
    email mon-fri 09:00-17:00 skip holidays
    text mon-fri 10:00-18:00 in lead timezone
  steps
    split
      variant a 50%
        send email
          to lead
          subject "Hi {{ first_name | default: company_name }}"
          body "Thanks for looking at Acme, {{ first_name | default: "there" }} from {{ company_name | default: "your team" }}."
      variant b 50%
        send email
          to lead
          subject "Hello {{ first_name | default: "there" }}"
          body "Thanks for looking at Acme, {{ company_name | default: "your team" }}."
    end
    wait 2 business days
    condition
      branch big when num_employees >= 500 and score < num_employees
        notify slack sales
          message "{{ email }} works at a big company"
      branch mid when num_employees is between 50 and 499
        wait 4 hours
      else
        wait 1 hour
    end
    wait until demo_at - 1 hour
    wait until weekday 10:00 in lead timezone
    label nudge
    condition
      branch now when text window is open
        send text
          body "Hi {{ first_name | default: "there" }}, want a demo?"
      else
        wait 1 hour
    end
    wait 1 day
    goto nudge up to 1 time
    condition
      branch pro when plan is "pro"
        send email
          to lead
          subject "Your pro trial"
          body "Here is what pro adds."
      else
        exit "not pro"
    end
"#;

const LEADS: usize = 1_000_000;
const ZONES: [&str; 3] = ["America/Chicago", "Europe/Berlin", "Asia/Tokyo"];

fn slot(program: &Program, name: &str) -> u32 {
    program.slot(name).expect("a field of the bench workflow")
}

/// `count` leads arriving one per second from `start`, over at most `spread`
/// seconds (then again from `start`).
fn leads(program: &Program, count: usize, start: DateTime<Utc>, spread: usize) -> Vec<Input> {
    let (email, first, company, phone, employees, zone, score, plan) = (
        slot(program, "email"),
        slot(program, "first_name"),
        slot(program, "company_name"),
        slot(program, "phone_number"),
        slot(program, "num_employees"),
        slot(program, "timezone"),
        slot(program, "score"),
        slot(program, "plan"),
    );
    (0..count)
        .map(|i| {
            let text = |value: String| Some(Value::Text(value.into()));
            let fields = vec![
                (email, text(format!("lead{i}@example.com"))),
                (
                    first,
                    (i % 3 != 0).then(|| Value::Text(format!("Lead{i}").into())),
                ),
                (company, text("Example Inc".to_owned())),
                (
                    phone,
                    (i % 4 != 0).then(|| Value::Text(format!("+1555{i:07}").into())),
                ),
                (employees, Some(Value::Number((i % 1000) as f64))),
                (zone, text(ZONES[i % ZONES.len()].to_owned())),
                (score, Some(Value::Number((i % 100) as f64))),
                (
                    plan,
                    text(if i % 2 == 0 { "pro" } else { "free" }.to_owned()),
                ),
            ];
            Input::Lead(LeadRecord {
                line: i + 1,
                id: format!("lead-{i}"),
                at: Some(start + chrono::Duration::seconds((i % spread) as i64)),
                last_activity: None,
                fields,
                simulate: None,
                consent: None,
            })
        })
        .collect()
}

struct Run {
    time: Duration,
    entered: u64,
    instructions: u64,
}

/// Timed runs of every lead through `program`; the median's leads/s.
fn median_rate(program: &Program, start: DateTime<Utc>, runs: usize) -> f64 {
    let mut times: Vec<Duration> = (0..runs).map(|_| run_once(program, start).time).collect();
    times.sort();
    LEADS as f64 / times[times.len() / 2].as_secs_f64()
}

/// `LEADS` leads through five copies of the newer workflow at once under
/// a contact policy, each touch counted across them: the median time and
/// the peak memory.
fn policy_run(start: DateTime<Utc>, runs: usize, config: &str) -> (Duration, usize, u64, u64) {
    // The first run measures memory; the others are timed.
    use flowc::runtime::policy::ContactPolicy;
    use std::rc::Rc;
    let source: String = (1..=5)
        .map(|n| NEWER.replacen("workflow bench", &format!("workflow bench{n}"), 1) + "\n")
        .collect();
    let artifact = flowc::compile::compile_source(&source, None).expect("it compiles");
    let policy: ContactPolicy = flowc::config::Config::parse(config)
        .expect("a policy")
        .policy;
    let policy = Rc::new(policy);
    let mut times = Vec::new();
    let (mut peak, mut attempts, mut entered) = (0, 0, 0);
    for run in 0..runs {
        let counting = run == 0;
        COUNTING.store(counting, Ordering::Relaxed);
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let inputs: Vec<Vec<Input>> = artifact
            .programs
            .iter()
            .map(|program| leads(program, LEADS, start, 7 * 24 * 3600))
            .collect();
        let began = Instant::now();
        let mut simulations = flowc::runtime::together::policed(
            &artifact.programs,
            &Default::default(),
            &policy,
            false,
        );
        flowc::runtime::together::run_together(&mut simulations, inputs, start, None);
        let time = began.elapsed();
        attempts = simulations.iter().map(|s| s.channels.attempts).sum();
        entered = simulations.iter().map(|s| s.summary.entered).sum();
        drop(simulations);
        if counting {
            peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
            COUNTING.store(false, Ordering::Relaxed);
        } else {
            times.push(time);
        }
    }
    times.sort();
    (times[times.len() / 2], peak, attempts, entered)
}

/// One timed run of every lead, counting nothing.
fn run_once(program: &Program, start: DateTime<Utc>) -> Run {
    let inputs = leads(program, LEADS, start, 7 * 24 * 3600);
    let began = Instant::now();
    let mut simulation = Simulation::new(program, Recorder::new(Default::default(), false), false);
    simulation.run(inputs, start, None);
    let time = began.elapsed();
    let run = Run {
        time,
        entered: simulation.summary.entered,
        instructions: simulation.instructions(),
    };
    drop(simulation);
    run
}

/// The peak of memory allocated by a run of every lead, inputs included.
fn peak_bytes(program: &Program, start: DateTime<Utc>) -> usize {
    COUNTING.store(true, Ordering::Relaxed);
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let inputs = leads(program, LEADS, start, 7 * 24 * 3600);
    let mut simulation = Simulation::new(program, Recorder::new(Default::default(), false), false);
    simulation.run(inputs, start, None);
    drop(simulation);
    COUNTING.store(false, Ordering::Relaxed);
    PEAK.load(Ordering::Relaxed).saturating_sub(baseline)
}

/// Bytes of engine state per suspended enrollment: every lead enters and
/// suspends at its first wait or hold; the memory the simulation keeps then,
/// less what it keeps for the same leads when none enters (their own data),
/// divided by the enrollments suspended.
fn state_per_suspended(program: &Program, start: DateTime<Utc>) -> (f64, u64) {
    let count = 200_000;
    let score = program.slot("score");
    let kept = |enter: bool| {
        let before = LIVE.load(Ordering::Relaxed);
        let mut inputs = leads(program, count, start, 1);
        if !enter {
            for input in &mut inputs {
                if let Input::Lead(record) = input {
                    record.fields.retain(|(slot, _)| Some(*slot) != score);
                }
            }
        }
        let mut simulation =
            Simulation::new(program, Recorder::new(Default::default(), false), false);
        simulation.run(inputs, start, Some(start));
        let suspended = simulation
            .summary
            .statuses
            .get("waiting")
            .copied()
            .unwrap_or(0)
            + simulation
                .summary
                .statuses
                .get("held")
                .copied()
                .unwrap_or(0);
        (
            LIVE.load(Ordering::Relaxed).saturating_sub(before),
            suspended,
        )
    };
    let (lead_data, _) = kept(false);
    let (total, suspended) = kept(true);
    let engine = total.saturating_sub(lead_data) as f64;
    (engine / suspended.max(1) as f64, suspended)
}

/// A trigger that only time can make true.
const QUIET: &str = "workflow quiet
  timezone America/New_York
  fields
    last_activity_at datetime
  trigger when last_activity_at is older than 90 days
  steps
    wait 1 day
";

/// 1,000,000 leads arriving at `start`, each turning 90 days quiet at its
/// own second of the month after.
fn quiet_leads(program: &Program, start: DateTime<Utc>) -> Vec<Input> {
    let last_activity = slot(program, "last_activity_at");
    let month = 30 * 24 * 3600;
    (0..LEADS)
        .map(|i| {
            let quiet_from = start + chrono::Duration::seconds(1 + (i * 2_591 % month) as i64);
            let active = quiet_from - chrono::Duration::days(90);
            Input::Lead(LeadRecord {
                line: i + 1,
                id: format!("lead-{i}"),
                at: Some(start),
                last_activity: None,
                fields: vec![(last_activity, Some(Value::Datetime(active)))],
                simulate: None,
                consent: None,
            })
        })
        .collect()
}

/// Times the time-relative trigger over 1,000,000 leads; prints medians.
fn time_relative(runs: usize, start: DateTime<Utc>) {
    let artifact = flowc::compile::compile_source(QUIET, None).expect("it compiles");
    let program = &artifact.programs[0];
    let mut times = Vec::new();
    let mut entered = 0;
    for _ in 0..runs {
        let inputs = quiet_leads(program, start);
        let began = Instant::now();
        let mut simulation =
            Simulation::new(program, Recorder::new(Default::default(), false), false);
        simulation.run(inputs, start, None);
        times.push(began.elapsed());
        entered = simulation.summary.entered;
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64();
    println!(
        "\nflowc run --simulate: {LEADS} leads that a time-relative trigger lets in over a month\n"
    );
    println!("  runs                     {runs}");
    println!("  median time              {median:.2} s");
    println!("  leads entered            {entered} (each at its own flip instant)");
    println!("  leads/s                  {:.0}", LEADS as f64 / median);
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    // `-- policy` runs only the last part: five workflows under a policy.
    if std::env::args().any(|arg| arg == "policy") {
        let start = Utc
            .with_ymd_and_hms(2026, 3, 2, 14, 0, 0)
            .single()
            .expect("a start");
        return print_policy(start, if quick { 2 } else { 4 });
    }
    let artifact =
        flowc::compile::compile_source(WORKFLOW, None).expect("the bench workflow compiles");
    let program = &artifact.programs[0];
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 14, 0, 0)
        .single()
        .expect("a start");
    println!("flowc run --simulate: {LEADS} leads through a 12-step workflow, one core\n");
    let mut runs: Vec<Run> = (0..if quick { 1 } else { 5 })
        .map(|_| run_once(program, start))
        .collect();
    let times: Vec<String> = runs
        .iter()
        .map(|run| format!("{:.2}", run.time.as_secs_f64()))
        .collect();
    // The first run pays for fresh pages from the OS, as a one-off
    // `flowc run` does; later runs reuse memory the allocator kept.
    println!(
        "  run times (s)            {}  (the first is cold)",
        times.join(", ")
    );
    runs.sort_by_key(|run| run.time);
    let median = &runs[runs.len() / 2];
    let seconds = median.time.as_secs_f64();
    println!("  runs                     {}", runs.len());
    println!("  median time              {seconds:.2} s");
    println!("  leads entered            {}", median.entered);
    println!(
        "  leads/s                  {:.0}  (target 250,000)",
        LEADS as f64 / seconds
    );
    println!(
        "  instructions/s           {:.0}  ({} instructions; target 5,000,000)",
        median.instructions as f64 / seconds,
        median.instructions
    );
    let peak = peak_bytes(program, start);
    println!(
        "  peak memory              {:.1} MB (leads' own data included)",
        peak as f64 / (1024.0 * 1024.0)
    );
    COUNTING.store(true, Ordering::Relaxed);
    let (per_enrollment, suspended) = state_per_suspended(program, start);
    println!(
        "  engine state/suspended   {per_enrollment:.0} bytes over {suspended} suspended enrollments (target 256)"
    );
    COUNTING.store(false, Ordering::Relaxed);
    time_relative(if quick { 1 } else { 3 }, start);

    let newer = flowc::compile::compile_source(NEWER, None).expect("the newer workflow compiles");
    let runs = if quick { 1 } else { 5 };
    let (old_rate, new_rate) = (
        median_rate(program, start, runs),
        median_rate(&newer.programs[0], start, runs),
    );
    println!(
        "\nflowc run --simulate: the same {LEADS} leads, the workflow with the newer constructs\n"
    );
    println!("  leads/s, as before       {old_rate:.0}");
    println!("  leads/s, newer           {new_rate:.0}");
    println!(
        "  newer / before           {:.1}%  (target at least 90%)",
        100.0 * new_rate / old_rate
    );

    print_policy(start, if quick { 2 } else { 4 });
}

/// Runs and prints the five workflows without a policy, then under one.
fn print_policy(start: DateTime<Utc>, runs: usize) {
    println!("\nflowc run --simulate: {LEADS} leads through 5 workflows at once\n");
    println!("  policy     median time   leads/s   messages asked   enrollments   peak memory");
    for (name, config) in [
        ("none", ""),
        (
            "caps",
            "[policy]\ntext = { per_day = 1 }\nemail = { per_week = 3 }\n",
        ),
    ] {
        let (time, peak, attempts, entered) = policy_run(start, runs, config);
        let seconds = time.as_secs_f64();
        println!(
            "  {name:<8} {seconds:>10.2} s {:>9.0} {attempts:>16} {entered:>13} {:>10.0} MB",
            LEADS as f64 / seconds,
            peak as f64 / (1024.0 * 1024.0)
        );
    }
    println!("  (leads/s: each lead through all 5; caps: one text a day, three emails a week)");
}
