//! Completion by context: what may come after the word before the cursor
//! (`send `, `notify `, `on `, `is `...), what may start a line where the
//! cursor is (a setting, a step, an option of the step above, a block
//! word), and inside templates the fields, `event.` fields and filters.

use crate::ast::Workflow;
use crate::check::Scope;
use crate::schema;

use super::analysis::{payload_event, steps_of, Document, Kind};

/// Steps, as they start a line in a step list.
const STEPS: &[&str] = &[
    "send email",
    "send text",
    "call phone",
    "notify slack",
    "notify teams",
    "http get",
    "http post",
    "http put",
    "prompt",
    "wait",
    "wait until",
    "wait for",
    "condition",
    "split",
    "goto",
    "label",
    "exit",
];

/// Settings and sections, as they start a line in a workflow.
const SECTIONS: &[&str] = &[
    "timezone",
    "re-entry",
    "look back",
    "on send failure",
    "holidays",
    "fields",
    "event",
    "trigger",
    "windows",
    "goal",
    "steps",
];

/// The filters a template may use.
const FILTERS: &[&str] = &["default", "upper", "lower"];

/// What may follow `is` in criteria.
const TESTS: &[&str] = &[
    "set",
    "not",
    "one of",
    "within last",
    "within next",
    "older than",
    "between",
    "before",
    "after",
    "true",
    "false",
];

const TYPES: &[&str] = &["text", "number", "bool", "datetime", "optional", "list of"];
const BASE_TYPES: &[&str] = &["text", "number", "bool", "datetime"];
const DAYS: &[&str] = &[
    "mon-fri",
    "weekdays",
    "weekends",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What may start a line under a step, by the words that start the step:
/// its options (as the checker allows them, `to` with its recipients),
/// its outcomes, or its block words.
fn options(step: &str) -> Vec<&'static str> {
    let effect = match step.split(' ').next() {
        Some(first @ ("notify" | "http" | "prompt")) => first,
        _ => step,
    };
    let mut found = Vec::new();
    for option in crate::check::allowed_options(effect) {
        match *option {
            "to" => found.extend(["to lead", "to rep", "to lead and rep"]),
            option => found.push(option),
        }
    }
    let blocks: &[&str] = match step {
        "call phone" => &["on answered", "on voicemail", "on no answer", "on failed"],
        "condition" => &["branch", "else"],
        "split" => &["variant"],
        "wait for" => &["on event", "on timeout"],
        "wait until" => &["if missing", "if past"],
        _ if found.is_empty() => &[],
        _ => &["on error"],
    };
    found.extend(blocks);
    found
}

/// One line of the document: its indent and its words.
struct Line<'a> {
    indent: usize,
    words: Vec<&'a str>,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let body = text.split('#').next().unwrap_or_default();
        Line {
            indent: text.len() - text.trim_start().len(),
            words: body.split_whitespace().collect(),
        }
    }

    /// The first two words, as steps and options are named.
    fn head(&self) -> String {
        self.words
            .iter()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn first(&self) -> &str {
        self.words.first().copied().unwrap_or_default()
    }
}

/// The line a line at `indent` belongs to: the nearest one above it
/// indented less, blank lines and comments aside.
fn parent<'a>(above: &[&'a str], indent: usize) -> Option<(usize, Line<'a>)> {
    above
        .iter()
        .enumerate()
        .rev()
        .map(|(at, text)| (at, Line::new(text)))
        .find(|(_, line)| !line.words.is_empty() && line.indent < indent)
}

/// The line at the same indent just above, if no shallower line is between.
fn sibling<'a>(above: &[&'a str], indent: usize) -> Option<Line<'a>> {
    for text in above.iter().rev() {
        let line = Line::new(text);
        if line.words.is_empty() || line.indent > indent {
            continue;
        }
        return (line.indent == indent).then_some(line);
    }
    None
}

impl Document<'_> {
    /// Completions at `offset`, where `line_before` is the text of its
    /// line up to it.
    pub fn completions(&self, offset: usize, line_before: &str) -> Vec<(String, Kind)> {
        let workflow = self.workflow_at(offset);
        if let Some(open) = line_before
            .rfind("{{")
            .filter(|at| line_before.rfind("}}") < Some(*at))
        {
            return self.in_template(&line_before[open + 2..], workflow, offset);
        }
        let words: Vec<&str> = line_before.split_whitespace().collect();
        let typing = !line_before.is_empty() && !line_before.ends_with([' ', '\t']);
        let done = if typing {
            &words[..words.len().saturating_sub(1)]
        } else {
            &words[..]
        };
        let line_start = offset - line_before.len();
        let above: Vec<&str> = self.text[..line_start].lines().collect();
        let indent = line_before.len() - line_before.trim_start().len();
        match done.last() {
            None => self.line_start(&above, indent),
            Some(previous) => self.after(previous, done, &above, indent, workflow),
        }
    }

    /// What may start a line at `indent`.
    fn line_start(&self, above: &[&str], indent: usize) -> Vec<(String, Kind)> {
        let Some((_, parent)) = parent(above, indent) else {
            return keywords(&["workflow"]);
        };
        let head = parent.head();
        let mut found = match parent.first() {
            "workflow" => keywords(SECTIONS),
            "fields" | "event" | "extract" => Vec::new(),
            "windows" => keywords(&["email", "text", "call"]),
            "steps" | "branch" | "else" | "variant" | "on" | "if" => keywords(STEPS),
            "wait" if parent.words.get(1) == Some(&"for") => keywords(&options("wait for")),
            "wait" if parent.words.get(1) == Some(&"until") => keywords(&options("wait until")),
            _ => keywords(&options(&head)),
        };
        // `end` where the step above at this indent may have blocks.
        if let Some(sibling) = sibling(above, indent).filter(|_| parent.first() != "workflow") {
            let head = match (sibling.first(), sibling.words.get(1)) {
                ("wait", Some(word @ (&"for" | &"until"))) => format!("wait {word}"),
                _ => sibling.head(),
            };
            let blocks = matches!(sibling.first(), "condition" | "split")
                || options(&head)
                    .iter()
                    .any(|option| option.starts_with("on ") || option.starts_with("if "));
            if blocks {
                found.push(("end".to_owned(), Kind::Keyword));
            }
        }
        found
    }

    /// What may follow the word `previous`.
    fn after(
        &self,
        previous: &str,
        done: &[&str],
        above: &[&str],
        indent: usize,
        workflow: Option<&Workflow>,
    ) -> Vec<(String, Kind)> {
        let first = done.first().copied().unwrap_or_default();
        match previous {
            "send" => keywords(&["email", "text"]),
            "call" => keywords(&["phone"]),
            "notify" => keywords(&["slack", "teams"]),
            "http" => keywords(&["get", "post", "put"]),
            "to" if first == "to" => keywords(&["lead", "rep", "lead and rep"]),
            "re-entry" => keywords(&["never", "always", "after"]),
            "look" => keywords(&["back"]),
            "outside" => keywords(&["window"]),
            "window" if first == "outside" => keywords(&["skip", "hold up to"]),
            "tools" => keywords(&["web search", "fetch url"]),
            "body" => keywords(&["file", "\"\"\""]),
            "goto" => labels(workflow),
            "timezone" if done.len() == 1 => chrono_tz::TZ_VARIANTS
                .iter()
                .map(|zone| (zone.name().to_owned(), Kind::Value))
                .collect(),
            "is" => keywords(TESTS),
            "not" if done.iter().rev().nth(1) == Some(&"is") => keywords(&["set", "one of"]),
            "when" | "and" | "or" | "not" | "(" => self.fields(workflow),
            "wait" => keywords(&["until", "for", "1 day", "2 hours", "2 business days"]),
            "until" => {
                let mut found = keywords(&["next", "09:00"]);
                found.extend(keywords(DAYS));
                found.extend(self.fields(workflow));
                found
            }
            "next" => keywords(DAYS),
            "for" | "on" if matches!(first, "trigger" | "goal" | "wait") => events(workflow),
            "on" => self.outcomes(above, indent),
            "optional" => {
                let mut found = keywords(BASE_TYPES);
                found.push(("list of".to_owned(), Kind::Keyword));
                found
            }
            "of" if done.iter().rev().nth(1) == Some(&"list") => keywords(BASE_TYPES),
            _ if done.len() == 1 && self.declares_fields(above, indent) => keywords(TYPES),
            _ => Vec::new(),
        }
    }

    /// Whether a line at `indent` sits in a `fields` or `event` section
    /// or under `extract`, where a name is followed by its type.
    fn declares_fields(&self, above: &[&str], indent: usize) -> bool {
        parent(above, indent)
            .is_some_and(|(_, line)| matches!(line.first(), "fields" | "event" | "extract"))
    }

    /// What `on` may say on a line at `indent`: the outcomes of the step it
    /// belongs to, or `send failure` as a setting.
    fn outcomes(&self, above: &[&str], indent: usize) -> Vec<(String, Kind)> {
        let Some((_, parent)) = parent(above, indent) else {
            return Vec::new();
        };
        if parent.first() == "workflow" {
            return keywords(&["send failure continue", "send failure fail"]);
        }
        let head = match (parent.first(), parent.words.get(1)) {
            ("wait", Some(&"for")) => "wait for".to_owned(),
            _ => parent.head(),
        };
        options(&head)
            .iter()
            .filter_map(|option| option.strip_prefix("on "))
            .map(|outcome| (outcome.to_owned(), Kind::Keyword))
            .collect()
    }

    /// Inside `{{`: fields, `event.` fields, or filters after `|`.
    fn in_template(
        &self,
        inside: &str,
        workflow: Option<&Workflow>,
        offset: usize,
    ) -> Vec<(String, Kind)> {
        if inside.contains('|') {
            return FILTERS
                .iter()
                .map(|name| ((*name).to_owned(), Kind::Value))
                .collect();
        }
        if inside.trim_start().starts_with("event.") {
            let Some(event) = workflow.and_then(|workflow| payload_event(workflow, offset)) else {
                return Vec::new();
            };
            return event
                .fields
                .iter()
                .map(|field| (field.name.name.clone(), Kind::Field))
                .collect();
        }
        let mut found = self.fields(workflow);
        found.push(("event.".to_owned(), Kind::Keyword));
        found
    }

    /// The fields known in the workflow, sorted.
    fn fields(&self, workflow: Option<&Workflow>) -> Vec<(String, Kind)> {
        workflow.map_or_else(Vec::new, |workflow| {
            let steps = steps_of(workflow);
            let scope = Scope::build(workflow, &steps, &mut Vec::new());
            let mut names: Vec<String> = scope.fields.keys().cloned().collect();
            names.sort();
            names.into_iter().map(|name| (name, Kind::Field)).collect()
        })
    }
}

fn keywords(words: &[&str]) -> Vec<(String, Kind)> {
    words
        .iter()
        .map(|word| ((*word).to_owned(), Kind::Keyword))
        .collect()
}

fn labels(workflow: Option<&Workflow>) -> Vec<(String, Kind)> {
    workflow.map_or_else(Vec::new, |workflow| {
        steps_of(workflow)
            .iter()
            .filter_map(|step| step.label.as_ref())
            .map(|label| (label.name.clone(), Kind::Label))
            .collect()
    })
}

fn events(workflow: Option<&Workflow>) -> Vec<(String, Kind)> {
    let declared = workflow.into_iter().flat_map(|w| &w.events);
    let declared = declared.map(|event| event.name.name.clone());
    let builtin = schema::BUILTIN_EVENTS.iter().map(|e| e.name.to_owned());
    declared
        .chain(builtin)
        .map(|name| (name, Kind::Value))
        .collect()
}
