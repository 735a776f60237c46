//! The folding ranges a document's outline gives (the outline itself is
//! read off the parse, in [`crate::syntax::outline`]).

use crate::syntax::outline::Symbol;

/// Lines that fold: every outline entry over more than one line, and every
/// `"""` body; as (first line, last line), zero-based.
pub fn folds(symbols: &[Symbol], text: &str) -> Vec<(usize, usize)> {
    let index = crate::span::LineIndex::new(text);
    let mut folds = Vec::new();
    let mut stack: Vec<&Symbol> = symbols.iter().collect();
    while let Some(symbol) = stack.pop() {
        let first = index.line_of(symbol.span.start as usize);
        let last = index.line_of(symbol.span.end as usize);
        if last > first {
            folds.push((first, last));
        }
        stack.extend(&symbol.children);
    }
    let mut quotes = text.match_indices("\"\"\"").map(|(at, _)| at);
    while let (Some(open), Some(close)) = (quotes.next(), quotes.next()) {
        let (first, last) = (index.line_of(open), index.line_of(close));
        if last > first {
            folds.push((first, last));
        }
    }
    folds.sort_unstable();
    folds.dedup();
    folds
}
