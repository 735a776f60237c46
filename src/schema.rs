//! The lead schema: standard fields every lead has, and how types read.

use crate::ast::{BaseType, FieldType};

/// Standard lead fields, present in every workflow without declaration.
/// Every one of them may be missing on a given lead.
pub const STANDARD_FIELDS: &[(&str, BaseType, &str)] = &[
    ("email", BaseType::Text, "the lead's email address"),
    ("first_name", BaseType::Text, "the lead's first name"),
    ("last_name", BaseType::Text, "the lead's last name"),
    (
        "phone_number",
        BaseType::Text,
        "the lead's phone number, E.164 like +15550100",
    ),
    ("job_title", BaseType::Text, "the lead's job title"),
    ("company_name", BaseType::Text, "the lead's company"),
    (
        "num_employees",
        BaseType::Number,
        "how many people the lead's company employs",
    ),
    (
        "timezone",
        BaseType::Text,
        "the lead's IANA timezone, like Europe/Berlin",
    ),
    (
        "assigned_rep_email",
        BaseType::Text,
        "the email of the lead's sales rep",
    ),
    (
        "assigned_rep_name",
        BaseType::Text,
        "the name of the lead's sales rep",
    ),
];

/// A type in words, for messages: `a number`, `a list of text`.
pub fn describe(ty: &FieldType) -> String {
    if ty.list {
        format!("a list of {}", base_name(ty.base))
    } else {
        with_article(ty.base).to_owned()
    }
}

/// The keyword of a base type.
pub fn base_name(base: BaseType) -> &'static str {
    match base {
        BaseType::Text => "text",
        BaseType::Number => "number",
        BaseType::Bool => "bool",
        BaseType::Datetime => "datetime",
    }
}

/// A base type in words with its article: `a number`, `text`.
pub fn with_article(base: BaseType) -> &'static str {
    match base {
        BaseType::Text => "text",
        BaseType::Number => "a number",
        BaseType::Bool => "true or false",
        BaseType::Datetime => "a date and time",
    }
}
