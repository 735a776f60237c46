//! Semantic checks over the syntax tree, collecting every diagnostic.
//!
//! Each pass is a module: [`structure`] (sections, names, options),
//! [`criteria`] (fields, types and templates), [`time`] (timezones,
//! durations, clock times, windows), [`content`] (bodies and files),
//! [`flow`] (the step graph: reachability, loops, data flow, warnings) and,
//! given a `flowc.toml`, [`providers`] (what each step needs configured).

mod content;
mod criteria;
mod error;
mod flow;
mod provider_error;
mod providers;
mod recovery;
mod scope;
mod structure;
pub use structure::allowed_options;
mod template_file_error;
mod template_files;
mod templates;
mod time;

use std::path::Path;
use std::rc::Rc;

pub use error::CheckError;
pub use provider_error::ProviderError;
pub use scope::{FieldInfo, FieldOrigin, Scope};
pub use template_file_error::TemplateFileError;
pub use template_files::{TemplateFiles, MAX_TEMPLATE_FILE};

use crate::ast::{SourceFile, Step, Workflow};
use crate::config::Config;
use crate::diagnostic::{self, Diagnostic};

/// What a source is checked against besides the language itself.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The `flowc.toml` every provider a step names must be in.
    pub config: &'a Config,
    /// Whether this process's environment is the one live runs will have
    /// (`flowc check --config`): then every `env.NAME` must be set (W0005).
    pub environment: bool,
}

impl<'a> Target<'a> {
    /// Checking against `config` only.
    pub fn config(config: &'a Config) -> Self {
        Target {
            config,
            environment: false,
        }
    }
}

/// Every diagnostic of a `.flow` source, sorted: its syntax errors, and the
/// semantic checks of what parsed (with syntax errors, only those no line
/// left out can explain). `dir` resolves `body file` paths; with a
/// `target`, every provider a step names is checked against it.
pub fn check_source(
    source: &str,
    dir: Option<&Path>,
    target: Option<Target<'_>>,
) -> Vec<Diagnostic> {
    let parsed = crate::syntax::parse(source);
    let semantic = check(&parsed.file, source, dir, target);
    with_syntax_errors(&parsed.file, parsed.diagnostics, semantic, source)
}

/// The diagnostics of checking a source already parsed (the language
/// server keeps the parse for its other answers) that its syntax errors do
/// not explain; the syntax errors themselves are `parsed.diagnostics`.
pub fn check_parsed(
    parsed: &crate::syntax::Parsed,
    source: &str,
    dir: Option<&Path>,
    target: Option<Target<'_>>,
) -> Vec<Diagnostic> {
    let semantic = check(&parsed.file, source, dir, target);
    unexplained(semantic, &parsed.diagnostics, &parsed.file, source)
}

/// The `semantic` diagnostics that the `syntax` errors (and the lines they
/// left out of `file`) do not explain.
fn unexplained(
    semantic: Vec<Diagnostic>,
    syntax: &[Diagnostic],
    file: &SourceFile,
    source: &str,
) -> Vec<Diagnostic> {
    if syntax.is_empty() {
        return semantic;
    }
    recovery::independent(semantic, syntax, file, source)
}

/// `semantic` after the syntax errors of `parsed`, keeping only what the
/// lines they left out cannot explain, sorted.
fn with_syntax_errors(
    file: &SourceFile,
    syntax: Vec<Diagnostic>,
    semantic: Vec<Diagnostic>,
    source: &str,
) -> Vec<Diagnostic> {
    let independent = unexplained(semantic, &syntax, file, source);
    if syntax.is_empty() {
        return independent;
    }
    let mut diagnostics = syntax;
    diagnostics.extend(independent);
    diagnostic::sort(&mut diagnostics);
    diagnostics
}

/// What checking proved about a source free of errors: its tree and the
/// template files its steps read, for the stages after checking. Only
/// [`checked`] makes one, so every body file it names has been read.
#[derive(Debug)]
pub struct Checked {
    file: SourceFile,
    templates: TemplateFiles,
}

impl Checked {
    /// The syntax tree.
    pub fn file(&self) -> &SourceFile {
        &self.file
    }

    /// Every `body file`, read and parsed.
    pub fn templates(&self) -> &TemplateFiles {
        &self.templates
    }
}

/// The checked form of a source with no errors (warnings allowed), or
/// every diagnostic when it has errors.
pub fn checked(source: &str, dir: Option<&Path>) -> Result<Checked, Vec<Diagnostic>> {
    let parsed = crate::syntax::parse(source);
    let (diagnostics, templates) = check_all(&parsed.file, source, dir, None);
    if !parsed.diagnostics.is_empty() {
        return Err(with_syntax_errors(
            &parsed.file,
            parsed.diagnostics,
            diagnostics,
            source,
        ));
    }
    if diagnostics
        .iter()
        .any(|diagnostic| diagnostic.severity() == crate::diagnostic::Severity::Error)
    {
        return Err(diagnostics);
    }
    Ok(Checked {
        file: parsed.file,
        templates,
    })
}

/// The semantic diagnostics of a parsed file, sorted by position.
pub fn check(
    file: &SourceFile,
    source: &str,
    dir: Option<&Path>,
    target: Option<Target<'_>>,
) -> Vec<Diagnostic> {
    check_all(file, source, dir, target).0
}

/// The semantic diagnostics of a parsed file, sorted, and the template
/// files its workflows read.
fn check_all(
    file: &SourceFile,
    source: &str,
    dir: Option<&Path>,
    target: Option<Target<'_>>,
) -> (Vec<Diagnostic>, TemplateFiles) {
    let mut diagnostics = Vec::new();
    let mut templates = TemplateFiles::default();
    structure::workflow_names(file, &mut diagnostics);
    for workflow in &file.workflows {
        let mut checker = Checker::new(workflow, source, dir, templates);
        checker.run();
        if let Some(target) = target {
            checker.providers(target);
        }
        diagnostics.append(&mut checker.diagnostics);
        templates = checker.templates;
    }
    diagnostic::sort(&mut diagnostics);
    (diagnostics, templates)
}

/// The state of checking one workflow.
pub(crate) struct Checker<'a> {
    workflow: &'a Workflow,
    source: &'a str,
    scope: Scope<'a>,
    /// Every step, nested ones included, in source order: flattened once.
    all_steps: Rc<[&'a Step]>,
    extracted_uses: Vec<criteria::ExtractedUse<'a>>,
    /// The event whose payload `event.FIELD` reads in each step inside an
    /// `on event` block (the innermost such block's).
    heard: rustc_hash::FxHashMap<*const Step, &'a str>,
    dir: Option<&'a Path>,
    /// Template files read so far, by the path written.
    templates: TemplateFiles,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    fn new(
        workflow: &'a Workflow,
        source: &'a str,
        dir: Option<&'a Path>,
        templates: TemplateFiles,
    ) -> Self {
        let mut diagnostics = Vec::new();
        let top_level = workflow.step_list();
        let all_steps: Rc<[&'a Step]> = all_steps(top_level).into();
        let scope = Scope::build(workflow, &all_steps, &mut diagnostics);
        let mut heard = rustc_hash::FxHashMap::default();
        heard_in(top_level, None, &mut heard);
        Checker {
            workflow,
            source,
            scope,
            all_steps,
            extracted_uses: Vec::new(),
            heard,
            dir,
            templates,
            diagnostics,
        }
    }

    fn run(&mut self) {
        self.structure();
        self.time();
        self.criteria();
        self.content();
        self.flow();
    }

    fn report(&mut self, error: impl Into<Diagnostic>) {
        self.diagnostics.push(error.into());
    }

    /// The source text at `span`.
    fn source_text(&self, span: crate::span::Span) -> &'a str {
        self.source.get(span.range()).unwrap_or_default()
    }

    /// The workflow's steps (from its first `steps` section).
    fn steps(&self) -> &'a [Step] {
        self.workflow.step_list()
    }
}

/// For each step of `steps` (nested ones included) inside an `on event`
/// block, the event it heard; `event` is the one heard around `steps`.
fn heard_in<'a>(
    steps: &'a [Step],
    event: Option<&'a str>,
    heard: &mut rustc_hash::FxHashMap<*const Step, &'a str>,
) {
    for step in steps {
        if let Some(event) = event {
            heard.insert(step, event);
        }
        for block in step.blocks() {
            heard_in(block.steps, block.heard.or(event), heard);
        }
    }
}

/// Every step of a list, nested ones included, in source order.
pub fn all_steps(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    collect_steps(steps, &mut out);
    out
}

fn collect_steps<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
    for step in steps {
        out.push(step);
        for block in crate::graph::inner_blocks(step) {
            collect_steps(block, out);
        }
    }
}
