//! The simulation's channels: they send nothing, record what would have
//! been sent, and answer with scripted outcomes.
//!
//! A script maps a step label or an effect kind (`email`, `text`, `call`,
//! `notify`, `http`, `prompt`) to an answer, or to a list of answers taken
//! one per attempt (the last one repeats). Answers:
//! - call: `"answered"`, `"voicemail"`, `"no answer"`, `"failed"`;
//! - http: `{"status": 200, "body": {...}}` or a bare status like `503`;
//! - prompt: an object with the extracted fields;
//! - any kind: `"ok"`, `"timeout"` / `"unavailable"` (transient) or
//!   `"rejected"` / `"error"` (permanent).
//!
//! Without a script, emails, texts and notifications are delivered, calls
//! answered, http requests get `200` with no body and prompts an empty answer.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;
use serde_json::{Map, Value as Json};

use crate::ast::{Channel, Outcome};
use crate::bytecode::{Op, Program};
use crate::runtime::consent::{self, State};
use crate::runtime::policy::{ContactPolicy, Ledger, Touch};
use crate::vm::{Channels, Message, Request, Response};

/// The effect kinds a script may name instead of a step.
pub const KINDS: [&str; 6] = ["email", "text", "call", "notify", "http", "prompt"];

/// Checks that every key of a script names an effect kind or a step of
/// `program` that carries out an effect; a key that names neither would be
/// silently ignored, so it is an error that lists the steps there are.
pub fn check_script(program: &Program, script: &Map<String, Json>) -> Result<(), String> {
    let steps = effect_steps(program);
    match script
        .keys()
        .find(|key| !KINDS.contains(&key.as_str()) && !steps.contains(&key.as_str()))
    {
        None => Ok(()),
        Some(key) => Err(format!(
            "`simulate` names `{key}`, which is no step with an effect: name one of {}, or a kind ({})",
            steps.join(", "),
            KINDS.join(", ")
        )),
    }
}

/// The ids of the steps of `program` that carry out an effect, in order.
fn effect_steps(program: &Program) -> Vec<&str> {
    let mut steps: Vec<&str> = program
        .code
        .iter()
        .zip(&program.origins)
        .filter(|(op, _)| matches!(op, Op::Effect { .. } | Op::Call { .. }))
        .map(|(_, origin)| origin.label.as_str())
        .collect();
    steps.dedup();
    steps
}

/// A recorded effect attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// The lead's index.
    pub lead: u32,
    /// The step's label.
    pub label: String,
    /// The attempt's idempotency key.
    pub idempotency_key: String,
    /// What would have been sent.
    pub message: Message,
}

/// Scripted channels that record every attempt.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Scripts of the leads that have one, by lead index.
    scripts: HashMap<u32, Map<String, Json>>,
    /// Answers for every lead, after its own script.
    fixtures: Map<String, Json>,
    /// The channels each lead may not be reached on, from the leads file.
    withheld: HashMap<u32, Vec<(Channel, State)>>,
    /// Answers taken so far from each list, by lead and key.
    cursors: HashMap<(u32, String), usize>,
    /// Whether to keep what was sent (off for benchmarks).
    keep: bool,
    /// Every attempt, when kept.
    pub sent: Vec<Sent>,
    /// The attempts for leads with an index below this are kept too (a
    /// report's sample of leads).
    pub keep_leads: u32,
    /// How many attempts were made.
    pub attempts: u64,
    /// The contact policy, and the touches it counts (shared by the
    /// simulations of several workflows run together).
    policy: Option<(Rc<ContactPolicy>, Rc<RefCell<Ledger>>)>,
}

impl Recorder {
    /// A recorder with `fixtures` for every lead; `keep` keeps messages.
    pub fn new(fixtures: Map<String, Json>, keep: bool) -> Self {
        Recorder {
            fixtures,
            keep,
            ..Recorder::default()
        }
    }

    /// Holds every message to `policy`, counting touches in `ledger`.
    pub fn police(&mut self, policy: Rc<ContactPolicy>, ledger: Rc<RefCell<Ledger>>) {
        self.policy = (!policy.is_empty()).then_some((policy, ledger));
    }

    /// The answer when the contact policy does not let the request go now;
    /// a request it lets go is counted as a touch.
    fn capped(&self, request: &Request<'_>) -> Option<Response> {
        let (policy, ledger) = self.policy.as_ref()?;
        let channel = consent::channel(request.kind).filter(|channel| policy.governs(*channel))?;
        let key = request.idempotency_key();
        let touch = Touch::of(request, &key, channel);
        ledger
            .borrow_mut()
            .touch(policy, touch)
            .err()
            .map(Response::from)
    }

    /// Sets the script of a lead.
    pub fn script(&mut self, lead: u32, script: Option<Map<String, Json>>) {
        if let Some(script) = script {
            self.scripts.insert(lead, script);
        }
    }

    /// Sets a lead's consent, where its record gives it.
    pub fn consent(&mut self, lead: u32, consent: Option<Vec<(Channel, State)>>) {
        if let Some(consent) = consent {
            self.withheld.insert(lead, consent);
        }
    }

    /// Why a request may not be sent, if its lead may not be reached on
    /// its channel.
    fn withheld(&self, request: &Request<'_>) -> Option<String> {
        let channel = consent::channel(request.kind)?;
        let (_, state) = self
            .withheld
            .get(&request.lead)?
            .iter()
            .rev()
            .find(|(given, _)| *given == channel)?;
        state
            .withholds(request.message)
            .then(|| format!("{} on {} (the leads file)", state.name(), channel.keyword()))
    }

    /// The scripted answer for a request, if any, advancing list cursors.
    fn scripted(&mut self, request: &Request<'_>) -> Option<Json> {
        if self.scripts.is_empty() && self.fixtures.is_empty() {
            return None;
        }
        let own = self.scripts.get(&request.lead);
        for script in [own, Some(&self.fixtures)].into_iter().flatten() {
            for key in [request.label, request.kind] {
                let Some(answer) = script.get(key) else {
                    continue;
                };
                let Json::Array(answers) = answer else {
                    return Some(answer.clone());
                };
                let cursor = self
                    .cursors
                    .entry((request.lead, key.to_owned()))
                    .or_insert(0);
                let answer = answers.get(*cursor).or(answers.last()).cloned();
                *cursor += 1;
                return answer;
            }
        }
        None
    }
}

impl Channels for Recorder {
    fn perform(&mut self, request: &Request<'_>) -> Response {
        if let Some(why) = self.withheld(request) {
            return Response::Suppressed(why);
        }
        if let Some(capped) = self.capped(request) {
            return capped;
        }
        self.attempts += 1;
        if self.keep || request.lead < self.keep_leads {
            self.sent.push(Sent {
                lead: request.lead,
                label: request.label.to_owned(),
                idempotency_key: request.idempotency_key(),
                message: request.message.clone(),
            });
        }
        match self.scripted(request) {
            Some(answer) => response(request.kind, &answer),
            None => default_response(request.kind),
        }
    }
}

/// The answer a lead's `simulate` script gives a step (by its label or
/// step id, else by its kind) on attempt `attempt` (from 1): a list gives
/// one answer per attempt, its last repeating. What the live recording
/// provider answers, as the simulation would.
pub fn scripted_answer(
    script: &Map<String, Json>,
    label: &str,
    kind: &str,
    attempt: u32,
) -> Option<Response> {
    let answer = [label, kind].into_iter().find_map(|key| script.get(key))?;
    let answer = match answer {
        Json::Array(answers) => answers
            .get(attempt.saturating_sub(1) as usize)
            .or(answers.last())?,
        answer => answer,
    };
    Some(response(kind, answer))
}

/// What a provider answers when nothing is scripted.
pub fn default_response(kind: &str) -> Response {
    match kind {
        "call" => Response::Call(Outcome::Answered),
        "http" => Response::Http {
            status: 200,
            body: Json::Null,
            retry_after: None,
        },
        "prompt" => Response::Answer(Json::Object(Map::new())),
        _ => Response::Delivered,
    }
}

/// A scripted answer as a response to an effect of `kind`.
fn response(kind: &str, answer: &Json) -> Response {
    if let Json::String(word) = answer {
        match word.as_str() {
            "ok" => return default_response(kind),
            "timeout" => return Response::Transient("timed out (scripted)".to_owned()),
            "unavailable" => {
                return Response::Transient("provider unavailable (scripted)".to_owned())
            }
            "rejected" | "error" => return Response::Permanent(format!("{word} (scripted)")),
            _ => {}
        }
    }
    match (kind, answer) {
        ("call", Json::String(word)) => match word.as_str() {
            "answered" => Response::Call(Outcome::Answered),
            "voicemail" => Response::Call(Outcome::Voicemail),
            "no answer" => Response::Call(Outcome::NoAnswer),
            "failed" => Response::Call(Outcome::Failed),
            _ => Response::Permanent(format!("unknown scripted call outcome {word:?}")),
        },
        ("http", Json::Number(status)) => Response::Http {
            status: status.as_u64().unwrap_or(0).min(999) as u16,
            body: Json::Null,
            retry_after: None,
        },
        ("http", Json::Object(object)) => Response::Http {
            status: object
                .get("status")
                .and_then(Json::as_u64)
                .unwrap_or(200)
                .min(999) as u16,
            body: object.get("body").cloned().unwrap_or(Json::Null),
            retry_after: None,
        },
        ("prompt", Json::Object(_)) => Response::Answer(answer.clone()),
        _ => Response::Permanent(format!(
            "unusable scripted answer {answer} for a {kind} step"
        )),
    }
}
