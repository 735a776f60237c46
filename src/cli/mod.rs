//! The command line: one module per subcommand.

mod check;
mod explain;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Go-to-market workflows as code: check, simulate and run `.flow` files.
#[derive(Debug, Parser)]
#[command(name = "flowc", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check `.flow` files and print every diagnostic.
    Check(check::CheckArgs),
    /// Print the long explanation of a diagnostic code, with an example.
    Explain(explain::ExplainArgs),
}

/// Exit status: success, or warnings only.
pub const EXIT_OK: u8 = 0;
/// Exit status: the input has errors.
pub const EXIT_ERRORS: u8 = 1;
/// Exit status: bad usage, or a file could not be read.
pub const EXIT_USAGE: u8 = 2;

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            });
        }
    };
    let status = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
    };
    ExitCode::from(status)
}

/// Whether to colour output written to stdout: a terminal, and no `NO_COLOR`.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::io::stdout().is_terminal()
}
