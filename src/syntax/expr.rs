//! Criteria: comparisons joined with `and`, `or`, `not` and parentheses.

use pest::iterators::Pair;

use super::{children, content, first, span, Builder, Rule, SyntaxError};
use crate::ast::*;

impl Builder<'_> {
    /// `expr`: operands joined by one kind of operator.
    pub(super) fn expr(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let whole = span(&pair);
        let mut operands = Vec::new();
        let mut ops = Vec::new();
        for part in content(pair) {
            match part.as_rule() {
                Rule::logic_op => ops.push(if part.as_str() == "and" {
                    LogicOp::And
                } else {
                    LogicOp::Or
                }),
                _ => operands.push(self.unary(part)?),
            }
        }
        if ops.is_empty() {
            return operands.pop();
        }
        if ops.iter().any(|op| *op != ops[0]) {
            self.report(SyntaxError::MixedLogic {
                span: whole,
                help: format!("add parentheses: `{}`", self.parenthesized(&operands, &ops)),
            });
        }
        Some(Expr::Logic {
            op: ops[0],
            operands,
            span: whole,
        })
    }

    /// `a and b or c` written as `(a and b) or c`: `and` binds tighter.
    fn parenthesized(&self, operands: &[Expr], ops: &[LogicOp]) -> String {
        let text = |expr: &Expr| &self.source[expr.span().range()];
        let mut groups: Vec<Vec<&str>> = vec![vec![text(&operands[0])]];
        for (op, operand) in ops.iter().zip(&operands[1..]) {
            match op {
                LogicOp::And => groups
                    .last_mut()
                    .map(|group| group.push(text(operand)))
                    .unwrap_or_default(),
                LogicOp::Or => groups.push(vec![text(operand)]),
            }
        }
        groups
            .iter()
            .map(|group| match group.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("({})", many.join(" and ")),
            })
            .collect::<Vec<_>>()
            .join(" or ")
    }

    fn unary(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let at = span(&pair);
        match pair.as_rule() {
            Rule::negation => Some(Expr::Not(Box::new(self.unary(first(pair)?)?), at)),
            Rule::group => self.expr(first(pair)?),
            Rule::window_test => {
                let written = pair.as_str();
                let channel = Channel::from_keyword(first(pair)?.as_str())?;
                let open = !written.split_whitespace().any(|word| word == "not");
                Some(Expr::WindowOpen {
                    channel,
                    open,
                    span: at,
                })
            }
            _ => self.comparison(pair).map(Expr::Compare),
        }
    }

    /// `comparison`: a field and a test.
    fn comparison(&mut self, pair: Pair<'_, Rule>) -> Option<Comparison> {
        let at = span(&pair);
        let mut parts = pair.into_inner();
        let field = field_ref(&parts.next()?);
        let test_pair = parts.next()?;
        let test_span = span(&test_pair);
        let test = self.test(test_pair)?;
        Some(Comparison {
            field,
            test,
            test_span,
            span: at,
        })
    }

    fn test(&mut self, pair: Pair<'_, Rule>) -> Option<Test> {
        let rule = pair.as_rule();
        let mut values = children(pair);
        Some(match rule {
            Rule::is_set => Test::IsSet,
            Rule::is_not_set => Test::IsNotSet,
            Rule::is_one_of | Rule::is_not_one_of => {
                let list = values.filter_map(|value| self.literal(value)).collect();
                if rule == Rule::is_one_of {
                    Test::OneOf(list)
                } else {
                    Test::NotOneOf(list)
                }
            }
            Rule::is_within => Test::WithinLast(self.duration(values.next()?)),
            Rule::is_within_next => Test::WithinNext(self.duration(values.next()?)),
            Rule::is_older_than => Test::OlderThan(self.duration(values.next()?)),
            Rule::is_between => {
                let low = self.operand(values.next()?)?;
                Test::Between(low, self.operand(values.next()?)?)
            }
            Rule::is_before => Test::Before(self.operand(values.next()?)?),
            Rule::is_after => Test::After(self.operand(values.next()?)?),
            Rule::has_items => {
                let words = values
                    .next()?
                    .as_str()
                    .split_whitespace()
                    .collect::<Vec<_>>();
                let op = match words.as_slice() {
                    ["more", ..] => OrderOp::Greater,
                    ["fewer", ..] => OrderOp::Less,
                    [.., "most"] => OrderOp::LessOrEqual,
                    _ => OrderOp::GreaterOrEqual,
                };
                Test::Items(op, values.next()?.as_str().parse().unwrap_or(u32::MAX))
            }
            Rule::is_not => Test::IsNot(self.literal(values.next()?)?),
            Rule::is => Test::Is(self.literal(values.next()?)?),
            Rule::contains => Test::Contains(self.literal(values.next()?)?),
            Rule::not_contains => Test::NotContains(self.literal(values.next()?)?),
            Rule::starts_with => Test::StartsWith(self.literal(values.next()?)?),
            Rule::ends_with => Test::EndsWith(self.literal(values.next()?)?),
            Rule::compare => {
                let op = match values.next()?.as_str() {
                    ">" => OrderOp::Greater,
                    ">=" => OrderOp::GreaterOrEqual,
                    "<" => OrderOp::Less,
                    _ => OrderOp::LessOrEqual,
                };
                Test::Order(op, self.operand(values.next()?)?)
            }
            _ => return None,
        })
    }
}

/// A `field_ref`: a lead field, or `event.FIELD`.
pub(super) fn field_ref(pair: &Pair<'_, Rule>) -> FieldRef {
    let written = pair.as_str();
    FieldRef {
        name: written.strip_prefix("event.").unwrap_or(written).to_owned(),
        event: written.starts_with("event."),
        span: span(pair),
    }
}
