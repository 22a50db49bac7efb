//! `tabel import oneroster PATH`: 1EdTech OneRoster 1.1 and 1.2 CSV sets,
//! bulk or delta, from a folder or a .zip archive.
//!
//! [`read`] reads `manifest.csv` and the files it announces, [`map`] turns
//! their records into rows of the tabel tables, and the same [`Engine`] as
//! the tabel CSV import checks and writes them in one transaction. Rows a
//! delta gives only in part keep the rest of their values from the database.

pub mod map;
pub mod read;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};

use super::ImportOptions;
use super::engine::{At, Engine, Origin};
use super::error::{ImportError, Problem, Summary};
use super::export::school_rows;
use super::source::Input;
use super::spec::{TABLES, TableSpec};
use crate::db::Database;
use map::{DEFAULT_PERIOD_CATEGORIES, Known, PeriodOf, parse_period_category};

/// Imports a OneRoster CSV set (folder or .zip) in one transaction.
///
/// `period_categories` are `TITLE=KIND` settings (see
/// [`map::parse_period_category`]); empty means the defaults.
pub async fn import_oneroster(
    db: &Database,
    path: &Path,
    options: &ImportOptions,
    period_categories: &[String],
) -> Result<Summary, ImportError> {
    let categories: Vec<(String, PeriodOf)> = if period_categories.is_empty() {
        DEFAULT_PERIOD_CATEGORIES
            .iter()
            .map(|(t, k)| ((*t).to_owned(), *k))
            .collect()
    } else {
        let mut out = Vec::new();
        for text in period_categories {
            out.push(parse_period_category(text).with_context(|| {
                format!("--period-category {text:?}: expected TITLE=KIND with KIND session, year, exam or final")
            })?);
        }
        out
    };
    let input = Input::open(path)?;
    let known = known(db).await?;
    let mut engine = Engine::begin(db, false).await?;
    engine.set_foreign();
    let Some(set) = read::read_set(&input, options.csv, &mut engine)? else {
        return engine.finish(options.dry_run, options.today()).await;
    };
    let plan = map::plan(&set, &known, &categories);
    for (file, line, column, value, message) in &plan.problems {
        engine.problem(Problem {
            file: (*file).to_owned(),
            line: *line,
            column: (*column).to_owned(),
            value: Some(value.clone()),
            message: message.clone(),
        });
    }
    for w in &plan.warnings {
        engine.warn(w.clone());
    }
    let today = crate::gradebook::Date(chrono::Local::now().date_naive()).to_string();
    let first_day = plan.first_day.clone().unwrap_or(today);
    for spec in TABLES {
        engine.start_table(spec).await?;
        if engine.full() {
            break;
        }
        let Some(rows) = plan.tables.get(spec.table) else {
            continue;
        };
        let base = base_rows(db, spec, rows).await?;
        let key_cols: Vec<usize> = spec.key.iter().filter_map(|k| spec.col(k)).collect();
        for (n, row) in rows.rows.iter().enumerate() {
            let key: Vec<&str> = key_cols
                .iter()
                .map(|&i| row.cells[i].as_ref().map_or("", |(v, _)| v.as_str()))
                .collect();
            let old = base.get(&(row.school.clone(), key.join("\u{1f}")));
            let mut fields: Vec<String> = Vec::with_capacity(spec.cols.len());
            let mut places: Vec<At<'static>> = Vec::with_capacity(spec.cols.len());
            for (i, col) in spec.cols.iter().enumerate() {
                match &row.cells[i] {
                    Some((value, at)) => {
                        fields.push(value.clone());
                        places.push(*at);
                    }
                    None => {
                        let value = match old {
                            Some(old) => old[i].clone(),
                            None => default(spec, col.name, n, &first_day),
                        };
                        fields.push(value);
                        places.push(At {
                            file: row.home.0,
                            line: row.home.1,
                            column: col.name,
                        });
                    }
                }
            }
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            engine.row(&refs, &Origin::Fields(&places)).await?;
            if engine.full() {
                break;
            }
        }
    }
    engine.end_table().await?;
    // Children first, so that nothing is left pointing at a removed row.
    let mut deletes = plan.deletes.clone();
    deletes.sort_by_key(|d| std::cmp::Reverse(TABLES.iter().position(|t| t.table == d.table)));
    for d in &deletes {
        if let Some(spec) = TABLES.iter().find(|t| t.table == d.table) {
            let key: Vec<&str> = d.key.iter().map(String::as_str).collect();
            engine.delete(spec, &d.school, &key, d.at).await?;
        }
    }
    engine.finish(options.dry_run, options.today()).await
}

/// A value for a column the set does not give, on a new row.
fn default(spec: &TableSpec, column: &str, n: usize, first_day: &str) -> String {
    match (spec.table, column) {
        ("class", "term_kind") => "quarter".into(),
        ("subject", "assessment") => "graded".into(),
        ("subject", "position") => (n + 1).to_string(),
        ("student", "enrolled_on") => first_day.to_owned(),
        ("teaching_assignment", "hours_per_week") => "0".into(),
        _ => String::new(),
    }
}

/// Rows already in the database for the schools and table of `rows`, when
/// some row leaves a column open.
async fn base_rows(
    db: &Database,
    spec: &TableSpec,
    rows: &map::TableRows,
) -> Result<HashMap<(String, String), Vec<String>>> {
    let mut out = HashMap::new();
    if !rows
        .rows
        .iter()
        .any(|r| r.cells.iter().any(Option::is_none))
    {
        return Ok(out);
    }
    let mut schools: Vec<&str> = rows.rows.iter().map(|r| r.school.as_str()).collect();
    schools.sort_unstable();
    schools.dedup();
    let key_cols: Vec<usize> = spec.key.iter().filter_map(|k| spec.col(k)).collect();
    for school in schools {
        for row in school_rows(db, spec, school).await? {
            let key: Vec<&str> = key_cols.iter().map(|&i| row[i].as_str()).collect();
            out.insert((school.to_owned(), key.join("\u{1f}")), row);
        }
    }
    Ok(out)
}

/// What the database holds that a delta may refer to.
async fn known(db: &Database) -> Result<Known> {
    let mut known = Known::default();
    let schools: Vec<(String,)> = sqlx::query_as("SELECT external_id FROM school ORDER BY id")
        .fetch_all(db.pool())
        .await
        .context("cannot read the schools")?;
    known.schools = schools.into_iter().map(|(s,)| s).collect();
    for table in [
        "class",
        "study_group",
        "student",
        "staff",
        "guardian",
        "subject",
    ] {
        let sql = format!(
            "SELECT s.external_id, t.external_id FROM {table} t JOIN school s ON s.id = t.school_id"
        );
        let rows: Vec<(String, String)> = sqlx::query_as(&sql)
            .fetch_all(db.pool())
            .await
            .with_context(|| format!("cannot read {table}"))?;
        let map = known.by_table.entry(table).or_default();
        for (school, ext) in rows {
            map.entry(ext).or_default().push(school);
        }
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT g.external_id, s.external_id FROM study_group g JOIN subject s ON s.id = g.subject_id",
    )
    .fetch_all(db.pool())
    .await
    .context("cannot read the groups")?;
    known.group_subject = rows.into_iter().collect();
    Ok(known)
}
