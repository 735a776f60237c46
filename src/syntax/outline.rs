//! The outline of a source (workflows, their fields, events, trigger,
//! goals and steps, nested as written), read off the pest parse as the
//! tokens are, without building the syntax tree: the language server's
//! outline and folding ranges are ready as soon as the parse is done.

use pest::iterators::{Pair, Pairs};

use super::{span, workflow_start, Rule};
use crate::span::Span;

/// An outline entry: a name, what it is, where, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// The outline of a parse of `text`: each workflow with its fields,
/// events, triggers, goals and steps, in that order.
pub(super) fn outline(pairs: Pairs<'_, Rule>, text: &str) -> Vec<Symbol> {
    pairs
        .flat_map(Pair::into_inner)
        .filter(|pair| pair.as_rule() == Rule::workflow)
        .map(|pair| workflow(pair, text))
        .collect()
}

/// A workflow, spanning its header to its last entry.
pub(super) fn workflow(pair: Pair<'_, Rule>, text: &str) -> Symbol {
    let start = workflow_start(&pair);
    let header_end = line_end(text, start);
    let mut name = None;
    let mut groups: [Vec<Symbol>; 5] = Default::default();
    for item in pair.into_inner() {
        match item.as_rule() {
            Rule::name if name.is_none() => name = Some(item),
            _ => {
                if let Some((group, entries)) = entries(item, text) {
                    groups[group as usize].extend(entries);
                }
            }
        }
    }
    let children: Vec<Symbol> = groups.into_iter().flatten().collect();
    let end = children
        .iter()
        .map(|child| child.span.end as usize)
        .max()
        .unwrap_or(header_end);
    let (name, name_span) = name.map_or_else(
        || (String::new(), Span::new(start, header_end)),
        |name| (name.as_str().to_owned(), span(&name)),
    );
    Symbol {
        name,
        detail: Some("workflow".to_owned()),
        kind: SymbolKind::Workflow,
        span: Span::new(start, end),
        name_span,
        children,
    }
}

/// The lists of a workflow's outline, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Group {
    Fields,
    Events,
    Triggers,
    Goals,
    Steps,
}

/// The outline entries of a workflow's item, and the list they go to;
/// `None` for an item the outline leaves out (a setting, windows).
pub(super) fn entries(item: Pair<'_, Rule>, text: &str) -> Option<(Group, Vec<Symbol>)> {
    Some(match item.as_rule() {
        Rule::fields_section => (Group::Fields, item.into_inner().filter_map(field).collect()),
        Rule::event_section => (Group::Events, vec![event(item)]),
        Rule::trigger => {
            let span = head_span(item);
            let detail = first_line(text, span);
            let trigger = leaf("trigger", &detail, SymbolKind::Event, (span, span));
            (Group::Triggers, vec![trigger])
        }
        Rule::goal => (Group::Goals, goal(item).into_iter().collect()),
        Rule::steps_section => (Group::Steps, step_list(item.into_inner(), text)),
        _ => return None,
    })
}

/// A field of a `fields` section, with its type as detail.
fn field(pair: Pair<'_, Rule>) -> Option<Symbol> {
    let mut parts = pair.into_inner();
    let name = parts.find(|part| part.as_rule() == Rule::name)?;
    let ty = parts.find(|part| part.as_rule() == Rule::field_type)?;
    let spans = (span(&name).to(span(&ty)), span(&name));
    Some(leaf(
        name.as_str(),
        &squeezed(ty.as_str()),
        SymbolKind::Field,
        spans,
    ))
}

/// An event, over its payload fields.
fn event(pair: Pair<'_, Rule>) -> Symbol {
    let head = Span::new(pair.as_span().start(), pair.as_span().start());
    let mut name = None;
    let mut whole = head;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::name => {
                whole = span(&part);
                name = Some(part);
            }
            Rule::field_decl => {
                let ty = part.into_inner().find(|p| p.as_rule() == Rule::field_type);
                whole = ty.map_or(whole, |ty| whole.to(span(&ty)));
            }
            _ => {}
        }
    }
    let (written, name_span) = name.map_or(("", head), |name| (name.as_str(), span(&name)));
    leaf(written, "event", SymbolKind::Event, (whole, name_span))
}

/// A goal, named.
fn goal(pair: Pair<'_, Rule>) -> Option<Symbol> {
    let whole = head_span(pair.clone());
    let head = pair
        .into_inner()
        .find(|part| part.as_rule() == Rule::goal_head)?;
    let name = head
        .into_inner()
        .find(|part| part.as_rule() == Rule::name)?;
    Some(leaf(
        name.as_str(),
        "goal",
        SymbolKind::Event,
        (whole, span(&name)),
    ))
}

/// The steps among `items`, each with the label before it.
pub(super) fn step_list<'i>(
    items: impl Iterator<Item = Pair<'i, Rule>>,
    text: &str,
) -> Vec<Symbol> {
    let mut label = None;
    let mut steps = Vec::new();
    for item in items {
        match item.as_rule() {
            Rule::label_line => {
                label = item.into_inner().find(|part| part.as_rule() == Rule::name);
            }
            Rule::step => steps.push(step(item, label.take().map(|l| l.as_str()), text)),
            _ => {}
        }
    }
    steps
}

/// A step, named by its first line (which begins with what it does, so
/// it needs no detail).
fn step(pair: Pair<'_, Rule>, label: Option<&str>, text: &str) -> Symbol {
    let whole = span(&pair);
    let start = whole.start as usize;
    let written = first_line(text, whole);
    let children = pair
        .into_inner()
        .next()
        .map_or_else(Vec::new, |inner| blocks(inner, text));
    let first = line_end(text, start).min(whole.end as usize);
    Symbol {
        detail: None,
        name: match label {
            Some(label) => format!("{label}: {written}"),
            None => written,
        },
        kind: SymbolKind::Step,
        span: Span::new(start, extent(text, start, !children.is_empty())),
        name_span: Span::new(start, first),
        children,
    }
}

/// The blocks of a step (branches, variants, outcomes), each holding the
/// steps nested in it.
fn blocks(step: Pair<'_, Rule>, text: &str) -> Vec<Symbol> {
    let arms = step.into_inner().flat_map(|part| match part.as_rule() {
        Rule::outcome_block | Rule::failure_block | Rule::wait_block | Rule::event_block => {
            part.into_inner().collect()
        }
        Rule::branch | Rule::else_branch | Rule::variant => vec![part],
        _ => Vec::new(),
    });
    arms.filter_map(|arm| block(arm, text)).collect()
}

/// A block: how it is headed, the part of its line to select, what kind
/// of block it is when the heading does not say (`else` is a branch, `on
/// answered` an outcome), and its steps.
fn block(arm: Pair<'_, Rule>, text: &str) -> Option<Symbol> {
    let rule = arm.as_rule();
    let start = arm.as_span().start();
    let mut parts = arm.into_inner();
    let (title, selected, kind) = match rule {
        Rule::branch | Rule::variant => {
            let (head, word) = match rule {
                Rule::branch => (Rule::branch_head, "branch"),
                _ => (Rule::variant_head, "variant"),
            };
            let head = parts.find(|part| part.as_rule() == head)?;
            let selected = Span::new(start, head.as_span().end());
            let name = head.into_inner().next()?;
            (format!("{word} {}", name.as_str()), selected, None)
        }
        Rule::else_branch => {
            let word = parts.find(|part| part.as_rule() == Rule::kw_else)?;
            ("else".to_owned(), span(&word), Some("branch"))
        }
        Rule::failure_branch => {
            let word = parts.find(|part| part.as_rule() == Rule::kw_error)?;
            (
                "on error".to_owned(),
                Span::new(start, word.as_span().end()),
                Some("outcome"),
            )
        }
        _ => {
            let (case, kind, word) = match rule {
                Rule::outcome_branch => (Rule::outcome, Some("outcome"), "on"),
                Rule::wait_branch => (Rule::wait_case, Some("branch"), "if"),
                _ => (Rule::event_case, Some("branch"), "on"),
            };
            let case = parts.find(|part| part.as_rule() == case)?;
            (
                format!("{word} {}", squeezed(case.as_str())),
                span(&case),
                kind,
            )
        }
    };
    let head = line_head(text, selected.start as usize);
    Some(Symbol {
        detail: kind.map(str::to_owned),
        kind: SymbolKind::Event,
        span: Span::new(head, extent(text, head, false)),
        name: title,
        name_span: selected,
        children: step_list(parts, text),
    })
}

fn leaf(name: &str, detail: &str, kind: SymbolKind, spans: (Span, Span)) -> Symbol {
    let (span, name_span) = spans;
    Symbol {
        name: name.to_owned(),
        detail: Some(detail.to_owned()),
        kind,
        span,
        name_span,
        children: Vec::new(),
    }
}

/// A line's span from its keyword to the end of what it says (its
/// comment, the line break and blank lines after it left out).
fn head_span(pair: Pair<'_, Rule>) -> Span {
    let start = pair.as_span().start();
    let end = pair
        .into_inner()
        .last()
        .map_or(start, |part| part.as_span().end());
    Span::new(start, end)
}

/// Words with single spaces between them.
fn squeezed(text: &str) -> String {
    let text = text.trim();
    if text.contains(|c: char| c.is_whitespace() && c != ' ') || text.contains("  ") {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        text.to_owned()
    }
}

/// The first line of a span, spaces squeezed.
fn first_line(text: &str, span: Span) -> String {
    let line = text.get(span.range()).unwrap_or_default().lines().next();
    squeezed(line.unwrap_or_default())
}

/// Where the line holding `offset` ends (before its line break).
fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |at| offset + at)
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
    let mut end = line_end(text, start);
    let mut at = end + 1;
    while at < text.len() {
        let line_end = line_end(text, at);
        let trimmed = text[at..line_end].trim_start();
        let column = line_end - at - trimmed.len();
        if !super::is_blank(trimmed) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::LineIndex;

    /// The outline as text: each entry's name, detail, kind, lines
    /// (from 1) and selected columns, nested by indentation.
    fn render(symbols: &[Symbol], index: &LineIndex<'_>, depth: usize, out: &mut String) {
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
            render(&symbol.children, index, depth + 1, out);
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
            let name = path.strip_prefix(root).unwrap_or(&path);
            out.push_str(&format!("== {}\n", name.display()));
            let outline = super::super::outline(&text);
            render(&outline, &LineIndex::new(&text), 0, &mut out);
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn one_parse_gives_each_reading_wanted_first_first() {
        use super::super::{outline, parse, read_each, tokens::tokens, Reading, Wanted};
        use std::ops::ControlFlow;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let good = std::fs::read_to_string(root.join("editors/tests/every-construct.flow"))
            .expect("readable");
        let bad = good.replacen("send email", "send emial", 1);
        for text in [&good, &bad] {
            let alone = (
                format!("{:?}", parse(text)),
                format!("{:?}", tokens(text)),
                format!("{:?}", outline(text)),
            );
            for first in [Wanted::Tree, Wanted::Tokens, Wanted::Outline] {
                let mut order = Vec::new();
                let mut read = (String::new(), String::new(), String::new());
                read_each(text, first, |reading| {
                    match reading {
                        Reading::Tree(tree) => {
                            order.push(Wanted::Tree);
                            read.0 = format!("{tree:?}");
                        }
                        Reading::Tokens(tokens) => {
                            order.push(Wanted::Tokens);
                            read.1 = format!("{tokens:?}");
                        }
                        Reading::Outline(symbols) => {
                            order.push(Wanted::Outline);
                            read.2 = format!("{symbols:?}");
                        }
                    }
                    ControlFlow::Continue(())
                });
                assert_eq!(order.len(), 3, "each reading once: {order:?}");
                assert_eq!(order[0], first, "what is wanted comes first");
                assert!(read == alone, "read_each gives what each reads alone");
                let mut handed = 0;
                read_each(text, first, |_| {
                    handed += 1;
                    ControlFlow::Break(())
                });
                assert_eq!(handed, 1, "nothing is read after a break");
            }
        }
    }
}
