//! Charts as SVG, drawn on the server for the console and reports:
//! horizontal bars (funnels, distributions) and a week-by-hour heatmap.
//! Each is an accessible image: a title, and a tooltip on every mark.

use std::fmt::Write;

use crate::canvas::text::{self, FONT_FAMILY};
use crate::markup::escape;

/// Font size of chart text.
const FONT: f32 = 12.0;
/// Height of one bar.
const BAR: f32 = 20.0;
/// Room between bars.
const BAR_GAP: f32 = 6.0;
/// Length of the longest bar.
const BAR_LENGTH: f32 = 320.0;

/// One bar: what it counts, how many, and its colour.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Its label.
    pub label: String,
    /// Its value.
    pub value: u64,
    /// Its fill colour.
    pub color: &'static str,
}

/// Horizontal bars, each with its count and its share of `total` (when
/// given), the longest bar the largest value.
pub fn bars(title: &str, bars: &[Bar], total: Option<u64>) -> String {
    let label_width = bars
        .iter()
        .map(|bar| text::width(&bar.label, FONT))
        .fold(0.0, f32::max)
        .ceil()
        + 12.0;
    let most = bars.iter().map(|bar| bar.value).max().unwrap_or(0).max(1);
    let width = label_width + BAR_LENGTH + 120.0;
    let height = bars.len() as f32 * (BAR + BAR_GAP) + BAR_GAP;
    let mut out = open_svg(title, width, height);
    for (index, bar) in bars.iter().enumerate() {
        let y = BAR_GAP + index as f32 * (BAR + BAR_GAP);
        let length = (bar.value as f32 / most as f32 * BAR_LENGTH).max(if bar.value > 0 {
            1.0
        } else {
            0.0
        });
        let share = total
            .filter(|total| *total > 0)
            .map(|total| format!(" ({:.1}%)", bar.value as f64 * 100.0 / total as f64))
            .unwrap_or_default();
        let value = format!("{}{share}", group(bar.value));
        let _ = writeln!(
            out,
            "<g class=\"bar\"><title>{label}: {value}</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#17202a\">{label}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{length:.1}\" height=\"{BAR}\" rx=\"3\" fill=\"{color}\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\" fill=\"#17202a\">{value}</text></g>",
            label = escape(&bar.label),
            lx = label_width - 8.0,
            ty = y + BAR * 0.7,
            bx = label_width,
            color = bar.color,
            vx = label_width + length + 6.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The days of a week, Monday first.
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
/// Size of one heatmap cell.
const CELL: f32 = 22.0;

/// Counts per hour of the week (`counts[day][hour]`, Monday first) as a
/// grid, darker for more; hours where `open` says the channel's window is
/// open are outlined, the others shaded.
pub fn heatmap(title: &str, counts: &[[u64; 24]; 7], open: Option<&[[bool; 24]; 7]>) -> String {
    let left = 40.0;
    let top = 22.0;
    let width = left + 24.0 * CELL + 8.0;
    let height = top + 7.0 * CELL + 8.0;
    let most = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    let mut out = open_svg(title, width, height);
    for hour in (0..24).step_by(3) {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"15\" text-anchor=\"middle\" fill=\"#3b4652\">{hour:02}</text>",
            left + hour as f32 * CELL + CELL / 2.0
        );
    }
    for (day, row) in counts.iter().enumerate() {
        let y = top + day as f32 * CELL;
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#3b4652\">{}</text>",
            left - 6.0,
            y + CELL * 0.68,
            DAYS[day]
        );
        for (hour, &count) in row.iter().enumerate() {
            let x = left + hour as f32 * CELL;
            let is_open = open.is_none_or(|open| open[day][hour]);
            let fill = if count > 0 {
                shade(count as f32 / most as f32)
            } else if is_open {
                "#ffffff".to_owned()
            } else {
                "#eceef1".to_owned()
            };
            let stroke = if open.is_some() && is_open {
                "#2e7a4c"
            } else {
                "#d5dae0"
            };
            let window = match (open.is_some(), is_open) {
                (false, _) => "",
                (true, true) => ", window open",
                (true, false) => ", window closed",
            };
            let _ = writeln!(
                out,
                "<rect class=\"cell\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{w:.1}\" fill=\"{fill}\" stroke=\"{stroke}\" data-count=\"{count}\">\
                 <title>{} {hour:02}:00-{hour:02}:59: {}{window}</title></rect>",
                DAYS[day],
                group(count),
                w = CELL - 2.0,
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// One series of a column chart: its name, colour and a value per column.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    /// Its name, in the legend.
    pub name: &'a str,
    /// Its colour.
    pub color: &'static str,
    /// One value per column.
    pub values: &'a [u64],
}

/// Width of one column.
const COLUMN: f32 = 6.0;
/// Height of the tallest column.
const COLUMN_HEIGHT: f32 = 140.0;

/// Stacked columns, one per entry of `labels` (a label is written under
/// every `every`-th column), the series stacked in order, with a legend.
pub fn columns(title: &str, labels: &[String], every: usize, series: &[Series<'_>]) -> String {
    let left = 44.0;
    let top = 26.0;
    let count = labels.len();
    let totals: Vec<u64> = (0..count)
        .map(|column| {
            series
                .iter()
                .map(|one| one.values.get(column).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let most = totals.iter().copied().max().unwrap_or(0).max(1);
    let width = left + count as f32 * COLUMN + 60.0;
    let height = top + COLUMN_HEIGHT + 36.0;
    let mut out = open_svg(title, width, height);
    let mut x = left;
    for one in series {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{:.1}\" y=\"13\" fill=\"#17202a\">{}</text>",
            one.color,
            x + 14.0,
            escape(one.name)
        );
        x += 24.0 + text::width(one.name, FONT);
    }
    let base = top + COLUMN_HEIGHT;
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#3b4652\">{}</text>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" stroke=\"#9aa4af\"/>",
        left - 6.0,
        top + 10.0,
        group(most),
        left + count as f32 * COLUMN
    );
    for (column, label) in labels.iter().enumerate() {
        let x = left + column as f32 * COLUMN;
        let mut y = base;
        let mut parts = Vec::new();
        for one in series {
            let value = one.values.get(column).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            let h = value as f32 / most as f32 * COLUMN_HEIGHT;
            y -= h;
            parts.push(format!("{} {}", group(value), one.name));
            let _ = write!(
                out,
                "<rect class=\"column\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\" data-count=\"{value}\"/>",
                COLUMN - 1.0,
                one.color
            );
        }
        if !parts.is_empty() {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{top}\" width=\"{COLUMN}\" height=\"{COLUMN_HEIGHT}\" fill=\"transparent\"><title>{}: {}</title></rect>",
                escape(label),
                parts.join(", ")
            );
        }
        if every > 0 && column % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#3b4652\">{}</text>",
                base + 16.0,
                escape(label)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A blue from pale (few) to deep (many), for `share` in 0..=1.
fn shade(share: f32) -> String {
    let share = share.clamp(0.0, 1.0).sqrt();
    let mix = |pale: f32, deep: f32| (pale + (deep - pale) * share).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(219.0, 18.0),
        mix(233.0, 62.0),
        mix(252.0, 140.0)
    )
}

/// The start of a chart: its size, font and title.
fn open_svg(title: &str, width: f32, height: f32) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" font-family=\"{}\" font-size=\"{FONT}\">\
         <title>{}</title>\n",
        FONT_FAMILY.replace('\'', "&apos;"),
        escape(title)
    )
}

/// A count with thousands separated: `1,234,567`.
pub fn group(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }

    #[test]
    fn bars_show_each_value_and_share() {
        let drawn = bars(
            "ends",
            &[
                Bar {
                    label: "goal <won>".into(),
                    value: 25,
                    color: "#1b5e34",
                },
                Bar {
                    label: "exit".into(),
                    value: 75,
                    color: "#8f1a1a",
                },
            ],
            Some(100),
        );
        assert!(drawn.contains("goal &lt;won&gt;: 25 (25.0%)"), "{drawn}");
        assert!(drawn.contains("exit: 75 (75.0%)"));
    }

    #[test]
    fn the_heatmap_has_a_cell_per_hour_and_marks_the_window() {
        let mut counts = [[0u64; 24]; 7];
        counts[0][9] = 4;
        let mut open = [[false; 24]; 7];
        open[0][9] = true;
        let drawn = heatmap("sends", &counts, Some(&open));
        assert_eq!(drawn.matches("class=\"cell\"").count(), 7 * 24);
        assert!(drawn.contains("Mon 09:00-09:59: 4, window open"));
        assert!(drawn.contains("Tue 09:00-09:59: 0, window closed"));
    }
}
