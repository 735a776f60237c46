//! Events that happen to leads: named ones sent through the API or the
//! CLI, and what the service hears from an address (a reply, an opt-out,
//! an unsubscribe), which becomes a consent change and built-in events for
//! every lead with that address.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use super::activation::{load_enrollment, run_in, test_goals, try_enroll, GoalTest, Moment};
use super::stored_leads::{lead_fields, Applicant};
use super::timeline_events::insert_events;
use super::{Live, Version};
use crate::ast::Channel;
use crate::runtime::consent::{self, State};
use crate::runtime::entry;
use crate::store::{params, StoreError, Tx};
use crate::vm::Vm;

/// Why an event could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No lead has the id.
    #[error("no lead has the id {0:?}; import it first")]
    UnknownLead(String),
    /// The payload does not fit the event's declared fields.
    #[error("the event's data does not fit: {0}")]
    BadData(String),
    /// No published workflow is triggered by the event, has a goal on it
    /// or waits for it: it would change nothing, so it is not recorded.
    #[error("no published workflow is triggered by `{name}`, has a goal on it or waits for it, so nothing was recorded{}", suggestion(name, heard))]
    Unheard {
        /// The event.
        name: String,
        /// The events published workflows do wait for, sorted.
        heard: Vec<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A workflow's name and whether a lead entered it, or why not.
pub type EntryDecision = (String, Result<(), entry::Refusal>);

/// What an event did to a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventOutcome {
    /// Enrollments it ended through a goal: the workflow and the goal.
    pub goals: Vec<(String, String)>,
    /// The workflows it triggers: whether the lead entered each.
    pub entries: Vec<EntryDecision>,
    /// The workflows whose enrollment of the lead waited for it (`wait
    /// for`) and went on.
    pub resumed: Vec<String>,
}

/// Something heard from an address.
#[derive(Clone, Debug)]
pub struct Heard {
    /// The channel it came on.
    pub channel: Channel,
    /// The address it came from (normalized here).
    pub address: String,
    /// The webhook that brought it, as provider and id: heard again, it
    /// changes nothing.
    pub webhook: Option<(&'static str, String)>,
    /// The consent it asks for, and where that came from (`twilio: STOP
    /// (SM…)`, `one-click unsubscribe`).
    pub consent: Option<(State, String)>,
    /// The built-in event it is, with its payload.
    pub event: Option<(&'static str, Map<String, Json>)>,
}

/// What hearing something did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hearing {
    /// Whether it was new: false when its webhook was taken before.
    pub new: bool,
    /// Whether the address's consent changed (asking for the state it is
    /// in changes nothing).
    pub consent_changed: bool,
    /// For each lead with the address, each event raised and what it did.
    pub leads: Vec<(String, &'static str, EventOutcome)>,
}

impl Live {
    /// An event happens to a lead: it ends the lead's enrollments whose
    /// goals wait for it (and hold), then live workflows triggered by it
    /// may enroll the lead.
    pub fn event(
        &mut self,
        name: &str,
        lead: &str,
        data: &Map<String, Json>,
    ) -> Result<EventOutcome, EventError> {
        let now = self.clock.now();
        let versions = self.live_versions()?;
        let transaction = self.store.transaction()?;
        if lead_fields(&transaction, lead)?.is_none() {
            return Err(EventError::UnknownLead(lead.to_owned()));
        }
        if !versions
            .iter()
            .any(|version| version.program.uses_event(name))
        {
            let mut heard: Vec<String> = versions
                .iter()
                .flat_map(|version| version.program.events_used().map(str::to_owned))
                .collect();
            heard.sort();
            heard.dedup();
            return Err(EventError::Unheard {
                name: name.to_owned(),
                heard,
            });
        }
        let live: Vec<&Version> = versions.iter().collect();
        let outcome = happen(&transaction, &live, name, lead, data, now)?;
        if outcome.entered() {
            transaction.notify()?;
        }
        transaction.commit()?;
        Ok(outcome)
    }

    /// Takes what was heard from an address, once, in one transaction: its
    /// consent change, then its event and the events the change raises
    /// (`opted_out`; `unsubscribed` too for email) for every lead with
    /// the address.
    pub fn hear(&mut self, heard: &Heard) -> Result<Hearing, StoreError> {
        let now = self.clock.now();
        let versions = self.live_versions()?;
        let live: Vec<&Version> = versions.iter().collect();
        let transaction = self.store.transaction()?;
        let mut hearing = Hearing::default();
        if let Some((provider, id)) = &heard.webhook {
            if !consent::webhook_taken(&transaction, provider, id, now)? {
                transaction.commit()?;
                return Ok(hearing);
            }
        }
        hearing.new = true;
        let mut events: Vec<(&'static str, Map<String, Json>)> =
            heard.event.iter().cloned().collect();
        if let Some((state, source)) = &heard.consent {
            let change = consent::Change::new(heard.channel, &heard.address, *state, source, now);
            hearing.consent_changed = change.settle(&transaction)?;
            if hearing.consent_changed {
                events.extend(consent_events(heard.channel, *state, source));
            }
        }
        for lead in leads_at(&transaction, heard.channel, &heard.address)? {
            for (name, data) in &events {
                let outcome = happen(&transaction, &live, name, &lead, data, now).map_err(
                    |error| match error {
                        EventError::Store(error) => error,
                        other => StoreError::Invalid(other.to_string()),
                    },
                )?;
                hearing.leads.push((lead.clone(), name, outcome));
            }
        }
        if hearing
            .leads
            .iter()
            .any(|(_, _, outcome)| outcome.entered())
        {
            transaction.notify()?;
        }
        transaction.commit()?;
        Ok(hearing)
    }

    /// The published versions, the ones events reach.
    fn live_versions(&mut self) -> Result<Vec<Version>, StoreError> {
        let versions = self.versions()?;
        Ok(versions.into_iter().filter(|v| v.published).collect())
    }
}

/// "; did you mean `X`?" for the closest event heard, else the ones heard.
fn suggestion(name: &str, heard: &[String]) -> String {
    if let Some(close) = crate::suggest::closest(name, heard.iter().map(String::as_str)) {
        return format!("; did you mean `{close}`?");
    }
    match heard {
        [] => "; no published workflow waits for any event".to_owned(),
        _ => format!("; the events they wait for: {}", heard.join(", ")),
    }
}

impl EventError {
    /// The error of a built-in event flowc raised itself: its payload fits
    /// by construction, so anything but the store failing is a bug.
    pub(super) fn into_store(self) -> StoreError {
        match self {
            EventError::Store(error) => error,
            other => StoreError::Invalid(other.to_string()),
        }
    }
}

impl EventOutcome {
    /// Whether the lead entered a workflow.
    pub fn entered(&self) -> bool {
        self.entries.iter().any(|(_, decision)| decision.is_ok())
    }
}

/// The event `name` happens to `lead` in `transaction`: goals waiting for
/// it first, then the workflows it triggers.
pub(super) fn happen(
    transaction: &Tx<'_>,
    live: &[&Version],
    name: &str,
    lead: &str,
    data: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Result<EventOutcome, EventError> {
    let Some(fields) = lead_fields(transaction, lead)? else {
        return Err(EventError::UnknownLead(lead.to_owned()));
    };
    let mut outcome = EventOutcome::default();
    for version in live {
        let program = &version.program;
        if !program
            .goals
            .iter()
            .any(|goal| goal.event.as_deref() == Some(name))
        {
            continue;
        }
        let payload = entry::payload(program, entry::Payload::Named(name), data)
            .map_err(EventError::BadData)?;
        let test = GoalTest::Event {
            name,
            payload: &payload,
        };
        if let Some(goal) = test_goals(transaction, version, lead, &fields, test, now)? {
            outcome.goals.push((version.name.clone(), goal));
        }
    }
    for &version in live.iter().filter(|v| v.program.waits_for(name)) {
        if resume(transaction, version, lead, name, data, now)? {
            outcome.resumed.push(version.name.clone());
        }
    }
    for &version in live
        .iter()
        .filter(|v| v.program.trigger.event.as_deref() == Some(name))
    {
        let program = &version.program;
        let payload =
            entry::payload(program, entry::Payload::Trigger, data).map_err(EventError::BadData)?;
        let stored = Json::Object(data.clone()).to_string();
        let decision = try_enroll(
            transaction,
            version,
            Applicant::stored(lead, &fields),
            &payload,
            Some(&stored),
            now,
        )?;
        outcome.entries.push((version.name.clone(), decision));
    }
    Ok(outcome)
}

/// Runs on the lead's enrollment in `version` if it waits for the event
/// `name` (`wait for`): its data kept for `event.FIELD`, `on event` taken.
/// Whether one did.
fn resume(
    transaction: &Tx<'_>,
    version: &Version,
    lead: &str,
    name: &str,
    data: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Result<bool, EventError> {
    let waiting: Vec<i64> = transaction.query(
        "SELECT id FROM enrollments WHERE workflow = ?1 AND lead = ?2 AND status = 'waiting'",
        params![version.id, lead],
        |row| row.get(0),
    )?;
    let program = &version.program;
    let payload =
        entry::payload(program, entry::Payload::Named(name), data).map_err(EventError::BadData)?;
    let vm = Vm::new(program);
    let mut resumed = false;
    for id in waiting {
        let Some((mut row, fields)) = load_enrollment(transaction, id)? else {
            continue;
        };
        let mut events = Vec::new();
        if !vm.event_arrived(&mut row.enrollment, name, &payload, now, &mut events) {
            continue;
        }
        let mut heard: Map<String, Json> = match &row.heard {
            Some(text) => serde_json::from_str(text).map_err(StoreError::from)?,
            None => Map::new(),
        };
        heard.insert(name.to_owned(), Json::Object(data.clone()));
        let stored = Json::Object(heard).to_string();
        transaction.execute(
            "UPDATE enrollments SET heard = ?1 WHERE id = ?2",
            params![stored.as_str(), id],
        )?;
        row.heard = Some(stored);
        insert_events(transaction, id, program, &events);
        run_in(transaction, version, row, &fields, &Moment::at(now))?;
        resumed = true;
    }
    Ok(resumed)
}

/// The built-in events a consent change raises: `opted_out` for any
/// refusal the lead asked for, and `unsubscribed` for email's.
fn consent_events(
    channel: Channel,
    state: State,
    source: &str,
) -> Vec<(&'static str, Map<String, Json>)> {
    let data = || match json!({ "channel": channel.keyword(), "source": source }) {
        Json::Object(data) => data,
        _ => Map::new(),
    };
    match state {
        State::OptedOut => vec![("opted_out", data())],
        State::Unsubscribed => vec![("opted_out", data()), ("unsubscribed", data())],
        State::OptedIn | State::Undeliverable => Vec::new(),
    }
}

/// The leads whose email address (for email) or phone number (for texts
/// and calls) is `address`, through the indexes the upserts keep.
fn leads_at(
    transaction: &Tx<'_>,
    channel: Channel,
    address: &str,
) -> Result<Vec<String>, StoreError> {
    let address = consent::normalize(channel, address);
    let sql = match channel {
        Channel::Email => "SELECT id FROM leads WHERE email = ?1 ORDER BY id",
        Channel::Text | Channel::Call => "SELECT id FROM leads WHERE phone = ?1 ORDER BY id",
    };
    transaction.query(sql, params![address], |row| row.get(0))
}
