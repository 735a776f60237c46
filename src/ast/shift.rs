//! Moving a tree's positions past an edit ([`Shift`]), so that the part of
//! a file an edit did not touch is kept, not parsed again.
//!
//! Structs are listed field by field, those without positions after the
//! `;`, and enums matched variant by variant, so that a field or variant
//! added later fails to compile until it is moved too.

use super::*;
use crate::span::{Moved, Shift};

/// `Shift` for structs: the fields holding positions, then (after `;`)
/// the fields that hold none.
macro_rules! shift_fields {
    ($($ty:ident { $($field:ident),* $(; $($plain:ident),*)? })*) => {$(
        impl Shift for $ty {
            fn shift(&mut self, moved: Moved) {
                let $ty { $($field,)* $($($plain: _,)*)? } = self;
                $($field.shift(moved);)*
            }
        }
    )*};
}

shift_fields! {
    Ident { span; name }
    SourceFile { workflows }
    Workflow { name, header, settings, fields, events, triggers, windows, goals, steps }
    Setting { kind, span }
    Duration { span; amount, unit }
    Clock { span; hour, minute }
    FieldDecl { name, ty, description }
    FieldType { span; optional, list, base }
    EventDecl { name, fields }
    Trigger { kind, span }
    Goal { name, watch, span }
    Window { channel, days, ranges, span; zone, skip_holidays }
    TimeRange { start, end, span }
    StepsSection { steps, span }
    Step { label, kind, span }
    Condition { arms }
    ClockWait { days, clock; next, zone }
    FieldWait { field, offset, branches }
    EventWait { event, timeout, branches }
    EventBranch { case, steps }
    Offset { duration; before }
    WaitBranch { case, steps }
    Goto { label, limit }
    Split { variants }
    Variant { name, percent, steps, span }
    Arm { test, steps, span }
    Effect { action, options, outcomes }
    StepOption { kind, keyword, span }
    Extraction { name, ty, source, span }
    OutcomeBranch { outcome, steps }
    Comparison { field, test, test_span, span }
    FieldRef { span; name, event }
    Literal { span; value }
    Text { parts, span }
    Template { path, filter, span }
    Filter { name, arg, span }
}

impl Shift for SettingKind {
    fn shift(&mut self, moved: Moved) {
        match self {
            SettingKind::Timezone(zone) => zone.shift(moved),
            SettingKind::ReEntry(ReEntry::After(after)) | SettingKind::LookBack(after) => {
                after.shift(moved)
            }
            SettingKind::ReEntry(ReEntry::Never | ReEntry::Always)
            | SettingKind::SendFailure(_) => {}
            SettingKind::Holidays(Holidays::Dates(dates)) => dates.shift(moved),
            SettingKind::Holidays(Holidays::File(file)) => file.shift(moved),
        }
    }
}

impl Shift for Watch {
    fn shift(&mut self, moved: Moved) {
        match self {
            Watch::Criteria(criteria) => criteria.shift(moved),
            Watch::Event { event, criteria } => {
                event.shift(moved);
                criteria.shift(moved);
            }
        }
    }
}

impl Shift for StepKind {
    fn shift(&mut self, moved: Moved) {
        match self {
            StepKind::Effect(effect) => effect.shift(moved),
            StepKind::Wait(duration) => duration.shift(moved),
            StepKind::WaitUntil(wait) => wait.shift(moved),
            StepKind::WaitUntilField(wait) => wait.shift(moved),
            StepKind::WaitBusinessDays(days) => days.shift(moved),
            StepKind::WaitForEvent(wait) => wait.shift(moved),
            StepKind::Condition(condition) => condition.shift(moved),
            StepKind::Split(split) => split.shift(moved),
            StepKind::Goto(goto) => goto.shift(moved),
            StepKind::Exit(reason) => reason.shift(moved),
        }
    }
}

impl Shift for ArmTest {
    fn shift(&mut self, moved: Moved) {
        match self {
            ArmTest::When { name, criteria } => {
                name.shift(moved);
                criteria.shift(moved);
            }
            ArmTest::Else => {}
        }
    }
}

impl Shift for Action {
    fn shift(&mut self, moved: Moved) {
        match self {
            Action::SendEmail | Action::SendText | Action::CallPhone | Action::Prompt => {}
            Action::Notify { service, target } => {
                service.shift(moved);
                target.shift(moved);
            }
            Action::Http { method, url } => {
                method.shift(moved);
                url.shift(moved);
            }
        }
    }
}

impl Shift for OptionKind {
    fn shift(&mut self, moved: Moved) {
        match self {
            OptionKind::To(recipients) => recipients.shift(moved),
            OptionKind::Cc(addresses) | OptionKind::Bcc(addresses) => addresses.shift(moved),
            OptionKind::From(sender) => sender.shift(moved),
            OptionKind::Subject(text)
            | OptionKind::Message(text)
            | OptionKind::Instructions(text)
            | OptionKind::Body(Body::Inline(text) | Body::File(text)) => text.shift(moved),
            OptionKind::Agent(agent) => agent.shift(moved),
            OptionKind::Header { name, value } => {
                name.shift(moved);
                value.shift(moved);
            }
            OptionKind::Timeout(duration)
            | OptionKind::OutsideWindow(OutsideWindow::HoldUpTo(duration)) => duration.shift(moved),
            OptionKind::Tools(tools) => tools.shift(moved),
            OptionKind::Extract(extractions) => extractions.shift(moved),
            OptionKind::OutsideWindow(OutsideWindow::Skip) | OptionKind::Transactional => {}
        }
    }
}

impl Shift for Address {
    fn shift(&mut self, moved: Moved) {
        match self {
            Address::Literal(address) => address.shift(moved),
            Address::Template(text) => text.shift(moved),
        }
    }
}

impl Shift for Sender {
    fn shift(&mut self, moved: Moved) {
        match self {
            Sender::Identity(identity) => identity.shift(moved),
            Sender::Phone(written) | Sender::Address(written) => written.shift(moved),
        }
    }
}

impl Shift for ExtractSource {
    fn shift(&mut self, moved: Moved) {
        match self {
            ExtractSource::Path(path) => path.shift(moved),
            ExtractSource::Description(text) => text.shift(moved),
        }
    }
}

impl Shift for Expr {
    fn shift(&mut self, moved: Moved) {
        match self {
            Expr::Compare(comparison) => comparison.shift(moved),
            Expr::Not(expr, span) => {
                expr.shift(moved);
                span.shift(moved);
            }
            Expr::WindowOpen { span, .. } => span.shift(moved),
            Expr::Logic { operands, span, .. } => {
                operands.shift(moved);
                span.shift(moved);
            }
        }
    }
}

impl Shift for Test {
    fn shift(&mut self, moved: Moved) {
        match self {
            Test::IsSet | Test::IsNotSet | Test::Items(..) => {}
            Test::Is(literal)
            | Test::IsNot(literal)
            | Test::Contains(literal)
            | Test::NotContains(literal)
            | Test::StartsWith(literal)
            | Test::EndsWith(literal) => literal.shift(moved),
            Test::OneOf(literals) | Test::NotOneOf(literals) => literals.shift(moved),
            Test::WithinLast(duration) | Test::OlderThan(duration) | Test::WithinNext(duration) => {
                duration.shift(moved)
            }
            Test::Between(low, high) => {
                low.shift(moved);
                high.shift(moved);
            }
            Test::Before(operand) | Test::After(operand) | Test::Order(_, operand) => {
                operand.shift(moved)
            }
        }
    }
}

impl Shift for Operand {
    fn shift(&mut self, moved: Moved) {
        match self {
            Operand::Literal(literal) => literal.shift(moved),
            Operand::Field(field) => field.shift(moved),
        }
    }
}

impl Shift for TextPart {
    fn shift(&mut self, moved: Moved) {
        match self {
            TextPart::Literal(_) => {}
            TextPart::Template(template) => template.shift(moved),
        }
    }
}

impl Shift for TemplatePath {
    fn shift(&mut self, moved: Moved) {
        match self {
            TemplatePath::Field(name) | TemplatePath::Event(name) | TemplatePath::Env(name) => {
                name.shift(moved)
            }
            TemplatePath::Unknown { namespace, member } => {
                namespace.shift(moved);
                member.shift(moved);
            }
        }
    }
}
