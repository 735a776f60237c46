//! Reading a file again after an edit: only the lines around the edit are
//! parsed (the top-level steps of a step list, or a workflow's header and
//! the settings and sections around it); the rest of the last reading is
//! kept, its positions moved. The language server answers the first
//! request after a change on a long file this way, in a fraction of a
//! full parse.
//!
//! What is kept is exactly what a full parse would give. A PEG reading of
//! a step (or of a workflow's item) depends only on the text from its start
//! on, and one that ends before the line ahead of the edit never read the
//! edited text (it ends where the next line cannot continue it, which is
//! decided on that next line). So the units from the one holding the line
//! before the edit are parsed again, one at a time, until one ends where a
//! unit of the last reading began (or their list ended) past the edit:
//! from there on, the text and so the reading are the same. The outline
//! also measures a step's indent and takes the lines indented deeper below
//! it: a unit read again starts at its line's start, a kept unit after the
//! edit only counts once its whole line is past it, and a kept step ahead
//! of the edit must not reach it.
//!
//! Syntax errors in a step list are read the same way: a unit is then a
//! run of steps and stray lines from one place where no label waits for
//! its step and no error reaches on, to the next such place, so the reading
//! from there on is the same too (a label whose step did not read waits
//! into the next unit, as in a full parse). A workflow's items are read
//! again from an item the last reading read as after no error (no error
//! reaching it, no run of stray lines before a stray line) to the next
//! such item, and must end so too. Anything else (an edit that would read
//! a whole step list again, one that leaves a stray line among the items,
//! an error reaching past its unit) is left to a full parse.
//!
//! The tests hold re-readings of random edits to every example against
//! full parses of the edited text.

mod halves;
mod items;
mod steps;
#[cfg(test)]
mod tests;

use std::ops::Range;

use pest::iterators::{Pair, Pairs};
use pest::Parser as _;

use super::outline::Symbol;
use super::tokens::{self, Token};
use super::{nesting, Builder, FlowParser, Parsed, Rule, SyntaxError};
use crate::diagnostic::Diagnostic;
use crate::span::{Moved, Shift};

pub use halves::halves;
pub(super) use items::{counts, outlined, ItemUnits};
pub(super) use steps::StepUnits;

/// The tree, tokens and outline of one text, read off one parse (by
/// default, of no text).
#[derive(Debug, Default)]
pub struct Readings {
    /// The tree and syntax errors.
    pub parsed: Parsed,
    /// Every token, in order.
    pub tokens: Vec<Token>,
    /// The outline.
    pub outline: Vec<Symbol>,
}

/// Where the units a file is read again by begin, as a full parse found
/// them: the steps of each step list, the header and items of each
/// workflow.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Units {
    /// Each `steps` section's steps.
    pub(super) steps: Vec<StepUnits>,
    /// Each workflow's header and items, in the order of the file.
    pub(super) workflows: Vec<ItemUnits>,
}

impl Shift for Units {
    fn shift(&mut self, moved: Moved) {
        self.steps.shift(moved);
        self.workflows.shift(moved);
    }
}

/// Makes `readings`, the reading of `old_text`, the reading of `text`, by
/// parsing only the units around where they differ; says whether it could
/// (when not, `readings` is as it was: parse `text` whole, and free the old
/// reading where it is not in the way, as a long file's reading takes
/// milliseconds to free).
pub fn reread(readings: &mut Readings, old_text: &str, text: &str) -> bool {
    if old_text == text {
        return true;
    }
    let Some(edit) = Edit::between(old_text, text) else {
        return false;
    };
    let change = Change {
        from: line_before(text, edit.start),
        edit,
        old_text,
        text,
    };
    if let Some((fresh, resync)) = steps::read(readings, &change) {
        fresh.splice(resync, readings);
        return true;
    }
    match items::read(readings, &change) {
        Some((fresh, resync)) => {
            fresh.splice(resync, readings);
            true
        }
        None => false,
    }
}

/// An edit and the texts either side of it.
struct Change<'t> {
    edit: Edit,
    /// The end of the line before the edit's: the units from the last
    /// one starting at or before it on are read again.
    from: usize,
    old_text: &'t str,
    text: &'t str,
}

/// Where two texts differ: `start..old_end` in the old one became
/// `start..new_end` in the new one.
struct Edit {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl Edit {
    /// The edit between two texts, from and to whole characters (`é` to
    /// `è` differ in their second byte only); `None` when they are the
    /// same.
    fn between(old: &str, new: &str) -> Option<Edit> {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let mut start = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        if start == a.len() && a.len() == b.len() {
            return None;
        }
        // The bytes ahead are the same in both: so are their characters.
        while !new.is_char_boundary(start) {
            start -= 1;
        }
        let room = a.len().min(b.len()) - start;
        let mut suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
        while !old.is_char_boundary(a.len() - suffix) {
            suffix -= 1;
        }
        Some(Edit {
            start,
            old_end: a.len() - suffix,
            new_end: b.len() - suffix,
        })
    }

    /// Where a position of the new text past the edit was in the old one.
    fn old_position(&self, at: usize) -> usize {
        at + self.old_end - self.new_end
    }
}

/// Where units parsed again come back in step with the last reading: the
/// old text from `old_end` on is the new text from `new_end` on.
struct Resync {
    old_end: usize,
    new_end: usize,
    /// Where their list now ends, when they ran to its end.
    list_end: Option<u32>,
}

impl Resync {
    /// Parses units with `unit` (which reads the unit at a position and
    /// says where it ends, and whether what it read leaves nothing for the
    /// units after it) from old unit `first` of a list on, until one
    /// ends past the edit where the list ended, or, settled, where an old
    /// unit began that `keeps` (by its index) says the last reading read
    /// as it would after no error. A unit that ends where it began ends
    /// the reading.
    fn find(
        starts: &[u32],
        list_end: u32,
        first: usize,
        change: &Change<'_>,
        mut unit: impl FnMut(usize) -> Option<(usize, bool)>,
        keeps: impl Fn(usize) -> bool,
    ) -> Option<Resync> {
        let (edit, old_text, text) = (&change.edit, change.old_text, change.text);
        let old_list_end = skip_blanks(old_text, list_end as usize);
        let mut at = starts[first] as usize;
        let mut end = at;
        let (mut ended, mut settled) = (None, true);
        loop {
            // Past the edit, with the whole line (its indent, which the
            // outline measures, and the line break before it) after it.
            if line_start(text, at) > edit.new_end {
                let old_at = edit.old_position(at);
                let kept = starts.binary_search(&(old_at as u32));
                if settled && kept.is_ok_and(&keeps) {
                    break;
                }
                if old_at == old_list_end {
                    ended = Some(end as u32);
                    break;
                }
            }
            (end, settled) = unit(at)?;
            if end <= at {
                return None;
            }
            at = skip_blanks(text, end);
        }
        Some(Resync {
            old_end: edit.old_position(at),
            new_end: at,
            list_end: ended,
        })
    }

    /// How positions after the units move.
    fn moved(&self) -> Moved {
        Moved {
            from: self.old_end as u32,
            by: self.new_end as i64 - self.old_end as i64,
        }
    }

    /// The old text the units read again replace, from where old unit
    /// `first` of `starts` began, and which old units they replace.
    fn replaced(&self, starts: &[u32], first: usize) -> (Range<usize>, Range<usize>) {
        let text = starts[first] as usize..self.old_end;
        let count = starts[first..].partition_point(|&at| (at as usize) < text.end);
        (text, first..first + count)
    }
}

/// A unit parsed again, read from the start of its line (whose indent the
/// outline measures); positions in it count from that start.
struct Unit<'t> {
    /// Where its line starts.
    line: usize,
    /// The text from there on.
    rest: &'t str,
    /// The parse, and its one pair.
    pairs: Pairs<'t, Rule>,
    pair: Pair<'t, Rule>,
}

impl<'t> Unit<'t> {
    /// The unit `rule` reads at `at`; `None` when there is none there, it
    /// nests too deep, or what it reads starts on a line before `at`.
    fn parse(text: &'t str, at: usize, rule: Rule) -> Option<Unit<'t>> {
        let line = line_start(text, at);
        let rest = &text[line..];
        let pairs = FlowParser::parse(rule, rest).ok()?;
        if nesting::too_deep(pairs.clone()).is_some() {
            return None;
        }
        let pair = pairs.clone().next()?;
        if pair.clone().into_inner().next()?.as_span().start() != at - line {
            return None;
        }
        Some(Unit {
            line,
            rest,
            pairs,
            pair,
        })
    }

    /// Where it ends in the whole text.
    fn end(&self) -> usize {
        self.line + self.pair.as_span().end()
    }

    /// How its positions move into the whole text.
    fn moved(&self) -> Moved {
        Moved {
            from: 0,
            by: self.line as i64,
        }
    }

    /// The errors `builder` reported reading it, in the whole text's
    /// positions; `None` when one lies outside it (it read on past the
    /// unit).
    fn errors(&self, builder: Builder<'_>) -> Option<Vec<Diagnostic>> {
        let mut diagnostics = builder.diagnostics;
        shift_errors(&mut diagnostics, self.moved());
        let inside = |diagnostic: &Diagnostic| {
            (self.line..self.end()).contains(&(diagnostic.span().start as usize))
        };
        diagnostics.iter().all(inside).then_some(diagnostics)
    }

    /// Its tokens, in the whole text's positions.
    fn tokens(&self) -> Vec<Token> {
        let end = self.pair.as_span().end();
        let mut tokens = tokens::from_pairs(self.pairs.clone(), &self.rest[..end]);
        tokens.shift(self.moved());
        tokens
    }
}

/// `tokens` with `fresh` in place of those in `replaced`, the rest moved.
fn splice_tokens(
    tokens: &mut Vec<Token>,
    replaced: &Range<usize>,
    moved: Moved,
    fresh: Vec<Token>,
) {
    let from = tokens.partition_point(|token| (token.span.start as usize) < replaced.start);
    let to = tokens.partition_point(|token| (token.span.start as usize) < replaced.end);
    tokens.drain(from..to);
    tokens.shift(moved);
    tokens.splice(from..from, fresh);
}

/// `diagnostics` with `fresh` in place of those that begin in `replaced`,
/// the rest moved, in order.
fn splice_errors(
    diagnostics: &mut Vec<Diagnostic>,
    replaced: &Range<usize>,
    moved: Moved,
    fresh: Vec<Diagnostic>,
) {
    if diagnostics.is_empty() && fresh.is_empty() {
        return;
    }
    diagnostics.retain(|diagnostic| !replaced.contains(&(diagnostic.span().start as usize)));
    shift_errors(diagnostics, moved);
    diagnostics.extend(fresh);
    crate::diagnostic::sort(diagnostics);
}

/// Moves the positions of a parse's diagnostics (all syntax errors).
fn shift_errors(diagnostics: &mut [Diagnostic], moved: Moved) {
    for diagnostic in diagnostics {
        if let Diagnostic::Syntax(error) = diagnostic {
            error.shift(moved);
        }
    }
}

impl Shift for SyntaxError {
    fn shift(&mut self, moved: Moved) {
        match self {
            SyntaxError::Expected { span, .. }
            | SyntaxError::MixedLogic { span, .. }
            | SyntaxError::DanglingLabel { span, .. }
            | SyntaxError::StrayBlockWord { span, .. }
            | SyntaxError::NoWorkflow { span }
            | SyntaxError::TooDeep { span, .. } => span.shift(moved),
            SyntaxError::UnclosedText { opened, span, .. }
            | SyntaxError::MissingEnd { opened, span, .. } => {
                opened.shift(moved);
                span.shift(moved);
            }
        }
    }
}

/// The start of the line holding `at`, as the outline sees lines (after a
/// `\n`; a `\r` alone also breaks a line for the parser, so a unit may not
/// start at the start of this line: it is then read whole).
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// The end of the line before the one holding `at` (its line break), or
/// the start of the first: a unit starting at or before it starts on that
/// line or earlier.
fn line_before(text: &str, at: usize) -> usize {
    line_start(text, at).saturating_sub(1)
}

/// `at` past the spaces and tabs there, as pest skips them before a unit.
fn skip_blanks(text: &str, at: usize) -> usize {
    at + text[at..].len() - text[at..].trim_start_matches([' ', '\t']).len()
}

/// Moves each position of a list.
fn shift_all(positions: &mut [u32], moved: Moved) {
    positions.iter_mut().for_each(|at| *at = moved.at(*at));
}

impl Shift for Token {
    fn shift(&mut self, moved: Moved) {
        self.span.shift(moved);
    }
}

impl Shift for Symbol {
    fn shift(&mut self, moved: Moved) {
        self.span.shift(moved);
        self.name_span.shift(moved);
        self.children.shift(moved);
    }
}
