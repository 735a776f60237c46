//! The names a workflow can use: lead fields, extracted fields, events.

use rustc_hash::FxHashMap as HashMap;

use super::CheckError;
use crate::ast::{EventDecl, FieldType, OptionKind, Step, StepKind, Workflow};
use crate::diagnostic::Diagnostic;
use crate::schema;
use crate::span::Span;

/// Where a field comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldOrigin {
    /// Built into every lead.
    Standard,
    /// Declared in `fields`.
    Declared(Span),
    /// Extracted by http or prompt steps (their extraction lines).
    Extracted(Vec<Span>),
}

/// A field's type and origin.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldInfo {
    /// Its type.
    pub ty: FieldType,
    /// Where it comes from.
    pub origin: FieldOrigin,
}

/// The fields and events of one workflow.
#[derive(Debug)]
pub struct Scope<'a> {
    /// Lead fields by name: standard, declared and extracted.
    pub fields: HashMap<String, FieldInfo>,
    /// The event the trigger names, if it is an event trigger and the event
    /// is declared or built in.
    pub event: Option<&'a EventDecl>,
    /// Whether the trigger is an event trigger (declared or not).
    pub event_trigger: bool,
}

impl<'a> Scope<'a> {
    /// Collects the workflow's names, reporting duplicates and clashes.
    pub fn build(
        workflow: &'a Workflow,
        all_steps: &[&Step],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut fields = HashMap::default();
        for (name, base, _) in schema::STANDARD_FIELDS {
            let ty = FieldType {
                optional: true,
                list: false,
                base: *base,
                span: Span::default(),
            };
            fields.insert(
                (*name).to_owned(),
                FieldInfo {
                    ty,
                    origin: FieldOrigin::Standard,
                },
            );
        }
        for decl in &workflow.fields {
            let name = &decl.name.name;
            if let Some(existing) = fields.get(name) {
                let first = match existing.origin {
                    FieldOrigin::Declared(span) => Some(span),
                    _ => None,
                };
                let help = if first.is_some() {
                    "declare each field once".to_owned()
                } else {
                    format!("`{name}` is a standard field: every workflow has it, remove this line")
                };
                diagnostics.push(
                    CheckError::DuplicateField {
                        name: name.clone(),
                        span: decl.name.span,
                        first,
                        help,
                    }
                    .into(),
                );
                continue;
            }
            fields.insert(
                name.clone(),
                FieldInfo {
                    ty: decl.ty,
                    origin: FieldOrigin::Declared(decl.name.span),
                },
            );
        }
        add_extracted(all_steps, &mut fields, diagnostics);
        let trigger_event = workflow
            .triggers
            .first()
            .and_then(|trigger| trigger.kind.event());
        let event = trigger_event.and_then(|name| workflow.event(&name.name));
        Scope {
            fields,
            event,
            event_trigger: trigger_event.is_some(),
        }
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(name)
    }
}

/// Adds every extracted field, reporting clashes with lead fields and
/// extractions of one name with two types.
fn add_extracted(
    all_steps: &[&Step],
    fields: &mut HashMap<String, FieldInfo>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for step in all_steps {
        let StepKind::Effect(effect) = &step.kind else {
            continue;
        };
        for option in &effect.options {
            let OptionKind::Extract(extractions) = &option.kind else {
                continue;
            };
            for extraction in extractions {
                let name = &extraction.name.name;
                let clash = match fields.get_mut(name) {
                    None => {
                        fields.insert(
                            name.clone(),
                            FieldInfo { ty: extraction.ty, origin: FieldOrigin::Extracted(vec![extraction.span]) },
                        );
                        None
                    }
                    Some(FieldInfo { ty, origin: FieldOrigin::Extracted(spans) }) => {
                        if ty.base == extraction.ty.base && ty.list == extraction.ty.list {
                            spans.push(extraction.span);
                            None
                        } else {
                            Some((
                                format!("`{name}` is extracted as {} elsewhere", schema::describe(ty)),
                                spans.first().copied(),
                                "extract a field with one type everywhere",
                            ))
                        }
                    }
                    Some(FieldInfo { origin: FieldOrigin::Declared(span), .. }) => Some((
                        format!("`{name}` is a lead field; an extraction must name a new field"),
                        Some(*span),
                        "give the extracted field its own name",
                    )),
                    Some(FieldInfo { origin: FieldOrigin::Standard, .. }) => Some((
                        format!("`{name}` is a standard lead field; an extraction must name a new field"),
                        None,
                        "give the extracted field its own name",
                    )),
                };
                if let Some((problem, other, help)) = clash {
                    diagnostics.push(
                        CheckError::ExtractionConflict {
                            problem,
                            span: extraction.name.span,
                            other,
                            help,
                        }
                        .into(),
                    );
                }
            }
        }
    }
}
