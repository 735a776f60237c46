//! The local provider server (`tests/servers/providers.py`): Slack,
//! Teams, Twilio's Messages and Calls APIs and plain JSON APIs on
//! loopback, logging every request it takes.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Child;

use serde_json::Value;

/// The local provider server, stopped when dropped.
pub struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    pub fn start(dir: &std::path::Path) -> Server {
        let log = dir.join("requests.jsonl");
        let (child, port) = crate::python::start("providers.py", &[log.as_os_str()]);
        Server { child, port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request the server received, in order.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a logged request"))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
