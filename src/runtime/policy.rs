//! The contact policy: quiet hours in which texts and calls never go out,
//! and caps on how often one lead is reached on a channel, per day and per
//! week, counted across every workflow. Both are read on the recipient's
//! clock: the lead's timezone, else the clock of its phone number's
//! country where that country keeps one, else the workflow's. Both
//! runtimes ask [`ContactPolicy::check`] before a message goes out and keep
//! the touches it counts: the simulation in memory ([`Ledger`]), live runs
//! in the database.

use std::num::NonZeroU32;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::ast::Channel;
use crate::calendar;
use crate::phone_zone;
use crate::vm::{Message, Request, Response};

/// The `[policy]` table of `flowc.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPolicy {
    /// What a message over a cap does: wait until the cap allows it
    /// (`hold`, the default) or not go at all (`skip`).
    #[serde(default)]
    pub over_cap: OverCap,
    /// Caps on emails.
    pub email: Option<Caps>,
    /// Caps on texts.
    pub text: Option<Caps>,
    /// Caps on calls.
    pub call: Option<Caps>,
    /// Hours in which texts (and calls) never go out.
    pub quiet_hours: Option<QuietHours>,
}

/// Hours in which some channels never go out, on the recipient's clock:
/// `from = "21:00"`, `to = "08:00"` keeps texts and calls to 08:00-21:00
/// (the US TCPA's hours).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// When they begin, `HH:MM`.
    pub from: ClockTime,
    /// When they end, `HH:MM` (may be earlier than `from`: overnight).
    pub to: ClockTime,
    /// The channels kept quiet (texts and calls unless given).
    #[serde(default)]
    pub channels: QuietChannels,
}

/// The channels quiet hours keep quiet, by keyword in `flowc.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct QuietChannels(pub Vec<Channel>);

impl Default for QuietChannels {
    fn default() -> Self {
        QuietChannels(vec![Channel::Text, Channel::Call])
    }
}

impl TryFrom<Vec<String>> for QuietChannels {
    type Error = String;

    fn try_from(names: Vec<String>) -> Result<Self, String> {
        names
            .iter()
            .map(|name| {
                Channel::from_keyword(name)
                    .ok_or_else(|| format!("{name:?} is no channel: email, text or call"))
            })
            .collect::<Result<_, _>>()
            .map(QuietChannels)
    }
}

impl From<QuietChannels> for Vec<String> {
    fn from(channels: QuietChannels) -> Self {
        channels
            .0
            .iter()
            .map(|channel| channel.keyword().to_owned())
            .collect()
    }
}

impl QuietHours {
    /// Whether the minute of the day `minute` is quiet.
    fn contains(&self, minute: u16) -> bool {
        let (from, to) = (self.from.0, self.to.0);
        if from <= to {
            (from..to).contains(&minute)
        } else {
            minute >= from || minute < to
        }
    }
}

/// A time of day, `HH:MM`, as minutes since midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(u16);

impl TryFrom<String> for ClockTime {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let parsed = text
            .split_once(':')
            .and_then(|(hours, minutes)| {
                Some((hours.parse::<u16>().ok()?, minutes.parse::<u16>().ok()?))
            })
            .filter(|(hours, minutes)| *hours < 24 && *minutes < 60 && text.len() == 5);
        match parsed {
            Some((hours, minutes)) => Ok(ClockTime(hours * 60 + minutes)),
            None => Err(format!("{text:?} is not a time like \"21:00\"")),
        }
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> String {
        format!("{:02}:{:02}", time.0 / 60, time.0 % 60)
    }
}

/// Whose clock a touch is read on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneSource {
    /// The lead's `timezone`.
    Lead,
    /// The one clock of the phone number's country (its code).
    Phone(&'static str),
    /// The workflow's: the lead has no valid timezone, and its number
    /// gives none.
    Account,
}

/// How many touches a channel allows per local day and per local week
/// (Monday to Sunday).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// At most this many a day.
    pub per_day: Option<Limit>,
    /// At most this many a week.
    pub per_week: Option<Limit>,
}

/// How many touches a cap allows: 1 or more (a cap of 0 would hold every
/// message for ever).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Limit(NonZeroU32);

impl Limit {
    /// The number.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl TryFrom<u32> for Limit {
    type Error = &'static str;

    fn try_from(number: u32) -> Result<Self, Self::Error> {
        NonZeroU32::new(number)
            .map(Limit)
            .ok_or("a cap is 1 or more: 0 would hold every message for ever")
    }
}

impl From<Limit> for u32 {
    fn from(limit: Limit) -> u32 {
        limit.get()
    }
}

/// What a message over a cap does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverCap {
    /// It waits until the cap allows it.
    #[default]
    Hold,
    /// It is skipped, and the lead goes on.
    Skip,
}

/// A message the policy does not let go now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capped {
    /// The cap, in words: `at most 1 text per day`.
    pub reason: String,
    /// When it may go (the next local day or week), if it holds; `None`
    /// when the policy skips it.
    pub release: Option<DateTime<Utc>>,
}

/// A period a cap counts over.
#[derive(Clone, Copy)]
enum Period {
    Day,
    Week,
}

impl Period {
    fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
        }
    }

    /// The first local date of the period holding `date`.
    fn first(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        }
    }

    /// The first local date of the next period.
    fn next(self, date: NaiveDate) -> NaiveDate {
        self.first(date)
            + Duration::days(match self {
                Period::Day => 1,
                Period::Week => 7,
            })
    }
}

impl ContactPolicy {
    /// Whether the policy holds anything back.
    pub fn is_empty(&self) -> bool {
        self.quiet_hours.is_none()
            && [self.email, self.text, self.call].iter().all(|caps| {
                caps.is_none_or(|caps| caps.per_day.is_none() && caps.per_week.is_none())
            })
    }

    /// Whether the policy has anything to say about `channel`.
    pub fn governs(&self, channel: Channel) -> bool {
        self.caps(channel).is_some() || self.quiet(channel).is_some()
    }

    /// The quiet hours of `channel`, if any.
    fn quiet(&self, channel: Channel) -> Option<&QuietHours> {
        self.quiet_hours
            .as_ref()
            .filter(|quiet| quiet.channels.0.contains(&channel))
    }

    /// The policy in words: `at most 1 text per day; at most 3 emails per
    /// week; over a cap, hold`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for channel in [Channel::Email, Channel::Text, Channel::Call] {
            let Some(caps) = self.caps(channel) else {
                continue;
            };
            for (period, limit) in [(Period::Day, caps.per_day), (Period::Week, caps.per_week)] {
                if let Some(limit) = limit {
                    parts.push(cap_words(channel, limit.get(), period));
                }
            }
        }
        if let Some(quiet) = &self.quiet_hours {
            parts.push(quiet_words(quiet));
        }
        let over = match self.over_cap {
            OverCap::Hold => "hold",
            OverCap::Skip => "skip",
        };
        format!("{}; over a cap, {over}", parts.join("; "))
    }

    /// The caps on `channel`, if any.
    pub fn caps(&self, channel: Channel) -> Option<Caps> {
        match channel {
            Channel::Email => self.email,
            Channel::Text => self.text,
            Channel::Call => self.call,
        }
    }

    /// Whether a message may go at `touch.at` outside the quiet hours of
    /// its channel, on the recipient's clock. Every attempt is asked:
    /// quiet hours always hold, whatever `over_cap` says.
    pub fn quiet_check(&self, touch: &Touch<'_>) -> Result<(), Capped> {
        let Some(quiet) = self.quiet(touch.channel) else {
            return Ok(());
        };
        let (zone, now) = (touch.zone, touch.at);
        let local = now.with_timezone(&zone);
        if !quiet.contains((local.hour() * 60 + local.minute()) as u16) {
            return Ok(());
        }
        let clock = match touch.source {
            ZoneSource::Lead => format!("in {}", zone.name()),
            ZoneSource::Phone(country) => {
                format!(
                    "in {}, from the phone number's country ({country})",
                    zone.name()
                )
            }
            ZoneSource::Account => format!(
                "in {}, the workflow's: the lead has no valid timezone and its number gives none",
                zone.name()
            ),
        };
        Err(Capped {
            reason: format!("{} {clock}", quiet_words(quiet)),
            release: Some(calendar::next_time_of_day(zone, now, quiet.to.0)),
        })
    }

    /// Whether one more touch on its channel stays under every cap, its
    /// days and weeks read on the recipient's clock. `count(since)` gives
    /// how many touches the lead had on the channel from `since` on, across
    /// every workflow; `known`, at most how many it can give (`u32::MAX`
    /// when the caller cannot tell): under every limit, no day or week
    /// needs working out.
    pub fn cap_check(
        &self,
        touch: &Touch<'_>,
        known: u32,
        mut count: impl FnMut(DateTime<Utc>) -> u32,
    ) -> Result<(), Capped> {
        let Some(caps) = self.caps(touch.channel) else {
            return Ok(());
        };
        let least = [caps.per_day, caps.per_week]
            .into_iter()
            .flatten()
            .map(Limit::get)
            .min();
        if least.is_none_or(|least| known < least) {
            return Ok(());
        }
        let (zone, now) = (touch.zone, touch.at);
        let local = now.with_timezone(&zone);
        let today = local.date_naive();
        let start = |date: NaiveDate| calendar::resolve(zone, date.and_time(Default::default()));
        let mut over: Option<(Period, u32, DateTime<Utc>)> = None;
        for (period, limit) in [(Period::Day, caps.per_day), (Period::Week, caps.per_week)] {
            let Some(limit) = limit.map(Limit::get) else {
                continue;
            };
            if count(start(period.first(today))) < limit {
                continue;
            }
            let next = start(period.next(today));
            // The cap that lasts longer decides when the message may go.
            if over.is_none_or(|(_, _, until)| next > until) {
                over = Some((period, limit, next));
            }
        }
        let Some((period, limit, until)) = over else {
            return Ok(());
        };
        Err(Capped {
            reason: cap_words(touch.channel, limit, period),
            release: (self.over_cap == OverCap::Hold).then_some(until),
        })
    }
}

/// Quiet hours in words: `quiet hours 21:00-08:00`.
fn quiet_words(quiet: &QuietHours) -> String {
    format!(
        "quiet hours {}-{}",
        String::from(quiet.from),
        String::from(quiet.to)
    )
}

/// A cap in words: `at most 3 emails per week`.
fn cap_words(channel: Channel, limit: u32, period: Period) -> String {
    let plural = if limit == 1 { "" } else { "s" };
    format!(
        "at most {limit} {}{plural} per {}",
        channel.keyword(),
        period.name()
    )
}

/// The touches a simulation made, across every workflow it runs.
#[derive(Debug, Default)]
pub struct Ledger {
    /// By lead id, for each channel, the touches a cap may still count:
    /// their instants and a hash of their effect's key, oldest first.
    leads: HashMap<Box<str>, [Vec<Counted>; 3]>,
}

/// A touch a cap may count: when it went, and a hash of its effect's key.
type Counted = (DateTime<Utc>, u64);

/// How long a touch can count: a week, and a day for clocks that change.
const REMEMBERED: Duration = Duration::days(8);

impl Ledger {
    /// Counts a touch for its effect unless `policy` holds it back: quiet
    /// hours hold every attempt; an effect already counted is under its
    /// caps.
    pub fn touch(&mut self, policy: &ContactPolicy, touch: Touch<'_>) -> Result<(), Capped> {
        policy.quiet_check(&touch)?;
        if policy.caps(touch.channel).is_none() {
            return Ok(());
        }
        let effect = {
            use std::hash::{Hash, Hasher};
            let mut hasher = rustc_hash::FxHasher::default();
            touch.key.hash(&mut hasher);
            hasher.finish()
        };
        let lists = match self.leads.get_mut(touch.lead) {
            Some(lists) => lists,
            None => self.leads.entry(touch.lead.into()).or_default(),
        };
        let list = &mut lists[touch.channel as usize];
        if list.iter().any(|(_, counted)| *counted == effect) {
            return Ok(());
        }
        let known = list.len() as u32;
        policy.cap_check(&touch, known, |since| {
            list.iter().rev().take_while(|(at, _)| *at >= since).count() as u32
        })?;
        let forgotten = list.partition_point(|(at, _)| *at < touch.at - REMEMBERED);
        list.drain(..forgotten);
        list.push((touch.at, effect));
        Ok(())
    }
}

/// One message about to go out, as the policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct Touch<'a> {
    /// The effect's idempotency key.
    pub key: &'a str,
    /// The lead's id.
    pub lead: &'a str,
    /// Its channel.
    pub channel: Channel,
    /// The recipient's clock.
    pub zone: Tz,
    /// Whose clock that is.
    pub source: ZoneSource,
    /// When it goes.
    pub at: DateTime<Utc>,
}

impl<'a> Touch<'a> {
    /// The touch a request for an effect with this key would make, on the
    /// recipient's clock: the lead's timezone, else its phone number's
    /// country's one clock (texts and calls), else the workflow's.
    pub fn of(request: &Request<'a>, key: &'a str, channel: Channel) -> Self {
        let (zone, source) =
            recipient_clock(request.lead_zone, request.account_zone, request.message);
        Touch {
            key,
            lead: request.owner.lead,
            channel,
            zone,
            source,
            at: request.at,
        }
    }
}

/// The recipient's clock: the lead's timezone, else the one clock of the
/// country of the number a text or call goes to, else the workflow's.
pub fn recipient_clock(lead: Option<Tz>, account: Tz, message: &Message) -> (Tz, ZoneSource) {
    let number = match message {
        Message::Text { to, .. } | Message::Call { to, .. } => Some(to.as_str()),
        _ => None,
    };
    match lead {
        Some(zone) => (zone, ZoneSource::Lead),
        None => number
            .and_then(phone_zone::of_number)
            .map(|(zone, country)| (zone, ZoneSource::Phone(country)))
            .unwrap_or((account, ZoneSource::Account)),
    }
}

impl From<Capped> for Response {
    fn from(capped: Capped) -> Self {
        Response::OverCap {
            reason: capped.reason,
            release: capped.release,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("an instant")
            .with_timezone(&Utc)
    }

    fn policy(over_cap: OverCap) -> ContactPolicy {
        ContactPolicy {
            over_cap,
            text: Some(Caps {
                per_day: Limit::try_from(1).ok(),
                per_week: None,
            }),
            email: Some(Caps {
                per_day: None,
                per_week: Limit::try_from(3).ok(),
            }),
            call: None,
            quiet_hours: None,
        }
    }

    fn touch<'a>(key: &'a str, channel: Channel, zone: Tz, when: &str) -> Touch<'a> {
        Touch {
            key,
            lead: "a",
            channel,
            zone,
            source: ZoneSource::Lead,
            at: at(when),
        }
    }

    #[test]
    fn a_day_cap_releases_at_the_next_local_midnight_on_a_dst_day() {
        let new_york: Tz = "America/New_York".parse().expect("a zone");
        let mut ledger = Ledger::default();
        let policy = policy(OverCap::Hold);
        // Saturday 2026-03-07 23:30 EST; the next local day (Sunday, the
        // day clocks go forward) starts at 00:00 EST = 05:00 UTC.
        assert_eq!(
            ledger.touch(
                &policy,
                touch("k1", Channel::Text, new_york, "2026-03-07T23:30:00-05:00")
            ),
            Ok(())
        );
        assert_eq!(
            ledger.touch(
                &policy,
                touch("k2", Channel::Text, new_york, "2026-03-07T23:45:00-05:00")
            ),
            Err(Capped {
                reason: "at most 1 text per day".to_owned(),
                release: Some(at("2026-03-08T05:00:00Z")),
            })
        );
        // The same effect asked again (a retry) is the touch already counted.
        assert_eq!(
            ledger.touch(
                &policy,
                touch("k1", Channel::Text, new_york, "2026-03-07T23:50:00-05:00")
            ),
            Ok(())
        );
        assert_eq!(
            ledger.touch(
                &policy,
                touch("k2", Channel::Text, new_york, "2026-03-08T00:00:00-05:00")
            ),
            Ok(())
        );
        // Sunday's next day starts at 00:00 EDT: the day was 23 hours long.
        assert_eq!(
            ledger
                .touch(
                    &policy,
                    touch("k3", Channel::Text, new_york, "2026-03-08T12:00:00-04:00")
                )
                .map_err(|capped| capped.release),
            Err(Some(at("2026-03-09T04:00:00Z")))
        );
    }

    #[test]
    fn a_week_cap_counts_monday_to_sunday_in_the_lead_calendar_and_may_skip() {
        let tokyo: Tz = "Asia/Tokyo".parse().expect("a zone");
        let mut ledger = Ledger::default();
        let policy = policy(OverCap::Skip);
        // Sunday evening UTC is already Monday in Tokyo: a new week there.
        for (key, when) in [
            ("e1", "2026-03-02T09:00:00+09:00"),
            ("e2", "2026-03-04T09:00:00+09:00"),
            ("e3", "2026-03-06T09:00:00+09:00"),
        ] {
            assert_eq!(
                ledger.touch(&policy, touch(key, Channel::Email, tokyo, when)),
                Ok(())
            );
        }
        assert_eq!(
            ledger.touch(
                &policy,
                touch("e4", Channel::Email, tokyo, "2026-03-08T23:00:00+09:00")
            ),
            Err(Capped {
                reason: "at most 3 emails per week".to_owned(),
                release: None,
            })
        );
        assert_eq!(
            ledger.touch(
                &policy,
                touch("e5", Channel::Email, tokyo, "2026-03-08T15:30:00Z")
            ),
            Ok(()),
            "00:30 on Monday in Tokyo"
        );
        // Calls have no cap.
        for key in ["c1", "c2", "c3"] {
            assert_eq!(
                ledger.touch(
                    &policy,
                    touch(key, Channel::Call, tokyo, "2026-03-09T10:00:00+09:00")
                ),
                Ok(())
            );
        }
    }
}
