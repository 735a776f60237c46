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

impl Clock {
    /// The clock `FLOWC_CLOCK` describes, or the real one.
    pub fn from_env() -> Clock {
        std::env::var("FLOWC_CLOCK")
            .ok()
            .and_then(|text| {
                let (start, rest) = text.split_once('@')?;
                let (origin, speed) = rest.split_once('*')?;
                Some(Clock::Accelerated {
                    start: DateTime::parse_from_rfc3339(start)
                        .ok()?
                        .with_timezone(&Utc),
                    origin: DateTime::from_timestamp_millis(origin.parse().ok()?)?,
                    speed: speed.parse().ok()?,
                })
            })
            .unwrap_or(Clock::Real)
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
                let elapsed = chrono::Duration::milliseconds((real * speed) as i64);
                start.checked_add_signed(elapsed).unwrap_or(start)
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
