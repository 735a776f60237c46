//! A cheap scan that bounds how deeply blocks and parentheses nest, so the
//! recursive-descent parser can never run out of stack.

use super::SyntaxError;
use crate::span::Span;

/// The deepest nesting of blocks, and separately of parentheses and `not`.
pub const MAX_NESTING: usize = 64;

/// An error if blocks or criteria nest deeper than [`MAX_NESTING`].
///
/// Blocks are counted as the grammar opens them: `condition`, and the first
/// `on` line after an effect step; `end` closes one. Strings and comments
/// are skipped, so quoted parentheses do not count.
pub(super) fn check(source: &str) -> Option<SyntaxError> {
    let mut blocks: usize = 0;
    let mut after_effect = false;
    let mut in_triple = false;
    let mut offset = 0;
    let mut parens: usize = 0;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let (code, still_triple) = strip_strings(line, in_triple);
        let starts_in_triple = in_triple;
        in_triple = still_triple;
        if starts_in_triple {
            continue;
        }
        let first = code.split_whitespace().next().unwrap_or_default();
        match first {
            "condition" => {
                blocks += 1;
                after_effect = false;
            }
            "on" if after_effect => {
                blocks += 1;
                after_effect = false;
            }
            "end" => blocks = blocks.saturating_sub(1),
            "send" | "call" | "notify" | "http" | "prompt" => after_effect = true,
            "wait" | "goto" | "exit" | "branch" | "else" => after_effect = false,
            _ => {}
        }
        if blocks > MAX_NESTING {
            return Some(too_deep(start, line));
        }
        if STATEMENT_WORDS.contains(&first) {
            parens = 0;
        }
        let nots = code
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .filter(|word| *word == "not")
            .count();
        for c in code.chars() {
            match c {
                '(' => parens += 1,
                ')' => parens = parens.saturating_sub(1),
                _ => {}
            }
            if parens + nots > MAX_NESTING {
                return Some(too_deep(start, line));
            }
        }
    }
    None
}

/// Words that start a line of their own, so no parenthesis is open before them.
const STATEMENT_WORDS: &[&str] = &["trigger", "goal", "branch", "workflow", "steps", "condition", "wait"];

fn too_deep(start: usize, line: &str) -> SyntaxError {
    SyntaxError::TooDeep {
        limit: MAX_NESTING,
        span: Span::new(start, start + line.trim_end().len()),
    }
}

/// The line without quoted text and comments; and whether a triple-quoted
/// text is still open at its end.
fn strip_strings(line: &str, mut in_triple: bool) -> (String, bool) {
    let mut code = String::new();
    let mut rest = line;
    while !rest.is_empty() {
        if in_triple {
            match rest.find("\"\"\"") {
                Some(end) => {
                    rest = &rest[end + 3..];
                    in_triple = false;
                }
                None => return (code, true),
            }
        } else if let Some(after) = rest.strip_prefix("\"\"\"") {
            in_triple = true;
            rest = after;
        } else if let Some(after) = rest.strip_prefix('"') {
            rest = after.find('"').map_or("", |end| &after[end + 1..]);
        } else if rest.starts_with('#') {
            break;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            code.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    (code, in_triple)
}
