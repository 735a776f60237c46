//! Evaluating compiled criteria and rendering templates against a lead.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::sealed::{Part, Sealed};
use crate::ast::OrderOp;
use crate::bytecode::{Case, CondOp, Condition, Period, Piece, Template, Test};
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

/// Whether compiled criteria hold at `now` (account timezone `zone`).
pub fn holds(condition: &Condition, fields: Fields<'_>, now: DateTime<Utc>, zone: Tz) -> bool {
    // The stack never holds more results than there are operations: small
    // criteria (nearly all) evaluate without allocating.
    const INLINE: usize = 32;
    let ops = &condition.ops;
    if ops.len() <= INLINE {
        evaluate(ops, fields, now, zone, &mut [false; INLINE])
    } else {
        evaluate(ops, fields, now, zone, &mut vec![false; ops.len()])
    }
}

/// Evaluates postfix criteria on `stack`, which has room for every result.
fn evaluate(
    ops: &[CondOp],
    fields: Fields<'_>,
    now: DateTime<Utc>,
    zone: Tz,
    stack: &mut [bool],
) -> bool {
    let mut depth = 0;
    for op in ops {
        match op {
            CondOp::Test { slot, test } => {
                stack[depth] = test_value(test, fields.get(*slot), now, zone);
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

/// One test; a missing value fails every test but `is not set`.
fn test_value(test: &Test, value: Option<&Value>, now: DateTime<Utc>, zone: Tz) -> bool {
    let Some(value) = value else {
        return matches!(test, Test::IsNotSet);
    };
    match test {
        Test::IsSet => true,
        Test::IsNotSet => false,
        Test::Is(literal) => equals(value, literal),
        Test::IsNot(literal) => !equals(value, literal),
        Test::OneOf(literals) => literals.iter().any(|literal| equals(value, literal)),
        Test::NotOneOf(literals) => !literals.iter().any(|literal| equals(value, literal)),
        Test::WithinLast(period) => match value {
            Value::Datetime(instant) => *instant >= before(now, *period, zone) && *instant <= now,
            _ => false,
        },
        Test::OlderThan(period) => match value {
            Value::Datetime(instant) => *instant < before(now, *period, zone),
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
        Test::Order(op, literal) => {
            let ordering = match (value, literal) {
                (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                (Value::Datetime(a), Value::Datetime(b)) => Some(a.cmp(b)),
                _ => None,
            };
            ordering.is_some_and(|ordering| match op {
                OrderOp::Greater => ordering.is_gt(),
                OrderOp::GreaterOrEqual => ordering.is_ge(),
                OrderOp::Less => ordering.is_lt(),
                OrderOp::LessOrEqual => ordering.is_le(),
            })
        }
    }
}

/// The first instant after `now` at which a time-relative test of
/// `condition` (`is older than`, `is within last`) can change its result
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
/// turns `period` old, and (for `within last`) when a future value arrives.
fn changes(test: &Test, value: &Value, zone: Tz) -> Vec<DateTime<Utc>> {
    let Value::Datetime(instant) = value else {
        return Vec::new();
    };
    let aged = |period: &Period| {
        let at = match *period {
            Period::Seconds(seconds) => {
                calendar::add_seconds(*instant, seconds.min(i64::MAX as u64) as i64)
            }
            Period::Days(days) => calendar::add_days(zone, *instant, days),
        };
        calendar::add_seconds(at, 1)
    };
    match test {
        Test::OlderThan(period) => vec![aged(period)],
        Test::WithinLast(period) => vec![*instant, aged(period)],
        _ => Vec::new(),
    }
}

/// The instant `period` before `now`: elapsed seconds, or calendar days.
fn before(now: DateTime<Utc>, period: Period, zone: Tz) -> DateTime<Utc> {
    match period {
        Period::Seconds(seconds) => {
            calendar::add_seconds(now, -(seconds.min(i64::MAX as u64) as i64))
        }
        Period::Days(days) => calendar::sub_days(zone, now, days),
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
            } => {
                let mut value = String::new();
                match fields.get(*slot) {
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
            Piece::JsonValue { slot, default } => match (fields.get(*slot), default) {
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
