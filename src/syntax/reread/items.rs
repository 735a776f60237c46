//! Reading a workflow's header, settings and sections again (all but a
//! step list, which is read again by its steps or, failing that, with the
//! whole file).

use pest::iterators::Pair;

use super::steps::reaches;
use super::{shift_all, splice_errors, splice_tokens, Change, Readings, Resync, Unit};
use crate::ast::Workflow;
use crate::diagnostic::Diagnostic;
use crate::span::{Moved, Shift};
use crate::syntax::outline::{self, Group, Symbol};
use crate::syntax::tokens::Token;
use pest::Parser as _;

use crate::syntax::{Builder, FlowParser, Rule};

/// How many entries of each of a workflow's lists (settings, fields,
/// events, triggers, windows, goals, step lists) a unit made.
pub(in crate::syntax) type Counts = [u32; 7];

/// How long each of a workflow's lists is.
pub(in crate::syntax) fn counts(workflow: &Workflow) -> Counts {
    [
        workflow.settings.len(),
        workflow.fields.len(),
        workflow.events.len(),
        workflow.triggers.len(),
        workflow.windows.len(),
        workflow.goals.len(),
        workflow.steps.len(),
    ]
    .map(|count| count as u32)
}

/// Where a workflow's header and items begin, what each item made, and
/// where the workflow ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemUnits {
    /// The header (the `workflow` keyword), then each item.
    starts: Vec<u32>,
    /// What each unit made (the header nothing).
    made: Vec<Counts>,
    /// Where the workflow's last line ends.
    end: u32,
}

impl ItemUnits {
    /// The units of a workflow starting at `start`.
    pub(in crate::syntax) fn new(start: usize) -> ItemUnits {
        ItemUnits {
            starts: vec![start as u32],
            made: vec![Counts::default()],
            end: start as u32,
        }
    }

    /// Records an item at `start`, which made what `workflow` has more
    /// than `before`.
    pub(in crate::syntax) fn push(&mut self, start: usize, before: Counts, workflow: &Workflow) {
        let after = counts(workflow);
        self.starts.push(start as u32);
        self.made
            .push(std::array::from_fn(|list| after[list] - before[list]));
    }

    /// Records where the workflow ends.
    pub(in crate::syntax) fn end(&mut self, end: usize) {
        self.end = end as u32;
    }

    /// What units `units` made together.
    fn made(&self, units: std::ops::Range<usize>) -> Counts {
        let mut total = Counts::default();
        for made in &self.made[units] {
            for (total, made) in total.iter_mut().zip(made) {
                *total += made;
            }
        }
        total
    }
}

impl Shift for ItemUnits {
    fn shift(&mut self, moved: Moved) {
        shift_all(&mut self.starts, moved);
        self.end = moved.at(self.end);
    }
}

/// A workflow's header and items parsed again, in the new text's positions.
#[derive(Default)]
pub(super) struct Fresh {
    /// Which workflow, and its first unit read again (0: the header).
    workflow: usize,
    first: usize,
    /// The header, when read again: the workflow's name and header, and
    /// its outline entry's.
    header: Option<(Workflow, Symbol)>,
    /// What the items read again made, and their outline entries by list.
    lists: Workflow,
    groups: [Vec<Symbol>; 5],
    tokens: Vec<Token>,
    starts: Vec<u32>,
    made: Vec<Counts>,
}

/// The header and items around an edit in a workflow, parsed again from
/// the one holding the line before the edit's, and where they come back in
/// step with the old reading; `None` when the edit is not in a workflow,
/// or they do not read cleanly (or a step list would be read again whole).
pub(super) fn read(old: &Readings, change: &Change<'_>) -> Option<(Fresh, Resync)> {
    let (edit, from, text) = (&change.edit, change.from, change.text);
    // Errors inside step lists that end clean leave the builder as it is
    // in a file without them everywhere else: the items are read the same.
    let lists = &old.parsed.units.steps;
    let inside_a_list = |diagnostic: &Diagnostic| {
        let at = diagnostic.span().start;
        lists.iter().any(|list| list.holds_cleanly(at))
    };
    if !old.parsed.diagnostics.iter().all(inside_a_list) {
        return None;
    }
    let workflows = &old.parsed.units.workflows;
    let workflow = workflows
        .iter()
        .rposition(|units| units.starts[0] as usize <= edit.start)?;
    let units = &workflows[workflow];
    // The keyword and the character after it decide that a workflow
    // starts here, for the one before it too.
    let header = units.starts[0] as usize;
    if edit.start < header + "workflow".len() + 1 || edit.start >= units.end as usize {
        return None;
    }
    let first = units
        .starts
        .partition_point(|&at| at as usize <= from.max(header))
        - 1;
    if reaches(&old.outline, units.starts[first]) {
        return None;
    }
    let mut fresh = Fresh {
        workflow,
        first,
        ..Fresh::default()
    };
    let resync = Resync::find(&units.starts, units.end, first, change, |at| {
        Some((fresh.unit(text, at, at == header)?, true))
    })?;
    Some((fresh, resync))
}

impl Fresh {
    /// Parses the header or item at `at` (read from the start of its
    /// line): where it ends, or `None` when it is not read cleanly or is a
    /// step list.
    fn unit(&mut self, text: &str, at: usize, header: bool) -> Option<usize> {
        // A step list is read again by its steps, or with the whole file.
        if !header && FlowParser::parse(Rule::kw_steps, &text[at..]).is_ok() {
            return None;
        }
        let rule = if header {
            Rule::workflow_head
        } else {
            Rule::item_unit
        };
        let unit = Unit::parse(text, at, rule)?;
        let (rest, moved) = (unit.rest, unit.moved());
        let mut builder = Builder::new(rest);
        if header {
            let mut workflow = builder.workflow(unit.pair.clone());
            let mut symbol = outline::workflow(unit.pair.clone(), rest);
            workflow.shift(moved);
            symbol.shift(moved);
            self.header = Some((workflow, symbol));
            self.made.push(Counts::default());
        } else {
            let item = unit.pair.clone().into_inner().next()?;
            self.item(&mut builder, item, rest, moved);
        }
        if !builder.diagnostics.is_empty() {
            return None;
        }
        self.tokens.extend(unit.tokens());
        self.starts.push(at as u32);
        Some(unit.end())
    }

    /// Reads an item into the lists and outline groups.
    fn item(&mut self, builder: &mut Builder<'_>, item: Pair<'_, Rule>, rest: &str, moved: Moved) {
        let mut made = Workflow::default();
        builder.workflow_item(&mut made, item.clone());
        made.shift(moved);
        self.made.push(counts(&made));
        let lists = &mut self.lists;
        lists.settings.append(&mut made.settings);
        lists.fields.append(&mut made.fields);
        lists.events.append(&mut made.events);
        lists.triggers.append(&mut made.triggers);
        lists.windows.append(&mut made.windows);
        lists.goals.append(&mut made.goals);
        lists.steps.append(&mut made.steps);
        if let Some((group, mut entries)) = outline::entries(item, rest) {
            entries.shift(moved);
            self.groups[group as usize].append(&mut entries);
        }
    }

    /// The old reading with these units in place of those they replace,
    /// the rest moved.
    pub(super) fn splice(self, resync: Resync, old: &mut Readings) {
        let Fresh {
            workflow: index,
            first,
            header,
            lists,
            groups,
            tokens,
            starts,
            made: made_units,
        } = self;
        let moved = resync.moved();
        let units = &old.parsed.units.workflows[index];
        let replaced = resync.replaced(units.starts[first]);
        let count = units.starts[first..].partition_point(|&at| (at as usize) < replaced.end);
        let made = (
            units.made(0..first),
            units.made(first..first + count),
            units.made(0..units.made.len()),
        );
        let (header_tree, header_outline) = header.unzip();

        old.parsed.file.shift(moved);
        if let Some(workflow) = old.parsed.file.workflows.get_mut(index) {
            if let Some(header) = header_tree {
                workflow.name = header.name;
                workflow.header = header.header;
            }
            splice_lists(workflow, lists, made.0, made.1);
        }

        old.parsed.units.shift(moved);
        let units = &mut old.parsed.units.workflows[index];
        units.starts.splice(first..first + count, starts);
        units.made.splice(first..first + count, made_units);
        units.end = resync.list_end.unwrap_or(units.end);

        splice_tokens(&mut old.tokens, &replaced, moved, tokens);
        splice_errors(&mut old.parsed.diagnostics, &replaced, moved, Vec::new());

        old.outline.shift(moved);
        if let Some(workflow) = old.outline.get_mut(index) {
            if let Some(header) = header_outline {
                workflow.name = header.name;
                workflow.name_span = header.name_span;
                workflow.span = header.span;
            }
            splice_groups(workflow, groups, made);
        }
    }
}

/// The lists of `workflow` with `fresh`'s in place of the `made` entries
/// after the `ahead` ones.
fn splice_lists(workflow: &mut Workflow, fresh: Workflow, ahead: Counts, made: Counts) {
    fn one<T>(list: &mut Vec<T>, ahead: u32, made: u32, fresh: Vec<T>) {
        let at = ahead as usize;
        list.splice(at..at + made as usize, fresh);
    }
    one(&mut workflow.settings, ahead[0], made[0], fresh.settings);
    one(&mut workflow.fields, ahead[1], made[1], fresh.fields);
    one(&mut workflow.events, ahead[2], made[2], fresh.events);
    one(&mut workflow.triggers, ahead[3], made[3], fresh.triggers);
    one(&mut workflow.windows, ahead[4], made[4], fresh.windows);
    one(&mut workflow.goals, ahead[5], made[5], fresh.goals);
    one(&mut workflow.steps, ahead[6], made[6], fresh.steps);
}

/// A workflow's outline entries with `groups` in place of the entries the
/// replaced items made (`made.1`, after `made.0`, of `made.2` in all):
/// each outline list is as long as the tree's (fields, events, triggers,
/// goals; steps are never read again here).
fn splice_groups(workflow: &mut Symbol, groups: [Vec<Symbol>; 5], made: (Counts, Counts, Counts)) {
    let (ahead, made, all) = made;
    let lists = [
        (Group::Fields, 1),
        (Group::Events, 2),
        (Group::Triggers, 3),
        (Group::Goals, 5),
    ];
    let mut offset = 0;
    let mut places = Vec::new();
    for (group, list) in lists {
        places.push((group, offset + ahead[list] as usize, made[list] as usize));
        offset += all[list] as usize;
    }
    let mut groups = groups.map(Some);
    for (group, at, count) in places.into_iter().rev() {
        let fresh = groups[group as usize].take().unwrap_or_default();
        workflow.children.splice(at..at + count, fresh);
    }
    let end = workflow.children.iter().map(|child| child.span.end).max();
    workflow.span.end = end.unwrap_or(workflow.span.end);
}
