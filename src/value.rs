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
        DateLiteral::parse_plain(text).or_else(|| DateLiteral::parse_any(text))
    }

    /// The common shapes (`2026-03-08`, `2026-03-08T09:30[:00]`, with `Z`
    /// or `±HH:MM`) read digit by digit: lead files hold millions of them.
    /// `None` for anything else, which [`DateLiteral::parse_any`] reads.
    fn parse_plain(text: &str) -> Option<DateLiteral> {
        let bytes = text.as_bytes();
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let digits = bytes.get(range)?;
            digits.iter().try_fold(0u32, |total, byte| {
                byte.is_ascii_digit()
                    .then(|| total * 10 + u32::from(byte - b'0'))
            })
        };
        let at = |index: usize, byte: u8| bytes.get(index) == Some(&byte);
        if !(at(4, b'-') && at(7, b'-')) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
        if bytes.len() == 10 {
            return date.and_hms_opt(0, 0, 0).map(DateLiteral::Local);
        }
        if !(at(10, b'T') && at(13, b':')) {
            return None;
        }
        let (seconds, rest) = if at(16, b':') {
            (number(17..19)?, 19)
        } else {
            (0, 16)
        };
        let local = date.and_hms_opt(number(11..13)?, number(14..16)?, seconds)?;
        let offset = match &bytes[rest..] {
            [] => return Some(DateLiteral::Local(local)),
            [b'Z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (hours, minutes) = (number(rest + 1..rest + 3)?, number(rest + 4..rest + 6)?);
                if minutes >= 60 {
                    return None;
                }
                let minutes = hours * 60 + minutes;
                let seconds = (minutes * 60) as i32;
                if *sign == b'-' {
                    -seconds
                } else {
                    seconds
                }
            }
            _ => return None,
        };
        let offset = FixedOffset::east_opt(offset)?;
        local
            .and_local_timezone(offset)
            .single()
            .map(DateLiteral::Instant)
    }

    /// Every shape [`DateLiteral::parse`] reads, by chrono's parser.
    fn parse_any(text: &str) -> Option<DateLiteral> {
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

#[cfg(test)]
mod tests {
    use super::DateLiteral;
    use proptest::prelude::*;

    proptest! {
        /// The digit-by-digit reader agrees with chrono's on every text it
        /// reads, valid dates or not, and leaves the rest to it.
        #[test]
        fn plain_dates_read_as_chrono_reads_them(
            text in "[0-9]{4}-[0-3][0-9]-[0-3][0-9](T[0-2][0-9]:[0-6][0-9](:[0-6][0-9])?(Z|[+-][0-2][0-9]:[0-6][0-9]|\\.5Z|z)?)?",
        ) {
            if let Some(plain) = DateLiteral::parse_plain(&text) {
                prop_assert_eq!(Some(plain), DateLiteral::parse_any(&text));
            }
            prop_assert_eq!(DateLiteral::parse(&text), DateLiteral::parse_any(&text));
        }
    }

    #[test]
    fn plain_dates_read_every_shape() {
        for text in [
            "2026-03-08",
            "2026-03-08T09:30",
            "2026-03-08T09:30:15",
            "2026-03-08T09:30Z",
            "2026-03-08T09:30:15Z",
            "2026-03-08T09:30:15+05:30",
            "2026-03-08T09:30-08:00",
        ] {
            let plain = DateLiteral::parse_plain(text);
            assert!(plain.is_some(), "{text}");
            assert_eq!(plain, DateLiteral::parse_any(text), "{text}");
        }
    }
}
