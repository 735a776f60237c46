//! Semantic errors and warnings, each with a stable code.
//!
//! Codes by family: E01xx names and structure, E02xx types and templates,
//! E03xx time, E04xx step content and data flow, E05xx the step graph,
//! W0xxx warnings (E06xx, a step against `flowc.toml`, are
//! [`ProviderError`](super::ProviderError)s). A code is never reused.

use miette::LabeledSpan;

use crate::span::Span;

/// A problem found by the checker in a file that parses.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CheckError {
    /// A field name that no declaration, standard field or extraction defines.
    #[error("unknown field `{name}`")]
    #[diagnostic(code(E0101))]
    UnknownField {
        /// The name written.
        name: String,
        /// Where.
        #[label(primary, "not a field of this workflow")]
        span: Span,
        /// A suggestion or how to declare it.
        #[help]
        help: String,
    },

    /// A field declared twice, or a declaration of a standard field.
    #[error("field `{name}` is already defined")]
    #[diagnostic(code(E0102))]
    DuplicateField {
        /// The field.
        name: String,
        /// The second definition.
        #[label(primary, "defined again here")]
        span: Span,
        /// The first, unless it is a standard field.
        #[label("first defined here")]
        first: Option<Span>,
        /// How to fix it.
        #[help]
        help: String,
    },

    /// Two steps with the same label.
    #[error("label `{name}` is used twice")]
    #[diagnostic(code(E0103), help("give each labelled step its own name"))]
    DuplicateLabel {
        /// The label.
        name: String,
        /// The second use.
        #[label(primary, "used again here")]
        span: Span,
        /// The first.
        #[label("first used here")]
        first: Span,
    },

    /// `goto` to a label no step carries.
    #[error("no step is labelled `{name}`")]
    #[diagnostic(code(E0104))]
    UndefinedLabel {
        /// The label.
        name: String,
        /// The goto's target.
        #[label(primary, "unknown label")]
        span: Span,
        /// A suggestion, or how to add the label.
        #[help]
        help: String,
    },

    /// Two workflows with the same name.
    #[error("workflow `{name}` is defined twice")]
    #[diagnostic(code(E0105), help("rename one of them: workflow names are unique"))]
    DuplicateWorkflow {
        /// The name.
        name: String,
        /// The second.
        #[label(primary, "defined again here")]
        span: Span,
        /// The first.
        #[label("first defined here")]
        first: Span,
    },

    /// A setting or a one-per-workflow section written twice.
    #[error("a workflow has one `{what}`")]
    #[diagnostic(code(E0106), help("keep one and remove the other"))]
    DuplicateSection {
        /// The setting or section.
        what: &'static str,
        /// The second.
        #[label(primary, "written again here")]
        span: Span,
        /// The first.
        #[label("first written here")]
        first: Span,
    },

    /// A workflow without a trigger or steps.
    #[error("workflow `{workflow}` has no `{what}`")]
    #[diagnostic(code(E0107))]
    MissingSection {
        /// The workflow.
        workflow: String,
        /// What is missing.
        what: &'static str,
        /// The workflow's header.
        #[label(primary, "this workflow")]
        span: Span,
        /// An example of the section.
        #[help]
        help: &'static str,
    },

    /// Two branches of one condition, or two `on` of one step, with the same name.
    #[error("`{name}` is handled twice in this block")]
    #[diagnostic(code(E0108), help("merge the two, or rename one"))]
    DuplicateBranch {
        /// The branch or outcome.
        name: String,
        /// The second.
        #[label(primary, "again here")]
        span: Span,
        /// The first.
        #[label("first here")]
        first: Span,
    },

    /// `goto LABEL up to N times` with N out of range.
    #[error("a goto goes back 1 to 1000 times, not {written}")]
    #[diagnostic(
        code(E0119),
        help("write a count from 1 to 1000, like `goto sdr-call up to 3 times`; for a loop with no end, leave `up to` out")
    )]
    LoopLimit {
        /// The count written.
        written: u32,
        /// Where.
        #[label(primary, "out of range")]
        span: Span,
    },

    /// A split whose variants' shares do not add up to 100%.
    #[error("the variants of this split add up to {total}%, not 100%")]
    #[diagnostic(code(E0117))]
    SplitShares {
        /// Their sum.
        total: u32,
        /// The `split` line.
        #[label(primary, "this split")]
        span: Span,
        /// Each variant's share.
        #[label(collection, "this share")]
        shares: Vec<LabeledSpan>,
        /// What would make it whole.
        #[help]
        help: String,
    },

    /// A split with fewer than two variants.
    #[error("a split needs at least two variants")]
    #[diagnostic(
        code(E0118),
        help("add a `variant NAME PERCENT%` for each version to test, or write the steps without `split`")
    )]
    SplitTooFew {
        /// The `split` line.
        #[label(primary, "{has}")]
        span: Span,
        /// What it has: `no variant`, `only one variant`.
        has: &'static str,
    },

    /// An event trigger or `event.FIELD` that names no declared event or payload field.
    #[error("{problem}")]
    #[diagnostic(code(E0109))]
    UnknownEvent {
        /// What is wrong.
        problem: String,
        /// Where.
        #[label(primary, "here")]
        span: Span,
        /// How to fix it.
        #[help]
        help: String,
    },

    /// A declared event with the name of a built-in one.
    #[error("`{name}` is a built-in event")]
    #[diagnostic(
        code(E0116),
        help("flowc raises it with its own payload fields: remove this declaration, or give your event another name")
    )]
    BuiltinEvent {
        /// The name.
        name: String,
        /// Where it is declared.
        #[label(primary, "declared here")]
        span: Span,
    },

    /// Two events or two goals with the same name.
    #[error("{what} `{name}` is defined twice")]
    #[diagnostic(code(E0110), help("rename one of them"))]
    DuplicateName {
        /// `event` or `goal`.
        what: &'static str,
        /// The name.
        name: String,
        /// The second.
        #[label(primary, "defined again here")]
        span: Span,
        /// The first.
        #[label("first defined here")]
        first: Span,
    },

    /// An option written twice under one step.
    #[error("`{option}` is given twice for this step")]
    #[diagnostic(
        code(E0111),
        help("keep one `{option}` line (cc and bcc take several addresses separated by commas)")
    )]
    DuplicateOption {
        /// The option.
        option: &'static str,
        /// The second.
        #[label(primary, "again here")]
        span: Span,
        /// The first.
        #[label("first here")]
        first: Span,
    },

    /// A step without an option it needs.
    #[error("`{step}` needs `{option}`")]
    #[diagnostic(code(E0112))]
    MissingOption {
        /// The step.
        step: &'static str,
        /// The missing option.
        option: &'static str,
        /// The step.
        #[label(primary, "this step")]
        span: Span,
        /// An example line.
        #[help]
        help: String,
    },

    /// `else` that is not the last arm, or a second `else`.
    #[error("`else` must be the last arm of a condition")]
    #[diagnostic(
        code(E0113),
        help("branches are tested top to bottom; move `else` to the end, and keep one")
    )]
    MisplacedElse {
        /// The arm after `else`.
        #[label(primary, "comes after `else`")]
        span: Span,
        /// The `else`.
        #[label("`else` is here")]
        else_span: Span,
    },

    /// An option the step does not take.
    #[error("`{step}` does not take `{option}`")]
    #[diagnostic(code(E0114))]
    OptionNotAllowed {
        /// The step.
        step: &'static str,
        /// The option.
        option: &'static str,
        /// The option line.
        #[label(primary, "not an option of {step}")]
        span: Span,
        /// The step's options.
        #[help]
        help: String,
    },

    /// An extraction in the form of the other step kind.
    #[error("{problem}")]
    #[diagnostic(code(E0115))]
    WrongExtraction {
        /// What is wrong.
        problem: &'static str,
        /// The extraction line.
        #[label(primary, "here")]
        span: Span,
        /// The right form.
        #[help]
        help: &'static str,
    },

    /// A comparison or test whose sides do not have matching types.
    #[error("`{field}` is {field_type}, but {problem}")]
    #[diagnostic(code(E0201))]
    TypeMismatch {
        /// The field.
        field: String,
        /// Its type in words.
        field_type: String,
        /// What does not fit.
        problem: String,
        /// The test.
        #[label(primary, "{problem}")]
        span: Span,
        /// Where the field's type comes from.
        #[label("`{field}` is {field_type}")]
        field_span: Span,
        /// What would fit.
        #[help]
        help: Option<String>,
    },

    /// A template filter that does not fit the field's type.
    #[error("`{filter}` does not fit `{field}`, which is {field_type}")]
    #[diagnostic(code(E0202))]
    TemplateTypeMismatch {
        /// The filter.
        filter: String,
        /// The field.
        field: String,
        /// Its type in words.
        field_type: String,
        /// The filter.
        #[label(primary, "does not fit {field_type}")]
        span: Span,
        /// What would fit.
        #[help]
        help: String,
    },

    /// A template filter flowc does not know.
    #[error("unknown filter `{name}`")]
    #[diagnostic(code(E0203))]
    UnknownFilter {
        /// The filter.
        name: String,
        /// Where.
        #[label(primary, "not a filter")]
        span: Span,
        /// The known filters, or a suggestion.
        #[help]
        help: String,
    },

    /// `{{ env.NAME }}` outside an http step.
    #[error("`env.{name}` can only be used in http steps")]
    #[diagnostic(
        code(E0204),
        help("secrets from the environment go into http URLs, headers and bodies only, so they never reach a lead or a chat")
    )]
    SecretOutsideHttp {
        /// The variable.
        name: String,
        /// Where.
        #[label(primary, "a secret would leak here")]
        span: Span,
    },

    /// A date literal that is not a real date.
    #[error("`{text}` is not a valid date")]
    #[diagnostic(code(E0205), help("write dates as `2026-03-08`, or `2026-03-08T09:30` in the account timezone, or with `Z` or an offset like `+01:00`"))]
    InvalidDate {
        /// The literal.
        text: String,
        /// Where.
        #[label(primary, "no such date")]
        span: Span,
    },

    /// An extracted field that clashes with another field.
    #[error("{problem}")]
    #[diagnostic(code(E0206))]
    ExtractionConflict {
        /// What clashes.
        problem: String,
        /// The extraction.
        #[label(primary, "extracted here")]
        span: Span,
        /// The other definition.
        #[label("defined here")]
        other: Option<Span>,
        /// How to fix it.
        #[help]
        help: &'static str,
    },

    /// A wait shorter than a minute or longer than 30 days.
    #[error("`wait {written}` is outside 1 minute to 30 days")]
    #[diagnostic(code(E0301), help("wait at least 1 minute and at most 30 days; for longer pauses chain waits or use a separate workflow"))]
    WaitOutOfRange {
        /// The duration written.
        written: String,
        /// Where.
        #[label(primary, "out of range")]
        span: Span,
    },

    /// A clock time that does not exist.
    #[error("`{written}` is not a valid time of day")]
    #[diagnostic(code(E0302))]
    InvalidClock {
        /// The time written.
        written: String,
        /// Where.
        #[label(primary, "no such time")]
        span: Span,
        /// The valid range.
        #[help]
        help: &'static str,
    },

    /// A timezone name that is not in the IANA database.
    #[error("unknown timezone `{name}`")]
    #[diagnostic(code(E0303))]
    UnknownTimezone {
        /// The name written.
        name: String,
        /// Where.
        #[label(primary, "not an IANA timezone")]
        span: Span,
        /// The closest names.
        #[help]
        help: String,
    },

    /// A window range that is empty or ends before it starts.
    #[error("the range `{written}` is {problem}")]
    #[diagnostic(code(E0304), help("a range opens at its start and closes at its end on the same day, like `09:00-17:00`; use `24:00` for midnight at the end of a day"))]
    EmptyRange {
        /// The range written.
        written: String,
        /// `empty` or `inverted`.
        problem: &'static str,
        /// Where.
        #[label(primary, "never open")]
        span: Span,
    },

    /// A window that names no day.
    #[error("the {channel} window names no day")]
    #[diagnostic(code(E0305), help("say which days it is open: `mon-fri`, `weekdays`, `every day`, or a list like `mon, wed, fri`"))]
    WindowWithoutDays {
        /// The channel.
        channel: &'static str,
        /// The window line.
        #[label(primary, "no day given")]
        span: Span,
    },

    /// Two windows for one channel.
    #[error("the {channel} channel has two windows")]
    #[diagnostic(
        code(E0306),
        help("one window per channel; list several ranges in it: `09:00-12:00, 13:00-17:00`")
    )]
    DuplicateWindow {
        /// The channel.
        channel: &'static str,
        /// The second.
        #[label(primary, "second window")]
        span: Span,
        /// The first.
        #[label("first window")]
        first: Span,
    },

    /// A duration outside what its setting or option allows.
    #[error("`{written}` is out of range for {what}")]
    #[diagnostic(code(E0307))]
    DurationOutOfRange {
        /// The duration written.
        written: String,
        /// Where it is used.
        what: &'static str,
        /// Where.
        #[label(primary, "out of range")]
        span: Span,
        /// The allowed range.
        #[help]
        help: &'static str,
    },

    /// `send email` with no `to`.
    #[error("this email has no recipient")]
    #[diagnostic(
        code(E0401),
        help("add `to lead`, `to rep` or `to lead and rep` under `send email`")
    )]
    EmailWithoutRecipient {
        /// The step.
        #[label(primary, "sent to nobody")]
        span: Span,
    },

    /// An http body that is not JSON.
    #[error("the request body is not valid JSON: {reason}")]
    #[diagnostic(code(E0402), help("templates stand for values: write `\"{{{{ email }}}}\"` for text and `{{{{ num_employees }}}}` for numbers"))]
    InvalidJson {
        /// What serde_json says.
        reason: String,
        /// The body.
        #[label(primary, "invalid JSON")]
        span: Span,
    },

    /// A text template outside the strings of a JSON body.
    #[error("`{name}` is text: in a JSON body it must stand inside quotes")]
    #[diagnostic(
        code(E0407),
        help("write `\"{{{{ {name} }}}}\"`: the value is then escaped as a JSON string")
    )]
    TextAsJsonValue {
        /// The field.
        name: String,
        /// The template.
        #[label(primary, "outside quotes")]
        span: Span,
    },

    /// An optional field as a JSON value without a default.
    #[error("`{name}` may be missing: it would be sent as `null`")]
    #[diagnostic(
        code(E0408),
        help(
            "give it a default, like `{{{{ {name} | default: 0 }}}}`, or put it in quotes for text"
        )
    )]
    JsonValueMayBeMissing {
        /// The field.
        name: String,
        /// The template.
        #[label(primary, "may be missing")]
        span: Span,
    },

    /// An extracted field used where it may not have been produced.
    #[error("`{name}` may not have been extracted yet here")]
    #[diagnostic(code(E0403))]
    NotYetExtracted {
        /// The field.
        name: String,
        /// The use.
        #[label(primary, "used here")]
        span: Span,
        /// The extraction(s).
        #[label(collection, "extracted here")]
        producers: Vec<LabeledSpan>,
        /// Why and how to fix it.
        #[help]
        help: String,
    },

    /// A step no lead can ever reach.
    #[error("this step can never be reached")]
    #[diagnostic(
        code(E0501),
        help("remove it, or label it and `goto` it from somewhere")
    )]
    UnreachableStep {
        /// The step.
        #[label(primary, "unreachable")]
        span: Span,
        /// The step that never continues to it.
        #[label("leads never continue past this step")]
        after: Option<Span>,
    },

    /// A loop in which no lead ever waits.
    #[error("this loop never waits: a lead would go round it forever at one instant")]
    #[diagnostic(
        code(E0502),
        help("put a `wait` or a `wait until` step inside the loop")
    )]
    LoopWithoutWait {
        /// The step that closes the loop.
        #[label(primary, "loops back from here")]
        span: Span,
        /// Every step of the loop.
        #[label(collection, "in the loop")]
        steps: Vec<LabeledSpan>,
    },

    /// A condition without `else`: leads matching no branch exit.
    #[error("leads that match no branch leave the workflow here")]
    #[diagnostic(
        code(W0001),
        severity(Warning),
        help(
            "add an `else` branch, even one that only says `exit \"reason\"`, to make it explicit"
        )
    )]
    ConditionWithoutElse {
        /// The condition.
        #[label(primary, "no `else`")]
        span: Span,
    },

    /// A branch testing a field the trigger does not guarantee.
    #[error("`{field}` may be missing here: leads without it never match `{branch}`")]
    #[diagnostic(code(W0002), severity(Warning))]
    FieldNotGuaranteed {
        /// The field.
        field: String,
        /// The branch.
        branch: String,
        /// The comparison.
        #[label(primary, "false when `{field}` is missing")]
        span: Span,
        /// How to make it explicit.
        #[help]
        help: String,
    },

    /// A text whose fixed part is longer than one SMS.
    #[error("this text is {length} characters before any field is filled in")]
    #[diagnostic(
        code(W0003),
        severity(Warning),
        help("an SMS holds 160 characters; longer texts are split and may arrive out of order")
    )]
    LongText {
        /// The static length.
        length: usize,
        /// The body.
        #[label(primary, "over 160 characters")]
        span: Span,
    },

    /// `email window is open` in the trigger or a goal.
    #[error("a window test only fits a step's condition")]
    #[diagnostic(
        code(E0308),
        help("the trigger and goals are tested whenever a lead changes, not at a step; test the window in a `condition` branch, like `branch now when email window is open`")
    )]
    WindowTestOutsideSteps {
        /// The test.
        #[label(primary, "not at a step")]
        span: Span,
    },

    /// `email window is open` with no email window: always true.
    #[error("the {channel} window is always open: this workflow sets no {channel} window")]
    #[diagnostic(
        code(W0006),
        severity(Warning),
        help(
            "add one under `windows`, like `{channel} mon-fri 09:00-17:00`, or leave the test out"
        )
    )]
    WindowTestWithoutWindow {
        /// The channel.
        channel: &'static str,
        /// The test.
        #[label(primary, "always true")]
        span: Span,
    },

    /// A channel step whose window never opens.
    #[error("this step waits forever: the {channel} window never opens")]
    #[diagnostic(
        code(W0004),
        severity(Warning),
        help("fix the window's days and ranges so it opens at least once a week")
    )]
    WindowNeverOpens {
        /// The channel.
        channel: &'static str,
        /// The step.
        #[label(primary, "held forever")]
        span: Span,
        /// The window.
        #[label("this window never opens")]
        window: Span,
    },
}
