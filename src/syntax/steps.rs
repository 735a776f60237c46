//! Steps and their blocks (effect steps and their options are in
//! [`super::effects`]).

use pest::iterators::Pair;

use super::expected::found_at;
use super::items::{trimmed_span, Level};
use super::reread::StepUnits;
use super::{children, content, first, span, Builder, Rule, SyntaxError};
use crate::ast::*;
use crate::span::{Span, Spanned};

impl Builder<'_> {
    /// A list of `step_item`s: labels, steps and stray lines.
    pub(super) fn step_list<'i>(
        &mut self,
        items: impl Iterator<Item = Pair<'i, Rule>>,
    ) -> Vec<Step> {
        let mut label = None;
        let steps = self.step_items(items, None, &mut label);
        self.dangling(label);
        steps
    }

    /// The items of a step list, marking in `units` where the list may be
    /// read again from (see [`StepUnits`]); `label` holds a label read
    /// that no step has taken yet, before and after.
    pub(super) fn step_items<'i>(
        &mut self,
        items: impl Iterator<Item = Pair<'i, Rule>>,
        mut units: Option<&mut StepUnits>,
        label: &mut Option<Ident>,
    ) -> Vec<Step> {
        let mut steps = Vec::new();
        for item in items {
            if let Some(units) = units.as_deref_mut() {
                let start = item.as_span().start();
                units.mark(
                    start,
                    item.as_rule(),
                    label.is_none() && self.quiet_until <= start,
                );
            }
            match item.as_rule() {
                Rule::label_line => {
                    self.dangling(label.take());
                    *label = self.label_line(item);
                }
                Rule::step => {
                    if let Some(mut step) = self.step(item) {
                        step.label = label.take();
                        steps.push(step);
                    }
                }
                Rule::stray_step_line => self.stray(&item, Level::Steps),
                _ => {}
            }
        }
        steps
    }

    /// Reports a label that no step took.
    pub(super) fn dangling(&mut self, label: Option<Ident>) {
        if let Some(label) = label {
            self.report(SyntaxError::DanglingLabel {
                name: label.name,
                span: label.span,
            });
        }
    }

    /// `label_line`: `label NAME`.
    fn label_line(&mut self, pair: Pair<'_, Rule>) -> Option<Ident> {
        let name = self.valid(first(pair)?, Rule::name)?;
        Some(self.ident(&name))
    }

    /// `step`: one step of any kind.
    fn step(&mut self, pair: Pair<'_, Rule>) -> Option<Step> {
        let line = trimmed_span(&pair);
        let inner = first(pair)?;
        let kind = match inner.as_rule() {
            Rule::effect_step => StepKind::Effect(self.effect_step(inner, line)?),
            Rule::wait_step => self.wait_step(inner, line)?,
            Rule::condition => StepKind::Condition(self.condition(inner, line)),
            Rule::split => StepKind::Split(self.split(inner, line)),
            Rule::goto_step => {
                let target = self.valid(first(inner)?, Rule::goto_target)?;
                let mut parts = children(target);
                let label = self.ident(&parts.next()?);
                let limit = parts.next().map(|count| {
                    Spanned::new(count.as_str().parse().unwrap_or(u32::MAX), span(&count))
                });
                StepKind::Goto(Goto { label, limit })
            }
            _ => StepKind::Exit(match first(inner) {
                Some(reason) if reason.as_rule() == Rule::invalid => {
                    self.invalid(&reason, Rule::string);
                    return None;
                }
                Some(reason) => Some(self.text(reason)),
                None => None,
            }),
        };
        Some(Step {
            label: None,
            kind,
            span: line,
        })
    }

    /// `wait_step`: a duration, a time of day, or a field and an offset,
    /// with the field's `if missing` / `if past` blocks.
    fn wait_step(&mut self, pair: Pair<'_, Rule>, opened: Span) -> Option<StepKind> {
        let mut parts = children(pair);
        let args = self.valid(parts.next()?, Rule::wait_args)?;
        // (An end of file closing the line is a pair too.)
        let block =
            parts.find(|part| matches!(part.as_rule(), Rule::wait_block | Rule::event_block));
        let arg = first(args)?;
        let kind = match arg.as_rule() {
            Rule::wait_until => StepKind::WaitUntil(self.clock_wait(arg)?),
            Rule::wait_event => {
                let mut inner = children(arg);
                let event = self.ident(&inner.next()?);
                let timeout = self.duration(inner.next()?);
                let branches = match block {
                    Some(block) if block.as_rule() == Rule::event_block => {
                        self.event_block(block, opened)
                    }
                    Some(block) => {
                        self.misplaced_block(&block);
                        Vec::new()
                    }
                    None => Vec::new(),
                };
                return Some(StepKind::WaitForEvent(EventWait {
                    event,
                    timeout,
                    branches,
                }));
            }
            Rule::wait_field => {
                let mut inner = children(arg);
                let field = super::expr::field_ref(&inner.next()?);
                let offset = inner.next().and_then(|offset| {
                    let mut sign_and_size = children(offset);
                    let before = sign_and_size.next()?.as_str() == "-";
                    let duration = self.duration(sign_and_size.next()?);
                    Some(Offset { before, duration })
                });
                let branches = match block {
                    Some(block) if block.as_rule() == Rule::wait_block => {
                        self.wait_block(block, opened)
                    }
                    Some(block) => {
                        self.misplaced_block(&block);
                        Vec::new()
                    }
                    None => Vec::new(),
                };
                return Some(StepKind::WaitUntilField(FieldWait {
                    field,
                    offset,
                    branches,
                }));
            }
            Rule::business_days => {
                let count = first(arg)?;
                let digits = count.as_str().split_whitespace().next().unwrap_or_default();
                let days = digits.parse().unwrap_or(u32::MAX);
                StepKind::WaitBusinessDays(Spanned::new(days, span(&count)))
            }
            _ => StepKind::Wait(self.duration(arg)),
        };
        if let Some(block) = block {
            self.misplaced_block(&block);
        }
        Some(kind)
    }

    /// Reports `if` or `on` cases after a wait that has no such cases.
    fn misplaced_block(&mut self, block: &Pair<'_, Rule>) {
        let (word, help) = if block.as_rule() == Rule::wait_block {
            (
                "if",
                "`if missing` and `if past` go right after a `wait until FIELD` step",
            )
        } else {
            (
                "on",
                "`on event` and `on timeout` go right after a `wait for EVENT up to DURATION` step",
            )
        };
        let (_, at) = found_at(self.source, block.as_span().start());
        self.report(SyntaxError::StrayBlockWord {
            word: word.to_owned(),
            span: at,
            help: help.to_owned(),
        });
    }

    /// `event_block`: `on event` / `on timeout` blocks closed by `end`.
    fn event_block(&mut self, pair: Pair<'_, Rule>, opened: Span) -> Vec<EventBranch> {
        self.case_blocks(pair, opened, Rule::event_branch, Rule::event_case)
            .into_iter()
            .map(|(case, steps)| EventBranch {
                case: case.map(|word| match word.as_str() {
                    "event" => EventCase::Event,
                    _ => EventCase::Timeout,
                }),
                steps,
            })
            .collect()
    }

    /// The case blocks of a wait closed by `end`: each case's word (as
    /// written) and steps; cases that do not read are reported.
    fn case_blocks(
        &mut self,
        pair: Pair<'_, Rule>,
        opened: Span,
        branch_rule: Rule,
        case_rule: Rule,
    ) -> Vec<(Spanned<String>, Vec<Step>)> {
        let mut blocks = Vec::new();
        for part in content(pair) {
            match part.as_rule() {
                rule if rule == branch_rule => {
                    let mut parts = children(part);
                    let Some(case) = parts.next() else { continue };
                    if case.as_rule() == Rule::invalid {
                        self.invalid(&case, case_rule);
                        self.step_list(parts);
                        continue;
                    }
                    let word = case.as_str().trim().to_owned();
                    let steps = self.step_list(parts);
                    blocks.push((Spanned::new(word, span(&case)), steps));
                }
                Rule::missing_end => self.missing_end(&part, "wait", opened),
                _ => {}
            }
        }
        blocks
    }

    /// `wait_until`: `[next] [DAYS] HH:MM [in lead|account timezone]`.
    fn clock_wait(&mut self, pair: Pair<'_, Rule>) -> Option<ClockWait> {
        let mut wait = ClockWait {
            next: false,
            days: None,
            clock: Clock {
                hour: 0,
                minute: 0,
                span: span(&pair),
            },
            zone: None,
        };
        // Keywords included: `next` is one.
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::kw_next => wait.next = true,
                Rule::days => {
                    wait.days = Some(content(part).map(|day| self.day_spec(day)).collect());
                }
                Rule::clock => wait.clock = self.clock(part),
                Rule::window_zone => {
                    wait.zone = Some(if part.as_str().contains("lead") {
                        WindowZone::Lead
                    } else {
                        WindowZone::Account
                    });
                }
                _ => {}
            }
        }
        Some(wait)
    }

    /// `wait_block`: `if missing` / `if past` blocks closed by `end`.
    fn wait_block(&mut self, pair: Pair<'_, Rule>, opened: Span) -> Vec<WaitBranch> {
        self.case_blocks(pair, opened, Rule::wait_branch, Rule::wait_case)
            .into_iter()
            .map(|(case, steps)| WaitBranch {
                case: case.map(|word| match word.as_str() {
                    "missing" => WaitCase::Missing,
                    _ => WaitCase::Past,
                }),
                steps,
            })
            .collect()
    }

    /// Reports a block (`block`, opened at `opened`) that `at` ends
    /// without its `end`.
    pub(super) fn missing_end(&mut self, at: &Pair<'_, Rule>, block: &'static str, opened: Span) {
        let (_, span) = found_at(self.source, at.as_span().start());
        self.report(SyntaxError::MissingEnd {
            block,
            opened,
            span,
        });
    }

    /// `condition`: branches, `else`, and `end`.
    fn condition(&mut self, pair: Pair<'_, Rule>, opened: Span) -> Condition {
        let mut arms = Vec::new();
        for part in content(pair) {
            let arm_span = trimmed_span(&part);
            match part.as_rule() {
                Rule::branch => {
                    let mut parts = children(part);
                    let Some(head) = parts.next() else { continue };
                    if head.as_rule() == Rule::invalid {
                        self.invalid(&head, Rule::branch_head);
                        self.step_list(parts);
                        continue;
                    }
                    let mut head_parts = children(head);
                    let (Some(name), Some(expr)) = (head_parts.next(), head_parts.next()) else {
                        continue;
                    };
                    let name = self.ident(&name);
                    let criteria = self.expr(expr);
                    let steps = self.step_list(parts);
                    if let Some(criteria) = criteria {
                        arms.push(Arm {
                            test: ArmTest::When { name, criteria },
                            steps,
                            span: arm_span,
                        });
                    }
                }
                Rule::else_branch => arms.push(Arm {
                    test: ArmTest::Else,
                    steps: self.step_list(content(part)),
                    span: arm_span,
                }),
                Rule::stray_branch_line => self.stray(&part, Level::Branches),
                Rule::missing_end => self.missing_end(&part, "condition", opened),
                _ => {}
            }
        }
        Condition { arms }
    }
}

impl Builder<'_> {
    /// `split`: variants and `end`.
    fn split(&mut self, pair: Pair<'_, Rule>, opened: Span) -> Split {
        let mut variants = Vec::new();
        for part in content(pair) {
            let variant_span = trimmed_span(&part);
            match part.as_rule() {
                Rule::variant => {
                    let mut parts = children(part);
                    let Some(head) = parts.next() else { continue };
                    if head.as_rule() == Rule::invalid {
                        self.invalid(&head, Rule::variant_head);
                        self.step_list(parts);
                        continue;
                    }
                    let mut head_parts = children(head);
                    let (Some(name), Some(percent)) = (head_parts.next(), head_parts.next()) else {
                        continue;
                    };
                    let share = percent.as_str().trim_end_matches('%').parse().unwrap_or(0);
                    variants.push(Variant {
                        name: self.ident(&name),
                        percent: Spanned::new(share, span(&percent)),
                        steps: self.step_list(parts),
                        span: variant_span,
                    });
                }
                Rule::stray_variant_line => self.stray(&part, Level::Variants),
                Rule::missing_end => self.missing_end(&part, "split", opened),
                _ => {}
            }
        }
        Split { variants }
    }
}
