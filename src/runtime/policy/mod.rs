//! The contact policy: quiet hours in which texts and calls never go out,
//! and caps on how often one lead is reached on a channel, per day and per
//! week, counted across every workflow. Both are read on the recipient's
//! clock: the lead's timezone, else the clock of its phone number's
//! country where that country keeps one, else the workflow's. Both
//! runtimes ask [`ContactPolicy::quiet_check`] and
//! [`ContactPolicy::cap_check`] before a message goes out and keep the
//! touches they count: the simulation in memory ([`Ledger`]), live runs in
//! the database.

mod ledger;
mod settings;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

pub use ledger::Ledger;
pub use settings::{Caps, ClockTime, ContactPolicy, Limit, OverCap, QuietChannels, QuietHours};

use crate::ast::Channel;
use crate::calendar;
use crate::phone_zone;
use crate::vm::{Message, Request, Response};

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
            release: Some(calendar::next_time_of_day(zone, now, quiet.to.minute())),
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
