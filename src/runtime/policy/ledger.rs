//! The touches a simulation counts, across every workflow it runs.

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::{Capped, ContactPolicy, Touch};
use crate::bytecode::channel_index;

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
        let list = &mut lists[channel_index(touch.channel)];
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

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::*;
    use crate::ast::Channel;
    use crate::runtime::policy::{Caps, Limit, OverCap, ZoneSource};

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
