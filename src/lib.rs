//! flowc: go-to-market workflows as code.
//!
//! The pipeline: [`syntax`] parses a `.flow` file into an [`ast`]; [`check`]
//! lowers it to a step [`graph`] and proves the language's rules, collecting
//! every [`diagnostic`]; [`compile`] turns the checked tree into
//! [`bytecode`]; [`vm`] runs one enrollment on it, with every clock rule in
//! [`calendar`]; [`runtime`] schedules many leads on a virtual clock; [`cli`]
//! wires the stages to commands.

pub mod ast;
pub mod bytecode;
pub mod calendar;
pub mod canvas;
pub mod chart;
pub mod check;
pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostic;
pub mod format;
pub mod graph;
pub mod lsp;
pub mod markup;
pub mod phone_zone;
pub mod providers;
pub mod report;
pub mod runtime;
pub mod schema;
pub mod serve;
pub mod span;
pub mod store;
pub mod suggest;
pub mod syntax;
pub mod templates;
pub mod value;
pub mod vm;
