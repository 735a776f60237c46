//! `flowc consent set|show`: an operator changes or reads whether an
//! address may be reached on a channel.

use super::store::{fail, print_json, DbArgs, Format};
use super::{EXIT_OK, EXIT_USAGE};
use crate::runtime::consent::{self, State};

/// Arguments of `flowc consent`.
#[derive(Debug, clap::Args)]
pub struct ConsentArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: ConsentAction,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// What `flowc consent` does.
#[derive(Debug, clap::Subcommand)]
pub enum ConsentAction {
    /// Record that an address may or may not be reached on a channel;
    /// every workflow's steps to it follow from now on.
    Set {
        /// email, text or call.
        channel: String,
        /// The email address or phone number.
        address: String,
        /// opted-in, opted-out, unsubscribed or undeliverable.
        state: String,
        /// Why, kept with the change (`asked on a call`).
        #[arg(long)]
        note: Option<String>,
    },
    /// Print an address's consent changes on every channel, oldest first.
    Show {
        /// The email address or phone number.
        address: String,
        /// How to print.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Runs the action; returns the exit status.
pub fn run(args: &ConsentArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let now = live.clock.now();
    let transaction = match live.store.transaction() {
        Ok(transaction) => transaction,
        Err(error) => return fail(&error),
    };
    match &args.action {
        ConsentAction::Set {
            channel,
            address,
            state,
            note,
        } => {
            let Some(channel) = consent::channel(channel) else {
                eprintln!("error: the channel is email, text or call, not {channel:?}");
                return EXIT_USAGE;
            };
            let Some(state) = State::parse(state) else {
                eprintln!("error: the state is opted-in, opted-out, unsubscribed or undeliverable, not {state:?}");
                return EXIT_USAGE;
            };
            let source = match note {
                Some(note) => format!("operator: {note}"),
                None => "operator".to_owned(),
            };
            let recorded = consent::record(&transaction, channel, address, state, &source, now)
                .and_then(|()| transaction.commit());
            match recorded {
                Ok(()) => {
                    let address = consent::normalize(channel, address);
                    println!("{address} is {} on {}", state.name(), channel.keyword());
                    EXIT_OK
                }
                Err(error) => fail(&error),
            }
        }
        ConsentAction::Show { address, format } => match consent::history(&transaction, address) {
            Ok(changes) if *format == Format::Json => {
                print_json(&changes);
                EXIT_OK
            }
            Ok(changes) => {
                if changes.is_empty() {
                    println!("{address}: no consent changes; it may be reached on every channel");
                }
                for change in changes {
                    println!(
                        "{}  {:<5} {:<18} {:<14} {}",
                        change.at.to_rfc3339(),
                        change.channel,
                        change.address,
                        change.state.name(),
                        change.source
                    );
                }
                EXIT_OK
            }
            Err(error) => fail(&error),
        },
    }
}
