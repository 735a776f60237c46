//! `flowc fmt [--check] FILE...`: rewrite files in the canonical layout.

use std::io::{Read, Write};
use std::path::PathBuf;

use super::{load, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::format::{format_source, FormatError};

/// Arguments of `flowc fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// The `.flow` files to format; `-` reads stdin and writes stdout.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1.
    #[arg(long)]
    pub check: bool,
}

/// Formats every file; returns the exit status.
pub fn run(args: &FmtArgs) -> u8 {
    let mut status = EXIT_OK;
    for path in &args.files {
        let file_status = if path.as_os_str() == "-" {
            stdin_to_stdout(args.check)
        } else {
            format_file(path, args.check)
        };
        status = status.max(file_status);
    }
    status
}

fn format_file(path: &std::path::Path, check: bool) -> u8 {
    let name = path.display().to_string();
    let source = match load::read_source(path) {
        Ok(source) => source,
        Err(status) => return status,
    };
    let formatted = match formatted(&name, &source) {
        Ok(formatted) => formatted,
        Err(status) => return status,
    };
    if formatted == source {
        return EXIT_OK;
    }
    if check {
        println!("{name} is not formatted");
        return EXIT_ERRORS;
    }
    if let Err(error) = std::fs::write(path, formatted) {
        eprintln!("error: cannot write {name}: {error}");
        return EXIT_USAGE;
    }
    println!("formatted {name}");
    EXIT_OK
}

fn stdin_to_stdout(check: bool) -> u8 {
    let mut source = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut source) {
        eprintln!("error: cannot read stdin: {error}");
        return EXIT_USAGE;
    }
    match formatted("<stdin>", &source) {
        Ok(formatted) if check && formatted != source => {
            println!("<stdin> is not formatted");
            EXIT_ERRORS
        }
        Ok(_) if check => EXIT_OK,
        Ok(formatted) => {
            let _ = std::io::stdout().write_all(formatted.as_bytes());
            EXIT_OK
        }
        Err(status) => status,
    }
}

/// The formatted text, or the exit status after reporting why not.
fn formatted(name: &str, source: &str) -> Result<String, u8> {
    format_source(source).map_err(|error| {
        match error {
            FormatError::Syntax(diagnostics) => {
                load::print_errors(name, source, &diagnostics);
                eprintln!("error: {name} does not parse; it was not formatted");
            }
            FormatError::Changed => eprintln!(
                "error: formatting {name} would change its meaning, so it was left alone (a bug in flowc: please report it)"
            ),
        }
        EXIT_ERRORS
    })
}
