//! The lead schema: standard fields every lead has, the events flowc
//! raises itself, and how types read.

use std::sync::LazyLock;

use crate::ast::{BaseType, EventDecl, FieldDecl, FieldType, Ident, Outcome};
use crate::span::Span;

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

/// The template an email uses for its recipient's unsubscribe link:
/// compiled as this literal text, which the email provider replaces with
/// the signed link when it sends.
pub const UNSUBSCRIBE_URL: &str = "{{ unsubscribe_url }}";

/// An event flowc raises itself: workflows use it without declaring it.
pub struct BuiltinEvent {
    /// Its name.
    pub name: &'static str,
    /// When it happens, for hover and the docs.
    pub about: &'static str,
    /// Its payload fields: name, type, description. Any may be missing.
    pub fields: &'static [(&'static str, BaseType, &'static str)],
}

/// The built-in events, raised by `flowc serve` (replies, opt-outs,
/// unsubscribes) and by the runtime (call outcomes).
pub const BUILTIN_EVENTS: &[BuiltinEvent] = &[
    BuiltinEvent {
        name: "text_replied",
        about: "the lead texted back (anything but an opt-out, opt-in or HELP keyword)",
        fields: &[
            ("text", BaseType::Text, "what the lead wrote"),
            ("from", BaseType::Text, "the lead's number, E.164"),
            ("to", BaseType::Text, "the number the lead wrote to"),
        ],
    },
    BuiltinEvent {
        name: "email_replied",
        about: "an email from the lead reached the inbound email webhook",
        fields: &[
            ("text", BaseType::Text, "the reply's plain text"),
            ("subject", BaseType::Text, "the reply's subject"),
            ("from", BaseType::Text, "the address it came from"),
            ("to", BaseType::Text, "the address it was sent to"),
        ],
    },
    BuiltinEvent {
        name: "unsubscribed",
        about: "the lead unsubscribed from email: the link in an email, or the one-click List-Unsubscribe header",
        fields: &[
            ("channel", BaseType::Text, "always `email`"),
            ("source", BaseType::Text, "how: `unsubscribe link` or `one-click unsubscribe`"),
        ],
    },
    BuiltinEvent {
        name: "opted_out",
        about: "the lead opted out of a channel: a STOP text, or an email unsubscribe (an operator's `flowc consent set` raises nothing)",
        fields: &[
            ("channel", BaseType::Text, "`email`, `text` or `call`"),
            ("source", BaseType::Text, "where it came from, like `twilio: STOP (SM…)`"),
        ],
    },
    BuiltinEvent {
        name: "call_completed",
        about: "a call to the lead ended",
        fields: &[(
            "outcome",
            BaseType::Text,
            "`answered`, `voicemail`, `no_answer` or `failed`",
        )],
    },
];

/// The payload of `call_completed` for a call that ended so.
pub fn call_completed(outcome: Outcome) -> serde_json::Map<String, serde_json::Value> {
    let mut data = serde_json::Map::new();
    let name = outcome.keyword().replace(' ', "_");
    data.insert("outcome".to_owned(), serde_json::Value::String(name));
    data
}

/// The built-in events as declarations, for the checker and the compiler.
pub fn builtin_events() -> &'static [EventDecl] {
    static DECLS: LazyLock<Vec<EventDecl>> = LazyLock::new(|| {
        let ident = |name: &str| Ident {
            name: name.to_owned(),
            span: Span::default(),
        };
        BUILTIN_EVENTS
            .iter()
            .map(|event| EventDecl {
                name: ident(event.name),
                fields: event
                    .fields
                    .iter()
                    .map(|(name, base, _)| FieldDecl {
                        name: ident(name),
                        ty: FieldType {
                            optional: true,
                            list: false,
                            base: *base,
                            span: Span::default(),
                        },
                        description: None,
                    })
                    .collect(),
            })
            .collect()
    });
    &DECLS
}

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
