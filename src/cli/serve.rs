//! `flowc serve`: the HTTP API and the runner in one process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::store::{fail, DbArgs};
use super::EXIT_OK;
use crate::runtime::unsubscribe::Links;
use crate::serve::{serve, Options, Webhooks};

/// Arguments of `flowc serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The largest request body taken, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    pub body_limit: usize,
    /// How long, in seconds, the runner's claim on an effect lasts unless
    /// renewed (as `flowc run --lease`).
    #[arg(long, default_value_t = crate::runtime::live::lease::DEFAULT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lease: u64,
    /// The providers' configuration (default: `flowc.toml` next to the
    /// database, or in the current folder on PostgreSQL; without one,
    /// effects are recorded, not sent).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Send nothing, whatever the configuration says: record every effect
    /// in the database as without a `flowc.toml` (the webhooks still use
    /// the configuration).
    #[arg(long)]
    pub record: bool,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Serves until SIGTERM or SIGINT; returns the exit status.
pub fn run(args: &ServeArgs) -> u8 {
    let location = args.db.location();
    let config = match super::live::config(args.config.as_deref(), &location) {
        Ok(config) => config,
        Err(status) => return status,
    };
    let provider = match super::live::provider(config.as_ref().filter(|_| !args.record), &location)
    {
        Ok(provider) => provider,
        Err(status) => return status,
    };
    let webhooks = Webhooks {
        public_url: config
            .as_ref()
            .and_then(|config| config.serve.public_url.clone()),
        twilio_token: config
            .as_ref()
            .and_then(|config| config.twilio.as_ref())
            .and_then(|twilio| std::env::var(&twilio.auth_token_env).ok())
            .filter(|token| !token.is_empty()),
        help_text: config
            .as_ref()
            .and_then(|config| config.serve.help_text.clone()),
        links: config.as_ref().and_then(Links::from_config),
    };
    let options = Options {
        listen: args.listen,
        location,
        body_limit: args.body_limit,
        lease: Duration::from_secs(args.lease),
        webhooks,
    };
    match serve(&options, provider) {
        Ok(done) => {
            eprintln!("flowc serve: stopped; {done} steps of work done");
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}
