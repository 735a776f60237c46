//! Checked syntax tree to bytecode: one [`Program`] per workflow, fields
//! resolved to slots, criteria and templates to compact constant-pool forms.

mod criteria;
mod steps;

use std::path::Path;

use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::ast::{DaySpec, ReEntry, SettingKind, TimeUnit, Watch, Window as AstWindow, Workflow};
use crate::bytecode::{
    channel_index, Artifact, Goal, Period, Program, ReEntryPolicy, Slot, SlotSource, Trigger,
    Window, FORMAT_NAME, FORMAT_VERSION,
};
use crate::calendar::{Hours, MINUTES_PER_DAY};
use crate::check::{Checked, TemplateFiles};
use crate::diagnostic::Diagnostic;
use crate::schema::STANDARD_FIELDS;
use crate::value::ValueType;

/// The account timezone when a workflow names none (Spara's default).
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::America::New_York;
/// The eligibility look-back when a workflow sets none: two years.
const DEFAULT_LOOK_BACK_DAYS: u32 = 2 * 365;

/// Checks and compiles a `.flow` source. `dir` resolves `body file` paths.
/// Errors (not warnings) stop compilation and are returned.
pub fn compile_source(source: &str, dir: Option<&Path>) -> Result<Artifact, Vec<Diagnostic>> {
    let checked = crate::check::checked(source, dir)?;
    Ok(compile(&checked, source))
}

/// Compiles a file the checker found free of errors.
pub fn compile(checked: &Checked, source: &str) -> Artifact {
    let hash = source_hash(source);
    let version = &hash[..12];
    Artifact {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        programs: checked
            .file()
            .workflows
            .iter()
            .map(|workflow| Compiler::new(workflow, checked.templates(), version).program())
            .collect(),
        source_hash: hash.clone(),
    }
}

/// SHA-256 of a source text, in lowercase hex.
pub fn source_hash(source: &str) -> String {
    Sha256::digest(source.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The state of compiling one workflow.
struct Compiler<'a> {
    workflow: &'a Workflow,
    /// The `body file` texts the checker read.
    templates: &'a TemplateFiles,
    /// Whose payload `event.FIELD` names: the trigger's ([`TRIGGER_PAYLOAD`])
    /// or, in a goal on an event, that event's.
    payload: String,
    program: Program,
}

/// The slot prefix of the trigger event's payload.
const TRIGGER_PAYLOAD: &str = "event";

impl<'a> Compiler<'a> {
    fn new(workflow: &'a Workflow, templates: &'a TemplateFiles, version: &str) -> Self {
        let mut program = Program {
            name: workflow.name.name.clone(),
            version: version.to_owned(),
            timezone: DEFAULT_TIMEZONE,
            reentry: ReEntryPolicy::Never,
            look_back_days: DEFAULT_LOOK_BACK_DAYS,
            send_failure: crate::ast::SendFailure::default(),
            slots: Vec::new(),
            trigger: Trigger {
                event: None,
                criteria: None,
            },
            goals: Vec::new(),
            windows: [None, None, None],
            code: Vec::new(),
            origins: Vec::new(),
            conditions: Vec::new(),
            texts: Vec::new(),
            effects: Vec::new(),
            names: Vec::new(),
            splits: Vec::new(),
            clock_waits: Vec::new(),
            field_waits: Vec::new(),
            event_waits: Vec::new(),
            holidays: Vec::new(),
            outside: Vec::new(),
        };
        program.slots = slots(workflow);
        Compiler {
            workflow,
            templates,
            payload: TRIGGER_PAYLOAD.to_owned(),
            program,
        }
    }

    fn program(mut self) -> Program {
        self.settings();
        self.trigger();
        for goal in &self.workflow.goals {
            let event = goal.watch.event().map(|event| event.name.clone());
            self.payload = event.clone().unwrap_or_else(|| TRIGGER_PAYLOAD.to_owned());
            let condition = goal.watch.criteria().map(|expr| self.condition(expr));
            self.payload = TRIGGER_PAYLOAD.to_owned();
            self.program.goals.push(Goal {
                name: goal.name.name.clone(),
                event,
                condition,
            });
        }
        for window in &self.workflow.windows {
            let index = channel_index(window.channel.node);
            self.program.windows[index].get_or_insert_with(|| compile_window(window));
        }
        let steps = self.workflow.step_list();
        self.steps(steps);
        self.program
    }

    fn settings(&mut self) {
        let mut zone_set = false;
        for setting in &self.workflow.settings {
            match &setting.kind {
                SettingKind::Timezone(name) if !zone_set => {
                    zone_set = true;
                    self.program.timezone = name.node.parse().unwrap_or(DEFAULT_TIMEZONE);
                }
                SettingKind::ReEntry(policy) => {
                    self.program.reentry = match policy {
                        ReEntry::Never => ReEntryPolicy::Never,
                        ReEntry::Always => ReEntryPolicy::Always,
                        ReEntry::After(duration) => ReEntryPolicy::After(period(duration)),
                    }
                }
                SettingKind::Holidays(holidays) => {
                    let dates = match holidays {
                        crate::ast::Holidays::Dates(dates) => dates
                            .iter()
                            .filter_map(|date| date.node.parse().ok())
                            .collect(),
                        crate::ast::Holidays::File(path) => self
                            .templates
                            .holidays(&path.static_text())
                            .map(<[_]>::to_vec)
                            .unwrap_or_default(),
                    };
                    self.program.holidays.extend(dates);
                    self.program.holidays.sort_unstable();
                    self.program.holidays.dedup();
                }
                SettingKind::LookBack(duration) => {
                    self.program.look_back_days = match period(duration) {
                        Period::Days(days) => days.min(u64::from(u32::MAX)) as u32,
                        Period::Seconds(seconds) => (seconds / 86_400).max(1) as u32,
                    }
                }
                SettingKind::SendFailure(policy) => self.program.send_failure = *policy,
                SettingKind::Timezone(_) => {}
            }
        }
    }

    fn trigger(&mut self) {
        let Some(trigger) = self.workflow.triggers.first() else {
            return;
        };
        self.program.trigger = match &trigger.kind {
            Watch::Criteria(expr) => Trigger {
                event: None,
                criteria: Some(self.condition(expr)),
            },
            Watch::Event { event, criteria } => Trigger {
                event: Some(event.name.clone()),
                criteria: criteria.as_ref().map(|expr| self.condition(expr)),
            },
        };
    }
}

/// Every slot of a workflow: standard fields, declared fields, extracted
/// fields, then the trigger event's payload as `event.FIELD` and the
/// payloads of events goals and `wait for` steps wait for as `EVENT.FIELD`.
fn slots(workflow: &Workflow) -> Vec<Slot> {
    let mut slots: Vec<Slot> = STANDARD_FIELDS
        .iter()
        .map(|(name, base, _)| Slot {
            name: (*name).to_owned(),
            ty: ValueType {
                base: *base,
                list: false,
            },
            source: SlotSource::Lead,
        })
        .collect();
    let add = |slots: &mut Vec<Slot>, name: String, ty: ValueType, source| {
        if !slots.iter().any(|slot| slot.name == name) {
            slots.push(Slot { name, ty, source });
        }
    };
    for field in &workflow.fields {
        let ty = value_type(&field.ty);
        add(&mut slots, field.name.name.clone(), ty, SlotSource::Lead);
    }
    let top = workflow.step_list();
    for step in crate::check::all_steps(top) {
        for extraction in steps::extractions(step) {
            let ty = value_type(&extraction.ty);
            add(
                &mut slots,
                extraction.name.name.clone(),
                ty,
                SlotSource::Extracted,
            );
        }
    }
    let trigger_event = workflow.triggers.first().and_then(|t| t.kind.event());
    let goal_events = workflow.goals.iter().filter_map(|goal| goal.watch.event());
    let waited_events =
        crate::check::all_steps(top)
            .into_iter()
            .filter_map(|step| match &step.kind {
                crate::ast::StepKind::WaitForEvent(wait) => Some(&wait.event),
                _ => None,
            });
    let payloads = trigger_event
        .map(|event| (TRIGGER_PAYLOAD, event))
        .into_iter()
        .chain(
            goal_events
                .chain(waited_events)
                .map(|event| (event.name.as_str(), event)),
        );
    for (prefix, event) in payloads {
        for field in workflow.event(&event.name).map_or(&[][..], |e| &e.fields) {
            let name = format!("{prefix}.{}", field.name.name);
            add(&mut slots, name, value_type(&field.ty), SlotSource::Event);
        }
    }
    slots
}

fn value_type(ty: &crate::ast::FieldType) -> ValueType {
    ValueType {
        base: ty.base,
        list: ty.list,
    }
}

/// A duration as elapsed seconds, or as calendar days for days and longer.
pub(crate) fn period(duration: &crate::ast::Duration) -> Period {
    let amount = duration.amount;
    match duration.unit {
        TimeUnit::Second => Period::Seconds(amount),
        TimeUnit::Minute => Period::Seconds(amount.saturating_mul(60)),
        TimeUnit::Hour => Period::Seconds(amount.saturating_mul(3600)),
        TimeUnit::Day => Period::Days(amount),
        TimeUnit::Week => Period::Days(amount.saturating_mul(7)),
        TimeUnit::Year => Period::Days(amount.saturating_mul(365)),
    }
}

fn compile_window(window: &AstWindow) -> Window {
    let days = window
        .days
        .iter()
        .flatten()
        .fold(0u8, |bits, day| bits | day_bits(day.node));
    let mut ranges: Vec<(u16, u16)> = window
        .ranges
        .iter()
        .map(|range| {
            let minute = |clock: &crate::ast::Clock| {
                ((clock.hour * 60 + clock.minute) as u16).min(MINUTES_PER_DAY)
            };
            (minute(&range.start), minute(&range.end))
        })
        .filter(|(start, end)| start < end)
        .collect();
    ranges.sort_unstable();
    Window {
        hours: Hours { days, ranges },
        zone: window.zone,
        skip_holidays: window.skip_holidays,
    }
}

/// The days a list of day specs allows, as bits (Monday = bit 0); none
/// written: every day.
pub(crate) fn days_bits(days: Option<&[crate::span::Spanned<DaySpec>]>) -> u8 {
    match days {
        Some(days) => days.iter().fold(0u8, |bits, day| bits | day_bits(day.node)),
        None => 0x7f,
    }
}

fn day_bits(day: DaySpec) -> u8 {
    let bit = |day: chrono::Weekday| 1u8 << day.num_days_from_monday();
    match day {
        DaySpec::Day(day) => bit(day),
        DaySpec::Range(from, to) => {
            let (from, to) = (from.num_days_from_monday(), to.num_days_from_monday());
            (0..7)
                .filter(|day| {
                    if from <= to {
                        (from..=to).contains(day)
                    } else {
                        *day >= from || *day <= to
                    }
                })
                .fold(0, |bits, day| bits | (1 << day))
        }
        DaySpec::Weekdays => 0b0011111,
        DaySpec::Weekends => 0b1100000,
        DaySpec::EveryDay => 0b1111111,
    }
}
