//! Workflows, settings, schema, trigger, goals and windows.

use pest::iterators::Pair;

use super::expected::expected_here;
use super::reread::{counts, outlined, ItemUnits, StepUnits};
use super::{children, content, first, span, workflow_start, Builder, Rule, SyntaxError};
use crate::ast::*;
use crate::span::{Span, Spanned};
use crate::suggest;

/// Where a stray line was found, which decides what it should have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Between workflows.
    File,
    /// Among a workflow's settings and sections.
    Workflow,
    /// In `fields` or `event`.
    Fields,
    /// In `windows`.
    Windows,
    /// In a list of steps.
    Steps,
    /// Inside `condition`, between branches.
    Branches,
    /// Inside `split`, between variants.
    Variants,
}

const SECTION_WORDS: &[(&str, Rule)] = &[
    ("timezone", Rule::setting_timezone),
    ("re-entry", Rule::setting_reentry),
    ("look", Rule::setting_lookback),
    // `on send failure`; any other `on` is a stray block word.
    ("on send", Rule::setting_failure),
    ("holidays", Rule::setting_holidays),
    ("fields", Rule::fields_section),
    ("event", Rule::event_section),
    ("trigger", Rule::trigger),
    ("windows", Rule::windows_section),
    ("goal", Rule::goal),
    ("steps", Rule::steps_section),
];

/// Words that start a step.
pub(crate) const STEP_WORDS: &[&str] = &[
    "send",
    "call",
    "notify",
    "http",
    "prompt",
    "wait",
    "condition",
    "split",
    "goto",
    "exit",
    "label",
];

/// Words that start a step option.
pub(crate) const OPTION_WORDS: &[&str] = &[
    "to",
    "cc",
    "bcc",
    "from",
    "subject",
    "body",
    "agent",
    "message",
    "header",
    "timeout",
    "instructions",
    "tools",
    "extract",
    "transactional",
    "outside",
];

const BLOCK_WORDS: &[&str] = &["end", "else", "branch", "variant", "on"];

impl Level {
    /// The rule a line starting with `word` (then `next`) must follow
    /// here, if `word` starts one.
    pub(crate) fn rule_for(self, word: &str, next: &str) -> Option<Rule> {
        match self {
            Level::File => (word == "workflow").then_some(Rule::workflow),
            Level::Workflow => SECTION_WORDS
                .iter()
                .find(|(known, _)| {
                    let mut words = known.split(' ');
                    words.next() == Some(word) && words.next().is_none_or(|second| second == next)
                })
                .map(|(_, rule)| *rule),
            Level::Fields => Some(Rule::field_decl),
            Level::Windows => Some(Rule::window),
            Level::Steps => STEP_WORDS.contains(&word).then_some(Rule::step),
            Level::Branches => match word {
                "branch" => Some(Rule::branch),
                "else" => Some(Rule::else_branch),
                _ => None,
            },
            Level::Variants => (word == "variant").then_some(Rule::variant),
        }
    }

    /// The error for a line starting with the unknown `word` at `at`.
    pub(crate) fn unknown_line(self, source: &str, at: usize, word: &str) -> SyntaxError {
        if BLOCK_WORDS.contains(&word) && matches!(self, Level::Workflow | Level::Steps) {
            let (_, span) = super::expected::found_at(source, at);
            return SyntaxError::StrayBlockWord {
                word: word.to_owned(),
                span,
                help: block_word_help(word).to_owned(),
            };
        }
        let (expected, candidates, mut help): (&str, Vec<&str>, Option<String>) = match self {
            Level::File => ("`workflow NAME`", vec!["workflow"], None),
            Level::Workflow => (
                "a setting (timezone, re-entry, look back, on send failure) or a section (fields, event, trigger, windows, goal, steps)",
                SECTION_WORDS
                    .iter()
                    .filter_map(|(words, _)| words.split(' ').next())
                    .collect(),
                STEP_WORDS
                    .contains(&word)
                    .then(|| "steps go in the `steps` section".to_owned()),
            ),
            Level::Steps => (
                "a step (send email, send text, call phone, notify, http, prompt, wait, condition, split, goto, exit)",
                STEP_WORDS.to_vec(),
                OPTION_WORDS.contains(&word).then(|| {
                    format!("`{word}` is a step option: it goes right under the step it belongs to")
                }),
            ),
            Level::Branches => (
                "`branch NAME when CRITERIA`, `else` or `end`",
                vec!["branch", "else", "end"],
                STEP_WORDS
                    .contains(&word)
                    .then(|| "the steps of a condition go inside a `branch` or the `else`".to_owned()),
            ),
            Level::Variants => (
                "`variant NAME PERCENT%` or `end`",
                vec!["variant", "end"],
                STEP_WORDS
                    .contains(&word)
                    .then(|| "the steps of a split go inside a `variant`".to_owned()),
            ),
            Level::Fields | Level::Windows => unreachable_level(),
        };
        if help.is_none() {
            let mut known = candidates;
            if self == Level::Steps {
                known.extend(OPTION_WORDS);
            }
            help = suggest::did_you_mean(suggest::closest(word, known));
        }
        expected_here(source, at, expected.to_owned(), help)
    }
}

/// Fields and windows lines always have a rule (`rule_for` never returns `None`).
fn unreachable_level() -> (&'static str, Vec<&'static str>, Option<String>) {
    ("a field or a window", Vec::new(), None)
}

fn block_word_help(word: &str) -> &'static str {
    match word {
        "end" => "`end` closes a `condition`, a `split`, or the `on` branches of a step",
        "else" => "`else` goes inside a `condition`, after its branches",
        "branch" => "`branch NAME when CRITERIA` goes inside a `condition`",
        "variant" => "`variant NAME PERCENT%` goes inside a `split`",
        _ => "`on OUTCOME` goes right after the options of a `call phone` step, `on error` after those of a send, notify, http or prompt step",
    }
}

impl Builder<'_> {
    /// `file`: the workflows of a file.
    pub(super) fn file(&mut self, pair: Pair<'_, Rule>) -> SourceFile {
        let mut file = SourceFile::default();
        for child in content(pair) {
            match child.as_rule() {
                Rule::workflow => file.workflows.push(self.workflow(child)),
                Rule::stray_line => self.stray(&child, Level::File),
                _ => {}
            }
        }
        file
    }

    /// `workflow`: a workflow's header, settings and sections.
    pub(super) fn workflow(&mut self, pair: Pair<'_, Rule>) -> Workflow {
        let (start, end) = (workflow_start(&pair), span(&pair).end as usize);
        let mut units = ItemUnits::new(start, self.quiet_until <= start);
        let mut items = children(pair);
        let name = match items.next() {
            Some(name) if name.as_rule() == Rule::name => self.ident(&name),
            Some(invalid) => {
                self.invalid(&invalid, Rule::name);
                self.ident(&invalid)
            }
            None => Ident {
                name: String::new(),
                span: Span::new(start, start),
            },
        };
        let mut workflow = Workflow {
            header: Span::new(start, name.span.end as usize),
            name,
            ..Workflow::default()
        };
        for item in items {
            let (at, before) = (item.as_span().start(), counts(&workflow));
            // Only a stray line reads on from a run of them before it.
            let stray = item.as_rule() == Rule::stray_item_line;
            let clean = self.quiet_until <= at && !(stray && self.strays_run_to(at));
            let outlined = outlined(&item, self.source);
            self.workflow_item(&mut workflow, item);
            units.push(at, before, &workflow, outlined, clean);
        }
        units.end(end, self.settled_at(end));
        self.units.workflows.push(units);
        workflow
    }

    pub(super) fn workflow_item(&mut self, workflow: &mut Workflow, item: Pair<'_, Rule>) {
        match item.as_rule() {
            Rule::setting_timezone
            | Rule::setting_reentry
            | Rule::setting_lookback
            | Rule::setting_failure
            | Rule::setting_holidays => {
                if let Some(setting) = self.setting(item) {
                    workflow.settings.push(setting);
                }
            }
            Rule::fields_section => workflow.fields.extend(self.field_decls(item)),
            Rule::event_section => {
                if let Some(event) = self.event_section(item) {
                    workflow.events.push(event);
                }
            }
            Rule::trigger => workflow.triggers.extend(self.trigger(item)),
            Rule::goal => workflow.goals.extend(self.goal(item)),
            Rule::windows_section => {
                for line in content(item) {
                    match line.as_rule() {
                        Rule::window => workflow.windows.extend(self.window(line)),
                        _ => self.stray(&line, Level::Windows),
                    }
                }
            }
            Rule::steps_section => {
                let section_span = span(&item);
                let (mut units, mut label) = (StepUnits::new(&item), None);
                let steps = self.step_items(content(item), Some(&mut units), &mut label);
                self.dangling(label);
                units.close(self);
                self.units.steps.push(units);
                workflow.steps.push(StepsSection {
                    steps,
                    span: Span::new(section_span.start as usize, section_span.start as usize + 5),
                });
            }
            _ => self.stray(&item, Level::Workflow),
        }
    }

    /// `setting_*`: one setting line.
    fn setting(&mut self, pair: Pair<'_, Rule>) -> Option<Setting> {
        let line = trimmed_span(&pair);
        let rule = pair.as_rule();
        let expected = match rule {
            Rule::setting_timezone => Rule::timezone_name,
            Rule::setting_reentry => Rule::reentry_policy,
            Rule::setting_failure => Rule::failure_policy,
            Rule::setting_holidays => Rule::holiday_spec,
            _ => Rule::duration,
        };
        let arg = self.valid(first(pair)?, expected)?;
        let kind = match rule {
            Rule::setting_timezone => {
                SettingKind::Timezone(Spanned::new(arg.as_str().to_owned(), span(&arg)))
            }
            Rule::setting_reentry => SettingKind::ReEntry(self.reentry(arg)?),
            Rule::setting_failure => SettingKind::SendFailure(
                match arg.into_inner().next().map(|keyword| keyword.as_rule()) {
                    Some(Rule::kw_fail) => SendFailure::Fail,
                    _ => SendFailure::Continue,
                },
            ),
            Rule::setting_holidays => {
                let spec = first(arg)?;
                SettingKind::Holidays(match spec.as_rule() {
                    Rule::holidays_file => Holidays::File(self.text(first(spec)?)),
                    _ => Holidays::Dates(
                        content(spec)
                            .map(|date| Spanned::new(date.as_str().to_owned(), span(&date)))
                            .collect(),
                    ),
                })
            }
            _ => SettingKind::LookBack(self.duration(arg)),
        };
        Some(Setting { kind, span: line })
    }

    fn reentry(&mut self, pair: Pair<'_, Rule>) -> Option<ReEntry> {
        let mut inner = pair.into_inner();
        let keyword = inner.next()?;
        Some(match keyword.as_rule() {
            Rule::kw_never => ReEntry::Never,
            Rule::kw_always => ReEntry::Always,
            _ => ReEntry::After(self.duration(inner.next()?)),
        })
    }

    /// `fields_section` or the body of `event_section`: field declarations.
    fn field_decls(&mut self, pair: Pair<'_, Rule>) -> Vec<FieldDecl> {
        let mut fields = Vec::new();
        for line in content(pair) {
            match line.as_rule() {
                Rule::field_decl => fields.extend(self.field_decl(line)),
                Rule::stray_field_line => self.stray(&line, Level::Fields),
                _ => {}
            }
        }
        fields
    }

    /// `field_decl`: `name type ["description"]`.
    fn field_decl(&mut self, pair: Pair<'_, Rule>) -> Option<FieldDecl> {
        let mut parts = children(pair);
        let name = self.ident(&parts.next()?);
        let ty = self.field_type(parts.next()?)?;
        let description = parts.next().map(|text| self.text(text));
        Some(FieldDecl {
            name,
            ty,
            description,
        })
    }

    /// `field_type`: `[optional] [list of] base`.
    pub(super) fn field_type(&mut self, pair: Pair<'_, Rule>) -> Option<FieldType> {
        let ty_span = span(&pair);
        let mut optional = false;
        let mut list = false;
        let mut base = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_optional => optional = true,
                Rule::list_type => {
                    list = true;
                    base = part.into_inner().find(|p| p.as_rule() == Rule::base_type);
                }
                Rule::base_type => base = Some(part),
                _ => {}
            }
        }
        let base = match base?.into_inner().next()?.as_rule() {
            Rule::kw_text => BaseType::Text,
            Rule::kw_number => BaseType::Number,
            Rule::kw_bool => BaseType::Bool,
            _ => BaseType::Datetime,
        };
        Some(FieldType {
            optional,
            list,
            base,
            span: ty_span,
        })
    }

    /// `event_section`: an event and its payload fields.
    fn event_section(&mut self, pair: Pair<'_, Rule>) -> Option<EventDecl> {
        let pair_clone = pair.clone();
        let name_pair = self.valid(first(pair_clone)?, Rule::name)?;
        let name = self.ident(&name_pair);
        let fields = self.field_decls(pair);
        Some(EventDecl { name, fields })
    }

    /// `trigger`: criteria or an event.
    fn trigger(&mut self, pair: Pair<'_, Rule>) -> Option<Trigger> {
        let line = trimmed_span(&pair);
        let head = self.valid(first(pair)?, Rule::trigger_head)?;
        let kind = self.watch(first(head)?)?;
        Some(Trigger { kind, span: line })
    }

    /// `watch`: `when CRITERIA` or `on EVENT [when CRITERIA]`.
    fn watch(&mut self, pair: Pair<'_, Rule>) -> Option<Watch> {
        let inner = first(pair)?;
        Some(match inner.as_rule() {
            Rule::when_criteria => Watch::Criteria(self.expr(first(inner)?)?),
            _ => {
                let mut parts = children(inner);
                let event = self.ident(&parts.next()?);
                let criteria = match parts.next() {
                    Some(expr) => Some(self.expr(expr)?),
                    None => None,
                };
                Watch::Event { event, criteria }
            }
        })
    }

    /// `goal`: `goal NAME when CRITERIA` or `goal NAME on EVENT`.
    fn goal(&mut self, pair: Pair<'_, Rule>) -> Option<Goal> {
        let line = trimmed_span(&pair);
        let head = self.valid(first(pair)?, Rule::goal_head)?;
        let mut parts = children(head);
        let name = self.ident(&parts.next()?);
        let watch = self.watch(parts.next()?)?;
        Some(Goal {
            name,
            watch,
            span: line,
        })
    }

    /// `window`: a channel, its days, ranges and timezone.
    fn window(&mut self, pair: Pair<'_, Rule>) -> Option<Window> {
        let line = trimmed_span(&pair);
        let mut parts = children(pair);
        let channel_pair = parts.next()?;
        let channel = Spanned::new(
            Channel::from_keyword(channel_pair.as_str()).unwrap_or(Channel::Call),
            span(&channel_pair),
        );
        let spec = self.valid(parts.next()?, Rule::window_spec)?;
        let mut window = Window {
            channel,
            days: None,
            ranges: Vec::new(),
            zone: WindowZone::Account,
            skip_holidays: false,
            span: line,
        };
        for part in content(spec) {
            match part.as_rule() {
                Rule::days => {
                    window.days = Some(content(part).map(|day| self.day_spec(day)).collect())
                }
                Rule::time_ranges => {
                    window.ranges = content(part)
                        .filter_map(|range| self.time_range(range))
                        .collect();
                }
                Rule::window_zone if part.as_str().contains("lead") => {
                    window.zone = WindowZone::Lead;
                }
                Rule::skip_holidays => window.skip_holidays = true,
                _ => {}
            }
        }
        Some(window)
    }

    pub(super) fn day_spec(&mut self, pair: Pair<'_, Rule>) -> Spanned<DaySpec> {
        let at = span(&pair);
        let spec = match pair.as_rule() {
            Rule::day_range => {
                let mut days = pair.into_inner().map(|day| weekday(day.as_str()));
                let from = days.next().unwrap_or(chrono::Weekday::Mon);
                let to = days.next().unwrap_or(from);
                DaySpec::Range(from, to)
            }
            Rule::every_day => DaySpec::EveryDay,
            Rule::weekdays => DaySpec::Weekdays,
            Rule::weekends => DaySpec::Weekends,
            _ => DaySpec::Day(weekday(pair.as_str())),
        };
        Spanned::new(spec, at)
    }

    fn time_range(&mut self, pair: Pair<'_, Rule>) -> Option<TimeRange> {
        let at = span(&pair);
        let mut clocks = pair.into_inner();
        let start = self.clock(clocks.next()?);
        let end = self.clock(clocks.next()?);
        Some(TimeRange {
            start,
            end,
            span: at,
        })
    }
}

fn weekday(word: &str) -> chrono::Weekday {
    use chrono::Weekday::*;
    match word.get(..3).unwrap_or(word) {
        "mon" => Mon,
        "tue" => Tue,
        "wed" => Wed,
        "thu" => Thu,
        "fri" => Fri,
        "sat" => Sat,
        _ => Sun,
    }
}

/// The span of a line rule without its trailing newlines and comments.
pub(crate) fn trimmed_span(pair: &Pair<'_, Rule>) -> Span {
    let full = span(pair);
    let text = pair.as_str();
    let line_len = text
        .bytes()
        .position(|byte| byte == b'\n' || byte == b'\r')
        .unwrap_or(text.len());
    let line = &text[..line_len];
    let line = match line.find('#') {
        Some(hash) if !line[..hash].contains('"') => &line[..hash],
        _ => line,
    };
    crate::span::Span::new(
        full.start as usize,
        full.start as usize + line.trim_end().len(),
    )
}
