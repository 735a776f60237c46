//! The clock of live runs.

use chrono::{DateTime, Utc};

/// The clock of a live run: the real one, or for tests an accelerated one
/// (`FLOWC_CLOCK=START@EPOCH_MS*SPEED`: virtual START at real EPOCH_MS,
/// SPEED virtual seconds per real second) that survives restarts.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// Wall-clock time.
    Real,
    /// A fixed instant that a test moves by hand.
    Fixed(DateTime<Utc>),
    /// Accelerated time from a fixed origin.
    Accelerated {
        /// The virtual instant at the origin.
        start: DateTime<Utc>,
        /// The real instant of the origin.
        origin: DateTime<Utc>,
        /// Virtual seconds per real second.
        speed: f64,
    },
}

/// A `FLOWC_CLOCK` value that is not a clock.
#[derive(Debug, thiserror::Error)]
#[error("FLOWC_CLOCK={0:?} is not START@EPOCH_MS*SPEED (an RFC 3339 start, a real origin in milliseconds, a positive speed)")]
pub struct ClockError(String);

impl Clock {
    /// The clock `FLOWC_CLOCK` describes, the real one when it is unset,
    /// or why its value is not a clock.
    pub fn from_env() -> Result<Clock, ClockError> {
        match std::env::var("FLOWC_CLOCK") {
            Err(_) => Ok(Clock::Real),
            Ok(text) => Clock::parse(&text).ok_or(ClockError(text)),
        }
    }

    /// An accelerated clock written `START@EPOCH_MS*SPEED`; the speed must
    /// be a positive finite number.
    pub fn parse(text: &str) -> Option<Clock> {
        let (start, rest) = text.split_once('@')?;
        let (origin, speed) = rest.split_once('*')?;
        let speed: f64 = speed.parse().ok()?;
        if !(speed.is_finite() && speed > 0.0) {
            return None;
        }
        Some(Clock::Accelerated {
            start: DateTime::parse_from_rfc3339(start)
                .ok()?
                .with_timezone(&Utc),
            origin: DateTime::from_timestamp_millis(origin.parse().ok()?)?,
            speed,
        })
    }

    /// The current instant.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::Real => Utc::now(),
            Clock::Fixed(instant) => instant,
            Clock::Accelerated {
                start,
                origin,
                speed,
            } => {
                let real = (Utc::now() - origin).num_milliseconds() as f64;
                // `as` saturates; an elapsed time past what an instant holds
                // stops the clock at the last instant there is.
                chrono::Duration::try_milliseconds((real * speed) as i64)
                    .and_then(|elapsed| start.checked_add_signed(elapsed))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
        }
    }

    /// How long to sleep in real time until the virtual instant `until`.
    pub fn real_delay(self, until: DateTime<Utc>) -> std::time::Duration {
        let virtual_ms = (until - self.now()).num_milliseconds().max(0) as f64;
        let real_ms = match self {
            Clock::Real | Clock::Fixed(_) => virtual_ms,
            Clock::Accelerated { speed, .. } => virtual_ms / speed.max(f64::MIN_POSITIVE),
        };
        std::time::Duration::from_millis(real_ms.min(3_600_000.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_speeds_are_refused_and_huge_ones_never_panic() {
        for speed in ["-1e308", "0", "-1", "NaN", "inf", "x"] {
            assert!(
                Clock::parse(&format!("2026-01-01T00:00:00Z@0*{speed}")).is_none(),
                "{speed}"
            );
        }
        let fast = Clock::parse("2026-01-01T00:00:00Z@0*1e308").expect("a clock");
        assert_eq!(fast.now(), DateTime::<Utc>::MAX_UTC);
        let _ = fast.real_delay(Utc::now());
    }
}
