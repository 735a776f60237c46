//! The command line: one module per subcommand.

mod build;
mod check;
mod consent;
mod disasm;
mod docs;
mod event;
pub mod examples;
mod explain;
mod fmt;
mod graph;
mod inspect;
mod leads;
mod live;
mod load;
mod publish;
mod run;
mod serve;
mod store;
mod token;

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
    #[command(after_help = examples::CHECK)]
    Check(check::CheckArgs),
    /// Print the long explanation of a diagnostic code, with an example.
    #[command(after_help = examples::EXPLAIN)]
    Explain(explain::ExplainArgs),
    /// Compile a `.flow` file to a `.flowc` program.
    #[command(after_help = examples::BUILD)]
    Build(build::BuildArgs),
    /// Print a compiled program readably.
    #[command(after_help = examples::DISASM)]
    Disasm(disasm::DisasmArgs),
    /// Run leads through a workflow (`--simulate`: on a virtual clock), or
    /// run every published workflow live against the database.
    #[command(after_help = examples::RUN)]
    Run(run::RunArgs),
    /// Check, compile and store a file's workflows, and make them live.
    #[command(after_help = examples::PUBLISH)]
    Publish(publish::PublishArgs),
    /// Take a workflow off line, pausing its timers.
    #[command(after_help = examples::UNPUBLISH)]
    Unpublish(publish::UnpublishArgs),
    /// Bring the database's schema to this flowc's version (every command
    /// does on first use; run it once before starting new runners).
    #[command(after_help = examples::MIGRATE)]
    Migrate(store::MigrateArgs),
    /// List leads with their status and next step, or import leads.
    #[command(after_help = examples::LEADS)]
    Leads(leads::LeadsArgs),
    /// Record that an event happened to a lead.
    #[command(after_help = examples::EVENT)]
    Event(event::EventArgs),
    /// Record or show whether an address may be reached on a channel.
    #[command(after_help = examples::CONSENT)]
    Consent(consent::ConsentArgs),
    /// Run the HTTP API (leads, events) and the runner in one process.
    #[command(after_help = examples::SERVE)]
    Serve(serve::ServeArgs),
    /// Create, revoke or list the API tokens `flowc serve` accepts.
    #[command(after_help = examples::TOKEN)]
    Token(token::TokenArgs),
    /// Print a lead's timeline and upcoming step.
    #[command(after_help = examples::TIMELINE)]
    Timeline(inspect::TimelineArgs),
    /// Print counts per step and status of a workflow.
    #[command(after_help = examples::STATS)]
    Stats(inspect::StatsArgs),
    /// Run a lead's failed enrollments again.
    #[command(after_help = examples::RETRY)]
    Retry(inspect::RetryArgs),
    /// Rewrite `.flow` files in the canonical layout (`--check`: only tell).
    #[command(after_help = examples::FMT)]
    Fmt(fmt::FmtArgs),
    /// Run the language server on stdin and stdout (for editors).
    #[command(after_help = examples::LSP)]
    Lsp,
    /// Draw a workflow as a canvas: DOT, Mermaid or SVG.
    #[command(after_help = examples::GRAPH)]
    Graph(graph::GraphArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = examples::COMPLETIONS)]
    Completions(docs::CompletionsArgs),
    /// Print the man page, flowc(1), or a subcommand's, in roff.
    #[command(after_help = examples::MAN)]
    Man(docs::ManArgs),
}

/// `flowc leads | head`: when whoever reads stdout stops reading, the
/// command ends quietly, as Unix tools do, instead of panicking on the next
/// line it prints (Rust ignores SIGPIPE, so the write fails instead).
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(EXIT_OK));
        }
        report(info);
    }));
}

/// Exit status: success, or warnings only.
pub const EXIT_OK: u8 = 0;
/// Exit status: the input has errors.
pub const EXIT_ERRORS: u8 = 1;
/// Exit status: bad usage, or a file could not be read.
pub const EXIT_USAGE: u8 = 2;

/// Runs the command line and returns the process's exit status.
pub fn main() -> ExitCode {
    quiet_on_closed_stdout();
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
        Command::Build(args) => build::run(&args),
        Command::Disasm(args) => disasm::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Publish(args) => publish::publish(&args),
        Command::Unpublish(args) => publish::unpublish(&args),
        Command::Migrate(args) => store::migrate(&args),
        Command::Leads(args) => leads::run(&args),
        Command::Event(args) => event::run(&args),
        Command::Consent(args) => consent::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Token(args) => token::run(&args),
        Command::Timeline(args) => inspect::timeline(&args),
        Command::Stats(args) => inspect::stats(&args),
        Command::Retry(args) => inspect::retry(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Lsp => match crate::lsp::serve() {
            Ok(()) => EXIT_OK,
            Err(error) => {
                eprintln!("error: flowc lsp: {error}");
                EXIT_USAGE
            }
        },
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
    };
    ExitCode::from(status)
}

/// Whether to colour output written to stdout: a terminal, and no `NO_COLOR`.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    no_color_unset() && std::io::stdout().is_terminal()
}

/// Whether to colour output written to stderr: a terminal, and no `NO_COLOR`.
pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    no_color_unset() && std::io::stderr().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Who runs this command, for what timelines and version histories record:
/// the system user (`$USER`, else `$LOGNAME`), else `flowc`.
fn system_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "flowc".to_owned())
}
