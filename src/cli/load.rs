//! Loading programs for `run` and `disasm`: a `.flow` source is checked
//! and compiled, a `.flowc` artifact is read.

use std::path::Path;

use miette::NamedSource;

use super::{color_stderr, EXIT_ERRORS, EXIT_USAGE};
use crate::bytecode::Artifact;
use crate::diagnostic::Renderer;

/// Compiles a source file; on errors, prints its diagnostics to stderr and
/// gives the exit status.
pub fn compile_file(path: &Path) -> Result<Artifact, u8> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|error| {
        eprintln!("error: cannot read {name}: {error}");
        EXIT_USAGE
    })?;
    crate::compile::compile_source(&source, path.parent()).map_err(|diagnostics| {
        let renderer = Renderer::new(color_stderr());
        let named = NamedSource::new(&name, source.clone());
        for diagnostic in &diagnostics {
            eprint!("{}", renderer.render(&named, diagnostic));
        }
        eprintln!("error: {name} has errors; nothing was compiled");
        EXIT_ERRORS
    })
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
