//! Lead records imported with an `at` still to come: kept in
//! `scheduled_updates` and applied by a runner at that instant (goals and
//! the entry rules run then, as for an import at that moment), not at
//! import. A record whose `at` has passed is applied at import.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use super::stored_leads::Prior;
use super::{apply_update, Imported, LeadUpdate, Version, BATCH};
use crate::params;
use crate::store::{instant, millis, StoreError, Tx};

/// Keeps `update` until `at`.
pub(super) fn schedule(
    transaction: &Tx<'_>,
    update: &LeadUpdate,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let record = json!({
        "last_activity": update.last_activity.map(millis),
        "fields": update.fields,
        "script": update.script,
    });
    transaction.execute(
        "INSERT INTO scheduled_updates (lead, at, record) VALUES (?1, ?2, ?3)",
        params![update.id, millis(at), record.to_string()],
    )?;
    Ok(())
}

/// Applies a batch of the records due by `now`, oldest first, each at its
/// own instant; gives how many. Claimed as it is read: another runner
/// skips them, and each is deleted as it is applied, so none is applied
/// twice.
pub(super) fn apply_due(
    transaction: &Tx<'_>,
    live: &[&Version],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let due: Vec<(i64, String, i64, String)> = transaction.query(
        "SELECT id, lead, at, record FROM scheduled_updates
         WHERE at <= ?1 ORDER BY at, id LIMIT ?2 FOR UPDATE SKIP LOCKED",
        params![millis(now), BATCH],
        |row| row.columns(),
    )?;
    for (id, lead, at, record) in &due {
        transaction.execute("DELETE FROM scheduled_updates WHERE id = ?1", params![id])?;
        let update = read(lead, *at, record)?;
        apply_update(
            transaction,
            live,
            &update,
            Prior::Unread,
            instant(*at),
            &mut Imported::default(),
        )?;
    }
    Ok(due.len())
}

/// A stored record as the update it was imported as.
fn read(lead: &str, at: i64, record: &str) -> Result<LeadUpdate, StoreError> {
    let stored: Json = serde_json::from_str(record)
        .map_err(|error| StoreError::Invalid(format!("a scheduled update of {lead}: {error}")))?;
    let fields: Map<String, Json> = stored["fields"].as_object().cloned().unwrap_or_default();
    Ok(LeadUpdate {
        id: lead.to_owned(),
        at: Some(instant(at)),
        last_activity: stored["last_activity"].as_i64().map(instant),
        fields,
        script: stored["script"].as_object().cloned(),
    })
}

/// How many records wait, and the first instant one is due.
pub fn waiting(store: &crate::store::Store) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
    let (count, first): (i64, Option<i64>) = store.query_one(
        "SELECT count(*), min(at) FROM scheduled_updates",
        params![],
        |row| row.columns(),
    )?;
    Ok((count.unsigned_abs(), first.map(instant)))
}
