//! The access log (regulation 1.7, 152-ФЗ art. 19): every login attempt,
//! file served or denied and account change. Requests hand their entries to
//! a writer task that stores them in batches, so no request waits on the
//! database; on shutdown the writer drains what is left.

use anyhow::{Context, Result};
use serde::Serialize;
use sqlx::FromRow;
use tokio::sync::mpsc;

use crate::accounts::now;
use crate::db::{Backend, Database};

/// One entry of the access log.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// The logged-in account, whose id, login and role the writer takes
    /// where the fields below are empty: a request then only shares it,
    /// rather than copying strings.
    pub who: Option<std::sync::Arc<super::Authed>>,
    pub account_id: Option<i64>,
    pub login: Option<String>,
    pub role: Option<String>,
    pub action: &'static str,
    pub path: Option<String>,
    pub result: &'static str,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// Entries written by one statement at most.
const BATCH: usize = 8192;
/// How long the writer lets a batch gather.
const GATHER: std::time::Duration = std::time::Duration::from_millis(100);

/// The sending side of the log.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<(String, Event)>,
}

impl AuditLog {
    /// Starts the writer; it ends (after writing everything) when every
    /// `AuditLog` clone is dropped.
    pub fn start(db: Database) -> (AuditLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<(String, Event)>(100_000);
        let task = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(2048);
            loop {
                if rx.recv_many(&mut batch, BATCH).await == 0 {
                    break;
                }
                // Let a batch gather for a moment: one write of thousands of
                // entries costs far less than thousands of small ones, and a
                // sleeping writer is not woken by every request.
                if batch.len() < BATCH {
                    tokio::time::sleep(GATHER).await;
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(entry) => batch.push(entry),
                            Err(_) => break,
                        }
                    }
                }
                if let Err(err) = write(&db, &mut batch).await {
                    // Keep the entries and try again: the log must not lose any.
                    tracing::error!("cannot write the access log: {err:#}");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
                batch.clear();
            }
            while !batch.is_empty() {
                if let Err(err) = write(&db, &mut batch).await {
                    tracing::error!("cannot write the access log at shutdown: {err:#}");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                } else {
                    batch.clear();
                }
            }
        });
        (AuditLog { tx }, task)
    }

    /// Logs an event now.
    pub async fn log(&self, event: Event) {
        if self.tx.send((now(), event)).await.is_err() {
            tracing::error!("the access log writer has stopped");
        }
    }
}

/// The account of an entry: its own fields, or else the shared session's.
fn who(e: &Event) -> (Option<i64>, Option<&str>, Option<&str>) {
    let account = e.who.as_ref().map(|a| &a.session.account);
    (
        e.account_id.or(account.map(|a| a.id)),
        e.login.as_deref().or(account.map(|a| a.login.as_str())),
        e.role.as_deref().or(account.map(|a| a.role.as_str())),
    )
}

async fn write(db: &Database, batch: &mut [(String, Event)]) -> Result<()> {
    match db.backend() {
        Backend::Sqlite => write_sqlite(db, batch).await,
        Backend::Postgres => write_postgres(db, batch).await,
    }
}

/// SQLite: multi-row inserts with bound values, in one transaction. Chunks
/// are powers of two, so a handful of prepared statements serve every
/// batch size.
async fn write_sqlite(db: &Database, batch: &[(String, Event)]) -> Result<()> {
    const MAX_ROWS: usize = 512;
    let mut tx = db
        .pool()
        .begin()
        .await
        .context("cannot write the access log")?;
    let mut rest = batch;
    while !rest.is_empty() {
        let n = if rest.len() >= MAX_ROWS {
            MAX_ROWS
        } else {
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let mut sql = String::from(
            "INSERT INTO audit (at, account_id, login, role, action, path, result, address, user_agent) VALUES ",
        );
        // `?` placeholders: positional, bound in order (numbered ones are
        // looked up by name, which costs dearly with thousands of them).
        for i in 0..n {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str("(?,?,?,?,?,?,?,?,?)");
        }
        let mut q = sqlx::query(&sql);
        for (at, e) in chunk {
            let (account_id, login, role) = who(e);
            q = q
                .bind(at.as_str())
                .bind(account_id)
                .bind(login)
                .bind(role)
                .bind(e.action)
                .bind(e.path.as_deref())
                .bind(e.result)
                .bind(e.address.as_deref())
                .bind(e.user_agent.as_deref());
        }
        q.execute(&mut *tx)
            .await
            .context("cannot write the access log")?;
    }
    tx.commit().await.context("cannot write the access log")?;
    Ok(())
}

/// PostgreSQL: the whole batch travels as one JSON array bound to one
/// parameter, far cheaper there than thousands of separate binds.
async fn write_postgres(db: &Database, batch: &[(String, Event)]) -> Result<()> {
    let rows: Vec<serde_json::Value> = batch
        .iter()
        .map(|(at, e)| {
            let (account_id, login, role) = who(e);
            serde_json::json!([
                at,
                account_id,
                login,
                role,
                e.action,
                e.path,
                e.result,
                e.address,
                e.user_agent
            ])
        })
        .collect();
    let json = serde_json::to_string(&rows).context("cannot serialize the access log")?;
    sqlx::query(
        "INSERT INTO audit (at, account_id, login, role, action, path, result, address, user_agent) \
         SELECT e ->> 0, (e ->> 1)::bigint, e ->> 2, e ->> 3, e ->> 4, e ->> 5, e ->> 6, e ->> 7, e ->> 8 \
         FROM jsonb_array_elements($1::jsonb) AS e",
    )
    .bind(json)
    .execute(db.pool())
    .await
    .context("cannot write the access log")?;
    Ok(())
}

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
    let mut sql = String::from(
        "SELECT id, at, login, role, action, path, result, address, user_agent, invalid FROM audit WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    for (cond, value) in [
        ("login = ", filter.login.clone()),
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
    let mut q = sqlx::query_as::<_, Stored>(&sql);
    for b in binds {
        q = q.bind(b);
    }
    q.fetch_all(db.pool())
        .await
        .context("cannot read the access log")
}
