//! aiosmtpd on loopback (`tests/servers/smtp.py`, installed by
//! `scripts/install-test-servers`), keeping every message in a maildir.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// aiosmtpd storing every message in a maildir; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    pub fn start(dir: &Path) -> SmtpServer {
        SmtpServer::with(dir, &[])
    }

    /// `tests/servers/smtp.py` with `options` (`refusing`), on the port it
    /// picks and prints.
    pub fn with(dir: &Path, options: &[&str]) -> SmtpServer {
        let maildir = dir.join("maildir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/servers/smtp.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&maildir)
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its output"))
            .read_line(&mut line)
            .expect("it prints its port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("aiosmtpd did not start ({line:?}): run the tests with scripts/test, which installs it")
        });
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// Every message received, as raw text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("a message"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
