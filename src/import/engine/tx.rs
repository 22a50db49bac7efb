//! The engine's transaction, table by table: begin, write batches while
//! the next ones are checked, delete what an import removes, and commit or
//! roll back.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context, Result};
use sqlx::{Any, Transaction};

use super::{At, Current, Engine, SEP, SchoolState};
use crate::db::{Backend, Database};
use crate::gradebook::bulk::{Rows, Val};
use crate::gradebook::{self, Date};
use crate::import::error::{ImportError, Summary, TableCount};
use crate::import::spec::{self, Kind, TableSpec, Ty};

impl Engine {
    /// Starts the transaction and reads which schools exist.
    ///
    /// `trusted_refs`: every reference is resolved by the engine, no row is
    /// deleted and nothing reads the database beside the transaction, so
    /// SQLite's own foreign-key lookups (a fifth of the import's time) may be
    /// skipped and PostgreSQL's checked in one pass per table (see
    /// `drop_foreign_keys`). The OneRoster importer deletes with cascades and
    /// reads rows outside the transaction, so it keeps them.
    pub async fn begin(db: &Database, trusted_refs: bool) -> Result<Engine> {
        let mut conn = db
            .pool()
            .acquire()
            .await
            .context("cannot get a database connection")?;
        if db.backend() == Backend::Sqlite {
            // The connection is closed after the import instead of going
            // back to the pool, so these settings never outlive it.
            conn.close_on_drop();
            // One transaction holds the whole import: with SQLite's default
            // 2 MB page cache, index pages would be spilled to the WAL and
            // written again and again. 1 GiB is an upper bound, not an
            // allocation.
            let pragmas = if trusted_refs {
                "PRAGMA cache_size = -1048576; PRAGMA foreign_keys = OFF"
            } else {
                "PRAGMA cache_size = -1048576"
            };
            sqlx::query(pragmas)
                .execute(&mut *conn)
                .await
                .context("cannot set up the SQLite connection")?;
        }
        // `Transaction::begin` is what `Pool::begin` does, on a connection
        // prepared above; it is public but hidden in sqlx 0.8. It begins as
        // a write transaction: the import reads first, and a running gate
        // writes sessions and its log meanwhile.
        let begin = db.backend().write_begin().map(Into::into);
        let mut tx = Transaction::begin(conn, begin)
            .await
            .context("cannot start the import transaction")?;
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, external_id FROM school")
            .fetch_all(&mut *tx)
            .await
            .context("cannot read the schools")?;
        let schools = rows
            .into_iter()
            .map(|(id, ext)| {
                (
                    ext,
                    SchoolState {
                        id,
                        ..SchoolState::default()
                    },
                )
            })
            .collect();
        Ok(Engine {
            tx: Some(tx),
            backend: db.backend(),
            problems: Vec::new(),
            more: false,
            warnings: Vec::new(),
            counts: Vec::new(),
            schools,
            next_id: HashMap::new(),
            url_keys: None,
            current: None,
            written: HashSet::new(),
            started: Instant::now(),
            foreign: false,
            pending: None,
            trusted_refs,
        })
    }

    /// The transaction, once the statement in flight (if any) is done.
    pub(super) async fn tx(&mut self) -> Result<&mut Transaction<'static, Any>> {
        self.sync().await?;
        self.tx.as_mut().context("the import transaction has ended")
    }

    /// Waits for the statement in flight and takes the transaction back.
    pub(super) async fn sync(&mut self) -> Result<()> {
        if let Some(handle) = self.pending.take() {
            let (tx, result) = handle.await.context("the database writer stopped")?;
            self.tx = Some(tx);
            let n = result?;
            if let Some(cur) = self.current.as_mut() {
                cur.affected += n;
            }
        }
        Ok(())
    }

    /// Starts importing rows of `spec`'s table.
    pub async fn start_table(&mut self, spec: &'static TableSpec) -> Result<()> {
        self.end_table().await?;
        let mut columns = Vec::new();
        if spec.kind == Kind::Mapped {
            columns.push("id");
        }
        columns.extend_from_slice(spec.db_cols);
        let conflict: Vec<&str> = match spec.kind {
            Kind::Mapped => vec!["id"],
            _ if spec.key == ["external_id"] => vec!["school_id", "external_id"],
            _ => spec
                .key
                .iter()
                .filter_map(|k| spec.col(k).map(|i| spec.db_cols[i]))
                .collect(),
        };
        let update: Vec<&str> = spec
            .db_cols
            .iter()
            .copied()
            .filter(|c| !conflict.contains(c))
            .collect();
        let tail = if update.is_empty() {
            format!("ON CONFLICT ({}) DO NOTHING", conflict.join(", "))
        } else {
            // Rows whose values are all equal are left alone, so a second
            // import of the same files reports (and writes) nothing.
            format!(
                "ON CONFLICT ({}) DO UPDATE SET {} WHERE {}",
                conflict.join(", "),
                update
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                update
                    .iter()
                    .map(|c| format!("{t}.{c} IS DISTINCT FROM excluded.{c}", t = spec.table))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )
        };
        let before = if spec.kind == Kind::Bulk {
            let sql = format!("SELECT COUNT(*) FROM {}", spec.table);
            let (n,): (i64,) = sqlx::query_as(&sql)
                .fetch_one(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot count {}", spec.table))?;
            n
        } else {
            0
        };
        self.current = Some(Current {
            spec,
            rows: Rows::upsert(spec.table, columns, tail),
            count: TableCount {
                table: spec.table,
                ..TableCount::default()
            },
            new_rows: 0,
            affected: 0,
            before,
            started: Instant::now(),
            ready: HashSet::new(),
            key_idx: spec.key.iter().filter_map(|k| spec.col(k)).collect(),
            fk_checked: false,
            dropped_fks: Vec::new(),
        });
        Ok(())
    }

    /// Sends the gathered rows. The statement runs while the next batch is
    /// read and checked (SQLite works in its own thread, PostgreSQL on the
    /// server): reading and writing overlap on two cores.
    pub(super) async fn flush(&mut self) -> Result<()> {
        self.sync().await?;
        let Some((table, first)) = self
            .current
            .as_mut()
            .filter(|c| !c.rows.is_empty())
            .map(|c| (c.spec.table, !std::mem::replace(&mut c.fk_checked, true)))
        else {
            return Ok(());
        };
        if first && self.backend == Backend::Postgres && self.trusted_refs {
            let dropped = self.drop_foreign_keys(table).await?;
            if let Some(cur) = self.current.as_mut() {
                cur.dropped_fks = dropped;
            }
        }
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        self.written.insert(cur.spec.table);
        let mut rows = cur.rows.take();
        let mut tx = self.tx.take().context("the import transaction has ended")?;
        let backend = self.backend;
        self.pending = Some(tokio::spawn(async move {
            let result = rows.insert(&mut tx, backend).await;
            (tx, result)
        }));
        Ok(())
    }

    /// On PostgreSQL, loading an empty table spends three quarters of its
    /// time in row-by-row foreign-key triggers. The engine has resolved
    /// every reference already, so the table's foreign keys are dropped for
    /// the load and added back after it, which checks all rows in one pass
    /// (and fails the import if any row were wrong). Only for an empty table
    /// the import's role owns: the lock this takes blocks no reader of data.
    async fn drop_foreign_keys(&mut self, table: &'static str) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {table}), pg_has_role(c.relowner, 'USAGE') \
             FROM pg_class c WHERE c.oid = '{table}'::regclass"
        );
        let (empty, owner): (bool, bool) = sqlx::query_as(&sql)
            .fetch_one(&mut **self.tx().await?)
            .await
            .with_context(|| format!("cannot inspect {table}"))?;
        if !(empty && owner) {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = '{table}'::regclass AND contype = 'f' ORDER BY conname"
        );
        let keys: Vec<(String, String)> = sqlx::query_as(&sql)
            .fetch_all(&mut **self.tx().await?)
            .await
            .with_context(|| format!("cannot read the foreign keys of {table}"))?;
        for (name, _) in &keys {
            let sql = format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"");
            sqlx::query(&sql)
                .execute(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot drop {name} for the load"))?;
        }
        Ok(keys)
    }

    /// Finishes the current table: sends what is gathered and counts.
    pub async fn end_table(&mut self) -> Result<()> {
        let Some(spec) = self.current.as_ref().map(|c| c.spec) else {
            return Ok(());
        };
        if spec.table == "legend_entry" {
            self.standard_legends().await?;
        }
        if !self.has_problems() {
            self.flush().await?;
        }
        self.sync().await?;
        let Some(mut cur) = self.current.take() else {
            return Ok(());
        };
        for (name, definition) in std::mem::take(&mut cur.dropped_fks) {
            let sql = format!(
                "ALTER TABLE {} ADD CONSTRAINT \"{name}\" {definition}",
                spec.table
            );
            sqlx::query(&sql)
                .execute(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot restore {name} after the load"))?;
        }
        if spec.kind == Kind::Bulk && !self.has_problems() && cur.affected > 0 {
            let sql = format!("SELECT COUNT(*) FROM {}", spec.table);
            let (after,): (i64,) = sqlx::query_as(&sql)
                .fetch_one(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot count {}", spec.table))?;
            cur.new_rows = (after - cur.before).max(0) as u64;
        }
        tracing::debug!(
            table = spec.table,
            rows = cur.count.read,
            seconds = cur.started.elapsed().as_secs_f64(),
            "table imported"
        );
        cur.count.inserted = cur.new_rows;
        cur.count.updated = cur.affected.saturating_sub(cur.new_rows);
        if cur.count.read > 0 {
            self.counts.push(cur.count);
        }
        Ok(())
    }

    /// Removes one row by key (OneRoster `tobedeleted`); `key` holds the
    /// texts of the spec's key columns. A row that is not there is no error.
    pub async fn delete(
        &mut self,
        spec: &'static TableSpec,
        school_ext: &str,
        key: &[&str],
        at: At<'_>,
    ) -> Result<()> {
        let Some(school_id) = self.school_id(school_ext) else {
            return Ok(());
        };
        let mut clauses = Vec::new();
        let mut binds: Vec<Val> = Vec::new();
        if !spec.is_school() {
            clauses.push("school_id = $1".to_owned());
            binds.push(Val::Int(school_id));
        }
        for (k, text) in spec.key.iter().zip(key) {
            let Some(i) = spec.col(k) else { continue };
            let v = match spec.cols[i].ty {
                Ty::Ref(target) => {
                    self.ensure_map(school_ext, target).await?;
                    match self.value(school_ext, spec.cols[i].ty, false, text) {
                        Ok(Some(v)) => v,
                        _ => return Ok(()),
                    }
                }
                _ => Val::Text((*text).to_owned()),
            };
            binds.push(v);
            clauses.push(format!("{} = ${}", spec.db_cols[i], binds.len()));
        }
        if self.has_problems() {
            return Ok(());
        }
        let sql = format!("DELETE FROM {} WHERE {}", spec.table, clauses.join(" AND "));
        let mut query = sqlx::query(&sql);
        for v in binds {
            query = match v {
                Val::Int(i) => query.bind(i),
                Val::Text(t) => query.bind(t),
                _ => query.bind(None::<String>),
            };
        }
        let done = query
            .execute(&mut **self.tx().await?)
            .await
            .with_context(|| {
                format!(
                    "cannot delete from {} ({}:{})",
                    spec.table, at.file, at.line
                )
            })?;
        if done.rows_affected() > 0 {
            match self.counts.iter_mut().find(|c| c.table == spec.table) {
                Some(c) => c.deleted += done.rows_affected(),
                None => self.counts.push(TableCount {
                    table: spec.table,
                    deleted: done.rows_affected(),
                    ..TableCount::default()
                }),
            }
            // Forget the key so that later rows do not refer to it.
            if let Some(s) = self.schools.get_mut(school_ext)
                && let Some(m) = s.maps.get_mut(spec.table)
            {
                m.remove(&key.join(&SEP.to_string()));
            }
        }
        Ok(())
    }

    /// Runs one statement of an importer's own bookkeeping (the Дневник.ру
    /// sync remembers its window so) in the import's transaction, after
    /// every row sent so far: it is committed or rolled back with the
    /// import. `$1`, `$2`, … take `binds` in order. Call it between tables.
    pub async fn execute(&mut self, sql: &str, binds: Vec<Val>) -> Result<u64> {
        let mut query = sqlx::query(sql);
        for v in binds {
            query = match v {
                Val::Int(i) => query.bind(i),
                Val::Real(r) => query.bind(r),
                Val::Text(t) => query.bind(t),
                Val::NullInt => query.bind(None::<i64>),
                Val::NullReal => query.bind(None::<f64>),
                Val::NullText => query.bind(None::<String>),
            };
        }
        let done = query
            .execute(&mut **self.tx().await?)
            .await
            .context("cannot run a statement in the import's transaction")?;
        Ok(done.rows_affected())
    }

    /// Ends the import: on problems rolls back and returns them; otherwise
    /// gives students the class spans the rows did not (see
    /// `derive_class_spans`, with `today` the day of the import), and
    /// commits (or rolls back a dry run) and returns the summary.
    pub async fn finish(mut self, dry_run: bool, today: Date) -> Result<Summary, ImportError> {
        self.end_table().await?;
        self.sync().await?;
        if self.problems.is_empty() {
            // A watching build learns which schools to rebuild.
            let mut touched: Vec<i64> = self.schools.values().map(|s| s.id).collect();
            touched.sort_unstable();
            let backend = self.backend;
            for school in touched {
                gradebook::changes::record(self.tx().await?, backend, school, "import").await?;
            }
            let (added, ended) = self.derive_class_spans(today).await?;
            if added + ended > 0 {
                self.warn(format!(
                    "class spans: {added} added for students whose class the input gave without dates, {ended} ended (a move within a year is dated {today}, the day of the import; class_members.csv gives exact dates)"
                ));
            }
        }
        let mut tx = self.tx.take().context("the import transaction has ended")?;
        if !self.problems.is_empty() {
            tx.rollback().await.context("cannot roll back the import")?;
            return Err(ImportError::Invalid {
                problems: self.problems,
                more: self.more,
            });
        }
        if self.backend == Backend::Postgres {
            // Ids were given here; move each identity past them.
            let mut tables: Vec<&str> = self.written.iter().copied().collect();
            tables.sort_unstable();
            for table in tables {
                if spec::table(table).is_some_and(|s| s.kind == Kind::Mapped) {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    );
                    sqlx::query(&sql)
                        .execute(&mut *tx)
                        .await
                        .with_context(|| format!("cannot move the id sequence of {table}"))?;
                }
            }
        }
        if dry_run {
            tx.rollback()
                .await
                .context("cannot roll back the dry run")?;
        } else {
            tx.commit().await.context("cannot commit the import")?;
        }
        Ok(Summary {
            tables: self.counts,
            warnings: self.warnings,
            seconds: self.started.elapsed().as_secs_f64(),
            dry_run,
        })
    }
}
