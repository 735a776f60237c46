//! Byte ranges into a source file; line and column are computed only to render.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// A byte range `start..end` in one source file.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// The span of bytes `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The span covering `self` through `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range, for slicing the source.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start as usize, (span.end - span.start) as usize).into()
    }
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs `node` with `span`.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }

    /// The same span around what `f` makes of the node.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            node: f(self.node),
            span: self.span,
        }
    }
}

/// An edit seen from the text after it: every position at or past `from`
/// (in the text before) moves by `by` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moved {
    /// The first position that moves.
    pub from: u32,
    /// How far: bytes inserted (positive) or removed (negative).
    pub by: i64,
}

impl Moved {
    /// Where `at` is after the edit.
    pub fn at(self, at: u32) -> u32 {
        if at >= self.from {
            (i64::from(at) + self.by) as u32
        } else {
            at
        }
    }
}

/// What holds positions into a text, moved along when part of the text is
/// read again ([`crate::syntax::reread`]). Every span a value holds must be
/// moved: one left behind points at the wrong text.
pub trait Shift {
    /// Moves the positions `moved` says.
    fn shift(&mut self, moved: Moved);
}

impl Shift for Span {
    fn shift(&mut self, moved: Moved) {
        self.start = moved.at(self.start);
        self.end = moved.at(self.end);
    }
}

impl<T> Shift for Spanned<T> {
    fn shift(&mut self, moved: Moved) {
        self.span.shift(moved);
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, moved: Moved) {
        self.iter_mut().for_each(|item| item.shift(moved));
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, moved: Moved) {
        if let Some(value) = self {
            value.shift(moved);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, moved: Moved) {
        (**self).shift(moved);
    }
}

/// Line and column (both from 1, column in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// `offset`, or the start of the character it falls inside.
pub(crate) fn floor_char_boundary(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Where each line of a text starts, to find lines by byte offset quickly
/// (offsets asked in order, as outlines and token lists are, mostly find
/// their line at or next to the last one found, without a search).
#[derive(Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<u32>,
    last: AtomicUsize,
}

impl<'a> LineIndex<'a> {
    /// The index of `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at as u32 + 1))
            .collect();
        LineIndex {
            text,
            starts,
            last: AtomicUsize::new(0),
        }
    }

    /// The text indexed.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The line (from 0) holding byte `offset`, clamped to the text.
    pub fn line_of(&self, offset: usize) -> usize {
        let last = self.last.load(Ordering::Relaxed);
        let line = [last, last + 1]
            .into_iter()
            .find(|&line| self.holds(line, offset))
            .unwrap_or_else(|| {
                self.starts
                    .partition_point(|&start| start as usize <= offset)
                    - 1
            });
        self.last.store(line, Ordering::Relaxed);
        line
    }

    /// Whether `offset` lies on `line` (the last line runs on to the end).
    fn holds(&self, line: usize, offset: usize) -> bool {
        let start = |line: usize| self.starts.get(line).map(|&start| start as usize);
        start(line).is_some_and(|start| start <= offset)
            && start(line + 1).is_none_or(|next| offset < next)
    }

    /// Line and column (both from 1, column in characters) of a byte
    /// offset, as [`line_column`] but without scanning from the start.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_of(offset);
        let column = self.text[self.starts[line] as usize..offset]
            .chars()
            .count()
            + 1;
        (line + 1, column)
    }

    /// The byte offset where `line` starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).map(|&start| start as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets asked in any order (forwards, backwards, jumping, past the
    /// end) find the line a scan from the start finds.
    #[test]
    fn lines_are_found_in_any_order() {
        let text = "one\n\ntwo\nthree\n\nfour";
        let index = LineIndex::new(text);
        let scanned = |offset: usize| text[..offset.min(text.len())].matches('\n').count();
        let forwards = 0..=text.len() + 2;
        let backwards = (0..=text.len()).rev();
        let jumping = [17, 0, 9, 3, 4, 5, 20, 1, 15, 14, 8];
        for offset in forwards.chain(backwards).chain(jumping) {
            assert_eq!(index.line_of(offset), scanned(offset), "at {offset}");
        }
    }
}
