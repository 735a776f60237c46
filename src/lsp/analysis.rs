//! What the language server knows about one document: its diagnostics,
//! and what is at a position (for hover, definition and completion).

use crate::ast::{EventDecl, FieldType, SourceFile, Step, Workflow};
use crate::check::{all_steps, FieldOrigin, Scope};
use crate::schema;
use crate::span::Span;
use crate::syntax::tokens::{Role, Token, TokenKind};

use super::docs;

/// A document and its tree.
#[derive(Clone, Copy)]
pub struct Document<'a> {
    /// Its text.
    pub text: &'a str,
    /// Its tree (as much as could be read).
    pub file: &'a SourceFile,
}

impl<'a> Document<'a> {
    /// A document over a tree already parsed from `text`.
    pub fn new(text: &'a str, file: &'a SourceFile) -> Self {
        Document { text, file }
    }

    /// The workflow the byte `offset` is in.
    pub(super) fn workflow_at(&self, offset: usize) -> Option<&'a Workflow> {
        self.file
            .workflows
            .iter()
            .take_while(|workflow| workflow.header.start as usize <= offset)
            .last()
            .or(self.file.workflows.first())
    }

    /// The word (a name, keyword or `event.field`) around `offset`.
    pub fn word_at(&self, offset: usize) -> Option<(&'a str, Span)> {
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
        let offset = offset.min(self.text.len());
        let start = self.text[..offset]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map_or(offset, |(at, _)| at);
        let end = self.text[offset..]
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(self.text.len(), |(at, _)| offset + at);
        (start < end).then(|| (&self.text[start..end], Span::new(start, end)))
    }

    /// Markdown describing what is at `offset`: a keyword (as the tokens
    /// read it, so the channel word `email` is never the lead field), a
    /// field or an event.
    pub fn hover(&self, offset: usize, tokens: &[Token]) -> Option<(String, Span)> {
        // `event.FIELD` and `env.NAME` are one thing to hover, whichever
        // part the cursor is on.
        if let Some((full, full_span)) = self.word_at(offset).filter(|(word, _)| word.contains('.'))
        {
            if let Some(field) = self.field(offset, full) {
                return Some((field.markdown(self.text), full_span));
            }
        }
        let inside =
            |token: &&Token| (token.span.start as usize..token.span.end as usize).contains(&offset);
        let token = tokens.iter().find(inside).or_else(|| {
            tokens
                .iter()
                .find(|token| token.span.end as usize == offset)
        })?;
        let span = token.span;
        let word = &self.text[span.range()];
        match token.kind {
            TokenKind::Keyword => {
                let before = tokens
                    .iter()
                    .rev()
                    .find(|other| other.span.end <= span.start && other.kind == TokenKind::Keyword)
                    .filter(|other| {
                        !self.text[other.span.end as usize..span.start as usize].contains('\n')
                    });
                let phrase =
                    before.map(|other| format!("{} {word}", &self.text[other.span.range()]));
                docs::keyword(word, phrase.as_deref()).map(|markdown| (markdown, span))
            }
            TokenKind::Name { role, .. } => {
                let (full, full_span) = self.word_at(offset)?;
                if let Some(field) = self.field(offset, full) {
                    return Some((field.markdown(self.text), full_span));
                }
                match role {
                    Role::Event => builtin_event(word).map(|event| (builtin_markdown(event), span)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Where the label or field at `offset` is defined.
    pub fn definition(&self, offset: usize) -> Option<Span> {
        let (word, _) = self.word_at(offset)?;
        let workflow = self.workflow_at(offset)?;
        let labels = steps_of(workflow);
        if let Some(label) = labels
            .iter()
            .filter_map(|step| step.label.as_ref())
            .find(|label| label.name == word)
        {
            return Some(label.span);
        }
        self.field(offset, word)?.defined
    }

    /// The field named `word` in the workflow at `offset`.
    fn field(&self, offset: usize, word: &str) -> Option<FieldDoc> {
        let workflow = self.workflow_at(offset)?;
        if let Some(name) = word.strip_prefix("event.") {
            let event = payload_event(workflow, offset)?;
            let decl = event.fields.iter().find(|field| field.name.name == name)?;
            let builtin = builtin_event(&event.name.name);
            let description = match builtin {
                Some(builtin) => builtin
                    .fields
                    .iter()
                    .find(|(field, _, _)| *field == name)
                    .map(|(_, _, about)| (*about).to_owned()),
                None => decl.description.as_ref().map(|text| text.static_text()),
            };
            return Some(FieldDoc {
                name: word.to_owned(),
                ty: decl.ty,
                description,
                origin: format!("a field of the `{}` event", event.name.name),
                defined: builtin.is_none().then_some(decl.name.span),
            });
        }
        let steps = steps_of(workflow);
        let scope = Scope::build(workflow, &steps, &mut Vec::new());
        let info = scope.fields.get(word)?;
        let (origin, defined, description) = match &info.origin {
            FieldOrigin::Standard => (
                "a standard lead field".to_owned(),
                None,
                crate::schema::STANDARD_FIELDS
                    .iter()
                    .find(|(name, _, _)| *name == word)
                    .map(|(_, _, description)| (*description).to_owned()),
            ),
            FieldOrigin::Declared(span) => (
                "declared under `fields`".to_owned(),
                Some(*span),
                workflow
                    .fields
                    .iter()
                    .find(|decl| decl.name.name == word)
                    .and_then(|decl| decl.description.as_ref())
                    .map(|text| text.static_text()),
            ),
            FieldOrigin::Extracted(spans) => (
                format!("extracted by {} step(s)", spans.len()),
                spans.first().copied(),
                None,
            ),
        };
        Some(FieldDoc {
            name: word.to_owned(),
            ty: info.ty,
            description,
            origin,
            defined,
        })
    }
}

/// What a completion is, for its icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A keyword or step.
    Keyword,
    /// A lead field.
    Field,
    /// A step label.
    Label,
    /// A value such as a timezone name.
    Value,
}

struct FieldDoc {
    name: String,
    ty: FieldType,
    description: Option<String>,
    origin: String,
    defined: Option<Span>,
}

impl FieldDoc {
    fn markdown(&self, text: &str) -> String {
        let mut out = format!("**{}**: `{}`", self.name, type_name(&self.ty));
        if let Some(description) = &self.description {
            out.push_str(&format!("\n\n{description}"));
        }
        let place = self.defined.map_or_else(String::new, |span| {
            let (line, _) = crate::span::line_column(text, span.start as usize);
            format!(", line {line}")
        });
        out.push_str(&format!("\n\n{}{place}", self.origin));
        out
    }
}

/// A field type as written: `optional list of text`.
pub(super) fn type_name(ty: &FieldType) -> String {
    let base = match ty.base {
        crate::ast::BaseType::Text => "text",
        crate::ast::BaseType::Number => "number",
        crate::ast::BaseType::Bool => "bool",
        crate::ast::BaseType::Datetime => "datetime",
    };
    let list = if ty.list { "list of " } else { "" };
    let optional = if ty.optional { "optional " } else { "" };
    format!("{optional}{list}{base}")
}

/// Every step of a workflow, nested ones included.
pub(super) fn steps_of(workflow: &Workflow) -> Vec<&Step> {
    all_steps(workflow.step_list())
}

/// The event whose payload `event.FIELD` at `offset` reads: that of the
/// goal on an event whose line it is on, else the trigger's.
pub(super) fn payload_event(workflow: &Workflow, offset: usize) -> Option<&EventDecl> {
    let on_line = |span: Span| (span.start as usize..=span.end as usize).contains(&offset);
    let goal = workflow.goals.iter().find(|goal| on_line(goal.span));
    let watch = match goal {
        Some(goal) => &goal.watch,
        None => &workflow.triggers.first()?.kind,
    };
    workflow.event(&watch.event()?.name)
}

/// The built-in event of this name.
fn builtin_event(name: &str) -> Option<&'static schema::BuiltinEvent> {
    schema::BUILTIN_EVENTS
        .iter()
        .find(|event| event.name == name)
}

/// Hover text for a built-in event: when it happens and its fields.
fn builtin_markdown(event: &schema::BuiltinEvent) -> String {
    let mut out = format!("**{}** (built-in event): {}\n\n", event.name, event.about);
    for (name, base, about) in event.fields {
        out.push_str(&format!(
            "- `event.{name}` ({}): {about}\n",
            schema::base_name(*base)
        ));
    }
    out
}

/// Keywords with what they do, for hover and completion.
pub const KEYWORDS: &[(&str, &str)] = &[
    ("workflow", "starts a workflow: `workflow NAME`, then its settings, sections and steps"),
    ("timezone", "the account timezone, an IANA name such as `America/New_York`; days and clock times are counted in it"),
    ("re-entry", "whether a lead may enter again: `never`, `always` or `after 30 days`"),
    ("look", "`look back 2 years`: only leads active within this period may enter"),
    ("fields", "declares custom lead fields: `NAME [optional] [list of] text|number|bool|datetime [\"description\"]`"),
    ("event", "declares an event and its payload fields; `event.FIELD` reads them"),
    ("trigger", "which leads enter: `trigger when CRITERIA` or `trigger on EVENT [when CRITERIA]`"),
    ("goal", "`goal NAME when CRITERIA`: a lead leaves as soon as it holds; `goal NAME on EVENT [when CRITERIA]`: when the event happens (`goal replied on text_replied`)"),
    ("windows", "outgoing time windows per channel: a step reached outside its window holds the lead until it opens"),
    ("steps", "the steps, run in order"),
    ("send email", "sends an email: `to lead|rep`, `cc`, `bcc`, `from`, `subject`, `body` (Markdown)"),
    ("send text", "sends an SMS: `from`, `body`"),
    ("call phone", "calls the lead with a voice agent; branches `on answered|voicemail|no answer|failed`"),
    ("notify", "posts to a Slack or Teams channel: `notify slack|teams NAME` with `message`"),
    ("http", "an HTTP request: `http get|post|put \"URL\"` with `header`, `body`, `timeout`, `extract`"),
    ("prompt", "asks an AI model: `instructions`, `tools`, `extract`"),
    ("wait", "`wait 2 days` (calendar days in the account timezone); `wait until [next] [DAYS] 09:30 [in lead timezone]`; `wait until demo_at - 1 hour` (a datetime field and an offset)"),
    ("for", "`wait for EVENT up to DURATION`: waits for the event to happen to the lead, at most that long; `on event` (where `event.FIELD` reads its payload) and `on timeout` blocks, closed by `end`"),
    ("outside", "`outside window skip` or `outside window hold up to 2 days then skip` under a send or call step: what it does when reached outside its window (holding until it opens is the default)"),
    ("holidays", "`holidays 2026-12-25, 2027-01-01` or `holidays file \"holidays.txt\"` (one date per line, `#` comments): dates that are no business day; windows with `skip holidays` stay closed on them"),
    ("skip", "`skip holidays` after a window: it stays closed all day on the workflow's holidays"),
    ("business", "`wait 2 business days`: Monday to Friday, holidays left out, to the same time of day"),
    ("next", "`wait until next weekday 09:30`: never today, the first matching day after it"),
    ("if", "after `wait until FIELD`: `if missing` (the field has no value) or `if past` (its instant has passed), each with steps, closed by `end`; without them the lead goes on at once"),
    ("missing", "`if missing`: the steps for a lead whose waited-for field has no value"),
    ("past", "`if past`: the steps for a lead whose waited-for instant has already passed"),
    ("condition", "branches: `branch NAME when CRITERIA` ... `else` ... `end`; the first match wins"),
    ("branch", "a condition's arm: `branch NAME when CRITERIA`"),
    ("else", "the arm taken when no branch matches"),
    ("split", "an A/B test: `variant NAME PERCENT%` blocks whose shares add up to 100%, closed by `end`; each lead takes one variant, the same in every run (label the split to keep it across edits above it)"),
    ("variant", "a split's arm: `variant NAME PERCENT%`, then its steps"),
    ("end", "closes a condition, a split or a step's outcome branches"),
    ("goto", "continues at a labelled step: `goto LABEL`; `goto LABEL up to 3 times` goes back at most 3 times per enrollment, then goes on"),
    ("up", "`goto LABEL up to N times`: goes back at most N times per enrollment (1 to 1000), then the lead goes on after the goto"),
    ("label", "names the next step for `goto`: `label NAME`"),
    ("exit", "the lead leaves the workflow: `exit [\"reason\"]`"),
    ("on", "a branch on a step's outcome (`on answered`, `on error`, ...), or the setting `on send failure continue|fail`"),
    ("failure", "`on send failure continue|fail`: whether a send, notification or http request that fails for good (with no `on error`) lets the enrollment go on (default) or fails it"),
    ("to", "who receives an email: `to lead`, `to rep`, `to lead and rep`"),
    ("from", "the sender: an identity or number from flowc.toml, or an address"),
    ("subject", "the email's subject; may hold `{{ field }}` templates"),
    ("transactional", "an email a lead needs whatever their marketing consent (a receipt, a booking): no unsubscribe headers, and sent to addresses that unsubscribed (never to opted-out or undeliverable ones)"),
    ("body", "the message: `body \"...\"`, `body \"\"\"...\"\"\"` or `body file \"path.md\"`"),
    ("agent", "the voice agent of a call, from flowc.toml"),
    ("message", "the text of a Slack or Teams notification"),
    ("header", "an HTTP header: `header NAME \"value\"`"),
    ("timeout", "how long an http step may take: `timeout 10s`"),
    ("instructions", "what the AI model is asked"),
    ("tools", "what the AI model may use: `web search`, `fetch url`"),
    ("extract", "fields taken from the answer: `NAME TYPE from json.path` or `NAME TYPE \"description\"`"),
    ("when", "introduces criteria over lead fields"),
    ("within", "`FIELD is within last 7 days` (an instant in the past week) or `is within next 7 days` (one from now to a week ahead)"),
    ("between", "`FIELD is between LOW and HIGH`: a number or an instant from LOW to HIGH, both included; each bound a value or another field"),
    ("before", "`FIELD is before VALUE|FIELD`: an earlier instant (`is after` a later one)"),
    ("has", "`FIELD has more than|fewer than|at least|at most N items`: counts a list's items"),
    ("items", "`tags has more than 2 items`: the number of items in a list"),
    ("optional", "`NAME optional TYPE` under `fields`: leads may lack the field; criteria on a missing value are false"),
    ("list", "`NAME list of TYPE`: the field holds several values; test it with `contains` or `has more than N items`"),
    ("number", "a field type: a number such as `42` or `-1.5`"),
    ("bool", "a field type: `true` or `false`"),
    ("datetime", "a field type: an instant such as `2026-03-01T09:00:00Z`; waits and `is within` read it"),
    ("text", "a field type (free text), the channel of `send text` (an SMS), or a window's channel"),
    ("email", "the channel of `send email`, or a window's channel: `email mon-fri 09:00-17:00`"),
    ("every", "`every day` in a window or `wait until`: all seven days"),
    ("day", "`every day`: all seven days; or a duration unit (`wait 1 day`)"),
    ("account", "`in account timezone`: the clock of the workflow's `timezone` (the default)"),
    ("lead", "`to lead`: the lead receives the email; `in lead timezone`: the lead's own clock"),
    ("answered", "`on answered`: the steps after a call the lead picked up"),
    ("voicemail", "`on voicemail`: the steps after a call that reached voicemail"),
    ("no", "`on no answer`: the steps after a call nobody picked up"),
    ("answer", "`on no answer`: the steps after a call nobody picked up"),
    ("failed", "`on failed`: the steps after a call that could not be placed or dropped"),
    ("error", "`on error`: the steps after a send, notification, http request or prompt that failed for good"),
    ("times", "`goto LABEL up to N times`: the most times it goes back per enrollment"),
    ("time", "`goto LABEL up to 1 time`: goes back at most once per enrollment"),
    ("hold", "`outside window hold up to 2 days then skip`: waits for the window that long, then skips the step"),
    ("then", "`outside window hold up to 2 days then skip`: what happens when the hold runs out"),
    ("item", "`tags has at least 1 item`: counts a list's items"),
    ("rep", "`to rep`: the lead's owner (the `assigned_rep_email` field) receives the email"),
    ("cc", "`cc a@example.com, \"{{ assigned_rep_email }}\"`: copies of an email"),
    ("bcc", "`bcc audit@example.com`: hidden copies of an email"),
    ("web", "`tools web search`: the AI model may search the web"),
    ("search", "`tools web search`: the AI model may search the web"),
    ("fetch", "`tools fetch url`: the AI model may read web pages"),
    ("url", "`tools fetch url`: the AI model may read web pages"),
    ("true", "the bool value true"),
    ("false", "the bool value false"),
    ("open", "`email window is open` (or `text`, `call`) in a branch: whether the channel's window is open for the lead now; always when the workflow sets none"),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position of every example and of broken variants answers
    /// without panicking (the server runs as long as the editor does).
    #[test]
    fn every_position_answers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for entry in std::fs::read_dir(dir).expect("examples").flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "flow") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let cut = &text[..text.len() / 2];
            for text in [text.as_str(), cut, "workflow\n  steps\n    goto "] {
                let file = crate::syntax::parse(text).file;
                let document = Document::new(text, &file);
                let tokens = crate::syntax::tokens::tokens(text);
                let index = crate::lsp::position::LineIndex::new(text);
                for offset in (0..=text.len()).filter(|at| text.is_char_boundary(*at)) {
                    let _ = document.hover(offset, &tokens);
                    let _ = document.definition(offset);
                    let _ = document.completions(offset, index.line_before(offset));
                }
                let _ = super::super::outline::folds(&crate::syntax::outline(text), text);
            }
        }
    }
}
