//! What the database holds of the school before a sync: the rows the sync
//! keeps columns of (Дневник.ру does not say everything tabel stores), the
//! legend, lessons that marks outside the window refer to, and, within the
//! window, what may have been deleted in Дневник.ру since the last night.
//! Read before the import's transaction, like the OneRoster importer's.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};

use super::window::Window;
use crate::db::Database;
use crate::gradebook::Category;
use crate::gradebook::legend::standard_legend;
use crate::import::export::school_rows;
use crate::import::spec;

/// Separator of the parts of a composite key.
pub const SEP: &str = "\u{1f}";

/// A lesson of the database, for marks and absences that name it.
#[derive(Debug, Clone, Default)]
pub struct KnownLesson {
    /// Its subject's external id.
    pub subject: String,
    /// Its teacher's external id, or empty.
    pub teacher: String,
}

/// The school as the database holds it.
#[derive(Debug, Default)]
pub struct Known {
    /// The school is in the database.
    pub school_exists: bool,
    /// Rows whose columns the sync keeps where Дневник.ру says nothing:
    /// table → key (key columns joined by [`SEP`]) → texts in spec order.
    pub base: HashMap<&'static str, HashMap<String, Vec<String>>>,
    /// Mark codes in legend order: `(code, category, title)`.
    pub marks: Vec<(String, Category, String)>,
    /// Attendance codes: `(code, category)` in legend order.
    pub attendance: Vec<(String, Category)>,
    /// Lessons outside this sync's answers that its marks or absences name.
    pub lessons: HashMap<String, KnownLesson>,
    /// Marks dated within the window.
    pub marks_in_window: Vec<String>,
    /// Lessons dated within the window.
    pub lessons_in_window: Vec<String>,
    /// Absences at lessons within the window: `(student, lesson)`.
    pub absences_in_window: Vec<(String, String)>,
    /// Period marks of the periods of the year synced.
    pub period_marks: Vec<String>,
}

/// Tables whose existing rows the sync completes.
const BASE: &[&str] = &[
    "school",
    "reporting_period",
    "staff",
    "subject",
    "class",
    "study_group",
    "student",
    "group_member",
    "guardian",
];

impl Known {
    /// Reads what the school holds before anything is fetched.
    pub async fn load(db: &Database, school: &str) -> Result<Known> {
        let mut known = Known::default();
        for table in BASE.iter().copied().chain(["legend_entry"]) {
            let spec = spec::table(table).context("a table of the CSV set")?;
            let key_cols: Vec<usize> = spec.key.iter().filter_map(|k| spec.col(k)).collect();
            let rows = school_rows(db, spec, school).await?;
            let map = known.base.entry(table).or_default();
            for row in rows {
                let key: Vec<&str> = key_cols.iter().map(|&i| row[i].as_str()).collect();
                map.insert(key.join(SEP), row);
            }
        }
        known.school_exists = known.base.get("school").is_some_and(|m| !m.is_empty());
        let legend = known.base.remove("legend_entry").unwrap_or_default();
        let mut entries: Vec<(i64, String, String, Category, String)> = legend
            .into_values()
            .filter_map(|r| {
                // school, domain, code, category, numeric_value, title, title_en, position
                Some((
                    r[7].parse().unwrap_or(0),
                    r[1].clone(),
                    r[2].clone(),
                    Category::parse(&r[3])?,
                    r[5].clone(),
                ))
            })
            .collect();
        if !known.school_exists || entries.is_empty() {
            // A new school gets the standard legend from the engine.
            entries = standard_legend()
                .into_iter()
                .map(|e| {
                    (
                        e.position,
                        e.domain.as_str().to_owned(),
                        e.code,
                        e.category,
                        e.title,
                    )
                })
                .collect();
        }
        entries.sort_by(|a, b| (&a.1, a.0, &a.2).cmp(&(&b.1, b.0, &b.2)));
        for (_, domain, code, category, title) in entries {
            if domain == "mark" {
                known.marks.push((code, category, title));
            } else {
                known.attendance.push((code, category));
            }
        }
        Ok(known)
    }

    /// The row of `table` keyed `key`, if the database has it.
    pub fn row(&self, table: &str, key: &str) -> Option<&Vec<String>> {
        self.base.get(table).and_then(|m| m.get(key))
    }

    /// True if the database has the row of `table` keyed `key`.
    pub fn has(&self, table: &str, key: &str) -> bool {
        self.row(table, key).is_some()
    }

    /// Reads, once the window is known, what may have been deleted within
    /// it, and the lessons `wanted` that the database has.
    pub async fn load_window(
        &mut self,
        db: &Database,
        school: &str,
        window: &Window,
        year: &str,
        wanted: &[String],
    ) -> Result<()> {
        if !self.school_exists {
            return Ok(());
        }
        let (from, to) = (window.from.to_string(), window.to.to_string());
        let school_id = "(SELECT id FROM school WHERE external_id = $1)";
        let pairs = |sql: String| {
            let (school, from, to) = (school.to_owned(), from.clone(), to.clone());
            async move {
                sqlx::query_as::<_, (String, String)>(&sql)
                    .bind(school)
                    .bind(from)
                    .bind(to)
                    .fetch_all(db.pool())
                    .await
            }
        };
        self.marks_in_window = pairs(format!(
            "SELECT external_id, '' FROM mark WHERE school_id = {school_id} \
             AND date >= $2 AND date <= $3 ORDER BY id"
        ))
        .await
        .context("cannot read the marks of the window")?
        .into_iter()
        .map(|(m, _)| m)
        .collect();
        self.lessons_in_window = pairs(format!(
            "SELECT external_id, '' FROM lesson WHERE school_id = {school_id} \
             AND date >= $2 AND date <= $3 ORDER BY id"
        ))
        .await
        .context("cannot read the lessons of the window")?
        .into_iter()
        .map(|(l, _)| l)
        .collect();
        self.absences_in_window = pairs(format!(
            "SELECT s.external_id, l.external_id FROM attendance a \
             JOIN student s ON s.id = a.student_id JOIN lesson l ON l.id = a.lesson_id \
             WHERE a.school_id = {school_id} AND l.date >= $2 AND l.date <= $3 ORDER BY a.id"
        ))
        .await
        .context("cannot read the absences of the window")?;
        let marks: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT m.external_id FROM period_mark m \
             JOIN reporting_period p ON p.id = m.period_id \
             JOIN school_year y ON y.id = p.school_year_id \
             WHERE m.school_id = {school_id} AND y.external_id = $2 ORDER BY m.id"
        ))
        .bind(school.to_owned())
        .bind(year.to_owned())
        .fetch_all(db.pool())
        .await
        .context("cannot read the period marks of the year")?;
        self.period_marks = marks.into_iter().map(|(m,)| m).collect();
        let wanted: HashSet<&String> = wanted.iter().collect();
        let wanted: Vec<&String> = wanted.into_iter().collect();
        for chunk in wanted.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT l.external_id, s.external_id, COALESCE(t.external_id, '') FROM lesson l \
                 JOIN subject s ON s.id = l.subject_id LEFT JOIN staff t ON t.id = l.teacher_id \
                 WHERE l.school_id = {school_id} AND l.external_id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, String, String)>(&sql).bind(school.to_owned());
            for id in chunk {
                q = q.bind((*id).clone());
            }
            for (id, subject, teacher) in q
                .fetch_all(db.pool())
                .await
                .context("cannot read the lessons marks refer to")?
            {
                self.lessons.insert(id, KnownLesson { subject, teacher });
            }
        }
        Ok(())
    }
}
