//! Editor support that needs no editor: the VS Code extension's manifest
//! and snippets, and that every keyword of the language (read from
//! grammar/flow.pest) is known to the TextMate, Vim and tree-sitter
//! grammars. `scripts/test-editors` runs the grammars' own test suites.

use std::path::Path;

use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Every keyword of the language: the `kw_*` rules of the pest grammar.
fn keywords() -> Vec<String> {
    read("grammar/flow.pest")
        .lines()
        .filter(|line| line.starts_with("kw_"))
        .filter_map(|line| line.split('"').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn every_keyword_is_highlighted_by_every_grammar() {
    let keywords = keywords();
    assert!(keywords.len() > 90, "{} keywords", keywords.len());
    let textmate = read("editors/vscode/syntaxes/flow.tmLanguage.json");
    let vim = read("editors/vim/syntax/flow.vim");
    let tree_sitter = read("editors/tree-sitter/grammar.js");
    for keyword in &keywords {
        assert!(
            textmate.contains(keyword.as_str()),
            "TextMate lacks {keyword}"
        );
        assert!(vim.contains(keyword.as_str()), "Vim lacks {keyword}");
        assert!(
            tree_sitter.contains(keyword.as_str()),
            "tree-sitter lacks {keyword}"
        );
    }
}

#[test]
fn the_extension_manifest_points_at_real_files() {
    let manifest: Value = serde_json::from_str(&read("editors/vscode/package.json")).expect("JSON");
    let contributes = &manifest["contributes"];
    assert_eq!(contributes["languages"][0]["extensions"][0], ".flow");
    for path in [
        &contributes["languages"][0]["configuration"],
        &contributes["grammars"][0]["path"],
        &contributes["snippets"][0]["path"],
        &manifest["main"],
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
