//! `flowc explain CODE`: the long explanation of a diagnostic code.

use super::{EXIT_OK, EXIT_USAGE};
use crate::diagnostic::{explanation, EXPLANATIONS};

/// Arguments of `flowc explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A code such as `E0101` or `W0001`; `--list` shows them all.
    #[arg(required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its title.
    #[arg(long)]
    pub list: bool,
}

/// Prints the explanation; returns the exit status.
pub fn run(args: &ExplainArgs) -> u8 {
    if args.list {
        for (code, text) in EXPLANATIONS {
            println!("{code}  {}", title(text));
        }
        return EXIT_OK;
    }
    let code = args.code.as_deref().unwrap_or_default();
    match explanation(code) {
        Some(text) => {
            print!("{text}");
            EXIT_OK
        }
        None => {
            eprintln!(
                "error: `{code}` is not a flowc diagnostic code (see `flowc explain --list`)"
            );
            EXIT_USAGE
        }
    }
}

/// The first line of an explanation without its `# CODE:` heading.
fn title(text: &str) -> &str {
    let first = text.lines().next().unwrap_or_default();
    first.split_once(": ").map_or(first, |(_, title)| title)
}
