//! Every clock-time decision of the runtime, applied in an IANA timezone
//! through chrono-tz: wall-clock resolution across DST changes, calendar
//! days, the time-of-day step and outgoing windows.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Minutes in a day; a range may end at `24:00`.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// The instant of a wall-clock time in `zone`. A time in a spring-forward
/// gap moves forward by the gap's length (02:30 becomes 03:30); a time that
/// occurs twice at fall-back is the earlier instant.
pub fn resolve(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Read the time with the offset in force before the gap: the
            // instant lands after the gap, shifted by exactly its length.
            let before = add_seconds(local.and_utc(), -86_400);
            let offset = zone
                .offset_from_utc_datetime(&before.naive_utc())
                .fix()
                .local_minus_utc();
            add_seconds(local.and_utc(), -i64::from(offset))
        }
    }
}

/// `seconds` of elapsed time after `at` (before, if negative), held at the
/// ends of the representable range instead of overflowing.
pub fn add_seconds(at: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    chrono::TimeDelta::try_seconds(seconds)
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(if seconds < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

/// The same wall-clock time `days` calendar days after `from` in `zone`.
pub fn add_days(zone: Tz, from: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    let local = from.with_timezone(&zone).naive_local();
    match local.checked_add_days(Days::new(days)) {
        Some(later) => resolve(zone, later),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// The same wall-clock time `days` calendar days before `from` in `zone`.
pub fn sub_days(zone: Tz, from: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    let local = from.with_timezone(&zone).naive_local();
    match local.checked_sub_days(Days::new(days)) {
        Some(earlier) => resolve(zone, earlier),
        None => DateTime::<Utc>::MIN_UTC,
    }
}

/// When a `wait until HH:MM` reached at `now` ends: now if the local time is
/// exactly HH:MM, today at HH:MM if it is earlier, else tomorrow at HH:MM;
/// never before now. In the second pass of a fall-back hour, "today at
/// HH:MM" is the next instant whose wall clock reads HH:MM.
pub fn next_time_of_day(zone: Tz, now: DateTime<Utc>, minute_of_day: u16) -> DateTime<Utc> {
    let local = now.with_timezone(&zone).naive_local();
    let target = clock(minute_of_day);
    let today = local.date();
    if local.time() == target {
        return now;
    }
    let later_today = local.time() < target;
    let tomorrow = today.succ_opt().unwrap_or(today);
    let today_readings = readings(zone, today.and_time(target))
        // A time in a spring-forward gap is read after the gap, but only
        // counts today while the clock has not passed it.
        .filter(|reading| later_today || reading.exact);
    today_readings
        .chain(readings(zone, tomorrow.and_time(target)))
        .map(|reading| reading.instant)
        .find(|&instant| instant >= now)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When a `wait until [next] DAYS HH:MM` reached at `now` ends: the first
/// end [`next_time_of_day`] gives that falls on one of `days` (bits,
/// Monday = bit 0), never on today's date when `next` is set.
pub fn next_time_on_days(
    zone: Tz,
    now: DateTime<Utc>,
    minute_of_day: u16,
    days: u8,
    next: bool,
) -> DateTime<Utc> {
    let today = now.with_timezone(&zone).date_naive();
    let mut from = now;
    // A week and a day covers every weekday after a skipped today; the
    // rest is room for days a date-line change deleted.
    for _ in 0..16 {
        let end = next_time_of_day(zone, from, minute_of_day);
        if end == DateTime::<Utc>::MAX_UTC {
            return end;
        }
        let date = end.with_timezone(&zone).date_naive();
        let allowed = days & (1 << date.weekday().num_days_from_monday()) != 0;
        if allowed && !(next && date == today) {
            return end;
        }
        from = add_seconds(end, 1);
    }
    DateTime::<Utc>::MAX_UTC
}

/// The same wall-clock time `days` business days after `from` in `zone`:
/// the `days`th date after today's that is a weekday and not one of
/// `holidays` (sorted). From a Saturday, one business day is Monday.
pub fn add_business_days(
    zone: Tz,
    from: DateTime<Utc>,
    days: u32,
    holidays: &[NaiveDate],
) -> DateTime<Utc> {
    let local = from.with_timezone(&zone).naive_local();
    let mut date = local.date();
    let mut left = days;
    while left > 0 {
        let Some(next) = date.succ_opt() else {
            return DateTime::<Utc>::MAX_UTC;
        };
        date = next;
        if is_business_day(date, holidays) {
            left -= 1;
        }
    }
    resolve(zone, date.and_time(local.time()))
}

/// Whether `date` is a weekday and not one of `holidays` (sorted).
pub fn is_business_day(date: NaiveDate, holidays: &[NaiveDate]) -> bool {
    date.weekday().num_days_from_monday() < 5 && holidays.binary_search(&date).is_err()
}

/// An instant at which a wall-clock time is read.
#[derive(Clone, Copy, Debug)]
struct Reading {
    instant: DateTime<Utc>,
    /// Whether the wall clock really shows the time then (false for a time
    /// in a spring-forward gap, moved past it).
    exact: bool,
}

/// Every instant at which `local` is read in `zone`, earliest first: one,
/// both passes of a fall-back hour, or for a time in a spring-forward gap
/// the instant [`resolve`] moves it to.
fn readings(zone: Tz, local: NaiveDateTime) -> impl Iterator<Item = Reading> {
    let exact = |instant: DateTime<Tz>| {
        Some(Reading {
            instant: instant.with_timezone(&Utc),
            exact: true,
        })
    };
    let pair = match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => [exact(instant), None],
        LocalResult::Ambiguous(earlier, later) => [exact(earlier), exact(later)],
        LocalResult::None => [
            Some(Reading {
                instant: resolve(zone, local),
                exact: false,
            }),
            None,
        ],
    };
    pair.into_iter().flatten()
}

/// The instant within `date` (local) at which `zone` changes its offset, if
/// it does: the end of a spring-forward gap or the start of a fall-back
/// hour's second pass.
fn offset_change(zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let offset = |instant: DateTime<Utc>| zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    let mut low = resolve(zone, date.and_time(NaiveTime::MIN));
    let mut high = resolve(zone, date.succ_opt()?.and_time(NaiveTime::MIN));
    let before = offset(low);
    if offset(high) == before {
        return None;
    }
    // The first second with the new offset.
    while (high - low).num_seconds() > 1 {
        let middle = add_seconds(low, (high - low).num_seconds() / 2);
        if offset(middle) == before {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(high)
}

fn clock(minute_of_day: u16) -> NaiveTime {
    let minute = u32::from(minute_of_day.min(MINUTES_PER_DAY - 1));
    NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or(NaiveTime::MIN)
}

impl Hours {
    /// Whether the hours are open at `now` in `zone`, closed all day on
    /// the `closed` dates (sorted).
    pub fn is_open_except(&self, zone: Tz, now: DateTime<Utc>, closed: &[NaiveDate]) -> bool {
        let date = now.with_timezone(&zone).date_naive();
        closed.binary_search(&date).is_err() && self.is_open(zone, now)
    }

    /// When the hours next open at or after `now` in `zone`, skipping the
    /// `closed` dates (sorted) whole.
    pub fn next_open_except(
        &self,
        zone: Tz,
        now: DateTime<Utc>,
        closed: &[NaiveDate],
    ) -> Option<DateTime<Utc>> {
        let mut from = now;
        // Each round skips at least one closed date; a year of them is more
        // than any calendar holds.
        for _ in 0..=closed.len().min(366) {
            let opens = self.next_open(zone, from)?;
            let date = opens.with_timezone(&zone).date_naive();
            if closed.binary_search(&date).is_err() {
                return Some(opens);
            }
            from = resolve(zone, date.succ_opt()?.and_time(NaiveTime::MIN));
        }
        None
    }
}

/// Outgoing hours: weekdays and time ranges, start included, end excluded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    /// Allowed weekdays as bits, Monday = bit 0.
    pub days: u8,
    /// Open ranges as minutes of the day, `start..end`, sorted by start.
    pub ranges: Vec<(u16, u16)>,
}

impl Hours {
    /// Whether the hours are open at `now`, read in `zone`.
    pub fn is_open(&self, zone: Tz, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&zone).naive_local();
        self.allows(local.date()) && self.open_at_minute(minute_of(local.time()))
    }

    /// Whether the hours are open at some minute of `hour` (0-23) on the
    /// weekday `day` (Monday = 0).
    pub fn open_in_hour(&self, day: u32, hour: u16) -> bool {
        let (start, end) = (hour * 60, hour * 60 + 60);
        self.days & (1 << day) != 0
            && self
                .ranges
                .iter()
                .any(|&(from, to)| from < end && start < to)
    }

    fn allows(&self, date: NaiveDate) -> bool {
        self.days & (1 << date.weekday().num_days_from_monday()) != 0
    }

    fn open_at_minute(&self, minute: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }

    /// The first instant at or after `now` when the hours are open by
    /// [`Hours::is_open`], the very test a send is held by: a range start as
    /// the wall clock reads it (both passes of a fall-back hour), or an
    /// offset change that moves the clock into a range (a range starting
    /// inside a spring-forward gap opens at the gap's end). Looked for over
    /// [`SEARCH_DAYS`] days, so days deleted by a date-line change are
    /// passed over; `None` if the hours never open.
    pub fn next_open(&self, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(zone, now) {
            return Some(now);
        }
        if self.days == 0 || self.ranges.is_empty() {
            return None;
        }
        let today = now.with_timezone(&zone).date_naive();
        (0..=SEARCH_DAYS)
            .filter_map(|offset| today.checked_add_days(Days::new(offset)))
            .find_map(|date| {
                let starts = self
                    .ranges
                    .iter()
                    .flat_map(|&(start, _)| readings(zone, date.and_time(clock(start))))
                    .map(|reading| reading.instant);
                starts
                    .chain(offset_change(zone, date))
                    .filter(|&opens| opens > now && self.is_open(zone, opens))
                    .min()
            })
    }
}

/// How many days ahead [`Hours::next_open`] looks: a week, and more than
/// any run of days a timezone has ever skipped.
const SEARCH_DAYS: u64 = 21;

fn minute_of(time: NaiveTime) -> u16 {
    use chrono::Timelike;
    (time.hour() * 60 + time.minute()) as u16
}

/// `at` in `zone` as RFC 3339, as [`DateTime::to_rfc3339`] writes it,
/// without a format string for the common case (whole seconds, a four-digit
/// year, an offset in whole minutes).
pub fn rfc3339(at: DateTime<Utc>, zone: Tz) -> String {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc()).fix();
    let seconds = offset.local_minus_utc();
    let local = at.naive_utc() + offset;
    if local.nanosecond() != 0 || !(0..=9999).contains(&local.year()) || seconds % 60 != 0 {
        return at.with_timezone(&zone).to_rfc3339();
    }
    let minutes = seconds.unsigned_abs() / 60;
    let mut text = String::with_capacity(25);
    let mut digits = |number: u32, width: usize, after: char| {
        let mut place = 10u32.pow(width as u32 - 1);
        while place > 0 {
            text.push(char::from(b'0' + (number / place % 10) as u8));
            place /= 10;
        }
        text.push(after);
    };
    digits(local.year() as u32, 4, '-');
    digits(local.month(), 2, '-');
    digits(local.day(), 2, 'T');
    digits(local.hour(), 2, ':');
    digits(local.minute(), 2, ':');
    digits(local.second(), 2, if seconds < 0 { '-' } else { '+' });
    digits(minutes / 60, 2, ':');
    digits(minutes % 60, 2, ' ');
    text.pop();
    text
}

/// A length of time in words for people, to the minute: `2d 3h`, `1h 30m`,
/// `45s` (the disassembly writes exact lengths instead).
pub fn rough_length(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (minutes, "m")]
        .into_iter()
        .filter(|(amount, _)| *amount > 0)
        .map(|(amount, unit)| format!("{amount}{unit}"))
        .collect();
    if parts.is_empty() {
        format!("{seconds}s")
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests;
