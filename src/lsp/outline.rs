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

#[cfg(test)]
mod tests {
    use super::*;

    /// The outline as text: each entry's name, detail, kind, lines
    /// (from 1) and selected columns, nested by indentation.
    fn render(symbols: &[Symbol], text: &str, depth: usize, out: &mut String) {
        let index = crate::span::LineIndex::new(text);
        for symbol in symbols {
            let (first, _) = index.line_column(symbol.span.start as usize);
            let (last, _) = index.line_column(symbol.span.end as usize);
            let (line, from) = index.line_column(symbol.name_span.start as usize);
            let (_, to) = index.line_column(symbol.name_span.end as usize);
            let detail = symbol.detail.as_deref().unwrap_or("-");
            out.push_str(&format!(
                "{:indent$}{} [{detail}] {:?} lines {first}-{last}, name {line}:{from}-{to}\n",
                "",
                symbol.name,
                symbol.kind,
                indent = depth * 2
            ));
            render(&symbol.children, text, depth + 1, out);
        }
    }

    /// The outline of every example and of the file that holds every
    /// construct of the language.
    #[test]
    fn outlines_of_the_examples() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<_> = std::fs::read_dir(root.join("examples"))
            .expect("examples")
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "flow"))
            .collect();
        paths.sort();
        paths.push(root.join("editors/tests/every-construct.flow"));
        let mut out = String::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("readable");
            let name = path.strip_prefix(root).unwrap_or(&path);
            out.push_str(&format!("== {}\n", name.display()));
            render(&crate::syntax::skim(&text).outline, &text, 0, &mut out);
        }
        insta::assert_snapshot!(out);
    }
}
