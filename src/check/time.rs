//! Timezones, durations, clock times and outgoing windows.

use rustc_hash::FxHashMap as HashMap;
use std::str::FromStr;

use std::rc::Rc;

use super::{CheckError, Checker};
use crate::ast::*;
use crate::span::Span;

/// The shortest and longest `wait`, in seconds (Spara's limits).
const WAIT_RANGE: (u64, u64) = (60, 30 * DAY);
/// The shortest and longest http `timeout`, in seconds.
const TIMEOUT_RANGE: (u64, u64) = (1, 10 * 60);
const DAY: u64 = 24 * 60 * 60;
/// The longest duration any setting or test accepts, in seconds.
pub(super) const LONGEST: u64 = 100 * 365 * DAY;

/// A duration's length in seconds, with days counted as 24 hours (enough to
/// compare with limits; the runtime counts calendar days).
pub(super) fn seconds(duration: &Duration) -> u64 {
    let unit = match duration.unit {
        TimeUnit::Second => 1,
        TimeUnit::Minute => 60,
        TimeUnit::Hour => 60 * 60,
        TimeUnit::Day => DAY,
        TimeUnit::Week => 7 * DAY,
        TimeUnit::Year => 365 * DAY,
    };
    duration.amount.saturating_mul(unit)
}

/// Whether a window can never open: no day, or no range that is open.
pub(super) fn never_opens(window: &Window) -> bool {
    let no_days = window.days.as_ref().is_none_or(|days| days.is_empty());
    no_days
        || !window
            .ranges
            .iter()
            .any(|range| range_problem(range).is_none())
}

/// Why a range is never open, if it is not.
fn range_problem(range: &TimeRange) -> Option<&'static str> {
    if !valid_clock(&range.start, false) || !valid_clock(&range.end, true) {
        return Some("invalid");
    }
    let start = (range.start.hour, range.start.minute);
    let end = (range.end.hour, range.end.minute);
    match start.cmp(&end) {
        std::cmp::Ordering::Equal => Some("empty"),
        std::cmp::Ordering::Greater => Some("inverted (it ends before it starts)"),
        std::cmp::Ordering::Less => None,
    }
}

/// Whether a clock time exists; `24:00` only as the end of a range.
fn valid_clock(clock: &Clock, range_end: bool) -> bool {
    (clock.hour < 24 && clock.minute < 60) || (range_end && clock.hour == 24 && clock.minute == 0)
}

/// The longest business-day wait: about a year.
const MAX_BUSINESS_DAYS: u32 = 250;

impl Checker<'_> {
    pub(super) fn time(&mut self) {
        for setting in &self.workflow.settings {
            match &setting.kind {
                SettingKind::Timezone(name) => self.timezone(&name.node, name.span),
                SettingKind::ReEntry(ReEntry::After(duration)) => self.duration_in(
                    duration,
                    (60, LONGEST),
                    "re-entry",
                    "re-entry waits at least 1 minute",
                ),
                SettingKind::LookBack(duration) => self.duration_in(
                    duration,
                    (DAY, LONGEST),
                    "look back",
                    "look back at least 1 day, like `look back 2 years`",
                ),
                SettingKind::Holidays(Holidays::Dates(dates)) => {
                    for date in dates {
                        if chrono::NaiveDate::parse_from_str(&date.node, "%Y-%m-%d").is_err() {
                            self.report(CheckError::InvalidDate {
                                text: date.node.clone(),
                                span: date.span,
                            });
                        }
                    }
                }
                SettingKind::Holidays(Holidays::File(path)) => self.holidays_file(path),
                SettingKind::ReEntry(_) | SettingKind::SendFailure(_) => {}
            }
        }
        for &step in Rc::clone(&self.all_steps).iter() {
            match &step.kind {
                StepKind::Wait(duration) => {
                    let length = seconds(duration);
                    if length < WAIT_RANGE.0 || length > WAIT_RANGE.1 {
                        self.report(CheckError::WaitOutOfRange {
                            written: self.written(duration.span),
                            span: duration.span,
                        });
                    }
                }
                StepKind::WaitUntil(wait) => self.clock(&wait.clock, false),
                StepKind::WaitBusinessDays(days)
                    if !(1..=MAX_BUSINESS_DAYS).contains(&days.node) =>
                {
                    self.report(CheckError::DurationOutOfRange {
                        written: self.written(days.span),
                        what: "a business-day wait",
                        span: days.span,
                        help: "wait 1 to 250 business days, like `wait 2 business days`",
                    })
                }
                StepKind::WaitForEvent(wait) => self.duration_in(
                    &wait.timeout,
                    (60, LONGEST),
                    "a wait for an event",
                    "wait at least 1 minute, like `wait for call_ended up to 2 days`",
                ),
                StepKind::WaitUntilField(FieldWait {
                    offset: Some(offset),
                    ..
                }) => self.duration_in(
                    &offset.duration,
                    (60, LONGEST),
                    "a wait's offset",
                    "offsets are at least 1 minute, like `wait until demo_at - 1 hour`",
                ),
                StepKind::Effect(effect) => {
                    for option in &effect.options {
                        if let OptionKind::Timeout(duration) = &option.kind {
                            self.duration_in(
                                duration,
                                TIMEOUT_RANGE,
                                "an http timeout",
                                "http timeouts are 1 second to 10 minutes, like `timeout 10s`",
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        self.windows();
    }

    /// The source text at `span`.
    pub(super) fn written(&self, span: Span) -> String {
        self.source_text(span).to_owned()
    }

    pub(super) fn duration_in(
        &mut self,
        duration: &Duration,
        range: (u64, u64),
        what: &'static str,
        help: &'static str,
    ) {
        let length = seconds(duration);
        if length < range.0 || length > range.1 {
            self.report(CheckError::DurationOutOfRange {
                written: self.written(duration.span),
                what,
                span: duration.span,
                help,
            });
        }
    }

    fn clock(&mut self, clock: &Clock, range_end: bool) {
        if !valid_clock(clock, range_end) {
            self.report(CheckError::InvalidClock {
                written: self.written(clock.span),
                span: clock.span,
                help: if range_end {
                    "times run from 00:00 to 23:59; a range may end at 24:00"
                } else {
                    "times run from 00:00 to 23:59, 24-hour clock"
                },
            });
        }
    }

    fn timezone(&mut self, name: &str, span: Span) {
        if chrono_tz::Tz::from_str(name).is_ok() {
            return;
        }
        let suggestions = closest_timezones(name);
        let help = if suggestions.is_empty() {
            "use an IANA name like `America/New_York`, `Europe/Berlin` or `UTC`".to_owned()
        } else {
            format!(
                "did you mean {}?",
                suggestions
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        self.report(CheckError::UnknownTimezone {
            name: name.to_owned(),
            span,
            help,
        });
    }

    fn windows(&mut self) {
        let mut seen: HashMap<Channel, Span> = HashMap::default();
        for window in &self.workflow.windows {
            let channel = window.channel.node;
            match seen.get(&channel) {
                Some(&first) => self.report(CheckError::DuplicateWindow {
                    channel: channel.keyword(),
                    span: window.channel.span,
                    first,
                }),
                None => {
                    seen.insert(channel, window.channel.span);
                }
            }
            if window.days.is_none() {
                self.report(CheckError::WindowWithoutDays {
                    channel: channel.keyword(),
                    span: window.span,
                });
            }
            for range in &window.ranges {
                self.clock(&range.start, false);
                self.clock(&range.end, true);
                match range_problem(range) {
                    Some("invalid") | None => {}
                    Some(problem) => self.report(CheckError::EmptyRange {
                        written: self.written(range.span),
                        problem,
                        span: range.span,
                    }),
                }
            }
        }
    }
}

/// Up to three IANA names close to `name`, by whole name or by city.
fn closest_timezones(name: &str) -> Vec<&'static str> {
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let mut found = crate::suggest::ranked(name, names, 3);
    if found.is_empty() {
        let city = name
            .rsplit('/')
            .next()
            .unwrap_or(name)
            .replace([' ', '-'], "_");
        let cities = chrono_tz::TZ_VARIANTS.iter().filter_map(|tz| {
            tz.name()
                .rsplit_once('/')
                .map(|(_, city)| (city, tz.name()))
        });
        let by_city: HashMap<&str, &'static str> = cities.collect();
        found = crate::suggest::ranked(&city, by_city.keys().copied(), 3)
            .into_iter()
            .filter_map(|city| by_city.get(city).copied())
            .collect();
    }
    found
}
