//! No input makes the parser or the checker panic: random bytes, and random
//! mutations of the bundled examples (the inputs closest to valid ones,
//! which reach deepest into the checker). `fuzz/` runs the same for longer.

use proptest::prelude::*;

mod common;

fn examples() -> Vec<String> {
    common::examples()
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect()
}

/// Tokens that make mutations grammatical more often than random bytes do.
const TOKENS: &[&str] = &[
    "\n",
    " ",
    "\"",
    "\"\"\"",
    "{{",
    "}}",
    "(",
    ")",
    "end",
    "else",
    "branch x when ",
    "on error",
    "on answered",
    "goto ",
    "label ",
    "wait ",
    "wait until ",
    "condition",
    "send email",
    "send text",
    "call phone",
    "http get \"u\"",
    "prompt",
    "extract",
    "x number from a.b",
    "24:00",
    "99:99",
    "0 days",
    "31 days",
    "and",
    "or",
    "not",
    "is set",
    "is one of",
    "> 5",
    "event.",
    "env.",
    "| default: 1",
    "timezone Mars/Base",
    "workflow w",
    "steps",
    "trigger when ",
    "email ",
    "mon-sun",
    "17:00-09:00",
    "#",
    "\t",
    "é",
    "\u{0}",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert(at, token)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn floor_boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut text: String, edit: &Edit) -> String {
    match *edit {
        Edit::Delete(at, len) => {
            let start = floor_boundary(&text, at);
            let end = floor_boundary(&text, (start + len).min(text.len()));
            if end > start {
                text.replace_range(start..end, "");
            }
            text
        }
        Edit::Insert(at, token) => {
            let at = floor_boundary(&text, at);
            text.insert_str(at, TOKENS[token]);
            text
        }
        Edit::DuplicateLine(line) | Edit::SwapLines(line, _) if text.is_empty() => {
            let _ = line;
            text
        }
        Edit::DuplicateLine(line) => {
            let mut lines: Vec<&str> = text.lines().collect();
            let line = line % lines.len().max(1);
            if let Some(copy) = lines.get(line).copied() {
                lines.insert(line, copy);
            }
            lines.join("\n")
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
            }
            lines.join("\n")
        }
    }
}

/// A configuration with some of everything, so that the provider checks
/// run too (and find both known and unknown names).
const CONFIG: &str = r#"
[smtp]
host = "localhost"
identities = { sales = "Sales <sales@acme.example>" }
[twilio]
account_sid_env = "SID"
auth_token_env = "TOKEN"
agents = { sdr-bot = "https://agents.example/sdr.xml" }
[slack.sales-alerts]
url_env = "SLACK"
[ai]
base_url = "http://localhost:11434/v1"
model = "m"
[http]
allow = ["api.example.com"]
"#;

/// Checks and renders `source` both ways, as `flowc check` would, and
/// reads it as the language server does (tree, tokens and outline off one
/// parse).
fn check_everything(source: &str) {
    use flowc::syntax::{read_each, Reading, Wanted};
    read_each(source, Wanted::Outline, |reading| {
        match reading {
            Reading::Outline(symbols) => {
                for symbol in &symbols {
                    assert!(symbol.span.end as usize <= source.len(), "{symbol:?}");
                }
            }
            Reading::Tokens(tokens) => {
                for token in &tokens {
                    assert!(token.span.end as usize <= source.len(), "{token:?}");
                }
            }
            Reading::Tree(_) => {}
        }
        std::ops::ControlFlow::Continue(())
    });
    let config = flowc::config::Config::parse(CONFIG).expect("the test config is valid");
    let diagnostics =
        flowc::check::check_source(source, None, Some(flowc::check::Target::config(&config)));
    draw_everything(source);
    let _ = flowc::diagnostic::render_human("fuzz.flow", source, &diagnostics);
    for diagnostic in &diagnostics {
        let json = flowc::diagnostic::render_json(
            &flowc::diagnostic::Source::new("fuzz.flow", source),
            diagnostic,
        );
        assert!(
            json.span.end as usize <= source.len(),
            "span past the end: {json:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_everything(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn damaged_configs_are_errors_inside_the_file(
        cut in 0..CONFIG.len(),
        junk in "[\\[\\]=\"a-z0-9 \n.{}]{0,12}",
    ) {
        let text = format!("{}{junk}{}", &CONFIG[..cut], &CONFIG[cut..]);
        if let Err(error) = flowc::config::Config::parse(&text) {
            prop_assert!(error.span.end as usize <= text.len());
            let diagnostic = flowc::diagnostic::Diagnostic::from(error);
            let _ = flowc::diagnostic::render_human("flowc.toml", &text, &[diagnostic]);
        }
    }

    #[test]
    fn mutated_examples_never_panic(
        example in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..8),
    ) {
        let sources = examples();
        let mut text = sources[example.index(sources.len())].clone();
        for edit in &edits {
            text = apply(text, edit);
        }
        check_everything(&text);
    }
}

/// Draws every workflow of a file that parses, in every format, as
/// `flowc graph` would (it draws only files that check, a subset of these).
fn draw_everything(source: &str) {
    let parsed = flowc::syntax::parse(source);
    if !parsed.diagnostics.is_empty() {
        return;
    }
    for workflow in &parsed.file.workflows {
        let canvas = flowc::canvas::Canvas::build(workflow, source);
        let _ = flowc::canvas::dot::render(&canvas);
        let _ = flowc::canvas::mermaid::render(&canvas);
        let _ = flowc::canvas::svg::render(&canvas);
    }
}

/// A workflow with the given trigger criteria and steps.
fn workflow(criteria: &str, steps: &str) -> String {
    format!("workflow w\n  trigger when {criteria}\n  steps\n{steps}")
}

/// A valid workflow whose `goto`s chain 5,000 labels without a wait
/// between them: the loop check once recursed once per step and
/// overflowed the stack; it must check, and draw, like any other.
#[test]
fn a_long_chain_of_gotos_checks_and_draws() {
    let mut source = String::from("workflow chain\n  trigger when email is set\n  steps\n");
    for i in 0..5000 {
        source.push_str(&format!(
            "    label s{i}\n    condition\n      branch skip{i} when email is \"a{i}\"\n        goto s{}\n      else\n        wait 1 hour\n    end\n",
            i + 2
        ));
    }
    source.push_str("    label s5000\n    wait 1 day\n    label s5001\n    wait 1 day\n");
    let diagnostics = flowc::check::check_source(&source, None, None);
    assert!(diagnostics.is_empty(), "{}", diagnostics[0]);
    let parsed = flowc::syntax::parse(&source);
    let canvas = flowc::canvas::Canvas::build(&parsed.file.workflows[0], &source);
    let picture = flowc::canvas::svg::render(&canvas);
    assert!(picture.contains("skip4999"));
}

/// 20,000 waits in a row are written on one arrow: the canvas once
/// followed them by recursion and overflowed the stack. The label lists
/// the first ones and counts the rest.
#[test]
fn a_long_run_of_waits_draws() {
    let mut source = String::from("workflow waits\n  trigger when email is set\n  steps\n");
    source.push_str(&"    wait 1 day\n".repeat(20_000));
    source.push_str("    send email\n      to lead\n      subject \"hi\"\n      body \"b\"\n");
    let parsed = flowc::syntax::parse(&source);
    assert!(parsed.diagnostics.is_empty());
    let canvas = flowc::canvas::Canvas::build(&parsed.file.workflows[0], &source);
    let label = &canvas.arrows[0].label;
    assert!(label.len() <= 13, "{} lines", label.len());
    assert_eq!(
        label.last().map(String::as_str),
        Some("… and 19988 more steps")
    );
    assert_eq!(canvas.arrows[0].spans.len(), 20_000);
    assert!(flowc::canvas::svg::render(&canvas).contains("… and 19988 more steps"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = 5000;
    let wait = "    wait 1 day\n";
    let nested_blocks = "    condition\n      branch b when email is set\n".repeat(deep);
    let parens = workflow(
        &format!("{}email is set{}", "(".repeat(deep), ")".repeat(deep)),
        wait,
    );
    let nots = workflow(&format!("{}email is set", "not ".repeat(deep)), wait);
    let blocks = workflow("email is set", &nested_blocks);
    let after_escaped_quote = workflow(
        &format!(
            "first_name is \"a\\\"b\" and {}email is set{}",
            "(".repeat(deep),
            ")".repeat(deep)
        ),
        wait,
    );
    let blocks_with_cr_line_ends = blocks.replace('\n', "\r");
    let templates_in_defaults = workflow(
        "email is set",
        &format!(
            "    send text\n      body \"{}x{}\"\n",
            "{{ first_name | default: \"".repeat(deep),
            "\" }}".repeat(deep)
        ),
    );
    let blocks_after_broken_text = workflow(
        "email is set",
        &format!("    send text\n      body \"\"\"{{{{\n{nested_blocks}"),
    );
    for source in [
        parens,
        nots,
        blocks,
        after_escaped_quote,
        blocks_with_cr_line_ends,
        templates_in_defaults,
        blocks_after_broken_text,
    ] {
        let codes: Vec<String> = flowc::check::check_source(&source, None, None)
            .iter()
            .map(|d| d.code())
            .collect();
        assert_eq!(codes, ["E0008"]);
    }
}

#[test]
fn nesting_at_the_limit_is_checked_normally() {
    let limit = 64;
    let mut steps = String::new();
    for depth in 0..limit {
        steps.push_str(&format!(
            "{}condition\n{}  branch b when email is set\n",
            "  ".repeat(depth + 2),
            "  ".repeat(depth + 2)
        ));
    }
    steps.push_str(&format!("{}wait 1 day\n", "  ".repeat(limit + 3)));
    for depth in (0..limit).rev() {
        steps.push_str(&format!(
            "{}  else\n{}    exit\n{}end\n",
            "  ".repeat(depth + 2),
            "  ".repeat(depth + 2),
            "  ".repeat(depth + 2)
        ));
    }
    let source = format!(
        "workflow w\n  trigger when {}email is set{}\n  steps\n{steps}",
        "(".repeat(limit - 1),
        ")".repeat(limit - 1)
    );
    let codes: Vec<String> = flowc::check::check_source(&source, None, None)
        .iter()
        .map(|d| d.code())
        .collect();
    assert!(!codes.contains(&"E0008".to_owned()), "{codes:?}");
    assert!(codes.iter().all(|code| code.starts_with('W')), "{codes:?}");
}

#[test]
fn diagnostics_on_very_long_lines_render_without_panicking() {
    let long_name = "x".repeat(70_000);
    let unknown_field =
        format!("workflow w\n  trigger when {long_name} is set\n  steps\n    wait 1 day\n");
    let far_error = format!(
        "workflow w\n  trigger when email is set\n  steps\n    send text\n      body \"{}\" junk\n",
        "y".repeat(70_000)
    );
    for source in [unknown_field, far_error] {
        let diagnostics = flowc::check::check_source(&source, None, None);
        assert!(!diagnostics.is_empty());
        let report = flowc::diagnostic::render_human("long.flow", &source, &diagnostics);
        assert!(
            report.contains("long.flow:"),
            "the location is still given: {report}"
        );
    }
}
