//! The outline of a document (workflows, their fields, events, trigger,
//! goals and steps, nested as written) and the folding ranges it gives.

use crate::ast::{SourceFile, Step, StepKind};
use crate::span::Span;

use super::analysis::type_name;

/// An outline entry: a name, what it is, where, and what it holds.
pub struct Symbol {
    /// What it is called.
    pub name: String,
    /// Its detail (`text` for a field), unless its name says it already
    /// (`send email` for a step written `s1: send email`): large outlines
    /// stay small to send.
    pub detail: Option<String>,
    /// The kind of entry.
    pub kind: SymbolKind,
    /// The whole entry: nested steps and the closing `end` included.
    pub span: Span,
    /// What to select when the entry is picked: its name or first line.
    pub name_span: Span,
    /// Nested entries.
    pub children: Vec<Symbol>,
}

/// Kinds of outline entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A workflow.
    Workflow,
    /// A field.
    Field,
    /// An event, trigger or goal.
    Event,
    /// A step.
    Step,
}

/// The outline of a document.
pub fn outline(file: &SourceFile, text: &str) -> Vec<Symbol> {
    file.workflows
        .iter()
        .map(|workflow| {
            let mut children = Vec::new();
            for field in &workflow.fields {
                let span = field.name.span.to(field.ty.span);
                let detail = type_name(&field.ty);
                children.push(leaf(
                    &field.name.name,
                    &detail,
                    SymbolKind::Field,
                    span,
                    field.name.span,
                ));
            }
            for event in &workflow.events {
                let span = event
                    .fields
                    .iter()
                    .fold(event.name.span, |span, field| span.to(field.ty.span));
                children.push(leaf(
                    &event.name.name,
                    "event",
                    SymbolKind::Event,
                    span,
                    event.name.span,
                ));
            }
            for trigger in &workflow.triggers {
                let detail = first_line(text, trigger.span);
                children.push(leaf(
                    "trigger",
                    &detail,
                    SymbolKind::Event,
                    trigger.span,
                    trigger.span,
                ));
            }
            for goal in &workflow.goals {
                children.push(leaf(
                    &goal.name.name,
                    "goal",
                    SymbolKind::Event,
                    goal.span,
                    goal.name.span,
                ));
            }
            children.extend(
                workflow
                    .step_list()
                    .iter()
                    .map(|step| step_symbol(step, text)),
            );
            let end = children
                .iter()
                .map(|child| child.span.end)
                .max()
                .unwrap_or(workflow.header.end);
            Symbol {
                name: workflow.name.name.clone(),
                detail: Some("workflow".to_owned()),
                kind: SymbolKind::Workflow,
                span: Span::new(workflow.header.start as usize, end as usize),
                name_span: workflow.name.span,
                children,
            }
        })
        .collect()
}

fn leaf(name: &str, detail: &str, kind: SymbolKind, span: Span, name_span: Span) -> Symbol {
    Symbol {
        name: name.to_owned(),
        detail: Some(detail.to_owned()),
        kind,
        span,
        name_span,
        children: Vec::new(),
    }
}

fn step_symbol(step: &Step, text: &str) -> Symbol {
    let written = first_line(text, step.span);
    let detail = match &step.kind {
        StepKind::Effect(effect) => effect.action.describe(),
        StepKind::Condition(_) => "condition",
        StepKind::Split(_) => "split",
        StepKind::Wait(_)
        | StepKind::WaitUntil(_)
        | StepKind::WaitUntilField(_)
        | StepKind::WaitForEvent(_)
        | StepKind::WaitBusinessDays(_) => "wait",
        StepKind::Goto(_) => "goto",
        StepKind::Exit(_) => "exit",
    };
    let children: Vec<Symbol> = step
        .blocks()
        .into_iter()
        .map(|block| {
            let start = line_head(text, block.span.start as usize);
            let mut symbol = leaf(
                &block.title,
                block.kind.name(),
                SymbolKind::Event,
                Span::new(start, extent(text, start, false)),
                block.span,
            );
            symbol.detail = unless_said(&block.title, block.kind.name());
            symbol.children = block
                .steps
                .iter()
                .map(|step| step_symbol(step, text))
                .collect();
            symbol
        })
        .collect();
    let start = step.span.start as usize;
    let first = text[start..].find('\n').map_or(text.len(), |at| start + at);
    Symbol {
        detail: unless_said(&written, detail),
        name: match &step.label {
            Some(label) => format!("{}: {written}", label.name),
            None => written,
        },
        kind: SymbolKind::Step,
        span: Span::new(start, extent(text, start, !children.is_empty())),
        name_span: Span::new(start, first.min(step.span.end as usize).max(start)),
        children,
    }
}

/// `detail`, unless `written` begins with it.
fn unless_said(written: &str, detail: &str) -> Option<String> {
    let said = written
        .strip_prefix(detail)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '));
    (!said).then(|| detail.to_owned())
}

/// Where the text of the line holding `offset` starts, past its indent.
fn line_head(text: &str, offset: usize) -> usize {
    let line_start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start_matches(' ').len();
    line_start + indent
}

/// The end of what the line at `start` heads: every line after it indented
/// deeper (blank lines and comments in between aside), and, with `closed`,
/// the `end` line at its own indent that closes it.
fn extent(text: &str, start: usize, closed: bool) -> usize {
    let indent = start - text[..start].rfind('\n').map_or(0, |at| at + 1);
    let mut end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    let mut at = end + 1;
    while at < text.len() {
        let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n);
        let trimmed = text[at..line_end].trim_start();
        let column = line_end - at - trimmed.len();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            if column > indent {
                end = line_end;
            } else {
                let word = trimmed
                    .split(|c: char| c.is_whitespace() || c == '#')
                    .next();
                if closed && column == indent && word == Some("end") {
                    end = line_end;
                }
                break;
            }
        }
        at = line_end + 1;
    }
    end
}

/// The first line of a span, spaces squeezed, for outlines.
pub fn first_line(text: &str, span: Span) -> String {
    let line = text.get(span.range()).unwrap_or_default().lines().next();
    line.unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines that fold: every outline entry over more than one line, and every
/// `"""` body; as (first line, last line), zero-based.
pub fn folds(symbols: &[Symbol], text: &str) -> Vec<(usize, usize)> {
    let index = crate::span::LineIndex::new(text);
    let mut folds = Vec::new();
    let mut stack: Vec<&Symbol> = symbols.iter().collect();
    while let Some(symbol) = stack.pop() {
        let first = index.line_of(symbol.span.start as usize);
        let last = index.line_of(symbol.span.end as usize);
        if last > first {
            folds.push((first, last));
        }
        stack.extend(&symbol.children);
    }
    let mut quotes = text.match_indices("\"\"\"").map(|(at, _)| at);
    while let (Some(open), Some(close)) = (quotes.next(), quotes.next()) {
        let (first, last) = (index.line_of(open), index.line_of(close));
        if last > first {
            folds.push((first, last));
        }
    }
    folds.sort_unstable();
    folds.dedup();
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outline as text: each entry's name, detail, kind, lines
    /// (from 1) and selected columns, nested by indentation.
    fn render(symbols: &[Symbol], text: &str, depth: usize, out: &mut String) {
        let index = crate::span::LineIndex::new(text);
        for symbol in symbols {
            let (first, _) = index.line_column(symbol.span.start as usize);
            let (last, _) = index.line_column(symbol.span.end as usize);
            let (line, from) = index.line_column(symbol.name_span.start as usize);
            let (_, to) = index.line_column(symbol.name_span.end as usize);
            let detail = symbol.detail.as_deref().unwrap_or("-");
            out.push_str(&format!(
                "{:indent$}{} [{detail}] {:?} lines {first}-{last}, name {line}:{from}-{to}\n",
                "",
                symbol.name,
                symbol.kind,
                indent = depth * 2
            ));
            render(&symbol.children, text, depth + 1, out);
        }
    }

    /// The outline of every example and of the file that holds every
    /// construct of the language.
    #[test]
    fn outlines_of_the_examples() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<_> = std::fs::read_dir(root.join("examples"))
            .expect("examples")
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "flow"))
            .collect();
        paths.sort();
        paths.push(root.join("editors/tests/every-construct.flow"));
        let mut out = String::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable");
            let file = crate::syntax::parse(&text).file;
            let name = path.strip_prefix(root).unwrap_or(&path);
            out.push_str(&format!("== {}\n", name.display()));
            render(&outline(&file, &text), &text, 0, &mut out);
        }
        insta::assert_snapshot!(out);
    }
}
