//! Every bundled example checks clean: no error and no warning.

use std::path::PathBuf;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "flow"))
        .collect();
    files.sort();
    files
}

#[test]
fn at_least_six_examples() {
    assert!(examples().len() >= 6, "found {:?}", examples());
}

#[test]
fn every_example_checks_clean() {
    for path in examples() {
        let source = std::fs::read_to_string(&path).expect("example is readable");
        let diagnostics = flowc::check::check_source(&source, path.parent());
        let report =
            flowc::diagnostic::render_human(&path.display().to_string(), &source, &diagnostics);
        assert!(
            diagnostics.is_empty(),
            "{} is not clean:\n{report}",
            path.display()
        );
    }
}

#[test]
fn every_example_starts_with_a_comment_header() {
    for path in examples() {
        let source = std::fs::read_to_string(&path).expect("example is readable");
        assert!(
            source.starts_with("# "),
            "{} needs a comment header saying what it does",
            path.display()
        );
    }
}

#[test]
fn readme_lists_every_diagnostic_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for (code, _) in flowc::diagnostic::EXPLANATIONS {
        assert!(
            readme.contains(&format!("| [{code}](docs/errors/{code}.md) |")),
            "README's table lacks {code}"
        );
    }
}

#[test]
fn readme_example_is_the_bundled_one_and_checks_clean() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/inbound-demo-follow-up.flow"
    ))
    .expect("example");
    assert!(
        readme.contains(&example),
        "README's tour must show examples/inbound-demo-follow-up.flow verbatim"
    );
}
