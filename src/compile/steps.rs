//! Steps to instructions: blocks become tests and jumps, labels become
//! targets, effect options become constant-pool effects.

use rustc_hash::FxHashMap as HashMap;

use super::Compiler;
use crate::ast::{
    Action, Address, ArmTest, Block, BlockKind, Body, Effect as AstEffect, EventCase,
    EventWait as AstEventWait, ExtractSource, Extraction as AstExtraction,
    FieldWait as AstFieldWait, OptionKind, OutsideWindow, Recipient, Sender, Split as AstSplit,
    Step, StepKind, WaitCase, WindowZone,
};
use crate::bytecode::{
    outcome_index, ClockWait, Effect, Email, EventWait, Extraction, FieldWait, Http, Op, Origin,
    Outside, Pc, Period, Prompt, Split, SplitVariant,
};
use crate::span::Span;

/// The http timeout when a step sets none, in seconds.
const DEFAULT_TIMEOUT_SECONDS: u32 = 30;

/// Jumps and tests whose targets are known only later.
#[derive(Default)]
struct Fixups {
    /// `goto` instructions and the label they name.
    gotos: Vec<(Pc, String)>,
    /// The instruction of each label.
    labels: HashMap<String, Pc>,
}

impl Compiler<'_> {
    /// Compiles the workflow's steps, ending with `Complete`.
    pub(super) fn steps(&mut self, steps: &[Step]) {
        let mut fixups = Fixups::default();
        self.block(steps, &mut fixups, "steps");
        self.emit(
            Op::Complete,
            Origin {
                label: "end".to_owned(),
                span: Span::default(),
            },
        );
        for (at, label) in fixups.gotos {
            let to = fixups.labels.get(&label).copied().unwrap_or(at);
            match &mut self.program.code[at as usize] {
                Op::Jump(target) | Op::Loop { target, .. } => *target = to,
                _ => {}
            }
        }
    }

    /// Compiles a block whose steps are identified under `path`.
    fn block(&mut self, steps: &[Step], fixups: &mut Fixups, path: &str) {
        for (index, step) in steps.iter().enumerate() {
            let id = match &step.label {
                Some(label) => label.name.clone(),
                None => format!("{path}/{}", index + 1),
            };
            self.step(step, fixups, id);
        }
    }

    fn pc(&self) -> Pc {
        self.program.code.len() as Pc
    }

    fn emit(&mut self, op: Op, origin: Origin) -> Pc {
        self.program.code.push(op);
        self.program.origins.push(origin);
        self.pc() - 1
    }

    /// Compiles a step identified as `id`: its label, else its structural
    /// path (`steps/3`, `sdr-call/on answered/1`), which survives edits
    /// that do not move the step.
    fn step(&mut self, step: &Step, fixups: &mut Fixups, id: String) {
        if let Some(label) = &step.label {
            fixups.labels.entry(label.name.clone()).or_insert(self.pc());
        }
        let origin = Origin {
            label: id,
            span: step.span,
        };
        match &step.kind {
            StepKind::Wait(duration) => {
                let op = match super::period(duration) {
                    crate::bytecode::Period::Seconds(seconds) => {
                        Op::WaitSeconds(seconds.min(u64::from(u32::MAX)) as u32)
                    }
                    crate::bytecode::Period::Days(days) => {
                        Op::WaitDays(days.min(u64::from(u32::MAX)) as u32)
                    }
                };
                self.emit(op, origin);
            }
            StepKind::WaitUntil(wait) => {
                let minute = (wait.clock.hour * 60 + wait.clock.minute) as u16;
                let plain = !wait.next && wait.days.is_none() && wait.zone.is_none();
                let op = if plain {
                    Op::WaitUntil(minute)
                } else {
                    self.program.clock_waits.push(ClockWait {
                        minute,
                        days: super::days_bits(wait.days.as_deref()),
                        next: wait.next,
                        zone: wait.zone.unwrap_or(WindowZone::Account),
                    });
                    Op::WaitClock((self.program.clock_waits.len() - 1) as u32)
                };
                self.emit(op, origin);
            }
            StepKind::WaitUntilField(wait) => self.field_wait(step, wait, origin, fixups),
            StepKind::WaitForEvent(wait) => self.event_wait(step, wait, origin, fixups),
            StepKind::WaitBusinessDays(days) => {
                self.emit(Op::WaitBusinessDays(days.node), origin);
            }
            StepKind::Goto(goto) => {
                let op = match &goto.limit {
                    Some(limit) => Op::Loop {
                        target: 0,
                        limit: limit.node,
                    },
                    None => Op::Jump(0),
                };
                let at = self.emit(op, origin);
                fixups.gotos.push((at, goto.label.name.clone()));
            }
            StepKind::Exit(reason) => {
                let reason = reason.as_ref().map(|text| self.text(text));
                self.emit(Op::Exit(reason), origin);
            }
            StepKind::Condition(condition) => {
                let mut tests = Vec::new();
                let mut has_else = false;
                for arm in &condition.arms {
                    let op = match &arm.test {
                        ArmTest::When { name, criteria } => {
                            let condition = self.condition(criteria);
                            let branch = self.name(&name.name);
                            Op::Test {
                                condition,
                                branch,
                                target: 0,
                            }
                        }
                        ArmTest::Else => {
                            has_else = true;
                            Op::Else(0)
                        }
                    };
                    tests.push(self.emit(op, origin.clone()));
                }
                if !has_else {
                    self.emit(Op::NoMatch, origin.clone());
                }
                let starts = self.blocks_to_end(&step.blocks(), &origin, fixups);
                for (test, start) in tests.into_iter().zip(starts) {
                    match &mut self.program.code[test as usize] {
                        Op::Test { target, .. } | Op::Else(target) => *target = start,
                        _ => {}
                    }
                }
            }
            StepKind::Split(split) => self.split(step, split, origin, fixups),
            StepKind::Effect(effect) => self.effect_step(step, effect, origin, fixups),
        }
    }

    /// Lays out a step's blocks one after the other (their steps
    /// identified under `STEP/TITLE`), each but the last ending with a jump
    /// past them all; returns the first instruction of each.
    fn blocks_to_end(
        &mut self,
        blocks: &[Block<'_>],
        origin: &Origin,
        fixups: &mut Fixups,
    ) -> Vec<Pc> {
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        for (index, block) in blocks.iter().enumerate() {
            starts.push(self.pc());
            let path = format!("{}/{}", origin.label, block.title);
            if block.kind == BlockKind::Variant {
                let name = self.name(&block.title["variant ".len()..]);
                let marker = Origin {
                    label: path.clone(),
                    span: block.span,
                };
                self.emit(Op::Variant(name), marker);
            }
            let outer = block
                .heard
                .map(|event| std::mem::replace(&mut self.payload, event.to_owned()));
            self.block(block.steps, fixups, &path);
            if let Some(outer) = outer {
                self.payload = outer;
            }
            if index + 1 < blocks.len() {
                ends.push(self.emit(Op::Jump(0), origin.clone()));
            }
        }
        let end = self.pc();
        for at in ends {
            self.program.code[at as usize] = Op::Jump(end);
        }
        starts
    }

    /// A step's blocks after the instruction that goes to them, behind a
    /// jump that takes the straight path past them all (none for a step
    /// without blocks); the first instruction of each.
    fn blocks_past_a_jump(&mut self, step: &Step, origin: &Origin, fixups: &mut Fixups) -> Vec<Pc> {
        let blocks = step.blocks();
        if blocks.is_empty() {
            return Vec::new();
        }
        let skip = self.emit(Op::Jump(0), origin.clone());
        let starts = self.blocks_to_end(&blocks, origin, fixups);
        self.program.code[skip as usize] = Op::Jump(self.pc());
        starts
    }

    /// The index of a branch or variant name in the program's names.
    fn name(&mut self, name: &str) -> u32 {
        self.program.names.push(name.to_owned());
        (self.program.names.len() - 1) as u32
    }

    /// A wait on a field: the wait, then (past a jump) its `if missing` and
    /// `if past` blocks, which go on after the step.
    fn field_wait(
        &mut self,
        step: &Step,
        wait: &AstFieldWait,
        origin: Origin,
        fixups: &mut Fixups,
    ) {
        let name = if wait.field.event {
            format!("{}.{}", self.payload, wait.field.name)
        } else {
            wait.field.name.clone()
        };
        let (offset, before) = match &wait.offset {
            Some(offset) => (super::period(&offset.duration), offset.before),
            None => (Period::Seconds(0), false),
        };
        let index = self.program.field_waits.len();
        self.program.field_waits.push(FieldWait {
            slot: self.slot(&name),
            name: if wait.field.event {
                format!("event.{}", wait.field.name)
            } else {
                wait.field.name.clone()
            },
            offset,
            before,
            missing: None,
            past: None,
        });
        self.emit(Op::WaitField(index as u32), origin.clone());
        let starts = self.blocks_past_a_jump(step, &origin, fixups);
        for (branch, start) in wait.branches.iter().zip(starts) {
            let compiled = &mut self.program.field_waits[index];
            match branch.case.node {
                WaitCase::Missing => compiled.missing.get_or_insert(start),
                WaitCase::Past => compiled.past.get_or_insert(start),
            };
        }
    }

    /// A wait for an event: the wait, then (past a jump) its `on event`
    /// block, where `event.FIELD` reads the event's payload, and its `on
    /// timeout` block.
    fn event_wait(
        &mut self,
        step: &Step,
        wait: &AstEventWait,
        origin: Origin,
        fixups: &mut Fixups,
    ) {
        let index = self.program.event_waits.len();
        self.program.event_waits.push(EventWait {
            event: wait.event.name.clone(),
            timeout: super::period(&wait.timeout),
            on_event: None,
            on_timeout: None,
        });
        self.emit(Op::WaitEvent(index as u32), origin.clone());
        let starts = self.blocks_past_a_jump(step, &origin, fixups);
        for (branch, start) in wait.branches.iter().zip(starts) {
            let compiled = &mut self.program.event_waits[index];
            match branch.case.node {
                EventCase::Event => compiled.on_event.get_or_insert(start),
                EventCase::Timeout => compiled.on_timeout.get_or_insert(start),
            };
        }
    }

    /// A split: the draw, then each variant, marked, with its steps.
    fn split(&mut self, step: &Step, split: &AstSplit, origin: Origin, fixups: &mut Fixups) {
        let index = self.program.splits.len() as u32;
        self.program.splits.push(Split {
            key: origin.label.clone(),
            variants: Vec::new(),
        });
        self.emit(Op::Split(index), origin.clone());
        let starts = self.blocks_to_end(&step.blocks(), &origin, fixups);
        self.program.splits[index as usize].variants = split
            .variants
            .iter()
            .zip(starts)
            .map(|(variant, target)| SplitVariant {
                name: variant.name.name.clone(),
                percent: variant.percent.node,
                target,
            })
            .collect();
    }

    fn effect_step(
        &mut self,
        step: &Step,
        effect: &AstEffect,
        origin: Origin,
        fixups: &mut Fixups,
    ) {
        let compiled = self.effect(effect);
        self.program.effects.push(compiled);
        let index = (self.program.effects.len() - 1) as u32;
        for option in &effect.options {
            if let OptionKind::OutsideWindow(policy) = &option.kind {
                let outside = match policy {
                    OutsideWindow::Skip => Outside::Skip,
                    OutsideWindow::HoldUpTo(duration) => {
                        Outside::HoldUpTo(match super::period(duration) {
                            Period::Seconds(seconds) => seconds,
                            Period::Days(days) => days.saturating_mul(86_400),
                        })
                    }
                };
                self.program.outside.push((index, outside));
            }
        }
        let is_call = matches!(effect.action, Action::CallPhone);
        let op = if is_call {
            Op::Call {
                effect: index,
                outcomes: [None; 4],
            }
        } else {
            Op::Effect {
                effect: index,
                on_error: None,
            }
        };
        let at = self.emit(op, origin.clone());
        let starts = self.blocks_past_a_jump(step, &origin, fixups);
        for (branch, start) in effect.outcomes.iter().zip(starts) {
            match &mut self.program.code[at as usize] {
                Op::Call { outcomes, .. } => {
                    // `on error` of a call is its `failed` outcome.
                    let index = outcome_index(branch.outcome.node).unwrap_or(3);
                    outcomes[index].get_or_insert(start);
                }
                Op::Effect { on_error, .. } => {
                    on_error.get_or_insert(start);
                }
                _ => {}
            }
        }
    }

    fn effect(&mut self, effect: &AstEffect) -> Effect {
        let options = &effect.options;
        match &effect.action {
            Action::SendEmail => {
                let mut email = Email {
                    to_lead: false,
                    to_rep: false,
                    cc: Vec::new(),
                    bcc: Vec::new(),
                    from: None,
                    subject: None,
                    body: None,
                    transactional: false,
                };
                for option in options {
                    match &option.kind {
                        OptionKind::To(recipients) => {
                            for recipient in recipients {
                                match recipient.node {
                                    Recipient::Lead => email.to_lead = true,
                                    Recipient::Rep => email.to_rep = true,
                                }
                            }
                        }
                        OptionKind::Cc(addresses) => email.cc = self.addresses(addresses),
                        OptionKind::Bcc(addresses) => email.bcc = self.addresses(addresses),
                        OptionKind::From(sender) => email.from = Some(sender_text(sender)),
                        OptionKind::Subject(text) => email.subject = Some(self.text(text)),
                        OptionKind::Body(body) => email.body = Some(self.body(body)),
                        OptionKind::Transactional => email.transactional = true,
                        _ => {}
                    }
                }
                Effect::Email(email)
            }
            Action::SendText => {
                let mut from = None;
                let mut body = None;
                for option in options {
                    match &option.kind {
                        OptionKind::From(sender) => from = Some(sender_text(sender)),
                        OptionKind::Body(text) => body = Some(self.body(text)),
                        _ => {}
                    }
                }
                let body = body.unwrap_or_else(|| self.plain_text(String::new()));
                Effect::Text { from, body }
            }
            Action::CallPhone => {
                let mut agent = None;
                let mut from = None;
                for option in options {
                    match &option.kind {
                        OptionKind::Agent(name) => agent = Some(name.name.clone()),
                        OptionKind::From(sender) => from = Some(sender_text(sender)),
                        _ => {}
                    }
                }
                Effect::Call { agent, from }
            }
            Action::Notify { service, target } => {
                let message = options.iter().find_map(|option| match &option.kind {
                    OptionKind::Message(text) => Some(text),
                    _ => None,
                });
                let message = match message {
                    Some(text) => self.text(text),
                    None => self.plain_text(String::new()),
                };
                Effect::Notify {
                    service: service.node,
                    target: target.name.clone(),
                    message,
                }
            }
            Action::Http { method, url } => {
                let url = self.text(url);
                let mut http = Http {
                    method: method.node,
                    url,
                    headers: Vec::new(),
                    body: None,
                    timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
                    extract: Vec::new(),
                };
                for option in options {
                    match &option.kind {
                        OptionKind::Header { name, value } => {
                            let value = self.text(value);
                            http.headers.push((name.name.clone(), value));
                        }
                        OptionKind::Body(Body::Inline(body)) => {
                            http.body = Some(self.json_text(body))
                        }
                        OptionKind::Body(body) => http.body = Some(self.body(body)),
                        OptionKind::Timeout(duration) => {
                            http.timeout_seconds = match super::period(duration) {
                                crate::bytecode::Period::Seconds(seconds) => seconds as u32,
                                crate::bytecode::Period::Days(days) => (days * 86_400) as u32,
                            }
                        }
                        OptionKind::Extract(extractions) => {
                            http.extract = self.extractions(extractions)
                        }
                        _ => {}
                    }
                }
                Effect::Http(http)
            }
            Action::Prompt => {
                let mut instructions = None;
                let mut tools = Vec::new();
                let mut extract = Vec::new();
                for option in options {
                    match &option.kind {
                        OptionKind::Instructions(text) => instructions = Some(self.text(text)),
                        OptionKind::Tools(list) => {
                            tools = list.iter().map(|tool| tool.node).collect()
                        }
                        OptionKind::Extract(extractions) => extract = self.extractions(extractions),
                        _ => {}
                    }
                }
                let instructions = instructions.unwrap_or_else(|| self.plain_text(String::new()));
                Effect::Prompt(Prompt {
                    instructions,
                    tools,
                    extract,
                })
            }
        }
    }

    fn addresses(&mut self, addresses: &[Address]) -> Vec<u32> {
        addresses
            .iter()
            .map(|address| match address {
                Address::Literal(literal) => self.plain_text(literal.node.clone()),
                Address::Template(text) => self.text(text),
            })
            .collect()
    }

    /// A body written inline, or the template file the checker read.
    fn body(&mut self, body: &Body) -> u32 {
        match body {
            Body::Inline(text) => self.text(text),
            Body::File(path) => {
                let templates = self.templates;
                let text = templates
                    .get(&path.static_text())
                    .expect("the checker read every body file of a program free of errors");
                self.text(text)
            }
        }
    }

    fn extractions(&self, extractions: &[AstExtraction]) -> Vec<Extraction> {
        extractions
            .iter()
            .map(|extraction| Extraction {
                slot: self.slot(&extraction.name.name),
                from: match &extraction.source {
                    ExtractSource::Path(path) => path.node.clone(),
                    ExtractSource::Description(text) => text.static_text(),
                },
                optional: extraction.ty.optional,
            })
            .collect()
    }
}

/// The fields a step extracts.
pub(super) fn extractions(step: &Step) -> impl Iterator<Item = &AstExtraction> {
    let options = match &step.kind {
        StepKind::Effect(effect) => effect.options.as_slice(),
        _ => &[],
    };
    options.iter().flat_map(|option| match &option.kind {
        OptionKind::Extract(extractions) => extractions.as_slice(),
        _ => &[],
    })
}

fn sender_text(sender: &Sender) -> String {
    match sender {
        Sender::Identity(name) => name.name.clone(),
        Sender::Phone(phone) => phone.node.clone(),
        Sender::Address(address) => address.node.clone(),
    }
}
