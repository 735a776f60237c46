//! `flowc fmt`: one canonical layout, idempotent, comments kept, meaning
//! kept, files with syntax errors refused with `flowc check`'s diagnostics.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use flowc::format::{format_source, FormatError};
use proptest::prelude::*;

/// Every file of the fuzz corpus `fuzz/corpus/fmt/`.
fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/fmt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the fmt corpus exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).expect("readable")).into_owned()
}

/// The comment texts of a file, in order.
fn comments(source: &str) -> Vec<String> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_example_is_formatted() {
    for path in common::examples() {
        let source = read(&path);
        let formatted = format_source(&source).expect("examples format");
        assert_eq!(
            formatted,
            source,
            "{} is not in the canonical layout",
            path.display()
        );
    }
}

#[test]
fn formatting_is_idempotent_over_the_examples_and_the_fuzz_corpus() {
    let files: Vec<PathBuf> = common::examples().into_iter().chain(corpus()).collect();
    assert!(files.len() > 100, "the corpus has {} files", files.len());
    let mut formatted_files = 0;
    for path in files {
        let source = read(&path);
        match format_source(&source) {
            Ok(once) => {
                formatted_files += 1;
                let twice = format_source(&once).expect("formatted text formats");
                assert_eq!(twice, once, "{}: fmt(fmt(x)) != fmt(x)", path.display());
                assert_eq!(
                    comments(&once),
                    comments(&source),
                    "{}: comments",
                    path.display()
                );
            }
            Err(FormatError::Syntax(_)) => {
                assert!(!flowc::syntax::parse(&source).diagnostics.is_empty());
            }
            Err(FormatError::Changed) => {
                panic!("{}: the layout changed the meaning", path.display())
            }
        }
    }
    assert!(
        formatted_files > 50,
        "only {formatted_files} corpus files parse"
    );
}

#[test]
fn a_messy_file_gets_the_canonical_layout() {
    let messy = "workflow   demo\n\n\n\ttimezone   UTC   \n # why it exists\n        trigger when email is set\n   and lead_score >= 40\nsteps\n  # first, a welcome\n        send   email\nto lead\n subject  \"Hi  there\"   # two spaces kept\n body \"\"\"\n      Hello,\n\n        indented line\n      \"\"\"\n condition\n branch big when lead_score >= 90\n  notify slack sales\n message \"big\"\n else\n exit\n end\n\n\n\n  wait 1 day\n";
    let expected = "workflow demo\n\n  timezone UTC\n  # why it exists\n  trigger when email is set\n    and lead_score >= 40\n  steps\n    # first, a welcome\n    send email\n      to lead\n      subject \"Hi  there\" # two spaces kept\n      body \"\"\"\n        Hello,\n\n          indented line\n        \"\"\"\n    condition\n      branch big when lead_score >= 90\n        notify slack sales\n          message \"big\"\n      else\n        exit\n    end\n\n    wait 1 day\n";
    let formatted = format_source(messy).expect("it parses");
    assert_eq!(formatted, expected, "got:\n{formatted}");
}

#[test]
fn a_split_nests_its_variants_and_their_steps() {
    let messy = "workflow ab\n  trigger when email is set\n  steps\n  split\n        variant a   50%\n  wait 1 day\n     variant b 50%\n send text\n    body \"x\"\n         end\n";
    let expected = "workflow ab\n  trigger when email is set\n  steps\n    split\n      variant a 50%\n        wait 1 day\n      variant b 50%\n        send text\n          body \"x\"\n    end\n";
    let formatted = format_source(messy).expect("it parses");
    assert_eq!(formatted, expected, "got:\n{formatted}");
}

fn flowc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("flowc runs")
}

#[test]
fn the_command_rewrites_checks_and_refuses() {
    let dir = tempfile::tempdir().expect("temp dir");
    let messy = dir.path().join("messy.flow");
    let clean = dir.path().join("clean.flow");
    let example =
        read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webinar-nurture.flow"));
    std::fs::write(&messy, example.replace("\n  ", "\n      ")).expect("written");
    std::fs::write(&clean, &example).expect("written");
    let (messy, clean) = (messy.display().to_string(), clean.display().to_string());

    let check = flowc(&["fmt", "--check", &messy, &clean]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        format!("{messy} is not formatted\n")
    );
    assert_ne!(read(Path::new(&messy)), example, "--check changes nothing");

    let write = flowc(&["fmt", &messy, &clean]);
    assert_eq!(write.status.code(), Some(0));
    assert_eq!(read(Path::new(&messy)), example);
    assert_eq!(
        flowc(&["fmt", "--check", &messy, &clean]).status.code(),
        Some(0)
    );

    let broken = "tests/cases/E0003-condition-without-end.flow";
    let before = read(Path::new(env!("CARGO_MANIFEST_DIR")).join(broken).as_path());
    let refused = flowc(&["fmt", broken]);
    assert_eq!(refused.status.code(), Some(1));
    let check = flowc(&["check", broken]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let reported = String::from_utf8_lossy(&check.stdout);
    let first_report = reported.split("\n\n").next().unwrap_or_default();
    assert!(
        stderr.contains("E0003") && stderr.contains(first_report.trim()),
        "{stderr}\nvs\n{reported}"
    );
    assert_eq!(
        read(Path::new(env!("CARGO_MANIFEST_DIR")).join(broken).as_path()),
        before
    );
}

/// Messes a source up without changing its meaning: other indentation,
/// more spaces between words outside quotes, more blank lines.
fn mess(source: &str, indents: &[u8], spaces: &[bool]) -> String {
    let mut out = String::new();
    let mut in_text = false;
    for (index, line) in source.lines().enumerate() {
        let triple = line.matches("\"\"\"").count() % 2 == 1;
        if in_text {
            out.push_str(line);
            out.push('\n');
            in_text = !triple;
            continue;
        }
        let indent = indents[index % indents.len()] as usize % 9;
        let code = line.trim();
        let code = if spaces[index % spaces.len()] && !code.contains('"') && !code.starts_with('#')
        {
            code.replace(' ', "  ")
        } else {
            code.to_owned()
        };
        out.push_str(&" ".repeat(indent));
        out.push_str(&code);
        out.push_str(if index % 3 == 0 { "  \n\n" } else { "\n" });
        in_text = triple;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn messed_up_examples_format_back_to_themselves(
        example in any::<prop::sample::Index>(),
        indents in proptest::collection::vec(any::<u8>(), 1..12),
        spaces in proptest::collection::vec(any::<bool>(), 1..12),
    ) {
        let examples = common::examples();
        let source = read(&examples[example.index(examples.len())]);
        let messy = mess(&source, &indents, &spaces);
        let formatted = format_source(&messy).expect("a messed-up example still parses");
        // Blank lines the mess added after header comments stay (one).
        prop_assert_eq!(format_source(&formatted).expect("formats"), formatted.clone());
        prop_assert_eq!(
            formatted.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>(),
            source.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_comment_on_the_last_line_without_a_newline_is_accepted() {
    for ending in ["# end", "  # end", "    wait 2 days # end"] {
        let source =
            format!("workflow a\n  trigger when email is set\n  steps\n    wait 1 day\n{ending}");
        let diagnostics = flowc::check::check_source(&source, None, None);
        assert!(diagnostics.is_empty(), "{ending:?}: {diagnostics:?}");
        let formatted = format_source(&source).expect("it formats");
        assert!(formatted.ends_with("# end\n"), "{formatted:?}");
    }
}
