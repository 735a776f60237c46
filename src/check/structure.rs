//! Sections, names, labels, branches and step options.

use rustc_hash::FxHashMap as HashMap;

use std::rc::Rc;

use miette::LabeledSpan;

use super::{CheckError, Checker};
use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::schema;
use crate::span::Span;
use crate::suggest;

/// Reports workflows of one file that share a name.
pub(super) fn workflow_names(file: &SourceFile, diagnostics: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for workflow in &file.workflows {
        let name = &workflow.name;
        if let Some(&first) = seen.get(name.name.as_str()) {
            diagnostics.push(
                CheckError::DuplicateWorkflow {
                    name: name.name.clone(),
                    span: name.span,
                    first,
                }
                .into(),
            );
        } else {
            seen.insert(&name.name, name.span);
        }
    }
}

impl Checker<'_> {
    pub(super) fn structure(&mut self) {
        self.sections();
        self.named_declarations();
        self.watched_events();
        self.labels();
        for &step in Rc::clone(&self.all_steps).iter() {
            match &step.kind {
                StepKind::Effect(effect) => self.effect_options(step, effect),
                StepKind::Condition(condition) => self.condition_arms(condition),
                StepKind::Split(split) => self.split_variants(step, split),
                StepKind::WaitUntilField(wait) => self.once_each(
                    wait.branches
                        .iter()
                        .map(|b| (b.case.node.keyword(), b.case.span)),
                    "if",
                ),
                StepKind::WaitForEvent(wait) => self.once_each(
                    wait.branches
                        .iter()
                        .map(|b| (b.case.node.keyword(), b.case.span)),
                    "on",
                ),
                _ => {}
            }
        }
    }

    fn sections(&mut self) {
        let workflow = self.workflow;
        let mut first_setting: HashMap<&'static str, Span> = HashMap::default();
        for setting in &workflow.settings {
            let what = match setting.kind {
                SettingKind::Timezone(_) => "timezone",
                SettingKind::ReEntry(_) => "re-entry",
                SettingKind::LookBack(_) => "look back",
                SettingKind::SendFailure(_) => "on send failure",
                SettingKind::Holidays(_) => "holidays",
            };
            self.once(&mut first_setting, what, setting.span);
        }
        for trigger in &workflow.triggers {
            self.once(&mut first_setting, "trigger", trigger.span);
        }
        for section in &workflow.steps {
            self.once(&mut first_setting, "steps", section.span);
        }
        if workflow.triggers.is_empty() {
            self.missing_section(
                "trigger",
                "add a line like `trigger when lead_score > 50` or `trigger on call_ended`",
            );
        }
        if workflow
            .steps
            .iter()
            .all(|section| section.steps.is_empty())
        {
            self.missing_section(
                "steps",
                "add a `steps` section with at least one step, like `send email`",
            );
        }
    }

    fn once(&mut self, seen: &mut HashMap<&'static str, Span>, what: &'static str, span: Span) {
        match seen.get(what) {
            Some(&first) => self.report(CheckError::DuplicateSection { what, span, first }),
            None => {
                seen.insert(what, span);
            }
        }
    }

    fn missing_section(&mut self, what: &'static str, help: &'static str) {
        self.report(CheckError::MissingSection {
            workflow: self.workflow.name.name.clone(),
            what,
            span: self.workflow.header,
            help,
        });
    }

    /// Events and goals with the same name; event payload fields declared twice.
    fn named_declarations(&mut self) {
        let workflow = self.workflow;
        let events = workflow.events.iter().map(|event| &event.name);
        let goals = workflow.goals.iter().map(|goal| &goal.name);
        for (what, names) in [
            ("event", events.collect::<Vec<_>>()),
            ("goal", goals.collect()),
        ] {
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for name in names {
                match seen.get(name.name.as_str()) {
                    Some(&first) => self.report(CheckError::DuplicateName {
                        what,
                        name: name.name.clone(),
                        span: name.span,
                        first,
                    }),
                    None => {
                        seen.insert(&name.name, name.span);
                    }
                }
            }
        }
        for event in &workflow.events {
            if schema::BUILTIN_EVENTS
                .iter()
                .any(|builtin| builtin.name == event.name.name)
            {
                self.report(CheckError::BuiltinEvent {
                    name: event.name.name.clone(),
                    span: event.name.span,
                });
            }
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for field in &event.fields {
                match seen.get(field.name.name.as_str()) {
                    Some(&first) => self.report(CheckError::DuplicateField {
                        name: field.name.name.clone(),
                        span: field.name.span,
                        first: Some(first),
                        help: "declare each payload field once".to_owned(),
                    }),
                    None => {
                        seen.insert(&field.name.name, field.name.span);
                    }
                }
            }
        }
    }

    /// `trigger on EVENT` and `goal NAME on EVENT` must name a declared or
    /// built-in event.
    fn watched_events(&mut self) {
        let workflow = self.workflow;
        let triggers = workflow.triggers.iter().take(1).map(|t| &t.kind);
        let goals = workflow.goals.iter().map(|goal| &goal.watch);
        let waits = self.all_steps.iter().filter_map(|step| match &step.kind {
            StepKind::WaitForEvent(wait) => Some(&wait.event),
            _ => None,
        });
        let watched: Vec<&Ident> = triggers
            .chain(goals)
            .filter_map(Watch::event)
            .chain(waits)
            .collect();
        for event in watched {
            if workflow.event(&event.name).is_some() {
                continue;
            }
            let declared = workflow.events.iter().map(|event| event.name.name.as_str());
            let builtin = schema::BUILTIN_EVENTS.iter().map(|event| event.name);
            let declare = format!(
                "declare it with its payload fields: `event {}` then lines like `outcome text`",
                event.name
            );
            let help = match suggest::closest(&event.name, declared.chain(builtin)) {
                Some(name) => format!("did you mean `{name}`? If not, {declare}"),
                None => declare,
            };
            self.report(CheckError::UnknownEvent {
                problem: format!("no event `{}` is declared or built in", event.name),
                span: event.span,
                help,
            });
        }
    }

    /// Duplicate labels, and `goto` to labels that do not exist.
    fn labels(&mut self) {
        let steps = Rc::clone(&self.all_steps);
        let mut labels: HashMap<&str, Span> = HashMap::default();
        for step in steps.iter() {
            let Some(label) = &step.label else { continue };
            match labels.get(label.name.as_str()) {
                Some(&first) => self.report(CheckError::DuplicateLabel {
                    name: label.name.clone(),
                    span: label.span,
                    first,
                }),
                None => {
                    labels.insert(&label.name, label.span);
                }
            }
        }
        for step in steps.iter() {
            let StepKind::Goto(Goto {
                label: target,
                limit,
            }) = &step.kind
            else {
                continue;
            };
            if let Some(limit) = limit
                .as_ref()
                .filter(|limit| !(1..=MAX_LOOPS).contains(&limit.node))
            {
                self.report(CheckError::LoopLimit {
                    written: limit.node,
                    span: limit.span,
                });
            }
            if labels.contains_key(target.name.as_str()) {
                continue;
            }
            let help =
                suggest::did_you_mean(suggest::closest(&target.name, labels.keys().copied()))
                    .unwrap_or_else(|| {
                        format!(
                            "write `label {}` on the line before the step to go to",
                            target.name
                        )
                    });
            self.report(CheckError::UndefinedLabel {
                name: target.name.clone(),
                span: target.span,
                help,
            });
        }
    }

    /// Options a step takes, needs, and may give once; its outcome branches.
    fn effect_options(&mut self, step: &Step, effect: &Effect) {
        let rules = OptionRules::of(&effect.action);
        let name = effect.action.describe();
        let mut seen = SmallMap::default();
        for option in &effect.options {
            let keyword = option.kind.keyword();
            if !rules.allowed.contains(&keyword) {
                self.report(CheckError::OptionNotAllowed {
                    step: name,
                    option: keyword,
                    span: option.span,
                    help: format!("{name} takes: {}", rules.allowed.join(", ")),
                });
                continue;
            }
            if let Some(&first) = seen.get(&keyword) {
                if keyword != "header" {
                    self.report(CheckError::DuplicateOption {
                        option: keyword,
                        span: option.keyword,
                        first,
                    });
                }
            } else {
                seen.insert(keyword, option.keyword);
            }
            if let OptionKind::Extract(extractions) = &option.kind {
                self.extraction_forms(&effect.action, extractions);
            }
        }
        if matches!(effect.action, Action::SendEmail) && !seen.contains_key(&"to") {
            self.report(CheckError::EmailWithoutRecipient { span: step.span });
        }
        for (option, example) in rules.required {
            if !seen.contains_key(option) {
                self.report(CheckError::MissingOption {
                    step: name,
                    option,
                    span: step.span,
                    help: format!("add a line under the step: `{example}`"),
                });
            }
        }
        let mut outcomes = SmallMap::default();
        for branch in &effect.outcomes {
            match outcomes.get(&branch.outcome.node) {
                Some(&first) => self.report(CheckError::DuplicateBranch {
                    name: format!("on {}", branch.outcome.node.keyword()),
                    span: branch.outcome.span,
                    first,
                }),
                None => {
                    outcomes.insert(branch.outcome.node, branch.outcome.span);
                }
            }
        }
    }

    fn extraction_forms(&mut self, action: &Action, extractions: &[Extraction]) {
        for extraction in extractions {
            match (action, &extraction.source) {
                (Action::Http { .. }, ExtractSource::Description(_)) => self.report(CheckError::WrongExtraction {
                    problem: "an http step extracts fields from its response by path",
                    span: extraction.span,
                    help: "write `NAME TYPE from PATH`, like `employees number from company.metrics.employees`",
                }),
                (Action::Prompt, ExtractSource::Path(_)) => self.report(CheckError::WrongExtraction {
                    problem: "a prompt step extracts fields by description",
                    span: extraction.span,
                    help: "write `NAME TYPE \"what the AI should find\"`, like `segment text \"enterprise, mid-market or SMB\"`",
                }),
                _ => {}
            }
        }
    }

    /// Branch names are unique; `else` comes last, once.
    fn condition_arms(&mut self, condition: &Condition) {
        let mut names = SmallMap::default();
        let mut else_span = None;
        for arm in &condition.arms {
            if let Some(else_span) = else_span {
                self.report(CheckError::MisplacedElse {
                    span: arm.span,
                    else_span,
                });
            }
            match &arm.test {
                ArmTest::Else => else_span = else_span.or(Some(arm.span)),
                ArmTest::When { name, .. } => match names.get(&name.name.as_str()) {
                    Some(&first) => self.report(CheckError::DuplicateBranch {
                        name: name.name.clone(),
                        span: name.span,
                        first,
                    }),
                    None => {
                        names.insert(&name.name, name.span);
                    }
                },
            }
        }
    }
}

impl Checker<'_> {
    /// Each case of a wait (`if missing`, `on timeout`) is handled once.
    fn once_each(&mut self, cases: impl Iterator<Item = (&'static str, Span)>, word: &str) {
        let mut seen = SmallMap::default();
        for (case, span) in cases {
            match seen.get(&case) {
                Some(&first) => self.report(CheckError::DuplicateBranch {
                    name: format!("{word} {case}"),
                    span,
                    first,
                }),
                None => seen.insert(case, span),
            }
        }
    }

    /// Variant names are unique, there are at least two, and their shares
    /// add up to 100%.
    fn split_variants(&mut self, step: &Step, split: &Split) {
        let mut names = SmallMap::default();
        for variant in &split.variants {
            let name = &variant.name;
            match names.get(&name.name.as_str()) {
                Some(&first) => self.report(CheckError::DuplicateBranch {
                    name: format!("variant {}", name.name),
                    span: name.span,
                    first,
                }),
                None => names.insert(&name.name, name.span),
            }
        }
        if split.variants.len() < 2 {
            self.report(CheckError::SplitTooFew {
                span: step.span,
                has: if split.variants.is_empty() {
                    "no variant"
                } else {
                    "only one variant"
                },
            });
            return;
        }
        let total: u32 = split
            .variants
            .iter()
            .map(|variant| variant.percent.node)
            .sum();
        if total != 100 {
            let help = if total < 100 {
                format!("give the variants {}% more between them", 100 - total)
            } else {
                format!("take {}% off the variants between them", total - 100)
            };
            self.report(CheckError::SplitShares {
                total,
                span: step.span,
                shares: split
                    .variants
                    .iter()
                    .map(|variant| {
                        LabeledSpan::new_with_span(
                            Some("this share".to_owned()),
                            variant.percent.span,
                        )
                    })
                    .collect(),
                help,
            });
        }
    }
}

/// The most times `goto LABEL up to N times` may go back.
pub const MAX_LOOPS: u32 = 1000;

/// What options a kind of effect step takes and needs.
struct OptionRules {
    allowed: &'static [&'static str],
    required: &'static [(&'static str, &'static str)],
}

/// The option rules of each kind of effect step, by the words that start
/// it ([`Action::describe`]).
const OPTION_RULES: &[(&str, OptionRules)] = &[
    (
        "send email",
        OptionRules {
            allowed: &[
                "to",
                "cc",
                "bcc",
                "from",
                "subject",
                "body",
                "transactional",
                "outside window",
            ],
            required: &[("subject", "subject \"...\""), ("body", "body \"...\"")],
        },
    ),
    (
        "send text",
        OptionRules {
            allowed: &["from", "body", "outside window"],
            required: &[("body", "body \"...\"")],
        },
    ),
    (
        "call phone",
        OptionRules {
            allowed: &["agent", "from", "outside window"],
            required: &[],
        },
    ),
    (
        "notify",
        OptionRules {
            allowed: &["message"],
            required: &[("message", "message \"...\"")],
        },
    ),
    (
        "http",
        OptionRules {
            allowed: &["header", "body", "timeout", "extract"],
            required: &[],
        },
    ),
    (
        "prompt",
        OptionRules {
            allowed: &["instructions", "tools", "extract"],
            required: &[("instructions", "instructions \"...\"")],
        },
    ),
];

impl OptionRules {
    fn of(action: &Action) -> &'static Self {
        const NONE: OptionRules = OptionRules {
            allowed: &[],
            required: &[],
        };
        let name = action.describe();
        OPTION_RULES
            .iter()
            .find(|(step, _)| *step == name)
            .map_or(&NONE, |(_, rules)| rules)
    }
}

/// The options the effect step that starts with `step` (`send email`,
/// `notify`, `http`) takes, as the checker allows them; none for others.
pub fn allowed_options(step: &str) -> &'static [&'static str] {
    OPTION_RULES
        .iter()
        .find(|(name, _)| *name == step)
        .map_or(&[], |(_, rules)| rules.allowed)
}

/// A map for the handful of entries of one step or block: a linear scan
/// beats hashing at that size, and it allocates only when used.
struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: PartialEq, V> SmallMap<K, V> {
    fn get(&self, key: &K) -> Option<&V> {
        self.0
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, value)| value)
    }

    fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    fn insert(&mut self, key: K, value: V) {
        self.0.push((key, value));
    }
}
