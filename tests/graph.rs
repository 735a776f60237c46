//! `flowc graph`: every example as DOT and Mermaid (snapshots) and as SVG,
//! and the command's refusals.

mod common;

use std::process::Command;

use flowc::canvas::{dot, mermaid, svg, Canvas, CardKind};

fn canvas_of(path: &std::path::Path) -> Canvas {
    let source = std::fs::read_to_string(path).expect("example is readable");
    let parsed = flowc::syntax::parse(&source);
    assert!(parsed.diagnostics.is_empty());
    Canvas::build(&parsed.file.workflows[0], &source)
}

fn name_of(path: &std::path::Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_example_as_dot_and_mermaid() {
    for path in common::examples() {
        let canvas = canvas_of(&path);
        insta::assert_snapshot!(format!("dot-{}", name_of(&path)), dot::render(&canvas));
        insta::assert_snapshot!(
            format!("mermaid-{}", name_of(&path)),
            mermaid::render(&canvas)
        );
    }
}

#[test]
fn the_canvas_has_the_trigger_on_top_and_every_box_reached() {
    for path in common::examples() {
        let canvas = canvas_of(&path);
        assert_eq!(
            canvas.cards[0].kind,
            CardKind::Trigger,
            "{}",
            path.display()
        );
        assert!(canvas.arrows.iter().all(|arrow| arrow.to != 0));
        for index in 1..canvas.cards.len() {
            assert!(
                canvas.arrows.iter().any(|arrow| arrow.to == index),
                "{}: box {index} {:?} is not reached",
                path.display(),
                canvas.cards[index].lines
            );
        }
        let ends = canvas.cards.iter().filter(|b| b.kind == CardKind::End);
        assert!(ends.count() >= 1, "{}", path.display());
    }
}

#[test]
fn every_example_renders_as_svg_with_every_box_and_label() {
    for path in common::examples() {
        let canvas = canvas_of(&path);
        let picture = svg::render(&canvas).expect("laid out");
        assert!(picture.starts_with("<?xml"), "{}", path.display());
        assert!(picture.trim_end().ends_with("</svg>"), "{}", path.display());
        let escaped = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        };
        let card_lines = canvas.cards.iter().flat_map(|drawn| &drawn.lines);
        let arrow_lines = canvas.arrows.iter().flat_map(|arrow| &arrow.label);
        for line in card_lines.chain(arrow_lines) {
            assert!(
                picture.contains(line.as_str()) || picture.contains(&escaped(line)),
                "{}: {line:?} not drawn",
                path.display()
            );
        }
    }
}

#[test]
fn waits_windows_branches_and_gotos_are_written_on_the_arrows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/inbound-demo-follow-up.flow");
    let canvas = canvas_of(&path);
    let labels: Vec<String> = canvas.arrows.iter().map(|a| a.label.join(" / ")).collect();
    for expected in [
        "wait 2 days / window: text mon-fri 09:00-12:00, 13:00-17:00 in lead t…",
        "on voicemail / wait 1 day",
        "mid-market / wait 3 days",
        "enterprise",
        "else",
    ] {
        assert!(
            labels.iter().any(|label| label == expected),
            "{expected:?} not in {labels:?}"
        );
    }
    let looping =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/re-engagement.flow");
    let labels: Vec<String> = canvas_of(&looping)
        .arrows
        .iter()
        .map(|a| a.label.join(" / "))
        .collect();
    assert!(
        labels.iter().any(|label| label.contains("goto")),
        "{labels:?}"
    );
}

fn flowc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("flowc runs")
}

#[test]
fn the_command_writes_each_format_and_refuses_files_with_errors() {
    let example = "examples/webinar-nurture.flow";
    let dot = flowc(&["graph", example, "--format", "dot"]);
    assert_eq!(dot.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&dot.stdout).starts_with("digraph \"webinar-nurture\" {"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("w.svg");
    let svg = flowc(&["graph", example, "-o", &out.display().to_string()]);
    assert_eq!(svg.status.code(), Some(0));
    assert!(std::fs::read_to_string(&out)
        .expect("written")
        .contains("<svg"));

    let broken = flowc(&["graph", "tests/cases/E0101-unknown-field.flow"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("E0101"));
    assert!(broken.stdout.is_empty());
    let unknown = flowc(&["graph", example, "--workflow", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
}
