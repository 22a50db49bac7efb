//! The one writer behind every import: checks rows against the school's
//! data (references, legend, duplicates), gives ids, and upserts in large
//! statements inside one transaction.
//!
//! Rows arrive table by table in [`super::spec::TABLES`] order, as text in the
//! tabel CSV columns, whatever the source format. Nothing is written once a
//! problem is found, but reading goes on so that one run reports up to
//! [`MAX_PROBLEMS`] of them; a run with problems rolls back, so the
//! database is exactly as before.
//!
//! Tables others refer to ([`super::spec::Kind::Mapped`]) get their ids from here
//! (`MAX(id) + 1` onwards, in input order), so the key → id maps never need
//! a query per row; importing an export into an empty database therefore
//! gives every row its old id. Large leaf tables ([`super::spec::Kind::Bulk`]) take ids
//! from the database and are upserted on their unique key.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use anyhow::Result;
use rand::RngCore;
use sqlx::{Any, Transaction};

use super::error::{MAX_PROBLEMS, Problem, TableCount};
use super::spec::{TableSpec, Ty};

mod load;
mod members;
mod row;
mod tx;

use crate::db::Backend;
use crate::gradebook::bulk::{Rows, Val};

/// Rows gathered before a statement is sent.
const BATCH: usize = 20_000;
/// Separator of the parts of a composite key.
const SEP: char = '\u{1f}';

/// Where a value came from, for messages.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// File name.
    pub file: &'a str,
    /// Line of the record.
    pub line: u64,
    /// Column name.
    pub column: &'a str,
}

/// Where the fields of one row came from.
#[derive(Debug, Clone, Copy)]
pub enum Origin<'a> {
    /// One line of a tabel CSV file: columns are named as in the spec.
    Row {
        /// File name.
        file: &'a str,
        /// Line of the record.
        line: u64,
    },
    /// One place per spec column (a row assembled from several files).
    Fields(&'a [At<'a>]),
}

impl<'a> Origin<'a> {
    fn at(&self, spec: &'static TableSpec, i: usize) -> At<'a> {
        match *self {
            Origin::Row { file, line } => At {
                file,
                line,
                column: spec.cols[i].name,
            },
            Origin::Fields(places) => places[i],
        }
    }
}

/// A row known by key: its id, whether this import has seen it, extras.
#[derive(Debug, Clone, Default)]
struct Entry {
    id: i64,
    seen: bool,
    /// URL key of a class or student.
    url_key: Option<String>,
    /// Default weight of a work kind.
    weight: f64,
}

/// What the engine knows about one school.
#[derive(Debug, Default)]
struct SchoolState {
    id: i64,
    /// Created by this import: nothing of it is in the database yet.
    new: bool,
    /// Key → row, per table, loaded on first use.
    maps: HashMap<&'static str, HashMap<String, Entry>>,
    /// Keys of bulk rows seen in this import, hashed.
    bulk_seen: HashMap<&'static str, HashSet<u128>>,
    /// Other unique keys within this import (period numbers, period marks).
    unique: HashMap<&'static str, HashSet<String>>,
    /// Mark and attendance codes, in legend order; loaded on first use.
    legend: Option<(Vec<String>, Vec<String>)>,
    /// A legend row for this school came with the input.
    legend_given: bool,
}

/// The table being imported.
#[derive(Debug)]
struct Current {
    spec: &'static TableSpec,
    rows: Rows,
    count: TableCount,
    /// Mapped and link rows that did not exist.
    new_rows: u64,
    /// Rows changed by the statements sent (inserted + updated).
    affected: u64,
    /// Row count before, for bulk tables.
    before: i64,
    /// When the table started, for the log.
    started: Instant,
    /// Schools whose keys this table refers to are loaded.
    ready: HashSet<String>,
    /// Indexes of the key columns.
    key_idx: Vec<usize>,
    /// The first batch has been sent (foreign keys were looked at).
    fk_checked: bool,
    /// Foreign keys dropped for the load: `(name, definition)`.
    dropped_fks: Vec<(String, String)>,
}

/// The import in progress: one transaction and everything known so far.
pub struct Engine {
    tx: Option<Transaction<'static, Any>>,
    backend: Backend,
    problems: Vec<Problem>,
    more: bool,
    warnings: Vec<String>,
    counts: Vec<TableCount>,
    schools: HashMap<String, SchoolState>,
    next_id: HashMap<&'static str, i64>,
    /// URL key → (table, school id, external id) of classes and students.
    url_keys: Option<HashMap<String, (&'static str, i64, String)>>,
    current: Option<Current>,
    written: HashSet<&'static str>,
    started: Instant,
    /// Rows come from another format: messages do not name tabel files.
    foreign: bool,
    /// The statement in flight, which holds the transaction until it is done.
    pending: Option<Pending>,
    /// References are all resolved here and nothing is deleted (see [`Engine::begin`]).
    trusted_refs: bool,
}

/// A batch being written in its own task; it hands the transaction back.
type Pending = tokio::task::JoinHandle<(Transaction<'static, Any>, Result<u64>)>;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("problems", &self.problems.len())
            .finish_non_exhaustive()
    }
}

/// A 128-bit hash of a key: collisions among millions of rows are out of
/// reach, and the set of seen keys stays small.
fn hash128(key: &str, school: i64) -> u128 {
    let mut a = DefaultHasher::new();
    let mut b = DefaultHasher::new();
    (0u8, school, key).hash(&mut a);
    (1u8, school, key).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

fn null_of(ty: Ty) -> Val {
    match ty {
        Ty::Int(..) | Ty::Ref(_) | Ty::Flag => Val::NullInt,
        Ty::Real(_) => Val::NullReal,
        _ => Val::NullText,
    }
}

fn key_text(v: &Val) -> String {
    match v {
        Val::Int(i) => i.to_string(),
        Val::Real(r) => r.to_string(),
        Val::Text(t) => t.clone(),
        _ => String::new(),
    }
}

/// A fresh 128-bit URL key from the operating system, lower-case base32
/// without padding like the demo's.
pub fn new_url_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase()
}

fn what(table: &str) -> &'static str {
    match table {
        "school" => "school",
        "school_year" => "school year",
        "reporting_period" => "reporting period",
        "staff" => "staff member",
        "subject" => "subject",
        "class" => "class",
        "student" => "student",
        "study_group" => "group",
        "guardian" => "guardian",
        "lesson" => "lesson",
        "work_kind" => "work kind",
        _ => "row",
    }
}

impl Engine {
    /// Records a problem; returns false once [`MAX_PROBLEMS`] are recorded.
    pub fn problem(&mut self, p: Problem) -> bool {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
            // Reading stops here, so what follows is unknown.
            self.more = self.problems.len() == MAX_PROBLEMS;
            !self.more
        } else {
            self.more = true;
            false
        }
    }

    fn problem_at(&mut self, at: At<'_>, value: Option<&str>, message: String) {
        self.problem(Problem {
            file: at.file.to_owned(),
            line: at.line,
            column: at.column.to_owned(),
            value: value.map(str::to_owned),
            message,
        });
    }

    /// True once enough problems are recorded to stop reading.
    pub fn full(&self) -> bool {
        self.problems.len() >= MAX_PROBLEMS
    }

    /// True when any problem was recorded (nothing more is written).
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Adds a warning to the summary.
    pub fn warn(&mut self, text: String) {
        self.warnings.push(text);
    }

    /// Says that rows come from another format (OneRoster): messages name
    /// the input rather than tabel CSV files.
    pub fn set_foreign(&mut self) {
        self.foreign = true;
    }

    /// True when a school with this external id exists or was imported.
    pub fn has_school(&self, external_id: &str) -> bool {
        self.schools.contains_key(external_id)
    }

    /// The school's surrogate id, if known.
    pub fn school_id(&self, external_id: &str) -> Option<i64> {
        self.schools.get(external_id).map(|s| s.id)
    }
}

fn origin_is_standard(origin: &Origin<'_>) -> bool {
    matches!(origin, Origin::Row { file, .. } if *file == "(standard legend)")
}
