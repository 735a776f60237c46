//! `flowc token create|revoke|list`: the API tokens `flowc serve` accepts.

use super::store::{fail, print_json, DbArgs, Format};
use super::EXIT_OK;
use crate::runtime::tokens;

/// Arguments of `flowc token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TokenAction,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// What `flowc token` does.
#[derive(Debug, clap::Subcommand)]
pub enum TokenAction {
    /// Make a token and print it: it is shown this once, and only its hash
    /// is stored.
    Create {
        /// A name to list and revoke it by (`crm-sync`, `webform`).
        name: String,
    },
    /// Refuse the named token from now on.
    Revoke {
        /// The token's name.
        name: String,
    },
    /// List the tokens (names and dates, never the secrets).
    List {
        /// How to print.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Runs the action; returns the exit status.
pub fn run(args: &TokenArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let now = live.clock.now();
    let store = &mut live.store;
    match &args.action {
        TokenAction::Create { name } => match tokens::create(store, name, now) {
            Ok(secret) => {
                println!("{secret}");
                eprintln!("token {name} created: keep it now, it is not shown again");
                EXIT_OK
            }
            Err(error) => fail(&error),
        },
        TokenAction::Revoke { name } => match tokens::revoke(store, name, now) {
            Ok(()) => {
                println!("token {name} revoked");
                EXIT_OK
            }
            Err(error) => fail(&error),
        },
        TokenAction::List { format } => match tokens::list(store) {
            Ok(listed) if *format == Format::Json => {
                print_json(&listed);
                EXIT_OK
            }
            Ok(listed) => {
                println!("{:<24} {:<26} revoked", "name", "created");
                for token in listed {
                    let revoked = token
                        .revoked_at
                        .map_or_else(String::new, |at| at.to_rfc3339());
                    println!(
                        "{:<24} {:<26} {revoked}",
                        token.name,
                        token.created_at.to_rfc3339()
                    );
                }
                EXIT_OK
            }
            Err(error) => fail(&error),
        },
    }
}
