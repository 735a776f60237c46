//! Loading programs for `run` and `disasm`: a `.flow` source is checked
//! and compiled, a `.flowc` artifact is read.

use std::path::Path;

use super::{color_stderr, EXIT_ERRORS, EXIT_USAGE};
use crate::bytecode::Artifact;
use crate::check::Checked;
use crate::diagnostic::{Diagnostic, Renderer, Source};

/// Compiles a source file; on errors, prints its diagnostics to stderr and
/// gives the exit status.
pub fn compile_file(path: &Path) -> Result<Artifact, u8> {
    let name = path.display().to_string();
    let source = read_source(path)?;
    crate::compile::compile_source(&source, path.parent()).map_err(|diagnostics| {
        print_errors(&name, &source, &diagnostics);
        eprintln!("error: {name} has errors; nothing was compiled");
        EXIT_ERRORS
    })
}

/// A source file's text and tree, when it checks without errors; on
/// errors, prints its diagnostics to stderr and gives the exit status.
pub fn checked_file(path: &Path) -> Result<(String, Checked), u8> {
    let source = read_source(path)?;
    match crate::check::checked(&source, path.parent()) {
        Ok(checked) => Ok((source, checked)),
        Err(diagnostics) => {
            let name = path.display().to_string();
            print_errors(&name, &source, &diagnostics);
            eprintln!("error: {name} has errors");
            Err(EXIT_ERRORS)
        }
    }
}

/// A file's text, or the exit status after saying why it cannot be read.
pub fn read_source(path: &Path) -> Result<String, u8> {
    std::fs::read_to_string(path).map_err(|error| {
        eprintln!("error: cannot read {}: {error}", path.display());
        EXIT_USAGE
    })
}

/// Prints diagnostics of `name` to stderr as reports.
pub fn print_errors(name: &str, source: &str, diagnostics: &[Diagnostic]) {
    let renderer = Renderer::new(color_stderr());
    let source = Source::new(name, source);
    for diagnostic in diagnostics {
        eprint!("{}", renderer.render(&source, diagnostic));
    }
}

/// A `.flowc` artifact, or a `.flow` source compiled now.
pub fn load(path: &Path) -> Result<Artifact, u8> {
    let is_artifact = path.extension().is_some_and(|ext| ext == "flowc");
    if !is_artifact {
        return compile_file(path);
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|error| {
        eprintln!("error: cannot read {name}: {error}");
        EXIT_USAGE
    })?;
    Artifact::from_bytes(&bytes).map_err(|error| {
        eprintln!("error: {name}: {error}");
        EXIT_ERRORS
    })
}
