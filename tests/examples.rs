//! Every bundled example checks clean: no error and no warning, also
//! against `examples/flowc.toml`, the providers `examples/run-live` uses.

mod common;

use common::examples;

#[test]
fn at_least_six_examples() {
    assert!(examples().len() >= 6, "found {:?}", examples());
}

#[test]
fn every_example_checks_clean() {
    let config = flowc::config::Config::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flowc.toml"),
    )
    .expect("examples/flowc.toml is valid");
    for path in examples() {
        let source = std::fs::read_to_string(&path).expect("example is readable");
        let diagnostics = flowc::check::check_source(
            &source,
            path.parent(),
            Some(flowc::check::Target::config(&config)),
        );
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

/// Everything the examples use, by name, so a missing feature is listed.
fn features_used() -> std::collections::BTreeSet<String> {
    use flowc::ast::*;
    fn steps(list: &[Step], out: &mut std::collections::BTreeSet<String>) {
        for step in list {
            if step.label.is_some() {
                out.insert("label".into());
            }
            match &step.kind {
                StepKind::Effect(effect) => {
                    out.insert(format!("step {}", effect.action.describe()));
                    match &effect.action {
                        Action::Http { method, .. } => {
                            out.insert(format!("http {:?}", method.node));
                        }
                        Action::Notify { service, .. } => {
                            out.insert(format!("notify {:?}", service.node));
                        }
                        _ => {}
                    }
                    for option in &effect.options {
                        out.insert(format!("option {}", option.kind.keyword()));
                        match &option.kind {
                            OptionKind::To(to) => {
                                let who: Vec<_> =
                                    to.iter().map(|r| format!("{:?}", r.node)).collect();
                                out.insert(format!("to {}", who.join(" and ")));
                            }
                            OptionKind::Body(Body::File(_)) => {
                                out.insert("body file".into());
                            }
                            OptionKind::Tools(tools) => {
                                out.extend(tools.iter().map(|t| format!("tool {:?}", t.node)))
                            }
                            OptionKind::From(sender) => {
                                out.insert(format!(
                                    "from {}",
                                    if matches!(sender, Sender::Phone(_)) {
                                        "phone"
                                    } else {
                                        "identity"
                                    }
                                ));
                            }
                            _ => {}
                        }
                    }
                    for branch in &effect.outcomes {
                        out.insert(format!("on {}", branch.outcome.node.keyword()));
                    }
                }
                StepKind::Wait(duration) => {
                    out.insert(format!("wait {:?}", duration.unit));
                }
                StepKind::WaitUntil(wait) => {
                    out.insert("wait until".into());
                    if wait.days.is_some() {
                        out.insert("wait until days".into());
                    }
                    if wait.zone == Some(WindowZone::Lead) {
                        out.insert("wait until in lead timezone".into());
                    }
                }
                StepKind::WaitBusinessDays(_) => {
                    out.insert("wait business days".into());
                }
                StepKind::WaitForEvent(wait) => {
                    out.insert("wait for".into());
                    for branch in &wait.branches {
                        out.insert(format!("on {}", branch.case.node.keyword()));
                    }
                }
                StepKind::WaitUntilField(wait) => {
                    out.insert("wait until field".into());
                    for branch in &wait.branches {
                        out.insert(format!("if {}", branch.case.node.keyword()));
                    }
                }
                StepKind::Condition(condition) => {
                    out.insert("condition".into());
                    for arm in &condition.arms {
                        match &arm.test {
                            ArmTest::Else => {
                                out.insert("else".into());
                            }
                            ArmTest::When { criteria, .. } => tests(criteria, out),
                        }
                    }
                }
                StepKind::Split(_) => {
                    out.insert("split".into());
                }
                StepKind::Goto(goto) => {
                    out.insert("goto".into());
                    if goto.limit.is_some() {
                        out.insert("goto up to".into());
                    }
                }
                StepKind::Exit(reason) => {
                    out.insert(
                        if reason.is_some() {
                            "exit with reason"
                        } else {
                            "exit"
                        }
                        .into(),
                    );
                }
            }
            for block in step.blocks() {
                steps(block.steps, out);
            }
        }
    }
    /// The kinds of test criteria use.
    fn tests(expr: &Expr, out: &mut std::collections::BTreeSet<String>) {
        match expr {
            Expr::WindowOpen { .. } => {
                out.insert("window test".into());
            }
            Expr::Not(inner, _) => tests(inner, out),
            Expr::Logic { operands, .. } => operands.iter().for_each(|e| tests(e, out)),
            Expr::Compare(comparison) => {
                let kind = match &comparison.test {
                    Test::WithinNext(_) => "test within next",
                    Test::Between(..) => "test between",
                    Test::Before(_) | Test::After(_) => "test before or after",
                    Test::Items(..) => "test items",
                    _ => "test",
                };
                out.insert(kind.into());
                if comparison.test.fields().next().is_some() {
                    out.insert("test against a field".into());
                }
            }
        }
    }
    let mut used = std::collections::BTreeSet::new();
    for path in examples() {
        let source = std::fs::read_to_string(&path).expect("example is readable");
        for workflow in flowc::syntax::parse(&source).file.workflows {
            for section in &workflow.steps {
                steps(&section.steps, &mut used);
            }
            for setting in &workflow.settings {
                used.insert(match &setting.kind {
                    SettingKind::Timezone(_) => "timezone".into(),
                    SettingKind::ReEntry(policy) => format!("re-entry {policy:?}")
                        .split('(')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    SettingKind::LookBack(_) => "look back".into(),
                    SettingKind::SendFailure(policy) => {
                        format!("on send failure {}", policy.keyword())
                    }
                    SettingKind::Holidays(_) => "holidays".into(),
                });
            }
            for window in &workflow.windows {
                used.insert(format!("window {:?}", window.zone));
                if window.skip_holidays {
                    used.insert("skip holidays".into());
                }
            }
            for trigger in &workflow.triggers {
                if let Some(criteria) = trigger.kind.criteria() {
                    tests(criteria, &mut used);
                }
                used.insert(match trigger.kind {
                    Watch::Criteria(_) => "trigger when".into(),
                    Watch::Event { .. } => "trigger on".into(),
                });
            }
            if !workflow.goals.is_empty() {
                used.insert("goal".into());
            }
        }
    }
    used
}

#[test]
fn examples_cover_every_step_type_and_option() {
    let used = features_used();
    let expected = [
        "step send email",
        "step send text",
        "step call phone",
        "step notify",
        "step http",
        "step prompt",
        "http Get",
        "http Post",
        "http Put",
        "notify Slack",
        "notify Teams",
        "option to",
        "option cc",
        "option bcc",
        "option from",
        "option subject",
        "option body",
        "option agent",
        "option message",
        "option header",
        "option timeout",
        "option instructions",
        "option tools",
        "option extract",
        "option outside window",
        "to Lead",
        "to Rep",
        "to Lead and Rep",
        "body file",
        "tool WebSearch",
        "tool FetchUrl",
        "from phone",
        "from identity",
        "on answered",
        "on voicemail",
        "on no answer",
        "on failed",
        "on error",
        "wait Minute",
        "wait Hour",
        "wait Day",
        "wait Week",
        "wait until",
        "wait until days",
        "wait until in lead timezone",
        "wait until field",
        "wait for",
        "wait business days",
        "holidays",
        "skip holidays",
        "on event",
        "if past",
        "condition",
        "else",
        "split",
        "goto",
        "goto up to",
        "label",
        "exit",
        "exit with reason",
        "timezone",
        "re-entry Never",
        "re-entry Always",
        "re-entry After",
        "look back",
        "on send failure fail",
        "window Account",
        "window Lead",
        "trigger when",
        "trigger on",
        "goal",
        "window test",
        "test within next",
        "test between",
        "test before or after",
        "test items",
        "test against a field",
    ];
    let missing: Vec<_> = expected
        .iter()
        .filter(|feature| !used.contains(**feature))
        .collect();
    assert!(missing.is_empty(), "no example uses: {missing:?}");
}
