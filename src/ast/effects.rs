//! Steps with an outside effect: what they do, their options, and the
//! outcomes they branch on.

use super::{Channel, Duration, FieldType, Ident, Step, Text};
use crate::span::{Span, Spanned};

/// A step with an outside effect and its options.
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    /// What the step does.
    pub action: Action,
    /// Option lines, in order (duplicates included).
    pub options: Vec<StepOption>,
    /// `on OUTCOME` branches.
    pub outcomes: Vec<OutcomeBranch>,
}

/// The effect a step has.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `send email`.
    SendEmail,
    /// `send text`.
    SendText,
    /// `call phone`.
    CallPhone,
    /// `notify slack|teams TARGET`.
    Notify {
        /// Slack or Teams.
        service: Spanned<NotifyService>,
        /// The configured webhook's name.
        target: Ident,
    },
    /// `http get|post|put "URL"`.
    Http {
        /// The request method.
        method: Spanned<HttpMethod>,
        /// The URL template.
        url: Text,
    },
    /// `prompt`: an AI prompt about the lead.
    Prompt,
}

impl Action {
    /// How the step is written, for messages: `send email`.
    pub fn describe(&self) -> &'static str {
        match self {
            Action::SendEmail => "send email",
            Action::SendText => "send text",
            Action::CallPhone => "call phone",
            Action::Notify { .. } => "notify",
            Action::Http { .. } => "http",
            Action::Prompt => "prompt",
        }
    }

    /// The outgoing channel whose window governs the step, if any.
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Action::SendEmail => Some(Channel::Email),
            Action::SendText => Some(Channel::Text),
            Action::CallPhone => Some(Channel::Call),
            _ => None,
        }
    }
}

/// A team chat service for `notify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NotifyService {
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams incoming webhook.
    Teams,
}

impl NotifyService {
    /// The keyword that names the service.
    pub fn keyword(self) -> &'static str {
        match self {
            NotifyService::Slack => "slack",
            NotifyService::Teams => "teams",
        }
    }
}

/// An http step's method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
}

/// An option line under an effect step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepOption {
    /// What the option says.
    pub kind: OptionKind,
    /// The option's keyword.
    pub keyword: Span,
    /// The whole option.
    pub span: Span,
}

/// The options of effect steps (which step accepts which is the checker's call).
#[derive(Clone, Debug, PartialEq)]
pub enum OptionKind {
    /// `to lead and rep`.
    To(Vec<Spanned<Recipient>>),
    /// `cc ADDRESS, ...`.
    Cc(Vec<Address>),
    /// `bcc ADDRESS, ...`.
    Bcc(Vec<Address>),
    /// `from IDENTITY | +PHONE | ADDRESS`.
    From(Sender),
    /// `subject "..."`.
    Subject(Text),
    /// `body "..."` or `body file "path"`.
    Body(Body),
    /// `agent NAME`: the voice agent that calls.
    Agent(Ident),
    /// `message "..."`.
    Message(Text),
    /// `header NAME "value"`.
    Header {
        /// The header's name.
        name: Ident,
        /// Its value template.
        value: Text,
    },
    /// `timeout 10s`.
    Timeout(Duration),
    /// `instructions "..."`.
    Instructions(Text),
    /// `tools web search, fetch url`.
    Tools(Vec<Spanned<Tool>>),
    /// `extract` and its field lines.
    Extract(Vec<Extraction>),
    /// `outside window skip` or `outside window hold up to 2 days then
    /// skip`: what the step does when reached outside its window.
    OutsideWindow(OutsideWindow),
    /// `transactional`: an email a lead needs whatever their marketing
    /// consent (a receipt, a booking): no unsubscribe headers, and sent to
    /// addresses that unsubscribed (never to opted-out or undeliverable
    /// ones).
    Transactional,
}

impl OptionKind {
    /// The option's keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            OptionKind::To(_) => "to",
            OptionKind::Cc(_) => "cc",
            OptionKind::Bcc(_) => "bcc",
            OptionKind::From(_) => "from",
            OptionKind::Subject(_) => "subject",
            OptionKind::Body(_) => "body",
            OptionKind::Agent(_) => "agent",
            OptionKind::Message(_) => "message",
            OptionKind::Header { .. } => "header",
            OptionKind::Timeout(_) => "timeout",
            OptionKind::Instructions(_) => "instructions",
            OptionKind::Tools(_) => "tools",
            OptionKind::Transactional => "transactional",
            OptionKind::OutsideWindow(_) => "outside window",
            OptionKind::Extract(_) => "extract",
        }
    }
}

/// What a channel step reached outside its window does (holding until it
/// opens is the default).
#[derive(Clone, Debug, PartialEq)]
pub enum OutsideWindow {
    /// Skip the step at once.
    Skip,
    /// Hold while the window opens within this long, else skip at once.
    HoldUpTo(Duration),
}

/// Who receives an email.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Recipient {
    /// The lead's `email`.
    Lead,
    /// The lead's `assigned_rep_email`.
    Rep,
}

/// A cc or bcc address.
#[derive(Clone, Debug, PartialEq)]
pub enum Address {
    /// A literal address: `ops@acme.com`.
    Literal(Spanned<String>),
    /// A template: `"{{ assigned_rep_email }}"`.
    Template(Text),
}

/// Who a message is from.
#[derive(Clone, Debug, PartialEq)]
pub enum Sender {
    /// A configured identity.
    Identity(Ident),
    /// A phone number: `+15550100`.
    Phone(Spanned<String>),
    /// An email address.
    Address(Spanned<String>),
}

/// A message body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Written inline.
    Inline(Text),
    /// `file "templates/x.md"`, relative to the `.flow` file.
    File(Text),
}

/// A tool a prompt may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tool {
    /// Search the web.
    WebSearch,
    /// Fetch a URL.
    FetchUrl,
}

impl Tool {
    /// How the tool is written in a step: `web search`.
    pub fn keyword(self) -> &'static str {
        match self {
            Tool::WebSearch => "web search",
            Tool::FetchUrl => "fetch url",
        }
    }
}

/// An `extract` line: a field produced by an http or prompt step.
#[derive(Clone, Debug, PartialEq)]
pub struct Extraction {
    /// The field produced.
    pub name: Ident,
    /// Its type.
    pub ty: FieldType,
    /// Where the value comes from.
    pub source: ExtractSource,
    /// The whole line.
    pub span: Span,
}

/// Where an extracted value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum ExtractSource {
    /// `from company.metrics.employees`: a path into an http response.
    Path(Spanned<String>),
    /// `"what to find"`: a description for the AI.
    Description(Text),
}

/// `on OUTCOME` and the steps taken for it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutcomeBranch {
    /// The outcome.
    pub outcome: Spanned<Outcome>,
    /// Steps for it.
    pub steps: Vec<Step>,
}

/// Outcomes an effect step may branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Outcome {
    /// A call was answered.
    Answered,
    /// A call reached voicemail.
    Voicemail,
    /// A call rang out.
    NoAnswer,
    /// A call could not be completed.
    Failed,
    /// Any other effect step failed permanently.
    Error,
}

impl Outcome {
    /// How the outcome is written.
    pub fn keyword(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Voicemail => "voicemail",
            Outcome::NoAnswer => "no answer",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
        }
    }

    /// The outcome `keyword` names.
    pub fn from_keyword(keyword: &str) -> Option<Outcome> {
        [
            Outcome::Answered,
            Outcome::Voicemail,
            Outcome::NoAnswer,
            Outcome::Failed,
            Outcome::Error,
        ]
        .into_iter()
        .find(|outcome| outcome.keyword() == keyword)
    }
}
