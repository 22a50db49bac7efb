//! Reading the log back: `tabel audit` and the office's questions.

use anyhow::{Context, Result};
use serde::Serialize;
use sqlx::FromRow;

use crate::db::Database;

/// A stored entry, as `tabel audit` shows it.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Stored {
    pub id: i64,
    pub at: String,
    pub login: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub path: Option<String>,
    pub result: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub invalid: i64,
}

/// What `tabel audit` asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this login.
    pub login: Option<String>,
    /// From this time (inclusive).
    pub from: Option<String>,
    /// Up to this time (exclusive).
    pub to: Option<String>,
    /// Only paths starting with this.
    pub path: Option<String>,
}

/// Entries matching `filter`, oldest first.
pub async fn query(db: &Database, filter: &Filter) -> Result<Vec<Stored>> {
    let (sql, binds) = query_sql(db, filter).await?;
    let mut q = sqlx::query_as::<_, Stored>(&sql);
    for b in binds {
        q = q.bind(b);
    }
    q.fetch_all(db.pool())
        .await
        .context("cannot read the access log")
}

/// When the account was last seen before `before` (a stored time): the
/// latest entry of its own that went through, through the `(account_id,
/// at)` index. `None` for an account never seen before.
pub async fn last_seen_before(
    db: &Database,
    account_id: i64,
    before: &str,
) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT MAX(at) FROM audit WHERE account_id = $1 AND at < $2 AND result = 'ok'",
    )
    .bind(account_id)
    .bind(before.to_owned())
    .fetch_optional(db.pool())
    .await
    .context("cannot read the access log")?;
    Ok(row.and_then(|(at,)| at))
}

/// The statement [`query`] runs, and its parameters.
///
/// An account's entries are found through the `(account_id, at)` index,
/// the one the log keeps: an index on the login would cost every stored
/// entry far more. Entries without an account (failed logins, say) carry
/// only the login typed, and are the `NULL` end of the same index.
async fn query_sql(db: &Database, filter: &Filter) -> Result<(String, Vec<String>)> {
    let mut sql = String::from(
        "SELECT id, at, login, role, action, path, result, address, user_agent, invalid FROM audit WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    if let Some(login) = &filter.login {
        let account: Option<(i64,)> = sqlx::query_as("SELECT id FROM account WHERE login = $1")
            .bind(login.clone())
            .fetch_optional(db.pool())
            .await
            .context("cannot read the accounts")?;
        binds.push(login.clone());
        let n = binds.len();
        match account {
            // The id is the database's own integer, not user input.
            Some((id,)) => sql.push_str(&format!(
                " AND (account_id = {id} OR (account_id IS NULL AND login = ${n}))"
            )),
            None => sql.push_str(&format!(" AND login = ${n}")),
        }
    }
    for (cond, value) in [
        ("at >= ", filter.from.clone()),
        ("at < ", filter.to.clone()),
        (
            "path LIKE ",
            filter
                .path
                .as_ref()
                .map(|p| format!("/{}%", p.trim_start_matches('/').replace('%', ""))),
        ),
    ] {
        if let Some(v) = value {
            binds.push(v);
            sql.push_str(&format!(" AND {cond}${}", binds.len()));
        }
    }
    sql.push_str(" ORDER BY at, id");
    Ok((sql, binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "What did this account open": read through the log's index, not by
    /// reading the whole log, for a login with an account and without.
    #[tokio::test]
    async fn an_accounts_entries_are_read_through_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        crate::accounts::add(
            &db,
            "office",
            crate::accounts::Role::Admin,
            None,
            Some("office pass 1".into()),
        )
        .await
        .unwrap();
        let plan = |login: &str| {
            let filter = Filter {
                login: Some(login.into()),
                from: Some("2026-01-01T00:00:00.000000Z".into()),
                ..Filter::default()
            };
            let db = db.clone();
            async move {
                let (sql, binds) = query_sql(&db, &filter).await.unwrap();
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(db.pool()).await.unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
        };
        let office = plan("office").await;
        assert!(office.contains("audit_account_at"), "{office}");
        assert!(!office.contains("SCAN audit"), "{office}");
        // A login no account has (someone guessing): only the typed login
        // names its entries, and the log is read through.
        let unknown = plan("no-such-login").await;
        assert!(unknown.contains("SCAN audit"), "{unknown}");
    }
}
