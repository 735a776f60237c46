//! The canvas as a Mermaid flowchart (GitHub and many wikis draw these).

use std::fmt::Write;

use super::{Canvas, CardKind};

/// The canvas as `flowchart TD`.
pub fn render(canvas: &Canvas) -> String {
    let mut out = String::from("flowchart TD\n");
    for (index, drawn) in canvas.cards.iter().enumerate() {
        let text = escape(&drawn.lines.join("\n"));
        let (open, close) = match drawn.kind {
            CardKind::Trigger => ("([", "])"),
            CardKind::Action => ("[", "]"),
            CardKind::Condition => ("{", "}"),
            CardKind::End => ("((", "))"),
        };
        // Writing into a String cannot fail.
        let _ = writeln!(out, "    n{index}{open}\"{text}\"{close}");
    }
    for arrow in &canvas.arrows {
        if arrow.label.is_empty() {
            let _ = writeln!(out, "    n{} --> n{}", arrow.from, arrow.to);
        } else {
            let label = escape(&arrow.label.join("\n"));
            let _ = writeln!(out, "    n{} -->|\"{label}\"| n{}", arrow.from, arrow.to);
        }
    }
    out
}

/// Text inside a quoted Mermaid label: entities for what Mermaid reads.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}
