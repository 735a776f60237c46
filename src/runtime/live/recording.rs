//! The recording carrier ([`super::Carrier::Recorded`]): claimed effects
//! recorded in the `deliveries` table by the transaction that claimed
//! them, each answered as the simulation's recorder answers it.

use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use super::pool::{Done, Job};
use super::provider::{Attempt, CallStatus, Delivery};
use crate::runtime::recorder;
use crate::store::{marks, millis, pieces, StoreError, Tx, Value};
use crate::vm::Response;

/// Carries out a round's claimed jobs in `transaction`: each effect is
/// recorded and answered (the leads' scripts read a piece of the round at
/// a time, the rows written at commit); a call some provider placed before
/// cannot be looked at.
pub(super) fn carry(transaction: &Tx<'_>, jobs: Vec<Job>) -> Result<Vec<Done>, StoreError> {
    let deliveries: Vec<&Delivery> = jobs
        .iter()
        .filter_map(|job| match job {
            Job::Deliver(pending) => Some(&pending.delivery),
            Job::Look(_) => None,
        })
        .collect();
    let scripts = scripts(transaction, &deliveries)?;
    for delivery in &deliveries {
        insert(transaction, delivery);
    }
    Ok(jobs
        .into_iter()
        .map(|job| match job {
            Job::Deliver(pending) => {
                let answer = answer(&scripts, &pending.delivery);
                Done::Delivered(pending, Attempt::Answered(answer))
            }
            Job::Look(call) => {
                let status = CallStatus::Unknown(format!(
                    "call {} was placed by a provider, and effects are only recorded now",
                    call.call
                ));
                Done::Looked(call, status)
            }
        })
        .collect())
}

/// Records a delivery: written when the transaction commits, with the
/// round's others.
fn insert(transaction: &Tx<'_>, delivery: &Delivery) {
    transaction.append(
        "deliveries (key, attempt, kind, message, at)",
        [
            Value::Text(delivery.key.clone().into()),
            Value::Int(i64::from(delivery.attempt)),
            Value::Text(delivery.kind.clone().into()),
            Value::Text(delivery.message.clone().into()),
            Value::Int(millis(delivery.at)),
        ],
    );
}

/// Leads' `simulate` scripts, each with its lead's id, by enrollment.
type Scripts = HashMap<i64, (String, Map<String, Json>)>;

/// Whether any lead has a script.
const ANY_SCRIPT: &str = "SELECT EXISTS (SELECT 1 FROM leads WHERE script IS NOT NULL)";

/// The scripts of the deliveries' leads that have one.
fn scripts(transaction: &Tx<'_>, deliveries: &[&Delivery]) -> Result<Scripts, StoreError> {
    let mut scripts = HashMap::default();
    // Scripts are for demonstrations and tests: most databases have none,
    // which the index of scripted leads tells at once.
    let scripted: bool = transaction.query_one(ANY_SCRIPT, &[], |row| row.get(0))?;
    if !scripted {
        return Ok(scripts);
    }
    for piece in pieces(deliveries) {
        let sql = format!(
            "SELECT e.id, l.id, l.script FROM enrollments e JOIN leads l ON l.id = e.lead
             WHERE l.script IS NOT NULL AND e.id IN {}",
            marks(1, piece.len())
        );
        let ids: Vec<Value<'_>> = piece
            .iter()
            .map(|delivery| Value::Int(delivery.enrollment))
            .collect();
        let found: Vec<(i64, String, String)> =
            transaction.query(&sql, &ids, |row| row.columns())?;
        for (enrollment, lead, script) in found {
            if let Ok(Json::Object(script)) = serde_json::from_str::<Json>(&script) {
                scripts.insert(enrollment, (lead, script));
            }
        }
    }
    Ok(scripts)
}

/// The answer a delivery gets: the one its lead's `simulate` script gives
/// its step or kind (as the simulation answers), else the unscripted one.
fn answer(scripts: &Scripts, delivery: &Delivery) -> Response {
    scripts
        .get(&delivery.enrollment)
        .and_then(|(lead, script)| {
            let step = step_of(&delivery.key, lead).unwrap_or_default();
            recorder::scripted_answer(script, step, &delivery.kind, delivery.attempt)
        })
        .unwrap_or_else(|| recorder::default_response(&delivery.kind))
}

/// The step (its label or id) of an effect's key,
/// `WORKFLOW@VERSION/LEAD/ENROLLMENT/STEP#N`, knowing its lead (whose id
/// may hold a `/`).
fn step_of<'k>(key: &'k str, lead: &str) -> Option<&'k str> {
    let (_, rest) = key.split_once('/')?;
    let rest = rest.strip_prefix(lead)?.strip_prefix('/')?;
    let (_, rest) = rest.split_once('/')?;
    Some(rest.rsplit_once('#').map_or(rest, |(step, _)| step))
}

#[cfg(test)]
mod tests {
    use super::ANY_SCRIPT;
    use crate::store::{fixtures, params, Store};

    /// Every round asks whether any lead has a script: the answer comes
    /// from the index of scripted leads, not from walking the leads.
    #[test]
    fn whether_any_lead_has_a_script_is_read_from_an_index() {
        let dir = tempfile::tempdir().expect("a folder");
        let store = Store::open(dir.path().join("flowc.db")).expect("a store");
        let plan = fixtures::plan(&store, ANY_SCRIPT, params![]);
        assert!(
            plan.iter()
                .any(|step| step.contains("INDEX leads_scripted")),
            "{plan:#?}"
        );
        let any = |store: &Store| -> bool {
            store
                .query_one(ANY_SCRIPT, params![], |row| row.get(0))
                .expect("asked")
        };
        assert!(!any(&store));
        store
            .execute(
                "INSERT INTO leads (id, fields, updated_at, script) VALUES ('a', '{}', 0, '{}')",
                params![],
            )
            .expect("a scripted lead");
        assert!(any(&store));
    }
}
