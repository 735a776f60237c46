//! The canvas as an SVG picture, drawn from its [`Layout`]: presentation
//! attributes only (no stylesheet), so it looks the same opened on its
//! own, inside a web page, or in an image viewer.

use std::fmt::Write;

use super::layout::{self, Layout, Placed, Route, Shape};
use super::text;
use super::{Badge, Canvas, CardKind, Tone};
use crate::markup::escape;

/// Room inside a badge, left and right of its text.
const BADGE_PAD: f32 = 7.0;
/// Room between badges.
const BADGE_GAP: f32 = 5.0;
/// Line colour of arrows.
const INK: &str = "#5b6673";
/// Colour of text.
const TEXT: &str = "#17202a";

/// The canvas as a standalone SVG document.
pub fn render(canvas: &Canvas) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
        element(canvas)
    )
}

/// The canvas as an `<svg>` element, to stand alone or sit in a page.
pub fn element(canvas: &Canvas) -> String {
    let layout = Layout::of(canvas);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"canvas\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"canvas-title\" font-family=\"{font}\">",
        w = num(layout.width),
        h = num(layout.height),
        font = text::FONT_FAMILY.replace('\'', "&apos;"),
    );
    let _ = writeln!(
        out,
        "<title id=\"canvas-title\">Workflow {}</title>",
        escape(&canvas.title)
    );
    let _ = writeln!(
        out,
        "<defs><marker id=\"canvas-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{INK}\"/></marker></defs>"
    );
    for route in &layout.routes {
        line(&mut out, route);
    }
    for (route, arrow) in layout.routes.iter().zip(&canvas.arrows) {
        if let Some(label) = &route.label {
            if let Some(link) = &arrow.link {
                let _ = write!(out, "<a href=\"{}\" class=\"label-link\">", escape(link));
            }
            let _ = writeln!(
                out,
                "<g class=\"label\"{}><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"4\" fill=\"#ffffff\" stroke=\"#c5cdd6\"/>",
                steps_attribute(&arrow.steps),
                num(label.x - label.w / 2.0),
                num(label.y - label.h / 2.0),
                num(label.w),
                num(label.h)
            );
            let top = label.y - label.h / 2.0 + 2.0;
            lines(
                &mut out,
                &label.lines,
                label.x,
                top,
                layout::SMALL,
                layout::SMALL_LINE,
                "#2d3a48",
            );
            if !arrow.badges.is_empty() {
                let top = label.y + label.h / 2.0 - layout::BADGES + 3.0;
                let mut left = label.x - badges_width(&arrow.badges) / 2.0;
                for badge in &arrow.badges {
                    left += badge_pill(&mut out, badge, left, top) + BADGE_GAP;
                }
            }
            out.push_str("</g>\n");
            if arrow.link.is_some() {
                out.push_str("</a>\n");
            }
        }
    }
    for placed in &layout.boxes {
        match placed.shape {
            Shape::Card(card) => card_box(&mut out, canvas, card, placed),
            Shape::Jump(card) => jump(&mut out, card, placed),
        }
    }
    out.push_str("</svg>\n");
    out
}

/// An arrow's line, ending in an arrowhead.
fn line(out: &mut String, route: &Route) {
    let mut path = String::new();
    for (index, (x, y)) in route.points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{},{}",
            if index == 0 { "M" } else { " L" },
            num(*x),
            num(*y)
        );
    }
    let _ = writeln!(
        out,
        "<path d=\"{path}\" fill=\"none\" stroke=\"{INK}\" stroke-width=\"1.4\" stroke-linejoin=\"round\" marker-end=\"url(#canvas-arrow)\"/>"
    );
}

/// A card: its shape, its text, its badges.
fn card_box(out: &mut String, canvas: &Canvas, card: usize, placed: &Placed) {
    let drawn = &canvas.cards[card];
    let (class, fill, stroke) = match drawn.kind {
        CardKind::Trigger => ("trigger", "#dcf2e4", "#2e7a4c"),
        CardKind::Action => ("action", "#e6eefb", "#3b5d99"),
        CardKind::Condition => ("condition", "#fcf0d2", "#94700a"),
        CardKind::End => ("end", "#eceef1", "#5f6b78"),
    };
    let step = drawn
        .step
        .as_deref()
        .map(|id| format!(" data-step=\"{}\"", escape(id)))
        .unwrap_or_default();
    // A linked card is reached by its link; one without, by itself.
    let focus = match &drawn.link {
        Some(link) => {
            let _ = write!(out, "<a href=\"{}\" class=\"card-link\">", escape(link));
            ""
        }
        None => " tabindex=\"0\"",
    };
    let _ = writeln!(
        out,
        "<g class=\"card {class}\" id=\"card-{card}\"{step}{focus} aria-label=\"{}\">",
        escape(&drawn.lines.join(" "))
    );
    let (x, y, w, h) = (placed.x, placed.y, placed.w, placed.h);
    match drawn.kind {
        CardKind::Condition => {
            let s = layout::PAD;
            let _ = writeln!(
                out,
                "<polygon points=\"{},{} {},{} {},{} {},{} {},{} {},{}\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
                num(x + s), num(y), num(x + w - s), num(y), num(x + w), num(y + h / 2.0),
                num(x + w - s), num(y + h), num(x + s), num(y + h), num(x), num(y + h / 2.0)
            );
        }
        kind => {
            let radius = match kind {
                CardKind::Trigger => 12.0,
                CardKind::End => h.min(40.0) / 2.0,
                _ => 6.0,
            };
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
                num(x), num(y), num(w), num(h), num(radius)
            );
        }
    }
    lines(
        out,
        &placed.lines,
        x + w / 2.0,
        y + layout::PAD,
        layout::FONT,
        layout::LINE,
        TEXT,
    );
    if placed.counted {
        let top = y + h - layout::PAD - layout::BADGES + 4.0;
        let mut left = x + (w - badges_width(&drawn.badges)) / 2.0;
        for badge in &drawn.badges {
            left += badge_pill(out, badge, left, top) + BADGE_GAP;
        }
    }
    out.push_str("</g>\n");
    if drawn.link.is_some() {
        out.push_str("</a>\n");
    }
}

/// A "go to" tag: a link to the card it stands for.
fn jump(out: &mut String, card: usize, placed: &Placed) {
    let _ = writeln!(
        out,
        "<a href=\"#card-{card}\" class=\"jump\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-dasharray=\"4 3\"/>",
        num(placed.x),
        num(placed.y),
        num(placed.w),
        num(placed.h),
        num(placed.h.min(30.0) / 2.0)
    );
    let top = placed.y + layout::PAD / 2.0;
    lines(
        out,
        &placed.lines,
        placed.x + placed.w / 2.0,
        top,
        layout::SMALL,
        layout::SMALL_LINE,
        "#2d3a48",
    );
    out.push_str("</a>\n");
}

/// One badge at (`left`, `top`); returns its width.
fn badge_pill(out: &mut String, badge: &Badge, left: f32, top: f32) -> f32 {
    let (fill, ink) = match badge.tone {
        Tone::Plain => ("#e4e8ec", "#1f2933"),
        Tone::Waiting => ("#dbe6fd", "#1c3d87"),
        Tone::Held => ("#fdeec4", "#6b4400"),
        Tone::Failed => ("#fbdedd", "#8f1a1a"),
        Tone::Done => ("#d7f1df", "#1b5e34"),
    };
    let width = badge_width(badge);
    let _ = writeln!(
        out,
        "<g class=\"badge\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" rx=\"8\" fill=\"{fill}\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">{}</text></g>",
        num(left),
        num(top),
        num(width),
        num(left + width / 2.0),
        num(top + 12.0),
        num(layout::SMALL - 1.0),
        escape(&badge.text)
    );
    width
}

fn badge_width(badge: &Badge) -> f32 {
    (text::width(&badge.text, layout::SMALL - 1.0) + 2.0 * BADGE_PAD).ceil()
}

/// The width of a row of badges.
pub fn badges_width(badges: &[Badge]) -> f32 {
    let gaps = BADGE_GAP * badges.len().saturating_sub(1) as f32;
    badges.iter().map(badge_width).sum::<f32>() + gaps
}

/// Centred lines of text, the first line's top at `top`.
fn lines(out: &mut String, lines: &[String], x: f32, top: f32, size: f32, height: f32, ink: &str) {
    let _ = write!(
        out,
        "<text font-size=\"{}\" text-anchor=\"middle\" fill=\"{ink}\">",
        num(size)
    );
    for (index, text) in lines.iter().enumerate() {
        // The baseline sits about a quarter of a line above the line's
        // bottom.
        let baseline = top + height * (index as f32 + 1.0) - height * 0.27;
        let _ = write!(
            out,
            "<tspan x=\"{}\" y=\"{}\">{}</tspan>",
            num(x),
            num(baseline),
            escape(text)
        );
    }
    out.push_str("</text>\n");
}

/// ` data-steps="ID ..."` for the steps an arrow passes, if it passes any.
fn steps_attribute(steps: &[String]) -> String {
    if steps.is_empty() {
        String::new()
    } else {
        format!(" data-steps=\"{}\"", escape(&steps.join("|")))
    }
}

/// A coordinate with at most one decimal.
fn num(value: f32) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}
