//! `tabel export csv DIR`: the whole gradebook as the tabel CSV set, every
//! table ordered by id, from one consistent read.
//!
//! Importing the folder into an empty database gives back the same rows
//! with the same ids (ids are handed out in file order), on either backend:
//! this is also how a school moves from SQLite to PostgreSQL.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::spec::{Kind, TABLES, TableSpec, Ty, ref_key_column};
use crate::db::Database;

/// Rows read per query: keyset pages keep memory flat for large tables.
const PAGE: i64 = 50_000;

/// Rows written per file.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// `(file, rows)` in set order.
    pub files: Vec<(&'static str, u64)>,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: u64 = self.files.iter().map(|(_, n)| n).sum();
        writeln!(f, "exported {total} rows:")?;
        for (file, n) in &self.files {
            writeln!(f, "  {file:<26} {n:>10}")?;
        }
        Ok(())
    }
}

/// The SELECT for one file: external ids instead of surrogate ids.
fn select(spec: &TableSpec) -> String {
    let mut exprs = vec!["t.id".to_owned()];
    let mut joins = String::new();
    for (i, col) in spec.cols.iter().enumerate() {
        match col.ty {
            Ty::Ref(target) => {
                joins.push_str(&format!(
                    " LEFT JOIN {target} r{i} ON r{i}.id = t.{}",
                    col.db
                ));
                exprs.push(format!("r{i}.{}", ref_key_column(target)));
            }
            _ => exprs.push(format!("t.{}", col.db)),
        }
    }
    if spec.kind != Kind::Mapped && spec.kind != Kind::Bulk {
        // Link tables have no id: order by their key.
        exprs[0] = "0".into();
    }
    format!("SELECT {} FROM {} t{joins}", exprs.join(", "), spec.table)
}

fn order(spec: &TableSpec) -> String {
    match spec.kind {
        Kind::Link => spec
            .key
            .iter()
            .filter_map(|k| spec.col(k))
            .map(|i| format!("t.{}", spec.db_cols[i]))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "t.id".into(),
    }
}

fn cell(row: &AnyRow, i: usize, ty: Ty) -> Result<String> {
    Ok(match ty {
        Ty::Int(..) | Ty::Flag => row.try_get::<Option<i64>, _>(i)?.map(|v| v.to_string()),
        Ty::Real(_) => row.try_get::<Option<f64>, _>(i)?.map(|v| v.to_string()),
        _ => row.try_get::<Option<String>, _>(i)?,
    }
    .unwrap_or_default())
}

/// The rows of one table for one school, as tabel CSV texts in spec column
/// order (what a OneRoster delta keeps of rows it only partly gives).
pub async fn school_rows(
    db: &Database,
    spec: &TableSpec,
    school: &str,
) -> Result<Vec<Vec<String>>> {
    let sql = if spec.is_school() {
        format!("{} WHERE t.external_id = $1", select(spec))
    } else {
        format!(
            "{} WHERE t.school_id = (SELECT id FROM school WHERE external_id = $1)",
            select(spec)
        )
    };
    let rows: Vec<AnyRow> = sqlx::query(&sql)
        .bind(school.to_owned())
        .fetch_all(db.pool())
        .await
        .with_context(|| format!("cannot read {}", spec.table))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut record = Vec::with_capacity(spec.cols.len());
        for (i, col) in spec.cols.iter().enumerate() {
            let ty = match col.ty {
                Ty::Ref(_) => Ty::Text,
                ty => ty,
            };
            record.push(cell(row, i + 1, ty)?);
        }
        out.push(record);
    }
    Ok(out)
}

/// Writes every table into `dir` (created if missing). Refuses to overwrite
/// tabel files already there unless `force`.
pub async fn export_csv(db: &Database, dir: &Path, force: bool) -> Result<ExportSummary> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if !force && let Some(spec) = TABLES.iter().find(|t| dir.join(t.file).exists()) {
        bail!(
            "{} already holds {}; choose an empty folder or pass --force to overwrite",
            dir.display(),
            spec.file
        );
    }
    let mut tx = db.snapshot_read().await?;
    let mut summary = ExportSummary::default();
    for spec in TABLES {
        let path = dir.join(spec.file);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(BufWriter::with_capacity(1 << 20, file));
        out.write_record(spec.cols.iter().map(|c| c.name))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let base = select(spec);
        let mut rows_written = 0u64;
        let mut last = i64::MIN;
        let mut record: Vec<String> = Vec::with_capacity(spec.cols.len());
        loop {
            let rows: Vec<AnyRow> = if spec.kind == Kind::Link {
                let sql = format!("{base} ORDER BY {}", order(spec));
                sqlx::query(&sql).fetch_all(&mut *tx).await
            } else {
                let sql = format!("{base} WHERE t.id > $1 ORDER BY t.id LIMIT {PAGE}");
                sqlx::query(&sql).bind(last).fetch_all(&mut *tx).await
            }
            .with_context(|| format!("cannot read {}", spec.table))?;
            let n = rows.len();
            for row in &rows {
                record.clear();
                for (i, col) in spec.cols.iter().enumerate() {
                    let ty = match col.ty {
                        Ty::Ref(_) => Ty::Text,
                        ty => ty,
                    };
                    record.push(cell(row, i + 1, ty)?);
                }
                out.write_record(&record)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if spec.kind != Kind::Link {
                    last = row.try_get(0)?;
                }
            }
            rows_written += n as u64;
            if spec.kind == Kind::Link || (n as i64) < PAGE {
                break;
            }
        }
        out.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
        summary.files.push((spec.file, rows_written));
    }
    tx.commit()
        .await
        .context("cannot end the read transaction")?;
    Ok(summary)
}
