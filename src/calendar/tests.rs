//! The clock rules held against chrono-tz on DST transition days (gaps,
//! repeated hours, windows around them), far dates and odd offsets.

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
