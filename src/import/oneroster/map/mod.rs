//! From OneRoster records to rows of the tabel tables (the mapping the
//! README documents). Each value keeps the OneRoster file, line and column
//! it came from, so the engine's messages point into the OneRoster files.

use std::collections::HashMap;

use super::super::engine::At;

mod grades;
mod people;
mod roster;
use super::read::{OrFile, OrSet, Version};
use crate::gradebook::Date;

/// A period category: whose results are period marks, and of which period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodOf {
    /// The line item's academic session (a term, or the year).
    Session,
    /// The year of the line item's session.
    Year,
    /// The exam of that year.
    Exam,
    /// The final mark of that year.
    Final,
}

/// Category titles read as period categories when none are configured.
pub const DEFAULT_PERIOD_CATEGORIES: &[(&str, PeriodOf)] = &[
    ("Четверть", PeriodOf::Session),
    ("Полугодие", PeriodOf::Session),
    ("Триместр", PeriodOf::Session),
    ("term", PeriodOf::Session),
    ("Год", PeriodOf::Year),
    ("year", PeriodOf::Year),
    ("Экзамен", PeriodOf::Exam),
    ("exam", PeriodOf::Exam),
    ("Итоговая", PeriodOf::Final),
    ("final", PeriodOf::Final),
];

/// Parses `TITLE=KIND` (KIND: session, year, exam, final).
pub fn parse_period_category(text: &str) -> Option<(String, PeriodOf)> {
    let (title, kind) = text.rsplit_once('=')?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "session" | "term" => PeriodOf::Session,
        "year" => PeriodOf::Year,
        "exam" => PeriodOf::Exam,
        "final" => PeriodOf::Final,
        _ => return None,
    };
    let title = title.trim();
    (!title.is_empty()).then(|| (title.to_owned(), kind))
}

/// A value for one tabel column, with where it came from.
pub type Cell = Option<(String, At<'static>)>;

/// One tabel row assembled from OneRoster records.
#[derive(Debug, Clone)]
pub struct OutRow {
    /// The school's external id.
    pub school: String,
    /// The record that made the row (for columns the set does not give).
    pub home: (&'static str, u64),
    /// One cell per spec column; `None`: the set does not say (kept if the row exists).
    pub cells: Vec<Cell>,
}

/// Rows of one table, in the order first met.
#[derive(Debug, Default)]
pub struct TableRows {
    /// The rows.
    pub rows: Vec<OutRow>,
    index: HashMap<(String, String), usize>,
}

/// A row to remove.
#[derive(Debug, Clone)]
pub struct Delete {
    /// Table.
    pub table: &'static str,
    /// School external id.
    pub school: String,
    /// Key column texts.
    pub key: Vec<String>,
    /// The record that asked for it.
    pub at: At<'static>,
}

/// A problem found while mapping: `(file, line, column, value, message)`.
pub type MapProblem = (&'static str, u64, &'static str, String, String);

/// Everything the set asks for.
#[derive(Debug, Default)]
pub struct Plan {
    /// Rows per table.
    pub tables: HashMap<&'static str, TableRows>,
    /// Rows to delete.
    pub deletes: Vec<Delete>,
    /// Problems of the mapping itself.
    pub problems: Vec<MapProblem>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// First day of the earliest school year in the set (default enrolment).
    pub first_day: Option<String>,
}

/// What the database already holds, for deltas: external id → schools.
#[derive(Debug, Default)]
pub struct Known {
    /// Per table (`class`, `study_group`, `student`, …): external id → school external ids.
    pub by_table: HashMap<&'static str, HashMap<String, Vec<String>>>,
    /// Group external id → subject external id.
    pub group_subject: HashMap<String, String>,
    /// Every school's external id.
    pub schools: Vec<String>,
}

impl Known {
    fn schools_of(&self, table: &str, ext: &str) -> Vec<String> {
        self.by_table
            .get(table)
            .and_then(|m| m.get(ext))
            .cloned()
            .unwrap_or_default()
    }
}

fn at(file: &'static str, line: u64, column: &'static str) -> At<'static> {
    At { file, line, column }
}

impl Plan {
    fn row(
        &mut self,
        table: &'static str,
        school: &str,
        key: &str,
        home: (&'static str, u64),
    ) -> &mut OutRow {
        let spec = super::super::spec::table(table).expect("known table");
        let rows = self.tables.entry(table).or_default();
        let k = (school.to_owned(), key.to_owned());
        let i = match rows.index.get(&k) {
            Some(&i) => i,
            None => {
                let mut cells = vec![None; spec.cols.len()];
                cells[0] = Some((school.to_owned(), at(home.0, home.1, "school")));
                rows.rows.push(OutRow {
                    school: school.to_owned(),
                    home,
                    cells,
                });
                rows.index.insert(k, rows.rows.len() - 1);
                rows.rows.len() - 1
            }
        };
        &mut rows.rows[i]
    }

    /// Sets column `col` of the row keyed `key` of `table` in `school`.
    fn set(
        &mut self,
        table: &'static str,
        school: &str,
        key: &str,
        col: &str,
        value: &str,
        from: At<'static>,
    ) {
        let spec = super::super::spec::table(table).expect("known table");
        let i = spec.col(col).expect("known column");
        let row = self.row(table, school, key, (from.file, from.line));
        row.cells[i] = Some((value.to_owned(), from));
    }

    /// True when the row exists in the plan.
    fn has(&self, table: &str, school: &str, key: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.index.contains_key(&(school.to_owned(), key.to_owned())))
    }

    fn delete(&mut self, table: &'static str, school: &str, key: &[&str], from: At<'static>) {
        self.deletes.push(Delete {
            table,
            school: school.to_owned(),
            key: key.iter().map(|k| (*k).to_owned()).collect(),
            at: from,
        });
    }

    fn problem(
        &mut self,
        file: &'static str,
        line: u64,
        column: &'static str,
        value: &str,
        message: String,
    ) {
        self.problems
            .push((file, line, column, value.to_owned(), message));
    }
}

fn date_part(text: &str) -> Option<String> {
    let head = text.get(..10)?;
    Date::parse_iso(head).map(|d| d.to_string())
}

fn list(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A score as a legend code: `5.0` → `5`.
pub fn score_code(score: &str) -> String {
    match score.parse::<f64>() {
        Ok(v) if v.fract() == 0.0 && v.abs() < 1e9 => format!("{}", v as i64),
        _ => score.to_owned(),
    }
}

#[derive(Debug, Clone)]
struct Session {
    kind: String,
    year: Option<String>,
    term: Option<&'static str>,
    title: String,
    start: String,
    end: String,
}

#[derive(Debug, Clone)]
struct ClassInfo {
    school: String,
    homeroom: bool,
    course: String,
}

#[derive(Debug, Clone)]
struct LineItem {
    class: String,
    category: String,
    session: String,
    title: String,
    date: Option<String>,
    line: u64,
}

type Rows<'a> = &'a [(u64, Vec<String>)];
type Record = Vec<String>;

fn rows<'a>(set: &'a OrSet, name: &str) -> Option<(&'a OrFile, Rows<'a>)> {
    set.file(name).map(|f| (f, f.rows.as_slice()))
}

/// The state of one mapping: what earlier files said that later ones need.
struct Mapper<'a> {
    set: &'a OrSet,
    known: &'a Known,
    categories: &'a [(String, PeriodOf)],
    plan: Plan,
    /// Schools of the set (orgs of type school, else those in the database).
    schools: Vec<String>,
    sessions: HashMap<String, Session>,
    courses: HashMap<String, Course>,
    classes: HashMap<String, ClassInfo>,
    /// Homeroom and scheduled-class teachers: `(primary, user)`.
    teacher_of: HashMap<String, (bool, String)>,
}

/// Maps a whole set onto tabel rows.
pub fn plan(set: &OrSet, known: &Known, categories: &[(String, PeriodOf)]) -> Plan {
    let mut m = Mapper {
        set,
        known,
        categories,
        plan: Plan::default(),
        schools: Vec::new(),
        sessions: HashMap::new(),
        courses: HashMap::new(),
        classes: HashMap::new(),
        teacher_of: HashMap::new(),
    };
    m.orgs_and_sessions();
    m.courses_and_classes();
    m.users_and_enrollments();
    m.gradebook();
    m.plan
}

/// The school year a session belongs to.
fn year_of(sessions: &HashMap<String, Session>, sid: &str) -> Option<String> {
    sessions.get(sid).and_then(|s| s.year.clone())
}

/// A class of the set, or else of the database.
fn class_info(classes: &HashMap<String, ClassInfo>, known: &Known, id: &str) -> Option<ClassInfo> {
    classes.get(id).cloned().or_else(|| {
        if let Some(s) = known.schools_of("class", id).first() {
            return Some(ClassInfo {
                school: s.clone(),
                homeroom: true,
                course: String::new(),
            });
        }
        known
            .schools_of("study_group", id)
            .first()
            .map(|s| ClassInfo {
                school: s.clone(),
                homeroom: false,
                course: known.group_subject.get(id).cloned().unwrap_or_default(),
            })
    })
}

#[derive(Debug, Clone)]
struct Course {
    line: u64,
    title: String,
    code: String,
    position: usize,
}

fn add_subject(plan: &mut Plan, school: &str, id: &str, course: &Course) {
    let a = |c| at("courses.csv", course.line, c);
    plan.set("subject", school, id, "external_id", id, a("sourcedId"));
    plan.set("subject", school, id, "name", &course.title, a("title"));
    plan.set(
        "subject",
        school,
        id,
        "short_name",
        &course.code,
        a("courseCode"),
    );
    plan.set("subject", school, id, "name_en", &course.title, a("title"));
    plan.set(
        "subject",
        school,
        id,
        "position",
        &course.position.to_string(),
        a("sourcedId"),
    );
}
