//! Generates one demo school: people, classes, a timetable, a term of
//! lessons with marks and absences, period marks and notes.
//!
//! Everything is drawn from one seeded generator per school, in a fixed
//! order, so the same seed gives the same rows. [`generate`] runs the steps
//! in that order; each step takes the generator in turn, so moving a step,
//! or a draw within one, changes every school after it.

mod classes;
mod lessons;
mod people;
mod setup;
mod staff;

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::calendar::Calendar;
use crate::gradebook::Date;
use crate::gradebook::bulk::Rows;

/// Next id per table, carried from one school to the next.
///
/// Ids number on across schools, in the order rows are generated: a
/// school's rows day by day, so the demo of one school at a later date has
/// the same ids up to the earlier date. The tables that grow with the date
/// (lessons, marks, absences, notes, period marks) give each school a
/// block of its own, [`SCHOOL_BLOCK`] ids wide: one more day of a school
/// must not move the ids of the schools after it, or a district's next
/// night would see every later school's rows as new (the page keys hash
/// rows with their ids, `views::keys`), where a real journal keeps its ids.
#[derive(Debug, Default, Clone)]
pub struct Ids {
    next: BTreeMap<&'static str, i64>,
    /// The block of the school being generated: its growing tables' ids
    /// stay below this.
    until: i64,
}

/// Ids of a growing table each school may use: far more rows than a year
/// of the largest demo school makes (some 300,000 marks).
pub const SCHOOL_BLOCK: i64 = 100_000_000;

/// The tables whose number of rows depends on the demo's date.
const GROWING: [&str; 5] = ["lesson", "mark", "attendance", "note", "period_mark"];

impl Ids {
    /// Starts school number `index` (1-based): its growing tables number
    /// on from the start of its block, whatever the schools before it used.
    pub fn start_school(&mut self, index: u32) {
        let start = i64::from(index.saturating_sub(1)) * SCHOOL_BLOCK;
        self.until = start + SCHOOL_BLOCK;
        if start == 0 {
            return;
        }
        for table in GROWING {
            let n = self.next.entry(table).or_insert(0);
            *n = (*n).max(start);
        }
    }

    /// The next id of `table` (ids start at 1).
    pub fn next(&mut self, table: &'static str) -> i64 {
        let n = self.next.entry(table).or_insert(0);
        *n += 1;
        // A block overrun would reuse the next school's ids; no demo school
        // comes near it (see `SCHOOL_BLOCK`).
        assert!(
            !GROWING.contains(&table) || self.until == 0 || *n < self.until,
            "the demo school ran out of {table} ids"
        );
        *n
    }

    /// The last id handed out per table.
    pub fn last(&self) -> impl Iterator<Item = (&'static str, i64)> + '_ {
        self.next.iter().map(|(t, n)| (*t, *n))
    }
}

/// Columns of every table the demo fills, in insertion order.
#[rustfmt::skip]
pub const TABLES: &[(&str, &[&str])] = &[
    ("school", &["id", "external_id", "name", "short_name", "number", "address", "director", "deputy", "email", "phone"]),
    ("legend_entry", &["id", "school_id", "domain", "code", "category", "numeric_value", "title", "title_en", "position"]),
    ("work_kind", &["id", "school_id", "code", "title", "title_en", "weight"]),
    ("school_year", &["id", "school_id", "external_id", "title", "starts_on", "ends_on"]),
    ("day_off", &["id", "school_id", "school_year_id", "date", "kind", "title", "grade"]),
    ("reporting_period", &["id", "school_id", "school_year_id", "external_id", "kind", "number", "title", "starts_on", "ends_on"]),
    ("staff", &["id", "school_id", "external_id", "family_name", "given_name", "patronymic", "position", "email"]),
    ("staff_role", &["staff_id", "school_id", "role"]),
    ("subject", &["id", "school_id", "external_id", "name", "short_name", "name_en", "assessment", "position"]),
    ("class", &["id", "school_id", "school_year_id", "external_id", "key", "grade", "letter", "title", "class_teacher_id", "term_kind"]),
    ("student", &["id", "school_id", "external_id", "key", "family_name", "given_name", "patronymic", "sex", "birth_date", "class_id", "individual_plan", "enrolled_on", "left_on"]),
    ("class_member", &["class_id", "student_id", "school_id", "from_on", "until_on"]),
    ("study_group", &["id", "school_id", "school_year_id", "external_id", "title", "class_id", "subject_id"]),
    ("group_member", &["group_id", "student_id", "school_id"]),
    ("guardian", &["id", "school_id", "external_id", "family_name", "given_name", "patronymic", "email", "phone"]),
    ("guardian_student", &["guardian_id", "student_id", "school_id", "relation"]),
    ("teaching_assignment", &["id", "school_id", "external_id", "staff_id", "subject_id", "class_id", "group_id", "hours_per_week"]),
    ("lesson", &["id", "school_id", "external_id", "date", "slot", "subject_id", "class_id", "group_id", "teacher_id", "topic", "homework"]),
    ("mark", &["id", "school_id", "external_id", "student_id", "subject_id", "lesson_id", "date", "teacher_id", "work_kind_id", "work_title", "value", "weight", "comment"]),
    ("attendance", &["id", "school_id", "student_id", "lesson_id", "code"]),
    ("period_mark", &["id", "school_id", "external_id", "student_id", "subject_id", "period_id", "value"]),
    ("note", &["id", "school_id", "external_id", "student_id", "staff_id", "subject_id", "date", "body"]),
];

/// The generated rows of one school, one batch per table in [`TABLES`] order.
#[derive(Debug)]
pub struct SchoolRows {
    /// Batches in insertion order.
    pub tables: Vec<Rows>,
}

impl SchoolRows {
    fn new() -> SchoolRows {
        SchoolRows {
            tables: TABLES.iter().map(|(t, c)| Rows::new(t, c)).collect(),
        }
    }

    pub(super) fn t(&mut self, table: &str) -> &mut Rows {
        // TABLES is fixed; every caller names one of its tables.
        self.tables
            .iter_mut()
            .find(|r| r.table() == table)
            .expect("known table")
    }
}

/// What the steps after the school's setup need to know about it.
pub(super) struct Facts {
    /// The school's own seed: each day's draws come from a generator
    /// seeded by it and the day, so that a later `today` adds days and
    /// changes none before.
    pub seed: u64,
    pub cal: Calendar,
    pub today: Date,
    pub prefix: String,
    pub school_id: i64,
    pub year_id: i64,
    pub subject_ids: Vec<i64>,
    pub kind_ids: HashMap<&'static str, (i64, f64, &'static str)>,
    pub period_ids: Vec<i64>,
    pub deputy_id: i64,
}

/// A student as the lesson generator needs them.
pub(super) struct StudentInfo {
    pub id: i64,
    pub given: String,
    /// Mean mark this student tends to: 4.6 strong, 3.9 average, 3.2 weak.
    pub ability: f64,
    /// Whole school days missed, with the code.
    pub days_missed: HashMap<Date, &'static str>,
}

/// A class with its students, teachers and timetable.
pub(super) struct ClassInfo {
    pub id: i64,
    pub grade: i64,
    pub title: String,
    pub students: Vec<usize>,
    pub teacher: Option<i64>,
    /// Timetable: per weekday, the subject (index into SUBJECTS) per slot.
    pub timetable: [Vec<usize>; 5],
    /// Subject index → (teacher id, assignment) for whole-class subjects.
    pub teachers: HashMap<usize, i64>,
    /// Subject index → two groups (group id, teacher id, member indices).
    pub groups: HashMap<usize, Vec<(i64, i64, Vec<usize>)>>,
}

/// Normal deviate (Box–Muller), from the school's generator.
pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A 128-bit random key, lower-case base32 without padding (26 characters).
fn key(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase()
}

/// Rounds an average to a mark the way a school does: x.5 and above goes up.
pub fn round_mark(avg: f64) -> i64 {
    (avg + 0.5).floor().clamp(1.0, 5.0) as i64
}

/// Generates school number `index` (1-based) with `n_students` students, with
/// lessons up to `today` (inclusive) in the school year containing `today`.
pub fn generate(seed: u64, index: u32, n_students: u32, today: Date, ids: &mut Ids) -> SchoolRows {
    ids.start_school(index);
    let school_seed = seed ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = ChaCha8Rng::seed_from_u64(school_seed);
    let mut out = SchoolRows::new();
    let cal = Calendar::containing(today);
    let today = today.min(cal.ends_on);
    let prefix = format!("demo-{index:03}");

    // The steps draw from `rng` in this order: moving one, or a draw within
    // one, changes every row after it.
    let school = setup::school(&mut rng, &mut out, ids, index, &prefix);
    let kind_ids = setup::legend_and_work_kinds(&mut out, ids, school.id);
    let (year_id, period_ids) = setup::year(&mut out, ids, school.id, &prefix, &cal);
    let subject_ids = setup::subjects(&mut out, ids, school.id, &prefix);
    // Teachers are hired later, as the classes need them.
    let (mut staffing, deputy_id) =
        staff::Staffing::office(ids, &mut rng, school.director, school.deputy);
    let facts = Facts {
        seed: school_seed,
        cal,
        today,
        prefix,
        school_id: school.id,
        year_id,
        subject_ids,
        kind_ids,
        period_ids,
        deputy_id,
    };

    let mut classes = classes::open(ids, n_students);
    let mut students = people::families(&mut rng, &mut out, ids, &facts, &mut classes);
    let teaching = staff::teach(&mut rng, ids, &mut staffing, &mut classes.all);
    staff::choose_class_teachers(&mut classes.all);
    staff::write_staff(&mut out, &facts, &staffing, school.number);
    classes::write(&mut rng, &mut out, &facts, &classes.all);
    classes::write_groups(&mut out, &facts, &teaching.groups, &students);
    staff::write_assignments(&mut out, ids, &facts, &teaching.assignments, &classes.all);

    lessons::generate(rng, &mut out, ids, &facts, &mut classes.all, &mut students);
    out
}
