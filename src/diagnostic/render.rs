//! Turning diagnostics into what users read: miette reports or JSON.

use miette::{
    GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents, SourceCode,
    SourceSpan, SpanContents,
};
use serde::Serialize;

use super::{Diagnostic, Severity};
use crate::span::{LineIndex, Span};

/// A named text with its line index: each report reads only the lines it
/// shows, so rendering many diagnostics of a long file stays linear.
#[derive(Debug)]
pub struct Source<'a> {
    name: &'a str,
    lines: LineIndex<'a>,
}

impl<'a> Source<'a> {
    /// `text`, named `name` in reports.
    pub fn new(name: &'a str, text: &'a str) -> Self {
        Source {
            name,
            lines: LineIndex::new(text),
        }
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.lines.text()
    }
}

impl SourceCode for Source<'_> {
    /// miette's own reading (lines, columns, context) over just the lines
    /// around the span, moved back to where they are in the whole text.
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let text = self.text();
        let end = span.offset() + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.lines.line_of(span.offset()).saturating_sub(before);
        let last = self.lines.line_of(end) + after + 1;
        let start = self.lines.line_start(first).unwrap_or(0);
        let stop = self.lines.line_start(last + 1).unwrap_or(text.len());
        let window = &text[start..stop];
        let local = SourceSpan::new((span.offset() - start).into(), span.len());
        let contents = window.read_span(&local, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_owned(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + start).into(),
                contents.span().len(),
            ),
            contents.line() + first,
            contents.column(),
            contents.line_count() + first,
        )))
    }
}

/// Renders diagnostics as miette reports, with or without colour.
pub struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    /// A renderer; `color` picks the coloured theme.
    pub fn new(color: bool) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        Renderer { handler }
    }

    /// One diagnostic as a report over `source`, named `file`.
    ///
    /// A diagnostic on a line too long to show (minified or generated text)
    /// is rendered without its snippet, with its location instead: the
    /// snippet would be unreadable, and miette cannot draw it.
    pub fn render(&self, source: &Source<'_>, diagnostic: &Diagnostic) -> String {
        let text = source.text();
        let span = diagnostic.span();
        let long_line = line_length_around(text, span.start as usize) > MAX_SNIPPET_LINE
            || line_length_around(text, span.end as usize) > MAX_SNIPPET_LINE;
        let mut out = String::new();
        let with_source = WithSource {
            diagnostic,
            source: (!long_line).then_some(source),
        };
        // Writing into a String cannot fail.
        let _ = self.handler.render_report(&mut out, &with_source);
        if long_line {
            let (line, column) = source.lines.line_column(span.start as usize);
            out.push_str(&format!("  at {}:{line}:{column}\n", source.name));
        }
        out
    }
}

/// The longest line shown in a report's snippet, in bytes.
const MAX_SNIPPET_LINE: usize = 4096;

/// The length in bytes of the line of `text` that holds byte `at`.
fn line_length_around(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let start = bytes[..at]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(bytes.len(), |i| at + i);
    end - start
}

/// Every diagnostic of one file as reports without colour (for tests and pipes).
pub fn render_human(file: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let renderer = Renderer::new(false);
    let source = Source::new(file, source);
    diagnostics
        .iter()
        .map(|diagnostic| renderer.render(&source, diagnostic))
        .collect()
}

/// A diagnostic in the machine-readable form of `flowc check --format json`.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    /// The stable code.
    pub code: String,
    /// `error` or `warning`.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The file's path as given.
    pub file: String,
    /// Line of the primary span, from 1.
    pub line: usize,
    /// Column of the primary span, from 1, in characters.
    pub column: usize,
    /// Byte range of the primary span.
    pub span: Span,
    /// How to fix it.
    pub help: Option<String>,
    /// Every label, primary first.
    pub labels: Vec<JsonLabel>,
}

/// A labelled span of a JSON diagnostic.
#[derive(Debug, Serialize)]
pub struct JsonLabel {
    /// The label's text.
    pub message: Option<String>,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// Byte range.
    pub span: Span,
}

/// Converts one diagnostic of `source` to its JSON form.
pub fn render_json(source: &Source<'_>, diagnostic: &Diagnostic) -> JsonDiagnostic {
    let span = diagnostic.span();
    let (line, column) = source.lines.line_column(span.start as usize);
    let mut labels: Vec<JsonLabel> = miette::Diagnostic::labels(diagnostic)
        .into_iter()
        .flatten()
        .map(|label| {
            let span = Span::new(label.offset(), label.offset() + label.len());
            let (line, column) = source.lines.line_column(label.offset());
            JsonLabel {
                message: label.label().map(str::to_owned),
                line,
                column,
                span,
            }
        })
        .collect();
    labels.sort_by_key(|label| label.span != span);
    JsonDiagnostic {
        code: diagnostic.code(),
        severity: diagnostic.severity(),
        message: diagnostic.to_string(),
        file: source.name.to_owned(),
        line,
        column,
        span,
        help: miette::Diagnostic::help(diagnostic).map(|help| help.to_string()),
        labels,
    }
}

/// A diagnostic with the source it points into, as miette wants it.
#[derive(Debug)]
struct WithSource<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<&'a Source<'a>>,
}

impl std::fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl std::error::Error for WithSource<'_> {}

impl miette::Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        miette::Diagnostic::code(self.diagnostic)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        miette::Diagnostic::help(self.diagnostic)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.map(|source| source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette::Diagnostic::labels(self.diagnostic)
    }
}
