//! `flowc graph FILE`: the workflow as the canvas users know, in DOT,
//! Mermaid or SVG.

use std::path::PathBuf;

use super::{load, EXIT_OK, EXIT_USAGE};
use crate::canvas::{dot, mermaid, svg, Canvas};

/// Arguments of `flowc graph`.
#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The `.flow` file.
    pub file: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = GraphFormat::Svg)]
    pub format: GraphFormat,
    /// Which workflow of the file (default: the first).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Write here instead of to stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Output formats of `flowc graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz's DOT language.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// An SVG picture (no Graphviz needed).
    Svg,
}

/// Draws the workflow; returns the exit status.
pub fn run(args: &GraphArgs) -> u8 {
    let (source, checked) = match load::checked_file(&args.file) {
        Ok(checked) => checked,
        Err(status) => return status,
    };
    let file = checked.file();
    let workflow = match &args.workflow {
        None => file.workflows.first(),
        Some(name) => file.workflows.iter().find(|w| &w.name.name == name),
    };
    let Some(workflow) = workflow else {
        eprintln!(
            "error: {} has no workflow {}",
            args.file.display(),
            args.workflow.as_deref().unwrap_or_default()
        );
        return EXIT_USAGE;
    };
    let canvas = Canvas::build(workflow, &source);
    let drawing = match args.format {
        GraphFormat::Dot => dot::render(&canvas),
        GraphFormat::Mermaid => mermaid::render(&canvas),
        GraphFormat::Svg => svg::render(&canvas),
    };
    match &args.output {
        None => print!("{drawing}"),
        Some(path) => {
            if let Err(error) = std::fs::write(path, drawing) {
                eprintln!("error: cannot write {}: {error}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    EXIT_OK
}
