//! How wide text is drawn, so boxes fit their words: the advance widths of
//! Helvetica (Arial and Liberation Sans share them, so the picture looks
//! the same wherever it is opened), and wrapping by that width.

/// The font stack the canvas is drawn in: metric-compatible faces first.
pub const FONT_FAMILY: &str = "'Liberation Sans', Arial, Helvetica, sans-serif";

/// Widths of printable ASCII (from `' '`) in thousandths of an em.
const ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // :;<=>?@
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A-M
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N-Z
    278, 278, 278, 469, 556, 333, // [\]^_`
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a-m
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n-z
    334, 260, 334, 584, // {|}~
];

/// Room left for faces a little wider than Helvetica.
const SLACK: f32 = 1.06;

/// The width of `text` at `size` pixels.
pub fn width(text: &str, size: f32) -> f32 {
    let units: u32 = text.chars().map(advance).sum();
    units as f32 / 1000.0 * size * SLACK
}

/// The advance of one character in thousandths of an em.
fn advance(c: char) -> u32 {
    match c {
        ' '..='~' => u32::from(ASCII[c as usize - ' ' as usize]),
        // Wide scripts (CJK, emoji) take a full em; other letters about
        // an average Latin one.
        c if c >= '\u{2e80}' => 1000,
        _ => 600,
    }
}

/// `text` in lines no wider than `max` pixels at `size`, broken between
/// words (a word wider than a line is broken where it must be).
pub fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("there is always a line");
        let joined = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if width(&joined, size) <= max {
            *line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(String::new());
        }
        for c in word.chars() {
            let line = lines.last_mut().expect("there is always a line");
            line.push(c);
            if width(line, size) > max && line.chars().count() > 1 {
                line.pop();
                lines.push(c.to_string());
            }
        }
    }
    lines
}

/// Every line of `lines` wrapped to `max` pixels.
pub fn wrap_all(lines: &[String], size: f32, max: f32) -> Vec<String> {
    lines
        .iter()
        .flat_map(|line| wrap(line, size, max))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wider_letters_measure_wider() {
        assert!(width("mmmm", 14.0) > width("iiii", 14.0) * 3.0);
        assert!(width("漢字", 14.0) > width("ab", 14.0));
        assert_eq!(width("", 14.0), 0.0);
    }

    #[test]
    fn wrapping_keeps_every_word_and_each_line_fits() {
        let text = "window: text mon-fri 09:00-12:00, 13:00-17:00 in lead timezone";
        let lines = wrap(text, 13.0, 160.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), text);
        for line in &lines {
            assert!(width(line, 13.0) <= 160.0, "{line:?}");
        }
    }

    #[test]
    fn a_word_longer_than_a_line_is_broken_not_cut() {
        let word = "x".repeat(200);
        let lines = wrap(&word, 13.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
    }
}
