//! Reading the top-level steps of a step list again.

use pest::iterators::Pair;

use super::{
    shift_all, shift_errors, skip_blanks, splice_errors, splice_tokens, Change, Readings, Resync,
    Unit,
};
use crate::ast::{Ident, SourceFile, Step};
use crate::diagnostic::Diagnostic;
use crate::span::{Moved, Shift};
use crate::syntax::outline::{self, Symbol, SymbolKind};
use crate::syntax::tokens::Token;
use crate::syntax::{content, is_blank, Builder, Rule, SyntaxError};

/// Where one `steps` section's list may be read again from: each label
/// or top-level step that no label waits for and no earlier error
/// reaches (which a full parse reads as it would the list from there
/// on), and how the list ends.
#[derive(Clone, Debug, PartialEq)]
pub struct StepUnits {
    /// The `steps` keyword.
    section: u32,
    /// Where each unit begins.
    starts: Vec<u32>,
    /// Where the section's last line ends.
    end: u32,
    /// Whether the list ends as a clean one does: not on a stray line
    /// (nested or not: a stray line after the list would be one more of
    /// a run) and with no error reaching past it.
    end_clean: bool,
}

impl StepUnits {
    /// The units of a `steps_section` pair, marked as its items are read.
    pub(in crate::syntax) fn new(section: &Pair<'_, Rule>) -> StepUnits {
        StepUnits::ending_at(section.as_span().start(), section.as_span().end())
    }

    fn ending_at(section: usize, end: usize) -> StepUnits {
        StepUnits {
            section: section as u32,
            starts: Vec::new(),
            end: end as u32,
            end_clean: true,
        }
    }

    /// Where its `steps` keyword is.
    pub(super) fn section(&self) -> usize {
        self.section as usize
    }

    /// An item of the list, read at `start`: a unit begins there when it
    /// is a label or a step and the list is `clean` there.
    pub(in crate::syntax) fn mark(&mut self, start: usize, rule: Rule, clean: bool) {
        if clean && matches!(rule, Rule::label_line | Rule::step) {
            self.starts.push(start as u32);
        }
    }

    /// The list read by `builder`.
    pub(in crate::syntax) fn close(&mut self, builder: &Builder<'_>) {
        self.end_clean = builder.settled_at(self.end as usize);
    }
}

impl Shift for StepUnits {
    fn shift(&mut self, moved: Moved) {
        self.section = moved.at(self.section);
        shift_all(&mut self.starts, moved);
        self.end = moved.at(self.end);
    }
}

/// The steps of a step list parsed again, in the new text's positions.
#[derive(Default)]
pub(super) struct Fresh {
    /// Which step list, and its first step read again.
    section: usize,
    first: usize,
    steps: Vec<Step>,
    tokens: Vec<Token>,
    symbols: Vec<Symbol>,
    starts: Vec<u32>,
    diagnostics: Vec<Diagnostic>,
    /// Whether the last unit read ends as a clean list does.
    end_clean: bool,
    /// A label read again that no step has taken yet (the step after it
    /// did not read): the next step read takes it.
    waiting: Option<Ident>,
    /// How far the errors read again reach.
    quiet_until: usize,
}

/// The steps around an edit inside a step list, parsed again from the one
/// holding the line before the edit's, and where they come back in step
/// with the old reading; `None` when the edit is not inside a step list,
/// or they do not read cleanly.
pub(super) fn read(old: &Readings, change: &Change<'_>) -> Option<(Fresh, Resync)> {
    let (from, text) = (change.from, change.text);
    let lists = &old.parsed.units.steps;
    let section = lists.iter().position(|units| {
        let first = units.starts.first().map(|&first| first as usize);
        first.is_some_and(|first| first <= from) && from < units.end as usize
    })?;
    let units = &lists[section];
    let first = units.starts.partition_point(|&at| at as usize <= from) - 1;
    if reaches(&old.outline, units.starts[first]) {
        return None;
    }
    let mut fresh = Fresh {
        section,
        first,
        ..Fresh::default()
    };
    // Every start a full parse records is one no error reaches.
    let unit = |at| {
        let end = fresh.unit(text, at)?;
        Some((end, fresh.waiting.is_none()))
    };
    let resync = Resync::find(&units.starts, units.end, first, change, unit, |_| true)?;
    // What follows the list reads on from how it ended.
    let ended_clean = units.end_clean && fresh.end_clean;
    if resync.list_end.is_some() && !ended_clean {
        return None;
    }
    let left = fresh.waiting.take();
    fresh.dangling(left);
    Some((fresh, resync))
}

/// The reading of a whole `text` read in two ([`super::halves`]) from
/// `first`, the reading of the text up to `split` (a line start), and
/// `rest`, the reading of the text's first `head` bytes (down to its last
/// `steps` line) followed by the text from `split` on: the steps of
/// `rest` take the place of where `first`'s last step list ends, as if the
/// rest of the text had been typed there and read again unit by unit.
/// `None` unless each has that step list last, and `first`'s last unit,
/// read again in the whole text, ends where `rest`'s steps begin (the line
/// at `split` does not go on with it). Errors are taken as an edit takes
/// them: `first`'s before its last unit (which, as every unit, begins
/// where no error reaches), `rest`'s in its steps (none in its header).
pub(super) fn join(
    first: &Readings,
    text: &str,
    split: usize,
    rest: Readings,
    head: usize,
) -> Option<(Fresh, Resync)> {
    let lists = &first.parsed.units.steps;
    let (section, units) = (lists.len().checked_sub(1)?, lists.last()?);
    let tail = rest.parsed.units.steps.last()?;
    // The same `steps` keyword, in the text both share, with nothing but
    // blank lines after its list up to the split.
    let same_list = rest.parsed.units.steps.len() == lists.len() && tail.section == units.section;
    let ends_at_split = text[units.end as usize..split].trim().is_empty();
    if !same_list || !ends_at_split || !units.end_clean || !tail.end_clean {
        return None;
    }
    // An error where the first half's text ends is one of that end.
    let at_end = |error: &Diagnostic| error.span().start as usize >= split;
    if first.parsed.diagnostics.iter().any(at_end) {
        return None;
    }
    let first_unit = units.starts.len().checked_sub(1)?;
    // A step ahead of the last unit, reaching it by its indent, might
    // reach on past the split: that unit and the rest are then its lines.
    if reaches(&first.outline, units.starts[first_unit]) {
        return None;
    }
    let mut fresh = Fresh {
        section,
        first: first_unit,
        ..Fresh::default()
    };
    let end = fresh.unit(text, units.starts[first_unit] as usize)?;
    let begins = tail.starts.first().map(|&at| at as usize + split - head);
    if Some(skip_blanks(text, end)) != begins || fresh.waiting.is_some() {
        return None;
    }
    let moved = Moved {
        from: head as u32,
        by: split as i64 - head as i64,
    };
    let list_end = moved.at(tail.end);
    // Only the steps of `rest` are taken: nothing may follow them.
    if !text.get(list_end as usize..)?.lines().all(is_blank) {
        return None;
    }
    fresh.take_steps(rest, head, moved)?;
    let resync = Resync {
        old_end: split,
        new_end: text.len(),
        list_end: Some(list_end),
    };
    Some((fresh, resync))
}

/// Whether an outline entry ahead of `at` reaches it: the outline takes a
/// step's lines (or a section's, in a file with errors) by their indent,
/// so lines indented deeper further down (then edited) belong to it.
pub(super) fn reaches(outline: &[Symbol], at: u32) -> bool {
    fn end(symbol: &Symbol) -> u32 {
        symbol
            .children
            .iter()
            .map(end)
            .fold(symbol.span.end, u32::max)
    }
    let entries = outline.iter().flat_map(|workflow| &workflow.children);
    entries
        .filter(|symbol| symbol.span.start < at)
        .any(|symbol| end(symbol) >= at)
}

impl Fresh {
    /// Parses the unit at `at`: where it ends, or `None` when there is
    /// none there or an error in it reaches past it.
    fn unit(&mut self, text: &str, at: usize) -> Option<usize> {
        let unit = Unit::parse(text, at, Rule::step_unit)?;
        let end = unit.pair.as_span().end();
        let mut builder = Builder::new(unit.rest);
        let (mut units, mut label) = (StepUnits::ending_at(0, end), None);
        let items = content(unit.pair.clone());
        let mut steps = builder.step_items(items, Some(&mut units), &mut label);
        units.close(&builder);
        if builder.quiet_until > end {
            return None;
        }
        let (moved, quiet_until) = (unit.moved(), builder.quiet_until);
        let diagnostics = unit.errors(builder)?;
        let mut symbols = outline::step_list(unit.pair.clone().into_inner(), unit.rest);
        steps.shift(moved);
        symbols.shift(moved);
        label.shift(moved);
        shift_all(&mut units.starts, moved);
        if let Some(waiting) = self.waiting.take() {
            // Read as a full parse reads on with the label waiting: the
            // unit's start is no place to read again from, and the first
            // label reported dangling or the first step read takes it.
            units.starts.retain(|&start| start as usize != at);
            let opens_with_label =
                unit.pair.clone().into_inner().next()?.as_rule() == Rule::label_line;
            match steps.first_mut() {
                _ if opens_with_label => self.dangling(Some(waiting)),
                Some(first) => first.label = Some(waiting),
                None => self.waiting = Some(waiting),
            }
        }
        self.waiting = self.waiting.take().or(label);
        self.quiet_until = self.quiet_until.max(unit.line + quiet_until);
        self.steps.extend(steps);
        self.tokens.extend(unit.tokens());
        self.symbols.extend(symbols);
        self.starts.extend(units.starts);
        self.diagnostics.extend(diagnostics);
        self.end_clean = units.end_clean;
        Some(unit.end())
    }

    /// Takes the steps of `rest`'s last step list (those from `head` on),
    /// with their errors, `moved` into the whole text, after those read so
    /// far (which read on to its first unit: the comments before it are
    /// theirs); `None` when `rest` has an error ahead of them.
    fn take_steps(&mut self, rest: Readings, head: usize, moved: Moved) -> Option<()> {
        let Readings {
            parsed,
            tokens,
            outline,
        } = rest;
        let units = parsed.units.steps.last()?;
        let first = *units.starts.first()?;
        let (mut errors, header): (Vec<_>, Vec<_>) = parsed
            .diagnostics
            .into_iter()
            .partition(|error| error.span().start >= first);
        if !header.is_empty() {
            return None;
        }
        shift_errors(&mut errors, moved);
        let mut file = parsed.file;
        let mut steps = std::mem::take(list_at(&mut file, units.section)?);
        steps.shift(moved);
        let mut symbols: Vec<Symbol> = outline
            .into_iter()
            .last()?
            .children
            .into_iter()
            .filter(|symbol| symbol.kind == SymbolKind::Step && symbol.span.start as usize >= head)
            .collect();
        symbols.shift(moved);
        let mut tokens: Vec<Token> = tokens
            .into_iter()
            .filter(|token| token.span.start >= first)
            .collect();
        tokens.shift(moved);
        let mut starts = units.starts.clone();
        shift_all(&mut starts, moved);
        self.steps.extend(steps);
        self.symbols.extend(symbols);
        self.tokens.extend(tokens);
        self.starts.extend(starts);
        self.diagnostics.extend(errors);
        self.end_clean = units.end_clean;
        Some(())
    }

    /// Reports a label read again that no step took, as a full parse
    /// does unless an error before it reaches past it.
    fn dangling(&mut self, label: Option<Ident>) {
        if let Some(label) = label.filter(|label| label.span.start as usize >= self.quiet_until) {
            self.diagnostics
                .push(Diagnostic::from(SyntaxError::DanglingLabel {
                    name: label.name,
                    span: label.span,
                }));
        }
    }

    /// The old reading with these steps in place of those they replace,
    /// the rest moved.
    pub(super) fn splice(self, resync: Resync, old: &mut Readings) {
        let (section, first) = (self.section, self.first);
        let moved = resync.moved();
        let units = &old.parsed.units.steps[section];
        let (start, keyword) = (units.starts[first], units.section);
        let (replaced, replaced_units) = resync.replaced(&units.starts, first);

        // A unit holds a step, or none (a label and stray lines at the
        // list's end), or several (steps an error reached): the steps
        // replaced are those that begin in the old text replaced.
        let file = &mut old.parsed.file;
        let steps = list_at(file, keyword).map(|steps| {
            let at = |end: usize| steps.partition_point(|step| (step.span.start as usize) < end);
            at(replaced.start)..at(replaced.end)
        });
        file.shift(moved);
        if let (Some(list), Some(steps)) = (list_at(file, keyword), steps) {
            list.splice(steps, self.steps);
        }

        old.parsed.units.shift(moved);
        let units = &mut old.parsed.units.steps[section];
        units.starts.splice(replaced_units, self.starts);
        units.end = resync.list_end.unwrap_or(units.end);

        splice_tokens(&mut old.tokens, &replaced, moved, self.tokens);
        splice_errors(
            &mut old.parsed.diagnostics,
            &replaced,
            moved,
            self.diagnostics,
        );

        // The list's workflow is the last to begin before it (its outline
        // entry may end before lines that make no entry: a label and stray
        // lines at the list's end).
        let edited = old
            .outline
            .iter()
            .rposition(|workflow| workflow.span.start <= start);
        let mut symbols = Some(self.symbols);
        for (index, workflow) in old.outline.iter_mut().enumerate() {
            match symbols.take_if(|_| Some(index) == edited) {
                Some(symbols) => splice_steps(workflow, &replaced, moved, symbols),
                None => workflow.shift(moved),
            }
        }
    }
}

/// The steps of the step list whose `steps` keyword is at `keyword`.
fn list_at(file: &mut SourceFile, keyword: u32) -> Option<&mut Vec<Step>> {
    let mut lists = file
        .workflows
        .iter_mut()
        .flat_map(|workflow| &mut workflow.steps);
    let list = lists.find(|list| list.span.start == keyword)?;
    Some(&mut list.steps)
}

/// A workflow's outline with `symbols` in place of its steps in `replaced`
/// and the entries after them moved (its header is ahead of the edit).
fn splice_steps(
    workflow: &mut Symbol,
    replaced: &std::ops::Range<usize>,
    moved: Moved,
    symbols: Vec<Symbol>,
) {
    let children = &mut workflow.children;
    let in_place = |child: &Symbol| {
        child.kind == SymbolKind::Step && replaced.contains(&(child.span.start as usize))
    };
    // Where the replaced steps were, or (the units read again held none: a
    // label and stray lines) where the steps after them begin.
    let at_or_after = |child: &Symbol| {
        child.kind == SymbolKind::Step && child.span.start as usize >= replaced.start
    };
    let from = children
        .iter()
        .position(at_or_after)
        .unwrap_or(children.len());
    let to = from
        + children[from..]
            .iter()
            .take_while(|child| in_place(child))
            .count();
    children.drain(from..to);
    children.shift(moved);
    children.splice(from..from, symbols);
    let end = children.iter().map(|child| child.span.end).max();
    workflow.span.end = end.unwrap_or(workflow.span.end);
}
