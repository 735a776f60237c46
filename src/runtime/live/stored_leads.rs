//! Leads as the store keeps them: fields by name, upserts, and each
//! lead's history in a workflow.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::LeadUpdate;
use crate::ast::Channel;
use crate::bytecode::{Program, SlotSource};
use crate::runtime::consent;
use crate::runtime::entry::History;
use rustc_hash::FxHashMap as HashMap;

use crate::store::{instant, marks, millis, params, pieces, StoreError, Tx, Value as Column};
use crate::value::{self, Value};

/// The stored fields of a lead, by name, the lead's row locked until the
/// transaction ends: what is written back from them loses no one else's
/// change.
pub(super) fn lead_fields(
    transaction: &Tx<'_>,
    id: &str,
) -> Result<Option<Map<String, Json>>, StoreError> {
    let text: Option<String> = transaction.query_opt(
        "SELECT fields FROM leads WHERE id = ?1 FOR UPDATE",
        params![id],
        |row| row.get(0),
    )?;
    text.map(|text| fields_object(id, &text)).transpose()
}

/// A lead's stored fields text as the object it holds.
fn fields_object(id: &str, text: &str) -> Result<Map<String, Json>, StoreError> {
    match serde_json::from_str(text)? {
        Json::Object(fields) => Ok(fields),
        _ => Err(StoreError::Invalid(format!(
            "the fields of lead {id:?} are not an object"
        ))),
    }
}

/// What a batch of updates knows of its leads before applying them: the
/// stored fields of each lead it updates once, read a piece at a time and
/// locked until the transaction ends (one statement for many leads
/// instead of one a lead).
#[derive(Default)]
pub(super) struct ReadAhead {
    /// The leads updated once: their stored fields, `None` if new.
    once: HashMap<String, Option<Map<String, Json>>>,
}

/// What an update knows of its lead before it is applied.
pub(super) enum Prior {
    /// The lead's stored fields were read ahead (`None`: no such lead).
    Read(Option<Map<String, Json>>),
    /// Not read yet: read when the update is applied.
    Unread,
}

impl ReadAhead {
    /// Reads ahead the leads of `ids` that appear once among them (a lead
    /// updated twice is read by each update, after the one before).
    pub(super) fn read<'a>(
        transaction: &Tx<'_>,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Self, StoreError> {
        let mut seen: HashMap<&str, usize> = HashMap::default();
        for id in ids {
            *seen.entry(id).or_default() += 1;
        }
        let once: Vec<&str> = seen
            .into_iter()
            .filter_map(|(id, count)| (count == 1).then_some(id))
            .collect();
        let mut read = ReadAhead::default();
        read.once
            .extend(once.iter().map(|id| ((*id).to_owned(), None)));
        for piece in pieces(&once) {
            let sql = format!(
                "SELECT id, fields FROM leads WHERE id IN {} FOR UPDATE",
                marks(1, piece.len())
            );
            let ids: Vec<Column<'_>> = piece.iter().map(|id| Column::Text((*id).into())).collect();
            let found: Vec<(String, String)> =
                transaction.query(&sql, &ids, |row| row.columns())?;
            for (id, text) in found {
                let fields = fields_object(&id, &text)?;
                read.once.insert(id, Some(fields));
            }
        }
        Ok(read)
    }

    /// What is known of lead `id` before its update.
    pub(super) fn take(&mut self, id: &str) -> Prior {
        self.once.remove(id).map_or(Prior::Unread, Prior::Read)
    }
}

/// A lead's fields as a program's lead slots (values that do not fit a
/// slot's type count as missing).
pub(super) fn lead_slots(program: &Program, fields: &Map<String, Json>) -> Vec<Option<Value>> {
    program
        .slots
        .iter()
        .take_while(|slot| slot.source != SlotSource::Event)
        .map(|slot| {
            fields.get(&slot.name).and_then(|json| {
                value::from_json(json, slot.ty, program.timezone)
                    .ok()
                    .flatten()
            })
        })
        .collect()
}

/// A lead as stored after an update.
pub(super) struct Upserted {
    /// Its fields, by name.
    pub(super) fields: Map<String, Json>,
    /// Whether the update created it.
    pub(super) created: bool,
}

/// Merges a lead update into the stored lead.
pub(super) fn upsert_lead(
    transaction: &Tx<'_>,
    update: &LeadUpdate,
    prior: Prior,
    now: DateTime<Utc>,
) -> Result<Upserted, StoreError> {
    let stored = match prior {
        Prior::Read(stored) => stored,
        Prior::Unread => lead_fields(transaction, &update.id)?,
    };
    let created = stored.is_none();
    let mut fields = stored.unwrap_or_default();
    for (name, value) in &update.fields {
        fields.insert(name.clone(), value.clone());
    }
    let address = |name, channel| match fields.get(name) {
        Some(Json::String(address)) => Some(consent::normalize(channel, address)),
        _ => None,
    };
    transaction.execute(
        "INSERT INTO leads (id, fields, last_activity, updated_at, email, phone, script)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET fields = excluded.fields,
             last_activity = coalesce(excluded.last_activity, leads.last_activity),
             updated_at = excluded.updated_at, email = excluded.email, phone = excluded.phone,
             script = coalesce(excluded.script, leads.script)",
        params![
            update.id,
            Json::Object(fields.clone()).to_string(),
            update.last_activity.map(millis),
            millis(now),
            address("email", Channel::Email),
            address("phone_number", Channel::Text),
            update
                .script
                .as_ref()
                .map(|script| Json::Object(script.clone()).to_string())
        ],
    )?;
    Ok(Upserted { fields, created })
}

/// Lead `?1`'s past in workflow `?2` (any of its versions) and its trigger
/// state. It runs for every stored lead imported, in every workflow: it
/// names statuses by comparisons and joins the workflows, as SQLite
/// builds a table of values each time it runs for an `IN` list of more
/// than two of them or an `IN (SELECT ...)`.
pub(super) const HISTORY: &str = "SELECT past.active, past.last_entry, past.count,
            (SELECT last_activity FROM leads WHERE id = ?1), t.matching, t.flip, t.refused
     FROM (SELECT coalesce(max(CASE WHEN e.status = 'completed' OR e.status = 'exited'
                                         OR e.status = 'failed' THEN 0 ELSE 1 END), 0) AS active,
                  max(e.entered) AS last_entry, count(*) AS count
           FROM enrollments e JOIN workflows w ON w.id = e.workflow
           WHERE e.lead = ?1 AND w.name = ?2) past
     LEFT JOIN triggers t ON t.workflow = ?2 AND t.lead = ?1";

/// The lead's past in one workflow (any of its versions).
pub(super) fn history(transaction: &Tx<'_>, name: &str, lead: &str) -> Result<Past, StoreError> {
    let past = transaction.query_one(HISTORY, params![lead, name], |row| {
        let at =
            |column| -> Result<_, StoreError> { Ok(row.get::<Option<i64>>(column)?.map(instant)) };
        Ok(Past {
            history: History {
                active: row.get(0)?,
                last_entry: at(1)?,
                last_activity: at(3)?,
                matching: row.get::<Option<bool>>(4)?.unwrap_or(false),
                flip: at(5)?,
            },
            enrollments: row.get(2)?,
            refused: row.get::<Option<u8>>(6)?.unwrap_or(0),
        })
    })?;
    Ok(past)
}

/// A lead that may enter a workflow: its id and fields, and its past in
/// the workflow when the caller already knows it.
pub(super) struct Applicant<'a> {
    /// The lead's id.
    pub(super) id: &'a str,
    /// Its fields, by name.
    pub(super) fields: &'a Map<String, Json>,
    /// Its past in the workflow, if known; else it is read.
    pub(super) past: Option<Past>,
}

impl<'a> Applicant<'a> {
    /// A stored lead, whose past is read.
    pub(super) fn stored(id: &'a str, fields: &'a Map<String, Json>) -> Self {
        Applicant {
            id,
            fields,
            past: None,
        }
    }

    /// A lead this transaction has just created: it has no past in any
    /// workflow (enrollments and triggers refer to a stored lead), so none
    /// is read.
    pub(super) fn created(
        id: &'a str,
        fields: &'a Map<String, Json>,
        last_activity: Option<DateTime<Utc>>,
    ) -> Self {
        let history = History {
            last_activity,
            ..History::default()
        };
        Applicant {
            id,
            fields,
            past: Some(Past {
                history,
                enrollments: 0,
                refused: 0,
            }),
        }
    }
}

/// A lead's past in one workflow, as the live runtime keeps it.
pub(super) struct Past {
    /// What the entry rules need.
    pub(super) history: History,
    /// How many times the lead entered.
    pub(super) enrollments: u32,
    /// The refusal last recorded since the lead last entered (see
    /// [`crate::runtime::entry::Refusal::number`]; 0: none).
    pub(super) refused: u8,
}

/// Records that the entry rules turned the lead away at `now`, unless the
/// last refusal recorded since it last entered had the same reason.
pub(super) fn record_refusal(
    transaction: &Tx<'_>,
    workflow: (i64, &str),
    lead: &str,
    refusal: &crate::runtime::entry::Refusal,
    last: u8,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if last == refusal.number() {
        return Ok(());
    }
    set_refused(transaction, workflow.1, lead, refusal.number())?;
    transaction.execute(
        "INSERT INTO refusals (workflow, lead, at, code, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            workflow.0,
            lead,
            millis(now),
            refusal.code(),
            refusal.detail()
        ],
    )?;
    Ok(())
}

/// Sets the refusal last recorded for a lead in a workflow (0 once it enters).
pub(super) fn set_refused(
    transaction: &Tx<'_>,
    name: &str,
    lead: &str,
    refused: u8,
) -> Result<(), StoreError> {
    transaction.execute(
        "INSERT INTO triggers (workflow, lead, matching, refused) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (workflow, lead) DO UPDATE SET refused = excluded.refused",
        params![name, lead, refused],
    )?;
    Ok(())
}

/// Records whether a workflow's trigger criteria hold for a lead now, and
/// when a time-relative test of its trigger or goals next flips.
pub(super) fn set_trigger_state(
    transaction: &Tx<'_>,
    name: &str,
    lead: &str,
    matching: bool,
    flip: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    transaction.execute("INSERT INTO triggers (workflow, lead, matching, flip) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workflow, lead) DO UPDATE SET matching = excluded.matching, flip = excluded.flip",
        params![name, lead, matching, flip.map(millis)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{fixtures, Store};

    /// What runs for every stored lead imported builds no table each
    /// time: the lead's past in a workflow, and its enrollments a goal
    /// may end (an `IN` list of three statuses and an `IN (SELECT ...)`
    /// each made SQLite build one, a twentieth of a re-import's work).
    #[test]
    fn what_runs_for_every_lead_builds_no_table() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(dir.path().join("flowc.db")).expect("opened");
        for sql in [HISTORY, super::super::activation::UNENDED] {
            let built = fixtures::builds_a_table(&store, sql, params!["lead", "workflow"]);
            assert!(!built, "{sql}");
        }
    }

    fn update(id: &str, field: &str, value: i64) -> LeadUpdate {
        LeadUpdate {
            id: id.to_owned(),
            at: None,
            last_activity: None,
            fields: Map::from_iter([(field.to_owned(), Json::from(value))]),
            script: None,
        }
    }

    /// A batch reads its leads ahead in one statement, except a lead it
    /// updates twice: the second update merges into what the first wrote.
    #[test]
    fn a_lead_updated_twice_in_a_batch_keeps_both_updates() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut store = Store::open(dir.path().join("flowc.db")).expect("opened");
        let transaction = store.transaction().expect("begun");
        let now = Utc::now();
        let stored = update("stored", "a", 1);
        upsert_lead(&transaction, &stored, Prior::Read(None), now).expect("stored");
        let batch = [
            update("stored", "b", 2),
            update("new", "c", 3),
            update("twice", "d", 4),
            update("twice", "e", 5),
        ];
        let mut read =
            ReadAhead::read(&transaction, batch.iter().map(|u| u.id.as_str())).expect("read ahead");
        let mut fields = Vec::new();
        for update in &batch {
            let prior = read.take(&update.id);
            let upserted = upsert_lead(&transaction, update, prior, now).expect("upserted");
            fields.push((upserted.created, Json::Object(upserted.fields).to_string()));
        }
        assert_eq!(
            fields,
            [
                (false, r#"{"a":1,"b":2}"#.to_owned()),
                (true, r#"{"c":3}"#.to_owned()),
                (true, r#"{"d":4}"#.to_owned()),
                (false, r#"{"d":4,"e":5}"#.to_owned()),
            ]
        );
    }
}
