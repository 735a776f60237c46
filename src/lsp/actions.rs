//! Quick fixes: every "did you mean `X`?" a diagnostic suggests becomes a
//! code action that writes `X` in place of the misspelt word.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionParams, TextEdit, Uri, WorkspaceEdit};

use super::documents::Open;
use super::position::LineIndex;
use crate::span::Span;

/// The quick fixes for the diagnostics the client sends along.
pub fn quick_fixes(open: &Open, uri: &Uri, params: CodeActionParams) -> Vec<CodeAction> {
    let index = LineIndex::new(&open.text);
    let mut actions = Vec::new();
    for diagnostic in &params.context.diagnostics {
        if diagnostic.source.as_deref() != Some("flowc") {
            continue;
        }
        let start = index.offset(diagnostic.range.start);
        let end = index.offset(diagnostic.range.end).max(start);
        for suggestion in suggestions(&diagnostic.message) {
            let Some(word) = misspelt(&open.text, Span::new(start, end), suggestion) else {
                continue;
            };
            let edit = TextEdit::new(index.range(word), suggestion.to_owned());
            actions.push(CodeAction {
                title: format!("Change to `{suggestion}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit::new(HashMap::from([(
                    uri.clone(),
                    vec![edit],
                )]))),
                is_preferred: Some(actions.is_empty()),
                ..CodeAction::default()
            });
        }
    }
    actions
}

/// The names in backticks after "did you mean", up to its `?`.
fn suggestions(message: &str) -> Vec<&str> {
    let Some(at) = message.find("did you mean") else {
        return Vec::new();
    };
    let rest = &message[at..];
    let question = rest.find('?').unwrap_or(rest.len());
    rest[..question].split('`').skip(1).step_by(2).collect()
}

/// The word in `span` the suggestion replaces: the one closest to it (the
/// span may hold more than the word, such as a whole template).
fn misspelt(text: &str, span: Span, suggestion: &str) -> Option<Span> {
    let inside = text.get(span.range())?;
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/' | '+');
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in inside.char_indices().chain([(inside.len(), ' ')]) {
        match (is_word(c), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                words.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    words
        .into_iter()
        .filter(|(from, to)| &inside[*from..*to] != suggestion)
        .map(|(from, to)| {
            (
                strsim::jaro_winkler(&inside[from..to], suggestion),
                from,
                to,
            )
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, from, to)| Span::new(span.start as usize + from, span.start as usize + to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_the_help() {
        assert_eq!(
            suggestions("unknown field\nhelp: did you mean `lead_score`?"),
            ["lead_score"]
        );
        assert_eq!(
            suggestions(
                "no timezone\nhelp: did you mean `America/New_York`, `America/Toronto` or `UTC`?"
            ),
            ["America/New_York", "America/Toronto", "UTC"]
        );
        assert_eq!(
            suggestions("did you mean `first`? If not, declare it with `label first`"),
            ["first"]
        );
        assert!(suggestions("help: declare it under `fields`").is_empty());
    }

    #[test]
    fn the_misspelt_word_is_found_in_a_wider_span() {
        let text = "subject \"Hi {{ frist_name | upper }}\"";
        let span = Span::new(12, 34);
        let word = misspelt(text, span, "first_name").expect("a word");
        assert_eq!(&text[word.range()], "frist_name");
    }
}
