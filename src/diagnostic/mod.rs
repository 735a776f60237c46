//! Diagnostics from every stage as plain values, turned into reports at the edge.

mod render;

pub use render::{render_human, render_json, JsonDiagnostic, Renderer, Source};

use crate::check::{CheckError, ProviderError, TemplateFileError};
use crate::config::InvalidConfig;
use crate::span::Span;
use crate::syntax::SyntaxError;

include!(concat!(env!("OUT_DIR"), "/explanations.rs"));

/// The long explanation of `code` (`E0101`, `W0001`), if it exists.
pub fn explanation(code: &str) -> Option<&'static str> {
    EXPLANATIONS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(code))
        .map(|(_, text)| *text)
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be compiled.
    Error,
    /// The file compiles but probably does not do what was meant.
    Warning,
}

/// A problem found in a `.flow` file, from any stage.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Diagnostic {
    /// The file does not follow the grammar.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(#[from] SyntaxError),
    /// The file parses but breaks a rule of the language.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(#[from] CheckError),
    /// A `body file` cannot be read safely.
    #[error(transparent)]
    #[diagnostic(transparent)]
    TemplateFile(#[from] TemplateFileError),
    /// A step needs what `flowc.toml` does not configure.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Provider(#[from] ProviderError),
    /// The `flowc.toml` the file is checked against cannot be read; its
    /// span points into that file, not the `.flow` file.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] InvalidConfig),
}

impl Diagnostic {
    /// The stable code: `E0101`, `W0001`.
    pub fn code(&self) -> String {
        miette::Diagnostic::code(self).map_or_else(String::new, |code| code.to_string())
    }

    /// Error or warning, from the code's first letter.
    pub fn severity(&self) -> Severity {
        if self.code().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// The span of the primary label (or the first label).
    pub fn span(&self) -> Span {
        let labels: Vec<_> = miette::Diagnostic::labels(self)
            .map(|labels| labels.collect())
            .unwrap_or_default();
        labels
            .iter()
            .find(|label| label.primary())
            .or(labels.first())
            .map_or_else(Span::default, |label| {
                Span::new(label.offset(), label.offset() + label.len())
            })
    }
}

/// Sorts diagnostics by position, then by code, as users read them.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_cached_key(|diagnostic| (diagnostic.span(), diagnostic.code()));
}
