//! `flowc check FILE...`: every diagnostic of every file.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{color_stdout, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::check::Target;
use crate::config::{Config, ConfigError};
use crate::diagnostic::{render_json, Diagnostic, JsonDiagnostic, Renderer, Severity, Source};

/// Arguments of `flowc check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The `.flow` files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The `flowc.toml` to check steps against (default: the nearest one in
    /// a file's folder or above it; without one, providers are not checked).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// Output formats of `flowc check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Reports for people.
    #[value(alias = "human")]
    Text,
    /// One JSON array of diagnostics, for CI and editors.
    Json,
    /// One line per diagnostic, `FILE:LINE:COLUMN: error[CODE]: message`,
    /// as compilers print them for editors' quickfix lists (Vim's `:make`).
    Short,
}

/// Checks every file; returns the exit status.
pub fn run(args: &CheckArgs) -> u8 {
    let mut report = Report {
        format: args.format,
        renderer: Renderer::new(color_stdout()),
        json: Vec::new(),
        errors: 0,
        warnings: 0,
        out: std::io::stdout().lock(),
    };
    let mut configs = Configs::default();
    let mut unreadable = 0;
    for path in &args.files {
        let name = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(source) => source,
            Err(error) => {
                eprintln!("error: cannot read {name}: {error}");
                unreadable += 1;
                continue;
            }
        };
        let dir = path.parent();
        let config_path = args
            .config
            .clone()
            .or_else(|| Config::nearest(dir.unwrap_or(Path::new("."))));
        let config = match config_path {
            Some(config_path) => match configs.load(&config_path, &mut report) {
                Ok(config) => config,
                Err(()) => {
                    unreadable += 1;
                    continue;
                }
            },
            None => None,
        };
        let target = config.as_ref().map(|config| Target {
            config,
            environment: args.config.is_some(),
        });
        let diagnostics = crate::check::check_source(&source, dir, target);
        report.file(&name, &source, &diagnostics);
    }
    let Report {
        format,
        json,
        errors,
        warnings,
        mut out,
        ..
    } = report;
    match format {
        Format::Text => {
            let checked = args.files.len() - unreadable;
            let _ = writeln!(out, "{}", summary(errors, warnings, checked, unreadable));
        }
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut out, &json);
            let _ = writeln!(out);
        }
        Format::Short => {}
    }
    if unreadable > 0 {
        EXIT_USAGE
    } else if errors > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// Where diagnostics go, with the counts so far.
struct Report<W> {
    format: Format,
    renderer: Renderer,
    json: Vec<JsonDiagnostic>,
    errors: usize,
    warnings: usize,
    out: W,
}

impl<W: Write> Report<W> {
    /// Reports the diagnostics of one file (a `.flow` file or a config).
    fn file(&mut self, name: &str, source: &str, diagnostics: &[Diagnostic]) {
        for diagnostic in diagnostics {
            match diagnostic.severity() {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
            }
        }
        let source = Source::new(name, source);
        match self.format {
            Format::Text => {
                for diagnostic in diagnostics {
                    let _ = write!(self.out, "{}", self.renderer.render(&source, diagnostic));
                }
            }
            Format::Json => self
                .json
                .extend(diagnostics.iter().map(|d| render_json(&source, d))),
            Format::Short => {
                for diagnostic in diagnostics {
                    let _ = writeln!(self.out, "{}", short(&render_json(&source, diagnostic)));
                }
            }
        }
    }
}

/// A diagnostic on one line: where, how bad, its code, and what is wrong
/// (its first line), with the help after a semicolon.
fn short(diagnostic: &JsonDiagnostic) -> String {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let message = diagnostic.message.lines().next().unwrap_or_default();
    let help = diagnostic
        .help
        .as_deref()
        .map(|help| {
            format!(
                "; help: {}",
                help.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .unwrap_or_default();
    format!(
        "{}:{}:{}: {severity}[{}]: {message}{help}",
        diagnostic.file, diagnostic.line, diagnostic.column, diagnostic.code
    )
}

/// The configurations read so far, each read and reported once.
#[derive(Default)]
struct Configs(HashMap<PathBuf, Option<Config>>);

impl Configs {
    /// The configuration at `path`: `None` when it is invalid (reported
    /// once as a diagnostic of its own file), `Err` when it cannot be read.
    fn load<W: Write>(
        &mut self,
        path: &Path,
        report: &mut Report<W>,
    ) -> Result<Option<Config>, ()> {
        if let Some(config) = self.0.get(path) {
            return Ok(config.clone());
        }
        let config = match Config::read(path) {
            Ok(config) => Some(config),
            Err(ConfigError::Invalid { text, error, .. }) => {
                report.file(&path.display().to_string(), &text, &[error.into()]);
                None
            }
            Err(error @ ConfigError::Read { .. }) => {
                eprintln!("error: {error}");
                return Err(());
            }
        };
        self.0.insert(path.to_owned(), config.clone());
        Ok(config)
    }
}

fn summary(errors: usize, warnings: usize, files: usize, unreadable: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let not_read = match unreadable {
        0 => String::new(),
        n => format!("; {} not checked", plural(n, "file")),
    };
    if errors + warnings == 0 {
        let problems = if files == 0 { "" } else { ": no problems" };
        return format!("{} checked{problems}{not_read}", plural(files, "file"));
    }
    format!(
        "{} and {} in {}{not_read}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}
