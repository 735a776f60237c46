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
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::Berlin;

    proptest::proptest! {
        /// The quick RFC 3339 form is chrono's, across DST changes (every
        /// second of 2026 and far dates), odd offsets and leap years.
        #[test]
        fn rfc3339_writes_what_chrono_writes(
            seconds in proptest::prop_oneof![1_767_225_600i64..1_798_761_600, -9_000_000_000i64..9_000_000_000],
            zone in proptest::sample::select(vec![
                New_York, Berlin, chrono_tz::Asia::Kathmandu, chrono_tz::Pacific::Apia,
                chrono_tz::Australia::Lord_Howe, chrono_tz::Africa::Monrovia,
            ]),
        ) {
            let instant = DateTime::from_timestamp(seconds, 0).expect("in range");
            proptest::prop_assert_eq!(rfc3339(instant, zone), instant.with_timezone(&zone).to_rfc3339());
        }
    }

    #[test]
    fn lengths_of_time_read_for_people() {
        assert_eq!(rough_length(45), "45s");
        assert_eq!(rough_length(5400), "1h 30m");
        assert_eq!(rough_length(2 * 86_400 + 3 * 3600 + 59), "2d 3h");
    }

    #[test]
    fn rfc3339_on_the_fall_back_hour_tells_the_two_passes_apart() {
        let first = at(New_York, "2026-11-01 01:30");
        let second = first + chrono::Duration::hours(1);
        assert_eq!(rfc3339(first, New_York), "2026-11-01T01:30:00-04:00");
        assert_eq!(rfc3339(second, New_York), "2026-11-01T01:30:00-05:00");
    }

    fn at(zone: Tz, text: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("a test time");
        resolve(zone, local)
    }

    fn local(zone: Tz, instant: DateTime<Utc>) -> String {
        instant
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    #[test]
    fn gap_times_move_forward_by_the_gap() {
        // 2026-03-08 is spring-forward day in New York: 02:00 becomes 03:00.
        assert_eq!(
            local(New_York, at(New_York, "2026-03-08 02:30")),
            "2026-03-08 03:30 EDT"
        );
        // 2026-03-29 in Berlin: 02:00 becomes 03:00.
        assert_eq!(
            local(Berlin, at(Berlin, "2026-03-29 02:15")),
            "2026-03-29 03:15 CEST"
        );
    }

    #[test]
    fn repeated_times_take_the_earlier_instant() {
        // 2026-11-01 is fall-back day in New York: 01:30 happens twice.
        let instant = at(New_York, "2026-11-01 01:30");
        assert_eq!(local(New_York, instant), "2026-11-01 01:30 EDT");
        assert_eq!(instant.to_rfc3339(), "2026-11-01T05:30:00+00:00");
        let instant = at(Berlin, "2026-10-25 02:30");
        assert_eq!(local(Berlin, instant), "2026-10-25 02:30 CEST");
    }

    #[test]
    fn days_keep_the_wall_clock_across_dst() {
        let before_spring = at(New_York, "2026-03-07 09:00");
        let next = add_days(New_York, before_spring, 1);
        assert_eq!(local(New_York, next), "2026-03-08 09:00 EDT");
        assert_eq!((next - before_spring).num_hours(), 23);
        let before_fall = at(Berlin, "2026-10-24 09:00");
        let next = add_days(Berlin, before_fall, 1);
        assert_eq!(local(Berlin, next), "2026-10-25 09:00 CET");
        assert_eq!((next - before_fall).num_hours(), 25);
    }

    #[test]
    fn a_day_into_a_gap_lands_after_it() {
        let from = at(New_York, "2026-03-07 02:30");
        assert_eq!(
            local(New_York, add_days(New_York, from, 1)),
            "2026-03-08 03:30 EDT"
        );
    }

    #[test]
    fn time_of_day_before_at_and_after() {
        let ten = 10 * 60;
        let before = at(Berlin, "2026-06-01 09:59");
        assert_eq!(
            local(Berlin, next_time_of_day(Berlin, before, ten)),
            "2026-06-01 10:00 CEST"
        );
        let exactly = at(Berlin, "2026-06-01 10:00");
        assert_eq!(next_time_of_day(Berlin, exactly, ten), exactly);
        let after = at(Berlin, "2026-06-01 10:01");
        assert_eq!(
            local(Berlin, next_time_of_day(Berlin, after, ten)),
            "2026-06-02 10:00 CEST"
        );
    }

    #[test]
    fn time_of_day_across_a_dst_change_keeps_the_clock() {
        let evening = at(New_York, "2026-10-31 18:00");
        let nine = next_time_of_day(New_York, evening, 9 * 60);
        assert_eq!(local(New_York, nine), "2026-11-01 09:00 EST");
        assert_eq!((nine - evening).num_hours(), 16);
    }

    fn weekdays(ranges: &[(u16, u16)]) -> Hours {
        Hours {
            days: 0b0011111,
            ranges: ranges.to_vec(),
        }
    }

    #[test]
    fn windows_include_their_start_and_exclude_their_end() {
        let hours = weekdays(&[(9 * 60, 17 * 60)]);
        assert!(hours.is_open(Berlin, at(Berlin, "2026-06-01 09:00")));
        assert!(hours.is_open(Berlin, at(Berlin, "2026-06-01 16:59")));
        assert!(!hours.is_open(Berlin, at(Berlin, "2026-06-01 17:00")));
        assert!(!hours.is_open(Berlin, at(Berlin, "2026-06-01 08:59")));
    }

    #[test]
    fn a_closed_window_opens_at_the_next_range_on_an_allowed_day() {
        let hours = weekdays(&[(9 * 60, 12 * 60), (13 * 60, 17 * 60)]);
        let lunch = at(Berlin, "2026-06-05 12:30"); // a Friday
        assert_eq!(
            local(Berlin, hours.next_open(Berlin, lunch).unwrap()),
            "2026-06-05 13:00 CEST"
        );
        let friday_evening = at(Berlin, "2026-06-05 17:00");
        assert_eq!(
            local(Berlin, hours.next_open(Berlin, friday_evening).unwrap()),
            "2026-06-08 09:00 CEST"
        );
        let open = at(Berlin, "2026-06-05 10:00");
        assert_eq!(hours.next_open(Berlin, open), Some(open));
    }

    #[test]
    fn a_window_up_to_midnight_reopens_the_next_morning() {
        let hours = Hours {
            days: 0b1111111,
            ranges: vec![(20 * 60, MINUTES_PER_DAY), (0, 60)],
        };
        assert!(hours.is_open(New_York, at(New_York, "2026-06-01 23:59")));
        assert!(hours.is_open(New_York, at(New_York, "2026-06-02 00:30")));
        let closed = at(New_York, "2026-06-02 01:00");
        assert_eq!(
            local(New_York, hours.next_open(New_York, closed).unwrap()),
            "2026-06-02 20:00 EDT"
        );
    }

    #[test]
    fn a_range_inside_the_spring_gap_is_skipped_that_day() {
        let hours = Hours {
            days: 0b1111111,
            ranges: vec![(2 * 60, 3 * 60)],
        };
        let night = at(New_York, "2026-03-08 00:00");
        assert_eq!(
            local(New_York, hours.next_open(New_York, night).unwrap()),
            "2026-03-09 02:00 EDT"
        );
    }

    #[test]
    fn a_window_opening_in_the_gap_opens_when_the_clock_gets_there() {
        let hours = Hours {
            days: 0b1111111,
            ranges: vec![(2 * 60 + 30, 4 * 60)],
        };
        // The gap ends at 03:00 EDT, inside the range: open from then, as a
        // lead arriving at 03:00 would find it.
        let night = at(New_York, "2026-03-08 00:00");
        let opens = hours.next_open(New_York, night).unwrap();
        assert_eq!(local(New_York, opens), "2026-03-08 03:00 EDT");
        assert!(hours.is_open(New_York, opens));
        assert!(!hours.is_open(New_York, add_seconds(opens, -1)));
    }

    #[test]
    fn a_window_that_never_opens_gives_none() {
        let hours = Hours {
            days: 0,
            ranges: vec![(60, 120)],
        };
        assert_eq!(
            hours.next_open(Berlin, at(Berlin, "2026-06-01 00:00")),
            None
        );
    }

    #[test]
    fn time_of_day_in_the_second_pass_of_fall_back_is_never_in_the_past() {
        // 2026-11-01, New York: 01:00-02:00 EDT, then 01:00-02:00 EST again.
        let second_pass: DateTime<Utc> = "2026-11-01T06:15:00Z".parse().expect("an instant");
        assert_eq!(local(New_York, second_pass), "2026-11-01 01:15 EST");
        let until = next_time_of_day(New_York, second_pass, 90);
        assert_eq!(local(New_York, until), "2026-11-01 01:30 EST");
        assert_eq!((until - second_pass).num_minutes(), 15);
        // In the first pass, the first reading.
        let first_pass = at(New_York, "2026-11-01 01:15");
        assert_eq!(
            local(New_York, next_time_of_day(New_York, first_pass, 90)),
            "2026-11-01 01:30 EDT"
        );
    }

    #[test]
    fn time_of_day_after_a_gap_time_waits_for_tomorrow() {
        // 03:10 EDT on spring-forward day: 02:30 has passed (it was moved
        // to 03:30, but the clock already read past 02:30).
        let after = at(New_York, "2026-03-08 03:10");
        assert_eq!(
            local(New_York, next_time_of_day(New_York, after, 150)),
            "2026-03-09 02:30 EDT"
        );
        let before = at(New_York, "2026-03-08 01:50");
        assert_eq!(
            local(New_York, next_time_of_day(New_York, before, 150)),
            "2026-03-08 03:30 EDT"
        );
    }

    #[test]
    fn a_window_reopens_in_the_second_pass_of_fall_back() {
        let every_day = |ranges: &[(u16, u16)]| Hours {
            days: 0b1111111,
            ranges: ranges.to_vec(),
        };
        let end_of_first_pass = at(New_York, "2026-11-01 01:30"); // EDT
        let hours = every_day(&[(60, 90)]);
        let opens = hours.next_open(New_York, end_of_first_pass).unwrap();
        assert_eq!(local(New_York, opens), "2026-11-01 01:00 EST");
        // A range the clock falls back into, not at its start.
        let hours = every_day(&[(30, 70)]);
        let opens = hours.next_open(New_York, end_of_first_pass).unwrap();
        assert_eq!(local(New_York, opens), "2026-11-01 01:00 EST");
        assert!(!hours.is_open(New_York, add_seconds(opens, -1)));
    }

    #[test]
    fn a_window_is_found_past_a_day_deleted_by_the_date_line() {
        // Samoa skipped Friday 2011-12-30 entirely.
        let apia = chrono_tz::Pacific::Apia;
        let friday_only = Hours {
            days: 1 << 4,
            ranges: vec![(9 * 60, 17 * 60)],
        };
        let friday_evening = at(apia, "2011-12-23 18:00");
        let opens = friday_only.next_open(apia, friday_evening).unwrap();
        assert_eq!(local(apia, opens), "2012-01-06 09:00 +14");
    }
}
