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
        if !dir.join(&written).is_file() {
            self.report(CheckError::MissingTemplateFile {
                path: written,
                span: path.span,
            });
        }
    }
}
