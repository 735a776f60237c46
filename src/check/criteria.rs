//! Field references and the types of tests (templates and their filters
//! are in [`super::templates`]).

use std::rc::Rc;

use super::{CheckError, Checker, FieldOrigin};
use crate::ast::*;
use crate::schema;
use crate::span::Span;
use crate::suggest;

/// Where criteria or a template is evaluated, which decides what it may name.
#[derive(Clone, Copy)]
pub(super) enum Place<'a> {
    /// The trigger, before any step ran.
    Trigger,
    /// An exit goal: tested all along, or on its event (whose payload
    /// `event.FIELD` then names).
    Goal(Option<&'a EventDecl>),
    /// A step; `http` says whether secrets may be used.
    Step(&'a Step, bool),
}

/// A use of an extracted field, for the data-flow check.
#[derive(Clone, Debug)]
pub(super) struct ExtractedUse<'a> {
    /// The field's name.
    pub name: String,
    /// Where it is used.
    pub span: Span,
    /// The step that uses it.
    pub step: &'a Step,
}

impl<'a> Checker<'a> {
    pub(super) fn criteria(&mut self) {
        let workflow = self.workflow;
        if let Some(criteria) = workflow.triggers.first().and_then(|t| t.kind.criteria()) {
            self.expr(criteria, Place::Trigger);
        }
        for goal in &workflow.goals {
            if let Some(criteria) = goal.watch.criteria() {
                let event = goal
                    .watch
                    .event()
                    .and_then(|name| workflow.event(&name.name));
                self.expr(criteria, Place::Goal(event));
            }
        }
        for &step in Rc::clone(&self.all_steps).iter() {
            self.step_texts(step);
        }
    }

    fn step_texts(&mut self, step: &'a Step) {
        match &step.kind {
            StepKind::Exit(Some(reason)) => self.text(reason, Place::Step(step, false)),
            StepKind::WaitUntilField(wait) => self.waited_field(&wait.field, step),
            StepKind::Condition(condition) => {
                for arm in &condition.arms {
                    if let ArmTest::When { criteria, .. } = &arm.test {
                        self.expr(criteria, Place::Step(step, false));
                    }
                }
            }
            StepKind::Effect(effect) => {
                let http = matches!(effect.action, Action::Http { .. });
                let place = Place::Step(step, http);
                if let Action::Http { url, .. } = &effect.action {
                    self.text(url, place);
                }
                for option in &effect.options {
                    for text in option_texts(&option.kind) {
                        self.text(text, place);
                    }
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, expr: &Expr, place: Place<'a>) {
        match expr {
            Expr::Compare(comparison) => self.comparison(comparison, place),
            Expr::WindowOpen { channel, span, .. } => self.window_test(*channel, *span, place),
            Expr::Not(inner, _) => self.expr(inner, place),
            Expr::Logic { operands, .. } => {
                for operand in operands {
                    self.expr(operand, place);
                }
            }
        }
    }

    fn comparison(&mut self, comparison: &Comparison, place: Place<'a>) {
        for literal in test_literals(&comparison.test) {
            self.literal(literal);
        }
        if let Test::WithinLast(duration) | Test::OlderThan(duration) | Test::WithinNext(duration) =
            &comparison.test
        {
            self.duration_in(
                duration,
                (60, super::time::LONGEST),
                "a date test",
                "compare with at least 1 minute, like `is within last 7 days`",
            );
        }
        let field = &comparison.field;
        let resolved = self.resolve(&field.name, field.event, field.span, place);
        // The other fields it is compared with, each resolved (and reported
        // if unknown) whether or not the tested field is.
        let mut others = Vec::new();
        for other in comparison.test.fields() {
            if let Some((ty, _)) = self.resolve(&other.name, other.event, other.span, place) {
                others.push((other.span, ty));
            }
        }
        let Some((ty, declared)) = resolved else {
            return;
        };
        if others.len() < comparison.test.fields().count() {
            return;
        }
        let operand = |operand| operand_type(operand, &others, ty.base);
        if let Some((problem, help)) = test_problem(&ty, &comparison.test, operand) {
            self.report(CheckError::TypeMismatch {
                field: self.written(field.span),
                field_type: schema::describe(&ty),
                problem,
                span: comparison.test_span,
                field_span: declared.unwrap_or(field.span),
                help,
            });
        }
    }

    /// `email window is open` tests the lead's moment in a step; it means
    /// nothing to the trigger or a goal, which are not tested at a step.
    fn window_test(&mut self, channel: Channel, span: Span, place: Place<'a>) {
        if !matches!(place, Place::Step(..)) {
            self.report(CheckError::WindowTestOutsideSteps { span });
            return;
        }
        if !self
            .workflow
            .windows
            .iter()
            .any(|window| window.channel.node == channel)
        {
            self.report(CheckError::WindowTestWithoutWindow {
                channel: channel.keyword(),
                span,
            });
        }
    }

    /// The field a `wait until FIELD` reads exists and holds one instant.
    fn waited_field(&mut self, field: &FieldRef, step: &'a Step) {
        if !field.event && self.scope.field(&field.name).is_none() {
            // `wait until noon`: most likely a time of day, not a field.
            let known = self.scope.fields.keys().map(String::as_str);
            let help = suggest::did_you_mean(suggest::closest(&field.name, known)).unwrap_or_else(|| {
                "`wait until` takes a time like `09:30` or a datetime field, like `wait until demo_at - 1 hour`".to_owned()
            });
            self.report(CheckError::UnknownField {
                name: field.name.clone(),
                span: field.span,
                help,
            });
            return;
        }
        let Some((ty, declared)) = self.resolve(
            &field.name,
            field.event,
            field.span,
            Place::Step(step, false),
        ) else {
            return;
        };
        if ty.base != BaseType::Datetime || ty.list {
            self.report(CheckError::TypeMismatch {
                field: self.written(field.span),
                field_type: schema::describe(&ty),
                problem: "`wait until` needs a datetime".to_owned(),
                span: field.span,
                field_span: declared.unwrap_or(field.span),
                help: Some("wait until a datetime field, like `wait until demo_at - 1 hour`, or for a time of day: `wait until 09:30`".to_owned()),
            });
        }
    }

    fn literal(&mut self, literal: &Literal) {
        if let LiteralValue::Datetime(text) = &literal.value {
            if parse_datetime(text).is_none() {
                self.report(CheckError::InvalidDate {
                    text: text.clone(),
                    span: literal.span,
                });
            }
        }
    }

    /// The type of a field (and where it is declared), reporting names that
    /// do not resolve here.
    pub(super) fn resolve(
        &mut self,
        name: &str,
        event: bool,
        span: Span,
        place: Place<'a>,
    ) -> Option<(FieldType, Option<Span>)> {
        if event {
            return self.resolve_event_field(name, span, place);
        }
        let Some(info) = self.scope.field(name) else {
            let known = self.scope.fields.keys().map(String::as_str);
            let help = suggest::did_you_mean(suggest::closest(name, known))
                .unwrap_or_else(|| format!("declare it under `fields`, like `{name} text`"));
            self.report(CheckError::UnknownField {
                name: name.to_owned(),
                span,
                help,
            });
            return None;
        };
        let ty = info.ty;
        let (declared, extracted_at) = match &info.origin {
            FieldOrigin::Declared(span) => (Some(*span), None),
            FieldOrigin::Extracted(spans) => (spans.first().copied(), Some(spans.clone())),
            FieldOrigin::Standard => (None, None),
        };
        if let Some(spans) = extracted_at {
            match place {
                Place::Trigger => self.report(CheckError::NotYetExtracted {
                    name: name.to_owned(),
                    span,
                    producers: spans
                        .iter()
                        .map(|s| miette::LabeledSpan::new_with_span(Some("extracted here".into()), *s))
                        .collect(),
                    help: "the trigger is tested before any step runs; test extracted fields in a condition after the step".to_owned(),
                }),
                Place::Step(step, _) => self.extracted_uses.push(ExtractedUse { name: name.to_owned(), span, step }),
                Place::Goal(_) => {}
            }
        }
        Some((ty, declared))
    }

    fn resolve_event_field(
        &mut self,
        name: &str,
        span: Span,
        place: Place<'a>,
    ) -> Option<(FieldType, Option<Span>)> {
        if let Place::Goal(Some(event)) = place {
            return self.payload_field(event, name, span);
        }
        let heard = match place {
            Place::Step(step, _) => self.heard.get(&(step as *const Step)).copied(),
            _ => None,
        };
        if let Some(event) = heard.and_then(|name| self.workflow.event(name)) {
            return self.payload_field(event, name, span);
        }
        if !self.scope.event_trigger {
            self.report(CheckError::UnknownEvent {
                problem: format!("`event.{name}` needs an event trigger"),
                span,
                help: "only workflows started by `trigger on EVENT` have an event payload, and the steps of a `wait for EVENT` step's `on event` block"
                    .to_owned(),
            });
            return None;
        }
        let event = self.scope.event?;
        self.payload_field(event, name, span)
    }

    /// The payload field `name` of `event`, reporting it if there is none.
    fn payload_field(
        &mut self,
        event: &EventDecl,
        name: &str,
        span: Span,
    ) -> Option<(FieldType, Option<Span>)> {
        // A built-in event's fields are written nowhere in the file.
        let builtin = event.name.span == Span::default();
        match event.fields.iter().find(|field| field.name.name == name) {
            Some(field) => Some((field.ty, Some(field.name.span).filter(|_| !builtin))),
            None => {
                let known = event.fields.iter().map(|field| field.name.name.as_str());
                let suggestion = suggest::did_you_mean(suggest::closest(name, known.clone()));
                let help = suggestion.unwrap_or_else(|| match builtin {
                    true => format!(
                        "`{}` is built in; its fields are {}",
                        event.name.name,
                        known
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    false => format!(
                        "declare it under `event {}`, like `{name} text`",
                        event.name.name
                    ),
                });
                self.report(CheckError::UnknownEvent {
                    problem: format!("event `{}` has no field `{name}`", event.name.name),
                    span,
                    help,
                });
                None
            }
        }
    }
}

/// The texts an option carries, for template checks.
pub(super) fn option_texts(kind: &OptionKind) -> Vec<&Text> {
    match kind {
        OptionKind::Subject(text) | OptionKind::Message(text) | OptionKind::Instructions(text) => {
            vec![text]
        }
        OptionKind::Body(Body::Inline(text) | Body::File(text)) => vec![text],
        OptionKind::Header { value, .. } => vec![value],
        OptionKind::Cc(addresses) | OptionKind::Bcc(addresses) => addresses
            .iter()
            .filter_map(|address| match address {
                Address::Template(text) => Some(text),
                Address::Literal(_) => None,
            })
            .collect(),
        OptionKind::Extract(extractions) => extractions
            .iter()
            .filter_map(|extraction| match &extraction.source {
                ExtractSource::Description(text) => Some(text),
                ExtractSource::Path(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The literals a test compares with.
fn test_literals(test: &Test) -> Vec<&Literal> {
    match test {
        Test::Is(literal)
        | Test::IsNot(literal)
        | Test::Contains(literal)
        | Test::NotContains(literal)
        | Test::StartsWith(literal)
        | Test::EndsWith(literal) => vec![literal],
        Test::OneOf(literals) | Test::NotOneOf(literals) => literals.iter().collect(),
        Test::Order(_, operand) | Test::Before(operand) | Test::After(operand) => {
            operand_literal(operand).into_iter().collect()
        }
        Test::Between(low, high) => [low, high]
            .into_iter()
            .filter_map(operand_literal)
            .collect(),
        _ => Vec::new(),
    }
}

/// The literal an operand is, if it is one.
fn operand_literal(operand: &Operand) -> Option<&Literal> {
    match operand {
        Operand::Literal(literal) => Some(literal),
        Operand::Field(_) => None,
    }
}

/// The type of an operand; `others` holds the resolved fields' types by
/// where they are written.
fn operand_type<'t>(
    operand: &'t Operand,
    others: &[(Span, FieldType)],
    unknown: BaseType,
) -> OperandType<'t> {
    match operand {
        Operand::Literal(literal) => OperandType::Literal(literal_type(literal)),
        Operand::Field(other) => others
            .iter()
            .find(|(span, _)| *span == other.span)
            .map_or(OperandType::Literal(unknown), |(_, ty)| {
                OperandType::Field(other, *ty)
            }),
    }
}

/// The type of what a field is compared with.
enum OperandType<'t> {
    /// A literal of this type.
    Literal(BaseType),
    /// Another field, of this type.
    Field(&'t FieldRef, FieldType),
}

/// The type of a literal.
pub(super) fn literal_type(literal: &Literal) -> BaseType {
    match literal.value {
        LiteralValue::Text(_) => BaseType::Text,
        LiteralValue::Number(_) => BaseType::Number,
        LiteralValue::Bool(_) => BaseType::Bool,
        LiteralValue::Datetime(_) => BaseType::Datetime,
    }
}

/// What is wrong with applying `test` to a field of type `ty` (`operand`
/// gives the type of what it is compared with), with a hint.
fn test_problem<'t>(
    ty: &FieldType,
    test: &'t Test,
    operand: impl Fn(&'t Operand) -> OperandType<'t>,
) -> Option<(String, Option<String>)> {
    let compared_with = |base: BaseType, what: String| {
        (base != ty.base).then(|| {
            (
                format!("it is compared with {what}"),
                Some(format!("compare it with {}", schema::with_article(ty.base))),
            )
        })
    };
    let compared = |literal: &Literal| {
        compared_with(
            literal_type(literal),
            schema::with_article(literal_type(literal)).to_owned(),
        )
    };
    let against = |written: &'t Operand| match operand(written) {
        OperandType::Literal(base) => compared_with(base, schema::with_article(base).to_owned()),
        OperandType::Field(field, other) if other.list => Some((
            format!(
                "it is compared with `{}`, {}",
                field.name,
                schema::describe(&other)
            ),
            Some("compare it with a field holding one value".to_owned()),
        )),
        OperandType::Field(field, other) => compared_with(
            other.base,
            format!("`{}`, {}", field.name, schema::describe(&other)),
        ),
    };
    let needs =
        |what: &str, help: &str| Some((format!("this test needs {what}"), Some(help.to_owned())));
    let orderable = matches!(ty.base, BaseType::Number | BaseType::Datetime) && !ty.list;
    let dated = ty.base == BaseType::Datetime && !ty.list;
    match test {
        Test::IsSet | Test::IsNotSet => None,
        Test::Is(_) | Test::IsNot(_) | Test::OneOf(_) | Test::NotOneOf(_) if ty.list => needs(
            "a single value",
            "test lists with `contains`, `does not contain` or `has more than N items`",
        ),
        Test::Is(literal) | Test::IsNot(literal) => compared(literal),
        Test::OneOf(literals) | Test::NotOneOf(literals) => literals.iter().find_map(compared),
        Test::WithinLast(_) | Test::OlderThan(_) => (!dated).then(|| {
            (
                format!(
                    "`{}` only applies to dates",
                    "is within last / is older than"
                ),
                None,
            )
        }),
        Test::WithinNext(_) => {
            (!dated).then(|| ("`is within next` only applies to dates".to_owned(), None))
        }
        Test::Contains(literal) | Test::NotContains(literal) => {
            if ty.base != BaseType::Text {
                needs("text or a list of text", "use `is` to compare other values")
            } else {
                compared(literal)
            }
        }
        Test::StartsWith(literal) | Test::EndsWith(literal) => {
            if ty.base != BaseType::Text || ty.list {
                needs("text", "use `is` to compare other values")
            } else {
                compared(literal)
            }
        }
        Test::Order(_, _) | Test::Between(_, _) if !orderable => needs(
            "a number or a date",
            "use `is`, `is one of` or `contains` for other values",
        ),
        Test::Before(_) | Test::After(_) if !dated => {
            needs("a date", "compare numbers with `<` or `>`")
        }
        Test::Order(_, operand) | Test::Before(operand) | Test::After(operand) => against(operand),
        Test::Between(low, high) => against(low).or_else(|| against(high)),
        Test::Items(..) if !ty.list => needs(
            "a list",
            "count the items of a `list of text` field; test one value with `is`",
        ),
        Test::Items(..) => None,
    }
}

/// A date literal as an instant or a local date-time, if it is valid.
pub(super) fn parse_datetime(text: &str) -> Option<chrono::NaiveDateTime> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0);
    }
    let with_offset = text
        .strip_suffix('Z')
        .map_or_else(|| text.to_owned(), |rest| format!("{rest}+00:00"));
    for format in ["%Y-%m-%dT%H:%M:%S%:z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(instant) = DateTime::parse_from_str(&with_offset, format) {
            return Some(instant.naive_utc());
        }
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
}
