//! Criteria, literals, and quoted text with templates.

use super::{Channel, Duration, Ident};
use crate::span::Span;
/// Criteria over lead fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `FIELD TEST`.
    Compare(Comparison),
    /// `not EXPR`.
    Not(Box<Expr>, Span),
    /// `email window is [not] open`: whether a channel's window is open
    /// now, for the lead.
    WindowOpen {
        /// The channel whose window is tested.
        channel: Channel,
        /// `is open` (true) or `is not open` (false).
        open: bool,
        /// The whole test.
        span: Span,
    },
    /// Operands joined by one operator.
    Logic {
        /// `and` or `or`.
        op: LogicOp,
        /// Two or more operands.
        operands: Vec<Expr>,
        /// The whole expression.
        span: Span,
    },
}

impl Expr {
    /// The expression's span.
    pub fn span(&self) -> Span {
        match self {
            Expr::Compare(comparison) => comparison.span,
            Expr::Not(_, span) | Expr::Logic { span, .. } | Expr::WindowOpen { span, .. } => *span,
        }
    }
}

/// `and` / `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicOp {
    /// Both hold.
    And,
    /// Either holds.
    Or,
}

/// `FIELD TEST`: one comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The field tested.
    pub field: FieldRef,
    /// The test.
    pub test: Test,
    /// Where the test (operator and operands) was written.
    pub test_span: Span,
    /// The whole comparison.
    pub span: Span,
}

/// A reference to a lead field, or `event.FIELD` to the trigger's payload.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// The field's name.
    pub name: String,
    /// Whether it names an event payload field.
    pub event: bool,
    /// Where it was written.
    pub span: Span,
}

/// The tests a comparison may make.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `is set`.
    IsSet,
    /// `is not set`.
    IsNotSet,
    /// `is VALUE`.
    Is(Literal),
    /// `is not VALUE`.
    IsNot(Literal),
    /// `is one of A, B`.
    OneOf(Vec<Literal>),
    /// `is not one of A, B`.
    NotOneOf(Vec<Literal>),
    /// `is within last 7 days`.
    WithinLast(Duration),
    /// `is older than 90 days`.
    OlderThan(Duration),
    /// `is within next 7 days`: an instant from now to the duration ahead.
    WithinNext(Duration),
    /// `is between LOW and HIGH`, both included.
    Between(Operand, Operand),
    /// `is before VALUE`: an earlier instant.
    Before(Operand),
    /// `is after VALUE`: a later instant.
    After(Operand),
    /// `has more than / fewer than / at least / at most N items`.
    Items(OrderOp, u32),
    /// `contains VALUE`: a substring or a list element.
    Contains(Literal),
    /// `does not contain VALUE`.
    NotContains(Literal),
    /// `starts with VALUE`.
    StartsWith(Literal),
    /// `ends with VALUE`.
    EndsWith(Literal),
    /// `> >= < <= VALUE`.
    Order(OrderOp, Operand),
}

impl Test {
    /// The other fields the test compares with.
    pub fn fields(&self) -> impl Iterator<Item = &FieldRef> {
        let operands = match self {
            Test::Order(_, operand) | Test::Before(operand) | Test::After(operand) => {
                vec![operand]
            }
            Test::Between(low, high) => vec![low, high],
            _ => Vec::new(),
        };
        operands.into_iter().filter_map(|operand| match operand {
            Operand::Field(field) => Some(field),
            Operand::Literal(_) => None,
        })
    }
}

/// What a field is compared with: a value written out, or another field.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A literal value.
    Literal(Literal),
    /// Another field's value.
    Field(FieldRef),
}

impl Operand {
    /// Where it was written.
    pub fn span(&self) -> Span {
        match self {
            Operand::Literal(literal) => literal.span,
            Operand::Field(field) => field.span,
        }
    }
}

/// An ordering operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OrderOp {
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
}

/// A literal value in criteria or a template filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: LiteralValue,
    /// Where it was written.
    pub span: Span,
}

/// Literal values.
#[derive(Clone, Debug, PartialEq)]
pub enum LiteralValue {
    /// `"text"` (templates are not allowed here).
    Text(String),
    /// `42`, `-1.5`.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `2026-03-08` or `2026-03-08T09:30[:00][Z|+01:00]`, unvalidated.
    Datetime(String),
}

/// Text in quotes, with `{{ }}` templates.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    /// Literal runs and templates in order.
    pub parts: Vec<TextPart>,
    /// The whole quoted text.
    pub span: Span,
}

impl Text {
    /// The templates in the text.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.parts.iter().filter_map(|part| match part {
            TextPart::Template(template) => Some(template),
            TextPart::Literal(_) => None,
        })
    }

    /// For each template in order, whether it stands outside every JSON
    /// string of the text (a JSON value position) rather than inside one.
    pub fn json_value_positions(&self) -> Vec<bool> {
        let mut positions = Vec::new();
        let mut in_string = false;
        let mut escaped = false;
        for part in &self.parts {
            match part {
                TextPart::Literal(text) => {
                    for c in text.chars() {
                        match (escaped, c) {
                            (true, _) => escaped = false,
                            (false, '\\') if in_string => escaped = true,
                            (false, '"') => in_string = !in_string,
                            _ => {}
                        }
                    }
                }
                TextPart::Template(_) => positions.push(!in_string),
            }
        }
        positions
    }

    /// The text without its templates.
    pub fn static_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|part| match part {
                TextPart::Literal(text) => Some(text.as_str()),
                TextPart::Template(_) => None,
            })
            .collect()
    }
}

/// A piece of quoted text.
#[derive(Clone, Debug, PartialEq)]
pub enum TextPart {
    /// Text taken as written (escapes resolved, indentation removed).
    Literal(String),
    /// `{{ ... }}`.
    Template(Template),
}

/// `{{ field | filter: arg }}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// `field`, `event.field` or `env.NAME`.
    pub path: TemplatePath,
    /// An optional filter.
    pub filter: Option<Filter>,
    /// The whole template, braces included.
    pub span: Span,
}

/// What a template renders.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePath {
    /// A lead field.
    Field(Ident),
    /// `event.NAME`: a payload field of the trigger event.
    Event(Ident),
    /// `env.NAME`: an environment variable (http steps only).
    Env(Ident),
    /// `OTHER.NAME` with an unknown namespace.
    Unknown {
        /// The namespace written.
        namespace: Ident,
        /// The member written.
        member: Ident,
    },
}

/// `| name: arg`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The filter's name.
    pub name: Ident,
    /// Its argument: a value, or (for `default`) another field.
    pub arg: Option<Operand>,
    /// The whole filter.
    pub span: Span,
}
