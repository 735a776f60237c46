//! The contact policy: caps on how often one lead is reached on a channel,
//! per day and per week, counted across every workflow in the lead's own
//! calendar (its timezone, else the workflow's). Both runtimes ask
//! [`ContactPolicy::check`] before a message goes out and keep the touches
//! it counts: the simulation in memory ([`Ledger`]), live runs in the
//! database.

use std::num::NonZeroU32;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};

use crate::ast::Channel;
use crate::calendar;
use crate::vm::{Request, Response};

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
}

/// How many touches a channel allows per local day and per local week
/// (Monday to Sunday).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// At most this many a day (1 or more).
    pub per_day: Option<NonZeroU32>,
    /// At most this many a week (1 or more).
    pub per_week: Option<NonZeroU32>,
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
    /// Whether the policy caps anything.
    pub fn is_empty(&self) -> bool {
        [self.email, self.text, self.call]
            .iter()
            .all(|caps| caps.is_none_or(|caps| caps.per_day.is_none() && caps.per_week.is_none()))
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

    /// Whether one more touch of a lead on `channel` may go at `now`, its
    /// days read in `zone`. `count(since)` gives how many touches the lead
    /// had on the channel from `since` on, across every workflow.
    pub fn check(
        &self,
        channel: Channel,
        zone: Tz,
        now: DateTime<Utc>,
        mut count: impl FnMut(DateTime<Utc>) -> u32,
    ) -> Result<(), Capped> {
        let Some(caps) = self.caps(channel) else {
            return Ok(());
        };
        let today = now.with_timezone(&zone).date_naive();
        let start = |date: NaiveDate| calendar::resolve(zone, date.and_time(Default::default()));
        let mut over: Option<(Period, u32, DateTime<Utc>)> = None;
        for (period, limit) in [(Period::Day, caps.per_day), (Period::Week, caps.per_week)] {
            let Some(limit) = limit.map(NonZeroU32::get) else {
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
            reason: cap_words(channel, limit, period),
            release: (self.over_cap == OverCap::Hold).then_some(until),
        })
    }
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
    /// Touch instants by lead id and channel, in time order.
    touches: HashMap<(Box<str>, Channel), Vec<DateTime<Utc>>>,
    /// The idempotency keys of the effects counted: an effect asked again
    /// (a retry) is the same touch.
    keys: HashSet<String>,
}

impl Ledger {
    /// Counts a touch for the effect `key` unless `policy` caps it; an
    /// effect already counted always may go.
    pub fn touch(&mut self, policy: &ContactPolicy, touch: Touch<'_>) -> Result<(), Capped> {
        if policy.caps(touch.channel).is_none() || self.keys.contains(touch.key) {
            return Ok(());
        }
        let list = self
            .touches
            .entry((touch.lead.into(), touch.channel))
            .or_default();
        policy.check(touch.channel, touch.zone, touch.at, |since| {
            list.iter().rev().take_while(|at| **at >= since).count() as u32
        })?;
        list.push(touch.at);
        self.keys.insert(touch.key.to_owned());
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
    /// The lead's timezone (the workflow's when it has none).
    pub zone: Tz,
    /// When it goes.
    pub at: DateTime<Utc>,
}

impl<'a> Touch<'a> {
    /// The touch a request for an effect with this key would make.
    pub fn of(request: &Request<'a>, key: &'a str, channel: Channel) -> Self {
        Touch {
            key,
            lead: request.owner.lead,
            channel,
            zone: request.zone,
            at: request.at,
        }
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
                per_day: NonZeroU32::new(1),
                per_week: None,
            }),
            email: Some(Caps {
                per_day: None,
                per_week: NonZeroU32::new(3),
            }),
            call: None,
        }
    }

    fn touch<'a>(key: &'a str, channel: Channel, zone: Tz, when: &str) -> Touch<'a> {
        Touch {
            key,
            lead: "a",
            channel,
            zone,
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
