//! Compiled effects (what a step sends or asks) and the templates they
//! render.

use serde::{Deserialize, Serialize};

use crate::ast::{Channel, HttpMethod, NotifyService, Tool};

/// A compiled template: literal runs and values to render.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The pieces in order.
    pub pieces: Vec<Piece>,
}

/// A piece of a template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Piece {
    /// Text as written.
    Literal(String),
    /// A field's value.
    Field {
        /// The field.
        slot: u32,
        /// Text rendered when the value is missing.
        default: Option<String>,
        /// A case change.
        case: Option<Case>,
        /// A field rendered when the value is missing (`default: FIELD`);
        /// `default` applies when both are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<u32>,
    },
    /// A field's value as a JSON value (a template outside the strings of
    /// a JSON body): numbers, booleans and lists as JSON, `null` if missing.
    JsonValue {
        /// The field.
        slot: u32,
        /// JSON text rendered when the value is missing.
        default: Option<String>,
        /// A field rendered when the value is missing (`default: FIELD`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fallback: Option<u32>,
    },
    /// An environment variable (http steps only).
    Env(String),
}

/// A template's case filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Case {
    /// `| upper`.
    Upper,
    /// `| lower`.
    Lower,
}

/// What an effect instruction does, with its templates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// `send email`.
    Email(Email),
    /// `send text`.
    Text {
        /// The sending number or identity.
        from: Option<String>,
        /// The message.
        body: u32,
    },
    /// `call phone`.
    Call {
        /// The voice agent.
        agent: Option<String>,
        /// The calling number.
        from: Option<String>,
    },
    /// `notify slack|teams TARGET`.
    Notify {
        /// Slack or Teams.
        service: NotifyService,
        /// The configured webhook's name.
        target: String,
        /// The message.
        message: u32,
    },
    /// `http get|post|put`.
    Http(Http),
    /// `prompt`.
    Prompt(Prompt),
}

impl Effect {
    /// The outgoing channel whose window governs the effect, if any.
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Effect::Email(_) => Some(Channel::Email),
            Effect::Text { .. } => Some(Channel::Text),
            Effect::Call { .. } => Some(Channel::Call),
            _ => None,
        }
    }

    /// Whether nothing later depends on the effect's result: a send, a
    /// notification, or an http request or prompt that extracts nothing.
    /// `on send failure` decides what a permanent failure of one does.
    pub fn is_independent(&self) -> bool {
        match self {
            Effect::Email(_) | Effect::Text { .. } | Effect::Notify { .. } => true,
            Effect::Http(http) => http.extract.is_empty(),
            Effect::Prompt(prompt) => prompt.extract.is_empty(),
            Effect::Call { .. } => false,
        }
    }

    /// The effect's kind, as scripted outcomes and messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Email(_) => "email",
            Effect::Text { .. } => "text",
            Effect::Call { .. } => "call",
            Effect::Notify { .. } => "notify",
            Effect::Http(_) => "http",
            Effect::Prompt(_) => "prompt",
        }
    }
}

/// `send email` and its options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// Send to the lead's `email`.
    pub to_lead: bool,
    /// Send to the lead's `assigned_rep_email`.
    pub to_rep: bool,
    /// Copies, as templates.
    pub cc: Vec<u32>,
    /// Blind copies, as templates.
    pub bcc: Vec<u32>,
    /// The sender identity or address.
    pub from: Option<String>,
    /// The subject.
    pub subject: Option<u32>,
    /// The Markdown body.
    pub body: Option<u32>,
    /// Whether it is transactional (see [`crate::ast::OptionKind::Transactional`]).
    #[serde(default)]
    pub transactional: bool,
}

/// An http step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Http {
    /// The method.
    pub method: HttpMethod,
    /// The URL template.
    pub url: u32,
    /// Header names and value templates.
    pub headers: Vec<(String, u32)>,
    /// The JSON body template.
    pub body: Option<u32>,
    /// The timeout in seconds.
    pub timeout_seconds: u32,
    /// Fields taken from the JSON response.
    pub extract: Vec<Extraction>,
}

/// A prompt step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// The instructions template.
    pub instructions: u32,
    /// Tools the model may use.
    pub tools: Vec<Tool>,
    /// Fields the answer must give.
    pub extract: Vec<Extraction>,
}

/// A field an http or prompt step produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// The slot it fills.
    pub slot: u32,
    /// A JSON path (http) or a description for the model (prompt).
    pub from: String,
    /// Whether the response may lack it (`optional`); a required field that
    /// is missing fails the step.
    #[serde(default)]
    pub optional: bool,
}
