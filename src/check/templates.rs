//! Templates in texts: the field or event field each names (and where it
//! may), `env.NAME` secrets, and their filters.

use super::criteria::{literal_type, Place};
use super::{CheckError, Checker};
use crate::ast::*;
use crate::schema;
use crate::suggest;

/// Whether `step` sends an email.
fn is_email(step: &Step) -> bool {
    matches!(&step.kind, StepKind::Effect(effect) if matches!(effect.action, Action::SendEmail))
}

/// The filters templates know.
const FILTERS: &[&str] = &["default", "upper", "lower"];

impl<'a> Checker<'a> {
    /// Checks every template of `text`, evaluated at `place`.
    pub(super) fn text(&mut self, text: &Text, place: Place<'a>) {
        for template in text.templates() {
            self.template(template, place);
        }
    }

    fn template(&mut self, template: &Template, place: Place<'a>) {
        let resolved = match &template.path {
            TemplatePath::Field(field) if field.name == "unsubscribe_url" => {
                if !matches!(place, Place::Step(step, _) if is_email(step)) {
                    self.report(CheckError::UnknownField {
                        name: field.name.clone(),
                        span: field.span,
                        help: "`{{ unsubscribe_url }}` is the recipient's unsubscribe link: only emails have one".to_owned(),
                    });
                }
                return;
            }
            TemplatePath::Field(field) => self.resolve(&field.name, false, field.span, place),
            TemplatePath::Event(field) => self.resolve(&field.name, true, field.span, place),
            TemplatePath::Env(variable) => {
                if !matches!(place, Place::Step(_, true)) {
                    self.report(CheckError::SecretOutsideHttp {
                        name: variable.name.clone(),
                        span: template.span,
                    });
                }
                return;
            }
            TemplatePath::Unknown { namespace, member } => {
                self.report(CheckError::UnknownField {
                    name: format!("{}.{}", namespace.name, member.name),
                    span: namespace.span.to(member.span),
                    help:
                        "a template names a lead field, `event.FIELD`, or in http steps `env.NAME`"
                            .to_owned(),
                });
                return;
            }
        };
        if let (Some(filter), Some((ty, _))) = (&template.filter, resolved) {
            self.filter(filter, &ty, template, place);
        }
    }

    fn filter(&mut self, filter: &Filter, ty: &FieldType, template: &Template, place: Place<'a>) {
        let name = filter.name.name.as_str();
        if !FILTERS.contains(&name) {
            let help = suggest::did_you_mean(suggest::closest(name, FILTERS.iter().copied()))
                .unwrap_or_else(|| format!("the filters are: {}", FILTERS.join(", ")));
            self.report(CheckError::UnknownFilter {
                name: name.to_owned(),
                span: filter.name.span,
                help,
            });
            return;
        }
        let field = match &template.path {
            TemplatePath::Field(field) | TemplatePath::Event(field) => field.name.clone(),
            _ => String::new(),
        };
        let problem = match (name, &filter.arg) {
            ("default", None) => Some("give the default value: `| default: \"there\"`".to_owned()),
            ("default", Some(Operand::Literal(arg))) => {
                let expected = if ty.list { BaseType::Text } else { ty.base };
                (literal_type(arg) != expected).then(|| {
                    format!(
                        "the default stands in for the field, so it must be {}",
                        schema::with_article(expected)
                    )
                })
            }
            ("default", Some(Operand::Field(other))) => {
                let Some((other_type, _)) =
                    self.resolve(&other.name, other.event, other.span, place)
                else {
                    return;
                };
                (other_type.base != ty.base || other_type.list != ty.list).then(|| {
                    format!(
                        "the default stands in for the field, so it must hold {}, not {}",
                        schema::describe(ty),
                        schema::describe(&other_type)
                    )
                })
            }
            (_, Some(_)) => Some(format!("`{name}` takes no value")),
            (_, None) => (ty.base != BaseType::Text || ty.list)
                .then(|| format!("`{name}` changes the case of text")),
        };
        if let Some(help) = problem {
            self.report(CheckError::TemplateTypeMismatch {
                filter: name.to_owned(),
                field,
                field_type: schema::describe(ty),
                span: filter.span,
                help,
            });
        }
    }
}
