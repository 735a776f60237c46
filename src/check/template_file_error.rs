//! Problems of a file a workflow names, `body file` or `holidays file`
//! (E0404-E0406): missing, unusable, or outside the workflow file's folder.

use crate::span::Span;

/// A `body file` the checker cannot read safely.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TemplateFileError {
    /// `body file "..."` naming a file that does not exist.
    #[error("file `{path}` does not exist")]
    #[diagnostic(code(E0404), help("paths are relative to the .flow file"))]
    Missing {
        /// The path written.
        path: String,
        /// Where.
        #[label(primary, "not found")]
        span: Span,
    },

    /// A template file that cannot be read or uses what does not exist.
    #[error("file `{path}` {problem}")]
    #[diagnostic(code(E0405))]
    Invalid {
        /// The path written.
        path: String,
        /// What is wrong with it.
        problem: String,
        /// Where the path was written.
        #[label(primary, "this file")]
        span: Span,
        /// How to fix it.
        #[help]
        help: String,
    },

    /// `body file "..."` naming a path outside the workflow file's folder.
    #[error("file `{path}` {how}")]
    #[diagnostic(
        code(E0406),
        help("a file a workflow names must be inside the .flow file's folder: write a relative path such as `templates/welcome.md`")
    )]
    Outside {
        /// The path written.
        path: String,
        /// How it leaves the folder.
        how: &'static str,
        /// Where the path was written.
        #[label(primary, "outside the workflow's folder")]
        span: Span,
    },
}
