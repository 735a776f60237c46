//! `cargo bench --bench check`: how long `flowc check` takes on generated
//! workflows of 1,000, 10,000 and 100,000 steps, and how much memory it
//! needs at its peak. Prints medians; the target is 10,000 steps in under
//! 100 ms, and 10x the steps in at most 12x the time.
//!
//! Every run is a fresh child process, as every `flowc check` is: repeated
//! runs in one process would reuse freed heap below glibc's mmap threshold
//! (32 MB) and skip the page faults that larger inputs always pay.

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live bytes and the highest count since the last reset.
struct PeakAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

/// Steps in one generated block (nested steps included).
const STEPS_PER_BLOCK: usize = 9;

/// A valid workflow of about `steps` steps exercising every pass: templates,
/// criteria, extractions used later (dominance), branches, and every tenth
/// block a `goto` loop that waits (cycle detection).
fn workflow(steps: usize) -> String {
    let mut source = String::from(
        "workflow generated\n  timezone America/New_York\n  trigger when email is set\n\n  windows\n    email mon-fri 09:00-17:00\n\n  steps\n",
    );
    for i in 0..steps.div_ceil(STEPS_PER_BLOCK) {
        let otherwise = if i % 10 == 9 {
            format!("        goto s{i}\n")
        } else {
            format!(
                "        notify slack sales\n          message \"block {i} for {{{{ email }}}}\"\n"
            )
        };
        source.push_str(&format!(
            r#"    label s{i}
    send email
      to lead
      subject "Hello {{{{ first_name | default: "there" }}}} ({i})"
      body "Block {i} for {{{{ company_name | default: "you" }}}}"
    wait 2 hours
    http get "https://api.example.com/{i}?email={{{{ email }}}}"
      extract
        value{i} number from data.items[0].value
    condition
      branch big{i} when num_employees > {i} and job_title is set
        send text
          body "Hi {{{{ first_name | default: "x" }}}}: {{{{ value{i} }}}}"
      branch unknown{i} when num_employees is not set
        wait until 09:00
      else
{otherwise}    end
    wait 1 day
"#
        ));
    }
    source
}

/// One check of a generated workflow, as a fresh process sees it.
struct Run {
    time: Duration,
    peak_bytes: usize,
}

/// Checks a workflow of `steps` steps once, in this process, and prints
/// the time and peak heap on one line for the parent to read.
fn run_once(steps: usize) {
    let source = workflow(steps);
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    let start = Instant::now();
    let diagnostics = flowc::check::check_source(&source, None, None);
    let time = start.elapsed();
    let peak_bytes = PEAK.load(Ordering::Relaxed) - baseline;
    assert!(
        diagnostics.is_empty(),
        "the generated workflow must be valid: {}",
        diagnostics[0]
    );
    println!("{} {}", time.as_nanos(), peak_bytes);
}

/// Runs [`run_once`] in a child process of this benchmark.
fn run_in_child(steps: usize) -> Run {
    let output = Command::new(std::env::current_exe().expect("the benchmark's own path"))
        .args(["--one", &steps.to_string()])
        .output()
        .expect("the benchmark can start itself");
    assert!(output.status.success(), "child failed: {output:?}");
    let line = String::from_utf8_lossy(&output.stdout);
    let mut numbers = line
        .split_whitespace()
        .map(|n| n.parse::<u64>().expect("a number"));
    let (Some(nanos), Some(peak)) = (numbers.next(), numbers.next()) else {
        panic!("child printed {line:?}");
    };
    Run {
        time: Duration::from_nanos(nanos),
        peak_bytes: peak as usize,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--one") {
        run_once(args[at + 1].parse().expect("a step count"));
        return;
    }
    let quick = args.iter().any(|arg| arg == "--quick");
    println!("flowc check on generated workflows (median of several runs, each a fresh process)\n");
    println!(
        "{:>8}  {:>10}  {:>12}  {:>12}  {:>10}",
        "steps", "source", "median", "per step", "peak mem"
    );
    let mut previous: Option<(usize, Duration)> = None;
    let mut ratios = Vec::new();
    for (steps, runs) in [
        (1_000_usize, 21),
        (10_000, 11),
        (100_000, if quick { 3 } else { 5 }),
    ] {
        let actual = steps.div_ceil(STEPS_PER_BLOCK) * STEPS_PER_BLOCK;
        let mut runs: Vec<Run> = (0..runs).map(|_| run_in_child(steps)).collect();
        runs.sort_by_key(|run| run.time);
        let median = runs[runs.len() / 2].time;
        let peak_bytes = runs.iter().map(|run| run.peak_bytes).max().unwrap_or(0);
        println!(
            "{:>8}  {:>8} KB  {:>9.2} ms  {:>9.0} ns  {:>7.1} MB",
            actual,
            workflow(steps).len() / 1024,
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e9 / actual as f64,
            peak_bytes as f64 / (1024.0 * 1024.0),
        );
        if let Some((previous_steps, previous_time)) = previous {
            ratios.push((
                previous_steps,
                actual,
                median.as_secs_f64() / previous_time.as_secs_f64(),
            ));
        }
        previous = Some((actual, median));
    }
    println!();
    for (from, to, ratio) in ratios {
        println!("{from} -> {to} steps: time x{ratio:.1} (target: at most x12)");
    }
    errors(if quick { 3 } else { 7 });
}

/// `flowc check` through the CLI on files with 10,000 and 20,000 bad
/// lines: time must grow linearly with the number of diagnostics. Two
/// kinds: every line an error; and every step's `subject` line an error,
/// so that each step also lacks its subject, which the left-out line
/// explains (the check must tell so for each step without a search
/// through every left-out line).
fn errors(runs: usize) {
    println!("\nflowc check on files full of errors (the CLI, median)\n");
    let dir = std::env::temp_dir().join(format!("flowc-bench-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let kinds: [(&str, &str); 2] = [
        ("every line", "    wait 1 dya\n"),
        (
            "every subject",
            "    send email\n      to lead\n      subject Hi there\n      body \"x\"\n",
        ),
    ];
    for (kind, unit) in kinds {
        let mut medians = Vec::new();
        for errors in [10_000usize, 20_000] {
            let path = dir.join(format!("bad-{errors}.flow"));
            let mut source = String::from("workflow bad\n  trigger when email is set\n  steps\n");
            source.push_str(&unit.repeat(errors));
            std::fs::write(&path, source).expect("written");
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
                        .arg("check")
                        .arg(&path)
                        .output()
                        .expect("flowc runs");
                    assert_eq!(output.status.code(), Some(1), "the file has errors");
                    started.elapsed()
                })
                .collect();
            times.sort();
            let median = times[times.len() / 2];
            println!(
                "  {kind:<14} {errors:>8} errors  {:>9.1} ms",
                median.as_secs_f64() * 1e3
            );
            medians.push(median);
        }
        println!(
            "  {kind:<14} 10,000 -> 20,000 errors: time x{:.1} (target: about x2, linear)\n",
            medians[1].as_secs_f64() / medians[0].as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
