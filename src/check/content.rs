//! Step content: JSON bodies, text lengths and template files.

use std::rc::Rc;

use super::{CheckError, Checker};
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
    /// inside a JSON string.
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

    fn template_file(&mut self, path: &Text) {
        let Some(dir) = self.dir else { return };
        if path.templates().next().is_some() {
            return;
        }
        let written = path.static_text();
        let file = dir.join(&written);
        if !file.is_file() {
            self.report(CheckError::MissingTemplateFile {
                path: written,
                span: path.span,
            });
            return;
        }
        if let Some((problem, help)) = self.template_file_problem(&file) {
            self.report(CheckError::InvalidTemplateFile {
                path: written,
                problem,
                span: path.span,
                help,
            });
        }
    }

    /// What is wrong with a template file's text, if anything: it must be
    /// UTF-8 text whose templates name fields of the workflow.
    fn template_file_problem(&self, file: &std::path::Path) -> Option<(String, String)> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                return Some((
                    format!("cannot be read: {error}"),
                    "make it a readable UTF-8 text file".to_owned(),
                ))
            }
        };
        let parsed = match crate::syntax::parse_template_file(&text) {
            Ok(parsed) => parsed,
            Err(_) => {
                return Some((
                    "has a template that is never closed or malformed".to_owned(),
                    "write templates as `{{ field }}` or `{{ field | default: \"x\" }}`".to_owned(),
                ))
            }
        };
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
        problem
    }
}
