use proptest::prelude::*;

use super::*;
use crate::syntax::tokens;

/// The reading of `text` from three parses, as the language server
/// has it after a full read.
pub(super) fn full(text: &str) -> Readings {
    Readings {
        parsed: crate::syntax::parse(text),
        tokens: tokens::tokens(text),
        outline: crate::syntax::outline(text),
    }
}

/// `read` made the reading of `next`, if it can be in place.
fn again(mut read: Readings, text: &str, next: &str) -> Option<Readings> {
    reread(&mut read, text, next).then_some(read)
}

pub(super) fn assert_same(reread: &Readings, full: &Readings, text: &str) {
    let errors = |read: &Readings| format!("{:?}", read.parsed.diagnostics);
    assert_eq!(errors(reread), errors(full), "errors of\n{text}");
    assert_eq!(reread.parsed.file, full.parsed.file, "tree of\n{text}");
    let units = (&reread.parsed.units, &full.parsed.units);
    assert_eq!(units.0, units.1, "units of\n{text}");
    assert_eq!(reread.tokens, full.tokens, "tokens of\n{text}");
    assert_eq!(reread.outline, full.outline, "outline of\n{text}");
}

/// Every example, and a long generated one.
pub(super) fn sources() -> Vec<String> {
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

/// The example (or the long generated source) at `index`.
pub(super) fn example(index: prop::sample::Index) -> String {
    let sources = sources();
    sources[index.index(sources.len())].clone()
}

/// Text an edit puts in: pieces of the language, line breaks, and
/// what breaks lines and blocks (quotes, comments, `end`).
pub(super) const PIECES: &[&str] = &[
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
    "è",
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
pub(super) fn edited(text: &str, at: usize, length: usize, piece: &str) -> String {
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

/// Lines a line-wise edit inserts, indented as the line they go before:
/// steps, and settings and sections.
const LINES: &[&str] = &[
    "wait 2 days\n",
    "trigger when email is set\n",
    "goal won when score > 90\n",
    "fields\n  extra text\n",
    "timezone UTC\n",
    "event booked\n  at datetime\n",
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
pub(super) fn line_edited(text: &str, line: usize, how: usize, piece: usize) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = line % lines.len().max(1);
    let mut out: Vec<String> = lines.iter().map(|line| line.to_string()).collect();
    let Some(current) = lines.get(at) else {
        return text.to_owned();
    };
    let indent = &current[..current.len() - current.trim_start_matches(' ').len()];
    match how % 4 {
        0 => {
            let step = LINES[piece % LINES.len()];
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
    let read = again(full(text), text, &changed).expect("read again in place");
    assert_same(&read, &full(&changed), &changed);
}

/// A workflow of `blocks` labelled blocks: a send with options, a
/// condition with nested steps, a wait.
pub(super) fn long(blocks: usize) -> String {
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
        read = again(read, &text, &next).unwrap_or_else(|| panic!("edit {n} read whole"));
        assert_same(&read, &full(&next), &next);
        text = next;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = lines
        .iter()
        .position(|line| line.trim() == "label s20")
        .expect("a label");
    let dropped = [&lines[..at], &lines[at + 11..]].concat().concat();
    let read = again(read, &text, &dropped).expect("a block taken out is read in place");
    assert_same(&read, &full(&dropped), &dropped);
}

#[test]
fn the_header_and_lines_around_the_steps_are_read_in_place_too() {
    let text = "workflow w\n  fields\n    score number\n  trigger when score > 1\n  steps\n    wait 2 days\n    exit\n  goal won when score > 90\n";
    for (from, to) in [
        ("workflow w", "workflow renamed"),
        ("score > 1\n", "score > 10\n"),
        ("    score number\n", "    score number\n    tier text\n"),
        ("  trigger", "  timezone UTC\n  trigger"),
    ] {
        let changed = text.replace(from, to);
        let read =
            again(full(text), text, &changed).unwrap_or_else(|| panic!("{from:?} read whole"));
        assert_same(&read, &full(&changed), &changed);
    }
}

/// A line break `\r` (alone or before `\n`) typed anywhere: a step read
/// again starts where the parser's line does, not on a line before it
/// (which read the step before again and again, without end), and its
/// outline measures the indent the outline's lines give.
#[test]
fn carriage_returns_typed_anywhere_are_line_breaks() {
    let text = long(3);
    for at in 0..text.len() {
        for piece in ["\r", "\r\n"] {
            let changed = format!("{}{piece}{}", &text[..at], &text[at..]);
            if let Some(read) = again(full(&text), &text, &changed) {
                assert_same(&read, &full(&changed), &changed);
            }
        }
    }
}

#[test]
fn a_whole_step_list_or_an_item_of_a_file_with_errors_is_left_to_a_full_parse() {
    let text = "workflow w\n  steps\n    wait 2 days\n    exit\n  goal won when email is set\n";
    assert!(again(full(text), text, &text.replace("  steps", "  steps # all")).is_none());
    // The line after a step list decides where it ends.
    assert!(again(full(text), text, &text.replace("won when", "done when")).is_none());
    assert!(again(full(text), text, &text.replace("workflow w", "workflows w")).is_none());
    let broken = text.replace("exit", "exit now");
    assert!(again(
        full(&broken),
        &broken,
        &broken.replace("won when", "won if")
    )
    .is_none());
}

/// Settings and sections are read in place beside errors elsewhere and
/// with errors of their own (an event with a bad name is in the outline
/// but not the tree); a stray line among the items is read whole (a
/// stray line after it would be one more of a run).
#[test]
fn items_with_errors_are_read_in_place() {
    let text = "workflow w\n  fields\n    score number\n  trigger when score > 1\n  goal won when score > 90\n  steps\n    wait 2 dayz\n    exit\n";
    let unset = text.replace("    score number", "    score numbr");
    let edits = [
        (text, "score > 1\n", "score > 10\n"),
        (text, "won when", "lost when"),
        (
            text,
            "    score number\n",
            "    score number\n    tier text\n",
        ),
        (text, "score > 1\n", "score >\n"),
        (text, "won when score > 90", "won when score > 90 and"),
        (&unset, "won when", "lost when"),
        (&unset, "numbr", "number"),
        (text, "  goal", "  event 9x\n  goal"),
    ];
    for (text, from, to) in edits {
        let changed = text.replace(from, to);
        let read = again(full(text), text, &changed).unwrap_or_else(|| panic!("{to:?} read whole"));
        assert_same(&read, &full(&changed), &changed);
    }
    for (from, to) in [("  goal", "  bogus\n  goal"), ("  goal", "  event\n  goal")] {
        let changed = text.replace(from, to);
        assert!(again(full(text), text, &changed).is_none(), "{to:?}");
    }
}

/// With the `steps` line deleted, its steps are stray lines of the section
/// before: the step list is gone, not kept (found by the property tests).
#[test]
fn a_step_list_whose_steps_line_is_deleted_is_not_kept() {
    // The last step becomes a window line with an error, not a stray line:
    // the section before ends as after no error.
    let text = "workflow w\n  windows\n    email mon-fri 08:00-18:00\n  steps\n    wait 1 day\n    call phone\n  goal won when email is set\n";
    let changed = text.replace("  steps\n", "");
    if let Some(read) = again(full(text), text, &changed) {
        assert_same(&read, &full(&changed), &changed);
    }
}

/// Misspelling a step, then the next one, then mending both, in the
/// middle of a long list: each is read in place, errors included.
#[test]
fn syntax_errors_in_a_step_list_are_read_in_place() {
    let mut text = long(40);
    let mut read = full(&text);
    let edits = [
        (
            "    send email\n      subject \"Step 20",
            "    send emial\n      subject \"Step 20",
        ),
        (
            "    wait 2 hours\n    label s21",
            "    wait 2 hourz\n    label s21",
        ),
        ("branch b21 when score > 21", "branch b21 when score >"),
        ("send emial", "send email"),
        ("wait 2 hourz", "wait 2 hours"),
        ("branch b21 when score >\n", "branch b21 when score > 21\n"),
    ];
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        let next = text.replacen(from, to, 1);
        read = again(read, &text, &next).unwrap_or_else(|| panic!("{to:?} read whole"));
        assert_same(&read, &full(&next), &next);
        text = next;
    }
    assert!(read.parsed.diagnostics.is_empty());
}

/// A label before a step that does not read waits for the next step read
/// (the full parse gives it to the step after), across units read again.
#[test]
fn a_label_waits_past_a_step_that_does_not_read() {
    let text = "workflow w\n  steps\n    wait 1 day\n    label a\n    wait until 09:00\n    send email\n      subject \"x\"\n    label b\n    exit\n";
    for (from, to) in [
        ("wait until 09:00", "wait # note\nuntil 09:00"),
        ("wait until 09:00", "wait until"),
        ("    send email\n", "    label c\n    send email\n"),
        ("    label b\n", "    label b\n    label d\n"),
    ] {
        let changed = text.replace(from, to);
        let read = again(full(text), text, &changed).unwrap_or_else(|| panic!("{to:?} read whole"));
        assert_same(&read, &full(&changed), &changed);
        let back =
            again(read, &changed, text).unwrap_or_else(|| panic!("{to:?} undone read whole"));
        assert_same(&back, &full(text), text);
    }
}

/// A unit read with a label waiting is no place to read again from, but
/// a step further in it may be (found by the property tests).
#[test]
fn a_unit_after_a_waiting_label_keeps_its_later_starts() {
    let text = "workflow w\n  steps\n    wait 1 day\n    label a\n    http post \"https://x.example/a\"\n    label    end\n    timeout 5s\n    wait 2 days\n    exit\n";
    let changed = text.replace("/a\"", "/a");
    let read = again(full(text), text, &changed).expect("read in place");
    assert_same(&read, &full(&changed), &changed);
}

/// A stray line nested at the end of a step list and one right after the
/// list are one run, reported once: reading the list again must not keep
/// the report of the line after it (found by the property tests).
#[test]
fn a_run_of_stray_lines_past_a_list_is_read_whole() {
    let text = "workflow w\n  steps\n    wait 1 day\n    condition\n      branch a when score > 1\n        wait 1 day\n event\n";
    let changed = text.replace("        wait 1 day", "ait 1 day");
    if let Some(read) = again(full(text), text, &changed) {
        assert_same(&read, &full(&changed), &changed);
    }
}

/// A text opened and never closed reaches to the end of the file: the
/// steps after it are read whole.
#[test]
fn an_error_reaching_past_its_step_is_read_whole() {
    let text = long(3);
    let changed = text.replacen("body \"Block 1\"", "body \"\"\"Block 1", 1);
    assert!(again(full(&text), &text, &changed).is_none());
}

/// Makes each edit in turn to an example: each re-reading, when it is
/// made, is the full parse of the edited text.
fn hold_edits<E>(example: prop::sample::Index, edits: Vec<E>, edit: impl Fn(&str, E) -> String) {
    let mut text = self::example(example);
    let mut read = full(&text);
    for each in edits {
        let next = edit(&text, each);
        read = match again(read, &text, &next) {
            Some(reread) => {
                assert_same(&reread, &full(&next), &next);
                reread
            }
            None => full(&next),
        };
        text = next;
    }
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
        hold_edits(example, edits, |text, (line, how, piece)| line_edited(text, line, how, piece));
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
        hold_edits(example, edits, |text, (at, length, piece)| {
            edited(text, at, length, PIECES[piece.index(PIECES.len())])
        });
    }
}

/// `é` to `è` differ in their second byte: the edit starts at the first
/// (slicing at the second panicked, and ended the language server).
#[test]
fn an_edit_inside_a_character_is_read_from_its_start() {
    let text = "workflow w\n  steps\n    send email\n      subject \"café\"\n    exit\n";
    for (from, to) in [("café", "cafè"), ("café", "caféé"), ("café\"", "caf\"")] {
        let changed = text.replace(from, to);
        let read = again(full(text), text, &changed).unwrap_or_else(|| panic!("{to} read whole"));
        assert_same(&read, &full(&changed), &changed);
    }
}

/// A workflow's header line may be indented; read again after an edit
/// (from the start of its line), it still starts at its keyword, as in a
/// full parse.
#[test]
fn an_indented_header_read_again_starts_at_its_keyword() {
    let text = "workflow a\n  steps\n    exit\n workflow other\n  steps\n    exit\n";
    let changed = text.replace("other", "otend");
    let read = again(full(text), text, &changed).expect("read in place");
    assert_same(&read, &full(&changed), &changed);
}
