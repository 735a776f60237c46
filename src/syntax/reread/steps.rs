//! Reading the top-level steps of a step list again.

use pest::iterators::Pair;

use super::{shift_all, splice_tokens, Change, Readings, Resync, Unit};
use crate::ast::Step;
use crate::span::{Moved, Shift};
use crate::syntax::outline::{self, Symbol, SymbolKind};
use crate::syntax::tokens::Token;
use crate::syntax::{content, Builder, Rule};

/// Where the top-level steps of one `steps` section begin (each with its
/// label) and where the section ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepUnits {
    /// The `steps` keyword.
    section: u32,
    /// Where each step (or the label before it) begins.
    starts: Vec<u32>,
    /// Where the section's last line ends.
    end: u32,
}

impl StepUnits {
    /// The units of a `steps_section` pair.
    pub(in crate::syntax) fn of(section: &Pair<'_, Rule>) -> StepUnits {
        let mut starts = Vec::new();
        let mut labelled = false;
        for item in section.clone().into_inner() {
            let rule = item.as_rule();
            if rule == Rule::label_line || (rule == Rule::step && !labelled) {
                starts.push(item.as_span().start() as u32);
            }
            labelled = rule == Rule::label_line;
        }
        StepUnits {
            section: section.as_span().start() as u32,
            starts,
            end: section.as_span().end() as u32,
        }
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
    let resync = Resync::find(&units.starts, units.end, first, change, |at| {
        fresh.unit(text, at)
    })?;
    Some((fresh, resync))
}

/// Whether an outline entry ahead of `at` reaches it: the outline takes a
/// step's lines by their indent, so lines indented deeper further down
/// (then edited) belong to it.
pub(super) fn reaches(outline: &[Symbol], at: u32) -> bool {
    fn end(symbol: &Symbol) -> u32 {
        symbol
            .children
            .iter()
            .map(end)
            .fold(symbol.span.end, u32::max)
    }
    let steps = outline.iter().flat_map(|workflow| &workflow.children);
    steps
        .filter(|symbol| symbol.kind == SymbolKind::Step && symbol.span.start < at)
        .any(|symbol| end(symbol) >= at)
}

impl Fresh {
    /// Parses the unit at `at`: where it ends, or `None` when there is
    /// none there or it is not read cleanly.
    fn unit(&mut self, text: &str, at: usize) -> Option<usize> {
        let unit = Unit::parse(text, at, Rule::step_unit)?;
        let mut builder = Builder::new(unit.rest);
        let mut steps = builder.step_list(content(unit.pair.clone()));
        if !builder.diagnostics.is_empty() || steps.len() != 1 {
            return None;
        }
        let mut symbols = outline::step_list(unit.pair.clone().into_inner(), unit.rest);
        steps.shift(unit.moved());
        symbols.shift(unit.moved());
        self.steps.extend(steps);
        self.tokens.extend(unit.tokens());
        self.symbols.extend(symbols);
        self.starts.push(at as u32);
        Some(unit.end())
    }

    /// The old reading with these steps in place of those they replace,
    /// the rest moved.
    pub(super) fn splice(self, resync: Resync, old: &mut Readings) {
        let (section, first) = (self.section, self.first);
        let moved = resync.moved();
        let units = &old.parsed.units.steps[section];
        let (start, keyword) = (units.starts[first], units.section);
        let replaced = resync.replaced(start);
        let count = units.starts[first..].partition_point(|&at| (at as usize) < replaced.end);

        let file = &mut old.parsed.file;
        file.shift(moved);
        let mut lists = file
            .workflows
            .iter_mut()
            .flat_map(|workflow| &mut workflow.steps);
        if let Some(list) = lists.find(|list| list.span.start == keyword) {
            list.steps.splice(first..first + count, self.steps);
        }

        old.parsed.units.shift(moved);
        let units = &mut old.parsed.units.steps[section];
        units.starts.splice(first..first + count, self.starts);
        units.end = resync.list_end.unwrap_or(units.end);

        splice_tokens(&mut old.tokens, &replaced, moved, self.tokens);

        let mut symbols = Some(self.symbols);
        for workflow in &mut old.outline {
            let edited = workflow.span.start <= start && start < workflow.span.end;
            match symbols.take_if(|_| edited) {
                Some(symbols) => splice_steps(workflow, &replaced, moved, symbols),
                None => workflow.shift(moved),
            }
        }
    }
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
    let from = children.iter().position(in_place).unwrap_or(children.len());
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
