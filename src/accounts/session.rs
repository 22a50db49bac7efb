//! Server-side sessions, stored in the database so several gates share
//! them. The cookie carries a random 256-bit token; the database keeps only
//! its SHA-256, so a leaked table opens no session.

use std::time::Duration;

use anyhow::{Context, Result};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::{ACCOUNT_COLUMNS, Account, now, stamp};
use crate::db::Database;

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Ends a session not used for this long.
    pub idle: Duration,
    /// Ends a session this long after login, however busy.
    pub absolute: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// A random token, URL-safe base64 of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    data_encoding::BASE64URL_NOPAD.encode(&buf)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes()))
}

/// A live session with its account.
#[derive(Debug, Clone)]
pub struct Session {
    /// Row id.
    pub id: i64,
    /// Whose session.
    pub account: Account,
    /// The session's CSRF token.
    pub csrf: String,
    /// Login time.
    pub created_at: String,
    /// Last use, as stored.
    pub last_seen_at: String,
}

/// Starts a session; returns the cookie token and the CSRF token.
pub async fn create(
    db: &Database,
    account_id: i64,
    address: &str,
    user_agent: &str,
) -> Result<(String, String)> {
    let token = random_token(32);
    let csrf = random_token(24);
    let now = now();
    sqlx::query(
        "INSERT INTO session (token_hash, account_id, csrf, created_at, last_seen_at, address, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(token_hash(&token))
    .bind(account_id)
    .bind(csrf.clone())
    .bind(now)
    .bind(address.to_owned())
    .bind(user_agent.chars().take(300).collect::<String>())
    .execute(db.pool())
    .await
    .context("cannot start a session")?;
    Ok((token, csrf))
}

#[derive(FromRow)]
struct Row {
    session_id: i64,
    csrf: String,
    created_at_s: String,
    last_seen_at: String,
    #[sqlx(flatten)]
    account: Account,
}

/// The session a cookie token names, if it is live; an expired one is removed.
pub async fn lookup(db: &Database, token: &str, timeouts: Timeouts) -> Result<Option<Session>> {
    let columns = ACCOUNT_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT s.id AS session_id, s.csrf, s.created_at AS created_at_s, s.last_seen_at, {columns} \
         FROM session s JOIN account a ON a.id = s.account_id WHERE s.token_hash = $1"
    ))
    .bind(token_hash(token))
    .fetch_optional(db.pool())
    .await
    .context("cannot read sessions")?;
    let Some(row) = row else { return Ok(None) };
    let now = chrono::Utc::now();
    let idle_limit = stamp(now - chrono::Duration::from_std(timeouts.idle).unwrap_or_default());
    let absolute_limit =
        stamp(now - chrono::Duration::from_std(timeouts.absolute).unwrap_or_default());
    if row.account.disabled != 0
        || row.last_seen_at < idle_limit
        || row.created_at_s < absolute_limit
    {
        end_by_id(db, row.session_id).await?;
        return Ok(None);
    }
    Ok(Some(Session {
        id: row.session_id,
        account: row.account,
        csrf: row.csrf,
        created_at: row.created_at_s,
        last_seen_at: row.last_seen_at,
    }))
}

/// Records that a session was used now.
pub async fn touch(db: &Database, session_id: i64) -> Result<()> {
    sqlx::query("UPDATE session SET last_seen_at = $1 WHERE id = $2")
        .bind(now())
        .bind(session_id)
        .execute(db.pool())
        .await
        .context("cannot update a session")?;
    Ok(())
}

/// Ends one session.
pub async fn end_by_id(db: &Database, session_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM session WHERE id = $1")
        .bind(session_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends the session a cookie token names, if any.
pub async fn end_by_token(db: &Database, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM session WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await
        .context("cannot end a session")?;
    Ok(())
}

/// Ends one of an account's own sessions (a session id of another account
/// ends nothing); true if one ended.
pub async fn end_own(db: &Database, account_id: i64, session_id: i64) -> Result<bool> {
    let n = sqlx::query("DELETE FROM session WHERE id = $1 AND account_id = $2")
        .bind(session_id)
        .bind(account_id)
        .execute(db.pool())
        .await
        .context("cannot end a session")?
        .rows_affected();
    Ok(n > 0)
}

/// Ends every session of an account (but `except`, if given); returns how many.
pub async fn end_all(db: &Database, account_id: i64, except: Option<i64>) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM session WHERE account_id = $1 AND id <> $2")
            .bind(account_id)
            .bind(except.unwrap_or(-1))
            .execute(db.pool())
            .await?
            .rows_affected(),
    )
}

/// A session as listed to its owner or the office.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Listed {
    pub id: i64,
    pub created_at: String,
    pub last_seen_at: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// The sessions of an account, newest first.
pub async fn list(db: &Database, account_id: i64) -> Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT id, created_at, last_seen_at, address, user_agent FROM session WHERE account_id = $1 \
         ORDER BY created_at DESC, id DESC",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await
    .context("cannot list sessions")
}
