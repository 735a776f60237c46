//! Effect steps (send, call, notify, http, prompt): their options and
//! their outcome blocks.

use pest::iterators::Pair;

use super::items::trimmed_span;
use super::{children, content, first, span, Builder, Rule};
use crate::ast::*;
use crate::span::{Span, Spanned};

impl Builder<'_> {
    /// `effect_step`: a send, call, notify, http or prompt step.
    pub(super) fn effect_step(&mut self, pair: Pair<'_, Rule>, line: Span) -> Option<Effect> {
        let mut parts = children(pair);
        let head = parts.next()?;
        let action = if head.as_rule() == Rule::call_phone {
            Action::CallPhone
        } else {
            self.effect_head(head)?
        };
        let mut effect = Effect {
            action,
            options: Vec::new(),
            outcomes: Vec::new(),
        };
        for part in parts {
            match part.as_rule() {
                Rule::step_option => effect.options.extend(self.step_option(part)),
                Rule::outcome_block | Rule::failure_block => {
                    effect.outcomes = self.outcome_block(part, effect.action.describe(), line);
                }
                _ => {}
            }
        }
        Some(effect)
    }

    fn effect_head(&mut self, pair: Pair<'_, Rule>) -> Option<Action> {
        let head = pair.into_inner().next()?;
        Some(match head.as_rule() {
            Rule::send_email => Action::SendEmail,
            Rule::send_text => Action::SendText,
            Rule::prompt => Action::Prompt,
            Rule::notify => {
                let target = self.valid(first(head)?, Rule::notify_target)?;
                let mut parts = children(target);
                let service = parts.next()?;
                let kind = match service.as_str() {
                    "slack" => NotifyService::Slack,
                    _ => NotifyService::Teams,
                };
                Action::Notify {
                    service: Spanned::new(kind, span(&service)),
                    target: self.ident(&parts.next()?),
                }
            }
            _ => {
                let target = self.valid(first(head)?, Rule::http_target)?;
                let mut parts = children(target);
                let method = parts.next()?;
                let kind = match method.as_str() {
                    "get" => HttpMethod::Get,
                    "post" => HttpMethod::Post,
                    _ => HttpMethod::Put,
                };
                Action::Http {
                    method: Spanned::new(kind, span(&method)),
                    url: self.text(parts.next()?),
                }
            }
        })
    }

    /// `step_option`: one option line (or an `extract` block).
    fn step_option(&mut self, pair: Pair<'_, Rule>) -> Option<StepOption> {
        let option = first(pair)?;
        let rule = option.as_rule();
        let whole = trimmed_span(&option);
        let keyword = option
            .clone()
            .into_inner()
            .next()
            .map_or(whole, |kw| span(&kw));
        let kind = if rule == Rule::opt_transactional {
            // Nothing may follow the keyword.
            if let Some(rest) = option.clone().into_inner().nth(1) {
                self.valid(rest, Rule::opt_transactional)?;
            }
            OptionKind::Transactional
        } else if rule == Rule::opt_outside {
            let policy = self.valid(first(option.clone())?, Rule::outside_policy)?;
            OptionKind::OutsideWindow(match first(policy) {
                Some(duration) => OutsideWindow::HoldUpTo(self.duration(duration)),
                None => OutsideWindow::Skip,
            })
        } else if rule == Rule::opt_extract {
            OptionKind::Extract(
                content(option)
                    .filter_map(|line| self.extraction(line))
                    .collect(),
            )
        } else {
            let arg = self.valid(first(option)?, option_argument(rule))?;
            self.option_kind(rule, arg)?
        };
        Some(StepOption {
            kind,
            keyword,
            span: whole,
        })
    }

    fn option_kind(&mut self, rule: Rule, arg: Pair<'_, Rule>) -> Option<OptionKind> {
        Some(match rule {
            Rule::opt_to => OptionKind::To(
                content(arg)
                    .map(|recipient| {
                        let who = if recipient.as_str() == "rep" {
                            Recipient::Rep
                        } else {
                            Recipient::Lead
                        };
                        Spanned::new(who, span(&recipient))
                    })
                    .collect(),
            ),
            Rule::opt_cc => OptionKind::Cc(self.addresses(arg)),
            Rule::opt_bcc => OptionKind::Bcc(self.addresses(arg)),
            Rule::opt_from => {
                let sender = first(arg)?;
                let at = span(&sender);
                OptionKind::From(match sender.as_rule() {
                    Rule::phone_number => {
                        Sender::Phone(Spanned::new(sender.as_str().to_owned(), at))
                    }
                    Rule::email_address => {
                        Sender::Address(Spanned::new(sender.as_str().to_owned(), at))
                    }
                    _ => Sender::Identity(self.ident(&sender)),
                })
            }
            Rule::opt_subject => OptionKind::Subject(self.text(arg)),
            Rule::opt_message => OptionKind::Message(self.text(arg)),
            Rule::opt_instructions => OptionKind::Instructions(self.text(arg)),
            Rule::opt_body => {
                let body = first(arg)?;
                OptionKind::Body(match body.as_rule() {
                    Rule::body_file => Body::File(self.text(first(body)?)),
                    _ => Body::Inline(self.text(body)),
                })
            }
            Rule::opt_agent => OptionKind::Agent(self.ident(&arg)),
            Rule::opt_header => {
                let mut parts = children(arg);
                let name = self.ident(&parts.next()?);
                OptionKind::Header {
                    name,
                    value: self.text(parts.next()?),
                }
            }
            Rule::opt_timeout => OptionKind::Timeout(self.duration(arg)),
            _ => OptionKind::Tools(
                content(arg)
                    .map(|tool| {
                        let kind = if tool.as_str().starts_with("web") {
                            Tool::WebSearch
                        } else {
                            Tool::FetchUrl
                        };
                        Spanned::new(kind, span(&tool))
                    })
                    .collect(),
            ),
        })
    }

    fn addresses(&mut self, pair: Pair<'_, Rule>) -> Vec<Address> {
        content(pair)
            .filter_map(|address| {
                let inner = first(address)?;
                Some(match inner.as_rule() {
                    Rule::email_address => {
                        Address::Literal(Spanned::new(inner.as_str().to_owned(), span(&inner)))
                    }
                    _ => Address::Template(self.text(inner)),
                })
            })
            .collect()
    }

    /// `extraction`: `NAME TYPE from PATH` or `NAME TYPE "description"`.
    fn extraction(&mut self, pair: Pair<'_, Rule>) -> Option<Extraction> {
        let line = trimmed_span(&pair);
        let mut parts = children(pair);
        let name = self.ident(&parts.next()?);
        let spec = self.valid(parts.next()?, Rule::extraction_spec)?;
        let mut spec_parts = children(spec);
        let ty = self.field_type(spec_parts.next()?)?;
        let source_pair = spec_parts.next()?;
        let source = match source_pair.as_rule() {
            Rule::json_path => ExtractSource::Path(Spanned::new(
                source_pair.as_str().to_owned(),
                span(&source_pair),
            )),
            _ => ExtractSource::Description(self.text(source_pair)),
        };
        Some(Extraction {
            name,
            ty,
            source,
            span: line,
        })
    }

    /// `outcome_block`: `on OUTCOME` branches closed by `end`.
    fn outcome_block(
        &mut self,
        pair: Pair<'_, Rule>,
        block: &'static str,
        opened: Span,
    ) -> Vec<OutcomeBranch> {
        let mut branches = Vec::new();
        for part in content(pair) {
            match part.as_rule() {
                Rule::failure_branch => branches.push(OutcomeBranch {
                    outcome: Spanned::new(Outcome::Error, trimmed_span(&part)),
                    steps: self.step_list(content(part)),
                }),
                Rule::outcome_branch => {
                    let mut parts = children(part);
                    let Some(outcome) = parts.next() else {
                        continue;
                    };
                    if outcome.as_rule() == Rule::invalid {
                        self.invalid(&outcome, Rule::outcome);
                        self.step_list(parts);
                        continue;
                    }
                    let kind = match outcome.as_str().split_whitespace().next() {
                        Some("answered") => Outcome::Answered,
                        Some("voicemail") => Outcome::Voicemail,
                        Some("no") => Outcome::NoAnswer,
                        _ => Outcome::Failed,
                    };
                    branches.push(OutcomeBranch {
                        outcome: Spanned::new(kind, span(&outcome)),
                        steps: self.step_list(parts),
                    });
                }
                Rule::missing_end => self.missing_end(&part, block, opened),
                _ => {}
            }
        }
        branches
    }
}

/// The rule an option's argument must follow.
fn option_argument(option: Rule) -> Rule {
    match option {
        Rule::opt_to => Rule::recipients,
        Rule::opt_cc | Rule::opt_bcc => Rule::addresses,
        Rule::opt_from => Rule::sender,
        Rule::opt_body => Rule::body,
        Rule::opt_agent => Rule::name,
        Rule::opt_header => Rule::header,
        Rule::opt_timeout => Rule::duration,
        Rule::opt_tools => Rule::tools,
        _ => Rule::string,
    }
}
