//! `flowc run FILE --leads FILE --start INSTANT --simulate`: every lead
//! through the workflow on a virtual clock, with timelines and a summary.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::{load, EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::bytecode::Program;
use crate::report::{self, Tally, WorkflowReport};
use crate::runtime::jsonl::JsonlWriter;
use crate::runtime::leads::{self, BadRecord};
use crate::runtime::policy::ContactPolicy;
use crate::runtime::{timeline, together, Input, Summary};
use crate::value::DateLiteral;

/// Arguments of `flowc run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// With --simulate: a `.flow` source or a `.flowc` program. Live runs
    /// run every workflow published in the database.
    pub file: Option<PathBuf>,
    /// Leads as JSON Lines (`.jsonl`) or CSV (`.csv`); records with the
    /// same id later in the file update the lead at their `at` time.
    #[arg(long)]
    pub leads: Option<PathBuf>,
    /// Events as JSON Lines: `{"at", "lead", "event", "data"}`.
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub events: Option<PathBuf>,
    /// Scripted provider answers for every lead, as a JSON object by step
    /// label or kind (see the README).
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub fixtures: Option<PathBuf>,
    /// When the virtual clock starts: `2026-03-06T09:00:00Z`, or a local
    /// time like `2026-03-06T09:00` in the workflow's timezone.
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub start: Option<String>,
    /// When it stops (default: when every enrollment has ended).
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub until: Option<String>,
    /// Run on the virtual clock, sending nothing.
    #[arg(long, help_heading = "Simulation")]
    pub simulate: bool,
    /// Only this workflow of the file.
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub workflow: Option<String>,
    /// How to print timelines: `text` for people, `json` for one JSON
    /// event per line, then one summary line per workflow.
    #[arg(long, value_enum, default_value_t = Format::Text, requires = "simulate", help_heading = "Simulation")]
    pub format: Format,
    /// How many times one enrollment may run (from one wait to the next)
    /// before the simulation stops it, so that a loop cannot run forever.
    #[arg(long, default_value_t = crate::runtime::BUDGET, requires = "simulate", help_heading = "Simulation")]
    pub budget: u32,
    /// Stop at the first bad record instead of skipping it.
    #[arg(long, requires = "simulate", help_heading = "Simulation")]
    pub strict: bool,
    /// With --simulate: also write a self-contained HTML report of the run
    /// here (the canvas with counts, how enrollments end, sends over the
    /// week, waiting and held times, sample leads with their messages).
    #[arg(
        long,
        value_name = "FILE",
        requires = "simulate",
        help_heading = "Simulation"
    )]
    pub report: Option<PathBuf>,
    /// Live: do everything due now, then exit (for cron).
    #[arg(long, conflicts_with = "simulate", help_heading = "Live runs")]
    pub once: bool,
    /// Live: the runner's claims and providers.
    #[command(flatten, next_help_heading = "Live runs")]
    pub runner: super::live::RunnerArgs,
    /// The database of live runs.
    #[command(flatten)]
    pub db: super::store::DbArgs,
}

/// Output formats of `flowc run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Timelines per lead and a summary, for people.
    #[value(alias = "table")]
    Text,
    /// One JSON event per line, then one summary line per workflow.
    #[value(alias = "jsonl")]
    Json,
}

/// Simulates every selected workflow; returns the exit status.
pub fn run(args: &RunArgs) -> u8 {
    if !args.simulate {
        if args.file.is_some() || args.leads.is_some() {
            eprintln!(
                "error: a live run runs the workflows published in the database: \
                 `flowc publish FILE` them, `flowc leads import FILE` the leads, then `flowc run`; \
                 or add --simulate to run FILE on a virtual clock"
            );
            return EXIT_USAGE;
        }
        return super::live::run(args);
    }
    if let Some(flag) = args.runner.live_only_flag() {
        eprintln!(
            "error: {flag} applies to live runs only: a simulation runs FILE on a virtual clock and sends nothing"
        );
        return EXIT_USAGE;
    }
    let (Some(file), Some(_), Some(_)) = (&args.file, &args.leads, &args.start) else {
        eprintln!("error: --simulate needs a FILE, --leads and --start");
        return EXIT_USAGE;
    };
    let artifact = match load::load(file) {
        Ok(artifact) => artifact,
        Err(status) => return status,
    };
    let programs: Vec<&Program> = artifact
        .programs
        .iter()
        .filter(|program| {
            args.workflow
                .as_ref()
                .is_none_or(|name| *name == program.name)
        })
        .collect();
    if programs.is_empty() {
        eprintln!(
            "error: {} has no workflow named {:?}",
            file.display(),
            args.workflow.as_deref().unwrap_or("")
        );
        return EXIT_USAGE;
    }
    let fixtures = match read_fixtures(args.fixtures.as_deref()) {
        Ok(fixtures) => fixtures,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_USAGE;
        }
    };
    // A fixture may name a step of any of the workflows simulated.
    let checks: Vec<Result<(), String>> = programs
        .iter()
        .map(|program| crate::runtime::recorder::check_script(program, &fixtures))
        .collect();
    if let Some(Err(message)) = checks.iter().find(|_| checks.iter().all(Result::is_err)) {
        eprintln!("error: fixtures: {message}");
        return EXIT_USAGE;
    }
    // The contact policy of `--config`, else of the flowc.toml beside FILE.
    let policy = match crate::config::Config::find(args.runner.config.as_deref(), Some(file)) {
        Ok(config) => Rc::new(config.map(|config| config.policy).unwrap_or_default()),
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let mut prepared = Vec::with_capacity(programs.len());
    for program in programs {
        match prepare(program, args) {
            Ok(one) => prepared.push(one),
            Err(status) => return status,
        }
    }
    let stdout = RefCell::new(std::io::stdout().lock());
    match simulate(&mut prepared, args, &fixtures, &policy, &stdout) {
        Ok(()) => EXIT_OK,
        Err(status) => status,
    }
}

/// A workflow ready to simulate: its inputs, read with its field types.
struct Prepared<'p> {
    program: &'p Program,
    inputs: Vec<Input>,
    bad: Vec<BadRecord>,
    start: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

/// Reads the leads and events for `program`.
fn prepare<'p>(program: &'p Program, args: &RunArgs) -> Result<Prepared<'p>, u8> {
    let start = instant(
        args.start.as_deref().unwrap_or_default(),
        program,
        "--start",
    )?;
    let until = args
        .until
        .as_deref()
        .map(|text| instant(text, program, "--until"))
        .transpose()?;
    let leads_path = args.leads.clone().unwrap_or_default();
    let read = leads::read_leads(&leads_path, program).map_err(|error| {
        eprintln!("error: cannot read {}: {error}", leads_path.display());
        EXIT_USAGE
    })?;
    let mut bad = read.bad;
    let mut inputs: Vec<Input> = read.records.into_iter().map(Input::Lead).collect();
    if let Some(path) = &args.events {
        let events = leads::read_events(path, program.timezone).map_err(|error| {
            eprintln!("error: cannot read {}: {error}", path.display());
            EXIT_USAGE
        })?;
        bad.extend(events.bad);
        inputs.extend(events.records.into_iter().map(Input::Event));
    }
    bad.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    report_bad(&bad, args.strict)?;
    Ok(Prepared {
        program,
        inputs,
        bad,
        start,
        until,
    })
}

/// Simulates the workflows together on one clock (they share the contact
/// policy's touches), then prints each one's timelines and summary.
fn simulate<W: Write>(
    prepared: &mut [Prepared<'_>],
    args: &RunArgs,
    fixtures: &Map<String, Json>,
    policy: &Rc<ContactPolicy>,
    out: &RefCell<W>,
) -> Result<(), u8> {
    // JSON Lines are written as the events happen; a table groups them by
    // lead, so it keeps them until the end.
    let mut outputs: Vec<Output<'_, W>> = prepared
        .iter()
        .map(|one| match args.format {
            Format::Json => Output::Jsonl(JsonlWriter::new(one.program, Shared(out))),
            Format::Text => Output::Table,
        })
        .collect();
    let tallies: Vec<Option<RefCell<Tally>>> = prepared
        .iter()
        .map(|one| {
            args.report
                .is_some()
                .then(|| RefCell::new(Tally::new(one.program)))
        })
        .collect();
    let progress = progress_bar(prepared.iter().map(|one| one.inputs.len()).sum());
    let programs = prepared.iter().map(|one| one.program);
    let mut simulations = together::policed(programs, fixtures, policy, true);
    for ((simulation, output), tally) in simulations.iter_mut().zip(&mut outputs).zip(&tallies) {
        simulation.budget = args.budget;
        if tally.is_some() {
            simulation.channels.keep_leads = report::tally::SAMPLE_LEADS;
        }
        if let Some(bar) = progress.clone() {
            simulation.on_progress = Some(Box::new(move |now: DateTime<Utc>| {
                bar.set_message(now.to_rfc3339());
                bar.tick();
            }));
        }
        if let Output::Jsonl(writer) = output {
            simulation.stream(move |lead, event| {
                writer.event(lead, event);
                if let Some(tally) = tally {
                    tally.borrow_mut().record(lead, event);
                }
            });
        }
    }
    let (start, until) = (prepared[0].start, prepared[0].until);
    let mut inputs: Vec<Vec<Input>> = prepared
        .iter_mut()
        .map(|one| std::mem::take(&mut one.inputs))
        .collect();
    match simulations.as_mut_slice() {
        [one] => one.run(inputs.pop().unwrap_or_default(), start, until),
        many => together::run_together(many, inputs, start, until),
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let reports: Vec<WorkflowReport> = simulations
        .iter()
        .zip(&tallies)
        .filter_map(|(simulation, tally)| {
            let mut tally = tally.as_ref()?.borrow_mut();
            // A table keeps the events instead of streaming them.
            for event in simulation.timeline.iter().flatten() {
                let lead = simulation.leads.get(event.lead as usize);
                tally.record(lead.map_or("?", |lead| &lead.id), event);
            }
            let source = args.file.as_deref().and_then(source_of);
            Some(report::workflow(
                simulation,
                &simulation.summary,
                &tally,
                source.as_deref(),
            ))
        })
        .collect();
    let ended: Vec<_> = simulations
        .iter_mut()
        .map(|simulation| {
            let summary = std::mem::take(&mut simulation.summary);
            let leads = std::mem::take(&mut simulation.leads);
            let events = simulation.timeline.take().unwrap_or_default();
            (
                summary,
                leads,
                events,
                simulation.horizon,
                simulation.budget,
            )
        })
        .collect();
    drop(simulations);
    for ((one, output), (mut summary, leads, events, horizon, budget)) in
        prepared.iter().zip(outputs).zip(ended)
    {
        let program = one.program;
        warn(program, &summary, horizon, budget);
        summary.bad_records.splice(0..0, one.bad.iter().cloned());
        match output {
            Output::Jsonl(mut writer) => {
                writer.line(&timeline::summary_json(program, &summary).to_string());
                writer.finish().map_err(|(written, error)| {
                    eprintln!(
                        "error: writing the timeline of {} failed after the first {written} events: {error}",
                        program.name
                    );
                    EXIT_ERRORS
                })?;
            }
            Output::Table => {
                let mut text = format!("workflow {}\n", program.name);
                timeline::write_table(program, &leads, &events, &mut text);
                timeline::write_summary(program, &summary, &mut text);
                out.borrow_mut()
                    .write_all(text.as_bytes())
                    .map_err(|error| {
                        eprintln!(
                            "error: writing the timeline of {} failed: {error}",
                            program.name
                        );
                        EXIT_ERRORS
                    })?;
            }
        }
    }
    if let Some(path) = &args.report {
        write_report(path, args, &prepared[0], reports)?;
    }
    Ok(())
}

/// The `.flow` source of FILE, to draw its canvas (none for a `.flowc`).
fn source_of(file: &Path) -> Option<String> {
    let compiled = file.extension().is_some_and(|ext| ext == "flowc");
    (!compiled)
        .then(|| std::fs::read_to_string(file).ok())
        .flatten()
}

/// Writes the report of the run to `path`; the timelines are already out.
fn write_report(
    path: &Path,
    args: &RunArgs,
    first: &Prepared<'_>,
    workflows: Vec<WorkflowReport>,
) -> Result<(), u8> {
    let zone = first.program.timezone;
    let title = match workflows.as_slice() {
        [one] => one.name.clone(),
        many => format!("{} workflows", many.len()),
    };
    let context = minijinja::context! {
        title,
        leads_file => args.leads.as_deref().map(|path| path.display().to_string()),
        start => first.start.with_timezone(&zone).to_rfc3339(),
        until => first.until.map(|until| until.with_timezone(&zone).to_rfc3339()),
        version => env!("CARGO_PKG_VERSION"),
        workflows,
    };
    let written = crate::templates::render("report.html", context)
        .map_err(|error| error.to_string())
        .and_then(|html| std::fs::write(path, html).map_err(|error| error.to_string()));
    written.map_err(|error| {
        eprintln!(
            "error: the simulation ran and its timelines were written, but the report could not be written to {}: {error}",
            path.display()
        );
        EXIT_ERRORS
    })
}

/// One output shared by the simulations of several workflows.
struct Shared<'o, W: Write>(&'o RefCell<W>);

impl<W: Write> Write for Shared<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// Where a simulation's timelines go.
enum Output<'o, W: Write> {
    /// Streamed as JSON Lines.
    Jsonl(JsonlWriter<Shared<'o, W>>),
    /// Kept, then printed as a table per lead.
    Table,
}

/// Warns of what the simulation skipped or where it stopped early.
fn warn(program: &Program, summary: &Summary, horizon: Option<DateTime<Utc>>, budget: u32) {
    for record in &summary.bad_records {
        eprintln!("warning: skipped {record}");
    }
    let local = |at: DateTime<Utc>| at.with_timezone(&program.timezone).to_rfc3339();
    if let Some(first) = summary.first_over_budget {
        eprintln!(
            "warning: {}: {} enrollment(s) reached the budget of {budget} activations and were \
             stopped, the first at {} (a loop through waits?); pass --budget to allow more",
            program.name,
            summary.over_budget,
            local(first)
        );
    }
    if let Some(horizon) = horizon {
        eprintln!(
            "warning: {} stopped at {}, ten years after the last lead or event, with enrollments \
             still running (a loop through waits?); pass --until to choose when to stop",
            program.name,
            local(horizon)
        );
    }
}

/// Prints bad records as warnings; with `--strict`, the first is an error.
fn report_bad(bad: &[BadRecord], strict: bool) -> Result<(), u8> {
    if strict {
        if let Some(first) = bad.first() {
            eprintln!("error: {first}");
            return Err(EXIT_ERRORS);
        }
    }
    for record in bad {
        eprintln!("warning: skipped {record}");
    }
    Ok(())
}

fn progress_bar(inputs: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || inputs < 10_000 {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} simulating: virtual clock at {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    Some(bar)
}

fn instant(text: &str, program: &Program, flag: &str) -> Result<DateTime<Utc>, u8> {
    DateLiteral::parse(text)
        .map(|date| date.instant(program.timezone))
        .ok_or_else(|| {
            eprintln!("error: {flag} {text:?} is not a time like 2026-03-06T09:00:00Z or 2026-03-06T09:00");
            EXIT_USAGE
        })
}

fn read_fixtures(path: Option<&Path>) -> Result<Map<String, Json>, String> {
    let Some(path) = path else {
        return Ok(Map::new());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    match serde_json::from_str(&text) {
        Ok(Json::Object(fixtures)) => Ok(fixtures),
        Ok(_) => Err(format!(
            "{}: fixtures must be one JSON object",
            path.display()
        )),
        Err(error) => Err(format!("{}: not valid JSON: {error}", path.display())),
    }
}
