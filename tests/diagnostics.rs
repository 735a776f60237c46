//! Every invalid file in `tests/cases/` produces the diagnostic its name
//! starts with; the report and the JSON are snapshot-tested.

use std::collections::BTreeSet;
use std::path::Path;

use flowc::check::check_source;
use flowc::diagnostic::{render_human, render_json, EXPLANATIONS};

/// The code a fixture must produce: the start of its file name.
fn expected_code(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    name.split('-').next().unwrap_or_default().to_owned()
}

#[test]
fn every_case_reports_its_code() {
    insta::glob!("cases/*.flow", |path| {
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let diagnostics = check_source(&source, path.parent());
        let code = expected_code(path);
        let codes: Vec<String> = diagnostics.iter().map(|d| d.code()).collect();
        assert!(
            codes.contains(&code),
            "{name}: expected {code}, got {codes:?}"
        );
        let report = render_human(name, &source, &diagnostics);
        insta::assert_snapshot!(
            "report",
            format!("{source}\n----- what flowc check prints -----\n{report}")
        );
        let json: Vec<_> = diagnostics
            .iter()
            .map(|d| render_json(name, &source, d))
            .collect();
        insta::assert_json_snapshot!("json", json);
    });
}

#[test]
fn every_explained_code_has_a_case_and_every_case_is_explained() {
    let explained: BTreeSet<String> = EXPLANATIONS
        .iter()
        .map(|(code, _)| (*code).to_owned())
        .collect();
    let cases: BTreeSet<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases"))
            .expect("tests/cases exists")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension()? == "flow").then(|| expected_code(&path))
            })
            .collect();
    let unexplained: Vec<_> = cases.difference(&explained).collect();
    let untested: Vec<_> = explained.difference(&cases).collect();
    assert!(
        unexplained.is_empty(),
        "codes with a case but no docs/errors file: {unexplained:?}"
    );
    assert!(
        untested.is_empty(),
        "codes with docs but no case in tests/cases: {untested:?}"
    );
}

#[test]
fn every_reported_code_is_explained() {
    insta::glob!("cases/*.flow", |path| {
        let source = std::fs::read_to_string(path).expect("fixture is readable");
        for diagnostic in check_source(&source, path.parent()) {
            let code = diagnostic.code();
            assert!(
                flowc::diagnostic::explanation(&code).is_some(),
                "{code} has no explanation"
            );
        }
    });
}

#[test]
fn explanations_start_with_their_code() {
    for (code, text) in EXPLANATIONS {
        assert!(
            text.starts_with(&format!("# {code}: ")),
            "{code}.md must start with `# {code}: title`"
        );
        assert!(text.contains("```flow"), "{code}.md must show an example");
    }
}
