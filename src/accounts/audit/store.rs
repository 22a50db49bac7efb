//! The writer's own connection, and how a batch is stored on each backend.

use anyhow::{Context, Result, bail};

use super::COLUMNS;
use super::record::decode;
use crate::db::{Backend, Database};

/// Entries one SQLite statement inserts at most.
const MAX_ROWS: usize = 256;

/// `INSERT INTO audit … VALUES (?, …), …` for `n` entries; `?` placeholders
/// are bound by position, in order.
fn multi_insert(n: usize) -> String {
    let mut sql = format!("INSERT INTO audit ({COLUMNS}) VALUES ");
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?)");
    }
    sql
}

/// The writer's own connection.
pub(super) enum Store {
    /// SQLite: a prepared insert, run once per entry in one transaction.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL: the batch travels as one JSON array bound to one
    /// parameter, far cheaper there than thousands of separate binds.
    /// Connected at first need and again after a failure, through a
    /// runtime of the writer thread's own (made there, so that it is also
    /// dropped there, outside any async context).
    Postgres {
        url: String,
        runtime: Option<tokio::runtime::Runtime>,
        conn: Option<sqlx::PgConnection>,
    },
}

impl Store {
    pub(super) fn open(db: &Database) -> Result<Store> {
        match db.backend() {
            Backend::Sqlite => {
                let Some(file) = db.sqlite_file() else {
                    bail!("the access log needs an SQLite file, not an in-memory database");
                };
                let conn = rusqlite::Connection::open_with_flags(
                    file,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("cannot open {file} for the access log"))?;
                conn.execute_batch(crate::db::SQLITE_PRAGMAS)
                    .with_context(|| format!("cannot set up {file} for the access log"))?;
                Ok(Store::Sqlite(conn))
            }
            Backend::Postgres => Ok(Store::Postgres {
                url: db.url().to_owned(),
                runtime: None,
                conn: None,
            }),
        }
    }

    /// Stores a batch of encoded entries, all or none.
    pub(super) fn write(&mut self, batch: &[u8]) -> Result<()> {
        let rows = decode(batch)?;
        match self {
            Store::Sqlite(conn) => {
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .context("cannot write the access log")?;
                // Multi-row inserts: one statement's fixed work (cursors,
                // the index) spread over many entries. Chunks are powers of
                // two, so a handful of cached statements serve every batch.
                let mut rest = &rows[..];
                while !rest.is_empty() {
                    let n = rest.len().min(MAX_ROWS);
                    let n = 1 << (usize::BITS - 1 - n.leading_zeros());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    let mut insert = tx.prepare_cached(&multi_insert(n))?;
                    for (i, r) in chunk.iter().enumerate() {
                        let at = 9 * i;
                        insert.raw_bind_parameter(at + 1, r.0)?;
                        insert.raw_bind_parameter(at + 2, r.1)?;
                        insert.raw_bind_parameter(at + 3, r.2)?;
                        insert.raw_bind_parameter(at + 4, r.3)?;
                        insert.raw_bind_parameter(at + 5, r.4)?;
                        insert.raw_bind_parameter(at + 6, r.5)?;
                        insert.raw_bind_parameter(at + 7, r.6)?;
                        insert.raw_bind_parameter(at + 8, r.7)?;
                        insert.raw_bind_parameter(at + 9, r.8)?;
                    }
                    insert
                        .raw_execute()
                        .context("cannot write the access log")?;
                }
                tx.commit().context("cannot write the access log")
            }
            Store::Postgres { url, runtime, conn } => {
                let json = serde_json::to_string(&rows)?;
                if runtime.is_none() {
                    *runtime = Some(
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .context("cannot start the access log writer's runtime")?,
                    );
                }
                let runtime = runtime.as_ref().context("no runtime for the access log")?;
                runtime.block_on(async {
                    use sqlx::Connection;
                    if conn.is_none() {
                        *conn = Some(
                            sqlx::PgConnection::connect(url)
                                .await
                                .context("cannot connect for the access log")?,
                        );
                    }
                    let c = conn.as_mut().context("no connection for the access log")?;
                    let done = sqlx::query(&format!(
                        "INSERT INTO audit ({COLUMNS}) \
                         SELECT e ->> 0, (e ->> 1)::bigint, e ->> 2, e ->> 3, e ->> 4, e ->> 5, e ->> 6, e ->> 7, e ->> 8 \
                         FROM jsonb_array_elements($1::jsonb) AS e"
                    ))
                    .bind(json)
                    .execute(&mut *c)
                    .await;
                    if done.is_err() {
                        // A broken connection is opened anew next time.
                        *conn = None;
                    }
                    done.map(|_| ()).context("cannot write the access log")
                })
            }
        }
    }
}
