//! Every invalid file in `tests/cases/` produces the diagnostic its name
//! starts with; the report and the JSON are snapshot-tested.

use std::collections::BTreeSet;
use std::path::Path;

use flowc::check::check_source;
use flowc::config::Config;
use flowc::diagnostic::{render_human, render_json, Diagnostic, Source, EXPLANATIONS};

/// The code a fixture must produce: the start of its file name.
fn expected_code(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    name.split('-').next().unwrap_or_default().to_owned()
}

/// A file that diagnostics point into: its name, text and diagnostics.
struct Checked {
    name: String,
    text: String,
    diagnostics: Vec<Diagnostic>,
}

/// Checks a case. A case `NAME.flow` with a `NAME.toml` beside it is
/// checked against that configuration; when the configuration itself is
/// invalid, its diagnostic comes first, pointing into the `.toml`.
fn check_case(path: &Path) -> Vec<Checked> {
    let file_name = |path: &Path| path.file_name().unwrap().to_string_lossy().into_owned();
    let source = std::fs::read_to_string(path).expect("fixture is readable");
    let config_path = path.with_extension("toml");
    let mut checked = Vec::new();
    let config =
        std::fs::read_to_string(&config_path)
            .ok()
            .and_then(|text| match Config::parse(&text) {
                Ok(config) => Some(config),
                Err(error) => {
                    checked.push(Checked {
                        name: file_name(&config_path),
                        text,
                        diagnostics: vec![error.into()],
                    });
                    None
                }
            });
    let diagnostics = check_source(
        &source,
        path.parent(),
        config.as_ref().map(|config| flowc::check::Target {
            config,
            environment: true,
        }),
    );
    checked.push(Checked {
        name: file_name(path),
        text: source,
        diagnostics,
    });
    checked
}

#[test]
fn every_case_reports_its_code() {
    insta::glob!("cases/*.flow", |path| {
        let checked = check_case(path);
        let code = expected_code(path);
        let codes: Vec<String> = checked
            .iter()
            .flat_map(|file| file.diagnostics.iter().map(|d| d.code()))
            .collect();
        assert!(
            codes.contains(&code),
            "{}: expected {code}, got {codes:?}",
            path.display()
        );
        let case = checked.last().expect("the case itself is checked");
        let config_path = path.with_extension("toml");
        let mut shown = match std::fs::read_to_string(&config_path) {
            Ok(config) => format!(
                "----- {} -----\n{config}\n----- {} -----\n",
                config_path.file_name().unwrap().to_string_lossy(),
                case.name
            ),
            Err(_) => String::new(),
        };
        shown.push_str(&format!(
            "{}\n----- what flowc check prints -----\n",
            case.text
        ));
        let mut json = Vec::new();
        for file in &checked {
            shown.push_str(&render_human(&file.name, &file.text, &file.diagnostics));
            json.extend(
                file.diagnostics
                    .iter()
                    .map(|d| render_json(&Source::new(&file.name, &file.text), d)),
            );
        }
        insta::assert_snapshot!("report", shown);
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
        for diagnostic in check_case(path).iter().flat_map(|file| &file.diagnostics) {
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
