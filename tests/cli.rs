//! `flowc check` and `flowc explain` as users run them: exit statuses,
//! colour, JSON, and errors about the command line itself.

use std::path::Path;
use std::process::{Command, Output};

fn flowc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("flowc runs")
}

fn case(name: &str) -> String {
    Path::new("tests/cases").join(name).display().to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

mod common;

fn examples() -> Vec<String> {
    common::examples()
        .iter()
        .map(|path| path.display().to_string())
        .collect()
}

#[test]
fn clean_files_exit_zero_with_a_summary() {
    let files = examples();
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let output = flowc(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        format!("{} files checked: no problems\n", files.len())
    );
}

#[test]
fn warnings_only_exit_zero() {
    let output = flowc(&["check", &case("W0001-condition-without-else.flow")]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("W0001"));
    assert!(stdout(&output).contains("0 errors and 1 warning in 1 file"));
}

#[test]
fn errors_exit_one_and_every_file_is_reported() {
    let output = flowc(&[
        "check",
        &case("E0101-unknown-field.flow"),
        &case("E0302-invalid-clock.flow"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("E0101") && text.contains("E0302"), "{text}");
    assert!(
        text.contains("2 errors and 0 warnings in 2 files"),
        "{text}"
    );
}

#[test]
fn piped_output_has_no_colour() {
    let output = flowc(&["check", &case("E0101-unknown-field.flow")]);
    assert!(
        !stdout(&output).contains('\u{1b}'),
        "ANSI escapes in piped output"
    );
}

#[test]
fn missing_file_exits_two_with_a_clear_message() {
    let output = flowc(&[
        "check",
        "no/such/file.flow",
        &case("E0101-unknown-field.flow"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read no/such/file.flow"), "{stderr}");
    assert!(
        stdout(&output).contains("E0101"),
        "the readable file is still checked"
    );
}

#[test]
fn bad_usage_exits_two() {
    assert_eq!(flowc(&["check"]).status.code(), Some(2));
    assert_eq!(flowc(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        flowc(&["check", "--format", "yaml", "x.flow"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_has_every_field_for_tools() {
    let output = flowc(&[
        "check",
        "--format",
        "json",
        &case("E0104-undefined-label.flow"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let first = &json[0];
    assert_eq!(first["code"], "E0104");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["message"], "no step is labelled `folow-up`");
    assert_eq!(first["file"], case("E0104-undefined-label.flow"));
    assert_eq!(first["line"], 7);
    assert_eq!(first["column"], 10);
    assert_eq!(first["help"], "did you mean `follow-up`?");
    let (start, end) = (
        first["span"]["start"].as_u64().unwrap(),
        first["span"]["end"].as_u64().unwrap(),
    );
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(case("E0104-undefined-label.flow")),
    )
    .unwrap();
    assert_eq!(&source[start as usize..end as usize], "folow-up");
}

#[test]
fn json_for_clean_files_is_an_empty_array() {
    let output = flowc(&["check", "--format", "json", "examples/re-engagement.flow"]);
    assert_eq!(output.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json, serde_json::json!([]));
}

#[test]
fn explain_prints_the_explanation() {
    let output = flowc(&["explain", "E0403"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("# E0403: an extracted field used before it exists"));
    let lower = flowc(&["explain", "w0001"]);
    assert!(stdout(&lower).starts_with("# W0001"));
}

#[test]
fn explain_unknown_code_exits_two() {
    let output = flowc(&["explain", "E9999"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a flowc diagnostic code"));
}

#[test]
fn explain_list_names_every_code() {
    let output = flowc(&["explain", "--list"]);
    let text = stdout(&output);
    for (code, _) in flowc::diagnostic::EXPLANATIONS {
        assert!(text.contains(code), "{code} missing from --list");
    }
}

/// A folder holding `flowc.toml` with `config`, and `sub/alert.flow`.
fn project(config: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("flowc.toml"), config).expect("config written");
    std::fs::create_dir(dir.path().join("sub")).expect("sub folder");
    let flow = dir.path().join("sub/alert.flow");
    std::fs::write(
        &flow,
        "workflow alert\n  trigger when email is set\n  steps\n    notify slack sales\n      message \"New lead {{ email }}\"\n",
    )
    .expect("flow written");
    (dir, flow.display().to_string())
}

#[test]
fn check_uses_the_nearest_config_above_the_file() {
    let (_dir, flow) = project("[slack.marketing]\nurl_env = \"SLACK_URL\"\n");
    let output = flowc(&["check", &flow]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("E0602") && text.contains("no Slack webhook `sales`"),
        "{text}"
    );
    assert!(text.contains("alert.flow:4:18"), "{text}");
}

#[test]
fn check_with_a_config_that_has_the_webhook_is_clean() {
    let (dir, flow) = project("[slack.marketing]\nurl_env = \"SLACK_URL\"\n");
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[slack.sales]\nurl_env = \"SLACK_URL\"\n").expect("written");
    let output = flowc(&["check", "--config", &other.display().to_string(), &flow]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn an_invalid_config_is_reported_once_in_its_own_file() {
    let (dir, flow) = project("[slack.sales]\nurl_env = 42\n");
    let second = dir.path().join("sub/second.flow");
    std::fs::copy(&flow, &second).expect("copied");
    let output = flowc(&[
        "check",
        "--format",
        "json",
        &flow,
        &second.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let diagnostics = json.as_array().expect("an array");
    assert_eq!(diagnostics.len(), 1, "{json:#}");
    assert_eq!(diagnostics[0]["code"], "E0600");
    assert!(diagnostics[0]["file"]
        .as_str()
        .is_some_and(|file| file.ends_with("flowc.toml")));
    assert_eq!(diagnostics[0]["line"], 2);
}

#[test]
fn a_missing_config_flag_file_exits_two() {
    let output = flowc(&[
        "check",
        "--config",
        "no/such/flowc.toml",
        &case("E0101-unknown-field.flow"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read no/such/flowc.toml"));
}

/// Every subcommand name, as `flowc --help` lists them.
fn subcommands() -> Vec<String> {
    let help = stdout(&flowc(&["--help"]));
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

#[test]
fn completions_know_every_subcommand_and_are_valid_bash() {
    let output = flowc(&["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0));
    let script = stdout(&output);
    let commands = subcommands();
    assert!(commands.len() >= 14, "{commands:?}");
    for command in &commands {
        assert!(
            script.contains(&format!("flowc__subcmd__{command}")),
            "{command}"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("flowc.bash");
    std::fs::write(&path, &script).expect("written");
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let output = flowc(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}");
        assert!(stdout(&output).contains("check"), "{shell}");
    }
}

#[test]
fn man_pages_cover_the_tool_and_each_subcommand() {
    let page = stdout(&flowc(&["man"]));
    assert!(page.contains(".TH flowc 1"), "{page}");
    for command in subcommands() {
        assert!(
            page.contains(&format!("flowc\\-{command}")),
            "{command} missing"
        );
        let sub = flowc(&["man", &command]);
        assert_eq!(sub.status.code(), Some(0), "{command}");
        assert!(
            stdout(&sub).contains(&format!(".TH flowc-{command} 1")),
            "{command}"
        );
    }
    assert!(stdout(&flowc(&["man", "check"])).contains("\\-\\-config"));
    assert_eq!(flowc(&["man", "nope"]).status.code(), Some(2));
}

#[test]
fn check_with_config_warns_of_unset_variables_only_in_its_own_environment() {
    let case = case("W0005-unset-variable.flow");
    let config = Path::new("tests/cases/W0005-unset-variable.toml")
        .display()
        .to_string();
    let named = flowc(&["check", &case, "--config", &config]);
    assert!(stdout(&named).contains("W0005"), "{}", stdout(&named));
    let set = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["check", &case, "--config", &config])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FLOWC_CASE_NEVER_SET", "token")
        .output()
        .expect("flowc runs");
    assert_eq!(stdout(&set), "1 file checked: no problems\n");
    let nearest = flowc(&["check", &case]);
    assert!(!stdout(&nearest).contains("W0005"), "{}", stdout(&nearest));
}

#[test]
fn check_short_prints_one_line_per_diagnostic_for_quickfix_lists() {
    let output = flowc(&[
        "check",
        "--format",
        "short",
        "tests/cases/E0101-unknown-field.flow",
        "examples/re-engagement.flow",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout,
        "tests/cases/E0101-unknown-field.flow:4:16: error[E0101]: unknown field `lead_scor`; \
         help: did you mean `lead_score`?\n"
    );
}

#[test]
fn a_file_that_cannot_be_read_is_not_counted_as_checked() {
    let output = flowc(&["check", "missing.flow"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read missing.flow"));
    assert_eq!(stdout(&output), "0 files checked; 1 file not checked\n");
}

#[test]
fn read_only_commands_create_no_database() {
    let dir = tempfile::tempdir().expect("a folder");
    let db = dir.path().join("none.db");
    let db = db.display().to_string();
    for args in [
        vec!["leads", "--db", &db],
        vec!["leads", "show", "a", "--db", &db],
        vec!["timeline", "a", "--db", &db],
        vec!["stats", "w", "--db", &db],
    ] {
        let output = flowc(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("there is no database at"),
            "{args:?}: {output:?}"
        );
        assert!(!std::path::Path::new(&db).exists(), "{args:?} made {db}");
    }
}

#[test]
fn leads_status_takes_only_real_statuses() {
    let output = flowc(&["leads", "--status", "bogus"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("possible values: active, waiting, held, paused"),
        "{stderr}"
    );
}

#[test]
fn a_byte_order_mark_at_the_start_is_accepted() {
    let dir = tempfile::tempdir().expect("a folder");
    let file = dir.path().join("bom.flow");
    std::fs::write(
        &file,
        "\u{feff}workflow w\n trigger when email is set\n  steps\n      wait 1 day\n",
    )
    .expect("written");
    let path = file.display().to_string();
    let checked = flowc(&["check", &path]);
    assert_eq!(checked.status.code(), Some(0), "{checked:?}");
    let formatted = flowc(&["fmt", &path]);
    assert_eq!(formatted.status.code(), Some(0), "{formatted:?}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "\u{feff}workflow w\n  trigger when email is set\n  steps\n    wait 1 day\n"
    );
}

/// The words of an example's command line, as a shell would pass them:
/// single quotes kept together, cut at a comment, pipe or redirection.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.trim().chars() {
        match c {
            '\'' => quoted = !quoted,
            '#' | '|' | '>' | '<' if !quoted => break,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Every subcommand's `--help` ends with examples, and every example is a
/// command line flowc accepts.
#[test]
fn every_subcommand_has_examples_that_parse() {
    use clap::{CommandFactory, Parser};
    let command = flowc::cli::Cli::command();
    let mut checked = 0;
    for sub in command.get_subcommands() {
        let name = sub.get_name();
        let help = sub
            .get_after_help()
            .unwrap_or_else(|| panic!("flowc {name} --help has no examples"))
            .to_string();
        assert!(help.starts_with("Examples:"), "{name}: {help}");
        for line in help.lines().skip(1) {
            let words = shell_words(line);
            assert_eq!(words[..2], ["flowc", name], "{line}");
            if let Err(error) = flowc::cli::Cli::try_parse_from(&words) {
                panic!("`{line}` does not parse: {error}");
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} examples");
    // And the binary prints them.
    assert!(stdout(&flowc(&["run", "--help"]))
        .contains("Examples:\n  flowc run workflow.flow --simulate"));
}

/// One vocabulary for --format: `text` for people and `json` for
/// programs everywhere (run's JSON is one object per line); the names
/// each command used before still work.
#[test]
fn every_format_flag_speaks_text_and_json() {
    use clap::Parser;
    for command in [
        &["check", "x.flow"][..],
        &["run", "x.flow", "--simulate"],
        &["leads"],
        &["stats", "w"],
        &["timeline", "a"],
        &["consent", "show", "a@x.example"],
        &["token", "list"],
    ] {
        for (format, old) in [
            ("text", None),
            ("json", None),
            ("human", Some("check")),
            ("table", Some("leads")),
            ("jsonl", Some("run")),
        ] {
            if old.is_some_and(|old| old != command[0]) {
                continue;
            }
            let mut words = vec!["flowc"];
            words.extend(command);
            words.extend(["--format", format]);
            assert!(
                flowc::cli::Cli::try_parse_from(&words).is_ok(),
                "{}",
                words.join(" ")
            );
        }
    }
    let bogus = flowc(&["leads", "--format", "yaml"]);
    assert_eq!(bogus.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bogus.stderr).contains("[possible values: text, json]"));
}

/// `flowc ARGS` exits 2 saying `says`.
fn refused(args: &[&str], says: &str) {
    let output = flowc(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
}

/// `run`'s simulation flags are refused on a live run (they were silently
/// ignored), and live-only flags on a simulation; --help groups them.
#[test]
fn run_refuses_flags_that_do_not_apply() {
    for (args, says) in [
        (&["run", "--events", "events.jsonl"][..], "--simulate"),
        (&["run", "--fixtures", "fixtures.json"], "--simulate"),
        (&["run", "--start", "2026-03-06T09:00"], "--simulate"),
        (&["run", "--report", "r.html"], "--simulate"),
        (
            &["run", "x.flow", "--simulate", "--once"],
            "cannot be used with",
        ),
    ] {
        refused(args, says);
    }
    // A simulation that would run, but for one live-only flag.
    let simulation = [
        "run",
        "examples/inbound-demo-follow-up.flow",
        "--simulate",
        "--leads",
        "examples/leads/inbound-demo-follow-up.jsonl",
        "--start",
        "2026-03-06T09:00",
    ];
    for (flag, says) in [
        (&["--lease", "60"][..], "--lease applies to live runs only"),
        (&["--record"], "--record applies to live runs only"),
    ] {
        refused(&[&simulation[..], flag].concat(), says);
    }
    let help = stdout(&flowc(&["run", "--help"]));
    let simulation = help.find("Simulation:").expect("a Simulation group");
    let live = help.find("Live runs:").expect("a Live runs group");
    assert!(
        help[simulation..live].contains("--events") && help[live..].contains("--once"),
        "{help}"
    );
}
