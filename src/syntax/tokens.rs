//! Every token of a source with what it is, read off the same pest parse
//! as the syntax tree: keywords, names with their role (a label, a field,
//! an event...) and whether they declare or use it, text, numbers,
//! templates and comments. The language server's semantic tokens and its
//! references and rename are built on it.

use pest::iterators::{Pair, Pairs};

use super::Rule;
use crate::span::Span;

/// A token and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Where it is.
    pub span: Span,
    /// What it is.
    pub kind: TokenKind,
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A word of the language: `send`, `wait`, `is`.
    Keyword,
    /// A name the author chose.
    Name {
        /// What it names.
        role: Role,
        /// Whether this is where it is declared (else a use).
        declaration: bool,
    },
    /// Quoted text and other verbatim values (a timezone, a JSON path).
    Text,
    /// Numbers, durations, clock times, dates, percentages.
    Number,
    /// `{{`, `}}`, `|` and comparison operators.
    Operator,
    /// A template filter: `default` in `{{ name | default: "there" }}`.
    Filter,
    /// `# ...` to the end of the line.
    Comment,
}

/// What a name names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A workflow.
    Workflow,
    /// A step label (`label NAME`, `goto NAME`).
    Label,
    /// A lead field (declared, extracted or standard).
    Field,
    /// A payload field of an event (`event.NAME`).
    EventField,
    /// An event (`event NAME`, `on NAME`, `wait for NAME`).
    Event,
    /// A goal.
    Goal,
    /// A condition's branch or a split's variant.
    Arm,
    /// A name from `flowc.toml`: a Slack/Teams channel, an agent, a sender.
    Configured,
    /// `env.NAME` in a template.
    Env,
}

/// The tokens of `source`, in order; none when it does not parse at all
/// or nests too deep.
pub fn tokens(source: &str) -> Vec<Token> {
    super::pest_parse(source).map_or_else(|_| Vec::new(), |pairs| from_pairs(pairs, source))
}

/// The tokens of a parse of `source`.
pub(super) fn from_pairs(pairs: Pairs<'_, Rule>, source: &str) -> Vec<Token> {
    let mut out = Vec::new();
    // Ancestors of the pair being read: (rule, end).
    let mut stack: Vec<(Rule, usize)> = Vec::new();
    let mut covered = 0;
    for pair in pairs.flatten() {
        let span = pair.as_span();
        let (start, end) = (span.start(), span.end());
        while stack
            .last()
            .is_some_and(|(_, top_end)| start >= *top_end && end > start)
        {
            stack.pop();
        }
        let parent = stack.last().map(|(rule, _)| *rule);
        let grandparent = stack.iter().rev().nth(1).map(|(rule, _)| *rule);
        stack.push((pair.as_rule(), end));
        if start < covered {
            continue;
        }
        if let Some(opaque) = token(&pair, parent, grandparent, &mut out) {
            covered = opaque;
        }
    }
    out.extend(comments(source, &out));
    out.sort_by_key(|token| token.span);
    out
}

/// The tokens of one pair; `Some(end)` when what is inside it is covered.
fn token(
    pair: &Pair<'_, Rule>,
    parent: Option<Rule>,
    grandparent: Option<Rule>,
    out: &mut Vec<Token>,
) -> Option<usize> {
    let span = pair.as_span();
    let whole = Span::new(span.start(), span.end());
    let mut push = |span: Span, kind: TokenKind| out.push(Token { span, kind });
    let rule = pair.as_rule();
    let kind = match rule {
        _ if super::is_keyword(rule) => TokenKind::Keyword,
        Rule::weekdays | Rule::weekends | Rule::day => TokenKind::Keyword,
        Rule::offset_sign => TokenKind::Operator,
        Rule::name => name(parent, grandparent),
        Rule::field_ref | Rule::template_path => {
            dotted(pair.as_str(), span.start(), &mut push);
            return Some(span.end());
        }
        Rule::business_count => {
            let digits = pair
                .as_str()
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(0);
            let word = pair.as_str().rfind(' ').map_or(0, |at| at + 1);
            push(
                Span::new(span.start(), span.start() + digits),
                TokenKind::Number,
            );
            push(
                Span::new(span.start() + word, span.end()),
                TokenKind::Keyword,
            );
            return Some(span.end());
        }
        Rule::number
        | Rule::datetime
        | Rule::duration
        | Rule::clock
        | Rule::percent
        | Rule::loop_count
        | Rule::item_count
        | Rule::phone_number => TokenKind::Number,
        Rule::timezone_name
        | Rule::header_name
        | Rule::json_path
        | Rule::email_address
        | Rule::line_text
        | Rule::triple_text
        | Rule::escape
        | Rule::close_quote
        | Rule::close_triple => TokenKind::Text,
        Rule::line_string => {
            push(Span::new(span.start(), span.start() + 1), TokenKind::Text);
            return None;
        }
        Rule::triple_string => {
            push(Span::new(span.start(), span.start() + 3), TokenKind::Text);
            return None;
        }
        Rule::template => {
            push(
                Span::new(span.start(), span.start() + 2),
                TokenKind::Operator,
            );
            return None;
        }
        Rule::filter => {
            push(
                Span::new(span.start(), span.start() + 1),
                TokenKind::Operator,
            );
            // The filter's name is its `ident`, a pair of its own.
            if let Some(name) = pair.clone().into_inner().next() {
                let name = name.as_span();
                push(Span::new(name.start(), name.end()), TokenKind::Filter);
            }
            return None;
        }
        Rule::close_template | Rule::compare_op => TokenKind::Operator,
        _ => return None,
    };
    push(whole, kind);
    Some(span.end())
}

/// The role of a `name` from the rule it is in.
fn name(parent: Option<Rule>, grandparent: Option<Rule>) -> TokenKind {
    let (role, declaration) = match parent {
        Some(Rule::workflow | Rule::workflow_head) => (Role::Workflow, true),
        Some(Rule::label_line) => (Role::Label, true),
        Some(Rule::goto_target) => (Role::Label, false),
        Some(Rule::field_decl) if grandparent == Some(Rule::event_section) => {
            (Role::EventField, true)
        }
        Some(Rule::field_decl) | Some(Rule::extraction) => (Role::Field, true),
        Some(Rule::event_section) => (Role::Event, true),
        Some(Rule::on_event) | Some(Rule::wait_event) => (Role::Event, false),
        Some(Rule::goal_head) => (Role::Goal, true),
        Some(Rule::branch_head) | Some(Rule::variant_head) => (Role::Arm, true),
        _ => (Role::Configured, false),
    };
    TokenKind::Name { role, declaration }
}

/// `field`, `event.field` or `env.NAME`: the prefix a keyword, the rest a
/// name.
fn dotted(text: &str, start: usize, push: &mut impl FnMut(Span, TokenKind)) {
    let (role, prefix) = match text.split_once('.') {
        Some(("event", _)) => (Role::EventField, "event".len()),
        Some(("env", _)) => (Role::Env, "env".len()),
        _ => (Role::Field, 0),
    };
    if prefix > 0 {
        push(Span::new(start, start + prefix), TokenKind::Keyword);
        push(
            Span::new(start + prefix, start + prefix + 1),
            TokenKind::Operator,
        );
    }
    let name_start = if prefix > 0 {
        start + prefix + 1
    } else {
        start
    };
    let kind = TokenKind::Name {
        role,
        declaration: false,
    };
    push(Span::new(name_start, start + text.len()), kind);
}

/// Comments: a `#` outside every token, to the end of its line.
fn comments(source: &str, tokens: &[Token]) -> Vec<Token> {
    let mut sorted: Vec<Span> = tokens.iter().map(|token| token.span).collect();
    sorted.sort();
    let mut found = Vec::new();
    let mut from = 0;
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    for span in &sorted {
        if (span.start as usize) > from {
            gaps.push((from, span.start as usize));
        }
        from = from.max(span.end as usize);
    }
    gaps.push((from, source.len()));
    for (start, end) in gaps {
        let mut at = start;
        while let Some(hash) = source[at..end].find('#') {
            let begin = at + hash;
            let stop = source[begin..]
                .find(['\n', '\r'])
                .map_or(source.len(), |n| begin + n);
            found.push(Token {
                span: Span::new(begin, stop),
                kind: TokenKind::Comment,
            });
            if stop >= end {
                break;
            }
            at = stop;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(&str, TokenKind)> {
        tokens(source)
            .into_iter()
            .map(|token| (&source[token.span.range()], token.kind))
            .collect()
    }

    fn name(role: Role, declaration: bool) -> TokenKind {
        TokenKind::Name { role, declaration }
    }

    #[test]
    fn names_know_their_role_and_keywords_stay_whole_words() {
        let source = "workflow opt-in # the flow\n  fields\n    is-vip bool\n  trigger when is-vip is true and end-of-line is set\n  steps\n    label in-a\n    send email\n      subject \"Hi {{ first_name | default: \"there\" }}\"\n    goto in-a\n";
        let found = kinds(source);
        let expect = [
            ("workflow", TokenKind::Keyword),
            ("opt-in", name(Role::Workflow, true)),
            ("# the flow", TokenKind::Comment),
            ("is-vip", name(Role::Field, true)),
            ("bool", TokenKind::Keyword),
            ("is-vip", name(Role::Field, false)),
            ("true", TokenKind::Keyword),
            ("end-of-line", name(Role::Field, false)),
            ("in-a", name(Role::Label, true)),
            ("{{", TokenKind::Operator),
            ("first_name", name(Role::Field, false)),
            ("default", TokenKind::Filter),
            ("}}", TokenKind::Operator),
            ("in-a", name(Role::Label, false)),
        ];
        let mut rest = found.iter();
        for expected in expect {
            assert!(
                rest.any(|token| *token == expected),
                "{expected:?} in order in {found:?}"
            );
        }
        assert!(!found
            .iter()
            .any(|(text, _)| *text == "in" || *text == "end"));
    }

    /// Over every example, tokens are in order, never overlap, and every
    /// word outside them is inside a comment or a string.
    #[test]
    fn examples_tokenize_without_overlaps() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for entry in std::fs::read_dir(dir).expect("examples").flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "flow") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("readable");
            let tokens = tokens(&source);
            assert!(tokens.len() > 20, "{}", path.display());
            for pair in tokens.windows(2) {
                assert!(
                    pair[0].span.end <= pair[1].span.start,
                    "{}: {pair:?}",
                    path.display()
                );
            }
            let mut covered = vec![false; source.len()];
            for token in &tokens {
                covered[token.span.range()]
                    .iter_mut()
                    .for_each(|c| *c = true);
            }
            for (at, c) in source.char_indices() {
                assert!(
                    covered[at] || !c.is_alphanumeric(),
                    "{}: `{c}` at {at} has no token: {}",
                    path.display(),
                    &source[at.saturating_sub(20)..(at + 20).min(source.len())]
                );
            }
        }
    }
}
