//! `flowc serve` as a child process on a free port, for the tests that
//! drive it over HTTP or in a browser.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowc::store::Location;

/// A running `flowc serve` on a free port, stopped (SIGKILL) when dropped
/// unless [`Service::stop`] stopped it.
pub struct Service {
    child: Option<Child>,
    pub url: String,
    /// What it wrote on stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Service {
    /// Starts the service on `db` and waits until it says it listens.
    pub fn start(db: &Location) -> Service {
        Service::launch(db, &[], &[])
    }

    /// Starts the service with more arguments and environment variables.
    pub fn launch(db: &Location, args: &[&str], env: &[(&str, &str)]) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .args(["serve", "--listen", "127.0.0.1:0", "--body-limit", "65536"])
            .args(args)
            .env("FLOWC_DB", db.arg())
            .env_remove("FLOWC_CLOCK")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .expect("flowc serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (found, url) = std::sync::mpsc::channel();
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("listening on http://") {
                    let rest = &line[at + "listening on ".len()..];
                    let _ = found.send(rest[..rest.find('"').unwrap_or(rest.len())].to_owned());
                }
                shared.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let url = url
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("flowc serve did not start: {}", log.lock().unwrap()));
        Service {
            child: Some(child),
            url,
            log,
        }
    }

    /// Sends SIGTERM and gives the exit status and everything it logged.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = child.wait().expect("it ends");
        // The reader thread sees the end of stderr once the process is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log.lock().unwrap().contains("flowc serve: stopped")
            && Instant::now() < deadline
        {
            std::thread::yield_now();
        }
        (status.code(), self.log.lock().unwrap().clone())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
