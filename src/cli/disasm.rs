//! `flowc disasm FILE`: print the compiled program readably.

use std::path::PathBuf;

use super::{load, EXIT_OK};

/// Arguments of `flowc disasm`.
#[derive(Debug, clap::Args)]
pub struct DisasmArgs {
    /// A `.flow` source or a `.flowc` program.
    pub file: PathBuf,
}

/// Prints every program of the file; returns the exit status.
pub fn run(args: &DisasmArgs) -> u8 {
    let artifact = match load::load(&args.file) {
        Ok(artifact) => artifact,
        Err(status) => return status,
    };
    let listings: Vec<String> = artifact
        .programs
        .iter()
        .map(crate::bytecode::disassemble)
        .collect();
    print!("{}", listings.join("\n"));
    EXIT_OK
}
