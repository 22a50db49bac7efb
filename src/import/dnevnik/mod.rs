//! `tabel import dnevnik --school ID`: the school's gradebook read straight
//! from Дневник.ру's API v2 (the "partners" API), every night.
//!
//! [`fetch`] asks the API through [`client`] (token in `Access-Token`,
//! retries, a timeout, N requests in flight) and reads its answers as the
//! [`shapes`]; [`known`] reads what the database holds of the school;
//! [`map`] turns the answers into rows of the tabel tables; and the same
//! [`Engine`] as every other importer checks and writes them in one
//! transaction, removes what Дневник.ру no longer has within the window,
//! and, with them, [`window`] remembers what was fetched, so the next night
//! asks only for the days since.
//!
//! Nothing is written until every request has been answered: a sync that
//! fails on the way leaves the database as it was.
//!
//! The shapes and endpoints come from public client code: the Java model
//! classes of `alllexey123/dnevnik-partners-api`
//! (`src/main/java/api/dnevnik/partners/model/`: `EduGroup`, `Person`,
//! `Teacher`, `ReportingPeriod`, `Lesson`, `Work`, `WorkType`, `Mark`,
//! `PersonFinalMark`, `SubjectFinalMark`, `LessonLogEntry`, `UserRelative`,
//! and the endpoints of `DnevnikPartnersApi.java`), and the endpoints and
//! error handling of the Python `pydnevnikruapi` (`kesha1225/DnevnikRuAPI`,
//! `pydnevnikruapi/dnevnik/dnevnik.py`). The API's own reference is the
//! partners' Swagger page both cite.

pub mod client;
pub mod fetch;
pub mod known;
pub mod map;
pub mod shapes;
pub mod window;

use std::collections::HashSet;
use std::fmt;
use std::time::Instant;

use anyhow::Result;

use super::engine::{At, Engine, Origin};
use super::error::{ImportError, Summary};
use super::spec::{TABLES, TableSpec};
use crate::config::Dnevnik;
use crate::db::Database;
use crate::gradebook::Date;
use client::{Client, Policy};
use known::{Known, SEP};
use window::Window;

/// What one sync is asked to do.
#[derive(Debug, Clone)]
pub struct SyncOptions<'a> {
    /// The school's id in Дневник.ру.
    pub school: &'a str,
    /// First day to fetch; default: from the last sync (less the look-back)
    /// or the year's first day.
    pub from: Option<Date>,
    /// Last day to fetch (the day the sync counts as today).
    pub to: Date,
    /// Fetch the whole year so far and every student's relatives.
    pub full: bool,
    /// Fetch and check everything, then roll back.
    pub dry_run: bool,
    /// The access token.
    pub token: &'a str,
    /// The `[dnevnik]` settings.
    pub settings: &'a Dnevnik,
    /// Draw a progress bar (on a terminal); otherwise log a line per round.
    pub progress: bool,
}

/// What a sync did: the import's summary and what was fetched.
#[derive(Debug, Clone)]
pub struct Synced {
    /// Rows read, inserted, updated and deleted per table.
    pub summary: Summary,
    /// The days fetched.
    pub window: Window,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Seconds spent asking Дневник.ру.
    pub fetch_seconds: f64,
}

impl fmt::Display for Synced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Дневник.ру: {} … {}{}, {} requests in {:.1} s",
            self.window.from,
            self.window.to,
            if self.window.full {
                " (the whole year so far)"
            } else {
                ""
            },
            self.requests,
            self.fetch_seconds
        )?;
        write!(f, "{}", self.summary)
    }
}

/// The school id as a path segment: digits only, so that it never changes
/// what a request asks for.
fn check_school(school: &str) -> Result<()> {
    if school.is_empty() || !school.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("--school {school:?}: expected the school's Дневник.ру id, digits only");
    }
    Ok(())
}

/// Syncs one school from Дневник.ру in one transaction.
pub async fn import_dnevnik(
    db: &Database,
    options: &SyncOptions<'_>,
) -> Result<Synced, ImportError> {
    let started = Instant::now();
    let school = options.school;
    check_school(school)?;
    let client = Client::new(
        &options.settings.base_url,
        options.token,
        Policy::of(options.settings),
        options.progress,
    )?;
    let mut known = Known::load(db, school).await?;
    let last = window::last_sync(db, school).await?;
    let known_students: HashSet<String> = known
        .base
        .get("student")
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let fetched = fetch::fetch(
        &client,
        &fetch::Ask {
            school,
            from: options.from,
            to: options.to,
            full: options.full,
            last,
            look_back_days: options.settings.look_back_days,
            days_per_request: options.settings.days_per_request,
            known_students: &known_students,
        },
    )
    .await?;
    let fetch_seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        requests = client.sent(),
        seconds = fetch_seconds,
        from = %fetched.window.from,
        to = %fetched.window.to,
        "Дневник.ру answered"
    );
    // Lessons that marks and absences name but the answers do not hold.
    let answered: HashSet<String> = fetched
        .lessons
        .iter()
        .flat_map(|(_, a)| a.data.iter().filter_map(shapes::Lesson::id))
        .collect();
    let wanted: Vec<String> = fetched
        .marks
        .iter()
        .flat_map(|(_, a)| a.data.iter().filter_map(shapes::Mark::lesson))
        .chain(fetched.log_entries.iter().flat_map(|a| {
            a.data
                .iter()
                .filter_map(|e| shapes::pick(&e.lesson, &e.lesson_str))
        }))
        .filter(|l| !answered.contains(l))
        .collect();
    known
        .load_window(
            db,
            school,
            &fetched.window,
            &fetched.year.to_string(),
            &wanted,
        )
        .await?;
    let plan = map::plan(&fetched, &known, last.is_none());
    let mut engine = Engine::begin(db, false).await?;
    engine.set_foreign();
    for p in &plan.problems {
        engine.problem(p.clone());
    }
    for w in &plan.warnings {
        engine.warn(w.clone());
    }
    for spec in TABLES {
        engine.start_table(spec).await?;
        if engine.full() {
            break;
        }
        let Some(rows) = plan.tables.get(spec.table) else {
            continue;
        };
        for row in &rows.rows {
            let fields = fields(spec, row, &known, &plan.first_day);
            let places: Vec<At<'_>> = row
                .places
                .iter()
                .map(|p| At {
                    file: plan.requests.get(p.req).map_or("", String::as_str),
                    line: p.item,
                    column: p.field,
                })
                .collect();
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            engine.row(&refs, &Origin::Fields(&places)).await?;
            if engine.full() {
                break;
            }
        }
    }
    engine.end_table().await?;
    let at = At {
        file: "Дневник.ру",
        line: 0,
        column: "",
    };
    for d in &plan.deletes {
        if let Some(spec) = TABLES.iter().find(|t| t.table == d.table) {
            let key: Vec<&str> = d.key.iter().map(String::as_str).collect();
            engine.delete(spec, school, &key, at).await?;
        }
    }
    if !engine.has_problems() {
        window::remember(&mut engine, school, &fetched.window, client.sent()).await?;
    }
    let summary = engine.finish(options.dry_run, fetched.window.to).await?;
    Ok(Synced {
        summary,
        window: fetched.window,
        requests: client.sent(),
        fetch_seconds,
    })
}

/// The texts of one row: what Дневник.ру said, else what the database
/// holds, else the column's default for a new row.
fn fields(spec: &TableSpec, row: &map::Row, known: &Known, first_day: &str) -> Vec<String> {
    let key_cols: Vec<usize> = spec.key.iter().filter_map(|k| spec.col(k)).collect();
    let key: Vec<&str> = key_cols
        .iter()
        .map(|&i| row.cells[i].as_deref().unwrap_or(""))
        .collect();
    let base = if row.cells.iter().any(Option::is_none) {
        known.row(spec.table, &key.join(SEP))
    } else {
        None
    };
    spec.cols
        .iter()
        .enumerate()
        .map(|(i, col)| match (&row.cells[i], base) {
            (Some(v), _) => v.clone(),
            (None, Some(b)) => b[i].clone(),
            (None, None) => match (spec.table, col.name) {
                ("student", "enrolled_on") => first_day.to_owned(),
                _ => String::new(),
            },
        })
        .collect()
}
