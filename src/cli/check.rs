//! `flowc check FILE...`: every diagnostic of every file.

use std::io::Write;
use std::path::PathBuf;

use miette::NamedSource;

use super::{color_stdout, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::diagnostic::{render_json, Renderer, Severity};

/// Arguments of `flowc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The `.flow` files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Output formats of `flowc check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Reports for people.
    Human,
    /// One JSON array of diagnostics, for CI and editors.
    Json,
}

/// Checks every file; returns the exit status.
pub fn run(args: &CheckArgs) -> u8 {
    let renderer = Renderer::new(color_stdout());
    let mut json = Vec::new();
    let mut errors = 0;
    let mut warnings = 0;
    let mut unreadable = false;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let name = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(source) => source,
            Err(error) => {
                eprintln!("error: cannot read {name}: {error}");
                unreadable = true;
                continue;
            }
        };
        let diagnostics = crate::check::check_source(&source, path.parent());
        for diagnostic in &diagnostics {
            match diagnostic.severity() {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
            }
        }
        match args.format {
            Format::Human => {
                let named = NamedSource::new(&name, source.clone());
                for diagnostic in &diagnostics {
                    let _ = write!(out, "{}", renderer.render(&named, diagnostic));
                }
            }
            Format::Json => json.extend(diagnostics.iter().map(|d| render_json(&name, &source, d))),
        }
    }
    match args.format {
        Format::Human => {
            let _ = writeln!(out, "{}", summary(errors, warnings, args.files.len()));
        }
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut out, &json);
            let _ = writeln!(out);
        }
    }
    if unreadable {
        EXIT_USAGE
    } else if errors > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn summary(errors: usize, warnings: usize, files: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors + warnings == 0 {
        return format!("{} checked: no problems", plural(files, "file"));
    }
    format!(
        "{} and {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}
