//! Lead and event records from JSONL or CSV files, read against a
//! program's slots. Bad records are reported with their line and skipped.
//! Lead updates for the live store are read in [`updates`].

mod updates;

pub use updates::{read_updates, read_updates_in_batches, update_from_object};

use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use crate::ast::Channel;
use crate::bytecode::{Program, SlotSource};
use crate::runtime::consent;
use crate::value::{self, DateLiteral, Value, ValueType};

/// Keys of a lead record that are never fields. (`last_activity_at` sets
/// the look-back and may also be a declared field.)
const RESERVED: [&str; 4] = ["id", "at", "simulate", "consent"];

/// A lead record: a new lead or an update of one.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadRecord {
    /// The line it was read from.
    pub line: usize,
    /// The lead's id.
    pub id: String,
    /// When it arrives; `None` for the start of the run.
    pub at: Option<DateTime<Utc>>,
    /// When the lead was last active, for the eligibility look-back.
    pub last_activity: Option<DateTime<Utc>>,
    /// Field values given by the record, by lead slot (`null` clears).
    pub fields: Vec<(u32, Option<Value>)>,
    /// Scripted provider answers for simulation, by step label or kind.
    pub simulate: Option<Map<String, Json>>,
    /// The lead's consent, where the record gives it: the channels it may
    /// not be reached on, as live runs keep them (`{"text": "opted-out"}`).
    pub consent: Option<Vec<(Channel, consent::State)>>,
}

/// An event happening to a lead.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// The file it was read from.
    pub file: String,
    /// The line it was read from.
    pub line: usize,
    /// When it happens.
    pub at: DateTime<Utc>,
    /// The lead's id.
    pub lead: String,
    /// The event's name.
    pub name: String,
    /// Its payload.
    pub data: Map<String, Json>,
}

/// A record that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRecord {
    /// The file it is in.
    pub file: String,
    /// Its line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Records read from a file, and the ones that could not be.
#[derive(Debug)]
pub struct Read<T> {
    /// Good records in file order.
    pub records: Vec<T>,
    /// Bad ones.
    pub bad: Vec<BadRecord>,
}

/// Reads leads from a `.csv` file, or JSON Lines otherwise.
///
/// The file is read as it is parsed, a line at a time: a million leads
/// never hold their file's text in memory at once.
pub fn read_leads(path: &Path, program: &Program) -> std::io::Result<Read<LeadRecord>> {
    let reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let file = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    if is_csv {
        Ok(leads_from_csv_reader(reader, &file, program))
    } else {
        leads_from_jsonl_reader(reader, &file, program)
    }
}

/// The objects of JSON Lines with their line numbers (from 1), or why a
/// line is not one; blank lines are skipped. `what` names the records in
/// messages ("a lead"). Stops at the first error reading `reader`.
fn jsonl_objects<'t>(
    reader: impl BufRead + 't,
    what: &'t str,
) -> impl Iterator<Item = std::io::Result<NumberedObject>> + 't {
    reader
        .split(b'\n')
        .enumerate()
        .map(move |(index, line)| {
            let line = line?;
            let object = match std::str::from_utf8(&line) {
                Ok(text) if text.trim().is_empty() => return Ok(None),
                Ok(text) => match serde_json::from_str::<Json>(text) {
                    Ok(Json::Object(object)) => Ok(object),
                    Ok(other) => Err(format!(
                        "{what} is a JSON object, not {}",
                        value::describe_json(&other)
                    )),
                    Err(error) => Err(format!("not valid JSON: {error}")),
                },
                Err(error) => Err(format!("not UTF-8 text: {error}")),
            };
            Ok(Some((index + 1, object)))
        })
        .filter_map(std::io::Result::transpose)
}

/// Reads leads from JSON Lines text: one object per line, blank lines skipped.
pub fn leads_from_jsonl(text: &str, file: &str, program: &Program) -> Read<LeadRecord> {
    // Reading from memory cannot fail.
    leads_from_jsonl_reader(text.as_bytes(), file, program).unwrap_or_default()
}

/// Reads leads from JSON Lines as `reader` gives them.
fn leads_from_jsonl_reader(
    reader: impl BufRead,
    file: &str,
    program: &Program,
) -> std::io::Result<Read<LeadRecord>> {
    records_from_jsonl(reader, file, "a lead", |object, line| {
        lead_from_object(object, line, program)
    })
}

/// Reads records of JSON Lines as `reader` gives them, each object read by
/// `record` with its line.
fn records_from_jsonl<T>(
    reader: impl BufRead,
    file: &str,
    what: &str,
    record: impl Fn(Map<String, Json>, usize) -> Result<T, String>,
) -> std::io::Result<Read<T>> {
    let mut read = Read::default();
    for numbered in jsonl_objects(reader, what) {
        let (line, object) = numbered?;
        push(
            &mut read,
            object.and_then(|object| record(object, line)),
            file,
            line,
        );
    }
    Ok(read)
}

/// Reads leads from CSV text with a header row. Cells are read as the
/// field's type; an empty cell is missing; `simulate` holds JSON.
pub fn leads_from_csv(text: &str, file: &str, program: &Program) -> Read<LeadRecord> {
    leads_from_csv_reader(text.as_bytes(), file, program)
}

/// Reads leads from CSV as `reader` gives them (an unreadable row, or an
/// error reading, is a bad record).
fn leads_from_csv_reader(
    reader: impl std::io::Read,
    file: &str,
    program: &Program,
) -> Read<LeadRecord> {
    let mut read = Read::default();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            read.bad.push(BadRecord {
                file: file.to_owned(),
                line: 1,
                message: format!("unreadable header row: {error}"),
            });
            return read;
        }
    };
    for row in reader.records() {
        let (line, result) = match row {
            Ok(row) => {
                let line = row
                    .position()
                    .map_or(0, |position| position.line() as usize);
                (line, lead_from_row(&headers, &row, line, program))
            }
            Err(error) => {
                let line = error
                    .position()
                    .map_or(0, |position| position.line() as usize);
                (line, Err(format!("unreadable row: {error}")))
            }
        };
        push(&mut read, result, file, line);
    }
    read
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read {
            records: Vec::new(),
            bad: Vec::new(),
        }
    }
}

fn push<T>(read: &mut Read<T>, result: Result<T, String>, file: &str, line: usize) {
    match result {
        Ok(record) => read.records.push(record),
        Err(message) => read.bad.push(BadRecord {
            file: file.to_owned(),
            line,
            message,
        }),
    }
}

/// Takes a record's `id`: text, or a number written as text.
fn record_id(object: &mut Map<String, Json>) -> Result<String, String> {
    match object.remove("id") {
        Some(Json::String(id)) if !id.trim().is_empty() => Ok(id),
        Some(Json::Number(number)) => Ok(number.to_string()),
        Some(other) => Err(format!(
            "`id` must be text or a number, not {}",
            value::describe_json(&other)
        )),
        None => Err("the record has no `id`".to_owned()),
    }
}

/// What every lead record (and lead update) begins with.
struct RecordHead {
    /// The lead's id.
    id: String,
    /// When it applies, if not at once.
    at: Option<DateTime<Utc>>,
    /// When the lead was last active (`last_activity_at`, which may also
    /// be a declared field, so it stays in the object).
    last_activity: Option<DateTime<Utc>>,
}

/// Reads a record's id, `at` and `last_activity_at` out of `object`.
fn record_head(object: &mut Map<String, Json>, zone: chrono_tz::Tz) -> Result<RecordHead, String> {
    Ok(RecordHead {
        id: record_id(object)?,
        at: instant(object.remove("at"), "at", zone)?,
        last_activity: instant(
            object.get("last_activity_at").cloned(),
            "last_activity_at",
            zone,
        )?,
    })
}

/// Takes a record's `simulate` script out of it: an object, or nothing.
fn take_script(object: &mut Map<String, Json>) -> Result<Option<Map<String, Json>>, String> {
    match object.remove("simulate") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Object(script)) => Ok(Some(script)),
        Some(other) => Err(format!(
            "`simulate` must be an object, not {}",
            value::describe_json(&other)
        )),
    }
}

fn lead_from_object(
    mut object: Map<String, Json>,
    line: usize,
    program: &Program,
) -> Result<LeadRecord, String> {
    let zone = program.timezone;
    let RecordHead {
        id,
        at,
        last_activity,
    } = record_head(&mut object, zone)?;
    let simulate = take_script(&mut object)?;
    if let Some(script) = &simulate {
        crate::runtime::recorder::check_script(program, script)?;
    }
    let consent = object.remove("consent").map(read_consent).transpose()?;
    let fields = read_fields(
        program,
        |name| object.get(name),
        |json, ty| value::from_json(json, ty, zone),
    )?;
    Ok(LeadRecord {
        line,
        id,
        at,
        last_activity,
        fields,
        simulate,
        consent,
    })
}

fn lead_from_row(
    headers: &csv::StringRecord,
    row: &csv::StringRecord,
    line: usize,
    program: &Program,
) -> Result<LeadRecord, String> {
    let cell = |name: &str| {
        headers
            .iter()
            .position(|header| header == name)
            .and_then(|index| row.get(index))
    };
    let id = cell("id")
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or("the record has no `id`")?
        .to_owned();
    let zone = program.timezone;
    let text_instant = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        let Some(text) = cell(name).map(str::trim).filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        instant(Some(Json::String(text.to_owned())), name, zone)
    };
    let at = text_instant("at")?;
    let last_activity = text_instant("last_activity_at")?;
    let simulate = match cell("simulate")
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => None,
        Some(text) => match serde_json::from_str(text) {
            Ok(Json::Object(script)) => {
                crate::runtime::recorder::check_script(program, &script)?;
                Some(script)
            }
            _ => return Err("`simulate` must hold a JSON object".to_owned()),
        },
    };
    let consent = match cell("consent")
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        None => None,
        Some(text) => {
            Some(read_consent(serde_json::from_str(text).map_err(|_| {
                "`consent` must hold a JSON object".to_owned()
            })?)?)
        }
    };
    let fields = read_fields(program, cell, |text, ty| value::from_text(text, ty, zone))?;
    Ok(LeadRecord {
        line,
        id,
        at,
        last_activity,
        fields,
        simulate,
        consent,
    })
}

/// A lead's consent as a leads file gives it: an object from channel
/// (`email`, `text`, `call`) to state (`opted-in`, `opted-out`,
/// `unsubscribed`, `undeliverable`).
fn read_consent(json: Json) -> Result<Vec<(Channel, consent::State)>, String> {
    let wrong = || {
        "`consent` must be an object like {\"text\": \"opted-out\"}: channels email, text, call; states opted-in, opted-out, unsubscribed, undeliverable".to_owned()
    };
    let Json::Object(object) = json else {
        return Err(wrong());
    };
    object
        .iter()
        .map(|(channel, state)| {
            let channel = consent::channel(channel).ok_or_else(wrong)?;
            let state = state
                .as_str()
                .and_then(consent::State::parse)
                .ok_or_else(wrong)?;
            Ok((channel, state))
        })
        .collect()
}

/// The values a record gives for the program's lead fields: `get` finds a
/// field's raw value, `read` reads it with the field's type.
fn read_fields<T>(
    program: &Program,
    get: impl Fn(&str) -> Option<T>,
    read: impl Fn(T, ValueType) -> Result<Option<Value>, value::TypeMismatch>,
) -> Result<Vec<(u32, Option<Value>)>, String> {
    let mut fields = Vec::new();
    for (slot, declared) in lead_slots(program) {
        let Some(raw) = get(&declared.name) else {
            continue;
        };
        let value = read(raw, declared.ty).map_err(|mismatch| {
            format!(
                "`{}` should be {}, not {}",
                declared.name, mismatch.expected, mismatch.found
            )
        })?;
        fields.push((slot, value));
    }
    Ok(fields)
}

/// The slots a lead record may fill: lead fields, not extractions or events.
fn lead_slots(program: &Program) -> impl Iterator<Item = (u32, &crate::bytecode::Slot)> {
    program
        .slots
        .iter()
        .enumerate()
        .filter(|(_, slot)| {
            slot.source == SlotSource::Lead && !RESERVED.contains(&slot.name.as_str())
        })
        .map(|(index, slot)| (index as u32, slot))
}

fn instant(
    json: Option<Json>,
    key: &str,
    zone: chrono_tz::Tz,
) -> Result<Option<DateTime<Utc>>, String> {
    match json {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => DateLiteral::parse(&text)
            .map(|date| Some(date.instant(zone)))
            .ok_or_else(|| format!("`{key}` is not a date like 2026-03-08T09:00:00Z: {text:?}")),
        Some(other) => Err(format!(
            "`{key}` must be a date in quotes, not {}",
            value::describe_json(&other)
        )),
    }
}

/// Reads events from JSON Lines: `{"at": ..., "lead": ..., "event": ..., "data": {...}}`.
pub fn read_events(path: &Path, zone: chrono_tz::Tz) -> std::io::Result<Read<EventRecord>> {
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    events_from_reader(reader, &path.display().to_string(), zone)
}

/// Reads events from JSON Lines text.
pub fn events_from_jsonl(text: &str, file: &str, zone: chrono_tz::Tz) -> Read<EventRecord> {
    // Reading from memory cannot fail.
    events_from_reader(text.as_bytes(), file, zone).unwrap_or_default()
}

fn events_from_reader(
    reader: impl BufRead,
    file: &str,
    zone: chrono_tz::Tz,
) -> std::io::Result<Read<EventRecord>> {
    records_from_jsonl(reader, file, "an event", |object, line| {
        event_from_object(object, file, line, zone)
    })
}

fn event_from_object(
    mut object: Map<String, Json>,
    file: &str,
    line: usize,
    zone: chrono_tz::Tz,
) -> Result<EventRecord, String> {
    let at = instant(object.remove("at"), "at", zone)?.ok_or("the event has no `at` time")?;
    let lead = match object.remove("lead") {
        Some(Json::String(id)) => id,
        Some(Json::Number(number)) => number.to_string(),
        _ => return Err("the event has no `lead` id".to_owned()),
    };
    let name = match object.remove("event") {
        Some(Json::String(name)) => name,
        _ => return Err("the event has no `event` name".to_owned()),
    };
    let data = match object.remove("data") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(data)) => data,
        Some(_) => return Err("`data` must be an object".to_owned()),
    };
    Ok(EventRecord {
        file: file.to_owned(),
        line,
        at,
        lead,
        name,
        data,
    })
}

/// A record's line and its object, or why it is not one.
type NumberedObject = (usize, Result<Map<String, Json>, String>);

#[cfg(test)]
mod tests {
    use super::*;

    /// A `simulate` that is not an object is the record's error, located,
    /// in a leads file read for a simulation and in one imported alike.
    #[test]
    fn a_simulate_script_that_is_no_object_is_refused_by_both_readers() {
        let source = "workflow w\n  trigger when email is set\n  steps\n    wait 1 day\n";
        let artifact = crate::compile::compile_source(source, None).expect("compiles");
        let text = "{\"id\": \"a\", \"simulate\": 3}\n{\"id\": \"b\", \"simulate\": {}}\n";
        let leads = leads_from_jsonl(text, "leads.jsonl", &artifact.programs[0]);
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("leads.jsonl");
        std::fs::write(&path, text).expect("written");
        let types = crate::runtime::live::FieldTypes::untyped(chrono_tz::UTC);
        let updates = read_updates(&path, &types).expect("read");
        for (good, bad) in [
            (leads.records.len(), &leads.bad),
            (updates.records.len(), &updates.bad),
        ] {
            assert_eq!(good, 1, "the record with an object is read");
            assert_eq!(bad.len(), 1);
            assert_eq!(bad[0].line, 1);
            assert!(
                bad[0]
                    .message
                    .contains("`simulate` must be an object, not the number 3"),
                "{}",
                bad[0].message
            );
        }
    }
}
