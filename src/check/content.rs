//! Step content: JSON bodies, text lengths and template files.

use std::rc::Rc;

use super::template_files::{self, FileProblem};
use super::{CheckError, Checker, TemplateFileError};
use crate::ast::*;

/// The most characters one SMS holds.
const SMS_LENGTH: usize = 160;

impl Checker<'_> {
    pub(super) fn content(&mut self) {
        for &step in Rc::clone(&self.all_steps).iter() {
            let StepKind::Effect(effect) = &step.kind else {
                continue;
            };
            for option in &effect.options {
                match (&effect.action, &option.kind) {
                    (Action::Http { .. }, OptionKind::Body(Body::Inline(body))) => {
                        self.json_body(body)
                    }
                    (Action::SendText, OptionKind::Body(Body::Inline(body))) => {
                        self.text_length(body)
                    }
                    (_, OptionKind::Body(Body::File(path))) => self.template_file(path),
                    _ => {}
                }
            }
        }
    }

    /// An http body must be JSON once its templates are filled in. Each
    /// template is replaced by `0`, which is valid both as a value and
    /// inside a JSON string. A template outside the strings is rendered as
    /// a JSON value, so it must be a number, a bool or a list (text goes in
    /// quotes), with a default where it may be missing.
    fn json_body(&mut self, body: &Text) {
        let filled: String = body
            .parts
            .iter()
            .map(|part| match part {
                TextPart::Literal(text) => text.as_str(),
                TextPart::Template(_) => "0",
            })
            .collect();
        if let Err(error) = serde_json::from_str::<serde_json::Value>(&filled) {
            self.report(CheckError::InvalidJson {
                reason: error.to_string(),
                span: body.span,
            });
            return;
        }
        let values = body
            .templates()
            .zip(body.json_value_positions())
            .filter(|(_, outside)| *outside);
        for (template, _) in values {
            self.json_value(template);
        }
    }

    /// A template standing for a JSON value: not text, and not missing
    /// without a default.
    fn json_value(&mut self, template: &Template) {
        let (name, ty) = match &template.path {
            TemplatePath::Field(field) => match self.scope.field(&field.name) {
                Some(info) => (field.name.clone(), Some(info.ty)),
                // An unknown field is reported where templates are checked.
                None => return,
            },
            TemplatePath::Event(field) => (
                format!("event.{}", field.name),
                self.scope.event.and_then(|event| {
                    event
                        .fields
                        .iter()
                        .find(|declared| declared.name.name == field.name)
                        .map(|declared| declared.ty)
                }),
            ),
            TemplatePath::Env(name) => (format!("env.{}", name.name), None),
            TemplatePath::Unknown { .. } => return,
        };
        let is_text =
            ty.is_none_or(|ty| !ty.list && matches!(ty.base, BaseType::Text | BaseType::Datetime));
        if is_text {
            return self.report(CheckError::TextAsJsonValue {
                name,
                span: template.span,
            });
        }
        // A default that is another field counts when that field is never
        // missing itself.
        let has_default = template.filter.as_ref().is_some_and(|filter| {
            filter.name.name == "default"
                && match &filter.arg {
                    Some(Operand::Field(other)) if other.event => {
                        self.scope.event.is_some_and(|event| {
                            event.fields.iter().any(|declared| {
                                declared.name.name == other.name && !declared.ty.optional
                            })
                        })
                    }
                    Some(Operand::Field(other)) => self
                        .scope
                        .field(&other.name)
                        .is_some_and(|info| !info.ty.optional),
                    _ => true,
                }
        });
        if ty.is_some_and(|ty| ty.optional) && !has_default {
            self.report(CheckError::JsonValueMayBeMissing {
                name,
                span: template.span,
            });
        }
    }

    fn text_length(&mut self, body: &Text) {
        let length = body.static_text().chars().count();
        if length > SMS_LENGTH {
            self.report(CheckError::LongText {
                length,
                span: body.span,
            });
        }
    }

    /// Reads a `body file` and keeps its parsed text for
    /// the compiler; anything unsafe or unreadable is reported.
    fn template_file(&mut self, path: &Text) {
        let Some((written, text)) = self.named_file(path) else {
            return;
        };
        match self.parsed_template_file(&text) {
            Ok(parsed) => self.templates.insert(written, parsed),
            Err((problem, help)) => self.report(TemplateFileError::Invalid {
                path: written,
                problem,
                span: path.span,
                help,
            }),
        }
    }

    /// `holidays file "PATH"`: one date per line, `#` comments.
    pub(super) fn holidays_file(&mut self, path: &Text) {
        let Some((written, text)) = self.named_file(path) else {
            return;
        };
        let mut dates = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            match chrono::NaiveDate::parse_from_str(line, "%Y-%m-%d") {
                Ok(date) => dates.push(date),
                Err(_) => {
                    return self.report(TemplateFileError::Invalid {
                        path: written,
                        problem: format!(
                            "has `{line}` on line {}, which is not a date",
                            number + 1
                        ),
                        span: path.span,
                        help: "write one date per line, like `2026-12-25`; `#` starts a comment"
                            .to_owned(),
                    })
                }
            }
        }
        self.templates.insert_holidays(written, dates);
    }

    /// The text of a file a workflow names (`body file`, `holidays file`),
    /// read safely: its path as written and its text, or `None` when it
    /// cannot be used (reported).
    fn named_file(&mut self, path: &Text) -> Option<(String, String)> {
        if path.templates().next().is_some() {
            self.report(TemplateFileError::Invalid {
                path: path.static_text(),
                problem: "is named with a template".to_owned(),
                span: path.span,
                help: "write the file's path as fixed text".to_owned(),
            });
            return None;
        }
        let written = path.static_text();
        let problem = match template_files::read(self.dir, &written) {
            Ok(text) => return Some((written, text)),
            Err(FileProblem::Missing) => TemplateFileError::Missing {
                path: written,
                span: path.span,
            },
            Err(FileProblem::Outside(how)) => TemplateFileError::Outside {
                path: written,
                how,
                span: path.span,
            },
            Err(FileProblem::Unusable(problem)) => TemplateFileError::Invalid {
                path: written,
                problem,
                span: path.span,
                help: format!(
                    "make it a regular UTF-8 text file of at most {} KiB",
                    template_files::MAX_TEMPLATE_FILE / 1024
                ),
            },
        };
        self.report(problem);
        None
    }

    /// A template file's text parsed, or what is wrong with it: its
    /// templates must be well formed and name fields of the workflow.
    fn parsed_template_file(&self, text: &str) -> Result<Text, (String, String)> {
        let parsed = crate::syntax::parse_template_file(text).map_err(|_| {
            (
                "has a template that is never closed or malformed".to_owned(),
                "write templates as `{{ field }}` or `{{ field | default: \"x\" }}`".to_owned(),
            )
        })?;
        let problem = parsed.templates().find_map(|template| {
            let (name, known) = match &template.path {
                TemplatePath::Field(field) => {
                    (field.name.clone(), self.scope.field(&field.name).is_some())
                }
                TemplatePath::Event(field) => (
                    format!("event.{}", field.name),
                    self.scope.event.is_some_and(|event| {
                        event.fields.iter().any(|f| f.name.name == field.name)
                    }),
                ),
                TemplatePath::Env(name) => (format!("env.{}", name.name), false),
                TemplatePath::Unknown { namespace, member } => {
                    (format!("{}.{}", namespace.name, member.name), false)
                }
            };
            (!known).then(|| {
                (
                    format!("uses `{name}`, which this workflow does not have"),
                    "use fields of the workflow (and `event.FIELD` of its trigger event) only"
                        .to_owned(),
                )
            })
        });
        match problem {
            Some(problem) => Err(problem),
            None => Ok(parsed),
        }
    }
}
