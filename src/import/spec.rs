//! The tabel CSV set: one file per gradebook table, described once here and
//! used by the importer, the exporter and the README.
//!
//! References between rows are external ids (a class's `external_id`, a
//! work kind's `code`), never surrogate ids, so a folder moves between
//! databases. Every file but `schools.csv` starts with `school`, the
//! school's external id, so one folder can hold a city.

/// How a column's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Non-empty text: external ids and codes.
    Id,
    /// Any text (may be empty when the column is NOT NULL).
    Text,
    /// An integer within bounds.
    Int(i64, i64),
    /// A number; `true`: must be above zero, else at least zero.
    Real(bool),
    /// 0/1 (also `да`/`нет`, `true`/`false`).
    Flag,
    /// `YYYY-MM-DD` or `ДД.ММ.ГГГГ`.
    Date,
    /// One of these words.
    Enum(&'static [&'static str]),
    /// External id (or code) of a row of this table in the same school.
    Ref(&'static str),
    /// A code of the school's legend: `true` for marks, `false` for attendance.
    Code(bool),
    /// An opaque URL key; generated when empty, kept when the row exists.
    UrlKey,
}

/// One column of a CSV file and the database column it fills.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    /// Header name in the CSV file.
    pub name: &'static str,
    /// Column in the database table.
    pub db: &'static str,
    /// How the text is read.
    pub ty: Ty,
    /// May be empty (NULL, or a default).
    pub optional: bool,
    /// One line of documentation for the README.
    pub doc: &'static str,
}

/// How rows of a table are identified and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Rows others refer to: ids are given by the importer, keys kept in memory.
    Mapped,
    /// Pairs without an id (members, links, roles).
    Link,
    /// Large leaf tables: ids from the database, upserted on their unique key.
    Bulk,
}

/// One file of the set and its table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// File name in the folder.
    pub file: &'static str,
    /// Database table.
    pub table: &'static str,
    /// How rows are identified and written.
    pub kind: Kind,
    /// Columns (CSV names) that identify a row within its school.
    pub key: &'static [&'static str],
    /// Columns in file order; the first is `school` except in `schools.csv`.
    pub cols: &'static [Col],
    /// Database columns written, in [`TableSpec::cols`] order (`school_id` for `school`).
    pub db_cols: &'static [&'static str],
    /// What the file holds, for the README.
    pub doc: &'static str,
}

impl TableSpec {
    /// Index of a column by CSV name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|c| c.name == name)
    }

    /// True for `schools.csv`, whose rows are the schools themselves.
    pub fn is_school(&self) -> bool {
        self.table == "school"
    }
}

const fn c(name: &'static str, db: &'static str, ty: Ty, doc: &'static str) -> Col {
    Col {
        name,
        db,
        ty,
        optional: false,
        doc,
    }
}

const fn o(name: &'static str, db: &'static str, ty: Ty, doc: &'static str) -> Col {
    Col {
        name,
        db,
        ty,
        optional: true,
        doc,
    }
}

const SCHOOL: Col = c(
    "school",
    "school_id",
    Ty::Ref("school"),
    "the school's external_id",
);
const EXT: Col = c(
    "external_id",
    "external_id",
    Ty::Id,
    "stable id from the source system, unique in the school",
);

/// Legend categories.
pub const CATEGORIES: &[&str] = &[
    "grade",
    "pass",
    "fail",
    "not_assessed",
    "exempt",
    "absent",
    "ill",
    "excused",
    "late",
];
/// Reporting-period kinds.
pub const PERIOD_KINDS: &[&str] = &["quarter", "half", "trimester", "year", "exam", "final"];
/// Term kinds a class is marked by.
pub const TERM_KINDS: &[&str] = &["quarter", "half", "trimester"];
/// Staff roles.
pub const ROLES: &[&str] = &["teacher", "director", "deputy", "admin"];
/// Guardian relations.
pub const RELATIONS: &[&str] = &["mother", "father", "guardian", "grandparent", "other"];

/// Every file of the set, in import order (a file refers only to earlier ones).
#[rustfmt::skip]
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        file: "schools.csv", table: "school", kind: Kind::Mapped, key: &["external_id"],
        doc: "the schools",
        cols: &[
            c("external_id", "external_id", Ty::Id, "stable id of the school, unique in the database"),
            c("name", "name", Ty::Text, "full official name"),
            c("short_name", "short_name", Ty::Text, "name for headers («Школа № 17»)"),
            o("number", "number", Ty::Text, "the school's number"),
            c("address", "address", Ty::Text, "postal address"),
            c("director", "director", Ty::Text, "full name of the head"),
            o("deputy", "deputy", Ty::Text, "full name of the deputy head for academic work"),
            o("email", "email", Ty::Text, "office e-mail"),
            o("phone", "phone", Ty::Text, "office telephone"),
            o("mark_5_from", "mark_5_from", Ty::Real(true), "the lowest weighted average that gives a 5 for a term (default 4.5)"),
            o("mark_4_from", "mark_4_from", Ty::Real(true), "the same for a 4 (default 3.5)"),
            o("mark_3_from", "mark_3_from", Ty::Real(true), "the same for a 3 (default 2.5)"),
            o("mark_2_from", "mark_2_from", Ty::Real(true), "the same for a 2, below it a 1 (default 1.5)"),
            o("term_min_marks", "term_min_marks", Ty::Int(1, 20), "marks a term mark needs; fewer give «н/а» (default 3)"),
        ],
        db_cols: &["external_id", "name", "short_name", "number", "address", "director", "deputy", "email", "phone", "mark_5_from", "mark_4_from", "mark_3_from", "mark_2_from", "term_min_marks"],
    },
    TableSpec {
        file: "legend.csv", table: "legend_entry", kind: Kind::Mapped, key: &["domain", "code"],
        doc: "the mark and attendance codes; a new school without this file gets the standard legend",
        cols: &[
            SCHOOL,
            c("domain", "domain", Ty::Enum(&["mark", "attendance"]), "`mark` or `attendance`"),
            c("code", "code", Ty::Id, "the code as written («5», «зач», «н»)"),
            c("category", "category", Ty::Enum(CATEGORIES), "grade, pass, fail, not_assessed, exempt; absent, ill, excused, late"),
            o("numeric_value", "numeric_value", Ty::Real(false), "value of a grade (5 … 1); empty for other categories"),
            c("title", "title", Ty::Text, "Russian explanation"),
            c("title_en", "title_en", Ty::Text, "English explanation"),
            c("position", "position", Ty::Int(0, 1_000_000), "order within the domain"),
        ],
        db_cols: &["school_id", "domain", "code", "category", "numeric_value", "title", "title_en", "position"],
    },
    TableSpec {
        file: "work_kinds.csv", table: "work_kind", kind: Kind::Mapped, key: &["code"],
        doc: "kinds of graded work and their default weights",
        cols: &[
            SCHOOL,
            c("code", "code", Ty::Id, "stable code (`test`), used by marks.csv"),
            c("title", "title", Ty::Text, "Russian name"),
            c("title_en", "title_en", Ty::Text, "English name"),
            c("weight", "weight", Ty::Real(true), "default weight, above zero"),
        ],
        db_cols: &["school_id", "code", "title", "title_en", "weight"],
    },
    TableSpec {
        file: "school_years.csv", table: "school_year", kind: Kind::Mapped, key: &["external_id"],
        doc: "school years",
        cols: &[
            SCHOOL, EXT,
            c("title", "title", Ty::Text, "«2026/2027»"),
            c("starts_on", "starts_on", Ty::Date, "first day"),
            c("ends_on", "ends_on", Ty::Date, "last day of record-keeping"),
        ],
        db_cols: &["school_id", "external_id", "title", "starts_on", "ends_on"],
    },
    TableSpec {
        file: "days_off.csv", table: "day_off", kind: Kind::Mapped, key: &["school_year", "date", "grade"],
        doc: "holidays and vacations",
        cols: &[
            SCHOOL,
            c("school_year", "school_year_id", Ty::Ref("school_year"), "the year's external_id"),
            c("date", "date", Ty::Date, "the day"),
            c("kind", "kind", Ty::Enum(&["holiday", "vacation"]), "`holiday` or `vacation`"),
            c("title", "title", Ty::Text, "«Осенние каникулы»"),
            o("grade", "grade", Ty::Int(1, 11), "only this grade is off; empty: everyone"),
        ],
        db_cols: &["school_id", "school_year_id", "date", "kind", "title", "grade"],
    },
    TableSpec {
        file: "reporting_periods.csv", table: "reporting_period", kind: Kind::Mapped, key: &["external_id"],
        doc: "terms, the year, the exam and the final mark",
        cols: &[
            SCHOOL, EXT,
            c("school_year", "school_year_id", Ty::Ref("school_year"), "the year's external_id"),
            c("kind", "kind", Ty::Enum(PERIOD_KINDS), "quarter, half, trimester, year, exam or final"),
            c("number", "number", Ty::Int(1, 12), "ordinal within its kind (1 for year, exam, final)"),
            c("title", "title", Ty::Text, "«1 четверть»"),
            c("starts_on", "starts_on", Ty::Date, "first day"),
            c("ends_on", "ends_on", Ty::Date, "last day"),
        ],
        db_cols: &["school_id", "external_id", "school_year_id", "kind", "number", "title", "starts_on", "ends_on"],
    },
    TableSpec {
        file: "staff.csv", table: "staff", kind: Kind::Mapped, key: &["external_id"],
        doc: "teachers and administration",
        cols: &[
            SCHOOL, EXT,
            c("family_name", "family_name", Ty::Text, "фамилия"),
            c("given_name", "given_name", Ty::Text, "имя"),
            o("patronymic", "patronymic", Ty::Text, "отчество"),
            o("position", "position", Ty::Text, "job title («учитель математики»)"),
            o("email", "email", Ty::Text, "work e-mail"),
        ],
        db_cols: &["school_id", "external_id", "family_name", "given_name", "patronymic", "position", "email"],
    },
    TableSpec {
        file: "staff_roles.csv", table: "staff_role", kind: Kind::Link, key: &["staff", "role"],
        doc: "roles of staff members (one row per role)",
        cols: &[
            SCHOOL,
            c("staff", "staff_id", Ty::Ref("staff"), "the staff member's external_id"),
            c("role", "role", Ty::Enum(ROLES), "teacher, director, deputy or admin"),
        ],
        db_cols: &["school_id", "staff_id", "role"],
    },
    TableSpec {
        file: "subjects.csv", table: "subject", kind: Kind::Mapped, key: &["external_id"],
        doc: "subjects in gradebook order",
        cols: &[
            SCHOOL, EXT,
            c("name", "name", Ty::Text, "full Russian name"),
            c("short_name", "short_name", Ty::Text, "abbreviation for narrow columns"),
            c("name_en", "name_en", Ty::Text, "English name"),
            c("assessment", "assessment", Ty::Enum(&["graded", "pass_fail"]), "`graded` (5…1) or `pass_fail`"),
            c("position", "position", Ty::Int(0, 1_000_000), "order in statements and diaries"),
        ],
        db_cols: &["school_id", "external_id", "name", "short_name", "name_en", "assessment", "position"],
    },
    TableSpec {
        file: "classes.csv", table: "class", kind: Kind::Mapped, key: &["external_id"],
        doc: "classes of a year (5А)",
        cols: &[
            SCHOOL, EXT,
            c("school_year", "school_year_id", Ty::Ref("school_year"), "the year's external_id"),
            o("key", "key", Ty::UrlKey, "opaque key in URLs: 16–64 lower-case Latin letters and digits; empty: kept, or a new random one"),
            c("grade", "grade", Ty::Int(1, 11), "параллель, 1–11"),
            c("letter", "letter", Ty::Text, "литера («А»)"),
            c("title", "title", Ty::Text, "«5А»"),
            o("class_teacher", "class_teacher_id", Ty::Ref("staff"), "the class teacher's external_id"),
            c("term_kind", "term_kind", Ty::Enum(TERM_KINDS), "quarter, half or trimester"),
        ],
        db_cols: &["school_id", "external_id", "school_year_id", "key", "grade", "letter", "title", "class_teacher_id", "term_kind"],
    },
    TableSpec {
        file: "students.csv", table: "student", kind: Kind::Mapped, key: &["external_id"],
        doc: "students",
        cols: &[
            SCHOOL, EXT,
            o("key", "key", Ty::UrlKey, "opaque key in URLs: 16–64 lower-case Latin letters and digits; empty: kept, or a new random one"),
            c("family_name", "family_name", Ty::Text, "фамилия"),
            c("given_name", "given_name", Ty::Text, "имя"),
            o("patronymic", "patronymic", Ty::Text, "отчество"),
            o("sex", "sex", Ty::Enum(&["m", "f"]), "`m` or `f`"),
            o("birth_date", "birth_date", Ty::Date, "date of birth"),
            o("class", "class_id", Ty::Ref("class"), "current class's external_id; empty once the student left (class_members.csv says since when)"),
            o("individual_plan", "individual_plan", Ty::Flag, "1: learns on an individual plan (default 0)"),
            c("enrolled_on", "enrolled_on", Ty::Date, "date of enrolment"),
            o("left_on", "left_on", Ty::Date, "date the student left"),
        ],
        db_cols: &["school_id", "external_id", "key", "family_name", "given_name", "patronymic", "sex", "birth_date", "class_id", "individual_plan", "enrolled_on", "left_on"],
    },
    TableSpec {
        file: "class_members.csv", table: "class_member", kind: Kind::Link, key: &["class", "student", "from"],
        doc: "who was in which class when; a student who moved during a year has a row for each class (without this file, a student's current class from students.csv counts from their enrolment or the year's first day)",
        cols: &[
            SCHOOL,
            c("class", "class_id", Ty::Ref("class"), "the class's external_id"),
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            c("from", "from_on", Ty::Date, "the first day in the class"),
            o("until", "until_on", Ty::Date, "the last day in the class; empty: to the end of the class's year"),
        ],
        db_cols: &["school_id", "class_id", "student_id", "from_on", "until_on"],
    },
    TableSpec {
        file: "groups.csv", table: "study_group", kind: Kind::Mapped, key: &["external_id"],
        doc: "groups: a class split for a subject, or a group across classes",
        cols: &[
            SCHOOL, EXT,
            c("school_year", "school_year_id", Ty::Ref("school_year"), "the year's external_id"),
            c("title", "title", Ty::Text, "«5А, англ., гр. 1»"),
            o("class", "class_id", Ty::Ref("class"), "the class it splits; empty for a cross-class group"),
            o("subject", "subject_id", Ty::Ref("subject"), "the subject it exists for"),
        ],
        db_cols: &["school_id", "external_id", "school_year_id", "title", "class_id", "subject_id"],
    },
    TableSpec {
        file: "group_members.csv", table: "group_member", kind: Kind::Link, key: &["group", "student"],
        doc: "members of groups",
        cols: &[
            SCHOOL,
            c("group", "group_id", Ty::Ref("study_group"), "the group's external_id"),
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            o("from", "from_on", Ty::Date, "the first day in the group; empty: the group's year's first"),
            o("until", "until_on", Ty::Date, "the last day in the group; empty: the group's year's last"),
        ],
        db_cols: &["school_id", "group_id", "student_id", "from_on", "until_on"],
    },
    TableSpec {
        file: "guardians.csv", table: "guardian", kind: Kind::Mapped, key: &["external_id"],
        doc: "parents and other legal representatives",
        cols: &[
            SCHOOL, EXT,
            c("family_name", "family_name", Ty::Text, "фамилия"),
            c("given_name", "given_name", Ty::Text, "имя"),
            o("patronymic", "patronymic", Ty::Text, "отчество"),
            o("email", "email", Ty::Text, "contact e-mail"),
            o("phone", "phone", Ty::Text, "contact telephone"),
        ],
        db_cols: &["school_id", "external_id", "family_name", "given_name", "patronymic", "email", "phone"],
    },
    TableSpec {
        file: "guardian_students.csv", table: "guardian_student", kind: Kind::Link, key: &["guardian", "student"],
        doc: "which guardian represents which student",
        cols: &[
            SCHOOL,
            c("guardian", "guardian_id", Ty::Ref("guardian"), "the guardian's external_id"),
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            c("relation", "relation", Ty::Enum(RELATIONS), "mother, father, guardian, grandparent or other"),
        ],
        db_cols: &["school_id", "guardian_id", "student_id", "relation"],
    },
    TableSpec {
        file: "teaching_assignments.csv", table: "teaching_assignment", kind: Kind::Mapped, key: &["external_id"],
        doc: "who teaches which subject to which class or group",
        cols: &[
            SCHOOL, EXT,
            c("staff", "staff_id", Ty::Ref("staff"), "the teacher's external_id"),
            c("subject", "subject_id", Ty::Ref("subject"), "the subject's external_id"),
            o("class", "class_id", Ty::Ref("class"), "the class taught whole, or"),
            o("group", "group_id", Ty::Ref("study_group"), "the group taught (exactly one of class and group)"),
            c("hours_per_week", "hours_per_week", Ty::Real(false), "planned load"),
        ],
        db_cols: &["school_id", "external_id", "staff_id", "subject_id", "class_id", "group_id", "hours_per_week"],
    },
    TableSpec {
        file: "lessons.csv", table: "lesson", kind: Kind::Mapped, key: &["external_id"],
        doc: "lessons given, with topic and homework",
        cols: &[
            SCHOOL, EXT,
            c("date", "date", Ty::Date, "day of the lesson"),
            c("slot", "slot", Ty::Int(0, 12), "lesson number in the day (1 = first)"),
            c("subject", "subject_id", Ty::Ref("subject"), "the subject's external_id"),
            o("class", "class_id", Ty::Ref("class"), "the whole class, or"),
            o("group", "group_id", Ty::Ref("study_group"), "the group (exactly one of class and group)"),
            o("teacher", "teacher_id", Ty::Ref("staff"), "who gave it"),
            c("topic", "topic", Ty::Text, "topic as entered"),
            o("homework", "homework", Ty::Text, "homework, Markdown"),
        ],
        db_cols: &["school_id", "external_id", "date", "slot", "subject_id", "class_id", "group_id", "teacher_id", "topic", "homework"],
    },
    TableSpec {
        file: "marks.csv", table: "mark", kind: Kind::Bulk, key: &["external_id"],
        doc: "current marks",
        cols: &[
            SCHOOL, EXT,
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            c("subject", "subject_id", Ty::Ref("subject"), "the subject's external_id"),
            o("lesson", "lesson_id", Ty::Ref("lesson"), "the lesson's external_id; empty for work outside a lesson"),
            c("date", "date", Ty::Date, "date of the work"),
            o("teacher", "teacher_id", Ty::Ref("staff"), "who gave it"),
            o("work_kind", "work_kind_id", Ty::Ref("work_kind"), "code of the kind of work"),
            o("work_title", "work_title", Ty::Text, "name of the work"),
            c("value", "value", Ty::Code(true), "a mark code of the school's legend"),
            o("weight", "weight", Ty::Real(true), "weight; empty: the work kind's weight, else 1"),
            o("comment", "comment", Ty::Text, "teacher's comment"),
        ],
        db_cols: &["school_id", "external_id", "student_id", "subject_id", "lesson_id", "date", "teacher_id", "work_kind_id", "work_title", "value", "weight", "comment"],
    },
    TableSpec {
        file: "attendance.csv", table: "attendance", kind: Kind::Bulk, key: &["student", "lesson"],
        doc: "absences and late arrivals, one row per student and lesson",
        cols: &[
            SCHOOL,
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            c("lesson", "lesson_id", Ty::Ref("lesson"), "the lesson's external_id"),
            c("code", "code", Ty::Code(false), "an attendance code of the school's legend"),
        ],
        db_cols: &["school_id", "student_id", "lesson_id", "code"],
    },
    TableSpec {
        file: "period_marks.csv", table: "period_mark", kind: Kind::Bulk, key: &["external_id"],
        doc: "term, year, exam and final marks",
        cols: &[
            SCHOOL, EXT,
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            c("subject", "subject_id", Ty::Ref("subject"), "the subject's external_id"),
            c("period", "period_id", Ty::Ref("reporting_period"), "the period's external_id"),
            c("value", "value", Ty::Code(true), "a mark code of the school's legend"),
        ],
        db_cols: &["school_id", "external_id", "student_id", "subject_id", "period_id", "value"],
    },
    TableSpec {
        file: "notes.csv", table: "note", kind: Kind::Bulk, key: &["external_id"],
        doc: "notes from teachers to parents",
        cols: &[
            SCHOOL, EXT,
            c("student", "student_id", Ty::Ref("student"), "the student's external_id"),
            o("staff", "staff_id", Ty::Ref("staff"), "who wrote it"),
            o("subject", "subject_id", Ty::Ref("subject"), "subject it concerns"),
            c("date", "date", Ty::Date, "day it was written"),
            c("body", "body", Ty::Text, "the note, Markdown"),
        ],
        db_cols: &["school_id", "external_id", "student_id", "staff_id", "subject_id", "date", "body"],
    },
];

/// The spec of a table by database name.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.table == name)
}

/// How a referenced table is looked up: by `external_id`, or `code` for work kinds.
pub fn ref_key_column(table: &str) -> &'static str {
    if table == "work_kind" {
        "code"
    } else {
        "external_id"
    }
}

/// The column reference of the set as Markdown, for docs/csv.md (a test
/// checks that it carries exactly this text).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for t in TABLES {
        out.push_str(&format!("## `{}` — {}\n\n", t.file, t.doc));
        out.push_str("| column | required | meaning |\n| --- | --- | --- |\n");
        for c in t.cols {
            let kind = match c.ty {
                Ty::Date => " (date)",
                Ty::Int(..) => " (whole number)",
                Ty::Real(_) => " (number)",
                Ty::Flag => " (0/1)",
                _ => "",
            };
            out.push_str(&format!(
                "| `{}` | {} | {}{kind} |\n",
                c.name,
                if c.optional { "" } else { "yes" },
                c.doc
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_reference_documents_every_column() {
        let doc = include_str!("../../docs/csv.md");
        assert!(
            doc.contains(&reference_markdown()),
            "docs/csv.md must carry spec::reference_markdown() verbatim:\n{}",
            reference_markdown()
        );
    }

    #[test]
    fn specs_are_consistent() {
        for (i, t) in TABLES.iter().enumerate() {
            assert_eq!(t.cols.len(), t.db_cols.len(), "{}", t.file);
            for (col, db) in t.cols.iter().zip(t.db_cols) {
                assert_eq!(col.db, *db, "{}", t.file);
            }
            for k in t.key {
                assert!(t.col(k).is_some(), "{}: key {k}", t.file);
            }
            if !t.is_school() {
                assert_eq!(t.cols[0].name, "school", "{}", t.file);
            }
            // A file refers only to tables imported before it.
            for col in t.cols {
                if let Ty::Ref(target) = col.ty {
                    let j = TABLES.iter().position(|x| x.table == target).unwrap();
                    assert!(j < i, "{} refers to later {target}", t.file);
                    assert_eq!(TABLES[j].kind, Kind::Mapped, "{target} is not mapped");
                }
            }
        }
    }
}
