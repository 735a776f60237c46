//! A readable listing of a program: header, slots, instructions with the
//! step each came from, and the constant pool.

use std::fmt::Write;

use super::{
    CondOp, Effect, Op, Operand, Period, Piece, Program, ReEntryPolicy, SlotSource, Template, Test,
    CALL_OUTCOMES,
};
use crate::ast::{Channel, OrderOp, WindowZone};
use crate::value::Value;

/// The listing of a program, as `flowc disasm` prints it.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    header(program, &mut out);
    let _ = writeln!(out, "\nslots");
    for (index, slot) in program.slots.iter().enumerate() {
        let source = match slot.source {
            SlotSource::Lead => "lead",
            SlotSource::Extracted => "extracted",
            SlotSource::Event => "event",
        };
        let _ = writeln!(
            out,
            "  {index:>3}  {:<24} {source:<9} {}",
            slot.name,
            slot.ty.describe()
        );
    }
    let _ = writeln!(out, "\ncode");
    for (pc, op) in program.code.iter().enumerate() {
        let label = program
            .origins
            .get(pc)
            .map_or("", |origin| origin.label.as_str());
        let _ = writeln!(out, "  {pc:>4}  {label:<24} {}", instruction(program, op));
    }
    let _ = writeln!(out, "\nconditions");
    for (index, condition) in program.conditions.iter().enumerate() {
        let ops: Vec<String> = condition
            .ops
            .iter()
            .map(|op| cond_op(program, op))
            .collect();
        let _ = writeln!(out, "  c{index:<3} {}", ops.join(" ; "));
    }
    let _ = writeln!(out, "\ntexts");
    for (index, text) in program.texts.iter().enumerate() {
        let _ = writeln!(out, "  t{index:<3} {}", template(program, text));
    }
    let _ = writeln!(out, "\neffects");
    for (index, effect) in program.effects.iter().enumerate() {
        let _ = writeln!(out, "  e{index:<3} {}", describe_effect(effect));
    }
    out
}

fn header(program: &Program, out: &mut String) {
    let _ = writeln!(out, "workflow {}", program.name);
    let _ = writeln!(out, "  timezone {}", program.timezone.name());
    let reentry = match program.reentry {
        ReEntryPolicy::Never => "never".to_owned(),
        ReEntryPolicy::Always => "always".to_owned(),
        ReEntryPolicy::After(period) => format!("after {}", describe_period(period)),
    };
    let _ = writeln!(out, "  re-entry {reentry}");
    let _ = writeln!(out, "  look back {} days", program.look_back_days);
    let _ = writeln!(out, "  on send failure {}", program.send_failure.keyword());
    let trigger = &program.trigger;
    let _ = writeln!(out, "  trigger {}", watch(&trigger.event, trigger.criteria));
    for goal in &program.goals {
        let _ = writeln!(
            out,
            "  goal {} {}",
            goal.name,
            watch(&goal.event, goal.condition)
        );
    }
    for channel in [Channel::Email, Channel::Text, Channel::Call] {
        if let Some(window) = program.window(channel) {
            let ranges: Vec<String> = window
                .hours
                .ranges
                .iter()
                .map(|(start, end)| format!("{}-{}", clock(*start), clock(*end)))
                .collect();
            let _ = writeln!(
                out,
                "  window {} {} {} in {} timezone",
                channel.keyword(),
                day_names(window.hours.days),
                ranges.join(", "),
                zone_name(window.zone)
            );
        }
    }
}

fn clock(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn describe_period(period: Period) -> String {
    match period {
        Period::Seconds(seconds) => describe_seconds(seconds),
        Period::Days(1) => "1 day".to_owned(),
        Period::Days(days) => format!("{days} days"),
    }
}

/// Elapsed time in its largest whole unit: `4h`, `90m`, `45s`.
fn describe_seconds(seconds: u64) -> String {
    match seconds {
        0 => "0s".to_owned(),
        _ if seconds % 3600 == 0 => format!("{}h", seconds / 3600),
        _ if seconds % 60 == 0 => format!("{}m", seconds / 60),
        _ => format!("{seconds}s"),
    }
}

fn target(pc: Option<u32>) -> String {
    pc.map_or_else(|| "next".to_owned(), |pc| format!("@{pc}"))
}

fn instruction(program: &Program, op: &Op) -> String {
    match op {
        Op::Effect { effect, on_error } => {
            let kind = program
                .effects
                .get(*effect as usize)
                .map_or("?", Effect::kind);
            let on_error = on_error.map_or_else(|| "fail".to_owned(), |pc| format!("@{pc}"));
            format!("effect {kind} e{effect}  on error {on_error}")
        }
        Op::Call { effect, outcomes } => {
            let branches: Vec<String> = CALL_OUTCOMES
                .iter()
                .zip(outcomes)
                .map(|(outcome, pc)| format!("{} {}", outcome.keyword(), target(*pc)))
                .collect();
            format!("call e{effect}  {}", branches.join(", "))
        }
        Op::WaitSeconds(seconds) => format!("wait {}", describe_seconds(u64::from(*seconds))),
        Op::WaitDays(days) => format!("wait {}", describe_period(Period::Days(u64::from(*days)))),
        Op::WaitUntil(minute) => format!("wait until {}", clock(*minute)),
        Op::WaitClock(index) => match program.clock_waits.get(*index as usize) {
            Some(wait) => format!(
                "wait until {}{} {} in {} timezone",
                if wait.next { "next " } else { "" },
                day_names(wait.days),
                clock(wait.minute),
                zone_name(wait.zone)
            ),
            None => format!("wait clock w{index}?"),
        },
        Op::WaitBusinessDays(days) => format!("wait {days} business days"),
        Op::WaitEvent(index) => match program.event_waits.get(*index as usize) {
            Some(wait) => format!(
                "wait for {} up to {}  on event {}, on timeout {}",
                wait.event,
                describe_period(wait.timeout),
                target(wait.on_event),
                target(wait.on_timeout)
            ),
            None => format!("wait event v{index}?"),
        },
        Op::WaitField(index) => match program.field_waits.get(*index as usize) {
            Some(wait) => {
                let sign = if wait.before { '-' } else { '+' };
                format!(
                    "wait until {} {sign} {}  if missing {}, if past {}",
                    wait.name,
                    describe_period(wait.offset),
                    target(wait.missing),
                    target(wait.past)
                )
            }
            None => format!("wait field f{index}?"),
        },
        Op::Test {
            condition,
            branch,
            target,
        } => {
            let name = name_of(program, *branch);
            format!("test c{condition} -> @{target}  branch {name}")
        }
        Op::Else(pc) => format!("else -> @{pc}"),
        Op::Split(split) => {
            let variants: Vec<String> = program
                .splits
                .get(*split as usize)
                .map(|split| {
                    split
                        .variants
                        .iter()
                        .map(|variant| {
                            format!("{} {}% @{}", variant.name, variant.percent, variant.target)
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("split s{split}  {}", variants.join(", "))
        }
        Op::Variant(name) => format!("variant {}", name_of(program, *name)),
        Op::NoMatch => "no match: exit".to_owned(),
        Op::Jump(pc) => format!("jump @{pc}"),
        Op::Loop { target, limit } => format!("loop @{target} up to {limit} times"),
        Op::Exit(reason) => match reason {
            Some(text) => format!("exit t{text}"),
            None => "exit".to_owned(),
        },
        Op::Complete => "complete".to_owned(),
    }
}

fn zone_name(zone: WindowZone) -> &'static str {
    match zone {
        WindowZone::Account => "account",
        WindowZone::Lead => "lead",
    }
}

/// Days as bits (Monday = bit 0), written `mon,tue,...`.
fn day_names(days: u8) -> String {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let named: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| days & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect();
    named.join(",")
}

fn name_of(program: &Program, name: u32) -> &str {
    program.names.get(name as usize).map_or("?", String::as_str)
}

fn slot_name(program: &Program, slot: u32) -> &str {
    program
        .slots
        .get(slot as usize)
        .map_or("?", |slot| slot.name.as_str())
}

fn cond_op(program: &Program, op: &CondOp) -> String {
    match op {
        CondOp::Test { slot, test } => {
            format!(
                "{} {}",
                slot_name(program, *slot),
                describe_test(program, test)
            )
        }
        CondOp::Not => "not".to_owned(),
        CondOp::And(count) => format!("and/{count}"),
        CondOp::Or(count) => format!("or/{count}"),
        CondOp::WindowOpen(channel) => format!("{} window is open", channel.keyword()),
    }
}

fn describe_test(program: &Program, test: &Test) -> String {
    let list = |values: &[Value]| values.iter().map(literal).collect::<Vec<_>>().join(", ");
    match test {
        Test::IsSet => "is set".to_owned(),
        Test::IsNotSet => "is not set".to_owned(),
        Test::Is(value) => format!("is {}", literal(value)),
        Test::IsNot(value) => format!("is not {}", literal(value)),
        Test::OneOf(values) => format!("is one of {}", list(values)),
        Test::NotOneOf(values) => format!("is not one of {}", list(values)),
        Test::WithinLast(period) => format!("is within last {}", describe_period(*period)),
        Test::OlderThan(period) => format!("is older than {}", describe_period(*period)),
        Test::Contains(text) => format!("contains {text:?}"),
        Test::NotContains(text) => format!("does not contain {text:?}"),
        Test::StartsWith(text) => format!("starts with {text:?}"),
        Test::EndsWith(text) => format!("ends with {text:?}"),
        Test::Order(op, value) => format!("{} {}", order_op(*op), literal(value)),
        Test::Against(op, slot) => format!("{} {}", order_op(*op), slot_name(program, *slot)),
        Test::Between(low, high) => {
            let bound = |operand: &Operand| match operand {
                Operand::Value(value) => literal(value),
                Operand::Slot(slot) => slot_name(program, *slot).to_owned(),
            };
            format!("is between {} and {}", bound(low), bound(high))
        }
        Test::WithinNext(period) => format!("is within next {}", describe_period(*period)),
        Test::Items(op, count) => {
            let words = match op {
                OrderOp::Greater => "more than",
                OrderOp::GreaterOrEqual => "at least",
                OrderOp::Less => "fewer than",
                OrderOp::LessOrEqual => "at most",
            };
            format!("has {words} {count} items")
        }
    }
}

fn order_op(op: OrderOp) -> &'static str {
    match op {
        OrderOp::Greater => ">",
        OrderOp::GreaterOrEqual => ">=",
        OrderOp::Less => "<",
        OrderOp::LessOrEqual => "<=",
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::Text(text) => format!("{text:?}"),
        Value::Datetime(instant) => instant.to_rfc3339(),
        other => other.to_json().to_string(),
    }
}

fn template(program: &Program, text: &Template) -> String {
    let mut out = String::new();
    for piece in &text.pieces {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Field {
                slot,
                default,
                case,
                fallback,
            } => {
                let _ = write!(out, "{{{{ {}", slot_name(program, *slot));
                if let Some(fallback) = fallback {
                    let _ = write!(out, " | default: {}", slot_name(program, *fallback));
                }
                if let Some(default) = default {
                    let _ = write!(out, " | default: {default:?}");
                }
                if let Some(case) = case {
                    let _ = write!(out, " | {}", format!("{case:?}").to_lowercase());
                }
                out.push_str(" }}");
            }
            Piece::JsonValue {
                slot,
                default,
                fallback,
            } => {
                let _ = write!(out, "{{{{ {} as json", slot_name(program, *slot));
                if let Some(fallback) = fallback {
                    let _ = write!(out, " | default: {}", slot_name(program, *fallback));
                }
                if let Some(default) = default {
                    let _ = write!(out, " | default: {default}");
                }
                out.push_str(" }}");
            }
            Piece::Env(name) => {
                let _ = write!(out, "{{{{ env.{name} }}}}");
            }
        }
    }
    format!("{out:?}")
}

fn describe_effect(effect: &Effect) -> String {
    let texts = |ids: &[u32]| {
        ids.iter()
            .map(|id| format!("t{id}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let optional = |id: Option<u32>| id.map_or_else(|| "-".to_owned(), |id| format!("t{id}"));
    match effect {
        Effect::Email(email) => {
            let to = match (email.to_lead, email.to_rep) {
                (true, true) => "lead+rep",
                (true, false) => "lead",
                (false, true) => "rep",
                (false, false) => "nobody",
            };
            format!(
                "email to {to} cc [{}] bcc [{}] from {} subject {} body {}",
                texts(&email.cc),
                texts(&email.bcc),
                email.from.as_deref().unwrap_or("-"),
                optional(email.subject),
                optional(email.body)
            )
        }
        Effect::Text { from, body } => {
            format!("text from {} body t{body}", from.as_deref().unwrap_or("-"))
        }
        Effect::Call { agent, from } => format!(
            "call agent {} from {}",
            agent.as_deref().unwrap_or("-"),
            from.as_deref().unwrap_or("-")
        ),
        Effect::Notify {
            service,
            target,
            message,
        } => {
            let service = service.keyword();
            format!("notify {service} {target} message t{message}")
        }
        Effect::Http(http) => {
            let headers: Vec<String> = http
                .headers
                .iter()
                .map(|(name, value)| format!("{name}=t{value}"))
                .collect();
            let extract: Vec<String> = http
                .extract
                .iter()
                .map(|extraction| format!("s{} <- {}", extraction.slot, extraction.from))
                .collect();
            format!(
                "http {:?} t{} headers [{}] body {} timeout {}s extract [{}]",
                http.method,
                http.url,
                headers.join(", "),
                optional(http.body),
                http.timeout_seconds,
                extract.join(", ")
            )
        }
        Effect::Prompt(prompt) => {
            let extract: Vec<String> = prompt
                .extract
                .iter()
                .map(|extraction| format!("s{} <- {:?}", extraction.slot, extraction.from))
                .collect();
            format!(
                "prompt t{} tools {:?} extract [{}]",
                prompt.instructions,
                prompt.tools,
                extract.join(", ")
            )
        }
    }
}

/// What a trigger or goal watches: `on EVENT when c3`, `when always`.
fn watch(event: &Option<String>, criteria: Option<u32>) -> String {
    let on = event.as_ref().map(|event| format!("on {event} "));
    let criteria = criteria.map_or_else(|| "always".to_owned(), |index| format!("c{index}"));
    format!("{}when {criteria}", on.unwrap_or_default())
}
