//! SQL conditions built as a query's filters ask for them, numbered for
//! the store when the WHERE clause is written.

use std::borrow::Cow;

use crate::store::Value;

/// A query's SQL conditions, with `?` for each parameter, and the
/// parameters in order; numbered when the clause is written.
#[derive(Default)]
pub struct Conditions {
    /// The conditions, `?` for each parameter.
    pub sql: Vec<String>,
    /// The parameters, in order.
    pub params: Vec<Value<'static>>,
}

impl Conditions {
    /// Adds a condition whose `?` placeholders take `values`, in order.
    pub fn add(&mut self, condition: &str, values: Vec<Value<'static>>) {
        self.sql.push(condition.to_owned());
        self.params.extend(values);
    }

    /// The conditions joined by AND, unnumbered.
    pub fn joined(&self) -> String {
        self.sql.join(" AND ")
    }

    /// `WHERE ...` with the placeholders numbered `?1`, `?2`...
    pub fn clause(&self) -> String {
        if self.sql.is_empty() {
            return String::new();
        }
        let mut out = String::from("WHERE ");
        for (index, part) in self.joined().split('?').enumerate() {
            if index > 0 {
                out.push_str(&format!("?{index}"));
            }
            out.push_str(part);
        }
        out
    }
}

/// `value` as an owned text parameter.
pub fn text(value: &str) -> Value<'static> {
    Value::Text(Cow::Owned(value.to_owned()))
}
