//! Problems of a step against `flowc.toml` (E06xx): a provider, name,
//! host or tool the step needs and the configuration lacks.

use crate::span::Span;

/// A step that needs what `flowc.toml` does not configure.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProviderError {
    /// An effect step whose channel has no provider in `flowc.toml`.
    #[error("no {channel} provider is configured")]
    #[diagnostic(code(E0601))]
    NoProvider {
        /// The channel: `email`, `text and call`, `AI`.
        channel: &'static str,
        /// The step.
        #[label(primary, "needs {section} in flowc.toml")]
        span: Span,
        /// The section to add.
        section: &'static str,
        /// How to add it.
        #[help]
        help: String,
    },

    /// A step naming a webhook, sender or voice agent `flowc.toml` lacks.
    #[error("no {what} `{name}` is configured")]
    #[diagnostic(code(E0602))]
    UnknownProvider {
        /// What kind of name: `Slack webhook`, `sender identity`.
        what: &'static str,
        /// The name written.
        name: String,
        /// Where.
        #[label(primary, "not in flowc.toml")]
        span: Span,
        /// The names configured, or how to add one.
        #[help]
        help: String,
    },

    /// An http step whose fixed host is not on `[http] allow`.
    #[error("`{host}` is not on the http allow-list")]
    #[diagnostic(code(E0603))]
    HostNotAllowed {
        /// The host.
        host: String,
        /// The URL.
        #[label(primary, "every request of this step would be refused")]
        span: Span,
        /// The hosts allowed.
        #[help]
        help: String,
    },

    /// A step that names no sender where `flowc.toml` has no default.
    #[error("this step names no sender and {section} has no `default_from`")]
    #[diagnostic(
        code(E0604),
        help("add a `from` option to the step, or `default_from` to {section} in flowc.toml")
    )]
    NoSender {
        /// `[smtp]` or `[twilio]`.
        section: &'static str,
        /// The step.
        #[label(primary, "sent from whom?")]
        span: Span,
    },

    /// A prompt tool `flowc.toml` does not set up.
    #[error("the `{tool}` tool is not configured")]
    #[diagnostic(code(E0605))]
    ToolNotConfigured {
        /// The tool as written.
        tool: &'static str,
        /// Where it is listed.
        #[label(primary, "not offered by [ai.tools]")]
        span: Span,
        /// The key to set.
        #[help]
        help: String,
    },

    /// A call step that names no voice agent.
    #[error("this call names no voice agent")]
    #[diagnostic(
        code(E0606),
        help("add `agent NAME` to the step, naming one of [twilio.agents] in flowc.toml")
    )]
    NoAgent {
        /// The step.
        #[label(primary, "who talks when the lead answers?")]
        span: Span,
    },

    /// An http step reading an environment variable that is not set.
    #[error("the environment variable {name} is not set here")]
    #[diagnostic(
        code(W0005),
        severity(Warning),
        help("set it where flowc runs live: without it, every request of this step fails")
    )]
    UnsetVariable {
        /// The variable.
        name: String,
        /// The template.
        #[label(primary, "read when the request is sent")]
        span: Span,
    },
}
