//! flowc: go-to-market workflows as code.
//!
//! The pipeline: [`syntax`] parses a `.flow` file into an [`ast`]; [`check`]
//! lowers it to a step [`graph`] and proves the language's rules, collecting
//! every [`diagnostic`]; [`cli`] wires the stages to commands.

pub mod ast;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod graph;
pub mod schema;
pub mod span;
pub mod suggest;
pub mod syntax;
