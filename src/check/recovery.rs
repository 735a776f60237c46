//! Checking a file that has syntax errors.
//!
//! The parser recovers line by line: a line it cannot read is reported and
//! left out of the tree, and the rest is built as written. The checker runs
//! on that tree, so one typo does not hide the type errors, unknown fields
//! and bad options further down. What it then says is filtered: a
//! diagnostic that the missing line could explain is held back, since
//! fixing the syntax error may make it go away.

use crate::ast::{SourceFile, Step, StepKind};
use crate::diagnostic::Diagnostic;
use crate::graph::inner_blocks;
use crate::span::Span;

/// The semantic diagnostics of `file` that no line the parser left out
/// (the lines of `syntax`, its errors) can explain.
pub(super) fn independent(
    semantic: Vec<Diagnostic>,
    syntax: &[Diagnostic],
    file: &SourceFile,
    source: &str,
) -> Vec<Diagnostic> {
    let dropped = Dropped::new(syntax, file, source);
    semantic
        .into_iter()
        .filter(|diagnostic| !dropped.may_explain(diagnostic, source))
        .collect()
}

/// What the parser left out: the lines it could not read, and what they
/// may have held, worked out once for all the diagnostics to be sorted.
struct Dropped<'a> {
    /// The text of each unreadable line.
    texts: Vec<&'a str>,
    /// The extent of each workflow with a line left out (its header to
    /// the next one's).
    broken: Vec<Span>,
    /// Where each step that a left-out line follows starts (the step whose
    /// options that line may have been), sorted.
    before_dropped: Vec<usize>,
    /// Where each split that a left-out `variant` line follows starts
    /// (no other split between them), sorted.
    variant_dropped: Vec<usize>,
}

impl<'a> Dropped<'a> {
    fn new(syntax: &[Diagnostic], file: &SourceFile, source: &'a str) -> Self {
        let lines: Vec<Span> = syntax
            .iter()
            .map(|diagnostic| whole_line(source, diagnostic.span()))
            .collect();
        let texts: Vec<&str> = lines
            .iter()
            .map(|line| source.get(line.range()).unwrap_or_default())
            .collect();
        let starts: Vec<usize> = file
            .workflows
            .iter()
            .map(|workflow| workflow.header.range().start)
            .collect();
        let broken = starts
            .iter()
            .enumerate()
            .map(|(index, &start)| {
                Span::new(
                    start,
                    starts.get(index + 1).copied().unwrap_or(source.len()),
                )
            })
            .filter(|workflow| {
                lines
                    .iter()
                    .any(|line| contains(*workflow, line.range().start))
            })
            .collect();
        let mut steps = Vec::new();
        let mut splits = Vec::new();
        for workflow in &file.workflows {
            step_starts(workflow.step_list(), &mut steps, &mut splits);
        }
        steps.sort_unstable();
        splits.sort_unstable();
        let last_before = |starts: &[usize], line: &Span| {
            let before = starts.partition_point(|&start| start < line.range().start);
            before.checked_sub(1).map(|index| starts[index])
        };
        let mut before_dropped: Vec<usize> = lines
            .iter()
            .filter_map(|line| last_before(&steps, line))
            .collect();
        let mut variant_dropped: Vec<usize> = lines
            .iter()
            .zip(&texts)
            .filter(|(_, text)| text.split_whitespace().next() == Some("variant"))
            .filter_map(|(line, _)| last_before(&splits, line))
            .collect();
        for starts in [&mut before_dropped, &mut variant_dropped] {
            starts.sort_unstable();
            starts.dedup();
        }
        Dropped {
            texts,
            broken,
            before_dropped,
            variant_dropped,
        }
    }

    /// Whether a left-out line may be why `diagnostic` is reported.
    fn may_explain(&self, diagnostic: &Diagnostic, source: &str) -> bool {
        let code = diagnostic.code();
        let at = diagnostic.span();
        match code.as_str() {
            // A name declared, or a label set, on a line left out.
            "E0101" | "E0104" | "E0109" => {
                let name = source.get(at.range()).unwrap_or_default();
                let name = name.strip_prefix("event.").unwrap_or(name);
                self.texts.iter().any(|text| mentions(text, name))
            }
            // A trigger or the steps left out.
            "E0107" => self.in_broken_workflow(at),
            // An option left out of the step the line follows.
            "E0112" | "E0401" => self.in_step_before_a_dropped_line(at),
            // A variant of this split left out.
            "E0117" | "E0118" => self.variant_dropped_in_split(at),
            // The step graph, with steps or branches left out.
            _ if code.starts_with("E05") || matches!(code.as_str(), "W0001" | "W0002") => {
                self.in_broken_workflow(at)
            }
            _ => false,
        }
    }

    /// Whether `at` is in a workflow with a line left out.
    fn in_broken_workflow(&self, at: Span) -> bool {
        self.broken
            .iter()
            .any(|workflow| contains(*workflow, at.range().start))
    }

    /// Whether `at` starts the last step before a line left out (whose
    /// options that line may have been).
    fn in_step_before_a_dropped_line(&self, at: Span) -> bool {
        self.before_dropped.binary_search(&at.range().start).is_ok()
    }

    /// Whether a `variant` line left out follows the split at `at` (with
    /// no other split between them).
    fn variant_dropped_in_split(&self, at: Span) -> bool {
        self.variant_dropped
            .binary_search(&at.range().start)
            .is_ok()
    }
}

/// Where each step, and each split, of `steps` starts.
fn step_starts(steps: &[Step], out: &mut Vec<usize>, splits: &mut Vec<usize>) {
    for step in steps {
        out.push(step.span.range().start);
        if matches!(step.kind, StepKind::Split(_)) {
            splits.push(step.span.range().start);
        }
        for block in inner_blocks(step) {
            step_starts(block, out, splits);
        }
    }
}

/// The whole line (or lines) `span` is on.
fn whole_line(source: &str, span: Span) -> Span {
    let span = span.range();
    let start = source
        .get(..span.start.min(source.len()))
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |at| at + 1);
    let end = span.end.clamp(start, source.len());
    let end = source
        .get(end..)
        .and_then(|after| after.find('\n'))
        .map_or(source.len(), |at| end + at);
    Span::new(start, end)
}

fn contains(outer: Span, at: usize) -> bool {
    let outer = outer.range();
    outer.start <= at && at < outer.end.max(outer.start + 1)
}

/// Whether `text` has `name` as a whole word (names may hold `-`).
fn mentions(text: &str, name: &str) -> bool {
    !name.is_empty()
        && text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .any(|word| word == name)
}

#[cfg(test)]
mod tests {
    use crate::check::check_source;

    /// The codes `check` reports for `source`, in order.
    fn codes(source: &str) -> Vec<String> {
        check_source(source, None, None)
            .iter()
            .map(|diagnostic| diagnostic.code())
            .collect()
    }

    #[test]
    fn errors_after_a_syntax_error_are_reported() {
        let source = "workflow demo\n  trigger when email is set\n  steps\n    wait 2 dayz\n    send text\n      body \"{{ nmae }}\"\n";
        assert_eq!(codes(source), ["E0001", "E0101"]);
    }

    #[test]
    fn what_a_left_out_line_explains_is_held_back() {
        // The misspelt option leaves the email without a subject.
        let option = "workflow demo\n  trigger when email is set\n  steps\n    send email\n      to lead\n      subjct \"Hi\"\n      body \"x\"\n";
        assert_eq!(codes(option), ["E0001"]);
        // A bad trigger line leaves the workflow without a trigger.
        let trigger = "workflow demo\n  trigger wen email is set\n  steps\n    wait 1 day\n";
        assert_eq!(codes(trigger), ["E0001"]);
        // A bad label line leaves its goto without a target.
        let label = "workflow demo\n  trigger when email is set\n  steps\n    label again!\n    wait 1 day\n    goto again\n";
        assert!(
            !codes(label).contains(&"E0104".to_owned()),
            "{:?}",
            codes(label)
        );
        // A step left out of a loop may have been its wait.
        let looping = "workflow demo\n  trigger when email is set\n  steps\n    label top\n    wait 1 dya\n    goto top\n";
        assert_eq!(codes(looping), ["E0001"]);
    }

    #[test]
    fn a_syntax_error_in_one_workflow_keeps_the_graph_checks_of_another() {
        let source = "workflow one\n  trigger when email is set\n  steps\n    wait 1 dya\n    goto nowhere\nworkflow two\n  trigger when email is set\n  steps\n    label top\n    goto top\n";
        assert_eq!(codes(source), ["E0001", "E0104", "E0502"]);
    }
}
