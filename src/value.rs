//! Field values of leads, events and extractions, and how they are read
//! from JSON and CSV according to a field's declared type.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ast::BaseType;
use crate::calendar;

/// A present field value. A missing value is `None` wherever values are kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// Free text.
    Text(Box<str>),
    /// A number.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// An instant.
    Datetime(DateTime<Utc>),
    /// A list of text.
    List(Box<[String]>),
}

/// The type of a field's values: a base type, or a list of text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueType {
    /// The element type.
    pub base: BaseType,
    /// Whether values are lists of `base`.
    pub list: bool,
}

impl ValueType {
    /// The type in words, for messages: `a number`, `a list of text`.
    pub fn describe(self) -> String {
        if self.list {
            format!("a list of {}", crate::schema::base_name(self.base))
        } else {
            crate::schema::with_article(self.base).to_owned()
        }
    }
}

/// A date literal as written: with an offset, or a local date-time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DateLiteral {
    /// `2026-03-08T09:30Z`, `2026-03-08T09:30:00+01:00`.
    Instant(DateTime<FixedOffset>),
    /// `2026-03-08` (midnight) or `2026-03-08T09:30`: a wall-clock time.
    Local(NaiveDateTime),
}

impl DateLiteral {
    /// Reads `2026-03-08`, `2026-03-08T09:30[:00]` and the same with `Z` or
    /// an offset; `None` if the text is none of these or not a real date.
    pub fn parse(text: &str) -> Option<DateLiteral> {
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return date.and_hms_opt(0, 0, 0).map(DateLiteral::Local);
        }
        let with_offset = text
            .strip_suffix('Z')
            .map_or_else(|| text.to_owned(), |rest| format!("{rest}+00:00"));
        for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"] {
            if let Ok(instant) = DateTime::parse_from_str(&with_offset, format) {
                return Some(DateLiteral::Instant(instant));
            }
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(DateLiteral::Local)
    }

    /// The instant meant, reading local times in `zone` (DST rules of
    /// [`calendar::resolve`]).
    pub fn instant(self, zone: Tz) -> DateTime<Utc> {
        match self {
            DateLiteral::Instant(instant) => instant.with_timezone(&Utc),
            DateLiteral::Local(local) => calendar::resolve(zone, local),
        }
    }
}

/// Why a value does not fit its field.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeMismatch {
    /// What the field expects, in words.
    pub expected: String,
    /// What was found, in words.
    pub found: String,
}

/// Reads a JSON value as a value of type `ty`; `null` is missing. Local
/// date-times are read in `zone`.
pub fn from_json(
    json: &serde_json::Value,
    ty: ValueType,
    zone: Tz,
) -> Result<Option<Value>, TypeMismatch> {
    use serde_json::Value as Json;
    let mismatch = || TypeMismatch {
        expected: ty.describe(),
        found: describe_json(json),
    };
    if json.is_null() {
        return Ok(None);
    }
    if ty.list {
        let Json::Array(items) = json else {
            return Err(mismatch());
        };
        return items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(mismatch))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| Some(Value::List(items.into_boxed_slice())));
    }
    let value = match (ty.base, json) {
        (BaseType::Text, Json::String(text)) => Value::Text(text.as_str().into()),
        (BaseType::Number, Json::Number(number)) => {
            Value::Number(number.as_f64().ok_or_else(mismatch)?)
        }
        (BaseType::Bool, Json::Bool(flag)) => Value::Bool(*flag),
        (BaseType::Datetime, Json::String(text)) => {
            Value::Datetime(DateLiteral::parse(text).ok_or_else(mismatch)?.instant(zone))
        }
        _ => return Err(mismatch()),
    };
    Ok(Some(value))
}

/// Reads CSV text as a value of type `ty`: an empty cell is missing, lists
/// are separated by `;`, booleans are `true`/`false`.
pub fn from_text(text: &str, ty: ValueType, zone: Tz) -> Result<Option<Value>, TypeMismatch> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let mismatch = || TypeMismatch {
        expected: ty.describe(),
        found: format!("`{text}`"),
    };
    if ty.list {
        let items = text.split(';').map(|item| item.trim().to_owned()).collect();
        return Ok(Some(Value::List(items)));
    }
    let value = match ty.base {
        BaseType::Text => Value::Text(text.into()),
        BaseType::Number => Value::Number(text.parse().map_err(|_| mismatch())?),
        BaseType::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(mismatch()),
        },
        BaseType::Datetime => {
            Value::Datetime(DateLiteral::parse(text).ok_or_else(mismatch)?.instant(zone))
        }
    };
    Ok(Some(value))
}

/// A JSON value's kind in words, for messages.
pub fn describe_json(json: &serde_json::Value) -> String {
    use serde_json::Value as Json;
    match json {
        Json::Null => "nothing".to_owned(),
        Json::Bool(_) => "true or false".to_owned(),
        Json::Number(number) => format!("the number {number}"),
        Json::String(text) => format!("the text {text:?}"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "an object".to_owned(),
    }
}

impl Value {
    /// The value as template text: numbers without a needless `.0`,
    /// instants in RFC 3339 in `zone`, lists joined with `, `.
    pub fn render(&self, zone: Tz, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Text(text) => out.push_str(text),
            Value::Number(number) => {
                let _ = write!(out, "{number}");
            }
            Value::Bool(flag) => {
                let _ = write!(out, "{flag}");
            }
            Value::Datetime(instant) => {
                out.push_str(&instant.with_timezone(&zone).to_rfc3339());
            }
            Value::List(items) => out.push_str(&items.join(", ")),
        }
    }

    /// The value as JSON, for extraction records and output.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Text(text) => text.as_ref().into(),
            Value::Number(number) => json_number(*number),
            Value::Bool(flag) => (*flag).into(),
            Value::Datetime(instant) => instant.to_rfc3339().into(),
            Value::List(items) => items.to_vec().into(),
        }
    }
}

/// A number as JSON: whole numbers without a fraction (`5200`, not `5200.0`).
fn json_number(number: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if number.fract() == 0.0 && number.abs() < EXACT {
        (number as i64).into()
    } else {
        number.into()
    }
}
