//! Logging in: the rate limits, browsers that logged in before, and a check
//! of the password that does the same work whether or not the login exists.
//!
//! An attempt is reserved before its password is checked: the failure is
//! written first (counting the earlier ones in the same transaction) and
//! taken back if the password was right. Attempts that arrive together
//! therefore cannot all pass the count before any of them is recorded.

use std::time::Duration;

use anyhow::{Context, Result};

use super::password::{self, Busy};
use super::session::{random_token, token_hash};
use super::{Account, check_login, now, stamp};
use crate::db::{Backend, Database};

/// How many failed logins are allowed, and over what time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures allowed per login within `window` (and per known browser).
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

/// How long a browser that logged in stays known without logging in again.
pub const DEVICE_DAYS: i64 = 180;

/// What came of a login attempt.
#[derive(Debug)]
pub enum Outcome {
    /// Too many recent failures for this login, address or browser; nothing checked.
    Limited,
    /// Too many password checks at once; nothing checked, nothing counted.
    Busy,
    /// No such login, a wrong password, or a disabled account.
    Failed,
    /// The right password of an account whose breach was reported: it
    /// logs in no more until the office sets a one-time password.
    Breached,
    /// The password is right.
    Accepted(Account),
}

/// Who tries to log in: the login typed, the client's address, and the
/// browser's device cookie, if it sent one.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The login as typed (trimmed).
    pub login: &'a str,
    /// The password as typed.
    pub password: &'a str,
    /// The client's address as stored.
    pub address: &'a str,
    /// The device cookie's token.
    pub device: Option<&'a str>,
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

/// True if the browser with device token `device` logged in to `account_id`
/// within [`DEVICE_DAYS`].
async fn known_device(db: &Database, account_id: i64, device: &str) -> Result<bool> {
    let since = stamp(chrono::Utc::now() - chrono::Duration::days(DEVICE_DAYS));
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM login_device WHERE token_hash = $1 AND account_id = $2 AND last_used_at >= $3",
    )
    .bind(token_hash(device))
    .bind(account_id)
    .bind(since)
    .fetch_optional(db.pool())
    .await
    .context("cannot read known devices")?;
    Ok(row.is_some())
}

/// Reserves an attempt: counts the recent failures and, if they allow one
/// more, records this attempt as a failure, all in one transaction that
/// other attempts wait for. Returns the reservation's id, or `None` when
/// the limits are reached. Failures older than the window are removed on
/// the way (those of this login and address).
async fn reserve(
    db: &Database,
    limits: &Limits,
    login: &str,
    address: &str,
    device: Option<&str>,
) -> Result<Option<i64>> {
    let since = stamp(chrono::Utc::now() - chrono::Duration::from_std(limits.window)?);
    let mut tx = db.write_tx().await?;
    if db.backend() == Backend::Postgres {
        // One reservation at a time (SQLite's write transaction is one
        // already); readers are not held up.
        sqlx::query("LOCK TABLE login_failure IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .context("cannot lock the failed logins")?;
    }
    sqlx::query("DELETE FROM login_failure WHERE (login = $1 OR address = $2) AND at < $3")
        .bind(login.to_owned())
        .bind(address.to_owned())
        .bind(since.clone())
        .execute(&mut *tx)
        .await
        .context("cannot forget old failed logins")?;
    let count = async |tx: &mut sqlx::AnyConnection, sql: &str, value: &str| -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(sql)
            .bind(value.to_owned())
            .bind(since.clone())
            .fetch_one(tx)
            .await
            .context("cannot count failed logins")?;
        Ok(n)
    };
    let over = match device {
        // A browser that logged in before: only its own failures count.
        Some(hash) => {
            count(
                &mut *tx,
                "SELECT COUNT(*) FROM login_failure WHERE device = $1 AND at >= $2",
                hash,
            )
            .await?
                >= i64::from(limits.per_account)
        }
        None => {
            count(
                &mut *tx,
                "SELECT COUNT(*) FROM login_failure WHERE login = $1 AND device IS NULL AND at >= $2",
                login,
            )
            .await?
                >= i64::from(limits.per_account)
                || count(
                    &mut *tx,
                    "SELECT COUNT(*) FROM login_failure WHERE address = $1 AND device IS NULL AND at >= $2",
                    address,
                )
                .await?
                    >= i64::from(limits.per_address)
        }
    };
    if over {
        return Ok(None);
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO login_failure (login, address, at, device) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(login.to_owned())
    .bind(address.to_owned())
    .bind(now())
    .bind(device.map(str::to_owned))
    .fetch_one(&mut *tx)
    .await
    .context("cannot record a login attempt")?;
    tx.commit().await.context("cannot record a login attempt")?;
    Ok(Some(id))
}

/// Takes a reservation back: the password was right, or was not checked.
async fn release(db: &Database, reservation: i64) -> Result<()> {
    sqlx::query("DELETE FROM login_failure WHERE id = $1")
        .bind(reservation)
        .execute(db.pool())
        .await
        .context("cannot record a login attempt")?;
    Ok(())
}

/// Tries a login. Exactly one password verification is done whether or
/// not the login exists (against `dummy_hash` when it does not); a login
/// that breaks the login rule (and so cannot exist) is not checked at all,
/// and is recorded without the text typed. From a browser that logged in
/// to the account before (its device cookie), only that browser's own
/// failures count: someone guessing the login, or a whole school behind
/// one address, does not lock its owner out.
pub async fn attempt(
    db: &Database,
    limits: &Limits,
    who: Attempt<'_>,
    dummy_hash: &str,
) -> Result<Outcome> {
    let valid = check_login(who.login).is_ok();
    let login = if valid { who.login } else { "" };
    let account = if valid {
        super::find(db, login).await?
    } else {
        None
    };
    // The same query whether or not the account exists, as the check below.
    let device = match who.device {
        Some(token) if known_device(db, account.as_ref().map_or(0, |a| a.id), token).await? => {
            Some(token_hash(token))
        }
        _ => None,
    };
    let Some(reservation) = reserve(db, limits, login, who.address, device.as_deref()).await?
    else {
        return Ok(Outcome::Limited);
    };
    if !valid {
        return Ok(Outcome::Failed);
    }
    let hash = match &account {
        Some(a) => password_hash(db, a.id).await?,
        None => None,
    };
    let ok = match password::verify_async(
        hash.unwrap_or_else(|| dummy_hash.to_owned()),
        who.password.to_owned(),
    )
    .await
    {
        Ok(ok) => ok,
        Err(Busy) => {
            release(db, reservation).await?;
            return Ok(Outcome::Busy);
        }
    };
    match account.filter(|a| ok && a.disabled == 0) {
        // The leaked password still counts as a failure.
        Some(a) if a.breached_at.is_some() => Ok(Outcome::Breached),
        Some(a) => {
            release(db, reservation).await?;
            Ok(Outcome::Accepted(a))
        }
        None => Ok(Outcome::Failed),
    }
}

/// Remembers that the browser with device cookie `token` (if it has one
/// that tabel made) logged in to `account_id`; returns the token its
/// cookie should carry from now on.
pub async fn remember_device(
    db: &Database,
    account_id: i64,
    token: Option<&str>,
) -> Result<String> {
    // Only a token that tabel made is kept, so that nobody can choose the
    // value a browser is known by.
    let known = match token {
        Some(t) => sqlx::query_as::<_, (i64,)>("SELECT 1 FROM login_device WHERE token_hash = $1")
            .bind(token_hash(t))
            .fetch_optional(db.pool())
            .await
            .context("cannot read known devices")?
            .map(|_| t.to_owned()),
        None => None,
    };
    let token = known.unwrap_or_else(|| random_token(32));
    let now = now();
    sqlx::query(
        "INSERT INTO login_device (token_hash, account_id, created_at, last_used_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (token_hash, account_id) DO UPDATE SET last_used_at = excluded.last_used_at",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(now)
    .execute(db.pool())
    .await
    .context("cannot remember the device")?;
    Ok(token)
}

/// Checks the current password of a logged-in account (before a password
/// change). It counts against the account's login limits like a login:
/// a session does not buy unlimited guesses.
pub async fn check_current(
    db: &Database,
    limits: &Limits,
    account: &Account,
    password: &str,
    address: &str,
    dummy_hash: &str,
) -> Result<Outcome> {
    let who = Attempt {
        login: &account.login,
        password,
        address,
        device: None,
    };
    Ok(match attempt(db, limits, who, dummy_hash).await? {
        Outcome::Accepted(a) if a.id != account.id => Outcome::Failed,
        other => other,
    })
}

/// Forgets failures older than the window and browsers not seen for
/// [`DEVICE_DAYS`]; returns how many rows went.
pub async fn prune(db: &Database, window: Duration) -> Result<u64> {
    let now = chrono::Utc::now();
    let failures = sqlx::query("DELETE FROM login_failure WHERE at < $1")
        .bind(stamp(now - chrono::Duration::from_std(window)?))
        .execute(db.pool())
        .await
        .context("cannot forget old failed logins")?
        .rows_affected();
    let devices = sqlx::query("DELETE FROM login_device WHERE last_used_at < $1")
        .bind(stamp(now - chrono::Duration::days(DEVICE_DAYS)))
        .execute(db.pool())
        .await
        .context("cannot forget old devices")?
        .rows_affected();
    Ok(failures + devices)
}
