//! Editor support that needs no editor: the VS Code extension's manifest
//! and snippets, and that every keyword of the language (read from
//! grammar/flow.pest) is known to the TextMate, Vim and tree-sitter
//! grammars. `scripts/test-editors` runs the grammars' own test suites.

use std::path::Path;

use serde_json::Value;

/// The file every grammar is tested on, and the table of its tokens as
/// flowc reads them: `LINE COLUMN END CLASS TEXT` per token (zero-based
/// lines, byte columns; a token over several lines is cut at each line
/// end). `scripts/test-editors` tokenizes the file with each grammar and
/// checks every token's scope against its class.
const CONSTRUCTS: &str = "editors/tests/every-construct.flow";
const TOKEN_TABLE: &str = "editors/tests/every-construct.tokens";

fn token_table(source: &str) -> String {
    use flowc::syntax::tokens::{tokens, TokenKind};
    let mut table = String::new();
    let index = flowc::span::LineIndex::new(source);
    for token in tokens(source) {
        let class = match token.kind {
            TokenKind::Keyword => "keyword",
            TokenKind::Name { .. } => "name",
            TokenKind::Text => "text",
            TokenKind::Number => "number",
            TokenKind::Operator => "operator",
            TokenKind::Filter => "filter",
            TokenKind::Comment => "comment",
        };
        let mut start = token.span.start as usize;
        let end = token.span.end as usize;
        while start < end {
            let stop = source[start..end].find('\n').map_or(end, |at| start + at);
            let line = index.line_of(start);
            let line_start = index.line_start(line).unwrap_or(0);
            let text = &source[start..stop];
            // Leading spaces of a body line are not part of what is shown.
            let trimmed = text.trim_start();
            let first = start + (text.len() - trimmed.len());
            if !trimmed.is_empty() {
                table.push_str(&format!(
                    "{line} {} {} {class} {trimmed}\n",
                    first - line_start,
                    stop - line_start
                ));
            }
            start = stop + 1;
        }
    }
    table
}

/// The token table is flowc's reading of the file as it is now; set
/// `FLOWC_UPDATE_TOKENS=1` to write it after changing either.
#[test]
fn the_token_table_is_current() {
    let source = read(CONSTRUCTS);
    let parsed = flowc::syntax::parse(&source);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let table = token_table(&source);
    assert!(
        table.lines().count() > 400,
        "{} tokens",
        table.lines().count()
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TOKEN_TABLE);
    if std::env::var_os("FLOWC_UPDATE_TOKENS").is_some() {
        std::fs::write(&path, &table).expect("written");
    }
    assert_eq!(
        read(TOKEN_TABLE),
        table,
        "run with FLOWC_UPDATE_TOKENS=1 and review the diff"
    );
}

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Every keyword of the language: the words of the `kw_*` rules of the
/// pest grammar.
fn keywords() -> Vec<String> {
    read("grammar/flow.pest")
        .lines()
        .filter(|line| line.starts_with("kw_"))
        .filter_map(|line| line.split('~').next())
        .flat_map(|head| {
            head.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The scope tests (scripts/test-editors: TextMate, tree-sitter, Vim)
/// check every token of every-construct.flow; this makes sure every
/// keyword of the grammar is among them, read as a keyword.
#[test]
fn every_keyword_is_in_the_file_every_grammar_is_tested_on() {
    let keywords = keywords();
    assert!(keywords.len() > 100, "{} keywords", keywords.len());
    let table = read(TOKEN_TABLE);
    let read_as_keywords: std::collections::HashSet<&str> = table
        .lines()
        .filter_map(|row| {
            let mut columns = row.splitn(5, ' ');
            let class = columns.nth(3)?;
            (class == "keyword").then(|| columns.next()).flatten()
        })
        .collect();
    let missing: Vec<&String> = keywords
        .iter()
        .filter(|keyword| !read_as_keywords.contains(keyword.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in {CONSTRUCTS}: {missing:?}");
}

#[test]
fn the_extension_manifest_points_at_real_files() {
    let manifest: Value = serde_json::from_str(&read("editors/vscode/package.json")).expect("JSON");
    let contributes = &manifest["contributes"];
    assert_eq!(contributes["languages"][0]["extensions"][0], ".flow");
    // `main` is the bundle `vscode:prepublish` builds from extension.js
    // (scripts/test-editors packages the extension and checks it).
    assert_eq!(manifest["main"], "./dist/extension.js");
    let prepublish = manifest["scripts"]["vscode:prepublish"]
        .as_str()
        .expect("a build");
    assert!(prepublish.contains("esbuild extension.js --bundle --outfile=dist/extension.js"));
    assert!(manifest["repository"]["url"].is_string());
    read("editors/vscode/LICENSE");
    assert!(read("editors/vscode/.vscodeignore").contains("node_modules/**"));
    for path in [
        &contributes["languages"][0]["configuration"],
        &contributes["grammars"][0]["path"],
        &contributes["snippets"][0]["path"],
    ] {
        let path = path.as_str().expect("a path").trim_start_matches("./");
        let text = read(&format!("editors/vscode/{path}"));
        if path.ends_with(".json") {
            serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    assert!(read("editors/vscode/extension.js").contains("args: [\"lsp\"]"));
    let configuration: Value =
        serde_json::from_str(&read("editors/vscode/language-configuration.json")).expect("JSON");
    assert_eq!(configuration["comments"]["lineComment"], "#");
}

/// Every step has a snippet. What each inserts is checked by
/// `scripts/test-editors`: expanded by VS Code's own snippet parser
/// (`editors/vscode/tests/snippets.mjs`), then `flowc check`ed.
#[test]
fn every_step_has_a_snippet() {
    let snippets: Value =
        serde_json::from_str(&read("editors/vscode/snippets/flow.json")).expect("JSON");
    let snippets = snippets.as_object().expect("an object");
    for step in [
        "send email",
        "send text",
        "call phone",
        "notify slack",
        "notify teams",
        "http",
        "prompt",
        "wait",
        "wait until",
        "condition",
        "goto",
        "label",
        "exit",
    ] {
        assert!(snippets.contains_key(step), "no snippet for {step}");
    }
}
