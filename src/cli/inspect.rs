//! `flowc timeline LEAD`, `flowc stats NAME` and `flowc retry LEAD`.

use super::store::{fail, print_json, DbArgs, Format};
use super::{EXIT_OK, EXIT_USAGE};
use crate::runtime::inspect;

/// Arguments of `flowc timeline`.
#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    /// The lead.
    pub lead: String,
    /// How to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `flowc stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The workflow.
    pub name: String,
    /// How to print.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `flowc retry`.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    /// The lead whose failed enrollments run again.
    pub lead: String,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Prints a lead's past events and where each enrollment stands.
pub fn timeline(args: &TimelineArgs) -> u8 {
    let live = match args.db.open_existing() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let zones = match inspect::Zones::of(&live.store, &args.lead) {
        Ok(zones) => zones,
        Err(error) => return fail(&error),
    };
    let rows = match inspect::timeline(&live.store, &args.lead, &zones) {
        Ok(Some(rows)) => rows,
        Ok(None) => {
            eprintln!("error: no lead has the id {:?}", args.lead);
            return EXIT_USAGE;
        }
        Err(error) => return fail(&error),
    };
    let upcoming = match inspect::leads(&live.store, Some(&args.lead), None, None) {
        Ok(all) => all
            .into_iter()
            .filter(|row| row.next_at.is_some() || row.status == "paused")
            .collect::<Vec<_>>(),
        Err(error) => return fail(&error),
    };
    let next: Vec<serde_json::Value> = upcoming
        .iter()
        .map(|row| {
            serde_json::json!({
                "workflow": row.workflow,
                "step": row.step,
                "status": row.status,
                "at_account": row.next_at.map(|at| zones.account(&row.workflow, at)),
                "at_lead": row.next_at.and_then(|at| zones.lead(at)),
                "paused_left_seconds": row.paused_left,
                "hold_reason": row.hold_reason,
            })
        })
        .collect();
    match args.format {
        Format::Json => print_json(&serde_json::json!({ "events": rows, "upcoming": next })),
        Format::Text => {
            for row in &rows {
                let line = format!(
                    "  {}{}  {:<24} #{:<2} {:<11}  {:<24}  {}",
                    row.at_account,
                    lead_time(row.at_lead.as_deref()),
                    row.workflow,
                    row.enrollment,
                    row.kind,
                    row.step,
                    visible(&row.detail)
                );
                println!("{}", line.trim_end());
            }
            for row in &upcoming {
                let when = match (row.next_at, row.paused_left) {
                    (Some(at), _) => format!(
                        "at {}{}",
                        zones.account(&row.workflow, at),
                        lead_time(zones.lead(at).as_deref())
                    ),
                    (None, Some(left)) => format!(
                        "paused with {} left, from when {} is published again",
                        crate::calendar::rough_length(left),
                        row.workflow
                    ),
                    (None, None) => "paused".to_owned(),
                };
                let why = row
                    .hold_reason
                    .as_deref()
                    .map_or_else(String::new, |reason| format!(": {}", visible(reason)));
                println!(
                    "  next: {} {when} ({} in {}){why}",
                    row.step, row.status, row.workflow
                );
            }
        }
    }
    EXIT_OK
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`): lead data
/// on a timeline cannot move the cursor, clear the screen or forge lines.
fn visible(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                character.escape_default().to_string()
            } else {
                character.to_string()
            }
        })
        .collect()
}

/// ` (lead TIME)` beside an account time, when the lead has a timezone.
pub(super) fn lead_time(at: Option<&str>) -> String {
    at.map_or_else(String::new, |at| format!(" (lead {at})"))
}

/// Prints counts per step and status.
pub fn stats(args: &StatsArgs) -> u8 {
    let live = match args.db.open_existing() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let counts = match inspect::stats(&live.store, &args.name) {
        Ok(Some(counts)) => counts,
        Ok(None) => {
            eprintln!("error: no workflow is named {:?}", args.name);
            return EXIT_USAGE;
        }
        Err(error) => return fail(&error),
    };
    let endings = match inspect::endings(&live.store, &args.name) {
        Ok(endings) => endings,
        Err(error) => return fail(&error),
    };
    let taken_over = match inspect::taken_over(&live.store, &args.name) {
        Ok(count) => count,
        Err(error) => return fail(&error),
    };
    match args.format {
        Format::Json => print_json(&serde_json::json!({
            "steps": counts,
            "endings": endings,
            "taken_over": taken_over,
        })),
        Format::Text => {
            for count in counts {
                let events: Vec<String> = count
                    .events
                    .iter()
                    .map(|(kind, n)| format!("{kind} {n}"))
                    .collect();
                let now: Vec<String> = count
                    .now
                    .iter()
                    .map(|(status, n)| format!("{status} {n}"))
                    .collect();
                let now = if now.is_empty() {
                    String::new()
                } else {
                    format!("  [now: {}]", now.join(", "))
                };
                println!("  {:<24} {}{now}", count.step, events.join(", "));
            }
            if taken_over > 0 {
                println!(
                    "\n  {taken_over} effects were taken over from a runner that died holding them: each may have gone out twice, under its key"
                );
            }
            if !endings.is_empty() {
                println!("\n  how enrollments ended");
                for ending in &endings {
                    println!(
                        "    {:>8}  {:<9}  {}",
                        ending.count, ending.category, ending.reason
                    );
                }
            }
        }
    }
    EXIT_OK
}

/// Resumes a lead's failed enrollments.
pub fn retry(args: &RetryArgs) -> u8 {
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    let by = super::system_user();
    match inspect::retry(&mut live.store, &args.lead, &by, live.clock.now()) {
        Ok(0) => {
            eprintln!("error: {:?} has no failed enrollment", args.lead);
            EXIT_USAGE
        }
        Ok(count) => {
            println!(
                "{count} failed enrollments of {} will run again at the next `flowc run`",
                args.lead
            );
            EXIT_OK
        }
        Err(error) => fail(&error),
    }
}
