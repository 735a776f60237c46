//! API tokens of `flowc serve`: random secrets shown once when created and
//! kept only as their SHA-256, named so they can be listed and revoked.
//! A token is 32 random bytes: hashing it without a salt or a slow hash
//! leaves nothing to guess.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::store::{instant, millis, params, Store, StoreError};

/// What every token starts with, so a leaked one is recognisable (secret
/// scanners look for such prefixes).
pub const PREFIX: &str = "flowc_";

/// A token as listed: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Token {
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Why a token could not be made or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The name is not 1-64 letters, digits, `-`, `_` or `.`.
    #[error("a token's name is 1 to 64 letters, digits, `-`, `_` or `.`, not {0:?}")]
    BadName(String),
    /// A token in force has the name.
    #[error("a token named {0:?} exists; revoke it first or choose another name")]
    Taken(String),
    /// No token in force has the name.
    #[error("no token in force is named {0:?}")]
    Unknown(String),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes a token named `name`; gives its secret, which is not kept.
pub fn create(store: &mut Store, name: &str, now: DateTime<Utc>) -> Result<String, TokenError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(TokenError::BadName(name.to_owned()));
    }
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|error| TokenError::Random(error.to_string()))?;
    let secret = format!("{PREFIX}{}", hex(&bytes));
    let transaction = store.transaction()?;
    let taken = transaction.query_opt(
        "SELECT 1 FROM tokens WHERE name = ?1 AND revoked_at IS NULL",
        params![name],
        |_| Ok(()),
    )?;
    if taken.is_some() {
        return Err(TokenError::Taken(name.to_owned()));
    }
    transaction.execute(
        "INSERT INTO tokens (name, hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, digest(&secret), millis(now)],
    )?;
    transaction.commit()?;
    Ok(secret)
}

/// Revokes the token in force named `name`: requests bearing it are
/// refused from then on.
pub fn revoke(store: &Store, name: &str, now: DateTime<Utc>) -> Result<(), TokenError> {
    let changed = store.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        params![name, millis(now)],
    )?;
    match changed {
        0 => Err(TokenError::Unknown(name.to_owned())),
        _ => Ok(()),
    }
}

/// Every token, revoked ones too, oldest first.
pub fn list(store: &Store) -> Result<Vec<Token>, StoreError> {
    store.query(
        "SELECT name, created_at, revoked_at FROM tokens ORDER BY id",
        params![],
        |row| {
            Ok(Token {
                name: row.get(0)?,
                created_at: instant(row.get(1)?),
                revoked_at: row.get::<Option<i64>>(2)?.map(instant),
            })
        },
    )
}

/// The name of the token in force whose secret is `secret`, if any.
pub fn authenticate(store: &Store, secret: &str) -> Result<Option<String>, StoreError> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    store.query_opt(
        "SELECT name FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
        params![digest(secret)],
        |row| row.get(0),
    )
}

/// What the store keeps of a secret.
fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("flowc.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_token_authenticates_until_revoked_and_only_its_hash_is_kept() {
        let (_dir, mut store) = store();
        let now = Utc::now();
        let secret = create(&mut store, "crm-sync", now).unwrap();
        assert!(secret.starts_with(PREFIX) && secret.len() == PREFIX.len() + 64);
        assert_eq!(
            authenticate(&store, &secret).unwrap().as_deref(),
            Some("crm-sync")
        );
        assert_eq!(authenticate(&store, "flowc_00").unwrap(), None);
        let kept: Vec<String> = store
            .query("SELECT hash FROM tokens", params![], |row| row.get(0))
            .unwrap();
        assert_eq!(kept, vec![digest(&secret)]);
        assert!(!kept[0].contains(&secret[PREFIX.len()..]));
        assert!(matches!(
            create(&mut store, "crm-sync", now),
            Err(TokenError::Taken(_))
        ));
        revoke(&store, "crm-sync", now).unwrap();
        assert_eq!(authenticate(&store, &secret).unwrap(), None);
        assert!(matches!(
            revoke(&store, "crm-sync", now),
            Err(TokenError::Unknown(_))
        ));
        let again = create(&mut store, "crm-sync", now).unwrap();
        assert_ne!(again, secret);
        let listed = list(&store).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
    }

    #[test]
    fn names_are_short_and_plain() {
        let (_dir, mut store) = store();
        for name in ["", "a b", "x\n", &"n".repeat(65), "ä"] {
            assert!(matches!(
                create(&mut store, name, Utc::now()),
                Err(TokenError::BadName(_))
            ));
        }
    }
}
