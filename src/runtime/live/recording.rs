//! The recording carrier ([`super::Carrier::Recorded`]): claimed effects
//! recorded in the `deliveries` table by the transaction that claimed
//! them, each answered as the simulation's recorder answers it.

use serde_json::Value as Json;

use super::pool::{Done, Job};
use super::provider::{Attempt, CallStatus, Delivery};
use crate::runtime::recorder;
use crate::store::{millis, params, StoreError, Tx};
use crate::vm::Response;

/// Carries out a claimed job in `transaction`: an effect is recorded and
/// answered; a call some provider placed before cannot be looked at.
pub(super) fn carry(transaction: &Tx<'_>, job: Job) -> Result<Done, StoreError> {
    Ok(match job {
        Job::Deliver(pending) => {
            let answer = record(transaction, &pending.delivery)?;
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
}

/// Records a delivery; gives the answer its lead's `simulate` script says
/// (as the simulation answers), else the unscripted one.
fn record(transaction: &Tx<'_>, delivery: &Delivery) -> Result<Response, StoreError> {
    let answer = scripted(transaction, delivery)?
        .unwrap_or_else(|| recorder::default_response(&delivery.kind));
    transaction.execute(
        "INSERT INTO deliveries (key, attempt, kind, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            delivery.key,
            delivery.attempt,
            delivery.kind,
            delivery.message,
            millis(delivery.at)
        ],
    )?;
    Ok(answer)
}

/// The answer the `simulate` script of the delivery's lead gives it, if
/// the lead has one that speaks of its step or kind.
fn scripted(transaction: &Tx<'_>, delivery: &Delivery) -> Result<Option<Response>, StoreError> {
    let found: Option<(String, Option<String>)> = transaction.query_opt(
        "SELECT l.id, l.script FROM enrollments e JOIN leads l ON l.id = e.lead WHERE e.id = ?1",
        params![delivery.enrollment],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some((lead, Some(script))) = found else {
        return Ok(None);
    };
    let Ok(Json::Object(script)) = serde_json::from_str::<Json>(&script) else {
        return Ok(None);
    };
    let step = step_of(&delivery.key, &lead).unwrap_or_default();
    Ok(recorder::scripted_answer(
        &script,
        step,
        &delivery.kind,
        delivery.attempt,
    ))
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
