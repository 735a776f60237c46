//! What a keyword means, for hover: the server's own sentence when it has
//! one, and the rows of the README's tables (settings, tests, windows,
//! steps...) that show the keyword in use.

use std::sync::OnceLock;

use super::analysis::KEYWORDS;

/// The README, built in: its tables are the language reference.
const README: &str = include_str!("../../README.md");

/// One row of a README table: the code it shows, and what it says.
struct Row {
    /// The first cell: how the construct is written.
    written: String,
    /// The other cells, joined.
    meaning: String,
}

/// Every row of every README table whose first cell holds code.
fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        README
            .lines()
            .filter(|line| line.starts_with("| `"))
            .filter_map(|line| {
                let cells: Vec<&str> = split_cells(line);
                let (written, rest) = cells.split_first()?;
                let meaning = rest
                    .iter()
                    .map(|cell| cell.trim())
                    .filter(|cell| !cell.is_empty());
                Some(Row {
                    written: written.trim().to_owned(),
                    meaning: meaning.collect::<Vec<_>>().join(" — "),
                })
            })
            .collect()
    })
}

/// The cells of a table row, `\|` kept inside its cell.
fn split_cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut start = 0;
    let bytes = inner.as_bytes();
    for at in 0..bytes.len() {
        if bytes[at] == b'|' && (at == 0 || bytes[at - 1] != b'\\') {
            cells.push(&inner[start..at]);
            start = at + 1;
        }
    }
    cells.push(&inner[start..]);
    cells
}

/// Whether `word` stands as a whole word in the code spans of `cell`.
fn shows(cell: &str, word: &str) -> bool {
    cell.split('`').skip(1).step_by(2).any(|code| {
        code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .any(|part| part == word)
    })
}

/// Markdown for the keyword `word`; `phrase` is the keyword with the one
/// before it on its line (`send email`), which is preferred when known.
pub fn keyword(word: &str, phrase: Option<&str>) -> Option<String> {
    let own = [phrase, Some(word)]
        .into_iter()
        .flatten()
        .find_map(|key| KEYWORDS.iter().find(|(keyword, _)| *keyword == key));
    let mut out = match own {
        Some((keyword, doc)) => format!("**{keyword}**: {doc}"),
        None => format!("**{word}**"),
    };
    let matching: Vec<&Row> = rows()
        .iter()
        .filter(|row| phrase.is_some_and(|phrase| row.written.contains(phrase)))
        .chain(rows().iter().filter(|row| shows(&row.written, word)))
        .collect();
    let mut shown = Vec::new();
    for row in matching {
        if shown.len() == 3 || shown.iter().any(|seen: &&Row| seen.written == row.written) {
            continue;
        }
        shown.push(row);
    }
    if own.is_none() && shown.is_empty() {
        return None;
    }
    for row in shown {
        out.push_str(&format!(
            "\n\n{} — {}",
            row.written.replace("\\|", "|"),
            row.meaning.replace("\\|", "|")
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword of the grammar (its `kw_*` rules) has documentation.
    #[test]
    fn every_keyword_is_documented() {
        let grammar = include_str!("../../grammar/flow.pest");
        let keywords: Vec<&str> = grammar
            .lines()
            .filter(|line| line.starts_with("kw_"))
            .filter_map(|line| line.split('~').next())
            .flat_map(|line| line.split('"').skip(1).step_by(2))
            .collect();
        assert!(keywords.len() > 100, "{}", keywords.len());
        let missing: Vec<&&str> = keywords
            .iter()
            .filter(|word| keyword(word, None).is_none())
            .collect();
        assert!(missing.is_empty(), "no documentation for {missing:?}");
    }

    #[test]
    fn a_phrase_finds_its_row() {
        let doc = keyword("email", Some("send email")).expect("documented");
        assert!(doc.starts_with("**send email**: sends an email"), "{doc}");
        assert!(doc.contains("`to lead`"), "{doc}");
        let doc = keyword("within", None).expect("documented");
        assert!(doc.contains("`is within last`"), "{doc}");
    }
}
