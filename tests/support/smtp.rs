//! aiosmtpd on loopback (`tests/servers/smtp.py`, installed by
//! `scripts/install-test-servers`), keeping every message in a maildir.
// Each test binary that includes this file uses some of the helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Child;

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
        let mut args = vec![maildir.as_os_str()];
        args.extend(options.iter().map(std::ffi::OsStr::new));
        let (child, port) = crate::python::start("smtp.py", &args);
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
