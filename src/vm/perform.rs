//! Carrying out effect instructions: addresses, windows, the request to
//! the channels, and what the answer means (outcomes, extracted fields,
//! holds for retries, failures).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::effects::{self, Request, Response};
use super::{fields, Advance, Context, Ending, Enrollment, EventKind, Status, Vm};
use crate::ast::{Channel, Outcome, SendFailure, WindowZone};
use crate::bytecode::{Effect, Op, Outside, Pc, CALL_OUTCOMES};
use crate::calendar;
use crate::value::Value;

/// Attempts at an effect before a transient failure counts as permanent.
const MAX_ATTEMPTS: u32 = 8;
/// The first retry delay in seconds; each next one doubles, up to an hour.
const FIRST_RETRY_SECONDS: i64 = 60;
const LONGEST_RETRY_SECONDS: i64 = 3600;
/// The longest wait a provider's `Retry-After` may ask for: a day.
const LONGEST_RETRY_AFTER: u64 = 86_400;

/// How long to wait before retry number `attempt` of the effect `key`:
/// exponential backoff with "equal jitter", between half and all of
/// 60 s × 2^(attempt-1) (at most an hour). The jitter is drawn from a hash
/// of the key and the attempt, so leads that failed together retry apart,
/// yet a run replays exactly and a simulation matches a live run.
fn retry_delay(key: &str, attempt: u32) -> i64 {
    use sha2::{Digest, Sha256};
    let backoff =
        (FIRST_RETRY_SECONDS << attempt.saturating_sub(1).min(20)).min(LONGEST_RETRY_SECONDS);
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(attempt.to_le_bytes())
        .finalize();
    let draw = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
    let half = backoff / 2;
    half + (draw % (half as u64 + 1)) as i64
}

impl Vm<'_> {
    /// Whether the effect at `pc` may go out at `now` under its channel's
    /// window, by the same test as when the step is reached: `None` when it
    /// may (no window, or open), else when the window next opens (`None`
    /// inside: never). The live runner asks again at the real moment of
    /// delivery, which may come later than the step.
    pub fn closed_until(
        &self,
        pc: Pc,
        lead: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> Option<Option<DateTime<Utc>>> {
        let Some(Op::Effect { effect, .. } | Op::Call { effect, .. }) =
            self.program.code.get(pc as usize).copied()
        else {
            return None;
        };
        let channel = self.program.effects.get(effect as usize)?.channel()?;
        let window = self.program.window(channel)?;
        let zone = self.window_zone(window.zone, lead);
        let closed = self.program.closed_dates(window);
        (!window.hours.is_open_except(zone, now, closed))
            .then(|| window.hours.next_open_except(zone, now, closed))
    }

    /// Whether a channel's window is open at `now` for this lead: always
    /// when the workflow sets none.
    pub(super) fn window_open(
        &self,
        channel: Channel,
        lead: &[Option<Value>],
        now: DateTime<Utc>,
    ) -> bool {
        self.program.window(channel).is_none_or(|window| {
            let zone = self.window_zone(window.zone, lead);
            let closed = self.program.closed_dates(window);
            window.hours.is_open_except(zone, now, closed)
        })
    }

    /// The timezone a channel's window is read in for this lead.
    pub(crate) fn window_zone(&self, zone: WindowZone, lead: &[Option<Value>]) -> Tz {
        match zone {
            WindowZone::Account => self.program.timezone,
            WindowZone::Lead => self.lead_zone(lead).unwrap_or(self.program.timezone),
        }
    }

    /// The lead's `timezone`, if it names one.
    pub(crate) fn lead_zone(&self, lead: &[Option<Value>]) -> Option<Tz> {
        match self
            .addresses
            .timezone
            .and_then(|slot| lead.get(slot as usize)?.as_ref())
        {
            Some(Value::Text(name)) => name.parse::<Tz>().ok(),
            _ => None,
        }
    }

    /// Carries out an effect instruction; `None` when the enrollment goes
    /// on at once (its program counter set), else how the activation ends.
    pub(super) fn effect(
        &mut self,
        enrollment: &mut Enrollment,
        context: &mut Context<'_>,
        now: DateTime<Utc>,
        effect_index: u32,
        on_error: Option<Pc>,
        call_outcomes: Option<[Option<Pc>; 4]>,
    ) -> Option<Advance> {
        let pc = enrollment.pc;
        let program = self.program;
        let Some(effect) = program.effects.get(effect_index as usize) else {
            return Some(self.end(
                enrollment,
                context,
                now,
                Ending::Failed(pc),
                format!("no effect {effect_index}"),
            ));
        };
        let message = effects::message(
            program,
            effect,
            fields(context.lead, enrollment),
            &self.addresses,
        );
        let Some(message) = message else {
            let missing = match effect.channel() {
                Some(Channel::Email) => "no email address",
                _ => "no phone number",
            };
            self.event(context, now, pc, EventKind::Skipped, || missing.to_owned());
            enrollment.pc = pc + 1;
            enrollment.attempts = 0;
            return None;
        };
        if let Some(window) = effect.channel().and_then(|channel| program.window(channel)) {
            let zone = self.window_zone(window.zone, context.lead);
            let closed = program.closed_dates(window);
            if !window.hours.is_open_except(zone, now, closed) {
                let channel = effect.channel().map_or("", Channel::keyword);
                let opens = window.hours.next_open_except(zone, now, closed);
                if let Some(why) = skipped_outside(program.outside(effect_index), now, opens) {
                    let detail = || format!("{channel} window closed: {why}");
                    self.event(context, now, pc, EventKind::Skipped, detail);
                    enrollment.pc = pc + 1;
                    enrollment.attempts = 0;
                    return None;
                }
                return Some(match opens {
                    Some(opens) => self.hold(enrollment, context, now, opens, || {
                        format!("{channel} window closed")
                    }),
                    None => self.end(
                        enrollment,
                        context,
                        now,
                        Ending::Failed(pc),
                        format!("the {channel} window never opens"),
                    ),
                });
            }
        }
        enrollment.attempts += 1;
        let label = program
            .origins
            .get(pc as usize)
            .map_or("", |origin| origin.label.as_str());
        let request = Request {
            lead: enrollment.lead,
            label,
            pc,
            kind: effect.kind(),
            attempt: enrollment.attempts,
            message: &message,
            owner: effects::Owner {
                workflow: &program.name,
                version: &program.version,
                lead: context.lead_id,
                enrollment: enrollment.number,
                sequence: enrollment.effects,
            },
            lead_zone: self.lead_zone(context.lead),
            account_zone: program.timezone,
            at: now,
        };
        let response = context.channels.perform(&request);
        if response == Response::Pending {
            // Asked again, with the same attempt number, once answered.
            enrollment.attempts -= 1;
            enrollment.status = Status::Active;
            return Some(Advance::InFlight);
        }
        let summary = || effects::summary(&message);
        if let Response::OverCap { reason, release } = response {
            // Not an attempt: asked again when the cap allows it.
            enrollment.attempts -= 1;
            let reason = move || format!("contact policy: {reason}");
            return match release {
                Some(until) => Some(self.hold(enrollment, context, now, until, reason)),
                None => {
                    self.event(context, now, pc, EventKind::Skipped, reason);
                    enrollment.pc = pc + 1;
                    None
                }
            };
        }
        if let Response::Suppressed(reason) = response {
            // Like an effect carried out: the next one has a key of its own.
            enrollment.attempts = 0;
            enrollment.effects += 1;
            self.event(context, now, pc, EventKind::Skipped, || {
                format!("{}: {reason}", summary())
            });
            enrollment.pc = pc + 1;
            return None;
        }
        let outcome = self.outcome(effect, response, context.lead);
        match outcome {
            Ok((detail, call_outcome)) => {
                enrollment.attempts = 0;
                enrollment.effects += 1;
                let detail = || {
                    if detail.is_empty() {
                        summary()
                    } else {
                        format!("{} ({detail})", summary())
                    }
                };
                self.event(context, now, pc, EventKind::Sent, detail);
                context.calls.extend(call_outcome);
                let target = match (call_outcome, call_outcomes) {
                    (Some(outcome), Some(targets)) => {
                        let index = CALL_OUTCOMES
                            .iter()
                            .position(|known| *known == outcome)
                            .unwrap_or(3);
                        targets[index].inspect(|_| {
                            self.event(context, now, pc, EventKind::Branched, || {
                                format!("on {}", outcome.keyword())
                            });
                        })
                    }
                    _ => None,
                };
                enrollment.pc = target.unwrap_or(pc + 1);
                None
            }
            Err(Failure::Transient(reason, asked)) if enrollment.attempts < MAX_ATTEMPTS => {
                let backoff = retry_delay(&request.idempotency_key(), enrollment.attempts);
                let delay = asked.map_or(backoff, |asked| {
                    backoff.max(i64::try_from(asked.min(LONGEST_RETRY_AFTER)).unwrap_or(0))
                });
                // From the real attempt, which may come after the step
                // (a late runner): retries never bunch up in the past.
                let attempted = context
                    .channels
                    .attempted_at()
                    .map_or(now, |at| at.max(now));
                let until = calendar::add_seconds(attempted, delay);
                let attempt = enrollment.attempts;
                let reason = || format!("{} failed (attempt {attempt}): {reason}", summary());
                Some(self.hold(enrollment, context, now, until, reason))
            }
            Err(Failure::Transient(reason, _) | Failure::Permanent(reason)) => {
                enrollment.attempts = 0;
                enrollment.effects += 1;
                let reason = format!("{} failed: {reason}", summary());
                match on_error {
                    Some(target) => {
                        self.event(context, now, pc, EventKind::Branched, || {
                            format!("on error: {reason}")
                        });
                        enrollment.pc = target;
                        None
                    }
                    None if effect.is_independent()
                        && program.send_failure == SendFailure::Continue =>
                    {
                        self.event(context, now, pc, EventKind::Undelivered, || reason);
                        enrollment.pc = pc + 1;
                        None
                    }
                    None => Some(self.end(enrollment, context, now, Ending::Failed(pc), reason)),
                }
            }
        }
    }

    /// What a response means: success (with a detail and, for calls, the
    /// outcome; extracted fields written to the lead) or a failure.
    fn outcome(
        &self,
        effect: &Effect,
        response: Response,
        lead: &mut [Option<Value>],
    ) -> Result<(String, Option<Outcome>), Failure> {
        let zone = self.program.timezone;
        match (effect, response) {
            (_, Response::Transient(reason)) => Err(Failure::Transient(reason, None)),
            (_, Response::Throttled { reason, seconds }) => {
                Err(Failure::Transient(reason, Some(seconds)))
            }
            (_, Response::Permanent(reason)) => Err(Failure::Permanent(reason)),
            (_, Response::Partly(refused)) => Ok((refused, None)),
            (Effect::Call { .. }, Response::Call(outcome)) => {
                Ok((outcome.keyword().to_owned(), Some(outcome)))
            }
            (Effect::Call { .. }, _) => Ok(("answered".to_owned(), Some(Outcome::Answered))),
            (
                Effect::Http(http),
                Response::Http {
                    status,
                    body,
                    retry_after,
                },
            ) => {
                if status == 429 || status >= 500 {
                    return Err(Failure::Transient(format!("status {status}"), retry_after));
                }
                if status >= 400 {
                    return Err(Failure::Permanent(format!("status {status}")));
                }
                let values = effects::extract(self.program, &http.extract, &body, true, zone)
                    .map_err(Failure::Permanent)?;
                Ok((format!("status {status}{}", self.store(values, lead)), None))
            }
            (Effect::Prompt(prompt), Response::Answer(answer)) => {
                let values = effects::extract(self.program, &prompt.extract, &answer, false, zone)
                    .map_err(Failure::Permanent)?;
                Ok((
                    self.store(values, lead).trim_start_matches("; ").to_owned(),
                    None,
                ))
            }
            (Effect::Http(_), _) => Err(Failure::Permanent(
                "the provider gave no http response".to_owned(),
            )),
            (Effect::Prompt(_), _) => {
                Err(Failure::Permanent("the model gave no answer".to_owned()))
            }
            (_, _) => Ok((String::new(), None)),
        }
    }

    /// Writes extracted values to the lead; describes them for the timeline.
    fn store(&self, values: Vec<(u32, Option<Value>)>, lead: &mut [Option<Value>]) -> String {
        let mut detail = String::new();
        for (slot, value) in values {
            if self.describe {
                let slots = &self.program.slots;
                let name = slots
                    .get(slot as usize)
                    .map_or("", |slot| slot.name.as_str());
                let shown = value
                    .as_ref()
                    .map_or_else(|| "missing".to_owned(), |value| value.to_json().to_string());
                detail.push_str(&format!("; {name}={shown}"));
            }
            if let Some(place) = lead.get_mut(slot as usize) {
                *place = value;
            }
        }
        detail
    }
}

/// Why an effect failed.
enum Failure {
    /// Worth retrying, no sooner than the seconds the provider asked for.
    Transient(String, Option<u64>),
    /// Not worth retrying.
    Permanent(String),
}

/// Why a channel step reached outside its window at `now` (opening next
/// at `opens`) is skipped under its `outside window` option; `None` when it
/// holds until the window opens.
fn skipped_outside(
    outside: Option<Outside>,
    now: DateTime<Utc>,
    opens: Option<DateTime<Utc>>,
) -> Option<String> {
    match outside? {
        Outside::Skip => Some("skipped (outside window skip)".to_owned()),
        Outside::HoldUpTo(seconds) => {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            let limit = calendar::add_seconds(now, seconds);
            let soon = opens.is_some_and(|opens| opens <= limit);
            (!soon).then(|| {
                format!(
                    "skipped: it does not open within {} (outside window hold)",
                    calendar::rough_length(seconds)
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retries_back_off_between_half_and_all_of_the_doubling_delay() {
        for attempt in 1..=8 {
            let full = (60_i64 << (attempt - 1)).min(3600);
            for lead in 0..200 {
                let delay = retry_delay(&format!("w@1/lead{lead}/1/http@4#0"), attempt);
                assert!(
                    (full / 2..=full).contains(&delay),
                    "attempt {attempt}: {delay} s"
                );
            }
        }
    }

    /// (That a run replays its delays exactly is tested end to end:
    /// `a_failed_delivery_waits_the_same_in_every_run` in tests/live.rs.)
    #[test]
    fn jitter_spreads_leads_apart() {
        let delays: std::collections::BTreeSet<i64> = (0..100)
            .map(|lead| retry_delay(&format!("w@1/lead{lead}/1/http@4#0"), 3))
            .collect();
        assert!(delays.len() > 50, "only {} distinct delays", delays.len());
    }
}
