//! Logging in: the rate limits, and a check of the password that does the
//! same work whether or not the login exists.

use std::time::Duration;

use anyhow::{Context, Result};

use super::{Account, now, password, stamp};
use crate::db::Database;

/// How many failed logins are allowed, and over what time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures allowed per login within `window`.
    pub per_account: u32,
    /// Failures allowed per address within `window`.
    pub per_address: u32,
    /// The sliding window: nobody can lock a login for longer than one
    /// window after its last failure.
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_account: 10,
            per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// What came of a login attempt.
#[derive(Debug)]
pub enum Outcome {
    /// Too many recent failures for this login or address; nothing checked.
    Limited,
    /// No such login, a wrong password, or a disabled account.
    Failed,
    /// The password is right.
    Accepted(Account),
}

/// Failed logins of `login` and from `address` since `since`.
async fn failures(db: &Database, login: &str, address: &str, since: &str) -> Result<(i64, i64)> {
    let count = async |column: &str, value: &str| -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM login_failure WHERE {column} = $1 AND at >= $2"
        ))
        .bind(value.to_owned())
        .bind(since.to_owned())
        .fetch_one(db.pool())
        .await
        .context("cannot count failed logins")?;
        Ok(n)
    };
    Ok((
        count("login", login).await?,
        count("address", address).await?,
    ))
}

/// The stored password hash of an account.
pub async fn password_hash(db: &Database, account_id: i64) -> Result<Option<String>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM account WHERE id = $1")
        .bind(account_id)
        .fetch_optional(db.pool())
        .await
        .context("cannot read an account's password")?;
    Ok(row.map(|(h,)| h))
}

/// True if `password` is the account's.
pub async fn check_password(db: &Database, account_id: i64, password: &str) -> Result<bool> {
    Ok(match password_hash(db, account_id).await? {
        Some(hash) => password::verify_async(hash, password.to_owned()).await,
        None => false,
    })
}

/// Tries `login` with `password` from `address`. Exactly one password
/// verification is done whether or not the login exists (against
/// `dummy_hash` when it does not); a failure is recorded for the limits.
pub async fn attempt(
    db: &Database,
    limits: &Limits,
    login: &str,
    password: &str,
    address: &str,
    dummy_hash: &str,
) -> Result<Outcome> {
    let since = stamp(chrono::Utc::now() - chrono::Duration::from_std(limits.window)?);
    let (by_login, by_address) = failures(db, login, address, &since).await?;
    if by_login >= i64::from(limits.per_account) || by_address >= i64::from(limits.per_address) {
        return Ok(Outcome::Limited);
    }
    let account = super::find(db, login).await?;
    let hash = match &account {
        Some(a) => password_hash(db, a.id).await?,
        None => None,
    };
    let ok = password::verify_async(
        hash.unwrap_or_else(|| dummy_hash.to_owned()),
        password.to_owned(),
    )
    .await;
    match account.filter(|a| ok && a.disabled == 0) {
        Some(a) => Ok(Outcome::Accepted(a)),
        None => {
            sqlx::query("INSERT INTO login_failure (login, address, at) VALUES ($1, $2, $3)")
                .bind(login.to_owned())
                .bind(address.to_owned())
                .bind(now())
                .execute(db.pool())
                .await
                .context("cannot record a failed login")?;
            Ok(Outcome::Failed)
        }
    }
}
