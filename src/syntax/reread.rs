//! Reading a file again after an edit: only the top-level steps around the
//! edit are parsed; the rest of the last reading is kept, its positions
//! moved. The language server answers the first request after a change
//! on a long file this way, in a fraction of a full parse.
//!
//! What is kept is exactly what a full parse would give: a PEG reading of
//! a step depends only on the text from its start on, and a step that
//! ends before the line ahead of the edit never read the edited text (a
//! step ends where the next line cannot continue it, which is decided on
//! that next line). So the steps from the one holding the line before the
//! edit are parsed again, one at a time, until one ends where a step of
//! the last reading began (or its `steps` section ended) past the edit:
//! from there on, the text and so the reading are the same. The outline
//! also measures a step's indent and takes the lines indented deeper below
//! it: a step read again starts at its line's start, a kept step after the
//! edit only counts once its whole line is past it, and a kept step ahead
//! of the edit must not reach it. Anything else (an edit outside a step
//! list, a file with syntax errors) is left to a full parse.
//!
//! The tests hold re-readings of random edits to every example against
//! full parses of the edited text.

use std::ops::Range;

use pest::iterators::Pair;
use pest::Parser as _;

use super::outline::{self, Symbol, SymbolKind};
use super::tokens::{self, Token};
use super::{nesting, Builder, FlowParser, Parsed, Rule};
use crate::ast::Step;
use crate::span::{Moved, Shift};

/// The tree, tokens and outline of one text, read off one parse.
#[derive(Debug)]
pub struct Readings {
    /// The tree and syntax errors.
    pub parsed: Parsed,
    /// Every token, in order.
    pub tokens: Vec<Token>,
    /// The outline.
    pub outline: Vec<Symbol>,
}

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
    pub(super) fn of(section: &Pair<'_, Rule>) -> StepUnits {
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
        self.starts.iter_mut().for_each(|at| *at = moved.at(*at));
        self.end = moved.at(self.end);
    }
}

/// The reading of `text`, made from `old`, the reading of `old_text`, by
/// parsing only the top-level steps around where they differ. When that
/// cannot be done, `old` is given back (then parse `text` whole, and free
/// `old` where it is not in the way: a long file's reading takes
/// milliseconds to free).
pub fn reread(old: Readings, old_text: &str, text: &str) -> Result<Readings, Readings> {
    if old_text == text {
        return Ok(old);
    }
    match in_place(&old, old_text, text) {
        Some((fresh, section, first)) => Ok(fresh.splice(old, section, first)),
        None => Err(old),
    }
}

/// The steps of `text` parsed again, with the section and the first step
/// they replace; `None` when the edit is not inside a step list of a file
/// that reads cleanly.
fn in_place(old: &Readings, old_text: &str, text: &str) -> Option<(Fresh, usize, usize)> {
    if !old.parsed.diagnostics.is_empty() {
        return None;
    }
    let edit = Edit::between(old_text, text)?;
    let from = line_before(text, edit.start);
    let section = old.parsed.sections.iter().position(|units| {
        let first = units.starts.first().map(|&first| first as usize);
        first.is_some_and(|first| first <= from) && from < units.end as usize
    })?;
    let units = &old.parsed.sections[section];
    let first = units
        .starts
        .partition_point(|&start| start as usize <= from)
        - 1;
    if reaches(&old.outline, units.starts[first]) {
        return None;
    }
    let fresh = Fresh::read(units, first, &edit, old_text, text)?;
    Some((fresh, section, first))
}

/// Whether an outline entry ahead of `at` reaches it: the outline takes a
/// step's lines by their indent, so lines indented deeper further down
/// (then edited) belong to it.
fn reaches(outline: &[Symbol], at: u32) -> bool {
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

/// Where two texts differ: `start..old_end` in the old one became
/// `start..new_end` in the new one.
struct Edit {
    start: usize,
    old_end: usize,
    new_end: usize,
}

impl Edit {
    /// The edit between two texts; `None` when they are the same.
    fn between(old: &str, new: &str) -> Option<Edit> {
        let (a, b) = (old.as_bytes(), new.as_bytes());
        let start = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        if start == a.len() && a.len() == b.len() {
            return None;
        }
        let room = a.len().min(b.len()) - start;
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(room)
            .take_while(|(x, y)| x == y)
            .count();
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

/// The start of the line holding `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// The start of the line before the one holding `at` (or of the first).
fn line_before(text: &str, at: usize) -> usize {
    match line_start(text, at).checked_sub(1) {
        Some(end) => line_start(text, end),
        None => 0,
    }
}

/// The steps parsed again, in the new text's positions.
#[derive(Default)]
struct Fresh {
    steps: Vec<Step>,
    tokens: Vec<Token>,
    symbols: Vec<Symbol>,
    starts: Vec<u32>,
    /// Where the parsed steps end: the old text from `old_end` on is the
    /// new text from `new_end` on.
    old_end: usize,
    new_end: usize,
    /// Where the section now ends, when they run to its end.
    section_end: Option<u32>,
}

impl Fresh {
    /// Parses steps from unit `first` on until the reading is in step
    /// with the old one past the edit: at the start of an old step, or
    /// where the section ended.
    fn read(
        units: &StepUnits,
        first: usize,
        edit: &Edit,
        old_text: &str,
        text: &str,
    ) -> Option<Fresh> {
        let mut fresh = Fresh::default();
        let old_section_end = skip_blanks(old_text, units.end as usize);
        let mut at = units.starts[first] as usize;
        let mut end = at;
        loop {
            // Past the edit, with the whole line (its indent, which the
            // outline measures, and the line break before it) after it.
            if line_start(text, at) > edit.new_end {
                let old_at = edit.old_position(at);
                if units.starts.binary_search(&(old_at as u32)).is_ok() {
                    break;
                }
                if old_at == old_section_end {
                    fresh.section_end = Some(end as u32);
                    break;
                }
            }
            end = fresh.unit(text, at)?;
            at = skip_blanks(text, end);
        }
        fresh.new_end = at;
        fresh.old_end = edit.old_position(at);
        Some(fresh)
    }

    /// Parses the unit at `at` (read from the start of its line, whose
    /// indent the outline measures): where it ends, or `None` when there
    /// is none there or it is not read cleanly.
    fn unit(&mut self, text: &str, at: usize) -> Option<usize> {
        let line = line_start(text, at);
        let rest = &text[line..];
        let pairs = FlowParser::parse(Rule::step_unit, rest).ok()?;
        if nesting::too_deep(pairs.clone()).is_some() {
            return None;
        }
        let unit = pairs.clone().next()?;
        let end = unit.as_span().end();
        let mut builder = Builder::new(rest);
        let mut steps = builder.step_list(super::content(unit.clone()));
        if !builder.diagnostics.is_empty() || steps.len() != 1 {
            return None;
        }
        let mut tokens = tokens::from_pairs(pairs, &rest[..end]);
        let mut symbols = outline::step_list(unit.into_inner(), rest);
        let moved = Moved {
            from: 0,
            by: line as i64,
        };
        steps.shift(moved);
        tokens.shift(moved);
        symbols.shift(moved);
        self.steps.extend(steps);
        self.tokens.extend(tokens);
        self.symbols.extend(symbols);
        self.starts.push(at as u32);
        Some(line + end)
    }

    /// The old reading with these steps in place of those they replace
    /// (units `first..` up to where they end), the rest moved.
    fn splice(self, mut old: Readings, section: usize, first: usize) -> Readings {
        let moved = Moved {
            from: self.old_end as u32,
            by: self.new_end as i64 - self.old_end as i64,
        };
        let units = &old.parsed.sections[section];
        let (start, keyword) = (units.starts[first], units.section);
        let replaced = start as usize..self.old_end;
        let count = units.starts[first..].partition_point(|&at| (at as usize) < self.old_end);

        let file = &mut old.parsed.file;
        file.shift(moved);
        let mut lists = file
            .workflows
            .iter_mut()
            .flat_map(|workflow| &mut workflow.steps);
        if let Some(list) = lists.find(|list| list.span.start == keyword) {
            list.steps.splice(first..first + count, self.steps);
        }

        let sections = &mut old.parsed.sections;
        sections.shift(moved);
        let units = &mut sections[section];
        units.starts.splice(first..first + count, self.starts);
        units.end = self.section_end.unwrap_or(units.end);

        let tokens = &mut old.tokens;
        let from = tokens.partition_point(|token| (token.span.start as usize) < replaced.start);
        let to = tokens.partition_point(|token| (token.span.start as usize) < replaced.end);
        tokens.drain(from..to);
        tokens.shift(moved);
        tokens.splice(from..from, self.tokens);

        let mut symbols = Some(self.symbols);
        for workflow in &mut old.outline {
            let edited = workflow.span.start <= start && start < workflow.span.end;
            match symbols.take_if(|_| edited) {
                Some(symbols) => splice_steps(workflow, &replaced, moved, symbols),
                None => workflow.shift(moved),
            }
        }
        old
    }
}

/// A workflow's outline with `symbols` in place of its steps in `replaced`
/// and the entries after them moved (its header is ahead of the edit).
fn splice_steps(
    workflow: &mut Symbol,
    replaced: &Range<usize>,
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

/// `at` past the spaces and tabs there, as pest skips them before a step.
fn skip_blanks(text: &str, at: usize) -> usize {
    at + text[at..].len() - text[at..].trim_start_matches([' ', '\t']).len()
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The reading of `text` from three parses, as the language server
    /// has it after a full read.
    fn full(text: &str) -> Readings {
        Readings {
            parsed: super::super::parse(text),
            tokens: tokens::tokens(text),
            outline: super::super::outline(text),
        }
    }

    fn assert_same(reread: &Readings, full: &Readings, text: &str) {
        let errors = |read: &Readings| format!("{:?}", read.parsed.diagnostics);
        assert_eq!(errors(reread), errors(full), "errors of\n{text}");
        assert_eq!(reread.parsed.file, full.parsed.file, "tree of\n{text}");
        let sections = (&reread.parsed.sections, &full.parsed.sections);
        assert_eq!(sections.0, sections.1, "steps of\n{text}");
        assert_eq!(reread.tokens, full.tokens, "tokens of\n{text}");
        assert_eq!(reread.outline, full.outline, "outline of\n{text}");
    }

    /// Every example, and a long generated one.
    fn sources() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut sources: Vec<String> = std::fs::read_dir(dir)
            .expect("examples")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension()? == "flow").then(|| std::fs::read_to_string(path).ok())?
            })
            .collect();
        sources.sort();
        sources
    }

    /// Text an edit puts in: pieces of the language, line breaks, and
    /// what breaks lines and blocks (quotes, comments, `end`).
    const PIECES: &[&str] = &[
        "",
        "x",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\n\n",
        "# note\n",
        "#",
        "\"",
        "\"\"\"",
        "é",
        "{{ first_name }}",
        "end\n",
        "    end\n",
        "else\n",
        "label again\n",
        "label s9\n",
        "send email\n",
        "  send text\n    message \"hi\"\n",
        "wait 2 days\n",
        "wait 3 hours\n",
        "condition\n  branch a when score > 1\n    wait 1 day\n  else\n    exit\nend\n",
        "branch b when score < 2\n",
        "on answered\n",
        "on error\n",
        "call phone\n",
        "subject \"Hello\"\n",
        "goto s1\n",
        "exit\n",
        "fields\n",
        "steps\n",
        "workflow other\n",
        "trigger when email is set\n",
        "split\n  variant a 50%\n  variant b 50%\nend\n",
        "wait until 09:00\n",
        "notify slack sales\n  message \"x\"\n",
        "(",
        ")",
        "not ",
    ];

    /// `text` with `length` bytes at `at` (both scaled to the text and
    /// moved to character boundaries) replaced by `piece`.
    fn edited(text: &str, at: usize, length: usize, piece: &str) -> String {
        let floor = |mut at: usize| {
            at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let start = floor(at % (text.len() + 1));
        let end = floor(start + length);
        format!("{}{piece}{}", &text[..start], &text[end..])
    }

    /// Steps a line-wise edit inserts, indented as the line they go before.
    const STEPS: &[&str] = &[
        "wait 2 days\n",
        "exit\n",
        "# a comment\n",
        "\n",
        "label again\nwait 1 hour\n",
        "send email\n  subject \"Hi {{ first_name }}\"\n  body \"\"\"\n    Hello\n    \"\"\"\n",
        "condition\n  branch a when score > 1\n    exit\n  else\n    wait 1 day\nend\n",
        "call phone\non answered\n  exit\non no answer\n  wait 1 hour\nend\n",
    ];

    /// `text` with its line `line` (scaled to the lines there) edited as
    /// a writer edits a file: a step inserted before it at its indent, the
    /// line deleted or doubled, or a word typed into its text.
    fn line_edited(text: &str, line: usize, how: usize, piece: usize) -> String {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let at = line % lines.len().max(1);
        let mut out: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
        let Some(current) = lines.get(at) else {
            return text.to_owned();
        };
        let indent = &current[..current.len() - current.trim_start_matches(' ').len()];
        match how % 4 {
            0 => {
                let step = STEPS[piece % STEPS.len()];
                let indented: String = step
                    .split_inclusive('\n')
                    .map(|line| format!("{indent}{line}"))
                    .collect();
                out.insert(at, indented);
            }
            1 => drop(out.remove(at)),
            2 => out.insert(at, current.to_string()),
            _ => {
                if let Some(quote) = current.find('"') {
                    out[at].insert_str(quote + 1, ["new ", "{{ email }} ", "é", "x"][piece % 4]);
                }
            }
        }
        out.concat()
    }

    #[test]
    fn a_change_in_a_step_is_read_in_that_step() {
        let text = "workflow w\n  steps\n    label s1\n    send email\n      subject \"a\"\n    wait 2 days\n    exit\n";
        let changed = text.replace("\"a\"", "\"abc\"");
        let read = reread(full(text), text, &changed).expect("read again in place");
        assert_same(&read, &full(&changed), &changed);
    }

    /// A workflow of `blocks` labelled blocks: a send with options, a
    /// condition with nested steps, a wait.
    fn long(blocks: usize) -> String {
        let mut text = String::from(
            "workflow long\n  fields\n    score number\n  trigger when email is set\n  steps\n",
        );
        for i in 0..blocks {
            text.push_str(&format!(
                "    label s{i}\n    send email\n      subject \"Step {i} for {{{{ first_name }}}}\"\n      body \"Block {i}\"\n    condition\n      branch b{i} when score > {i}\n        goto s0\n      else\n        wait 1 hour\n    end\n    wait 2 hours\n"
            ));
        }
        text
    }

    #[test]
    fn typing_anywhere_in_a_long_step_list_is_read_in_place() {
        let mut text = long(40);
        let mut read = full(&text);
        let quoted: Vec<usize> = text.match_indices("\"Step").map(|(at, _)| at + 1).collect();
        for (n, at) in quoted.into_iter().rev().enumerate() {
            let next = format!(
                "{}{}{}",
                &text[..at],
                ["x", "new ", "é", "{{ email }} "][n % 4],
                &text[at..]
            );
            read = reread(read, &text, &next).unwrap_or_else(|_| panic!("edit {n} read whole"));
            assert_same(&read, &full(&next), &next);
            text = next;
        }
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let at = lines
            .iter()
            .position(|line| line.trim() == "label s20")
            .expect("a label");
        let dropped = [&lines[..at], &lines[at + 11..]].concat().concat();
        let read = reread(read, &text, &dropped).expect("a block taken out is read in place");
        assert_same(&read, &full(&dropped), &dropped);
    }

    #[test]
    fn an_edit_outside_the_steps_or_in_a_file_with_errors_is_left_to_a_full_parse() {
        let text = "workflow w\n  steps\n    wait 2 days\n    exit\n";
        assert!(reread(full(text), text, &text.replace("workflow w", "workflow v")).is_err());
        let broken = text.replace("exit", "exit now");
        assert!(reread(full(&broken), &broken, &broken.replace("2 days", "3 days")).is_err());
        assert!(reread(full(text), text, &text.replace("exit", "exit now")).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any chain of the edits a writer makes, line by line, to any
        /// example: each re-read, when it is made, is the full parse of the
        /// edited text.
        #[test]
        fn a_reread_after_line_edits_is_the_full_parse(
            example in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..12),
        ) {
            let sources = sources();
            let mut text = sources[example.index(sources.len())].clone();
            let mut read = full(&text);
            for (line, how, piece) in edits {
                let next = line_edited(&text, line, how, piece);
                read = match reread(read, &text, &next) {
                    Ok(reread) => {
                        assert_same(&reread, &full(&next), &next);
                        reread
                    }
                    Err(_) => full(&next),
                };
                text = next;
            }
        }

        /// Any chain of edits to any example: each re-read, when it is
        /// made, is the full parse of the edited text.
        #[test]
        fn a_reread_is_the_full_parse(
            example in any::<prop::sample::Index>(),
            edits in proptest::collection::vec(
                (any::<usize>(), 0usize..48, any::<prop::sample::Index>()),
                1..8,
            ),
        ) {
            let sources = sources();
            let mut text = sources[example.index(sources.len())].clone();
            let mut read = full(&text);
            for (at, length, piece) in edits {

                let next = edited(&text, at, length, PIECES[piece.index(PIECES.len())]);
                read = match reread(read, &text, &next) {
                    Ok(reread) => {
                        assert_same(&reread, &full(&next), &next);
                        reread
                    }
                    Err(_) => full(&next),
                };
                text = next;
            }
        }
    }
}
