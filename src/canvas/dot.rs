//! The canvas in Graphviz's DOT language.

use std::fmt::Write;

use super::{Canvas, CardKind};

/// The canvas as a DOT digraph, top to bottom.
pub fn render(canvas: &Canvas) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(out, "digraph {} {{", quote(&canvas.title));
    out.push_str("  rankdir=TB;\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (index, drawn) in canvas.cards.iter().enumerate() {
        let _ = writeln!(
            out,
            "  n{index} [label={}, {}];",
            quote(&drawn.lines.join("\n")),
            style(drawn.kind)
        );
    }
    for arrow in &canvas.arrows {
        let _ = write!(out, "  n{} -> n{}", arrow.from, arrow.to);
        if !arrow.label.is_empty() {
            let _ = write!(out, " [label={}]", quote(&arrow.label.join("\n")));
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// The shape and colours of a kind of box.
pub fn style(kind: CardKind) -> &'static str {
    match kind {
        CardKind::Trigger => "shape=box, style=filled, fillcolor=\"#d9f2e3\"",
        CardKind::Action => "shape=box, style=filled, fillcolor=\"#e3ecfa\"",
        CardKind::Condition => "shape=diamond, style=filled, fillcolor=\"#fdf1d6\"",
        CardKind::End => "shape=ellipse, style=filled, fillcolor=\"#eeeeee\"",
    }
}

/// A DOT string: quotes and backslashes escaped, lines as `\n`.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
