//! The contact policy in live runs: `flowc publish` records the policy of
//! `flowc.toml` in the database, so every process on every machine holds
//! messages to the same caps, and each email, text or call handed to a
//! provider is a row of `touches`, counted across every workflow.

use std::rc::Rc;

use super::Live;
use crate::runtime::policy::{Capped, ContactPolicy, Touch};
use crate::store::{millis, params, StoreError, Tx};

/// The `meta` key the policy is stored under, as JSON.
const KEY: &str = "policy";

impl Live {
    /// Records `policy` for every process; gives whether it changed (no
    /// policy recorded is an empty one).
    pub fn set_policy(&mut self, policy: &ContactPolicy) -> Result<bool, StoreError> {
        let text = serde_json::to_string(policy)?;
        let transaction = self.store.transaction()?;
        let changed = stored(&transaction)?.unwrap_or_default() != *policy;
        if changed {
            transaction.execute("DELETE FROM meta WHERE key = ?1", params![KEY])?;
            transaction.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![KEY, text],
            )?;
        }
        transaction.commit()?;
        Ok(changed)
    }
}

/// The policy recorded by `flowc publish` (an empty one if none), read
/// once a transaction.
pub(super) fn current(transaction: &Tx<'_>) -> Result<Rc<ContactPolicy>, StoreError> {
    transaction.memo(|| Ok(stored(transaction)?.unwrap_or_default()))
}

/// The policy recorded by `flowc publish`, if any.
pub(super) fn stored(transaction: &Tx<'_>) -> Result<Option<ContactPolicy>, StoreError> {
    let text: Option<String> = transaction.query_opt(
        "SELECT value FROM meta WHERE key = ?1",
        params![KEY],
        |row| row.get(0),
    )?;
    Ok(text.map(|text| serde_json::from_str(&text)).transpose()?)
}

/// Counts the touch unless `policy` holds it back: quiet hours hold every
/// attempt; an effect already counted (a retry, or a runner that crashed
/// after counting it) is under its caps.
/// The lead's row is locked first, so two workflows' messages to one lead
/// are counted one after the other on every backend.
pub(super) fn touch(
    transaction: &Tx<'_>,
    policy: &ContactPolicy,
    touch: Touch<'_>,
) -> Result<Result<(), Capped>, StoreError> {
    if let Err(quiet) = policy.quiet_check(&touch) {
        return Ok(Err(quiet));
    }
    transaction.query_opt(
        "SELECT id FROM leads WHERE id = ?1 FOR UPDATE",
        params![touch.lead],
        |row| row.get::<String>(0),
    )?;
    let counted: Option<String> = transaction.query_opt(
        "SELECT key FROM touches WHERE key = ?1",
        params![touch.key],
        |row| row.get(0),
    )?;
    if counted.is_some() || policy.caps(touch.channel).is_none() {
        return Ok(Ok(()));
    }
    let channel = touch.channel.keyword();
    let mut error = None;
    let verdict = policy.cap_check(&touch, u32::MAX, |since| {
        let count: Result<i64, StoreError> = transaction.query_one(
            "SELECT count(*) FROM touches WHERE lead = ?1 AND channel = ?2 AND at >= ?3",
            params![touch.lead, channel, millis(since)],
            |row| row.get(0),
        );
        count.unwrap_or_else(|failed| {
            error.get_or_insert(failed);
            i64::MAX
        }) as u32
    });
    if let Some(error) = error {
        return Err(error);
    }
    if verdict.is_ok() {
        transaction.execute(
            "INSERT INTO touches (key, lead, channel, at) VALUES (?1, ?2, ?3, ?4)",
            params![touch.key, touch.lead, channel, millis(touch.at)],
        )?;
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::ast::Channel;
    use crate::runtime::policy::ZoneSource;
    use crate::store::{Location, Store};

    /// Two runners count one lead's touches in two transactions at once:
    /// the second waits for the first's lock on the lead's row, then sees
    /// its touch and is capped. (PostgreSQL only: SQLite has one writer at
    /// a time, so the race cannot happen there.)
    #[test]
    fn a_second_runner_waits_for_the_first_and_sees_its_touch() {
        let Some(server) = std::env::var("FLOWC_TEST_POSTGRES")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            eprintln!("skipped: set FLOWC_TEST_POSTGRES to run it");
            return;
        };
        let name = format!("touches_{}", std::process::id());
        let mut admin = postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
            .expect("the test server");
        for statement in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.batch_execute(&statement).expect("a database");
        }
        let location = Location::Postgres(format!("{server}/{name}"));
        let mut first = Store::open(location.clone()).expect("a store");
        first
            .execute(
                "INSERT INTO leads (id, fields, updated_at) VALUES ('a', '{}', 0)",
                params![],
            )
            .expect("a lead");
        let policy: ContactPolicy =
            crate::config::Config::parse("[policy]\ntext = { per_day = 1 }\n")
                .expect("a policy")
                .policy;
        let touch = |key| Touch {
            key,
            lead: "a",
            channel: Channel::Text,
            zone: chrono_tz::UTC,
            source: ZoneSource::Lead,
            at: chrono::DateTime::from_timestamp(1_772_800_000, 0).expect("an instant"),
        };
        let held = first.transaction().expect("a transaction");
        assert_eq!(touch_now(&held, &policy, touch("one")), Ok(()));
        let second = {
            let (location, policy) = (location.clone(), policy.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(location).expect("a store");
                let transaction = store.transaction().expect("a transaction");
                let verdict = touch_now(&transaction, &policy, touch("two"));
                transaction.commit().expect("committed");
                verdict
            })
        };
        // The second runner is waiting on a lock, or it went past (which
        // the verdict below then shows).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !second.is_finished() && Instant::now() < deadline {
            let waiting: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
                    &[&name],
                )
                .expect("activity")
                .get(0);
            if waiting > 0 {
                break;
            }
            std::thread::yield_now();
        }
        held.commit().expect("committed");
        let verdict = second.join().expect("the second runner");
        assert_eq!(
            verdict.map_err(|capped| capped.reason),
            Err("at most 1 text per day".to_owned())
        );
        drop(first);
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .expect("dropped");
    }

    fn touch_now(
        transaction: &Tx<'_>,
        policy: &ContactPolicy,
        one: Touch<'_>,
    ) -> Result<(), Capped> {
        touch(transaction, policy, one).expect("the store answers")
    }
}
