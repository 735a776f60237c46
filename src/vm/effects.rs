//! What effect instructions ask of the outside world: rendered messages,
//! the channel trait that carries them, and how responses become outcomes
//! and extracted fields.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::eval::{self, render, Escape, Fields};
use super::Sealed;
use crate::ast::{HttpMethod, NotifyService, Outcome, Tool};
use crate::bytecode::{Effect, Extraction, Program};
use crate::value::{self, Value, ValueType};

/// A rendered effect, ready for a provider.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Message {
    /// An email.
    Email {
        /// Recipients.
        to: Vec<String>,
        /// Copies.
        cc: Vec<String>,
        /// Blind copies.
        bcc: Vec<String>,
        /// Sender identity or address.
        from: Option<String>,
        /// Subject.
        subject: String,
        /// Markdown body.
        body: String,
        /// Transactional: no unsubscribe headers, sent to addresses that
        /// unsubscribed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        transactional: bool,
    },
    /// An SMS.
    Text {
        /// The lead's phone number.
        to: String,
        /// Sending number or identity.
        from: Option<String>,
        /// The message.
        body: String,
    },
    /// A voice-agent call.
    Call {
        /// The lead's phone number.
        to: String,
        /// The voice agent.
        agent: Option<String>,
        /// The calling number.
        from: Option<String>,
    },
    /// A team chat message.
    Notify {
        /// Slack or Teams.
        service: NotifyService,
        /// The configured webhook's name.
        target: String,
        /// The message.
        message: String,
    },
    /// An http request.
    Http {
        /// The method.
        method: HttpMethod,
        /// The URL, lead values percent-encoded, secrets sealed.
        url: Sealed,
        /// Headers, secrets sealed.
        headers: Vec<(String, Sealed)>,
        /// The JSON body, lead values escaped, secrets sealed.
        body: Option<Sealed>,
        /// The timeout in seconds.
        timeout_seconds: u32,
    },
    /// An AI prompt.
    Prompt {
        /// The instructions.
        instructions: String,
        /// Tools the model may use.
        tools: Vec<Tool>,
        /// The fields the answer must give: name and description.
        fields: Vec<(String, String)>,
    },
}

/// One attempt at an effect, as a channel receives it.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The lead's index in the run.
    pub lead: u32,
    /// The step's label.
    pub label: &'a str,
    /// The step's instruction.
    pub pc: u32,
    /// The effect's kind: `email`, `text`, `call`, `notify`, `http`, `prompt`.
    pub kind: &'static str,
    /// Which attempt this is, from 1.
    pub attempt: u32,
    /// What to send.
    pub message: &'a Message,
    /// The workflow version, lead and enrollment the effect belongs to.
    pub owner: Owner<'a>,
    /// The lead's timezone, if it has a valid one: the contact policy
    /// reads the recipient's clock.
    pub lead_zone: Option<Tz>,
    /// The workflow's timezone.
    pub account_zone: Tz,
    /// When the step asks.
    pub at: DateTime<Utc>,
}

/// Whose effect a request is: what its idempotency key derives from.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    /// The workflow's name.
    pub workflow: &'a str,
    /// The workflow version.
    pub version: &'a str,
    /// The lead's id.
    pub lead: &'a str,
    /// The enrollment's number for that lead.
    pub enrollment: u32,
    /// How many effects the enrollment carried out before this one: a step
    /// visited again (a loop) makes a new effect with a new key.
    pub sequence: u32,
}

impl Request<'_> {
    /// The key that stays the same across every attempt at this effect:
    /// workflow version, lead, enrollment, step and the effect's number.
    pub fn idempotency_key(&self) -> String {
        let owner = self.owner;
        format!(
            "{}@{}/{}/{}/{}#{}",
            owner.workflow, owner.version, owner.lead, owner.enrollment, self.label, owner.sequence
        )
    }
}

/// What a provider answered.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub enum Response {
    /// Not answered yet: the effect is recorded and will be carried out
    /// after the state that asked for it is committed (live runs).
    Pending,
    /// Accepted.
    Delivered,
    /// Accepted for the step's own recipients, with some others (cc, bcc)
    /// refused: what was refused.
    Partly(String),
    /// A call ended with this outcome.
    Call(Outcome),
    /// An http response.
    Http {
        /// The status code.
        status: u16,
        /// The JSON body (`null` when empty or not JSON).
        body: serde_json::Value,
        /// Seconds the server asked to wait before trying again
        /// (`Retry-After` on a 429 or 5xx).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// A model's answer: an object with the extracted fields.
    Answer(serde_json::Value),
    /// A failure worth retrying (timeout, 5xx, 429, connection refused).
    Transient(String),
    /// A failure worth retrying no sooner than the provider asked
    /// (`Retry-After`), in seconds from the attempt.
    Throttled {
        /// What the provider said.
        reason: String,
        /// Seconds it asked to wait.
        seconds: u64,
    },
    /// A failure retrying cannot fix (invalid address, 4xx).
    Permanent(String),
    /// Not sent, and never to be: the recipient opted out of the channel,
    /// unsubscribed, or is undeliverable (why). The step is skipped.
    Suppressed(String),
    /// Not sent now: the contact policy caps the lead's touches on the
    /// channel (the cap in words). It waits until `release`, or without
    /// one is skipped.
    OverCap {
        /// The cap: `at most 1 text per day`.
        reason: String,
        /// When it may go.
        release: Option<DateTime<Utc>>,
    },
}

/// Carries effects to providers: recorders in simulation, real clients live.
pub trait Channels {
    /// Attempts one effect.
    fn perform(&mut self, request: &Request<'_>) -> Response;

    /// When the answer `perform` just gave was really obtained, if the
    /// channels know (live: the moment of delivery, which may come later
    /// than the step). Retries are counted from it.
    fn attempted_at(&self) -> Option<DateTime<Utc>> {
        None
    }
}

/// Renders an effect for a lead; `None` when the lead has no address for
/// it (no email, no phone number): the step is skipped.
pub fn message(
    program: &Program,
    effect: &Effect,
    fields: Fields<'_>,
    addresses: &Addresses,
) -> Option<Message> {
    let zone = program.timezone;
    let text = |id: u32, escape: Escape| {
        let mut out = String::new();
        if let Some(template) = program.texts.get(id as usize) {
            render(template, fields, zone, escape, &mut out);
        }
        out
    };
    let sealed = |id: u32, escape: Escape| match program.texts.get(id as usize) {
        Some(template) => eval::sealed(template, fields, zone, escape),
        None => Sealed::plain(""),
    };
    let plain = |id: u32| text(id, Escape::Plain);
    let present = |slot: Option<u32>| match slot.and_then(|slot| fields.get(slot)) {
        Some(Value::Text(text)) if !is_blank(text) => Some(text.to_string()),
        _ => None,
    };
    Some(match effect {
        Effect::Email(email) => {
            let mut to = Vec::new();
            if email.to_lead {
                to.extend(present(addresses.email));
            }
            if email.to_rep {
                to.extend(present(addresses.rep_email));
            }
            if to.is_empty() {
                return None;
            }
            let list = |ids: &[u32]| {
                ids.iter()
                    .map(|id| plain(*id))
                    .filter(|address| !is_blank(address))
                    .collect()
            };
            Message::Email {
                to,
                cc: list(&email.cc),
                bcc: list(&email.bcc),
                from: email.from.clone(),
                subject: email.subject.map(plain).unwrap_or_default(),
                body: email
                    .body
                    .map(|body| text(body, Escape::Markdown))
                    .unwrap_or_default(),
                transactional: email.transactional,
            }
        }
        Effect::Text { from, body } => Message::Text {
            to: present(addresses.phone)?,
            from: from.clone(),
            body: plain(*body),
        },
        Effect::Call { agent, from } => Message::Call {
            to: present(addresses.phone)?,
            agent: agent.clone(),
            from: from.clone(),
        },
        Effect::Notify {
            service,
            target,
            message,
        } => Message::Notify {
            service: *service,
            target: target.clone(),
            message: text(
                *message,
                match service {
                    NotifyService::Slack => Escape::Slack,
                    NotifyService::Teams => Escape::Markdown,
                },
            ),
        },
        Effect::Http(http) => Message::Http {
            method: http.method,
            url: sealed(http.url, Escape::Url),
            headers: http
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), sealed(*value, Escape::Plain)))
                .collect(),
            body: http.body.map(|body| sealed(body, Escape::Json)),
            timeout_seconds: http.timeout_seconds,
        },
        Effect::Prompt(prompt) => Message::Prompt {
            instructions: plain(prompt.instructions),
            tools: prompt.tools.clone(),
            fields: prompt
                .extract
                .iter()
                .map(|extraction| (slot_name(program, extraction.slot), extraction.from.clone()))
                .collect(),
        },
    })
}

/// Whether text is empty or only whitespace (stops at the first letter).
fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

fn slot_name(program: &Program, slot: u32) -> String {
    program
        .slots
        .get(slot as usize)
        .map_or_else(String::new, |slot| slot.name.clone())
}

/// The slots of the standard address fields, found once per program.
#[derive(Clone, Copy, Debug)]
pub struct Addresses {
    /// `email`.
    pub email: Option<u32>,
    /// `assigned_rep_email`.
    pub rep_email: Option<u32>,
    /// `phone_number`.
    pub phone: Option<u32>,
    /// `timezone`.
    pub timezone: Option<u32>,
}

impl Addresses {
    /// The address slots of `program`.
    pub fn of(program: &Program) -> Self {
        Addresses {
            email: program.slot("email"),
            rep_email: program.slot("assigned_rep_email"),
            phone: program.slot("phone_number"),
            timezone: program.slot("timezone"),
        }
    }
}

/// Values extracted from a response, or why they could not be.
pub fn extract(
    program: &Program,
    extractions: &[Extraction],
    response: &serde_json::Value,
    by_path: bool,
    zone: Tz,
) -> Result<Vec<(u32, Option<Value>)>, String> {
    extractions
        .iter()
        .map(|extraction| {
            let found = if by_path {
                json_path(response, &extraction.from)
            } else {
                let name = slot_name(program, extraction.slot);
                response.get(name.as_str())
            };
            let ty = program.slots.get(extraction.slot as usize).map_or(
                ValueType {
                    base: crate::ast::BaseType::Text,
                    list: false,
                },
                |slot| slot.ty,
            );
            let name = || slot_name(program, extraction.slot);
            let value = match found.filter(|json| !json.is_null()) {
                None => None,
                Some(json) => coerce(json, ty, zone).map_err(|mismatch| {
                    format!(
                        "`{}` should be {} but the response has {}",
                        name(),
                        mismatch.expected,
                        mismatch.found
                    )
                })?,
            };
            if value.is_none() && !extraction.optional {
                return Err(if by_path {
                    format!("the response has no `{}` (at {})", name(), extraction.from)
                } else {
                    format!("the answer has no `{}`", name())
                });
            }
            Ok((extraction.slot, value))
        })
        .collect()
}

/// A response value as a field's type: JSON of that type, or text that
/// reads as it (`"42"` for a number); numbers and booleans become text.
fn coerce(
    json: &serde_json::Value,
    ty: ValueType,
    zone: Tz,
) -> Result<Option<Value>, value::TypeMismatch> {
    use crate::ast::BaseType;
    match (json, ty.list, ty.base) {
        (serde_json::Value::String(text), false, base) if base != BaseType::Text => {
            value::from_text(text, ty, zone)
        }
        (serde_json::Value::Number(_) | serde_json::Value::Bool(_), false, BaseType::Text) => {
            Ok(Some(Value::Text(json.to_string().into())))
        }
        _ => value::from_json(json, ty, zone),
    }
}

/// The value at a path like `data.items[0].value` in a JSON document.
pub fn json_path<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut current = json;
    for segment in path.split('.') {
        let (name, mut indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let close = rest.find(']')?;
            let index: usize = rest[..close].trim().parse().ok()?;
            current = current.get(index)?;
            indexes = &rest[close + 1..];
        }
    }
    Some(current)
}

impl Message {
    /// The message as a reader looks it over: field and text, addresses and
    /// subject before the body, empty fields left out.
    pub fn rows(&self) -> Vec<(String, String)> {
        const FIRST: [&str; 7] = ["kind", "to", "cc", "bcc", "from", "subject", "body"];
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self) else {
            return Vec::new();
        };
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map_or_else(|| item.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        let first = FIRST
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), text(fields.get(*name)?))));
        let rest = fields
            .iter()
            .filter(|(name, _)| !FIRST.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), text(value)));
        first
            .chain(rest)
            .filter(|(_, value)| !value.is_empty() && value != "null")
            .collect()
    }
}

/// A one-line summary of a message for timelines.
pub fn summary(message: &Message) -> String {
    let short = |text: &str| {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("");
        if line.chars().count() > 60 {
            format!("{}…", line.chars().take(60).collect::<String>())
        } else {
            line.to_owned()
        }
    };
    match message {
        Message::Email { to, subject, .. } => {
            format!("email to {}: {}", to.join(", "), short(subject))
        }
        Message::Text { to, body, .. } => format!("text to {to}: {}", short(body)),
        Message::Call { to, agent, .. } => match agent {
            Some(agent) => format!("call to {to} by {agent}"),
            None => format!("call to {to}"),
        },
        Message::Notify {
            service,
            target,
            message,
        } => {
            let service = service.keyword();
            format!("{service} {target}: {}", short(message))
        }
        Message::Http { method, url, .. } => {
            format!("{} {}", format!("{method:?}").to_uppercase(), url.shown())
        }
        Message::Prompt { instructions, .. } => format!("prompt: {}", short(instructions)),
    }
}
