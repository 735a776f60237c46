//! The recording carrier ([`super::Carrier::Recorded`]): effects recorded
//! in the `deliveries` table by the transaction that claims them, or that
//! reaches their step ([`Answering`]), each answered as the simulation's
//! recorder answers it.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use super::pool::{Done, Job};
use super::provider::{Attempt, CallStatus, Delivery};
use super::touches;
use crate::runtime::recorder;
use crate::store::{marks, millis, params, pieces, StoreError, Tx, Value};
use crate::vm::{Request, Response};

/// The recording carrier answering effects where their step reaches them,
/// in the transaction that reaches them: the effect's outbox row is
/// written once, done, and its enrollment runs on at once, instead of
/// waiting for a round to claim and confirm it. Only effects the claim
/// would record as they stand: not calls (whose outcome happens to the
/// lead as an event once the enrollment ran on), and none in a workflow
/// with windows or under quiet hours (both checked again at the moment of
/// delivery, which may hold the lead).
#[derive(Clone, Copy, Debug)]
pub(super) struct Answering {
    /// The real moment the effects go out.
    pub(super) at: DateTime<Utc>,
}

impl Answering {
    /// Whether an effect of `kind` is answered here.
    pub(super) fn takes(&self, transaction: &Tx<'_>, kind: &str) -> Result<bool, StoreError> {
        Ok(kind != "call" && touches::current(transaction)?.quiet_hours.is_none())
    }

    /// Records the effect `request` asked for (under `key`, its message
    /// rendered as `message`) and gives its answer.
    pub(super) fn answer(
        &self,
        transaction: &Tx<'_>,
        request: &Request<'_>,
        key: &str,
        message: &str,
    ) -> Result<Response, StoreError> {
        let (kind, attempt) = (request.kind, request.attempt);
        insert(transaction, key, attempt, kind, message, self.at);
        let script = match *scripted(transaction)? {
            Scripted(false) => None,
            Scripted(true) => transaction.query_opt(
                "SELECT script FROM leads WHERE id = ?1 AND script IS NOT NULL",
                params![request.owner.lead],
                |row| row.get::<String>(0),
            )?,
        };
        let script = script.as_deref().and_then(script_object);
        Ok(answer_to(script.as_ref(), request.label, kind, attempt))
    }
}

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
        let (key, attempt, kind) = (&delivery.key, delivery.attempt, &delivery.kind);
        insert(
            transaction,
            key,
            attempt,
            kind,
            &delivery.message,
            delivery.at,
        );
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
fn insert(
    transaction: &Tx<'_>,
    key: &str,
    attempt: u32,
    kind: &str,
    message: &str,
    at: DateTime<Utc>,
) {
    transaction.append(
        "deliveries (key, attempt, kind, message, at)",
        [
            Value::Text(key.to_owned().into()),
            Value::Int(i64::from(attempt)),
            Value::Text(kind.to_owned().into()),
            Value::Text(message.to_owned().into()),
            Value::Int(millis(at)),
        ],
    );
}

/// Whether any lead has a script, read once a transaction.
struct Scripted(bool);

/// Whether any lead has a script: scripts are for demonstrations and
/// tests, most databases have none, which the index of scripted leads
/// tells at once.
fn scripted(transaction: &Tx<'_>) -> Result<std::rc::Rc<Scripted>, StoreError> {
    transaction.memo(|| {
        Ok(Scripted(
            transaction.query_one(ANY_SCRIPT, &[], |row| row.get(0))?,
        ))
    })
}

/// Leads' `simulate` scripts, each with its lead's id, by enrollment.
type Scripts = HashMap<i64, (String, Map<String, Json>)>;

/// Whether any lead has a script.
const ANY_SCRIPT: &str = "SELECT EXISTS (SELECT 1 FROM leads WHERE script IS NOT NULL)";

/// The scripts of the deliveries' leads that have one.
fn scripts(transaction: &Tx<'_>, deliveries: &[&Delivery]) -> Result<Scripts, StoreError> {
    let mut scripts = HashMap::default();
    if let Scripted(false) = *scripted(transaction)? {
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
            if let Some(script) = script_object(&script) {
                scripts.insert(enrollment, (lead, script));
            }
        }
    }
    Ok(scripts)
}

/// The answer a delivery gets ([`answer_to`]).
fn answer(scripts: &Scripts, delivery: &Delivery) -> Response {
    let (script, step) = match scripts.get(&delivery.enrollment) {
        Some((lead, script)) => (Some(script), step_of(&delivery.key, lead)),
        None => (None, None),
    };
    let step = step.unwrap_or_default();
    answer_to(script, step, &delivery.kind, delivery.attempt)
}

/// The answer attempt `attempt` at an effect of `kind` at `step` gets: the
/// one its lead's `simulate` script gives the step or kind (as the
/// simulation answers), else the unscripted one.
fn answer_to(script: Option<&Map<String, Json>>, step: &str, kind: &str, attempt: u32) -> Response {
    script
        .and_then(|script| recorder::scripted_answer(script, step, kind, attempt))
        .unwrap_or_else(|| recorder::default_response(kind))
}

/// A lead's stored `simulate` script, when it is an object.
fn script_object(text: &str) -> Option<Map<String, Json>> {
    match serde_json::from_str(text) {
        Ok(Json::Object(script)) => Some(script),
        _ => None,
    }
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
