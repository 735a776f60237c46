//! `flowc serve`: the HTTP API and the runner in one process.

use std::net::SocketAddr;

use super::live::RunnerArgs;
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
    /// The runner's claims and providers (the webhooks use the
    /// configuration too, even with `--record`).
    #[command(flatten)]
    pub runner: RunnerArgs,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Serves until SIGTERM or SIGINT; returns the exit status.
pub fn run(args: &ServeArgs) -> u8 {
    let location = args.db.location();
    let config = match args.runner.config(&location) {
        Ok(config) => config,
        Err(status) => return status,
    };
    let carrier = match args.runner.carrier(config.as_ref()) {
        Ok(carrier) => carrier,
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
        email_secret: config
            .as_ref()
            .and_then(|config| config.serve.webhook_secret_env.as_ref())
            .and_then(|name| std::env::var(name).ok())
            .filter(|secret| !secret.is_empty()),
    };
    let options = Options {
        listen: args.listen,
        location,
        body_limit: args.body_limit,
        lease: args.runner.lease(),
        webhooks,
    };
    match serve(&options, carrier) {
        Ok(done) => {
            eprintln!("flowc serve: stopped; {done} steps of work done");
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}
