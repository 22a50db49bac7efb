//! Bulk writes: rows gathered per table and inserted with multi-row
//! `INSERT … VALUES` statements, as large as the backend allows.
//!
//! Used by the demo generator and the importers; one writer, one set of SQL.

use std::borrow::Cow;

use anyhow::{Context, Result};
use sqlx::{Any, Transaction};

use crate::db::Backend;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// SQL NULL in an integer column (PostgreSQL wants the type).
    NullInt,
    /// SQL NULL in a floating-point column.
    NullReal,
    /// SQL NULL in a text column.
    NullText,
    /// An integer (ids, numbers, 0/1 flags).
    Int(i64),
    /// A floating-point number (weights, hours).
    Real(f64),
    /// Text (names, codes, ISO dates).
    Text(String),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        v.map_or(Val::NullInt, Val::Int)
    }
}
impl From<Option<f64>> for Val {
    fn from(v: Option<f64>) -> Val {
        v.map_or(Val::NullReal, Val::Real)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::NullText, Val::Text)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Val {
        v.map_or(Val::NullText, |t| Val::Text(t.to_owned()))
    }
}

/// Rows waiting to be inserted into one table.
#[derive(Debug)]
pub struct Rows {
    table: &'static str,
    columns: Cow<'static, [&'static str]>,
    values: Vec<Val>,
    /// Appended after the VALUES list: an `ON CONFLICT …` clause for upserts.
    tail: Option<String>,
}

impl Rows {
    /// An empty batch for `table` with these columns.
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Rows {
        Rows {
            table,
            columns: Cow::Borrowed(columns),
            values: Vec::new(),
            tail: None,
        }
    }

    /// An empty batch whose statements end with `tail`, e.g.
    /// `ON CONFLICT (id) DO UPDATE SET …`: both backends accept the same
    /// upsert clause, so the importers write through this one writer.
    pub fn upsert(table: &'static str, columns: Vec<&'static str>, tail: String) -> Rows {
        Rows {
            table,
            columns: Cow::Owned(columns),
            values: Vec::new(),
            tail: Some(tail),
        }
    }

    /// Adds one row; it must have one value per column.
    pub fn push(&mut self, row: impl IntoIterator<Item = Val>) {
        let before = self.values.len();
        self.values.extend(row);
        assert_eq!(
            self.values.len() - before,
            self.columns.len(),
            "row for {} has the wrong number of values",
            self.table
        );
    }

    /// Moves the gathered rows into a new batch of the same shape and leaves
    /// this one empty, so a writer can send one batch while the next fills.
    pub fn take(&mut self) -> Rows {
        Rows {
            table: self.table,
            columns: self.columns.clone(),
            values: std::mem::take(&mut self.values),
            tail: self.tail.clone(),
        }
    }

    /// Number of rows gathered.
    pub fn len(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// True when no row was gathered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The table name.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Inserts every row inside `tx` and empties the batch.
    pub async fn insert(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
    ) -> Result<u64> {
        let ncols = self.columns.len();
        let per_statement = (backend.max_bind_params() / ncols).clamp(1, 2000);
        let mut inserted = 0;
        let mut left = self.values.len() / ncols;
        let mut values = std::mem::take(&mut self.values).into_iter();
        while left > 0 {
            // Full statements, then powers of two: a handful of distinct
            // statements, each prepared once and reused from the cache.
            let rows = if left >= per_statement {
                per_statement
            } else {
                1 << left.ilog2()
            };
            left -= rows;
            let chunk: Vec<Val> = values.by_ref().take(rows * ncols).collect();
            // PostgreSQL wants `$n`; SQLite takes those as named parameters
            // and looks each one up in a list, quadratic in a large
            // statement, so it gets anonymous `?`.
            let rows = chunk.len() / ncols;
            let mut sql = format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            );
            for r in 0..rows {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..ncols {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    match backend {
                        Backend::Postgres => {
                            sql.push('$');
                            sql.push_str(&(r * ncols + c + 1).to_string());
                        }
                        Backend::Sqlite => sql.push('?'),
                    }
                }
                sql.push(')');
            }
            if let Some(tail) = &self.tail {
                sql.push(' ');
                sql.push_str(tail);
            }
            let mut query = sqlx::query(&sql);
            // Values are moved into the query: a bulk import binds millions.
            for v in chunk {
                query = match v {
                    Val::NullInt => query.bind(None::<i64>),
                    Val::NullReal => query.bind(None::<f64>),
                    Val::NullText => query.bind(None::<String>),
                    Val::Int(i) => query.bind(i),
                    Val::Real(r) => query.bind(r),
                    Val::Text(t) => query.bind(t),
                };
            }
            let done = query
                .execute(&mut **tx)
                .await
                .with_context(|| format!("cannot insert into {}", self.table))?;
            inserted += done.rows_affected();
        }
        Ok(inserted)
    }
}
