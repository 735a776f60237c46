//! `body file "PATH"` is hostile input: whatever it names is mailed to
//! leads. Every way out of the workflow's folder, and every file that is
//! not bounded UTF-8 text, is refused by `check`, and `publish` compiles
//! nothing from it.

use std::path::Path;
use std::process::{Command, Output};

fn flowc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("SMTP_PASSWORD", "hunter2-secret")
        .output()
        .expect("flowc runs")
}

/// A folder with `flow/demo.flow` sending `body file "PATH"`.
fn workflow(path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("flow/templates")).expect("folders");
    std::fs::write(
        dir.path().join("flow/demo.flow"),
        format!(
            "workflow demo\n  trigger when email is set\n\n  steps\n    send email\n      to lead\n      subject \"Hi\"\n      body file \"{path}\"\n"
        ),
    )
    .expect("written");
    dir
}

/// What `flowc check` and `flowc publish` say of the workflow: both must
/// refuse with `code`, and `publish` must create no database content.
fn refused(dir: &Path, code: &str) -> String {
    let check = flowc(dir, &["check", "flow/demo.flow"]);
    let said = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(said.contains(code), "expected {code}: {said}");
    let publish = flowc(dir, &["publish", "flow/demo.flow", "--db", "flowc.db"]);
    assert_ne!(publish.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&publish.stderr);
    assert!(stderr.contains(code), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    said
}

#[test]
fn absolute_paths_are_refused() {
    for path in ["/proc/self/environ", "/etc/shadow", "/etc/passwd"] {
        let dir = workflow(path);
        let said = refused(dir.path(), "E0406");
        assert!(said.contains("absolute path"), "{said}");
    }
}

#[test]
fn paths_that_climb_out_are_refused() {
    for path in ["../outside.md", "../../x", "templates/../../outside.md"] {
        let dir = workflow(path);
        std::fs::write(dir.path().join("outside.md"), "secret").expect("written");
        let said = refused(dir.path(), "E0406");
        assert!(said.contains("goes up out of"), "{said}");
    }
}

#[test]
fn symbolic_links_out_of_the_folder_are_refused() {
    let dir = workflow("templates/body.md");
    std::fs::write(dir.path().join("secret.env"), "SMTP_PASSWORD=x").expect("written");
    std::os::unix::fs::symlink(
        dir.path().join("secret.env"),
        dir.path().join("flow/templates/body.md"),
    )
    .expect("a link");
    let said = refused(dir.path(), "E0406");
    assert!(said.contains("symbolic link"), "{said}");

    let linked_folder = workflow("outside/passwd");
    std::os::unix::fs::symlink("/etc", linked_folder.path().join("flow/outside")).expect("a link");
    refused(linked_folder.path(), "E0406");
}

#[test]
fn a_link_inside_the_folder_is_followed() {
    let dir = workflow("templates/body.md");
    std::fs::write(dir.path().join("flow/real.md"), "Hello {{ first_name }}").expect("written");
    std::os::unix::fs::symlink("../real.md", dir.path().join("flow/templates/body.md"))
        .expect("a link");
    let check = flowc(dir.path(), &["check", "flow/demo.flow"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn files_that_are_not_bounded_text_are_refused() {
    let big = workflow("templates/big.md");
    let size = flowc::check::MAX_TEMPLATE_FILE as usize + 1;
    std::fs::write(big.path().join("flow/templates/big.md"), "x".repeat(size)).expect("written");
    assert!(refused(big.path(), "E0405").contains("larger than"));

    let binary = workflow("templates/logo.md");
    std::fs::write(
        binary.path().join("flow/templates/logo.md"),
        [0xff, 0xfe, 0x00],
    )
    .expect("written");
    assert!(refused(binary.path(), "E0405").contains("not UTF-8"));

    let folder = workflow("templates");
    assert!(refused(folder.path(), "E0405").contains("not a regular file"));

    let fifo = workflow("templates/pipe.md");
    let made = Command::new("mkfifo")
        .arg(fifo.path().join("flow/templates/pipe.md"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    assert!(refused(fifo.path(), "E0405").contains("not a regular file"));
}

#[test]
fn a_source_without_a_folder_cannot_name_a_body_file() {
    let source = "workflow demo\n  trigger when email is set\n\n  steps\n    send email\n      to lead\n      subject \"Hi\"\n      body file \"body.md\"\n";
    let errors = flowc::compile::compile_source(source, None).expect_err("nothing to read");
    assert_eq!(errors[0].code(), "E0405");
}

#[test]
fn a_body_file_inside_the_folder_is_compiled_into_the_email() {
    let dir = workflow("templates/body.md");
    std::fs::write(
        dir.path().join("flow/templates/body.md"),
        "Hello {{ first_name | default: \"there\" }}, from the file.",
    )
    .expect("written");
    let source = std::fs::read_to_string(dir.path().join("flow/demo.flow")).expect("read");
    let artifact = flowc::compile::compile_source(&source, Some(&dir.path().join("flow")))
        .expect("it compiles");
    let listing = flowc::bytecode::disassemble(&artifact.programs[0]);
    assert!(listing.contains("from the file."), "{listing}");
    assert!(!listing.contains("[body file"), "{listing}");
}

/// `holidays file "PATH"` is read like a body file: confined to the
/// workflow's folder, one date per line with comments, and a bad line is a
/// located error.
#[test]
fn a_holidays_file_is_read_safely_and_line_by_line() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir_all(dir.path().join("flow")).expect("folders");
    let source = |path: &str| {
        format!("workflow demo\n  timezone UTC\n  holidays file \"{path}\"\n  trigger when email is set\n\n  steps\n    wait 1 business day\n")
    };
    std::fs::write(dir.path().join("flow/demo.flow"), source("days.txt")).expect("written");
    std::fs::write(
        dir.path().join("flow/days.txt"),
        "# company holidays\n2026-12-25\n\n2027-01-01  # new year\n",
    )
    .expect("written");
    let check = flowc(dir.path(), &["check", "flow/demo.flow"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Thursday 2026-12-24: Christmas is a holiday, so the next business day is Monday.
    std::fs::write(
        dir.path().join("leads.jsonl"),
        "{\"id\": \"a\", \"email\": \"a@x.example\"}\n",
    )
    .expect("written");
    let run = flowc(
        dir.path(),
        &[
            "run",
            "--simulate",
            "flow/demo.flow",
            "--leads",
            "leads.jsonl",
            "--start",
            "2026-12-24T10:00Z",
        ],
    );
    let shown = String::from_utf8_lossy(&run.stdout);
    assert!(shown.contains("until 2026-12-28T10:00:00+00:00"), "{shown}");

    std::fs::write(dir.path().join("flow/days.txt"), "2026-12-25\nChristmas\n").expect("written");
    let said = String::from_utf8_lossy(&flowc(dir.path(), &["check", "flow/demo.flow"]).stdout)
        .into_owned();
    assert!(
        said.contains("E0405") && said.contains("`Christmas` on line 2"),
        "{said}"
    );

    std::fs::write(dir.path().join("flow/demo.flow"), source("../outside.txt")).expect("written");
    refused(dir.path(), "E0406");
}
