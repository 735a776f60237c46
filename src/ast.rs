//! The syntax tree of a `.flow` file, as written: every node carries its span.
//!
//! The tree keeps what the user wrote even where it is wrong (two triggers,
//! an option on the wrong step, an inverted window): the checker reports
//! those with the spans kept here.

use crate::span::{Span, Spanned};

/// A name written by the user: a workflow, field, label, branch or identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A parsed `.flow` file: one or more workflows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceFile {
    /// The workflows in the order they appear.
    pub workflows: Vec<Workflow>,
}

/// One `workflow NAME` and everything up to the next one.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// The workflow's name.
    pub name: Ident,
    /// The span of the `workflow NAME` line.
    pub header: Span,
    /// Settings in the order written (duplicates included).
    pub settings: Vec<Setting>,
    /// Custom lead fields from every `fields` section.
    pub fields: Vec<FieldDecl>,
    /// Declared events and their payloads.
    pub events: Vec<EventDecl>,
    /// Every `trigger` line (more than one is an error).
    pub triggers: Vec<Trigger>,
    /// Every outgoing window line.
    pub windows: Vec<Window>,
    /// Exit goals.
    pub goals: Vec<Goal>,
    /// Every `steps` section (more than one is an error).
    pub steps: Vec<StepsSection>,
}

/// A workflow setting line.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// What the setting says.
    pub kind: SettingKind,
    /// The whole line.
    pub span: Span,
}

/// The settings a workflow may have.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingKind {
    /// `timezone America/New_York`: the account timezone.
    Timezone(Spanned<String>),
    /// `re-entry never | always | after 30 days`.
    ReEntry(ReEntry),
    /// `look back 2 years`: only leads active within this period may enter.
    LookBack(Duration),
}

/// When a lead may enter the workflow again.
#[derive(Clone, Debug, PartialEq)]
pub enum ReEntry {
    /// Once per lead, ever.
    Never,
    /// Whenever the trigger matches and no enrollment is active.
    Always,
    /// Once the given time has passed since the previous entry.
    After(Duration),
}

/// A duration as written: `2 days`, `3h`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Duration {
    /// How many units.
    pub amount: u64,
    /// Which unit.
    pub unit: TimeUnit,
    /// Where it was written.
    pub span: Span,
}

/// The unit of a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (only meaningful for timeouts).
    Second,
    /// Minutes of elapsed time.
    Minute,
    /// Hours of elapsed time.
    Hour,
    /// Calendar days in the account timezone.
    Day,
    /// Seven calendar days.
    Week,
    /// 365 calendar days.
    Year,
}

/// A clock time as written, `09:30`; validity is the checker's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// The hour as written.
    pub hour: u32,
    /// The minute as written.
    pub minute: u32,
    /// Where it was written.
    pub span: Span,
}

/// A declared lead field or event payload field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// The field's name.
    pub name: Ident,
    /// Its type.
    pub ty: FieldType,
    /// An optional description, shown on hover.
    pub description: Option<Text>,
}

/// A field's type: `optional list of text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    /// Whether leads may lack the field.
    pub optional: bool,
    /// Whether it holds a list of `base`.
    pub list: bool,
    /// The element type.
    pub base: BaseType,
    /// Where the type was written.
    pub span: Span,
}

/// The scalar types of field values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BaseType {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// An instant.
    Datetime,
}

/// `event NAME` with the fields of its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDecl {
    /// The event's name.
    pub name: Ident,
    /// Its payload fields.
    pub fields: Vec<FieldDecl>,
}

/// A `trigger` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    /// What starts an enrollment.
    pub kind: TriggerKind,
    /// The whole line.
    pub span: Span,
}

/// How leads enter a workflow.
#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    /// `trigger when CRITERIA`: leads whose fields match.
    Criteria(Expr),
    /// `trigger on EVENT [when CRITERIA]`: leads an event happens to.
    Event {
        /// The event's name.
        event: Ident,
        /// Criteria over the lead and the event payload.
        criteria: Option<Expr>,
    },
}

/// `goal NAME when CRITERIA`: leave the workflow as soon as it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    /// The goal's name, shown on the timeline.
    pub name: Ident,
    /// When the goal is reached.
    pub condition: Expr,
    /// The whole line.
    pub span: Span,
}

/// An outgoing window line: `email mon-fri 09:00-17:00 in lead timezone`.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// The channel it governs.
    pub channel: Spanned<Channel>,
    /// The allowed days; `None` when none were written.
    pub days: Option<Vec<Spanned<DaySpec>>>,
    /// The allowed time ranges on those days.
    pub ranges: Vec<TimeRange>,
    /// Whose timezone the clock times are in.
    pub zone: WindowZone,
    /// The whole line.
    pub span: Span,
}

/// An outgoing channel with a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Email.
    Email,
    /// SMS.
    Text,
    /// Phone calls.
    Call,
}

impl Channel {
    /// The keyword that names the channel.
    pub fn keyword(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Text => "text",
            Channel::Call => "call",
        }
    }
}

/// Days as written in a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaySpec {
    /// One day: `mon`.
    Day(chrono::Weekday),
    /// An inclusive range: `mon-fri`.
    Range(chrono::Weekday, chrono::Weekday),
    /// Monday to Friday.
    Weekdays,
    /// Saturday and Sunday.
    Weekends,
    /// All seven days.
    EveryDay,
}

/// `09:00-17:00`: open from the start, closed from the end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeRange {
    /// When the window opens.
    pub start: Clock,
    /// When it closes (`24:00` is the end of the day).
    pub end: Clock,
    /// The whole range.
    pub span: Span,
}

/// Whose timezone a window's clock times are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowZone {
    /// The workflow's account timezone.
    Account,
    /// The lead's `timezone` field when valid, else the account timezone.
    Lead,
}

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

/// The kinds of step.
#[derive(Clone, Debug, PartialEq)]
pub enum StepKind {
    /// A step with an outside effect: send, call, notify, http, prompt.
    Effect(Effect),
    /// `wait 2 days`.
    Wait(Duration),
    /// `wait until 09:30`: the time-of-day step.
    WaitUntil(Clock),
    /// `condition` with its branches.
    Condition(Condition),
    /// `goto LABEL`.
    Goto(Ident),
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyService {
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams incoming webhook.
    Teams,
}

/// An http step's method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
            OptionKind::Extract(_) => "extract",
        }
    }
}

/// Who receives an email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Search the web.
    WebSearch,
    /// Fetch a URL.
    FetchUrl,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
}

/// A `condition` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Branches and `else`, in the order written.
    pub arms: Vec<Arm>,
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

/// Criteria over lead fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `FIELD TEST`.
    Compare(Comparison),
    /// `not EXPR`.
    Not(Box<Expr>, Span),
    /// Operands joined by one operator.
    Logic {
        /// `and` or `or`.
        op: LogicOp,
        /// Two or more operands.
        operands: Vec<Expr>,
        /// The whole expression.
        span: Span,
    },
}

impl Expr {
    /// The expression's span.
    pub fn span(&self) -> Span {
        match self {
            Expr::Compare(comparison) => comparison.span,
            Expr::Not(_, span) | Expr::Logic { span, .. } => *span,
        }
    }
}

/// `and` / `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicOp {
    /// Both hold.
    And,
    /// Either holds.
    Or,
}

/// `FIELD TEST`: one comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The field tested.
    pub field: FieldRef,
    /// The test.
    pub test: Test,
    /// Where the test (operator and operands) was written.
    pub test_span: Span,
    /// The whole comparison.
    pub span: Span,
}

/// A reference to a lead field, or `event.FIELD` to the trigger's payload.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    /// The field's name.
    pub name: String,
    /// Whether it names an event payload field.
    pub event: bool,
    /// Where it was written.
    pub span: Span,
}

/// The tests a comparison may make.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `is set`.
    IsSet,
    /// `is not set`.
    IsNotSet,
    /// `is VALUE`.
    Is(Literal),
    /// `is not VALUE`.
    IsNot(Literal),
    /// `is one of A, B`.
    OneOf(Vec<Literal>),
    /// `is not one of A, B`.
    NotOneOf(Vec<Literal>),
    /// `is within last 7 days`.
    WithinLast(Duration),
    /// `is older than 90 days`.
    OlderThan(Duration),
    /// `contains VALUE`: a substring or a list element.
    Contains(Literal),
    /// `does not contain VALUE`.
    NotContains(Literal),
    /// `starts with VALUE`.
    StartsWith(Literal),
    /// `ends with VALUE`.
    EndsWith(Literal),
    /// `> >= < <= VALUE`.
    Order(OrderOp, Literal),
}

/// An ordering operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderOp {
    /// `>`.
    Greater,
    /// `>=`.
    GreaterOrEqual,
    /// `<`.
    Less,
    /// `<=`.
    LessOrEqual,
}

/// A literal value in criteria or a template filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Literal {
    /// The value.
    pub value: LiteralValue,
    /// Where it was written.
    pub span: Span,
}

/// Literal values.
#[derive(Clone, Debug, PartialEq)]
pub enum LiteralValue {
    /// `"text"` (templates are not allowed here).
    Text(String),
    /// `42`, `-1.5`.
    Number(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `2026-03-08` or `2026-03-08T09:30[:00][Z|+01:00]`, unvalidated.
    Datetime(String),
}

/// Text in quotes, with `{{ }}` templates.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    /// Literal runs and templates in order.
    pub parts: Vec<TextPart>,
    /// The whole quoted text.
    pub span: Span,
}

impl Text {
    /// The templates in the text.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.parts.iter().filter_map(|part| match part {
            TextPart::Template(template) => Some(template),
            TextPart::Literal(_) => None,
        })
    }

    /// The text without its templates.
    pub fn static_text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|part| match part {
                TextPart::Literal(text) => Some(text.as_str()),
                TextPart::Template(_) => None,
            })
            .collect()
    }
}

/// A piece of quoted text.
#[derive(Clone, Debug, PartialEq)]
pub enum TextPart {
    /// Text taken as written (escapes resolved, indentation removed).
    Literal(String),
    /// `{{ ... }}`.
    Template(Template),
}

/// `{{ field | filter: arg }}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// `field`, `event.field` or `env.NAME`.
    pub path: TemplatePath,
    /// An optional filter.
    pub filter: Option<Filter>,
    /// The whole template, braces included.
    pub span: Span,
}

/// What a template renders.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePath {
    /// A lead field.
    Field(Ident),
    /// `event.NAME`: a payload field of the trigger event.
    Event(Ident),
    /// `env.NAME`: an environment variable (http steps only).
    Env(Ident),
    /// `OTHER.NAME` with an unknown namespace.
    Unknown {
        /// The namespace written.
        namespace: Ident,
        /// The member written.
        member: Ident,
    },
}

/// `| name: arg`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The filter's name.
    pub name: Ident,
    /// Its argument.
    pub arg: Option<Literal>,
    /// The whole filter.
    pub span: Span,
}
