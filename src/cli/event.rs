//! `flowc event NAME --lead ID [--data JSON]`: an event happens to a lead.

use serde_json::{Map, Value as Json};

use super::store::{fail, DbArgs};
use super::{EXIT_OK, EXIT_USAGE};
use crate::runtime::live::EventError;

/// Arguments of `flowc event`.
#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// The event's name, as workflows declare it.
    pub name: String,
    /// The lead it happens to.
    #[arg(long)]
    pub lead: String,
    /// Its payload, a JSON object.
    #[arg(long)]
    pub data: Option<String>,
    /// The database.
    #[command(flatten)]
    pub db: DbArgs,
}

/// Records the event; returns the exit status.
pub fn run(args: &EventArgs) -> u8 {
    let data: Map<String, Json> = match args.data.as_deref().map(serde_json::from_str) {
        None => Map::new(),
        Some(Ok(Json::Object(data))) => data,
        Some(_) => {
            eprintln!("error: --data must be a JSON object, like '{{\"outcome\": \"answered\"}}'");
            return EXIT_USAGE;
        }
    };
    let mut live = match args.db.open() {
        Ok(live) => live,
        Err(status) => return status,
    };
    match live.event(&args.name, &args.lead, &data) {
        Ok(outcome) => {
            let entered = outcome
                .entries
                .iter()
                .filter(|(_, decision)| decision.is_ok())
                .count();
            println!(
                "{} happened to {}: {entered} enrollments started, {} ended by a goal",
                args.name,
                args.lead,
                outcome.goals.len()
            );
            for (workflow, goal) in &outcome.goals {
                println!("  {workflow}: goal {goal} reached");
            }
            for workflow in &outcome.resumed {
                println!("  {workflow}: it waited for {}: went on", args.name);
            }
            if outcome.entries.is_empty() {
                println!("  no live workflow is triggered by {}", args.name);
            }
            for (workflow, decision) in &outcome.entries {
                match decision {
                    Ok(()) => println!("  {workflow}: entered"),
                    Err(refusal) => println!("  {workflow}: not entered: {refusal}"),
                }
            }
            EXIT_OK
        }
        Err(EventError::Store(error)) => fail(&error),
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_USAGE
        }
    }
}
