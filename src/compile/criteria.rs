//! Criteria to postfix conditions and quoted text to templates, with every
//! field resolved to its slot.

use super::{period, Compiler};
use crate::ast::{
    Expr, FieldRef, Filter, Literal, LiteralValue, LogicOp, Operand as AstOperand, OrderOp,
    TemplatePath, Test as AstTest, Text, TextPart,
};
use crate::bytecode::{Case, CondOp, Condition, Operand, Piece, Template, Test};
use crate::value::{DateLiteral, Value};

impl Compiler<'_> {
    /// Compiles criteria into the constant pool; returns its index.
    pub(super) fn condition(&mut self, expr: &Expr) -> u32 {
        let mut ops = Vec::new();
        self.expr(expr, &mut ops);
        self.program.conditions.push(Condition { ops });
        (self.program.conditions.len() - 1) as u32
    }

    fn expr(&self, expr: &Expr, ops: &mut Vec<CondOp>) {
        match expr {
            Expr::Compare(comparison) => ops.push(CondOp::Test {
                slot: self.field_slot(&comparison.field),
                test: self.test(&comparison.test),
            }),
            Expr::WindowOpen { channel, open, .. } => {
                ops.push(CondOp::WindowOpen(*channel));
                if !open {
                    ops.push(CondOp::Not);
                }
            }
            Expr::Not(inner, _) => {
                self.expr(inner, ops);
                ops.push(CondOp::Not);
            }
            Expr::Logic { op, operands, .. } => {
                for operand in operands {
                    self.expr(operand, ops);
                }
                let count = operands.len() as u32;
                ops.push(match op {
                    LogicOp::And => CondOp::And(count),
                    LogicOp::Or => CondOp::Or(count),
                });
            }
        }
    }

    /// The slot of a lead field or `event.FIELD` the checker proved to exist.
    fn field_slot(&self, field: &FieldRef) -> u32 {
        if field.event {
            self.slot(&format!("{}.{}", self.payload, field.name))
        } else {
            self.slot(&field.name)
        }
    }

    /// The slot of a field the checker proved to exist.
    pub(super) fn slot(&self, name: &str) -> u32 {
        self.program.slot(name).unwrap_or(u32::MAX)
    }

    fn test(&self, test: &AstTest) -> Test {
        match test {
            AstTest::IsSet => Test::IsSet,
            AstTest::IsNotSet => Test::IsNotSet,
            AstTest::Is(literal) => Test::Is(self.literal(literal)),
            AstTest::IsNot(literal) => Test::IsNot(self.literal(literal)),
            AstTest::OneOf(literals) => Test::OneOf(
                literals
                    .iter()
                    .map(|literal| self.literal(literal))
                    .collect(),
            ),
            AstTest::NotOneOf(literals) => Test::NotOneOf(
                literals
                    .iter()
                    .map(|literal| self.literal(literal))
                    .collect(),
            ),
            AstTest::WithinLast(duration) => Test::WithinLast(period(duration)),
            AstTest::OlderThan(duration) => Test::OlderThan(period(duration)),
            AstTest::Contains(literal) => Test::Contains(literal_text(literal)),
            AstTest::NotContains(literal) => Test::NotContains(literal_text(literal)),
            AstTest::StartsWith(literal) => Test::StartsWith(literal_text(literal)),
            AstTest::EndsWith(literal) => Test::EndsWith(literal_text(literal)),
            AstTest::Order(op, operand) => self.order(*op, operand),
            AstTest::Before(operand) => self.order(OrderOp::Less, operand),
            AstTest::After(operand) => self.order(OrderOp::Greater, operand),
            AstTest::Between(low, high) => Test::Between(self.operand(low), self.operand(high)),
            AstTest::WithinNext(duration) => Test::WithinNext(period(duration)),
            AstTest::Items(op, count) => Test::Items(*op, *count),
        }
    }

    /// An ordering test against a value or another field.
    fn order(&self, op: OrderOp, operand: &AstOperand) -> Test {
        match self.operand(operand) {
            Operand::Value(value) => Test::Order(op, value),
            Operand::Slot(slot) => Test::Against(op, slot),
        }
    }

    fn operand(&self, operand: &AstOperand) -> Operand {
        match operand {
            AstOperand::Literal(literal) => Operand::Value(self.literal(literal)),
            AstOperand::Field(field) => Operand::Slot(self.field_slot(field)),
        }
    }

    /// A literal as a value; local dates are read in the account timezone.
    fn literal(&self, literal: &Literal) -> Value {
        match &literal.value {
            LiteralValue::Text(text) => Value::Text(text.as_str().into()),
            LiteralValue::Number(number) => Value::Number(*number),
            LiteralValue::Bool(flag) => Value::Bool(*flag),
            LiteralValue::Datetime(text) => match DateLiteral::parse(text) {
                Some(date) => Value::Datetime(date.instant(self.program.timezone)),
                None => Value::Text(text.as_str().into()),
            },
        }
    }

    /// The slot of the field a `default: FIELD` filter names.
    fn default_field(&self, filter: &Filter) -> Option<u32> {
        match &filter.arg {
            Some(AstOperand::Field(field)) if filter.name.name == "default" => {
                Some(self.field_slot(field))
            }
            _ => None,
        }
    }

    /// Compiles quoted text into the constant pool; returns its index.
    pub(super) fn text(&mut self, text: &Text) -> u32 {
        let pieces = text
            .parts
            .iter()
            .map(|part| match part {
                TextPart::Literal(literal) => Piece::Literal(literal.clone()),
                TextPart::Template(template) => {
                    let (default, case) = match &template.filter {
                        Some(filter) => match filter.name.name.as_str() {
                            "default" => (default_literal(filter).map(literal_text), None),
                            "upper" => (None, Some(Case::Upper)),
                            "lower" => (None, Some(Case::Lower)),
                            _ => (None, None),
                        },
                        None => (None, None),
                    };
                    let fallback = template
                        .filter
                        .as_ref()
                        .and_then(|filter| self.default_field(filter));
                    match &template.path {
                        TemplatePath::Field(field) if field.name == "unsubscribe_url" => {
                            Piece::Literal(crate::schema::UNSUBSCRIBE_URL.to_owned())
                        }
                        TemplatePath::Field(field) => Piece::Field {
                            slot: self.slot(&field.name),
                            default,
                            case,
                            fallback,
                        },
                        TemplatePath::Event(field) => Piece::Field {
                            slot: self.slot(&format!("{}.{}", self.payload, field.name)),
                            default,
                            case,
                            fallback,
                        },
                        TemplatePath::Env(name) => Piece::Env(name.name.clone()),
                        TemplatePath::Unknown { .. } => Piece::Literal(String::new()),
                    }
                }
            })
            .collect();
        self.program.texts.push(Template { pieces });
        (self.program.texts.len() - 1) as u32
    }

    /// Compiles a JSON body: templates outside its strings render their
    /// values as JSON (the checker proved each is a number, a bool or a
    /// list, and has a default where it may be missing).
    pub(super) fn json_text(&mut self, text: &Text) -> u32 {
        let id = self.text(text);
        let positions = text.json_value_positions();
        let literals = text.templates().map(|template| match &template.filter {
            Some(filter) if filter.name.name == "default" => {
                default_literal(filter).map(json_literal)
            }
            _ => None,
        });
        let mut templates = positions.into_iter().zip(literals);
        if let Some(template) = self.program.texts.get_mut(id as usize) {
            for piece in &mut template.pieces {
                if matches!(piece, Piece::Literal(_)) {
                    continue;
                }
                let Some((outside, default)) = templates.next() else {
                    break;
                };
                if let (true, Piece::Field { slot, fallback, .. }) = (outside, &*piece) {
                    *piece = Piece::JsonValue {
                        slot: *slot,
                        default,
                        fallback: *fallback,
                    };
                }
            }
        }
        id
    }

    /// Compiles plain text (no templates) into the constant pool.
    pub(super) fn plain_text(&mut self, text: String) -> u32 {
        self.program.texts.push(Template {
            pieces: vec![Piece::Literal(text)],
        });
        (self.program.texts.len() - 1) as u32
    }
}

/// A `default` filter's argument when it is a value.
fn default_literal(filter: &Filter) -> Option<&Literal> {
    match &filter.arg {
        Some(AstOperand::Literal(literal)) if filter.name.name == "default" => Some(literal),
        _ => None,
    }
}

/// A default filter's argument as JSON text.
fn json_literal(literal: &Literal) -> String {
    match &literal.value {
        LiteralValue::Text(text) | LiteralValue::Datetime(text) => {
            serde_json::Value::String(text.clone()).to_string()
        }
        LiteralValue::Number(number) => number.to_string(),
        LiteralValue::Bool(flag) => flag.to_string(),
    }
}

/// A literal as template text: a default filter's argument.
fn literal_text(literal: &Literal) -> String {
    match &literal.value {
        LiteralValue::Text(text) | LiteralValue::Datetime(text) => text.clone(),
        LiteralValue::Number(number) => number.to_string(),
        LiteralValue::Bool(flag) => flag.to_string(),
    }
}
