//! `flowc build FILE -o FILE.flowc`: compile a workflow file to bytecode.

use std::path::PathBuf;

use super::{load, EXIT_OK, EXIT_USAGE};

/// Arguments of `flowc build`.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The `.flow` file to compile.
    pub file: PathBuf,
    /// Where to write the program (default: the file with `.flowc`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Compiles and writes the artifact; returns the exit status.
pub fn run(args: &BuildArgs) -> u8 {
    let artifact = match load::compile_file(&args.file) {
        Ok(artifact) => artifact,
        Err(status) => return status,
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.file.with_extension("flowc"));
    if let Err(error) = std::fs::write(&output, artifact.to_bytes()) {
        eprintln!("error: cannot write {}: {error}", output.display());
        return EXIT_USAGE;
    }
    let instructions: usize = artifact
        .programs
        .iter()
        .map(|program| program.code.len())
        .sum();
    println!(
        "built {} ({} workflow{}, {instructions} instructions)",
        output.display(),
        artifact.programs.len(),
        if artifact.programs.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    EXIT_OK
}
