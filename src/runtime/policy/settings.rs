//! The `[policy]` table of `flowc.toml`, as read and as stored in the
//! database: caps, quiet hours and what a message over a cap does.

use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::ast::Channel;

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
    pub fn contains(&self, minute: u16) -> bool {
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

impl ClockTime {
    /// Minutes since midnight.
    pub fn minute(self) -> u16 {
        self.0
    }
}

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
