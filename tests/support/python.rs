//! Starts a stand-in server written in Python (`tests/servers/*.py`): each
//! picks a free loopback port itself and prints it, so tests running at
//! once never share one. When it cannot start, the panic says why in a
//! sentence: no python3, or a module `scripts/install-test-servers` installs.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `python3 tests/servers/SCRIPT ARGS...`, and the port it printed.
pub fn start(script: &str, args: &[&std::ffi::OsStr]) -> (Child, u16) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/servers")
        .join(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot run python3 for the {script} stand-in ({error}): install Python 3, then run the tests with scripts/test, which installs what they need")
        });
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("its output")).read_line(&mut line);
    match line.trim().parse() {
        Ok(port) => (child, port),
        Err(_) => {
            let _ = child.wait();
            let mut stderr = String::new();
            let _ = child
                .stderr
                .take()
                .map(|mut err| err.read_to_string(&mut stderr));
            let last = stderr.lines().last().unwrap_or("it printed nothing");
            let missing = last
                .strip_prefix("ModuleNotFoundError: No module named ")
                .map(|module| format!("the Python module {module} is not installed: "))
                .unwrap_or_default();
            panic!("the {script} stand-in did not start: {missing}{last}; run the tests with scripts/test (or scripts/install-test-servers first)")
        }
    }
}
