//! `flowc.toml`: the providers that carry effects in live runs. Secrets
//! (webhook URLs, tokens, passwords) are named by environment variable and
//! never stored in the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::span::Span;

/// The file name looked for next to the database.
pub const FILE_NAME: &str = "flowc.toml";

/// The providers of a live run.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Slack incoming webhooks by target name.
    #[serde(default)]
    pub slack: BTreeMap<String, Webhook>,
    /// Microsoft Teams incoming webhooks by target name.
    #[serde(default)]
    pub teams: BTreeMap<String, Webhook>,
    /// The SMS and voice provider (Twilio's REST API or a compatible one).
    pub twilio: Option<Twilio>,
    /// The SMTP server that sends email.
    pub smtp: Option<Smtp>,
    /// The AI endpoint of prompt steps (OpenAI's chat completions API or a
    /// compatible server such as llama.cpp or Ollama).
    pub ai: Option<Ai>,
    /// Rules for http steps.
    #[serde(default)]
    pub http: Http,
    /// How many effects of each kind a runner delivers at once.
    #[serde(default)]
    pub concurrency: Concurrency,
    /// Caps on what providers may answer.
    #[serde(default)]
    pub limits: Limits,
    /// What `flowc serve` tells providers and leads.
    #[serde(default)]
    pub serve: Serve,
    /// Caps on how often one lead is reached, across every workflow;
    /// `flowc publish` records it in the database for every process.
    #[serde(default)]
    pub policy: crate::runtime::policy::ContactPolicy,
}

/// What `flowc serve` tells providers and leads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    /// The service's address as providers reach it
    /// (`https://flowc.acme.example`): webhook signatures are made over
    /// it, so a request signed for another address is refused.
    pub public_url: Option<String>,
    /// The answer to a text that says HELP (or INFO): who is texting and
    /// how to stop (carriers require one).
    pub help_text: Option<String>,
    /// The variable holding the key that signs unsubscribe links (any
    /// long random string; changing it voids the links already sent).
    pub signing_key_env: Option<String>,
    /// The variable holding the shared secret the mail provider's webhooks
    /// (inbound email, bounces and complaints) must carry.
    pub webhook_secret_env: Option<String>,
}

/// Caps on what providers may answer: a runaway answer is a permanent
/// failure, never stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Bytes of an answer's body read from any provider (default 256 KiB).
    pub response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            response_bytes: 256 * 1024,
        }
    }
}

/// How many effects of each kind a runner has in flight at once (a slow
/// kind never holds up the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Concurrency {
    /// Emails (default 8).
    pub email: usize,
    /// Texts (default 8).
    pub text: usize,
    /// Calls being placed or looked at (default 4).
    pub call: usize,
    /// Slack and Teams posts (default 4).
    pub notify: usize,
    /// Http steps (default 8).
    pub http: usize,
    /// Prompts (default 4).
    pub prompt: usize,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency {
            email: 8,
            text: 8,
            call: 4,
            notify: 4,
            http: 8,
            prompt: 4,
        }
    }
}

impl Concurrency {
    /// The limit for effects of `kind` (at least 1).
    pub fn of(&self, kind: &str) -> usize {
        let limit = match kind {
            "email" => self.email,
            "text" => self.text,
            "call" => self.call,
            "notify" => self.notify,
            "http" => self.http,
            _ => self.prompt,
        };
        limit.max(1)
    }
}

/// An incoming webhook: the environment variable that holds its URL.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// The variable holding the webhook URL (it is a secret).
    pub url_env: String,
}

/// A Twilio-compatible REST API for texts.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Twilio {
    /// The API's base URL (default `https://api.twilio.com`).
    #[serde(default = "twilio_base")]
    pub base_url: String,
    /// The variable holding the account SID.
    pub account_sid_env: String,
    /// The variable holding the auth token.
    pub auth_token_env: String,
    /// Sender names used in `from` options, by name: phone numbers.
    #[serde(default)]
    pub numbers: BTreeMap<String, String>,
    /// Voice agents of call steps, by name: the URL of the agent's
    /// instructions (TwiML) the provider fetches when the call connects.
    #[serde(default)]
    pub agents: BTreeMap<String, String>,
    /// Seconds between two looks at a call's status (default 5).
    #[serde(default = "poll_seconds")]
    pub poll_seconds: u64,
    /// Seconds after placing a call to stop looking (default 3600): the
    /// call then ends as `no answer`, or `failed` if it was answered.
    #[serde(default = "call_timeout_seconds")]
    pub call_timeout_seconds: u64,
    /// The number used when a step names none.
    pub default_from: Option<String>,
}

fn poll_seconds() -> u64 {
    5
}

fn call_timeout_seconds() -> u64 {
    3600
}

fn twilio_base() -> String {
    "https://api.twilio.com".to_owned()
}

/// An SMTP server and the sender identities emails may use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// The server's host name.
    pub host: String,
    /// Its port (default 587).
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// How the connection is secured.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The variable holding the user name, if the server wants one.
    pub username_env: Option<String>,
    /// The variable holding the password.
    pub password_env: Option<String>,
    /// Sender identities used in `from` options: name to mailbox
    /// (`Acme Sales <sales@acme.example>`).
    #[serde(default)]
    pub identities: BTreeMap<String, String>,
    /// The sender when a step names none.
    pub default_from: Option<String>,
}

fn smtp_port() -> u16 {
    587
}

/// How an SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Upgraded with STARTTLS (the default; port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// None: only for local test servers.
    None,
}

/// An OpenAI-compatible chat completions endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ai {
    /// The API's base URL, up to `/v1` (`http://localhost:11434/v1`).
    pub base_url: String,
    /// The model to ask.
    pub model: String,
    /// The variable holding the API key, if the endpoint wants one.
    pub api_key_env: Option<String>,
    /// The tools prompt steps may offer the model.
    #[serde(default)]
    pub tools: AiTools,
}

/// The tools a prompt step may list under `tools`; a tool not configured
/// here is refused by `flowc check`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiTools {
    /// A search API for `web search`: a URL where `{query}` stands for the
    /// percent-encoded query (SearXNG's `/search?format=json&q={query}`,
    /// Brave's or any that answers a GET). Its answer goes to the model.
    pub web_search_url: Option<String>,
    /// The variable holding the search API's key, sent as a bearer token.
    pub web_search_key_env: Option<String>,
    /// Whether `fetch url` is offered; the pages it may fetch follow
    /// `[http] allow`.
    #[serde(default)]
    pub fetch_url: bool,
}

impl AiTools {
    /// Whether a prompt step may offer `tool`.
    pub fn offers(&self, tool: crate::ast::Tool) -> bool {
        match tool {
            crate::ast::Tool::WebSearch => self.web_search_url.is_some(),
            crate::ast::Tool::FetchUrl => self.fetch_url,
        }
    }
}

/// Rules for http steps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Hosts http steps may reach (and be redirected to); any when empty.
    #[serde(default)]
    pub allow: Vec<String>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The file is not valid TOML for flowc.
    #[error("{}: {error}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its text, for reports.
        text: String,
        /// What is wrong and where.
        error: InvalidConfig,
    },
}

/// What is wrong with a `flowc.toml` and where (a span of its text).
#[derive(Clone, Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(
    code(E0600),
    help("see the README's Channels section for every key of flowc.toml")
)]
pub struct InvalidConfig {
    /// What the TOML reader said.
    pub message: String,
    /// Where in the file.
    #[label(primary, "here")]
    pub span: Span,
}

impl Config {
    /// Reads a configuration file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        Config::parse(&text).map_err(|error| ConfigError::Invalid {
            path: path.to_owned(),
            text,
            error,
        })
    }

    /// Reads a configuration from its text.
    pub fn parse(text: &str) -> Result<Config, InvalidConfig> {
        toml::from_str(text).map_err(|error| InvalidConfig {
            message: error.message().to_owned(),
            span: error
                .span()
                .map_or_else(Span::default, |range| Span::new(range.start, range.end)),
        })
    }

    /// The configuration a `.flow` file in `dir` is checked against: the
    /// nearest `flowc.toml` in `dir` or a folder above it (an empty `dir`,
    /// the parent of a bare file name, is the current folder).
    pub fn nearest(dir: &Path) -> Option<PathBuf> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        dir.ancestors()
            .map(|folder| folder.join(FILE_NAME))
            .find(|path| path.is_file())
    }

    /// The configuration at `--config`, else `flowc.toml` next to the
    /// database; `None` when there is none (effects are then recorded).
    pub fn find(flag: Option<&Path>, db: Option<&Path>) -> Result<Option<Config>, ConfigError> {
        if let Some(path) = flag {
            return Config::read(path).map(Some);
        }
        let folder = db.and_then(Path::parent).unwrap_or(Path::new("."));
        let beside = folder.join(FILE_NAME);
        if beside.is_file() {
            Config::read(&beside).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Whether an http step may reach `host`.
    pub fn allows(&self, host: &str) -> bool {
        self.http.allow.is_empty()
            || self
                .http
                .allow
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }
}
