//! `flowc completions SHELL` and `flowc man`: generated from the command
//! line's own definition, so they never drift from it.

use std::io::Write;

use clap::CommandFactory;

use super::{Cli, EXIT_OK, EXIT_USAGE};

/// Arguments of `flowc completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "flowc", &mut std::io::stdout());
    EXIT_OK
}

/// Arguments of `flowc man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand, for its own page (`flowc man check` is flowc-check(1)).
    pub subcommand: Option<String>,
}

/// Prints a man page in roff: `flowc(1)`, or a subcommand's.
pub fn man(args: &ManArgs) -> u8 {
    let command = Cli::command();
    let command = match &args.subcommand {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub
                .clone()
                .display_name(format!("flowc-{name}"))
                .bin_name(format!("flowc {name}"))
                .version(env!("CARGO_PKG_VERSION")),
            None => {
                eprintln!("error: flowc has no subcommand {name:?}");
                return EXIT_USAGE;
            }
        },
    };
    let mut page = Vec::new();
    if let Err(error) = clap_mangen::Man::new(command).render(&mut page) {
        eprintln!("error: cannot render the man page: {error}");
        return EXIT_USAGE;
    }
    let _ = std::io::stdout().write_all(&page);
    EXIT_OK
}
