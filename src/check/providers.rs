//! Steps against `flowc.toml`: every webhook, sender, voice agent, host and
//! tool a step names must be one the configuration provides, so that a live
//! run never finds out at delivery time.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Checker, ProviderError, Target};
use crate::ast::*;
use crate::config::{Config, Twilio};
use crate::suggest;

impl Checker<'_> {
    pub(super) fn providers(&mut self, target: Target<'_>) {
        let config = target.config;
        for &step in Rc::clone(&self.all_steps).iter() {
            let StepKind::Effect(effect) = &step.kind else {
                continue;
            };
            match &effect.action {
                Action::SendEmail => self.email(config, effect, step),
                Action::SendText => {
                    if let Some(twilio) = self.twilio(config, step) {
                        self.number(twilio, effect, step);
                    }
                }
                Action::CallPhone => {
                    if let Some(twilio) = self.twilio(config, step) {
                        self.number(twilio, effect, step);
                        self.agent(twilio, effect, step);
                    }
                }
                Action::Notify { service, target } => {
                    let (hooks, what) = match service.node {
                        NotifyService::Slack => (&config.slack, "Slack webhook"),
                        NotifyService::Teams => (&config.teams, "Teams webhook"),
                    };
                    let section = format!(
                        "[{}.{}] with url_env = \"VARIABLE\"",
                        service.node.keyword(),
                        target.name
                    );
                    self.known_name(hooks, what, target, &section);
                }
                Action::Http { url, .. } => {
                    self.allowed_host(config, url);
                    if target.environment {
                        self.variables_set(url, effect);
                    }
                }
                Action::Prompt => self.prompt(config, effect, step),
            }
        }
    }

    fn email(&mut self, config: &Config, effect: &Effect, step: &Step) {
        let Some(smtp) = &config.smtp else {
            return self.no_provider("email", "[smtp]", "host = \"smtp.example.com\"", step);
        };
        self.sender(
            effect,
            step,
            &Senders {
                names: &smtp.identities,
                has_default: smtp.default_from.is_some(),
                what: "sender identity",
                section: "[smtp]",
                table: "[smtp.identities]",
                example: "\"Name <address>\"",
            },
        );
    }

    fn twilio<'c>(&mut self, config: &'c Config, step: &Step) -> Option<&'c Twilio> {
        if config.twilio.is_none() {
            self.no_provider(
                "text and call",
                "[twilio]",
                "account_sid_env = \"TWILIO_ACCOUNT_SID\"",
                step,
            );
        }
        config.twilio.as_ref()
    }

    fn number(&mut self, twilio: &Twilio, effect: &Effect, step: &Step) {
        self.sender(
            effect,
            step,
            &Senders {
                names: &twilio.numbers,
                has_default: twilio.default_from.is_some(),
                what: "sender number",
                section: "[twilio]",
                table: "[twilio.numbers]",
                example: "\"+1...\"",
            },
        );
    }

    /// The step's `from` must name a configured sender; without one, the
    /// provider needs a default.
    fn sender(&mut self, effect: &Effect, step: &Step, senders: &Senders<'_>) {
        match sender(effect) {
            Some(Sender::Identity(name)) => self.known_name(
                senders.names,
                senders.what,
                name,
                &format!(
                    "{} = {} under {}",
                    name.name, senders.example, senders.table
                ),
            ),
            Some(_) => {}
            None if !senders.has_default => self.report(ProviderError::NoSender {
                section: senders.section,
                span: step.span,
            }),
            None => {}
        }
    }

    fn agent(&mut self, twilio: &Twilio, effect: &Effect, step: &Step) {
        let agent = effect.options.iter().find_map(|option| match &option.kind {
            OptionKind::Agent(agent) => Some(agent),
            _ => None,
        });
        match agent {
            Some(agent) => self.known_name(
                &twilio.agents,
                "voice agent",
                agent,
                &format!("{} = \"https://...\" under [twilio.agents]", agent.name),
            ),
            None => self.report(ProviderError::NoAgent { span: step.span }),
        }
    }

    fn prompt(&mut self, config: &Config, effect: &Effect, step: &Step) {
        let Some(ai) = &config.ai else {
            return self.no_provider(
                "AI",
                "[ai]",
                "base_url = \"http://localhost:11434/v1\"",
                step,
            );
        };
        let tools = effect
            .options
            .iter()
            .filter_map(|option| match &option.kind {
                OptionKind::Tools(tools) => Some(tools),
                _ => None,
            });
        for tool in tools.flatten() {
            if !ai.tools.offers(tool.node) {
                let key = match tool.node {
                    Tool::WebSearch => "web_search_url = \"https://search.example/?q={query}\"",
                    Tool::FetchUrl => "fetch_url = true",
                };
                self.report(ProviderError::ToolNotConfigured {
                    tool: tool.node.keyword(),
                    span: tool.span,
                    help: format!("add `{key}` under [ai.tools] in flowc.toml"),
                });
            }
        }
    }

    /// An http step's host, when the URL fixes it, must be allowed.
    fn allowed_host(&mut self, config: &Config, url: &Text) {
        let Some(host) = fixed_host(url) else {
            return;
        };
        if !config.allows(&host) {
            self.report(ProviderError::HostNotAllowed {
                host,
                span: url.span,
                help: format!(
                    "[http] allow lists {}; add the host there if this step may reach it",
                    config.http.allow.join(", ")
                ),
            });
        }
    }

    /// Warns of each `env.NAME` an http step reads that is not set where
    /// the check runs: the step would fail at delivery if it runs here.
    fn variables_set(&mut self, url: &Text, effect: &Effect) {
        let texts = std::iter::once(url).chain(
            effect
                .options
                .iter()
                .flat_map(|option| super::criteria::option_texts(&option.kind)),
        );
        let unset: Vec<(String, crate::span::Span)> = texts
            .flat_map(Text::templates)
            .filter_map(|template| match &template.path {
                TemplatePath::Env(name) => Some((name.name.clone(), template.span)),
                _ => None,
            })
            .filter(|(name, _)| std::env::var(name).map_or(true, |value| value.is_empty()))
            .collect();
        for (name, span) in unset {
            self.report(ProviderError::UnsetVariable { name, span });
        }
    }

    fn no_provider(
        &mut self,
        channel: &'static str,
        section: &'static str,
        example: &str,
        step: &Step,
    ) {
        self.report(ProviderError::NoProvider {
            channel,
            span: step.span,
            section,
            help: format!("add the {section} section to flowc.toml, with `{example}` and the rest of its keys"),
        });
    }

    /// `name` must be a key of `configured`; `addition` says how to add it.
    fn known_name<V>(
        &mut self,
        configured: &BTreeMap<String, V>,
        what: &'static str,
        name: &Ident,
        addition: &str,
    ) {
        if configured.contains_key(&name.name) {
            return;
        }
        let known = configured.keys().map(String::as_str);
        let help =
            suggest::did_you_mean(suggest::closest(&name.name, known)).unwrap_or_else(|| {
                if configured.is_empty() {
                    format!("add {addition} to flowc.toml")
                } else {
                    let names: Vec<&str> = configured.keys().map(String::as_str).collect();
                    format!(
                        "flowc.toml configures {}; use one of them or add {addition}",
                        names.join(", ")
                    )
                }
            });
        self.report(ProviderError::UnknownProvider {
            what,
            name: name.name.clone(),
            span: name.span,
            help,
        });
    }
}

/// Where a channel's named senders are configured.
struct Senders<'c> {
    /// Sender names to addresses or numbers.
    names: &'c BTreeMap<String, String>,
    /// Whether the provider has a `default_from`.
    has_default: bool,
    /// What a name stands for, for messages.
    what: &'static str,
    /// The provider's section.
    section: &'static str,
    /// The table the names are in.
    table: &'static str,
    /// A value to show in help.
    example: &'static str,
}

/// The step's `from` option, if it has one.
fn sender(effect: &Effect) -> Option<&Sender> {
    effect.options.iter().find_map(|option| match &option.kind {
        OptionKind::From(sender) => Some(sender),
        _ => None,
    })
}

/// The host of a URL whose scheme and host are written out (no template
/// before the host ends).
fn fixed_host(url: &Text) -> Option<String> {
    let Some(TextPart::Literal(start)) = url.parts.first() else {
        return None;
    };
    // With a template after it, the written part fixes the host only if the
    // host ends inside it.
    let authority_ends = start
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains(['/', '?', '#']));
    if url.parts.len() > 1 && !authority_ends {
        return None;
    }
    // Read as the http step reads it when it runs.
    let parsed = reqwest::Url::parse(start).ok()?;
    parsed.host_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed host of `http get URL`, parsed as flowc reads it.
    fn host_of(url: &str) -> Option<String> {
        let source =
            format!("workflow w\n  trigger when email is set\n  steps\n    http get {url}\n");
        let parsed = crate::syntax::parse(&source);
        assert!(parsed.diagnostics.is_empty(), "{url} parses");
        let step = &parsed.file.workflows[0].steps[0].steps[0];
        let StepKind::Effect(Effect {
            action: Action::Http { url, .. },
            ..
        }) = &step.kind
        else {
            panic!("an http step");
        };
        fixed_host(url)
    }

    #[test]
    fn fixed_hosts_are_read_past_ports_users_and_brackets() {
        let host = |url: &str| host_of(url).unwrap_or_default();
        assert_eq!(
            host(r#""https://api.example.com/v2?x={{ email }}""#),
            "api.example.com"
        );
        assert_eq!(
            host(r#""http://user:pw@api.example.com:8080""#),
            "api.example.com"
        );
        assert_eq!(host(r#""http://[::1]:8080/hook""#), "[::1]");
        assert_eq!(host(r#""https://api.example.com?q=1""#), "api.example.com");
    }

    #[test]
    fn hosts_from_templates_are_left_to_run_time() {
        assert_eq!(
            host_of(r#""https://{{ company_name }}.crm.example/x""#),
            None
        );
        assert_eq!(host_of(r#""https://api.{{ company_name }}""#), None);
        assert_eq!(host_of(r#""{{ website }}/contact""#), None);
    }
}
