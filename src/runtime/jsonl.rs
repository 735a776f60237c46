//! Timeline events as JSON Lines, written as they happen: one object per
//! event, `{"workflow", "lead", "enrollment", "at", "step", "kind",
//! "detail"}`, with `at` in the workflow's timezone as RFC 3339.
//!
//! A simulation of a million leads writes several million of these, so the
//! parts that never change (the workflow's name, each step's label) are
//! escaped once, and instants are formatted without going through a format
//! string; the output is the same as serializing each event with serde.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::TimelineEvent;
use crate::bytecode::Program;
use crate::calendar;

/// Writes timeline events of one workflow as JSON Lines to `out` in
/// chunks, keeping the first write error (later events are then dropped)
/// for [`finish`].
///
/// [`finish`]: JsonlWriter::finish
pub struct JsonlWriter<W: Write> {
    out: W,
    /// Lines not yet written, and how many events they hold.
    pending: Vec<u8>,
    pending_events: u64,
    /// `{"workflow":NAME,"lead":`
    head: Vec<u8>,
    /// `,"step":LABEL,"kind":` by instruction, and for `entered`.
    steps: Vec<Vec<u8>>,
    entered: Vec<u8>,
    zone: Tz,
    /// The last instant formatted, and how it reads.
    instant: Option<(DateTime<Utc>, String)>,
    /// Events written to `out` in full.
    written: u64,
    error: Option<io::Error>,
}

/// Bytes of lines written at once.
const CHUNK: usize = 1 << 16;

impl<W: Write> JsonlWriter<W> {
    /// A writer of `program`'s events to `out`.
    pub fn new(program: &Program, out: W) -> Self {
        let mut head = b"{\"workflow\":".to_vec();
        string(&mut head, &program.name);
        head.extend_from_slice(b",\"lead\":");
        let step = |label: &str| {
            let mut part = b",\"step\":".to_vec();
            string(&mut part, label);
            part.extend_from_slice(b",\"kind\":");
            part
        };
        JsonlWriter {
            out,
            pending: Vec::with_capacity(CHUNK + 1024),
            pending_events: 0,
            head,
            steps: program
                .origins
                .iter()
                .map(|origin| step(&origin.label))
                .collect(),
            entered: step("-"),
            zone: program.timezone,
            instant: None,
            written: 0,
            error: None,
        }
    }

    /// Writes one event of lead `lead`.
    pub fn event(&mut self, lead: &str, timeline_event: &TimelineEvent) {
        if self.error.is_some() {
            return;
        }
        let event = &timeline_event.event;
        let mut line = std::mem::take(&mut self.pending);
        line.extend_from_slice(&self.head);
        string(&mut line, lead);
        line.extend_from_slice(b",\"enrollment\":");
        decimal(&mut line, timeline_event.enrollment);
        line.extend_from_slice(b",\"at\":\"");
        line.extend_from_slice(self.at(event.at).as_bytes());
        line.push(b'"');
        let step = if event.kind.at_a_step() {
            self.steps.get(event.pc as usize)
        } else {
            Some(&self.entered)
        };
        match step {
            Some(step) => line.extend_from_slice(step),
            None => line.extend_from_slice(b",\"step\":\"?\",\"kind\":"),
        }
        line.push(b'"');
        line.extend_from_slice(event.kind.name().as_bytes());
        line.push(b'"');
        if !event.detail.is_empty() {
            line.extend_from_slice(b",\"detail\":");
            string(&mut line, &event.detail);
        }
        line.extend_from_slice(b"}\n");
        self.pending = line;
        self.pending_events += 1;
        if self.pending.len() >= CHUNK {
            self.flush();
        }
    }

    /// Writes the pending lines.
    fn flush(&mut self) {
        if self.error.is_none() {
            match self.out.write_all(&self.pending) {
                Ok(()) => self.written += self.pending_events,
                Err(error) => self.error = Some(error),
            }
        }
        self.pending.clear();
        self.pending_events = 0;
    }

    /// Writes a line of its own (a summary) after the events.
    pub fn line(&mut self, text: &str) {
        self.pending.extend_from_slice(text.as_bytes());
        self.pending.push(b'\n');
    }

    /// Writes what is pending: the number of events written, or the first
    /// error with the number of events written in full before it.
    pub fn finish(mut self) -> Result<u64, (u64, io::Error)> {
        self.flush();
        match self.error.take().or_else(|| self.out.flush().err()) {
            None => Ok(self.written),
            Some(error) => Err((self.written, error)),
        }
    }

    /// `at` in the workflow's timezone, as `to_rfc3339` writes it; the
    /// last one is kept, since an activation's events share their instant.
    fn at(&mut self, at: DateTime<Utc>) -> &str {
        if self.instant.as_ref().is_none_or(|(last, _)| *last != at) {
            self.instant = Some((at, calendar::rfc3339(at, self.zone)));
        }
        self.instant.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it.
fn string(out: &mut Vec<u8>, text: &str) {
    if !needs_escape(text.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// Whether any byte is a control character, `"` or `\\`, eight bytes at a
/// time: a byte below 0x20 makes `v - 0x20..` borrow into its high bit
/// where `v` has none, and a byte equal to `c` is a zero byte of `v ^ c..`.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let below = |v: u64, n: u64| v.wrapping_sub(ONES * n) & !v & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_ne_bytes(word);
        if below(v, 0x20) | below(v ^ (ONES * 0x22), 1) | below(v ^ (ONES * 0x5C), 1) != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Appends `number` in decimal.
fn decimal(out: &mut Vec<u8>, mut number: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::{Event, EventKind};
    use proptest::prelude::*;

    /// An event as serde writes it, the reference the writer must equal.
    fn reference(
        workflow: &str,
        lead: &str,
        step: &str,
        event: &TimelineEvent,
        zone: Tz,
    ) -> String {
        let mut object = serde_json::json!({
            "workflow": workflow,
            "lead": lead,
            "enrollment": event.enrollment,
            "at": event.event.at.with_timezone(&zone).to_rfc3339(),
            "step": step,
            "kind": event.event.kind,
        });
        if !event.event.detail.is_empty() {
            object["detail"] = event.event.detail.clone().into();
        }
        // Keys in the writer's order, which serde_json's map sorts.
        let order = [
            "workflow",
            "lead",
            "enrollment",
            "at",
            "step",
            "kind",
            "detail",
        ];
        let mut text = String::from("{");
        for key in order {
            if let Some(value) = object.get(key) {
                if text.len() > 1 {
                    text.push(',');
                }
                text.push_str(&format!("{}:{}", serde_json::json!(key), value));
            }
        }
        text + "}\n"
    }

    fn program(name: &str, label: &str, zone: Tz) -> Program {
        let source = format!(
            "workflow w\n  timezone {zone}\n  trigger when email is set\n  steps\n    wait 1 day\n"
        );
        let mut program = crate::compile::compile_source(&source, None)
            .expect("compiles")
            .programs
            .remove(0);
        program.name = name.to_owned();
        for origin in &mut program.origins {
            origin.label = label.to_owned();
        }
        program
    }

    proptest! {
        #[test]
        fn finds_what_needs_escaping_at_any_position(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
            let expected = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            prop_assert_eq!(needs_escape(&bytes), expected);
        }

        #[test]
        fn writes_what_serde_writes(
            seconds in -2_300_000_000i64..5_000_000_000,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
            zone in prop::sample::select(vec![
                chrono_tz::America::New_York, chrono_tz::Asia::Kolkata,
                chrono_tz::Pacific::Apia, chrono_tz::Europe::Dublin,
                chrono_tz::Africa::Monrovia, chrono_tz::UTC,
            ]),
            name in "\\PC{0,8}|[\"\\\\\n\u{1}a]{0,4}",
            lead in "\\PC{0,8}|[\"\\\\\t\u{7f}b]{0,4}",
            detail in "\\PC{0,12}|[\"\\\\\r\u{0}c]{0,4}",
            kind in prop::sample::select(vec![EventKind::Entered, EventKind::Sent, EventKind::Failed]),
            enrollment in 1u32..,
        ) {
            let program = program(&name, &detail, zone);
            let at = DateTime::from_timestamp(seconds, nanos).expect("in range");
            let event = TimelineEvent {
                lead: 0,
                enrollment,
                event: Event { at, pc: 0, kind, detail: detail.clone() },
            };
            let mut writer = JsonlWriter::new(&program, Vec::new());
            writer.event(&lead, &event);
            writer.event(&lead, &event);
            writer.flush();
            let bytes = writer.out;
            let step = if kind == EventKind::Entered { "-" } else { detail.as_str() };
            let line = reference(&name, &lead, step, &event, zone);
            prop_assert_eq!(String::from_utf8(bytes).expect("UTF-8"), line.repeat(2));
        }
    }
}
