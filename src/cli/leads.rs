//! `flowc leads [import FILE]`: list leads with their status and next
//! step, or import leads (upsert by id) and enroll those that may enter.

use std::path::{Path, PathBuf};

use super::store::{fail, print_json, DbArgs, Format};
use super::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use crate::runtime::inspect;
use crate::runtime::leads::{read_updates, read_updates_in_batches};
use crate::runtime::live::BATCH;

/// Arguments of `flowc leads`.
#[derive(Debug, clap::Args)]
pub struct LeadsArgs {
    /// Import leads instead of listing them.
    #[command(subcommand)]
    pub action: Option<LeadsAction>,
    /// Only enrollments of this workflow.
    #[arg(long)]
    pub workflow: Option<String>,
    /// Only enrollments with this status.
    #[arg(long, value_parser = ["active", "waiting", "held", "paused", "completed", "exited", "failed"])]
    pub status: Option<String>,
    /// How to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// What `flowc leads` can do besides listing.
#[derive(Debug, clap::Subcommand)]
pub enum LeadsAction {
    /// Import leads from JSON Lines or CSV: upsert by id, enroll in live workflows.
    Import {
        /// The leads file.
        file: PathBuf,
        /// Stop at the first bad record.
        #[arg(long)]
        strict: bool,
    },
    /// Show one lead: its fields, its consent per channel, its enrollments.
    Show {
        /// The lead's id.
        id: String,
    },
}

/// Lists or imports; returns the exit status.
pub fn run(args: &LeadsArgs) -> u8 {
    match &args.action {
        Some(LeadsAction::Import { file, strict }) => import(args, file, *strict),
        Some(LeadsAction::Show { id }) => show(args, id),
        None => list(args),
    }
}

fn import(args: &LeadsArgs, file: &Path, strict: bool) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let types = match live.field_types() {
        Ok(types) => types,
        Err(error) => return fail(&error),
    };
    let (imported, bad) = if strict {
        // Nothing is imported while any record is bad: all read first.
        let read = match read_updates(file, &types) {
            Ok(read) => read,
            Err(error) => return cannot_read(file, &error),
        };
        if let Some(first) = read.bad.first() {
            eprintln!("error: {first}");
            return EXIT_ERRORS;
        }
        (live.import(read.records), read.bad)
    } else {
        // Read on a thread of its own: the next batch is read while this
        // one is imported.
        let (send, batches) = std::sync::mpsc::sync_channel(2);
        let (imported, read) = std::thread::scope(|scope| {
            let types = &types;
            let reading = scope.spawn(move || {
                read_updates_in_batches(file, types, BATCH, |batch| send.send(batch).is_ok())
            });
            let imported = live.import_batches(batches.iter());
            (imported, reading.join())
        });
        match read {
            Ok(Ok(bad)) => (imported, bad),
            // An unreadable file gives no batch: nothing was imported.
            Ok(Err(error)) => return cannot_read(file, &error),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    };
    for record in &bad {
        eprintln!("warning: skipped {record}");
    }
    match imported {
        Ok(done) => {
            println!(
                "imported {} leads ({} bad records skipped); {} enrollments started",
                done.imported,
                bad.len(),
                done.entered
            );
            if done.scheduled > 0 {
                let first = crate::runtime::live::scheduled::waiting(&live.store)
                    .ok()
                    .and_then(|(_, first)| first)
                    .map_or_else(String::new, |at| {
                        format!(", the first at {}", at.to_rfc3339())
                    });
                let (records, have) = match done.scheduled {
                    1 => ("record has", "it"),
                    _ => ("records have", "each"),
                };
                println!(
                    "{} {records} an `at` still to come: `flowc run` applies {have} then{first}",
                    done.scheduled
                );
            }
            if !done.refused.is_empty() {
                let why: Vec<String> = done
                    .refused
                    .iter()
                    .map(|(code, n)| format!("{n} {code}"))
                    .collect();
                println!(
                    "not entered: {} (`flowc timeline LEAD` says why)",
                    why.join(", ")
                );
            }
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}

/// Says `file` could not be read.
fn cannot_read(file: &Path, error: &std::io::Error) -> u8 {
    eprintln!("error: cannot read {}: {error}", file.display());
    EXIT_USAGE
}

fn show(args: &LeadsArgs, id: &str) -> u8 {
    let live = match args.db.open_existing() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let view = match inspect::lead(&live.store, id) {
        Ok(Some(view)) => view,
        Ok(None) => {
            eprintln!("error: no lead has the id {id:?}");
            return EXIT_ERRORS;
        }
        Err(error) => return fail(&error),
    };
    if args.format == Format::Json {
        print_json(&view);
        return EXIT_OK;
    }
    println!("lead {}", view.id);
    for (name, value) in &view.fields {
        println!("  {name:<20} {value}");
    }
    println!("consent");
    for channel in &view.consent {
        let why = match (&channel.source, channel.at) {
            (Some(source), Some(at)) => format!("  ({source}, {})", at.to_rfc3339()),
            _ => String::new(),
        };
        println!(
            "  {:<6} {:<24} {}{why}",
            channel.channel, channel.address, channel.state
        );
    }
    println!("enrollments");
    let zones = inspect::Zones::of(&live.store, id).unwrap_or_default();
    for row in &view.enrollments {
        let next = match (&row.next_at_account, row.next_at) {
            (Some(account), Some(at)) => {
                format!(
                    "{account}{}",
                    super::inspect::lead_time(zones.lead(at).as_deref())
                )
            }
            _ => String::new(),
        };
        println!(
            "  {:<24} v{:<3} {:<10} {:<24} {next}",
            row.workflow, row.version, row.status, row.step
        );
    }
    EXIT_OK
}

fn list(args: &LeadsArgs) -> u8 {
    let live = match args.db.open_existing() {
        Ok(live) => live,
        Err(status) => return status,
    };
    // A paused enrollment keeps the status it had (waiting, held): it is
    // told by its timer, so `paused` is picked after the query.
    let stored = args.status.as_deref().filter(|status| *status != "paused");
    let rows = match inspect::leads(&live.store, None, args.workflow.as_deref(), stored) {
        Ok(rows) => rows,
        Err(error) => return fail(&error),
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|row| {
            args.status
                .as_deref()
                .is_none_or(|status| row.status == status)
        })
        .collect();
    match args.format {
        Format::Json => print_json(&rows),
        Format::Text => {
            println!(
                "{:<16} {:<24} {:>3} {:<10} {:<24} next",
                "lead", "workflow", "v", "status", "step"
            );
            for row in rows {
                let next = row.next_at_account.as_deref().unwrap_or_default();
                println!(
                    "{:<16} {:<24} {:>3} {:<10} {:<24} {next}",
                    row.lead, row.workflow, row.version, row.status, row.step
                );
            }
        }
    }
    EXIT_OK
}
