//! How deeply a parsed file nests, so no later stage recurses too deep.
//!
//! pest probes the stack on every rule and fails cleanly when it runs low;
//! once it has parsed a file, this counts the user-visible nesting (blocks,
//! parentheses, `not`, templates inside template defaults) from its token
//! stream, iteratively, and refuses files deeper than [`MAX_NESTING`] before
//! the tree builder and the checker, which recurse, ever see them.

use pest::iterators::Pairs;
use pest::Token;

use super::{Rule, SyntaxError};
use crate::span::Span;

/// The deepest nesting of blocks, parentheses, `not` and templates.
pub const MAX_NESTING: usize = 64;

/// An error at the first place the parsed `pairs` nest deeper than [`MAX_NESTING`].
pub(super) fn too_deep(pairs: Pairs<'_, Rule>) -> Option<SyntaxError> {
    let mut depth = 0;
    for token in pairs.tokens() {
        match token {
            Token::Start { rule, pos } if nests(rule) => {
                depth += 1;
                if depth > MAX_NESTING {
                    let at = pos.pos();
                    return Some(SyntaxError::TooDeep {
                        limit: MAX_NESTING,
                        span: Span::new(at, at),
                    });
                }
            }
            Token::End { rule, .. } if nests(rule) => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The error for pest running out of stack (or calls) at byte `at`.
pub(super) fn limit_reached(source: &str, at: usize) -> SyntaxError {
    let at = at.min(source.len());
    SyntaxError::TooDeep {
        limit: MAX_NESTING,
        span: Span::new(at, at),
    }
}

/// Rules that open a level of nesting.
fn nests(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::condition
            | Rule::split
            | Rule::outcome_block
            | Rule::failure_block
            | Rule::group
            | Rule::negation
            | Rule::template
    )
}
