//! Quoted text with templates, literals, durations and clock times.

use pest::iterators::Pair;

use super::expected::expected_here;
use super::{children, span, Builder, Rule};
use crate::ast::*;
use crate::span::Span;

impl Builder<'_> {
    /// `string`: quoted text, one line or triple-quoted, with templates.
    pub(crate) fn text(&mut self, pair: Pair<'_, Rule>) -> Text {
        let whole = span(&pair);
        // A filter argument is a `line_string` itself; elsewhere `string`
        // wraps one of the two kinds.
        let inner = if matches!(pair.as_rule(), Rule::line_string | Rule::triple_string) {
            Some(pair)
        } else {
            pair.into_inner().next()
        };
        let Some(inner) = inner else {
            return Text {
                parts: Vec::new(),
                span: whole,
            };
        };
        let triple = inner.as_rule() == Rule::triple_string;
        let mut parts = Vec::new();
        for part in inner.into_inner() {
            match part.as_rule() {
                Rule::template => parts.push(TextPart::Template(self.template(part))),
                Rule::escape => push_literal(&mut parts, unescape(part.as_str())),
                Rule::line_text | Rule::triple_text => push_literal(&mut parts, part.as_str()),
                _ => {}
            }
        }
        if triple {
            dedent(&mut parts);
        }
        Text { parts, span: whole }
    }

    /// `template_file`: the text of a template file, with its templates.
    pub(crate) fn template_file(&mut self, pair: Pair<'_, Rule>) -> Text {
        let whole = span(&pair);
        let mut parts = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::template => parts.push(TextPart::Template(self.template(part))),
                Rule::file_text => push_literal(&mut parts, part.as_str()),
                _ => {}
            }
        }
        Text { parts, span: whole }
    }

    /// `template`: `{{ path | filter: arg }}`.
    fn template(&mut self, pair: Pair<'_, Rule>) -> Template {
        let whole = span(&pair);
        let mut path = None;
        let mut filter = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::template_path => path = Some(self.template_path(&part)),
                Rule::filter => filter = self.filter(part),
                _ => {}
            }
        }
        Template {
            path: path.unwrap_or_else(|| {
                TemplatePath::Field(Ident {
                    name: String::new(),
                    span: whole,
                })
            }),
            filter,
            span: whole,
        }
    }

    fn template_path(&mut self, pair: &Pair<'_, Rule>) -> TemplatePath {
        let at = span(pair);
        let written = pair.as_str();
        let Some((namespace, member)) = written.split_once('.') else {
            return TemplatePath::Field(self.ident(pair));
        };
        let start = at.start as usize;
        let namespace = Ident {
            name: namespace.to_owned(),
            span: Span::new(start, start + namespace.len()),
        };
        let member = Ident {
            name: member.to_owned(),
            span: Span::new(start + namespace.name.len() + 1, at.end as usize),
        };
        match namespace.name.as_str() {
            "event" => TemplatePath::Event(member),
            "env" => TemplatePath::Env(member),
            _ => TemplatePath::Unknown { namespace, member },
        }
    }

    fn filter(&mut self, pair: Pair<'_, Rule>) -> Option<Filter> {
        let whole = span(&pair);
        let mut parts = children(pair);
        let name = self.ident(&parts.next()?);
        let arg = parts.next().and_then(|arg| self.operand(arg));
        Some(Filter {
            name,
            arg,
            span: whole,
        })
    }

    /// A literal, or a field (`field_ref`, or `template_path` in a filter).
    pub(crate) fn operand(&mut self, pair: Pair<'_, Rule>) -> Option<Operand> {
        match pair.as_rule() {
            Rule::field_ref | Rule::template_path => {
                Some(Operand::Field(super::expr::field_ref(&pair)))
            }
            _ => self.literal(pair).map(Operand::Literal),
        }
    }

    /// `number`, `string`, `boolean` or `datetime`.
    pub(crate) fn literal(&mut self, pair: Pair<'_, Rule>) -> Option<Literal> {
        let at = span(&pair);
        let value = match pair.as_rule() {
            Rule::number => LiteralValue::Number(pair.as_str().parse().unwrap_or(f64::NAN)),
            Rule::boolean => LiteralValue::Bool(pair.as_str() == "true"),
            Rule::datetime => LiteralValue::Datetime(pair.as_str().to_owned()),
            _ => {
                let text = self.text(pair);
                if let Some(template) = text.templates().next() {
                    let error = expected_here(
                        self.source,
                        template.span.start as usize,
                        "plain text".to_owned(),
                        Some(
                            "templates are not allowed in criteria: compare with a fixed value"
                                .to_owned(),
                        ),
                    );
                    self.report(error);
                }
                LiteralValue::Text(text.static_text())
            }
        };
        Some(Literal { value, span: at })
    }

    /// `duration`: `2 days`, `3h`.
    pub(crate) fn duration(&mut self, pair: Pair<'_, Rule>) -> Duration {
        let at = span(&pair);
        let mut amount = 0;
        let mut unit = TimeUnit::Minute;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::duration_size => amount = part.as_str().parse().unwrap_or(u64::MAX),
                _ => unit = time_unit(part.as_str()),
            }
        }
        Duration {
            amount,
            unit,
            span: at,
        }
    }

    /// `clock`: `HH:MM`, unvalidated.
    pub(crate) fn clock(&mut self, pair: Pair<'_, Rule>) -> Clock {
        let at = span(&pair);
        let (hour, minute) = pair.as_str().split_once(':').unwrap_or(("", ""));
        Clock {
            hour: hour.parse().unwrap_or(u32::MAX),
            minute: minute.parse().unwrap_or(u32::MAX),
            span: at,
        }
    }
}

fn time_unit(word: &str) -> TimeUnit {
    match word.chars().next() {
        Some('s') => TimeUnit::Second,
        Some('m') => TimeUnit::Minute,
        Some('h') => TimeUnit::Hour,
        Some('d') => TimeUnit::Day,
        Some('w') => TimeUnit::Week,
        _ => TimeUnit::Year,
    }
}

fn push_literal(parts: &mut Vec<TextPart>, text: &str) {
    if let Some(TextPart::Literal(last)) = parts.last_mut() {
        last.push_str(text);
    } else {
        parts.push(TextPart::Literal(text.to_owned()));
    }
}

fn unescape(escape: &str) -> &str {
    match escape {
        "\\n" => "\n",
        "\\t" => "\t",
        "\\\"" => "\"",
        "\\{" => "{",
        _ => "\\",
    }
}

/// Removes the indentation common to every line of triple-quoted text, and
/// the line breaks right after the opening and before the closing quotes.
fn dedent(parts: &mut [TextPart]) {
    let mut indent = usize::MAX;
    // The width of the current line so far while it holds only blanks.
    let mut blank_prefix: Option<usize> = None;
    for part in parts.iter() {
        match part {
            TextPart::Literal(text) => {
                for (index, segment) in text.split('\n').enumerate() {
                    if index > 0 {
                        blank_prefix = Some(0);
                    }
                    let Some(prefix) = blank_prefix else { continue };
                    if segment.trim().is_empty() {
                        blank_prefix = Some(prefix + segment.len());
                    } else {
                        indent = indent.min(prefix + segment.len() - segment.trim_start().len());
                        blank_prefix = None;
                    }
                }
            }
            TextPart::Template(_) => {
                if let Some(prefix) = blank_prefix.take() {
                    indent = indent.min(prefix);
                }
            }
        }
    }
    let indent = if indent == usize::MAX { 0 } else { indent };
    let count = parts.len();
    for (position, part) in parts.iter_mut().enumerate() {
        let TextPart::Literal(text) = part else {
            continue;
        };
        let mut lines: Vec<String> = text
            .split('\n')
            .enumerate()
            .map(|(index, line)| {
                if index == 0 {
                    line.to_owned()
                } else {
                    let cut = line.len() - line.trim_start().len();
                    line[cut.min(indent)..].to_owned()
                }
            })
            .collect();
        if position == 0 && lines.len() > 1 && lines[0].trim().is_empty() {
            lines.remove(0);
        }
        if position + 1 == count
            && lines.len() > 1
            && lines.last().is_some_and(|line| line.trim().is_empty())
        {
            lines.pop();
        }
        *text = lines.join("\n");
    }
}
