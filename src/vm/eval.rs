//! Evaluating compiled criteria and rendering templates against a lead.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::sealed::{Part, Sealed};
use crate::ast::{Channel, OrderOp};
use crate::bytecode::{Case, CondOp, Condition, Operand, Piece, Template, Test};
use crate::calendar;
use crate::value::Value;

/// The values an enrollment can see: the lead's fields (declared, standard
/// and extracted) and the payload of the event that started it.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    /// Lead slots, by slot index.
    pub lead: &'a [Option<Value>],
    /// Event payload slots, numbered after the lead's.
    pub event: &'a [Option<Value>],
}

impl<'a> Fields<'a> {
    /// The value of a slot, if present.
    pub fn get(&self, slot: u32) -> Option<&'a Value> {
        let slot = slot as usize;
        match self.lead.get(slot) {
            Some(value) => value.as_ref(),
            None => self.event.get(slot - self.lead.len())?.as_ref(),
        }
    }
}

/// How rendered values are escaped for where the text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Escape {
    /// As they are: subjects, bodies, messages.
    Plain,
    /// Inside JSON text: quotes, backslashes and control characters escaped.
    Json,
    /// Inside a URL: everything but unreserved characters percent-encoded.
    Url,
    /// Inside Markdown (email bodies, Teams cards): the characters that
    /// make links, images, emphasis, code, headings and tables
    /// backslash-escaped, so only the author's text formats.
    Markdown,
    /// Inside Slack mrkdwn: `&`, `<` and `>` as entities, as Slack asks, so
    /// no link, mention (`<!channel>`) or command forms.
    Slack,
}

/// What [`Escape::Markdown`] escapes.
const MARKDOWN_SPECIAL: &[u8] = b"\\`*_[]()<>!~|#";

/// The moment criteria are tested at: the instant, the account timezone,
/// and whether each channel's window is open for the lead.
#[derive(Clone, Copy)]
pub struct Moment<'a> {
    /// The instant.
    pub now: DateTime<Utc>,
    /// The account timezone, for calendar days.
    pub zone: Tz,
    /// Whether a channel's window is open now.
    pub open: &'a dyn Fn(Channel) -> bool,
}

/// Whether compiled criteria hold at `moment`.
pub fn holds(condition: &Condition, fields: Fields<'_>, moment: Moment<'_>) -> bool {
    // The stack never holds more results than there are operations: small
    // criteria (nearly all) evaluate without allocating.
    const INLINE: usize = 32;
    let ops = &condition.ops;
    if ops.len() <= INLINE {
        evaluate(ops, fields, moment, &mut [false; INLINE])
    } else {
        evaluate(ops, fields, moment, &mut vec![false; ops.len()])
    }
}

/// Evaluates postfix criteria on `stack`, which has room for every result.
fn evaluate(ops: &[CondOp], fields: Fields<'_>, moment: Moment<'_>, stack: &mut [bool]) -> bool {
    let mut depth = 0;
    for op in ops {
        match op {
            CondOp::Test { slot, test } => {
                stack[depth] = test_value(test, fields.get(*slot), fields, moment);
                depth += 1;
            }
            CondOp::WindowOpen(channel) => {
                stack[depth] = (moment.open)(*channel);
                depth += 1;
            }
            CondOp::Not => {
                if let Some(top) = depth.checked_sub(1) {
                    stack[top] = !stack[top];
                }
            }
            CondOp::And(count) | CondOp::Or(count) => {
                let from = depth.saturating_sub(*count as usize);
                let operands = &stack[from..depth];
                let result = if matches!(op, CondOp::And(_)) {
                    operands.iter().all(|value| *value)
                } else {
                    operands.iter().any(|value| *value)
                };
                stack[from] = result;
                depth = from + 1;
            }
        }
    }
    depth.checked_sub(1).is_some_and(|top| stack[top])
}

/// One test; a missing value fails every test but `is not set`, and a
/// test against another field fails when that field is missing.
fn test_value(test: &Test, value: Option<&Value>, fields: Fields<'_>, moment: Moment<'_>) -> bool {
    let Some(value) = value else {
        return matches!(test, Test::IsNotSet);
    };
    let Moment { now, zone, .. } = moment;
    match test {
        Test::IsSet => true,
        Test::IsNotSet => false,
        Test::Is(literal) => equals(value, literal),
        Test::IsNot(literal) => !equals(value, literal),
        Test::OneOf(literals) => literals.iter().any(|literal| equals(value, literal)),
        Test::NotOneOf(literals) => !literals.iter().any(|literal| equals(value, literal)),
        Test::WithinLast(period) => match value {
            Value::Datetime(instant) => {
                *instant >= period.shift(zone, now, true) && *instant <= now
            }
            _ => false,
        },
        Test::WithinNext(period) => match value {
            Value::Datetime(instant) => {
                *instant >= now && *instant <= period.shift(zone, now, false)
            }
            _ => false,
        },
        Test::OlderThan(period) => match value {
            Value::Datetime(instant) => *instant < period.shift(zone, now, true),
            _ => false,
        },
        Test::Contains(needle) => contains(value, needle),
        Test::NotContains(needle) => !contains(value, needle),
        Test::StartsWith(prefix) => {
            matches!(value, Value::Text(text) if text.starts_with(prefix.as_str()))
        }
        Test::EndsWith(suffix) => {
            matches!(value, Value::Text(text) if text.ends_with(suffix.as_str()))
        }
        Test::Order(op, literal) => ordered(*op, compare(value, literal)),
        Test::Against(op, slot) => ordered(
            *op,
            fields.get(*slot).and_then(|other| compare(value, other)),
        ),
        Test::Between(low, high) => {
            let above = bound(low, fields).and_then(|low| compare(value, low));
            let below = bound(high, fields).and_then(|high| compare(value, high));
            ordered(OrderOp::GreaterOrEqual, above) && ordered(OrderOp::LessOrEqual, below)
        }
        Test::Items(op, count) => match value {
            Value::List(items) => ordered(*op, Some(items.len().cmp(&(*count as usize)))),
            _ => false,
        },
    }
}

/// The value of a bound: a constant, or a field's value if present.
fn bound<'v>(operand: &'v Operand, fields: Fields<'v>) -> Option<&'v Value> {
    match operand {
        Operand::Value(value) => Some(value),
        Operand::Slot(slot) => fields.get(*slot),
    }
}

/// How two numbers or two instants compare; `None` for anything else.
fn compare(value: &Value, other: &Value) -> Option<std::cmp::Ordering> {
    match (value, other) {
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::Datetime(a), Value::Datetime(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Whether an ordering satisfies the operator (never when there is none).
fn ordered(op: OrderOp, ordering: Option<std::cmp::Ordering>) -> bool {
    ordering.is_some_and(|ordering| match op {
        OrderOp::Greater => ordering.is_gt(),
        OrderOp::GreaterOrEqual => ordering.is_ge(),
        OrderOp::Less => ordering.is_lt(),
        OrderOp::LessOrEqual => ordering.is_le(),
    })
}

/// The first instant after `now` at which a time-relative test of
/// `condition` (`is older than`, `is within last`, `is within next`) can change its result
/// for these fields, if any can: the values do not change, only the clock.
pub fn next_change(
    condition: &Condition,
    fields: Fields<'_>,
    now: DateTime<Utc>,
    zone: Tz,
) -> Option<DateTime<Utc>> {
    condition
        .ops
        .iter()
        .filter_map(|op| match op {
            CondOp::Test { slot, test } => Some((fields.get(*slot)?, test)),
            _ => None,
        })
        .flat_map(|(value, test)| changes(test, value, zone))
        .filter(|&at| at > now)
        .min()
}

/// The instants at which `test` of `value` can flip: just after the value
/// turns `period` old, when a future value arrives (`within last`), and
/// when it comes `period` near and once it has passed (`within next`).
fn changes(test: &Test, value: &Value, zone: Tz) -> Vec<DateTime<Utc>> {
    let Value::Datetime(instant) = value else {
        return Vec::new();
    };
    let after = |at| calendar::add_seconds(at, 1);
    match test {
        Test::OlderThan(period) => vec![after(period.shift(zone, *instant, false))],
        Test::WithinLast(period) => vec![*instant, after(period.shift(zone, *instant, false))],
        Test::WithinNext(period) => vec![period.shift(zone, *instant, true), after(*instant)],
        _ => Vec::new(),
    }
}

fn equals(value: &Value, literal: &Value) -> bool {
    match (value, literal) {
        (Value::List(items), Value::Text(text)) => items.len() == 1 && *items[0] == **text,
        _ => value == literal,
    }
}

fn contains(value: &Value, needle: &str) -> bool {
    match value {
        Value::Text(text) => text.contains(needle),
        Value::List(items) => items.iter().any(|item| item == needle),
        _ => false,
    }
}

/// Renders a template into `out`. Missing values render as their default
/// or as nothing; `env.NAME` renders as `{{ env.NAME }}`, never its value
/// (secrets are read only by providers, through [`sealed`]).
pub fn render(template: &Template, fields: Fields<'_>, zone: Tz, escape: Escape, out: &mut String) {
    render_with(template, fields, zone, escape, out, |name, out| {
        out.push_str("{{ env.");
        out.push_str(name);
        out.push_str(" }}");
    });
}

/// Renders a template with its `env.NAME` pieces kept as references, for a
/// provider to read at delivery.
pub fn sealed(template: &Template, fields: Fields<'_>, zone: Tz, escape: Escape) -> Sealed {
    let mut parts = Vec::new();
    let mut text = String::new();
    render_with(template, fields, zone, escape, &mut text, |name, text| {
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(text)));
        }
        parts.push(Part::Env(name.to_owned()));
    });
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Sealed::new(escape, parts)
}

/// Renders literals and fields into `out`, and hands each `env.NAME` to
/// `env` with the text so far.
fn render_with(
    template: &Template,
    fields: Fields<'_>,
    zone: Tz,
    escape: Escape,
    out: &mut String,
    mut env: impl FnMut(&str, &mut String),
) {
    for piece in &template.pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Field {
                slot,
                default,
                case,
                fallback,
            } => {
                let mut value = String::new();
                match fields.get(*slot).or_else(|| fields.get((*fallback)?)) {
                    Some(present) => present.render(zone, &mut value),
                    None => value.push_str(default.as_deref().unwrap_or("")),
                }
                let value = match case {
                    Some(Case::Upper) => value.to_uppercase(),
                    Some(Case::Lower) => value.to_lowercase(),
                    None => value,
                };
                push_escaped(&value, escape, out);
            }
            Piece::JsonValue {
                slot,
                default,
                fallback,
            } => match (
                fields.get(*slot).or_else(|| fields.get((*fallback)?)),
                default,
            ) {
                (Some(present), _) => out.push_str(&present.to_json().to_string()),
                (None, Some(default)) => out.push_str(default),
                (None, None) => out.push_str("null"),
            },
            Piece::Env(name) => env(name, out),
        }
    }
}

/// `value` escaped for where it goes.
pub fn escaped(value: &str, escape: Escape) -> String {
    let mut out = String::with_capacity(value.len());
    push_escaped(value, escape, &mut out);
    out
}

/// Appends `value` to `out`, escaped for where it goes.
pub(super) fn push_escaped(value: &str, escape: Escape, out: &mut String) {
    match escape {
        Escape::Plain => out.push_str(value),
        Escape::Json => {
            let quoted = serde_json::Value::String(value.to_owned()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
        Escape::Url => {
            for byte in value.bytes() {
                if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        Escape::Markdown => {
            for character in value.chars() {
                if character.is_ascii() && MARKDOWN_SPECIAL.contains(&(character as u8)) {
                    out.push('\\');
                }
                out.push(character);
            }
        }
        Escape::Slack => {
            for character in value.chars() {
                match character {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    other => out.push(other),
                }
            }
        }
    }
}
