//! Reading a long file whole on two threads: the text up to a line near its
//! middle, and its header with the steps from that line on, each parsed
//! whole at the same time, then joined as [`super::reread`] joins a
//! re-reading of the steps after an edit (the second half taking the place
//! of where the first ends). Most of a long file is one step list, and a
//! step is read the same whatever came before its line, so the halves join
//! into what a full parse gives, syntax errors included (each half's where
//! no error reaches the split); when they would not (an error reaching the
//! split, a block left open there, more than steps after it), the file is
//! parsed whole instead.

use std::ops::ControlFlow;

use pest::Parser as _;

use super::{steps, Readings};
use crate::syntax::{is_blank, read_each, FlowParser, Reading, Rule, Wanted};

/// Files shorter than this are read on one thread: a parse of them takes
/// a few milliseconds, less than starting a second reading is worth.
const SHORTEST: usize = 128 * 1024;

/// The reading of `text`, parsed in two halves on two threads (see the
/// module's documentation); `None` when `text` is short, has no line to
/// split it at, or its halves do not join as a full parse reads it.
pub fn halves(text: &str) -> Option<Readings> {
    if text.len() < SHORTEST {
        return None;
    }
    let (head, split) = split_at(text)?;
    in_two(text, head, split)
}

/// The reading of `text` from its first `split` bytes and, read after its
/// first `head` bytes, the rest; `None` when they do not join.
fn in_two(text: &str, head: usize, split: usize) -> Option<Readings> {
    let rest_text = [&text[..head], &text[split..]].concat();
    let (first, rest) = std::thread::scope(|scope| {
        let rest = scope.spawn(|| read_all(&rest_text));
        (read_all(&text[..split]), rest.join())
    });
    let (mut first, rest) = (first, rest.ok()?);
    let (fresh, resync) = steps::join(&first, text, split, rest, head)?;
    fresh.splice(resync, &mut first);
    Some(first)
}

/// The tree, tokens and outline of `text`, off one parse.
fn read_all(text: &str) -> Readings {
    let mut all = Readings::default();
    read_each(text, Wanted::Tree, |reading| {
        match reading {
            Reading::Tree(read) => all.parsed = read,
            Reading::Tokens(read) => all.tokens = read,
            Reading::Outline(read) => all.outline = read,
        }
        ControlFlow::Continue(())
    });
    all
}

/// Where to read `text` in two: the end of its last `steps` line before
/// the middle (the second half is read after the text up to there), and
/// the first line from the middle on that is indented as the first line
/// of that list, begins with a step's (or a label's) word and follows no
/// label line, so that a step is likely to begin there. Whether one does
/// is for [`steps::join`] to tell.
fn split_at(text: &str) -> Option<(usize, usize)> {
    let middle = text.len() / 2;
    let lines = lines(text);
    let head = lines
        .iter()
        .take_while(|&&(at, _)| at < middle)
        .filter(|(_, line)| is_steps_line(line))
        .map(|&(at, line)| at + line.len())
        .last()?;
    let (_, first) = lines
        .iter()
        .find(|&&(at, line)| at >= head && !is_blank(line))?;
    let indent = indent_of(first);
    let mut after_label = false;
    for &(at, line) in &lines {
        if is_blank(line) {
            continue;
        }
        let words = line.trim_start();
        if at >= middle && !after_label && indent_of(line) == indent && begins_step(words) {
            return Some((head, at));
        }
        after_label = words.split([' ', '\t', '\r', '\n']).next() == Some("label");
    }
    None
}

/// Each line of `text` with where it starts, its line break included.
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let start = at;
            at += line.len();
            (start, line)
        })
        .collect()
}

/// Whether `line` is a `steps` line (perhaps with a comment).
fn is_steps_line(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("steps")
        .is_some_and(is_blank)
}

/// The spaces and tabs `line` begins with.
fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Whether `line` (its indent taken off) begins with a step's or a
/// label's word, as the grammar's `step_word` reads it.
fn begins_step(line: &str) -> bool {
    FlowParser::parse(Rule::step_word, line).is_ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::tests::example as nth;
    use super::super::tests::{assert_same, edited, full, line_edited, sources, PIECES};
    use super::{halves, in_two, is_steps_line, lines, split_at};

    /// `text` read in two at every line after each of its `steps` lines:
    /// wherever the halves join, they join as a full parse reads it.
    /// Returns how many of how many splits joined.
    fn hold_splits(text: &str) -> (usize, usize) {
        let whole = full(text);
        let lines = lines(text);
        let heads = lines
            .iter()
            .filter(|(_, line)| is_steps_line(line))
            .map(|&(at, line)| at + line.len());
        let (mut joined, mut tried) = (0, 0);
        for head in heads {
            for &(split, _) in lines.iter().filter(|&&(at, _)| at > head) {
                tried += 1;
                if let Some(read) = in_two(text, head, split) {
                    joined += 1;
                    assert_same(&read, &whole, text);
                }
            }
        }
        (joined, tried)
    }

    /// Every example read in two at every line of its step lists joins,
    /// where it does, as a full parse reads it; and most examples join
    /// somewhere (between two top-level steps).
    #[test]
    fn halves_join_as_a_full_parse_reads() {
        let (mut joined, mut tried) = (0, 0);
        for text in sources() {
            let (more, of) = hold_splits(&text);
            (joined, tried) = (joined + more, tried + of);
        }
        assert!(joined * 8 > tried, "{joined} of {tried} splits joined");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Examples after edits a writer makes (errors included): read
        /// in two anywhere, they join only as a full parse reads them.
        #[test]
        fn halves_of_edited_examples_join_as_a_full_parse_reads(
            example in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<usize>()), 1..4),
        ) {
            let text = edits.into_iter().fold(nth(example), |text, (line, how, piece)| {
                line_edited(&text, line, how, piece)
            });
            hold_splits(&text);
        }

        /// Examples after any edits (stray quotes, carriage returns,
        /// half a block): read in two anywhere, they join only as a full
        /// parse reads them.
        #[test]
        fn halves_after_any_edits_join_as_a_full_parse_reads(
            example in any::<prop::sample::Index>(),
            edits in proptest::collection::vec(
                (any::<usize>(), 0usize..48, any::<prop::sample::Index>()),
                1..4,
            ),
        ) {
            let text = edits.into_iter().fold(nth(example), |text, (at, length, piece)| {
                edited(&text, at, length, PIECES[piece.index(PIECES.len())])
            });
            hold_splits(&text);
        }
    }

    /// A long step list is read in two where [`split_at`] says, as a full
    /// parse reads it.
    #[test]
    fn a_long_step_list_is_read_in_two() {
        let text = super::super::tests::long(4000);
        assert!(split_at(&text).is_some());
        let read = halves(&text).expect("read in two");
        assert_same(&read, &full(&text), "the long file");
    }

    /// A long step list followed by another item of its workflow (a
    /// goal) is never read in two as if the steps were all there was.
    #[test]
    fn an_item_after_a_long_step_list_is_not_left_out() {
        let text = super::super::tests::long(4000) + "  goal done when score > 5\n";
        let whole = full(&text);
        assert_eq!(whole.parsed.file.workflows[0].goals.len(), 1);
        if let Some(read) = halves(&text) {
            assert_same(&read, &whole, "the long file with a goal after its steps");
        }
    }

    /// A long step list with syntax errors in both halves (a misspelled
    /// step, a stray line) is read in two as well, each error where a
    /// full parse reports it: a file with a typo is not parsed twice.
    #[test]
    fn a_long_step_list_with_errors_is_read_in_two() {
        let mut text = super::super::tests::long(4000);
        for block in [1000, 3000] {
            let step = format!("    label s{block}\n    send email\n");
            let broken = format!("    label s{block}\n    sned email\n");
            text = text.replacen(&step, &broken, 1);
        }
        let stray = "    wait 2 hours\n    label s3500\n";
        text = text.replacen(stray, "    wait 2 hours\n    ) stray\n    label s3500\n", 1);
        let whole = full(&text);
        assert_eq!(
            whole.parsed.diagnostics.len(),
            3,
            "{:?}",
            whole.parsed.diagnostics
        );
        let read = halves(&text).expect("read in two");
        assert_same(&read, &whole, "the long file with errors");
    }
}
