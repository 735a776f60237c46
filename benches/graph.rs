//! `cargo bench --bench graph`: how long `flowc graph` takes, and how much
//! memory it needs, on generated workflows of 2,500 and 10,000 labels
//! joined by `goto`s (forward jumps that skip a block, and every tenth
//! block a loop back that waits), through the CLI as a user runs it.
//! Prints the median wall time and the peak resident memory of each size,
//! and whether two runs gave the same bytes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/child.rs"]
mod child;

/// A workflow of `labels` labelled blocks joined by `goto`s.
fn workflow(labels: usize) -> String {
    let mut source = String::from(
        "workflow generated\n  timezone America/New_York\n  trigger when email is set\n\n  windows\n    email mon-fri 09:00-17:00\n\n  steps\n",
    );
    for i in 0..labels {
        let jump = if i % 10 == 9 {
            format!(
                "        wait 1 day\n        goto s{} up to 3 times\n",
                i - 5
            )
        } else if i + 2 < labels {
            format!("        goto s{}\n", i + 2)
        } else {
            "        exit \"done\"\n".to_owned()
        };
        source.push_str(&format!(
            "    label s{i}\n    send email\n      to lead\n      subject \"Step {i} for {{{{ first_name | default: \"you\" }}}}\"\n      body \"Block {i}\"\n    condition\n      branch skip{i} when num_employees > {i}\n{jump}      else\n        wait 1 hour\n    end\n    wait 2 hours\n"
        ));
    }
    source
}

/// One `flowc graph` run: wall time, peak memory, the SVG written.
fn run(flowc: &str, flow: &std::path::Path, out: &std::path::Path) -> (Duration, u64, Vec<u8>) {
    let began = Instant::now();
    #[allow(clippy::zombie_processes)]
    let process = Command::new(flowc)
        .arg("graph")
        .arg(flow)
        .arg("-o")
        .arg(out)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("flowc runs");
    let (status, peak) = child::wait(process.id());
    let time = began.elapsed();
    assert_eq!(status, 0, "flowc graph failed");
    (time, peak, std::fs::read(out).expect("the picture"))
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = if quick { 3 } else { 7 };
    let flowc = env!("CARGO_BIN_EXE_flowc");
    let dir = tempfile::tempdir().expect("a temporary folder");
    println!("flowc graph FILE -o OUT.svg on generated workflows (the CLI, median of {rounds})\n");
    println!(
        "{:>8}  {:>8}  {:>10}  {:>10}  {:>10}  same bytes",
        "labels", "steps", "median", "peak mem", "svg"
    );
    for labels in [2_500usize, 10_000] {
        let flow = dir.path().join(format!("goto-{labels}.flow"));
        std::fs::write(&flow, workflow(labels)).expect("the flow");
        let out = dir.path().join(format!("goto-{labels}.svg"));
        let runs: Vec<_> = (0..rounds).map(|_| run(flowc, &flow, &out)).collect();
        let mut times: Vec<Duration> = runs.iter().map(|run| run.0).collect();
        times.sort();
        let peak = runs.iter().map(|run| run.1).max().unwrap_or(0);
        let same = runs.iter().all(|run| run.2 == runs[0].2);
        println!(
            "{:>8}  {:>8}  {:>7.0} ms  {:>7.1} MB  {:>7} KB  {}",
            labels,
            labels * 5,
            times[times.len() / 2].as_secs_f64() * 1e3,
            peak as f64 / (1024.0 * 1024.0),
            runs[0].2.len() / 1024,
            if same { "yes" } else { "NO" },
        );
    }
}
