//! Compiled criteria: tests of a lead's fields in postfix order, as the
//! trigger, goals, conditions and waits use them.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::ast::{Channel, OrderOp};
use crate::value::Value;

/// Compiled criteria in postfix order, evaluated with a small stack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The operations.
    pub ops: Vec<CondOp>,
}

/// One operation of compiled criteria.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CondOp {
    /// Pushes the result of testing a slot.
    Test {
        /// The field tested.
        slot: u32,
        /// The test.
        test: Test,
    },
    /// Negates the top of the stack.
    Not,
    /// Replaces the top `n` results with whether all hold.
    And(u32),
    /// Replaces the top `n` results with whether any holds.
    Or(u32),
    /// Pushes whether the channel's window is open now for the lead (open
    /// when the workflow sets none).
    WindowOpen(Channel),
}

/// A test of one value. Every test but `IsNotSet` is false on a missing value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Test {
    /// The value is present.
    IsSet,
    /// The value is missing.
    IsNotSet,
    /// Equal to the literal.
    Is(Value),
    /// Present and not equal.
    IsNot(Value),
    /// Equal to one of the literals.
    OneOf(Vec<Value>),
    /// Present and equal to none.
    NotOneOf(Vec<Value>),
    /// An instant no older than the duration.
    WithinLast(Period),
    /// An instant older than the duration.
    OlderThan(Period),
    /// Text containing a substring, or a list containing an element.
    Contains(String),
    /// Present and not containing it.
    NotContains(String),
    /// Text starting with it.
    StartsWith(String),
    /// Text ending with it.
    EndsWith(String),
    /// Ordered against a number or an instant.
    Order(OrderOp, Value),
    /// Ordered against another field's value (false when it is missing).
    Against(OrderOp, u32),
    /// Between two bounds, both included.
    Between(Operand, Operand),
    /// An instant from now to the duration ahead, both included.
    WithinNext(Period),
    /// A list whose length is ordered against the count.
    Items(OrderOp, u32),
}

/// A bound of a test: a constant, or another field's value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// A constant.
    Value(Value),
    /// The value in a slot.
    Slot(u32),
}

/// A length of time in a test: elapsed seconds, or calendar days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    /// Elapsed seconds.
    Seconds(u64),
    /// Calendar days in the account timezone.
    Days(u64),
}

impl Period {
    /// `at` moved by the period, later or (`back`) earlier: elapsed
    /// seconds, or calendar days at the same wall-clock time in `zone`.
    pub fn shift(
        self,
        zone: Tz,
        at: chrono::DateTime<chrono::Utc>,
        back: bool,
    ) -> chrono::DateTime<chrono::Utc> {
        match (self, back) {
            (Period::Seconds(seconds), back) => {
                let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
                crate::calendar::add_seconds(at, if back { -seconds } else { seconds })
            }
            (Period::Days(days), false) => crate::calendar::add_days(zone, at, days),
            (Period::Days(days), true) => crate::calendar::sub_days(zone, at, days),
        }
    }
}
