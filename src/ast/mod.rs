//! The syntax tree of a `.flow` file, as written: every node carries its span.
//!
//! The tree keeps what the user wrote even where it is wrong (two triggers,
//! an option on the wrong step, an inverted window): the checker reports
//! those with the spans kept here.

mod effects;
mod expr;
mod shift;
mod steps;

pub use effects::*;
pub use expr::*;
pub use steps::*;

use crate::span::{Span, Spanned};

/// A name written by the user: a workflow, field, label, branch or identity.
#[derive(Clone, Debug, Default, PartialEq)]
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
#[derive(Clone, Debug, Default, PartialEq)]
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

impl Workflow {
    /// The steps of its `steps` section (the first, if it has several;
    /// none without one).
    pub fn step_list(&self) -> &[Step] {
        self.steps
            .first()
            .map_or(&[], |section| section.steps.as_slice())
    }

    /// The event of this name: declared in the workflow, else built in.
    pub fn event(&self, name: &str) -> Option<&EventDecl> {
        let declared = self.events.iter().find(|event| event.name.name == name);
        declared.or_else(|| {
            crate::schema::builtin_events()
                .iter()
                .find(|event| event.name.name == name)
        })
    }
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
    /// `on send failure continue | fail`: what a permanent failure of a step
    /// nothing later depends on does to the enrollment.
    SendFailure(SendFailure),
    /// `holidays 2026-12-25, ...` or `holidays file "holidays.txt"`: dates
    /// that are no business day (and close `skip holidays` windows).
    Holidays(Holidays),
}

/// Where a workflow's holidays are written.
#[derive(Clone, Debug, PartialEq)]
pub enum Holidays {
    /// In the setting: `2026-12-25, 2027-01-01`.
    Dates(Vec<Spanned<String>>),
    /// In a file beside the workflow: one date per line, `#` comments.
    File(Text),
}

/// What a permanent failure of a send, a notification or an http request
/// without extractions does when the step has no `on error` branch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendFailure {
    /// The failure is on the timeline and the enrollment goes on (default).
    #[default]
    Continue,
    /// The enrollment fails.
    Fail,
}

impl SendFailure {
    /// The policy as written.
    pub fn keyword(self) -> &'static str {
        match self {
            SendFailure::Continue => "continue",
            SendFailure::Fail => "fail",
        }
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
    pub kind: Watch,
    /// The whole line.
    pub span: Span,
}

/// What a trigger or a goal watches.
#[derive(Clone, Debug, PartialEq)]
pub enum Watch {
    /// `when CRITERIA`: the lead's fields match.
    Criteria(Expr),
    /// `on EVENT [when CRITERIA]`: an event happens to the lead.
    Event {
        /// The event's name.
        event: Ident,
        /// Criteria over the lead and the event payload.
        criteria: Option<Expr>,
    },
}

impl Watch {
    /// The event watched, if any.
    pub fn event(&self) -> Option<&Ident> {
        match self {
            Watch::Criteria(_) => None,
            Watch::Event { event, .. } => Some(event),
        }
    }

    /// The criteria, if any.
    pub fn criteria(&self) -> Option<&Expr> {
        match self {
            Watch::Criteria(criteria) => Some(criteria),
            Watch::Event { criteria, .. } => criteria.as_ref(),
        }
    }
}

/// `goal NAME when CRITERIA` (leave as soon as the lead's fields match) or
/// `goal NAME on EVENT [when CRITERIA]` (leave when the event happens).
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    /// The goal's name, shown on the timeline.
    pub name: Ident,
    /// When the goal is reached.
    pub watch: Watch,
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
    /// `skip holidays`: closed all day on the workflow's holidays.
    pub skip_holidays: bool,
    /// The whole line.
    pub span: Span,
}

/// An outgoing channel with a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Channel {
    /// Email.
    Email,
    /// SMS.
    Text,
    /// Phone calls.
    Call,
}

impl Channel {
    /// The channel a keyword names: `email`, `text` or `call`.
    pub fn from_keyword(keyword: &str) -> Option<Channel> {
        [Channel::Email, Channel::Text, Channel::Call]
            .into_iter()
            .find(|channel| channel.keyword() == keyword)
    }

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WindowZone {
    /// The workflow's account timezone.
    Account,
    /// The lead's `timezone` field when valid, else the account timezone.
    Lead,
}
