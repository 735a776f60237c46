//! Lead updates for the live store: records from a `.csv` file or JSON
//! Lines (or the API's JSON objects), read against the types the live
//! workflows declare.

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::{
    jsonl_objects, push, record_head, take_script, BadRecord, NumberedObject, Read, RecordHead,
};
use crate::runtime::live::{FieldTypes, LeadUpdate};
use crate::value::{self, ValueType};

/// Lead updates for the live store from a `.csv` file or JSON Lines: every
/// key but `id`, `at` and `simulate` is a field; a field some live workflow
/// declares is read with its type (`types`), others are kept as given.
pub fn read_updates(path: &Path, types: &FieldTypes) -> std::io::Result<Read<LeadUpdate>> {
    let mut records = Vec::new();
    let bad = read_updates_in_batches(path, types, usize::MAX, |batch| {
        records.extend(batch);
        true
    })?;
    Ok(Read { records, bad })
}

/// [`read_updates`] a batch at a time, so that importing one batch can
/// overlap reading the next: `each` gets the good records `size` at a time
/// (the last batch may be smaller) and says whether to go on; gives the
/// bad records. The file is read whole before the first batch: a file
/// that cannot be read (or is not UTF-8 text) gives none.
pub fn read_updates_in_batches(
    path: &Path,
    types: &FieldTypes,
    size: usize,
    mut each: impl FnMut(Vec<LeadUpdate>) -> bool,
) -> std::io::Result<Vec<BadRecord>> {
    let text = std::fs::read_to_string(path)?;
    let file = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    let objects: Box<dyn Iterator<Item = std::io::Result<NumberedObject>>> = if is_csv {
        Box::new(
            csv_objects(&text, &types.types, types.zone)
                .into_iter()
                .map(Ok),
        )
    } else {
        Box::new(jsonl_objects(text.as_bytes(), "a lead"))
    };
    let mut read = Read::default();
    for numbered in objects {
        let (line, object) = numbered?;
        let update = object.and_then(|object| update_from_object(object, types));
        push(&mut read, update, &file, line);
        if read.records.len() >= size && !each(std::mem::take(&mut read.records)) {
            return Ok(read.bad);
        }
    }
    if !read.records.is_empty() {
        each(read.records);
    }
    Ok(read.bad)
}

fn csv_objects(
    text: &str,
    types: &std::collections::BTreeMap<String, ValueType>,
    zone: chrono_tz::Tz,
) -> Vec<NumberedObject> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => return vec![(1, Err(format!("unreadable header row: {error}")))],
    };
    reader
        .records()
        .map(|row| match row {
            Ok(row) => {
                let line = row
                    .position()
                    .map_or(0, |position| position.line() as usize);
                let mut object = Map::new();
                for (header, cell) in headers.iter().zip(row.iter()) {
                    let json = match types.get(header) {
                        Some(ty) => match value::from_text(cell, *ty, zone) {
                            Ok(value) => value.map_or(Json::Null, |value| value.to_json()),
                            Err(mismatch) => {
                                return (
                                    line,
                                    Err(format!(
                                        "`{header}` should be {}, not {}",
                                        mismatch.expected, mismatch.found
                                    )),
                                )
                            }
                        },
                        None if cell.trim().is_empty() => continue,
                        None => Json::String(cell.to_owned()),
                    };
                    object.insert(header.to_owned(), json);
                }
                (line, Ok(object))
            }
            Err(error) => {
                let line = error
                    .position()
                    .map_or(0, |position| position.line() as usize);
                (line, Err(format!("unreadable row: {error}")))
            }
        })
        .collect()
}

/// A lead update from a JSON object: `id` (required), `at`, and fields
/// typed as `types` says; the message says what is wrong.
pub fn update_from_object(
    mut object: Map<String, Json>,
    types: &FieldTypes,
) -> Result<LeadUpdate, String> {
    let (zone, types) = (types.zone, &types.types);
    let RecordHead {
        id,
        at,
        last_activity,
    } = record_head(&mut object, zone)?;
    let script = take_script(&mut object)?;
    let mut fields = Map::new();
    for (name, json) in object {
        let json = match types.get(&name) {
            Some(ty) => value::from_json(&json, *ty, zone)
                .map_err(|mismatch| {
                    format!(
                        "`{name}` should be {}, not {}",
                        mismatch.expected, mismatch.found
                    )
                })?
                .map_or(Json::Null, |value| value.to_json()),
            None => json,
        };
        fields.insert(name, json);
    }
    Ok(LeadUpdate {
        id,
        at,
        last_activity,
        fields,
        script,
    })
}
