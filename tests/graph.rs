//! `flowc graph`: every example as DOT and Mermaid (snapshots) and as SVG,
//! and the command's refusals.

mod common;

use std::process::Command;

use flowc::canvas::layout::{self, Layout, Placed, Shape};
use flowc::canvas::{dot, mermaid, svg, text, Canvas, CardKind};

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
        let picture = svg::render(&canvas);
        assert!(picture.starts_with("<?xml"), "{}", path.display());
        assert!(picture.trim_end().ends_with("</svg>"), "{}", path.display());
        let layout = Layout::of(&canvas);
        // Every word of every card is drawn, wrapped but never cut.
        for (index, card) in canvas.cards.iter().enumerate() {
            let drawn: Vec<&Placed> = layout
                .boxes
                .iter()
                .filter(|placed| placed.shape == Shape::Card(index))
                .collect();
            assert!(
                !drawn.is_empty(),
                "{}: card {index} not drawn",
                path.display()
            );
            for placed in drawn {
                assert_eq!(
                    words(&placed.lines),
                    words(&card.lines),
                    "{}",
                    path.display()
                );
            }
        }
        for (route, arrow) in layout.routes.iter().zip(&canvas.arrows) {
            let drawn = route.label.as_ref().map(|label| words(&label.lines));
            let expected = (!arrow.label.is_empty()).then(|| words(&arrow.label));
            assert_eq!(drawn, expected, "{}", path.display());
        }
        let texts = layout.boxes.iter().flat_map(|placed| &placed.lines);
        let labels = layout.routes.iter().flat_map(|route| &route.label);
        for line in texts.chain(labels.flat_map(|label| &label.lines)) {
            assert!(
                picture.contains(&format!(">{}</tspan>", flowc::markup::escape(line))),
                "{}: {line:?} not drawn",
                path.display()
            );
        }
    }
}

/// The text of lines without its spaces: the same however it is wrapped
/// (a word wider than a card is broken where it must be).
fn words(lines: &[String]) -> String {
    lines
        .iter()
        .flat_map(|line| line.split_whitespace())
        .collect()
}

/// Whether two rectangles (left, top, width, height) overlap.
fn overlap(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

#[test]
fn boxes_and_labels_never_overlap_and_fit_their_text() {
    for path in common::examples() {
        let layout = Layout::of(&canvas_of(&path));
        let mut rects: Vec<(f32, f32, f32, f32)> = layout
            .boxes
            .iter()
            .map(|placed| (placed.x, placed.y, placed.w, placed.h))
            .collect();
        rects.extend(
            layout
                .routes
                .iter()
                .flat_map(|route| &route.label)
                .map(|label| {
                    (
                        label.x - label.w / 2.0,
                        label.y - label.h / 2.0,
                        label.w,
                        label.h,
                    )
                }),
        );
        for (i, a) in rects.iter().enumerate() {
            assert!(a.0 >= 0.0 && a.1 >= 0.0, "{}: {a:?}", path.display());
            assert!(a.0 + a.2 <= layout.width && a.1 + a.3 <= layout.height);
            for b in &rects[i + 1..] {
                assert!(
                    !overlap(*a, *b),
                    "{}: {a:?} and {b:?} overlap",
                    path.display()
                );
            }
        }
        for placed in &layout.boxes {
            let widest = placed
                .lines
                .iter()
                .map(|line| text::width(line, layout::FONT))
                .fold(0.0, f32::max);
            assert!(
                widest <= placed.w,
                "{}: {:?} overflows",
                path.display(),
                placed.lines
            );
            // Compact: no wider than its text and padding, or the narrowest card.
            assert!(
                placed.w <= (widest + 2.0 * layout::PAD + 2.0 * layout::PAD).max(110.0) + 1.0,
                "{}: {:?} is {} wide for text of {widest}",
                path.display(),
                placed.lines,
                placed.w
            );
        }
    }
}

#[test]
fn the_picture_is_no_larger_than_its_boxes_need() {
    for path in common::examples() {
        let layout = Layout::of(&canvas_of(&path));
        // Rows of boxes that share a top edge, each as wide as its boxes
        // side by side with room between them.
        let mut rows: Vec<(f32, f32, f32)> = Vec::new();
        for placed in &layout.boxes {
            match rows.iter_mut().find(|(top, _, _)| *top == placed.y) {
                Some(row) => {
                    row.1 += placed.w + 26.0;
                    row.2 = row.2.max(placed.h);
                }
                None => rows.push((placed.y, placed.w, placed.h)),
            }
        }
        let widest = rows.iter().map(|row| row.1).fold(0.0, f32::max);
        let labels = layout.routes.iter().flat_map(|route| &route.label);
        let area: f32 = layout
            .boxes
            .iter()
            .map(|placed| placed.w * placed.h)
            .sum::<f32>()
            + labels.map(|label| label.w * label.h).sum::<f32>();
        assert!(
            layout.width <= 1.35 * widest + 2.0 * layout::MARGIN,
            "{}: {} wide for rows of at most {widest}",
            path.display(),
            layout.width
        );
        // Boxes and labels cover a sixth of the picture or more (the rest
        // is the room between rows and the lines; the examples: 19-29%).
        let used = area / (layout.width * layout.height);
        assert!(
            used > 0.17,
            "{}: boxes cover {used:.2} of the picture",
            path.display()
        );
    }
}

#[test]
fn the_same_workflow_always_gives_the_same_picture() {
    let example = "examples/inbound-demo-follow-up.flow";
    let first = flowc(&["graph", example]);
    assert!(first.status.success());
    for _ in 0..3 {
        assert_eq!(flowc(&["graph", example]).stdout, first.stdout);
    }
}

#[test]
fn waits_windows_branches_and_gotos_are_written_on_the_arrows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/inbound-demo-follow-up.flow");
    let canvas = canvas_of(&path);
    let labels: Vec<String> = canvas.arrows.iter().map(|a| a.label.join(" / ")).collect();
    for expected in [
        "wait 2 days / window: text mon-fri 09:00-12:00, 13:00-17:00 in lead timezone",
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
