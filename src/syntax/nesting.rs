//! A cheap scan that bounds how deeply blocks and parentheses nest, so the
//! recursive tree builder and checker can never run out of stack.

use super::SyntaxError;
use crate::span::Span;

/// The deepest nesting of blocks, and separately of parentheses and `not`.
pub const MAX_NESTING: usize = 64;

/// Words that start a line of their own, so no parenthesis is open before them.
const STATEMENT_WORDS: &[&[u8]] = &[
    b"trigger",
    b"goal",
    b"branch",
    b"workflow",
    b"steps",
    b"condition",
    b"wait",
];

/// An error if blocks or criteria nest deeper than [`MAX_NESTING`].
///
/// Blocks are counted as the grammar opens them: `condition`, and the first
/// `on` line after an effect step; `end` closes one. Quoted text and
/// comments are skipped, so quoted parentheses do not count.
pub(super) fn check(source: &str) -> Option<SyntaxError> {
    let mut scan = Scan::default();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if scan.line(line.as_bytes()) {
            return Some(SyntaxError::TooDeep {
                limit: MAX_NESTING,
                span: Span::new(start, start + line.trim_end().len()),
            });
        }
    }
    None
}

#[derive(Default)]
struct Scan {
    blocks: usize,
    parens: usize,
    after_effect: bool,
    in_triple: bool,
}

impl Scan {
    /// Scans one line; true when it nests too deep.
    fn line(&mut self, line: &[u8]) -> bool {
        if !self.in_triple {
            let first = first_word(line);
            if STATEMENT_WORDS.contains(&first) {
                self.parens = 0;
            }
            self.blocks(first);
        }
        let mut deepest = self.parens;
        let mut nots = 0;
        let mut in_quote = false;
        let mut at = 0;
        while at < line.len() {
            let rest = &line[at..];
            if self.in_triple {
                match find_triple(rest) {
                    Some(end) => {
                        self.in_triple = false;
                        at += end + 3;
                    }
                    None => break,
                }
                continue;
            }
            match rest[0] {
                b'"' if rest.starts_with(b"\"\"\"") => {
                    self.in_triple = true;
                    at += 3;
                    continue;
                }
                b'"' => in_quote = !in_quote,
                _ if in_quote => {}
                b'#' => break,
                b'(' => {
                    self.parens += 1;
                    deepest = deepest.max(self.parens);
                }
                b')' => self.parens = self.parens.saturating_sub(1),
                b'n' if rest.starts_with(b"not") && at_word_edges(line, at, 3) => nots += 1,
                _ => {}
            }
            at += 1;
        }
        self.blocks > MAX_NESTING || deepest + nots > MAX_NESTING
    }

    fn blocks(&mut self, first: &[u8]) {
        match first {
            b"condition" => {
                self.blocks += 1;
                self.after_effect = false;
            }
            b"on" if self.after_effect => {
                self.blocks += 1;
                self.after_effect = false;
            }
            b"end" => self.blocks = self.blocks.saturating_sub(1),
            b"send" | b"call" | b"notify" | b"http" | b"prompt" => self.after_effect = true,
            b"wait" | b"goto" | b"exit" | b"branch" | b"else" => self.after_effect = false,
            _ => {}
        }
    }
}

/// Where `"""` starts in `bytes`, if anywhere.
fn find_triple(bytes: &[u8]) -> Option<usize> {
    bytes.windows(3).position(|window| window == b"\"\"\"")
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// The first word of a line.
fn first_word(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(line.len());
    let len = line[start..]
        .iter()
        .position(|byte| !is_word_byte(*byte))
        .unwrap_or(line.len() - start);
    &line[start..start + len]
}

/// Whether `line[at..at + len]` is a whole word.
fn at_word_edges(line: &[u8], at: usize, len: usize) -> bool {
    let before = at == 0 || !is_word_byte(line[at - 1]);
    let after = line.get(at + len).is_none_or(|byte| !is_word_byte(*byte));
    before && after
}
