//! `flowc fmt`: one canonical layout for `.flow` files.
//!
//! The language is line-based, so the layout is about lines: each line is
//! indented two spaces per level of nesting it has in the parse tree
//! (settings and sections under `workflow`, entries under their section,
//! options under their step, steps under their branch, `end` back at its
//! block's level); a criteria line continued on the next line is indented
//! one level more than the line it continues; runs of spaces between
//! tokens become one; trailing spaces go; at most one blank line in a row,
//! none at the start or end. Comments are kept, each comment line indented
//! like the code line after it. Text in quotes is never touched, and the
//! lines of triple-quoted text keep their indentation relative to each
//! other (flowc removes the common part), moved under their step.
//!
//! A formatted file is parsed again and must give the same tree as the
//! original; if it ever did not, formatting is refused rather than risk a
//! changed workflow.

use pest::iterators::Pair;
use pest::Parser as _;

use crate::diagnostic::Diagnostic;
use crate::span::LineIndex;
use crate::syntax::{FlowParser, Rule};

/// Spaces per level of nesting.
const INDENT: usize = 2;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file does not parse: the same diagnostics as `flowc check`.
    Syntax(Vec<Diagnostic>),
    /// The layout would have changed what the file means (a bug in flowc).
    Changed,
}

/// The canonical layout of a source that parses (a byte order mark at the
/// start is kept, and laid out around).
pub fn format_source(source: &str) -> Result<String, FormatError> {
    const BOM: &str = "\u{feff}";
    match source.strip_prefix(BOM) {
        Some(rest) => format_text(rest).map(|formatted| format!("{BOM}{formatted}")),
        None => format_text(source),
    }
}

/// The canonical layout of a source without a byte order mark.
fn format_text(source: &str) -> Result<String, FormatError> {
    let parsed = crate::syntax::parse(source);
    if !parsed.diagnostics.is_empty() {
        return Err(FormatError::Syntax(parsed.diagnostics));
    }
    let normalized = source.replace("\r\n", "\n").replace('\r', "\n");
    let Ok(mut pairs) = FlowParser::parse(Rule::file, &normalized) else {
        return Err(FormatError::Changed);
    };
    let lines: Vec<&str> = normalized.split('\n').collect();
    let mut layout = Layout::new(&normalized, lines.len());
    if let Some(file) = pairs.next() {
        layout.visit(file, 0, None);
    }
    let formatted = layout.write(&lines);
    let reparsed = crate::syntax::parse(&formatted);
    if !reparsed.diagnostics.is_empty() || !same_tree(&parsed.file, &reparsed.file) {
        return Err(FormatError::Changed);
    }
    Ok(formatted)
}

/// What the parse tree says about each line.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Line {
    /// Nothing known: a blank or comment line.
    Free,
    /// A line starting a construct at this depth.
    Code(usize),
    /// A criteria line continuing the line before, at this depth.
    Continued(usize),
    /// A line inside triple-quoted text whose own lines start at this depth.
    Text(usize),
}

struct Layout<'s> {
    index: LineIndex<'s>,
    lines: Vec<Line>,
}

impl<'s> Layout<'s> {
    fn new(source: &'s str, count: usize) -> Self {
        Layout {
            index: LineIndex::new(source),
            lines: vec![Line::Free; count],
        }
    }

    /// The line holding byte `at`.
    fn line_of(&self, at: usize) -> usize {
        self.index.line_of(at)
    }

    /// Whether `at` is the first non-blank byte of its line.
    fn starts_line(&self, at: usize) -> bool {
        let start = self.index.line_start(self.line_of(at)).unwrap_or_default();
        self.index.text()[start..at]
            .chars()
            .all(|c| c == ' ' || c == '\t')
    }

    /// Walks the tree. `depth` is the nesting of the innermost construct
    /// around `pair` that started on an earlier line, `owner` that line.
    fn visit(&mut self, pair: Pair<'_, Rule>, depth: usize, owner: Option<usize>) {
        let rule = pair.as_rule();
        let start = pair.as_span().start();
        let line = self.line_of(start);
        let mut inner_depth = depth;
        let mut inner_owner = owner;
        if structural(rule) && self.starts_line(start) && owner != Some(line) {
            self.lines[line] = Line::Code(depth);
            inner_depth = depth + 1;
            inner_owner = Some(line);
        } else if rule == Rule::kw_end && self.starts_line(start) {
            self.lines[line] = Line::Code(depth.saturating_sub(1));
        } else if rule == Rule::triple_string {
            self.text_lines(line, self.line_of(pair.as_span().end()), depth);
            return;
        } else if self.starts_line(start)
            && owner.is_some_and(|owner| owner < line)
            && self.lines[line] == Line::Free
        {
            self.lines[line] = Line::Continued(depth);
        }
        for inner in pair.into_inner() {
            self.visit(inner, inner_depth, inner_owner);
        }
    }

    /// Marks the lines after `first` up to `last` as triple-quoted text.
    fn text_lines(&mut self, first: usize, last: usize, depth: usize) {
        for line in first + 1..=last {
            self.lines[line] = Line::Text(depth);
        }
    }

    /// The formatted file.
    fn write(&self, lines: &[&str]) -> String {
        let depths = self.comment_depths(lines);
        // Each line, and whether it is quoted text (kept, even blank).
        let mut out: Vec<(String, bool)> = Vec::with_capacity(lines.len());
        let mut index = 0;
        while index < lines.len() {
            if let Line::Text(depth) = self.lines[index] {
                let end = (index..lines.len())
                    .find(|&i| !matches!(self.lines[i], Line::Text(_)))
                    .unwrap_or(lines.len());
                out.extend(
                    text_block(&lines[index..end], depth)
                        .into_iter()
                        .map(|line| (line, true)),
                );
                index = end;
                continue;
            }
            let text = normalize(lines[index]);
            let depth = match self.lines[index] {
                Line::Code(depth) | Line::Continued(depth) => depth,
                _ => depths[index],
            };
            if text.is_empty() {
                out.push((String::new(), false));
            } else {
                out.push((format!("{}{text}", " ".repeat(depth * INDENT)), false));
            }
            index += 1;
        }
        squeeze_blank_lines(out)
    }

    /// Each comment line's depth: that of the next code line.
    fn comment_depths(&self, lines: &[&str]) -> Vec<usize> {
        let mut depths = vec![0; lines.len()];
        let mut next = 0;
        for index in (0..lines.len()).rev() {
            match self.lines[index] {
                Line::Code(depth) | Line::Continued(depth) => next = depth,
                Line::Text(_) => {}
                Line::Free if lines[index].trim().is_empty() => {}
                Line::Free => depths[index] = next,
            }
        }
        depths
    }
}

/// Rules that start a line of their own at a new level of nesting.
fn structural(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::workflow
            | Rule::setting_timezone
            | Rule::setting_reentry
            | Rule::setting_lookback
            | Rule::setting_failure
            | Rule::setting_holidays
            | Rule::fields_section
            | Rule::event_section
            | Rule::field_decl
            | Rule::trigger
            | Rule::goal
            | Rule::windows_section
            | Rule::window
            | Rule::steps_section
            | Rule::label_line
            | Rule::step
            | Rule::step_option
            | Rule::extraction
            | Rule::outcome_branch
            | Rule::failure_branch
            | Rule::branch
            | Rule::else_branch
            | Rule::variant
            | Rule::wait_branch
            | Rule::event_branch
    )
}

/// Triple-quoted lines moved to `depth`, keeping their indentation relative
/// to each other; blank lines emptied, the closing quotes alone on their
/// line put at `depth`.
fn text_block(lines: &[&str], depth: usize) -> Vec<String> {
    let indent_of = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let closing_only = |line: &str| line.trim() == "\"\"\"";
    let common = lines
        .iter()
        .filter(|line| !line.trim().is_empty() && !closing_only(line))
        .map(|line| indent_of(line))
        .min()
        .unwrap_or(0);
    let base = " ".repeat(depth * INDENT);
    lines
        .iter()
        .map(|line| {
            if line.trim().is_empty() {
                String::new()
            } else if closing_only(line) {
                format!("{base}\"\"\"")
            } else {
                // Past the common part, the indentation is kept as written
                // (tabs included): it is part of the text.
                format!("{base}{}", &line[common..])
            }
        })
        .collect()
}

/// One line's content: spaces outside quotes squeezed to one, none at the
/// ends, a comment after code set off by one space. Text in quotes,
/// including triple quotes opened on this line, is kept as written.
fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.trim().chars().peekable();
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => pending_space = true,
            '#' => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push('#');
                out.extend(chars.by_ref());
                break;
            }
            '"' => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push('"');
                if chars.peek() == Some(&'"') {
                    // `""` or the start of `"""`: the rest of the line is text.
                    out.extend(chars.by_ref());
                    break;
                }
                copy_quoted(&mut chars, &mut out);
            }
            c => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out.trim_end().to_owned()
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Copies a one-line quoted text up to and including its closing quote.
/// Templates in it may hold quoted text of their own (`default: "x"`).
fn copy_quoted(chars: &mut Chars<'_>, out: &mut String) {
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\\' => out.extend(chars.next()),
            '"' => return,
            '{' if chars.peek() == Some(&'{') => {
                out.extend(chars.next());
                copy_template(chars, out);
            }
            _ => {}
        }
    }
}

/// Copies the rest of a `{{ template }}` up to and including `}}`.
fn copy_template(chars: &mut Chars<'_>, out: &mut String) {
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '"' => copy_quoted(chars, out),
            '}' if chars.peek() == Some(&'}') => {
                out.extend(chars.next());
                return;
            }
            _ => {}
        }
    }
}

/// At most one blank line in a row, none at the start or the end, and a
/// final line break; lines of quoted text are kept as they are.
fn squeeze_blank_lines(lines: Vec<(String, bool)>) -> String {
    let mut out = String::new();
    let mut blank = false;
    for (line, text) in lines {
        if line.is_empty() && !text {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Whether two trees are the same but for where things are written.
fn same_tree(a: &crate::ast::SourceFile, b: &crate::ast::SourceFile) -> bool {
    without_spans(&format!("{a:?}")) == without_spans(&format!("{b:?}"))
}

/// Debug output with every `Span { start: N, end: N }` left out.
fn without_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find('}').map_or("", |end| &rest[end + 1..]);
    }
    out.push_str(rest);
    out
}
