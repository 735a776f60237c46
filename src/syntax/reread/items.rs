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
    /// How many outline entries each unit made, by the list of the tree
    /// they stand for (an item with errors may make one the tree lacks).
    outlined: Vec<Counts>,
    /// Whether each unit was read as it would be after no error (no
    /// error reached it; a stray line, no run of them before it).
    clean: Vec<bool>,
    /// Where the workflow's last line ends.
    end: u32,
    /// Whether what follows the workflow is read as after no error.
    end_clean: bool,
}

impl ItemUnits {
    /// The units of a workflow starting at `start`, there `clean` or not.
    pub(in crate::syntax) fn new(start: usize, clean: bool) -> ItemUnits {
        ItemUnits {
            starts: vec![start as u32],
            made: vec![Counts::default()],
            outlined: vec![Counts::default()],
            clean: vec![clean],
            end: start as u32,
            end_clean: true,
        }
    }

    /// Records an item at `start`, `clean` or not, which made what
    /// `workflow` has more than `before`, and `outlined` entries.
    pub(in crate::syntax) fn push(
        &mut self,
        start: usize,
        before: Counts,
        workflow: &Workflow,
        outlined: Counts,
        clean: bool,
    ) {
        let after = counts(workflow);
        self.starts.push(start as u32);
        self.made
            .push(std::array::from_fn(|list| after[list] - before[list]));
        self.outlined.push(outlined);
        self.clean.push(clean);
    }

    /// Records where the workflow ends, and whether clean.
    pub(in crate::syntax) fn end(&mut self, end: usize, clean: bool) {
        self.end = end as u32;
        self.end_clean = clean;
    }

    /// What units `units` made together in the tree, and in the outline.
    fn made(&self, units: std::ops::Range<usize>) -> (Counts, Counts) {
        (
            total(&self.made[units.clone()]),
            total(&self.outlined[units]),
        )
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
    outlined: Vec<Counts>,
    diagnostics: Vec<Diagnostic>,
}

/// The header and items around an edit in a workflow, parsed again from
/// the one holding the line before the edit's, and where they come back in
/// step with the old reading; `None` when the edit is not in a workflow,
/// or they do not read cleanly (or a step list would be read again whole).
pub(super) fn read(old: &Readings, change: &Change<'_>) -> Option<(Fresh, Resync)> {
    let (edit, from, text) = (&change.edit, change.from, change.text);
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
    // Read again from a unit the last reading read as after no error, as
    // a new builder does.
    if !units.clean[first] || reaches(&old.outline, units.starts[first]) {
        return None;
    }
    let mut fresh = Fresh {
        workflow,
        first,
        ..Fresh::default()
    };
    let unit = |at| Some((fresh.unit(text, at, at == header)?, true));
    let keeps = |index: usize| units.clean[index];
    let resync = Resync::find(&units.starts, units.end, first, change, unit, keeps)?;
    // What follows the workflow reads on from how it ended; a step list
    // the units replace (its `steps` line edited away) is read whole.
    let (replaced, replaced_units) = resync.replaced(&units.starts, first);
    let lists = &old.parsed.units.steps;
    if resync.list_end.is_some() && !units.end_clean
        || lists.iter().any(|list| replaced.contains(&list.section()))
    {
        return None;
    }
    // A workflow left with no outline entries ends with its header line,
    // which the entries read again do not say.
    let (_, replaced_entries) = units.made(replaced_units);
    let entries = old
        .outline
        .get(workflow)
        .map_or(0, |symbol| symbol.children.len());
    let fresh_entries: usize = fresh.groups.iter().map(Vec::len).sum();
    if entries + fresh_entries == total_entries(&replaced_entries) {
        return None;
    }
    Some((fresh, resync))
}

impl Fresh {
    /// Parses the header or item at `at` (read from the start of its
    /// line): where it ends, or `None` when what follows it would not be
    /// read as after no error (an error reaching past it, a stray line at
    /// its end) or it is a step list.
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
            self.outlined.push(Counts::default());
        } else {
            let item = unit.pair.clone().into_inner().next()?;
            self.item(&mut builder, item, rest, moved);
        }
        if !builder.settled_at(unit.pair.as_span().end()) {
            return None;
        }
        self.diagnostics.extend(unit.errors(builder)?);
        self.tokens.extend(unit.tokens());
        self.starts.push(at as u32);
        Some(unit.end())
    }

    /// Reads an item into the lists and outline groups.
    /// Reads an item into the lists and outline groups.
    fn item(&mut self, builder: &mut Builder<'_>, item: Pair<'_, Rule>, rest: &str, moved: Moved) {
        let mut made = Workflow::default();
        builder.workflow_item(&mut made, item.clone());
        made.shift(moved);
        let entries = outline::entries(item, rest);
        self.outlined.push(outlined_counts(entries.as_ref()));
        self.made.push(counts(&made));
        let lists = &mut self.lists;
        lists.settings.append(&mut made.settings);
        lists.fields.append(&mut made.fields);
        lists.events.append(&mut made.events);
        lists.triggers.append(&mut made.triggers);
        lists.windows.append(&mut made.windows);
        lists.goals.append(&mut made.goals);
        lists.steps.append(&mut made.steps);
        if let Some((group, mut entries)) = entries {
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
            outlined,
            diagnostics,
        } = self;
        let moved = resync.moved();
        let units = &old.parsed.units.workflows[index];
        let (replaced, replaced_units) = resync.replaced(&units.starts, first);
        let ((ahead, ahead_outlined), (made, made_outlined), (_, all_outlined)) = (
            units.made(0..first),
            units.made(replaced_units.clone()),
            units.made(0..units.made.len()),
        );
        let (header_tree, header_outline) = header.unzip();

        old.parsed.file.shift(moved);
        if let Some(workflow) = old.parsed.file.workflows.get_mut(index) {
            if let Some(header) = header_tree {
                workflow.name = header.name;
                workflow.header = header.header;
            }
            splice_lists(workflow, lists, ahead, made);
        }

        old.parsed.units.shift(moved);
        let units = &mut old.parsed.units.workflows[index];
        // Each unit read again was read from a clean start.
        units
            .clean
            .splice(replaced_units.clone(), starts.iter().map(|_| true));
        units.starts.splice(replaced_units.clone(), starts);
        units.made.splice(replaced_units.clone(), made_units);
        units.outlined.splice(replaced_units, outlined);
        units.end = resync.list_end.unwrap_or(units.end);

        splice_tokens(&mut old.tokens, &replaced, moved, tokens);
        splice_errors(&mut old.parsed.diagnostics, &replaced, moved, diagnostics);

        old.outline.shift(moved);
        if let Some(workflow) = old.outline.get_mut(index) {
            if let Some(header) = header_outline {
                workflow.name = header.name;
                workflow.name_span = header.name_span;
                workflow.span = header.span;
            }
            let outlined = (ahead_outlined, made_outlined, all_outlined);
            splice_groups(workflow, groups, outlined);
        }
    }
}

/// The lists of the tree whose entries the outline has (fields, events,
/// triggers, goals), by their index in [`Counts`] and their group.
const OUTLINED: [(usize, Group); 4] = [
    (1, Group::Fields),
    (2, Group::Events),
    (3, Group::Triggers),
    (5, Group::Goals),
];

/// How many outline entries an item made, by the list they stand for.
fn outlined_counts(entries: Option<&(Group, Vec<Symbol>)>) -> Counts {
    let mut counts = Counts::default();
    if let Some((group, entries)) = entries {
        if let Some((list, _)) = OUTLINED.iter().find(|(_, outlined)| outlined == group) {
            counts[*list] = entries.len() as u32;
        }
    }
    counts
}

/// How many outline entries `item` makes, by the list they stand for (a
/// step list's are read with its steps).
pub(in crate::syntax) fn outlined(item: &Pair<'_, Rule>, text: &str) -> Counts {
    if item.as_rule() == Rule::steps_section {
        return Counts::default();
    }
    outlined_counts(outline::entries(item.clone(), text).as_ref())
}

/// How many outline entries `made` counts.
fn total_entries(made: &Counts) -> usize {
    made.iter().map(|&count| count as usize).sum()
}

/// What several units made together.
fn total(units: &[Counts]) -> Counts {
    let mut total = Counts::default();
    for made in units {
        for (total, made) in total.iter_mut().zip(made) {
            *total += made;
        }
    }
    total
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
/// replaced items made (`made.1`, after `made.0`, of `made.2` in all, each
/// counted by the list of the tree it stands for: fields, events,
/// triggers, goals; steps are never read again here).
fn splice_groups(workflow: &mut Symbol, groups: [Vec<Symbol>; 5], made: (Counts, Counts, Counts)) {
    let (ahead, made, all) = made;
    let mut offset = 0;
    let mut places = Vec::new();
    for (list, group) in OUTLINED {
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
