//! Errors in the shape of a file, each with a stable code.

use crate::span::Span;

/// A syntax error: the text does not follow the grammar of `.flow` files.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SyntaxError {
    /// Something other than what the grammar allows at this point.
    #[error("expected {expected} here, found {found}")]
    #[diagnostic(code(E0001))]
    Expected {
        /// What may come here, in words.
        expected: String,
        /// What was found, in words.
        found: String,
        /// Where.
        #[label(primary, "expected {expected}")]
        span: Span,
        /// How to fix it.
        #[help]
        help: Option<String>,
    },

    /// Quoted text that never closes.
    #[error("this text is never closed")]
    #[diagnostic(
        code(E0002),
        help("close it with {quote} (a single `\"` only closes text on the same line; use `\"\"\"` for text over several lines)")
    )]
    UnclosedText {
        /// The quote that closes it.
        quote: &'static str,
        /// The opening quote.
        #[label(primary, "text opened here")]
        opened: Span,
        /// Where the closing quote was expected.
        #[label("expected {quote} here")]
        span: Span,
    },

    /// A block (`condition`, or a step with `on` branches) without `end`.
    #[error("this `{block}` block is never closed with `end`")]
    #[diagnostic(
        code(E0003),
        help("write `end` on its own line after the last step of the block")
    )]
    MissingEnd {
        /// The block's keyword.
        block: &'static str,
        /// The block's first line.
        #[label(primary, "block opened here")]
        opened: Span,
        /// Where `end` was expected.
        #[label("expected `end` before this")]
        span: Span,
    },

    /// `and` and `or` side by side without parentheses.
    #[error("`and` and `or` are mixed without parentheses")]
    #[diagnostic(code(E0004))]
    MixedLogic {
        /// The whole expression.
        #[label(primary, "is this (… and …) or …, or … and (… or …)?")]
        span: Span,
        /// The expression with parentheses added.
        #[help]
        help: String,
    },

    /// `label NAME` with no step after it in its block.
    #[error("label `{name}` is not followed by a step")]
    #[diagnostic(
        code(E0005),
        help("a label names the step on the next line; put a step after it or remove it")
    )]
    DanglingLabel {
        /// The label.
        name: String,
        /// Where.
        #[label(primary, "labels nothing")]
        span: Span,
    },

    /// `end`, `else`, `branch` or `on` outside any block.
    #[error("`{word}` here belongs to no block")]
    #[diagnostic(code(E0006))]
    StrayBlockWord {
        /// The keyword.
        word: String,
        /// Where.
        #[label(primary, "no open block here")]
        span: Span,
        /// What the keyword is for.
        #[help]
        help: String,
    },

    /// A file with no `workflow` in it.
    #[error("this file declares no workflow")]
    #[diagnostic(
        code(E0007),
        help("start the file with `workflow NAME`, then its sections (trigger, steps, ...)")
    )]
    NoWorkflow {
        /// The start of the file.
        #[label(primary, "expected `workflow NAME`")]
        span: Span,
    },

    /// Blocks or parentheses nested beyond what the parser accepts.
    #[error("nesting is deeper than {limit} levels")]
    #[diagnostic(
        code(E0008),
        help("split the logic with labels and `goto`, or simplify the criteria")
    )]
    TooDeep {
        /// The deepest level allowed.
        limit: usize,
        /// Where the limit is crossed.
        #[label(primary, "level {limit} is crossed here")]
        span: Span,
    },
}
