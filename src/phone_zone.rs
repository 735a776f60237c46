//! The clock of a phone number's country, for leads with no valid
//! `timezone`: the country comes from the number (libphonenumber's
//! metadata, through the `phonenumber` crate: `+1 416…` is Canada, `+1
//! 212…` the United States), its zones from the tz database's own
//! `zone.tab` (data/zone.tab, as Debian's tzdata ships it), and a country
//! counts as keeping one clock when all its zones agree, offset for
//! offset, on every day from 2024 to 2030 (Germany's Europe/Busingen keeps
//! Berlin's clock; the United States, Canada and Australia keep several).

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// The tz database's table of zones by country code.
const ZONE_TAB: &str = include_str!("../data/zone.tab");

/// The zone a number's country keeps, with the country's code, when it
/// keeps one clock; `None` for a number that does not parse, a country
/// with several clocks, or one the table does not know.
pub fn of_number(number: &str) -> Option<(Tz, &'static str)> {
    let parsed = phonenumber::parse(None, number).ok()?;
    let country = parsed.country().id()?;
    let (code, (zones, clock)) = countries().get_key_value(country.as_ref())?;
    // Worked out once per country, the first time one of its numbers is.
    let zone = clock.get_or_init(|| {
        zones
            .iter()
            .all(|zone| agree(zones[0], *zone))
            .then(|| zones[0])
    });
    Some(((*zone)?, code))
}

/// For each country in the table, its zones, and once asked whether they
/// keep one clock (its first zone), or not (`None`).
type Countries = HashMap<&'static str, (Vec<Tz>, OnceLock<Option<Tz>>)>;

/// The table read once.
fn countries() -> &'static Countries {
    static TABLE: OnceLock<Countries> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut countries = Countries::new();
        for line in ZONE_TAB.lines().filter(|line| !line.starts_with('#')) {
            let mut columns = line.split('\t');
            let (Some(country), Some(_), Some(name)) =
                (columns.next(), columns.next(), columns.next())
            else {
                continue;
            };
            if let Ok(zone) = name.parse::<Tz>() {
                countries.entry(country).or_default().0.push(zone);
            }
        }
        countries
    })
}

/// Whether two zones give the same offset at noon UTC on every day from
/// 2024 through 2030.
fn agree(a: Tz, b: Tz) -> bool {
    let Some(start) = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).single() else {
        return false;
    };
    (0..7 * 366).all(|day| {
        let at = start + chrono::Duration::days(day);
        a.offset_from_utc_datetime(&at.naive_utc()).fix()
            == b.offset_from_utc_datetime(&at.naive_utc()).fix()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_with_one_clock_give_it_and_others_none() {
        let zone = |number| of_number(number).map(|(zone, country)| (zone.name(), country));
        assert_eq!(zone("+4915155550143"), Some(("Europe/Berlin", "DE")));
        assert_eq!(zone("+81355550141"), Some(("Asia/Tokyo", "JP")));
        assert_eq!(zone("+442071838750"), Some(("Europe/London", "GB")));
        // The United States and Canada keep several clocks; so does Australia.
        assert_eq!(zone("+12125550100"), None);
        assert_eq!(zone("+14165550100"), None);
        assert_eq!(zone("+61255550100"), None);
        assert_eq!(zone("not a number"), None);
        assert_eq!(zone("+"), None);
    }
}
