//! The change log: each commit that writes the gradebook names the schools
//! it wrote to, so that a watching build (`tabel build --watch`) rebuilds
//! them at once. On PostgreSQL the commit also notifies the channel
//! [`CHANNEL`], so a watcher need not poll.

use anyhow::{Context, Result};
use sqlx::{Any, Transaction};

use crate::db::{Backend, Database};

/// The PostgreSQL channel a commit that wrote the gradebook notifies.
pub const CHANNEL: &str = "tabel_changes";

/// Records, inside the writing transaction, that it wrote to `school_id`.
pub async fn record(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    school_id: i64,
    source: &str,
) -> Result<()> {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    sqlx::query("INSERT INTO change_log (school_id, at, source) VALUES ($1, $2, $3)")
        .bind(school_id)
        .bind(at)
        .bind(source.to_owned())
        .execute(&mut **tx)
        .await
        .context("cannot record the change")?;
    if backend == Backend::Postgres {
        // Delivered when (and only if) the transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(school_id.to_string())
            .execute(&mut **tx)
            .await
            .context("cannot notify the change")?;
    }
    Ok(())
}

/// The latest change's number (0 when there is none).
pub async fn latest(db: &Database) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM change_log")
        .fetch_one(db.pool())
        .await
        .context("cannot read the change log")?;
    Ok(n)
}

/// External ids of the schools written to by the changes after `after` up
/// to `upto`, sorted.
pub async fn schools_between(db: &Database, after: i64, upto: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT s.external_id FROM change_log c JOIN school s ON s.id = c.school_id \
         WHERE c.id > $1 AND c.id <= $2 ORDER BY s.external_id",
    )
    .bind(after)
    .bind(upto)
    .fetch_all(db.pool())
    .await
    .context("cannot read the change log")?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}
