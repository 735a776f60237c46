//! Consent: whether an address may be reached on a channel, shared by
//! every workflow. A STOP text opts a phone number out of texts, an
//! unsubscribe link or a complaint takes an email address off email, a
//! bounce makes it undeliverable, an operator may set any of them; each
//! change is kept with its source. A step whose recipient may not be
//! reached is skipped, with the reason on the timeline, never sent and
//! never retried: when the step is reached, and again when the effect is
//! about to go out.

use chrono::{DateTime, Utc};

use crate::ast::Channel;
use rustc_hash::FxHashMap as HashMap;

use crate::store::{instant, marks, millis, params, pieces, Row, Store, StoreError, Tx, Value};
use crate::vm::Message;

/// Where an address stands on a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// It may be reached (the default, or back after an opt-out).
    OptedIn,
    /// Its owner asked for no more (STOP, or an operator on their word).
    OptedOut,
    /// Its owner unsubscribed from email.
    Unsubscribed,
    /// The provider cannot deliver to it (a hard bounce, a complaint).
    Undeliverable,
}

impl State {
    /// The state as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            State::OptedIn => "opted-in",
            State::OptedOut => "opted-out",
            State::Unsubscribed => "unsubscribed",
            State::Undeliverable => "undeliverable",
        }
    }

    /// The state `name` names.
    pub fn parse(name: &str) -> Option<State> {
        [
            State::OptedIn,
            State::OptedOut,
            State::Unsubscribed,
            State::Undeliverable,
        ]
        .into_iter()
        .find(|state| state.name() == name)
    }

    /// Whether `message` may not be sent to an address in this state: in
    /// any but `opted-in`, except a transactional email to an address that
    /// only unsubscribed (from marketing).
    pub fn withholds(self, message: &Message) -> bool {
        match self {
            State::OptedIn => false,
            State::Unsubscribed => !matches!(
                message,
                Message::Email {
                    transactional: true,
                    ..
                }
            ),
            State::OptedOut | State::Undeliverable => true,
        }
    }
}

/// One change of an address's consent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The channel.
    pub channel: &'static str,
    /// The address, normalized.
    pub address: String,
    /// The state it went to.
    pub state: State,
    /// Where the change came from (`twilio: STOP`, `operator`, …).
    pub source: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The channel named `name`.
pub fn channel(name: &str) -> Option<Channel> {
    Channel::from_keyword(name)
}

/// An address as consent keys it: an email address trimmed and in lower
/// case; a phone number as `+` and its digits (`+1 (555) 010-0000` is
/// `+15550100000`), so every spelling of one number is one number.
pub fn normalize(channel: Channel, address: &str) -> String {
    let address = address.trim();
    match channel {
        Channel::Email => address.to_lowercase(),
        Channel::Text | Channel::Call => {
            let digits: String = address.chars().filter(char::is_ascii_digit).collect();
            match address.starts_with('+') {
                true => format!("+{digits}"),
                false => digits,
            }
        }
    }
}

impl Change {
    /// `address` going to `state` on `channel` (the address normalized).
    pub fn new(
        channel: Channel,
        address: &str,
        state: State,
        source: &str,
        at: DateTime<Utc>,
    ) -> Change {
        Change {
            channel: channel.keyword(),
            address: normalize(channel, address),
            state,
            source: source.to_owned(),
            at,
        }
    }

    /// Records the change unless its address already stands there (an
    /// unsubscribe link clicked twice is one change); whether it did.
    pub fn settle(&self, transaction: &Tx<'_>) -> Result<bool, StoreError> {
        let channel = channel(self.channel).unwrap_or(Channel::Email);
        let current = current(transaction, channel, &self.address)?;
        let changed = current.is_none_or(|current| current.state != self.state);
        if changed {
            self.insert(transaction)?;
        }
        Ok(changed)
    }

    fn insert(&self, transaction: &Tx<'_>) -> Result<(), StoreError> {
        transaction.execute(
            "INSERT INTO consent (channel, address, state, source, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                self.channel,
                self.address,
                self.state.name(),
                self.source,
                millis(self.at)
            ],
        )?;
        Ok(())
    }
}

/// Records that `address` went to `state` on `channel`.
pub fn record(
    transaction: &Tx<'_>,
    channel: Channel,
    address: &str,
    state: State,
    source: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    Change::new(channel, address, state, source, at).insert(transaction)
}

/// Notes that webhook `id` of `provider` was taken; whether it is the
/// first time.
pub fn webhook_taken(
    transaction: &Tx<'_>,
    provider: &str,
    id: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let taken = transaction.execute(
        "INSERT INTO webhooks (provider, id, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![provider, id, millis(at)],
    )?;
    Ok(taken == 1)
}

/// The newest change of `address` on `channel`, if there was one.
pub fn current(
    store: &Store,
    channel: Channel,
    address: &str,
) -> Result<Option<Change>, StoreError> {
    store.query_opt(
        "SELECT address, state, source, at FROM consent WHERE channel = ?1 AND address = ?2
         ORDER BY id DESC LIMIT 1",
        params![channel.keyword(), normalize(channel, address)],
        |row| read_change(channel, row),
    )
}

/// Every change of `address` (on any channel), oldest first.
pub fn history(store: &Store, address: &str) -> Result<Vec<Change>, StoreError> {
    let mut changes = Vec::new();
    for channel in [Channel::Email, Channel::Text, Channel::Call] {
        changes.extend(store.query(
            "SELECT address, state, source, at FROM consent WHERE channel = ?1 AND address = ?2
             ORDER BY id",
            params![channel.keyword(), normalize(channel, address)],
            |row| read_change(channel, row),
        )?);
    }
    changes.sort_by_key(|change| change.at);
    Ok(changes)
}

/// A change on `channel` from a row of `address, state, source, at`.
fn read_change(channel: Channel, row: &Row<'_>) -> Result<Change, StoreError> {
    Ok(Change {
        channel: channel.keyword(),
        address: row.get(0)?,
        state: State::parse(&row.get::<String>(1)?).unwrap_or(State::OptedOut),
        source: row.get(2)?,
        at: instant(row.get(3)?),
    })
}

/// Why `message` may not be sent, if a recipient it is addressed to (an
/// email's `to`, a text's or call's number) may not be reached.
pub fn refusal(store: &Store, message: &Message) -> Result<Option<String>, StoreError> {
    Ok(refusals(store, &[message])?.pop().flatten())
}

/// [`refusal`] for each of `messages`, their recipients' consent read a
/// piece at a time (one statement for many deliveries, not one each).
pub fn refusals(store: &Store, messages: &[&Message]) -> Result<Vec<Option<String>>, StoreError> {
    let addressed: Vec<Option<(Channel, Vec<String>)>> =
        messages.iter().map(|message| recipients(message)).collect();
    let mut wanted: HashMap<Channel, Vec<&str>> = HashMap::default();
    for (channel, addresses) in addressed.iter().flatten() {
        let list = wanted.entry(*channel).or_default();
        list.extend(addresses.iter().map(String::as_str));
    }
    let mut latest: HashMap<Channel, HashMap<String, Change>> = HashMap::default();
    for (channel, mut addresses) in wanted {
        let changed = latest.entry(channel).or_default();
        addresses.sort_unstable();
        addresses.dedup();
        for piece in pieces(&addresses) {
            // Oldest first: the last change of each address is the one
            // that holds.
            let sql = format!(
                "SELECT address, state, source, at FROM consent
                 WHERE address IN {} AND channel = ?{} ORDER BY id",
                marks(1, piece.len()),
                piece.len() + 1
            );
            let mut bound: Vec<Value<'_>> = piece
                .iter()
                .map(|address| Value::Text((*address).into()))
                .collect();
            bound.push(Value::Text(channel.keyword().into()));
            for change in store.query(&sql, &bound, |row| read_change(channel, row))? {
                changed.insert(change.address.clone(), change);
            }
        }
    }
    let refused = |message: &Message, (channel, addresses): &(Channel, Vec<String>)| {
        addresses.iter().find_map(|address| {
            let change = latest.get(channel)?.get(address)?;
            change.state.withholds(message).then(|| {
                format!(
                    "{} is {} on {} ({}, {})",
                    change.address,
                    change.state.name(),
                    channel.keyword(),
                    change.source,
                    change.at.to_rfc3339()
                )
            })
        })
    };
    Ok(messages
        .iter()
        .zip(&addressed)
        .map(|(message, addressed)| addressed.as_ref().and_then(|a| refused(message, a)))
        .collect())
}

/// The channel `message` goes out on and its recipients' addresses as
/// consent keeps them; `None` for a message without consent.
fn recipients(message: &Message) -> Option<(Channel, Vec<String>)> {
    let (channel, recipients): (Channel, Vec<&str>) = match message {
        Message::Email { to, .. } => (Channel::Email, to.iter().map(String::as_str).collect()),
        Message::Text { to, .. } => (Channel::Text, vec![to.as_str()]),
        Message::Call { to, .. } => (Channel::Call, vec![to.as_str()]),
        _ => return None,
    };
    let addresses = recipients
        .into_iter()
        .map(|recipient| normalize(channel, recipient))
        .collect();
    Some((channel, addresses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_an_address_is_one_address() {
        assert_eq!(
            normalize(Channel::Text, " +1 (555) 010-0000 "),
            "+15550100000"
        );
        assert_eq!(normalize(Channel::Call, "+1.555.010.0000"), "+15550100000");
        assert_eq!(
            normalize(Channel::Email, " Ann@Acme.Example "),
            "ann@acme.example"
        );
    }

    #[test]
    fn the_newest_change_decides_and_every_change_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("flowc.db")).unwrap();
        let transaction = store.transaction().unwrap();
        let text = |to: &str| Message::Text {
            to: to.to_owned(),
            from: None,
            body: "hi".to_owned(),
        };
        let t0 = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(refusal(&transaction, &text("+15550100000")).unwrap(), None);
        record(
            &transaction,
            Channel::Text,
            "+1 555 010 0000",
            State::OptedOut,
            "twilio: STOP",
            t0,
        )
        .unwrap();
        let why = refusal(&transaction, &text("+15550100000"))
            .unwrap()
            .expect("refused");
        assert!(why.contains("opted-out on text (twilio: STOP"), "{why}");
        assert_eq!(
            refusal(
                &transaction,
                &Message::Call {
                    to: "+15550100000".into(),
                    agent: None,
                    from: None
                }
            )
            .unwrap(),
            None,
            "a STOP is about texts only"
        );
        record(
            &transaction,
            Channel::Text,
            "+15550100000",
            State::OptedIn,
            "twilio: START",
            t0,
        )
        .unwrap();
        assert_eq!(refusal(&transaction, &text("+15550100000")).unwrap(), None);
        let kept = history(&transaction, "+15550100000").unwrap();
        let states: Vec<State> = kept.iter().map(|change| change.state).collect();
        assert_eq!(states, [State::OptedOut, State::OptedIn]);
    }

    /// Many messages' refusals read at once agree with each read alone:
    /// the newest change of each recipient decides, an email is refused
    /// for any of its recipients, a message without consent never is, and
    /// one address's opt-out is not another's.
    #[test]
    fn refusals_read_together_are_each_message_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("flowc.db")).unwrap();
        let transaction = store.transaction().unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .to_utc();
        let changes = [
            (Channel::Text, "+15550100001", State::OptedOut),
            (Channel::Text, "+15550100002", State::OptedOut),
            (Channel::Text, "+15550100002", State::OptedIn),
            (Channel::Email, "Bo@Acme.Example", State::Unsubscribed),
        ];
        for (channel, address, state) in changes {
            record(&transaction, channel, address, state, "operator", t0).unwrap();
        }
        let text = |to: &str| Message::Text {
            to: to.to_owned(),
            from: None,
            body: "hi".to_owned(),
        };
        let email = |to: &[&str]| Message::Email {
            to: to.iter().map(|to| (*to).to_owned()).collect(),
            cc: Vec::new(),
            bcc: Vec::new(),
            from: None,
            subject: "s".to_owned(),
            body: "b".to_owned(),
            transactional: false,
        };
        let messages = [
            text("+1 555 010 0001"),
            text("+15550100002"),
            text("+15550100003"),
            email(&["ann@acme.example", "bo@acme.example"]),
            email(&["ann@acme.example"]),
            Message::Call {
                to: "+15550100001".into(),
                agent: None,
                from: None,
            },
        ];
        let together: Vec<bool> = refusals(&transaction, &messages.iter().collect::<Vec<_>>())
            .unwrap()
            .iter()
            .map(Option::is_some)
            .collect();
        assert_eq!(together, [true, false, false, true, false, false]);
        for (message, refused) in messages.iter().zip(&together) {
            let alone = refusal(&transaction, message).unwrap();
            assert_eq!(alone.is_some(), *refused, "{message:?}");
        }
        let why = refusal(&transaction, &messages[3]).unwrap().unwrap();
        assert!(
            why.starts_with("bo@acme.example is unsubscribed on email (operator"),
            "{why}"
        );
    }
}
