//! From Дневник.ру's answers to rows of the tabel tables (the mapping the
//! README documents). Each cell remembers the request, the item of its
//! answer and the field it came from, so that every problem, the engine's
//! too, reads `REQUEST:ITEM:FIELD`.

use std::collections::{HashMap, HashSet};

use super::fetch::Fetched;
use super::known::{Known, SEP};
use crate::gradebook::{Category, Date};
use crate::import::error::Problem;
use crate::import::spec::{self, TableSpec};

mod journal;
mod roster;

/// Where a value came from: a request, an item of its answer (1-based), a field.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// Index into [`Plan::requests`].
    pub req: usize,
    /// Item of the answer (1-based; 1 for an answer that is one object).
    pub item: u64,
    /// JSON field.
    pub field: &'static str,
}

/// One tabel row.
#[derive(Debug, Clone)]
pub struct Row {
    /// One text per spec column; `None`: Дневник.ру does not say (kept if
    /// the row exists, else the default).
    pub cells: Vec<Option<String>>,
    /// Where each cell came from.
    pub places: Vec<Place>,
}

/// Rows of one table, in the order first met, by key.
#[derive(Debug, Default)]
pub struct TableRows {
    /// The rows.
    pub rows: Vec<Row>,
    index: HashMap<String, usize>,
}

/// A row to remove: its table and key texts.
#[derive(Debug, Clone)]
pub struct Delete {
    /// Table.
    pub table: &'static str,
    /// Key column texts.
    pub key: Vec<String>,
}

/// Everything one sync asks of the engine.
#[derive(Debug, Default)]
pub struct Plan {
    /// Request paths, by [`Place::req`].
    pub requests: Vec<String>,
    req_index: HashMap<String, usize>,
    /// Rows per table.
    pub tables: HashMap<&'static str, TableRows>,
    /// Rows removed in Дневник.ру, children first.
    pub deletes: Vec<Delete>,
    /// Problems of the mapping itself.
    pub problems: Vec<Problem>,
    /// Warnings for the summary.
    pub warnings: Vec<String>,
    /// The day a new student counts as enrolled from.
    pub first_day: String,
}

impl Plan {
    /// The index of a request path, registering it.
    pub fn req(&mut self, path: &str) -> usize {
        if let Some(&i) = self.req_index.get(path) {
            return i;
        }
        self.requests.push(path.to_owned());
        self.req_index
            .insert(path.to_owned(), self.requests.len() - 1);
        self.requests.len() - 1
    }

    /// True when `table` has a row keyed `key`.
    pub fn has(&self, table: &str, key: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|t| t.index.contains_key(key))
    }

    /// The row of `table` keyed `key` (the key column texts joined by
    /// [`SEP`]), created at `home` with the school's column if new; and
    /// whether it was new.
    fn row(
        &mut self,
        school: &str,
        table: &'static str,
        key: &str,
        home: Place,
    ) -> (&mut Row, bool) {
        let spec = spec::table(table).expect("a table of the CSV set");
        let rows = self.tables.entry(table).or_default();
        let (i, new) = match rows.index.get(key) {
            Some(&i) => (i, false),
            None => {
                let mut cells = vec![None; spec.cols.len()];
                if !spec.is_school() {
                    cells[0] = Some(school.to_owned());
                }
                rows.rows.push(Row {
                    cells,
                    places: vec![home; spec.cols.len()],
                });
                rows.index.insert(key.to_owned(), rows.rows.len() - 1);
                (rows.rows.len() - 1, true)
            }
        };
        (&mut rows.rows[i], new)
    }

    fn problem(&mut self, at: Place, value: &str, message: String) {
        self.problems.push(Problem {
            file: self.requests.get(at.req).cloned().unwrap_or_default(),
            line: at.item,
            column: at.field.to_owned(),
            value: Some(value.to_owned()),
            message,
        });
    }
}

/// Sets cells of one row: `(column, value, place)`; `None` leaves a cell open.
struct Cells<'a> {
    spec: &'static TableSpec,
    row: &'a mut Row,
}

impl Cells<'_> {
    fn set(&mut self, col: &str, value: impl Into<String>, at: Place) -> &mut Self {
        let i = self.spec.col(col).expect("a column of the table");
        self.row.cells[i] = Some(value.into());
        self.row.places[i] = at;
        self
    }

    fn maybe(&mut self, col: &str, value: Option<String>, at: Place) -> &mut Self {
        if let Some(v) = value {
            self.set(col, v, at);
        }
        self
    }
}

/// The state of one mapping.
struct Mapper<'a> {
    f: &'a Fetched,
    known: &'a Known,
    plan: Plan,
    school: String,
    /// The school year's external id (its first calendar year).
    year: String,
    /// Дневник.ру period id → reporting period external id.
    periods: HashMap<String, String>,
    /// The year's own period (`year` kind).
    year_period: String,
    /// Term kind of each class.
    term_kind: HashMap<String, &'static str>,
    /// Classes and subgroups of the sync.
    classes: HashSet<String>,
    subgroups: HashSet<String>,
    /// Staff of the sync (from the answers).
    staff: HashSet<String>,
    /// Subjects of the sync, and each group's subjects.
    subjects: HashSet<String>,
    group_subjects: HashMap<String, Vec<String>>,
    /// Students of the sync.
    students: HashSet<String>,
    /// Staff who teach a lesson of the answers or lead a class.
    teaching: HashSet<String>,
    /// Work kinds of the answers.
    work_kinds: HashSet<String>,
    /// The day the sync counts as today.
    today: Date,
}

impl Mapper<'_> {
    fn set(&mut self, table: &'static str, key: &str, home: Place) -> Cells<'_> {
        let spec = spec::table(table).expect("a table of the CSV set");
        let school = self.school.clone();
        let (row, _) = self.plan.row(&school, table, key, home);
        Cells { spec, row }
    }

    fn place(&mut self, path: &str, item: usize, field: &'static str) -> Place {
        Place {
            req: self.plan.req(path),
            item: item as u64 + 1,
            field,
        }
    }

    fn is_student(&self, id: &str) -> bool {
        self.students.contains(id) || self.known.has("student", id)
    }

    fn is_staff(&self, id: &str) -> bool {
        self.staff.contains(id) || self.known.has("staff", id)
    }

    fn is_subject(&self, id: &str) -> bool {
        self.subjects.contains(id) || self.known.has("subject", id)
    }

    /// The legend code of a mark as Дневник.ру shows it: the code itself,
    /// a whole number written with a fraction, or a word for pass, fail,
    /// not assessed or exempt.
    fn mark_code(&self, shown: &str) -> Option<String> {
        let t = shown.trim();
        let codes = &self.known.marks;
        if let Some((c, ..)) = codes.iter().find(|(c, ..)| c == t) {
            return Some(c.clone());
        }
        let lower = t.to_lowercase();
        if let Some((c, ..)) = codes.iter().find(|(c, ..)| c.to_lowercase() == lower) {
            return Some(c.clone());
        }
        if let Ok(v) = lower.replace(',', ".").parse::<f64>()
            && v.fract() == 0.0
        {
            let whole = format!("{}", v as i64);
            if let Some((c, ..)) = codes.iter().find(|(c, ..)| *c == whole) {
                return Some(c.clone());
            }
        }
        let word = lower.trim_end_matches('.').replace('ё', "е");
        let category = match word.as_str() {
            "зачет" | "зачтено" | "зач" | "pass" | "passed" => Some(Category::Pass),
            "незачет" | "не зачтено" | "незач" | "не зачет" | "fail" | "failed" => {
                Some(Category::Fail)
            }
            "н/а" | "на" | "не аттестован" | "неатт" | "notassessed" => {
                Some(Category::NotAssessed)
            }
            "осв" | "освобожден" | "освобождена" | "exempt" => {
                Some(Category::Exempt)
            }
            _ => None,
        };
        if let Some(cat) = category
            && let Some((c, ..)) = codes.iter().find(|(_, k, _)| *k == cat)
        {
            return Some(c.clone());
        }
        codes
            .iter()
            .find(|(_, _, title)| title.to_lowercase() == lower)
            .map(|(c, ..)| c.clone())
    }

    /// The legend code of an attendance status: `Absent`, `Ill`, `Late`,
    /// `Pass` (excused); `Ok(None)` for `Attend`.
    fn attendance_code(&self, status: &str) -> Result<Option<String>, String> {
        let category = match status.trim().to_ascii_lowercase().as_str() {
            "attend" | "attended" | "present" | "" => return Ok(None),
            "absent" => Category::Absent,
            "ill" | "sick" => Category::Ill,
            "late" => Category::Late,
            "pass" | "excused" => Category::Excused,
            _ => {
                // A school may send its own codes («н», «б»).
                return self
                    .known
                    .attendance
                    .iter()
                    .find(|(c, _)| c.to_lowercase() == status.trim().to_lowercase())
                    .map(|(c, _)| Some(c.clone()))
                    .ok_or_else(|| {
                        "is not an attendance status; expected Attend, Absent, Ill, Late or Pass"
                            .to_owned()
                    });
            }
        };
        self.known
            .attendance
            .iter()
            .find(|(_, k)| *k == category)
            .map(|(c, _)| Some(c.clone()))
            .ok_or_else(|| {
                format!(
                    "has no code of category {} in this school's legend",
                    category.as_str()
                )
            })
    }
}

/// A key of several parts.
fn key(parts: &[&str]) -> String {
    parts.join(SEP)
}

/// Maps everything fetched onto rows of the tabel tables. `first_sync`:
/// nothing was synced before, so new students count from the year's first
/// day (else from the sync's day).
pub fn plan(f: &Fetched, known: &Known, first_sync: bool) -> Plan {
    let mut m = Mapper {
        f,
        known,
        plan: Plan::default(),
        school: f.school_id.clone(),
        year: f.year.to_string(),
        periods: HashMap::new(),
        year_period: String::new(),
        term_kind: HashMap::new(),
        classes: HashSet::new(),
        subgroups: HashSet::new(),
        staff: HashSet::new(),
        subjects: HashSet::new(),
        group_subjects: HashMap::new(),
        students: HashSet::new(),
        teaching: HashSet::new(),
        work_kinds: HashSet::new(),
        today: f.window.to,
    };
    if f.other_groups > 0 {
        m.plan.warnings.push(format!(
            "{} group(s) of other school years left alone",
            f.other_groups
        ));
    }
    m.school_and_kinds();
    let year_start = m.year_and_periods();
    m.plan.first_day = if first_sync {
        year_start.to_string()
    } else {
        f.window.to.to_string()
    };
    m.teaching_staff();
    m.staff();
    m.subjects();
    m.classes_and_groups();
    m.students();
    m.guardians();
    m.journal();
    m.plan
}
