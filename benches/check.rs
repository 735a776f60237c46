//! `cargo bench --bench check`: how long `flowc check` takes on generated
//! workflows of 1,000, 10,000 and 100,000 steps, and how much memory it
//! needs at its peak. Prints medians; the target is 10,000 steps in under
//! 100 ms, and 10x the steps in at most 12x the time.

use std::alloc::{GlobalAlloc, Layout, System};
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

struct Measurement {
    median: Duration,
    peak_bytes: usize,
}

fn measure(source: &str, runs: usize) -> Measurement {
    let mut times = Vec::with_capacity(runs);
    let mut peak_bytes = 0;
    for _ in 0..runs {
        let baseline = LIVE.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        let start = Instant::now();
        let diagnostics = flowc::check::check_source(source, None);
        times.push(start.elapsed());
        peak_bytes = peak_bytes.max(PEAK.load(Ordering::Relaxed) - baseline);
        assert!(
            diagnostics.is_empty(),
            "the generated workflow must be valid: {}",
            diagnostics[0]
        );
        drop(diagnostics);
    }
    times.sort();
    Measurement {
        median: times[times.len() / 2],
        peak_bytes,
    }
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    println!("flowc check on generated workflows (median of several runs)\n");
    println!(
        "{:>8}  {:>10}  {:>12}  {:>12}  {:>10}",
        "steps", "source", "median", "per step", "peak mem"
    );
    let mut previous: Option<(usize, Duration)> = None;
    let mut ratios = Vec::new();
    for (steps, runs) in [
        (1_000, 21),
        (10_000, 11),
        (100_000, if quick { 3 } else { 5 }),
    ] {
        let source = workflow(steps);
        let actual = steps.div_ceil(STEPS_PER_BLOCK) * STEPS_PER_BLOCK;
        let measurement = measure(&source, runs);
        println!(
            "{:>8}  {:>8} KB  {:>9.2} ms  {:>9.0} ns  {:>7.1} MB",
            actual,
            source.len() / 1024,
            measurement.median.as_secs_f64() * 1e3,
            measurement.median.as_secs_f64() * 1e9 / actual as f64,
            measurement.peak_bytes as f64 / (1024.0 * 1024.0),
        );
        if let Some((previous_steps, previous_time)) = previous {
            ratios.push((
                previous_steps,
                actual,
                measurement.median.as_secs_f64() / previous_time.as_secs_f64(),
            ));
        }
        previous = Some((actual, measurement.median));
    }
    println!();
    for (from, to, ratio) in ratios {
        println!("{from} -> {to} steps: time x{ratio:.1} (target: at most x12)");
    }
}
