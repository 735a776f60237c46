//! Steps, their options and their blocks.

use super::{
    Channel, Clock, DaySpec, Duration, Expr, FieldRef, FieldType, Ident, Text, WindowZone,
};
use crate::span::{Span, Spanned};
/// A `steps` section.
#[derive(Clone, Debug, PartialEq)]
pub struct StepsSection {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The `steps` keyword.
    pub span: Span,
}

/// One step, with the label written before it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// `label NAME` on the line before, if any.
    pub label: Option<Ident>,
    /// What the step does.
    pub kind: StepKind,
    /// The step's first line.
    pub span: Span,
}

impl Step {
    /// The blocks nested in the step, in the order written: a condition's
    /// arms, a split's variants, an effect's outcome branches.
    pub fn blocks(&self) -> Vec<Block<'_>> {
        match &self.kind {
            StepKind::Condition(condition) => condition
                .arms
                .iter()
                .map(|arm| Block {
                    title: match &arm.test {
                        ArmTest::When { name, .. } => format!("branch {}", name.name),
                        ArmTest::Else => "else".to_owned(),
                    },
                    kind: BlockKind::Branch,
                    span: arm.span,
                    steps: &arm.steps,
                    heard: None,
                })
                .collect(),
            StepKind::Split(split) => split
                .variants
                .iter()
                .map(|variant| Block {
                    title: format!("variant {}", variant.name.name),
                    kind: BlockKind::Variant,
                    span: variant.span,
                    steps: &variant.steps,
                    heard: None,
                })
                .collect(),
            StepKind::WaitUntilField(wait) => wait
                .branches
                .iter()
                .map(|branch| Block {
                    title: format!("if {}", branch.case.node.keyword()),
                    kind: BlockKind::Branch,
                    span: branch.case.span,
                    steps: &branch.steps,
                    heard: None,
                })
                .collect(),
            StepKind::WaitForEvent(wait) => wait
                .branches
                .iter()
                .map(|branch| Block {
                    title: format!("on {}", branch.case.node.keyword()),
                    kind: BlockKind::Branch,
                    span: branch.case.span,
                    steps: &branch.steps,
                    heard: (branch.case.node == EventCase::Event)
                        .then_some(wait.event.name.as_str()),
                })
                .collect(),
            StepKind::Effect(effect) => effect
                .outcomes
                .iter()
                .map(|branch| Block {
                    title: format!("on {}", branch.outcome.node.keyword()),
                    kind: BlockKind::Outcome,
                    span: branch.outcome.span,
                    steps: &branch.steps,
                    heard: None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A list of steps nested in a step.
#[derive(Clone, Debug)]
pub struct Block<'a> {
    /// How the block is headed: `branch big`, `else`, `variant a`,
    /// `on answered` (the path its steps are identified under).
    pub title: String,
    /// What kind of block it is.
    pub kind: BlockKind,
    /// Its heading line.
    pub span: Span,
    /// Its steps.
    pub steps: &'a [Step],
    /// The event whose payload `event.FIELD` reads inside: the one an `on
    /// event` block heard; `None`: the same as around the step.
    pub heard: Option<&'a str>,
}

/// The kinds of nested block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// A condition's branch or `else`.
    Branch,
    /// A split's variant.
    Variant,
    /// An effect's `on` branch.
    Outcome,
}

/// The kinds of step.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// A step with an outside effect: send, call, notify, http, prompt.
    Effect(Effect),
    /// `wait 2 days`.
    Wait(Duration),
    /// `wait until [next] [DAYS] 09:30 [in lead timezone]`: the
    /// time-of-day step.
    WaitUntil(ClockWait),
    /// `wait until demo_at - 1 hour`: a datetime field and an offset.
    WaitUntilField(FieldWait),
    /// `wait 2 business days`: Monday to Friday, holidays left out.
    WaitBusinessDays(Spanned<u32>),
    /// `wait for call_ended up to 2 days`: an event, or the timeout.
    WaitForEvent(EventWait),
    /// `condition` with its branches.
    Condition(Condition),
    /// `split` with its variants: an A/B test.
    Split(Split),
    /// `goto LABEL [up to N times]`.
    Goto(Goto),
    /// `exit ["reason"]`.
    Exit(Option<Text>),
}

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

/// A `condition` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Branches and `else`, in the order written.
    pub arms: Vec<Arm>,
}

/// `wait until [next] [DAYS] HH:MM [in lead|account timezone]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClockWait {
    /// `next`: never today, the first matching day after it.
    pub next: bool,
    /// The days it may end on, as in a window; `None`: any day.
    pub days: Option<Vec<Spanned<DaySpec>>>,
    /// The time of day.
    pub clock: Clock,
    /// Whose clock it reads; `None`: the account's.
    pub zone: Option<WindowZone>,
}

/// `wait until FIELD [+|- DURATION]`, with `if missing` / `if past`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldWait {
    /// The datetime field (or `event.FIELD`).
    pub field: FieldRef,
    /// The offset from it, if any.
    pub offset: Option<Offset>,
    /// `if missing` and `if past` blocks, in the order written.
    pub branches: Vec<WaitBranch>,
}

/// `wait for EVENT up to DURATION`, with `on event` / `on timeout`.
#[derive(Clone, Debug, PartialEq)]
pub struct EventWait {
    /// The event waited for.
    pub event: Ident,
    /// How long at most.
    pub timeout: Duration,
    /// `on event` and `on timeout` blocks, in the order written.
    pub branches: Vec<EventBranch>,
}

/// `on event` or `on timeout` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct EventBranch {
    /// Which case.
    pub case: Spanned<EventCase>,
    /// Steps taken in it (`event.FIELD` in `on event` reads the event's
    /// payload).
    pub steps: Vec<Step>,
}

/// How a wait for an event ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventCase {
    /// The event happened to the lead.
    Event,
    /// It did not within the time.
    Timeout,
}

impl EventCase {
    /// How it is written after `on`.
    pub fn keyword(self) -> &'static str {
        match self {
            EventCase::Event => "event",
            EventCase::Timeout => "timeout",
        }
    }
}

/// `+ 2 hours` or `- 1 day` after a field.
#[derive(Clone, Debug, PartialEq)]
pub struct Offset {
    /// Whether it is subtracted (`-`).
    pub before: bool,
    /// How much.
    pub duration: Duration,
}

/// `if missing` or `if past` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitBranch {
    /// Which case.
    pub case: Spanned<WaitCase>,
    /// Steps taken in it.
    pub steps: Vec<Step>,
}

/// The cases in which a wait on a field does not wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitCase {
    /// The field has no value.
    Missing,
    /// The instant has passed when the step is reached.
    Past,
}

impl WaitCase {
    /// How it is written after `if`.
    pub fn keyword(self) -> &'static str {
        match self {
            WaitCase::Missing => "missing",
            WaitCase::Past => "past",
        }
    }
}

/// `goto LABEL [up to N times]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Goto {
    /// The label gone to.
    pub label: Ident,
    /// How many times one enrollment goes there at most; past it, the lead
    /// goes on after the `goto`. `None`: every time.
    pub limit: Option<Spanned<u32>>,
}

/// A `split` block: each lead takes one variant, by a draw that depends
/// only on the workflow, the split and the lead.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// The variants, in the order written.
    pub variants: Vec<Variant>,
}

/// `variant NAME PERCENT%` and its steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The variant's name.
    pub name: Ident,
    /// The share of leads it gets, in percent.
    pub percent: Spanned<u32>,
    /// Steps its leads take.
    pub steps: Vec<Step>,
    /// The variant's first line.
    pub span: Span,
}

/// A `branch NAME when ...` or an `else`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    /// The test, or `else`.
    pub test: ArmTest,
    /// Steps taken when it matches.
    pub steps: Vec<Step>,
    /// The arm's first line.
    pub span: Span,
}

/// What an arm tests.
#[derive(Clone, Debug, PartialEq)]
pub enum ArmTest {
    /// `branch NAME when CRITERIA`.
    When {
        /// The branch's name.
        name: Ident,
        /// Its criteria.
        criteria: Expr,
    },
    /// `else`.
    Else,
}
