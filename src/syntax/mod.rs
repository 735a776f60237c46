//! Source text to syntax tree: the pest grammar, line-by-line recovery and
//! syntax errors renamed for users.

mod effects;
mod error;
mod expected;
mod expr;
mod items;
mod nesting;
pub mod outline;
mod reread;
mod steps;
mod text;
pub mod tokens;

use std::ops::ControlFlow;
use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::Parser as _;

pub use error::SyntaxError;
pub use reread::{halves, reread, Readings};

use crate::ast::{Ident, SourceFile};
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// The pest parser generated from `grammar/flow.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/flow.pest"]
pub(crate) struct FlowParser;

/// The result of parsing: a tree of everything that could be read, and the
/// syntax errors of everything that could not.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The syntax tree.
    pub file: SourceFile,
    /// Syntax errors, in order.
    pub diagnostics: Vec<Diagnostic>,
    /// Where the units [`reread`] reads again begin.
    units: reread::Units,
}

/// Parses a `.flow` source; never fails, never panics.
pub fn parse(source: &str) -> Parsed {
    build(source, pest_parse(source))
}

/// The pest parse of a source, or the syntax error that stops it (no
/// parse at all, or nesting too deep).
fn pest_parse(source: &str) -> Result<Pairs<'_, Rule>, SyntaxError> {
    let pairs = FlowParser::parse(Rule::file, source)
        .map_err(|error| expected::from_pest(source, 0, &error))?;
    match nesting::too_deep(pairs.clone()) {
        Some(error) => Err(error),
        None => Ok(pairs),
    }
}

/// The tree and syntax errors of a pest parse.
fn build(source: &str, parse: Result<Pairs<'_, Rule>, SyntaxError>) -> Parsed {
    let mut builder = Builder::new(source);
    let file = match parse {
        Ok(pairs) => pairs
            .into_iter()
            .next()
            .map(|pair| builder.file(pair))
            .unwrap_or_default(),
        Err(error) => {
            builder.report(error);
            SourceFile::default()
        }
    };
    if file.workflows.is_empty() && builder.diagnostics.is_empty() {
        builder.report(SyntaxError::NoWorkflow {
            span: Span::new(0, 0),
        });
    }
    builder.finish(file)
}

/// The outline of a `.flow` source; empty when it does not parse at all
/// or nests too deep.
pub fn outline(source: &str) -> Vec<outline::Symbol> {
    pest_parse(source).map_or_else(|_| Vec::new(), |pairs| outline::outline(pairs, source))
}

/// What is read off one parse of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The tree and syntax errors ([`parse`]).
    Tree,
    /// The tokens ([`tokens::tokens`]).
    Tokens,
    /// The outline ([`outline()`]).
    Outline,
}

/// One reading of a parse, as [`read_each`] hands it over.
#[derive(Debug)]
pub enum Reading {
    /// The tree and syntax errors.
    Tree(Parsed),
    /// Every token, in order.
    Tokens(Vec<tokens::Token>),
    /// The workflows and what they hold, nested as written.
    Outline(Vec<outline::Symbol>),
}

/// Parses a source once and reads the tree, the tokens and the outline
/// off that parse, handing each to `take` as soon as it is done: `first`
/// first, then the others, until `take` breaks. Each is what [`parse`],
/// [`tokens::tokens`] and [`outline()`] give.
pub fn read_each(source: &str, first: Wanted, mut take: impl FnMut(Reading) -> ControlFlow<()>) {
    let parse = pest_parse(source);
    let pairs = parse.as_ref().ok().cloned();
    // The tree is built off the parse itself; the others off copies.
    let mut parse = Some(parse);
    let rest = [Wanted::Tree, Wanted::Tokens, Wanted::Outline];
    let order = std::iter::once(first).chain(rest.into_iter().filter(|wanted| *wanted != first));
    for wanted in order {
        let reading = match wanted {
            Wanted::Tree => match parse.take() {
                Some(parse) => Reading::Tree(build(source, parse)),
                None => continue,
            },
            Wanted::Tokens => Reading::Tokens(
                pairs
                    .clone()
                    .map_or_else(Vec::new, |pairs| tokens::from_pairs(pairs, source)),
            ),
            Wanted::Outline => Reading::Outline(
                pairs
                    .clone()
                    .map_or_else(Vec::new, |pairs| outline::outline(pairs, source)),
            ),
        };
        if take(reading).is_break() {
            return;
        }
    }
}

/// Parses the text of a template file (`body file "x.md"`): its templates
/// and the text between them; spans are offsets into `text`.
pub fn parse_template_file(text: &str) -> Result<crate::ast::Text, Vec<Diagnostic>> {
    let mut builder = Builder::new(text);
    match FlowParser::parse(Rule::template_file, text) {
        Ok(mut pairs) => {
            let pair = pairs.next();
            let parsed = pair.map(|pair| builder.template_file(pair));
            match (parsed, builder.diagnostics.is_empty()) {
                (Some(parsed), true) => Ok(parsed),
                _ => Err(builder.diagnostics),
            }
        }
        Err(error) => {
            builder.report(expected::from_pest(text, 0, &error));
            Err(builder.diagnostics)
        }
    }
}

/// Walks pest pairs into the syntax tree, collecting syntax errors.
pub(crate) struct Builder<'s> {
    source: &'s str,
    diagnostics: Vec<Diagnostic>,
    /// Errors before this offset are consequences of one already reported.
    quiet_until: usize,
    /// Where the last stray line ended, to report a run of them once.
    last_stray_end: usize,
    /// Where the units of what was read begin, for [`reread`].
    units: reread::Units,
}

impl<'s> Builder<'s> {
    fn new(source: &'s str) -> Self {
        Builder {
            source,
            diagnostics: Vec::new(),
            quiet_until: 0,
            last_stray_end: usize::MAX,
            units: reread::Units::default(),
        }
    }

    fn finish(self, file: SourceFile) -> Parsed {
        let mut diagnostics = self.diagnostics;
        crate::diagnostic::sort(&mut diagnostics);
        Parsed {
            file,
            diagnostics,
            units: self.units,
        }
    }

    /// Records a syntax error unless an earlier one already explains it.
    pub(crate) fn report(&mut self, error: SyntaxError) {
        let diagnostic = Diagnostic::from(error);
        let at = diagnostic.span().start as usize;
        if at < self.quiet_until && !self.diagnostics.is_empty() {
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    /// Reports the text of `invalid` by re-parsing it with the rule that
    /// was expected there.
    ///
    /// The text is re-parsed up to the end of the file, so text in triple
    /// quotes that starts on this line is read whole.
    pub(crate) fn invalid(&mut self, invalid: &Pair<'_, Rule>, expected: Rule) {
        self.reparse(invalid.as_span().start(), expected);
    }

    /// `pair`, unless it is the `invalid` rest of a line: then reports it as
    /// not following `expected`, and gives nothing.
    pub(crate) fn valid<'i>(
        &mut self,
        pair: Pair<'i, Rule>,
        expected: Rule,
    ) -> Option<Pair<'i, Rule>> {
        if pair.as_rule() == Rule::invalid {
            self.invalid(&pair, expected);
            return None;
        }
        Some(pair)
    }

    /// Re-parses the source from `start` with `rule` and reports where it
    /// fails. Only the rest of the line is read (pest scans its input from
    /// the end to locate an error, so the whole rest of the file would make
    /// many errors quadratic), unless that line opens a `"""` text.
    fn reparse(&mut self, start: usize, rule: Rule) {
        let text = logical_line(&self.source[start..]);
        let error = match FlowParser::parse(rule, text) {
            Err(error) => expected::from_pest(self.source, start, &error),
            Ok(pairs) => {
                let consumed = pairs.last().map_or(0, |pair| pair.as_span().end());
                let rest = &text[consumed..];
                let at =
                    start + consumed + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
                let help = (rule == Rule::name).then(|| {
                    "names are one word: join words with `-`, like `demo-follow-up`".to_owned()
                });
                expected::expected_here(self.source, at, "the end of the line".to_owned(), help)
            }
        };
        let reach = error_reach(&error);
        self.report(error);
        self.quiet_until = self.quiet_until.max(reach);
    }

    /// Reports a line that fits nowhere. Only the first of a run of such
    /// lines is reported: the rest usually follow from it.
    pub(crate) fn stray(&mut self, stray: &Pair<'_, Rule>, level: items::Level) {
        let span = stray.as_span();
        let consecutive = self.strays_run_to(span.start());
        self.last_stray_end = span.end();
        if consecutive {
            return;
        }
        let line = span.as_str().trim_end();
        let mut words = line.split_whitespace();
        let first_word = words.next().unwrap_or_default();
        match level.rule_for(first_word, words.next().unwrap_or_default()) {
            Some(rule) => self.reparse(span.start(), rule),
            None => {
                let error = level.unknown_line(self.source, span.start(), first_word);
                self.report(error);
            }
        }
    }

    /// Whether a stray line at `at` would be one more of the run before it
    /// (and so not reported).
    fn strays_run_to(&self, at: usize) -> bool {
        let between = self.source.get(self.last_stray_end..at);
        between.is_some_and(|text| text.trim().is_empty())
    }

    /// Whether what is read from `at` on is read as it would be after no
    /// error at all: no error reaches `at`, and no run of stray lines.
    fn settled_at(&self, at: usize) -> bool {
        self.quiet_until <= at && !self.strays_run_to(at)
    }

    /// An identifier from a `name`, `ident` or similar pair.
    pub(crate) fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_owned(),
            span: span(pair),
        }
    }
}

/// How far an error reaches: later errors before it are its consequences.
fn error_reach(error: &SyntaxError) -> usize {
    match error {
        SyntaxError::Expected { span, .. }
        | SyntaxError::UnclosedText { span, .. }
        | SyntaxError::MissingEnd { span, .. } => span.end as usize,
        _ => 0,
    }
}

/// The span of a pair.
/// Where a workflow begins: at its `workflow` keyword. A header read again
/// after an edit (src/syntax/reread) is read from the start of its line,
/// indent and all, where a whole file's parse begins it at the keyword.
pub(crate) fn workflow_start(workflow: &Pair<'_, Rule>) -> usize {
    let keyword = workflow.clone().into_inner().next();
    keyword
        .map_or(workflow.as_span(), |keyword| keyword.as_span())
        .start()
}

pub(crate) fn span(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    Span::new(span.start(), span.end())
}

/// Whether `rule` is a keyword (`kw_*`), which carries no content.
fn is_keyword(rule: Rule) -> bool {
    static KEYWORDS: OnceLock<Vec<bool>> = OnceLock::new();
    let table = KEYWORDS.get_or_init(|| {
        let rules = Rule::all_rules();
        let mut table = vec![
            false;
            rules
                .iter()
                .map(|rule| *rule as usize + 1)
                .max()
                .unwrap_or(0)
        ];
        for rule in rules {
            table[*rule as usize] = format!("{rule:?}").starts_with("kw_");
        }
        table
    });
    table.get(rule as usize).copied().unwrap_or(false)
}

/// The children of `pair` that carry content (keywords left out).
pub(crate) fn content<'i>(pair: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    pair.into_inner()
        .filter(|child| !is_keyword(child.as_rule()))
}

/// The first content child of `pair`, if any.
pub(crate) fn first<'i>(pair: Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
    content(pair).next()
}

/// Content children of `pair` (keywords left out), peekable.
pub(crate) fn children(
    pair: Pair<'_, Rule>,
) -> std::iter::Peekable<impl Iterator<Item = Pair<'_, Rule>>> {
    content(pair).peekable()
}

/// Whether `line` holds nothing, or only a comment.
pub(crate) fn is_blank(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#')
}

/// The start of `rest` up to the end of its line, or all of it when the
/// line opens a triple-quoted text that goes on below.
fn logical_line(rest: &str) -> &str {
    let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let line = &rest[..end];
    if line.matches(r#"""""#).count() % 2 == 1 {
        rest
    } else {
        line
    }
}
