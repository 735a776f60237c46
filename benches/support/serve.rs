//! `flowc` commands and a running `flowc serve` for the benchmarks that
//! load the service.
// Each benchmark that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use flowc::store::Location;

/// `flowc ARGS` in `dir` on `db`, its stderr dropped.
pub fn flowc(dir: &Path, db: &Location, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowc"));
    command
        .args(args)
        .current_dir(dir)
        .env("FLOWC_DB", db.arg())
        .stderr(Stdio::null());
    command
}

/// A running `flowc serve`.
pub struct Service {
    child: Child,
    /// Where it listens, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Service {
    /// Starts it on a free port, on an accelerated clock (a day passes in
    /// under a tenth of a second), and waits until it listens.
    pub fn start(dir: &Path, db: &Location) -> Service {
        let origin = chrono::Utc::now().timestamp_millis();
        let mut child = flowc(dir, db, &["serve", "--listen", "127.0.0.1:0"])
            .env(
                "FLOWC_CLOCK",
                format!("2026-03-02T14:00:00Z@{origin}*1000000"),
            )
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("flowc serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("flowc serve says where it listens")
                .expect("a line");
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on ".len()..];
                break rest[..rest.find('"').unwrap_or(rest.len())].to_owned();
            }
        };
        // Its request log is read and dropped, so it never blocks on a pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Service { child, url }
    }

    /// Stops it (SIGKILL).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
