//! Rust types for the gradebook tables (see `migrations/`).
//!
//! Each struct mirrors one table, with the surrogate ids kept so a snapshot
//! can be joined in memory. Codes (marks, attendance) stay text: their
//! meaning comes from the school's [`LegendEntry`] rows.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sqlx::any::{Any, AnyTypeInfo};
use sqlx::error::BoxDynError;
use sqlx::{Decode, FromRow, Type};

/// A calendar day, stored as ISO text `YYYY-MM-DD` on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Date(pub NaiveDate);

impl Date {
    /// Builds a date from its parts; `None` if it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<Date> {
        if text.len() != 10 {
            return None;
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(Date)
    }

    /// The ISO week `YYYY-Www` this day belongs to.
    pub fn iso_week(self) -> String {
        let w = self.0.iso_week();
        format!("{:04}-W{:02}", w.year(), w.week())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Type<Any> for Date {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Date {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <String as Decode<Any>>::decode(value)?;
        Date::parse_iso(&text).ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD").into())
    }
}

/// A 0/1 flag column read as a boolean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl TryFrom<i64> for Flag {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, String> {
        match value {
            0 => Ok(Flag(false)),
            1 => Ok(Flag(true)),
            other => Err(format!("{other} is not a flag (0 or 1)")),
        }
    }
}

/// Implements `TryFrom<String>` through a `parse` function, for sqlx rows.
macro_rules! parse_from_text {
    ($ty:ty, $what:literal) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(text: String) -> Result<Self, String> {
                <$ty>::parse(&text).ok_or_else(|| format!("{text:?} is not a {}", $what))
            }
        }
    };
}
parse_from_text!(Category, "legend category");
parse_from_text!(LegendDomain, "legend domain");
parse_from_text!(PeriodKind, "period kind");

/// A school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct School {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub short_name: String,
    pub number: Option<String>,
    pub address: String,
    pub director: String,
    pub deputy: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The lowest weighted average that gives a 5 as a term mark; `None`:
    /// the usual 4.50 (see [`School::rounding`]).
    pub mark_5_from: Option<f64>,
    /// The same for a 4 (usually 3.50).
    pub mark_4_from: Option<f64>,
    /// The same for a 3 (usually 2.50).
    pub mark_3_from: Option<f64>,
    /// The same for a 2 (usually 1.50); below it, a 1.
    pub mark_2_from: Option<f64>,
    /// Marks a term mark needs (usually 3).
    pub term_min_marks: Option<i64>,
}

/// What a legend code means for statistics and averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A numeric mark (5 … 1).
    Grade,
    /// Passed («зач»).
    Pass,
    /// Failed («незач»).
    Fail,
    /// Not assessed («н/а»).
    NotAssessed,
    /// Exempt («осв»).
    Exempt,
    /// Absent without a stated reason («н»).
    Absent,
    /// Absent through illness («б»).
    Ill,
    /// Absent for a valid reason («п»).
    Excused,
    /// Late («о»).
    Late,
}

impl Category {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Grade => "grade",
            Category::Pass => "pass",
            Category::Fail => "fail",
            Category::NotAssessed => "not_assessed",
            Category::Exempt => "exempt",
            Category::Absent => "absent",
            Category::Ill => "ill",
            Category::Excused => "excused",
            Category::Late => "late",
        }
    }

    /// Parses the name stored in the database.
    pub fn parse(text: &str) -> Option<Category> {
        Some(match text {
            "grade" => Category::Grade,
            "pass" => Category::Pass,
            "fail" => Category::Fail,
            "not_assessed" => Category::NotAssessed,
            "exempt" => Category::Exempt,
            "absent" => Category::Absent,
            "ill" => Category::Ill,
            "excused" => Category::Excused,
            "late" => Category::Late,
            _ => return None,
        })
    }
}

/// Whether a legend entry is for marks or for attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegendDomain {
    /// Mark codes.
    Mark,
    /// Attendance codes.
    Attendance,
}

impl LegendDomain {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            LegendDomain::Mark => "mark",
            LegendDomain::Attendance => "attendance",
        }
    }

    /// Parses the name stored in the database.
    pub fn parse(text: &str) -> Option<LegendDomain> {
        match text {
            "mark" => Some(LegendDomain::Mark),
            "attendance" => Some(LegendDomain::Attendance),
            _ => None,
        }
    }
}

/// One code of the school's legend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct LegendEntry {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub domain: LegendDomain,
    pub code: String,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub numeric_value: Option<f64>,
    pub title: String,
    pub title_en: String,
    pub position: i64,
}

/// A kind of graded work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct WorkKind {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub title_en: String,
    pub weight: f64,
}

/// A school year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct SchoolYear {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

impl SchoolYear {
    /// The year as a folder or file name: `2025-2026`.
    pub fn folder(&self) -> String {
        format!(
            "{}-{}",
            self.starts_on.0.format("%Y"),
            self.ends_on.0.format("%Y")
        )
    }

    /// True if `day` is one of the year's days.
    pub fn contains(&self, day: Date) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

/// A day without lessons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct DayOff {
    pub id: i64,
    pub date: Date,
    pub kind: String,
    pub title: String,
    /// Only this grade is off; `None`: every grade.
    pub grade: Option<i64>,
}

/// Kinds of reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// A quarter (четверть).
    Quarter,
    /// A half-year (полугодие).
    Half,
    /// A trimester (триместр).
    Trimester,
    /// The whole year (годовая).
    Year,
    /// The examination (экзаменационная).
    Exam,
    /// The final mark (итоговая).
    Final,
}

impl PeriodKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Quarter => "quarter",
            PeriodKind::Half => "half",
            PeriodKind::Trimester => "trimester",
            PeriodKind::Year => "year",
            PeriodKind::Exam => "exam",
            PeriodKind::Final => "final",
        }
    }

    /// Parses the name stored in the database.
    pub fn parse(text: &str) -> Option<PeriodKind> {
        Some(match text {
            "quarter" => PeriodKind::Quarter,
            "half" => PeriodKind::Half,
            "trimester" => PeriodKind::Trimester,
            "year" => PeriodKind::Year,
            "exam" => PeriodKind::Exam,
            "final" => PeriodKind::Final,
            _ => return None,
        })
    }

    /// True for the kinds a class is marked by during the year.
    pub fn is_term(self) -> bool {
        matches!(
            self,
            PeriodKind::Quarter | PeriodKind::Half | PeriodKind::Trimester
        )
    }
}

/// A reporting period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct ReportingPeriod {
    pub id: i64,
    pub external_id: String,
    #[sqlx(try_from = "String")]
    pub kind: PeriodKind,
    pub number: i64,
    pub title: String,
    pub starts_on: Date,
    pub ends_on: Date,
}

/// A person's full name in Russian order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, FromRow)]
pub struct FullName {
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
}

impl FullName {
    /// «Иванов Пётр Сергеевич».
    pub fn full(&self) -> String {
        match &self.patronymic {
            Some(p) if !p.is_empty() => format!("{} {} {}", self.family_name, self.given_name, p),
            _ => format!("{} {}", self.family_name, self.given_name),
        }
    }

    /// «Иванов П. С.».
    pub fn short(&self) -> String {
        let initial = |s: &str| {
            s.chars()
                .next()
                .map(|c| format!("{c}."))
                .unwrap_or_default()
        };
        match &self.patronymic {
            Some(p) if !p.is_empty() => {
                format!(
                    "{} {} {}",
                    self.family_name,
                    initial(&self.given_name),
                    initial(p)
                )
            }
            _ => format!("{} {}", self.family_name, initial(&self.given_name)),
        }
    }
}

/// A staff member with their roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Staff {
    pub id: i64,
    pub external_id: String,
    #[sqlx(flatten)]
    pub name: FullName,
    pub position: Option<String>,
    pub email: Option<String>,
    /// Sorted role names: `admin`, `deputy`, `director`, `teacher`.
    #[sqlx(skip)]
    pub roles: Vec<String>,
}

/// A subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Subject {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub short_name: String,
    pub name_en: String,
    /// `graded` (5…1) or `pass_fail`.
    pub assessment: String,
    pub position: i64,
}

/// A class of the year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Class {
    pub id: i64,
    pub external_id: String,
    /// Opaque key used in URLs.
    pub key: String,
    pub grade: i64,
    pub letter: String,
    pub title: String,
    pub class_teacher_id: Option<i64>,
    /// The term kind the class is marked by.
    #[sqlx(try_from = "String")]
    pub term_kind: PeriodKind,
}

/// A student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Student {
    pub id: i64,
    pub external_id: String,
    /// Opaque key used in URLs.
    pub key: String,
    #[sqlx(flatten)]
    pub name: FullName,
    pub sex: Option<String>,
    pub birth_date: Option<Date>,
    pub class_id: Option<i64>,
    /// Learns on an individual plan (stored as 0/1).
    #[sqlx(try_from = "i64")]
    pub individual_plan: Flag,
    pub enrolled_on: Date,
    pub left_on: Option<Date>,
}

/// A student's time in a class of one school year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct ClassMember {
    pub class_id: i64,
    pub student_id: i64,
    /// The first day in the class.
    pub from_on: Date,
    /// The last day in the class; `None`: to the end of the class's year.
    pub until_on: Option<Date>,
}

/// A student's time in a group; an open end is the year's first or last day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct GroupMember {
    pub group_id: i64,
    pub student_id: i64,
    pub from_on: Option<Date>,
    pub until_on: Option<Date>,
}

/// A group with its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct StudyGroup {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub class_id: Option<i64>,
    pub subject_id: Option<i64>,
    /// Student ids, ascending.
    #[sqlx(skip)]
    pub members: Vec<i64>,
}

/// A guardian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Guardian {
    pub id: i64,
    pub external_id: String,
    #[sqlx(flatten)]
    pub name: FullName,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A guardian–student link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct GuardianLink {
    pub guardian_id: i64,
    pub student_id: i64,
    pub relation: String,
}

/// Who teaches which subject to which class or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct TeachingAssignment {
    pub id: i64,
    pub external_id: String,
    pub staff_id: i64,
    pub subject_id: i64,
    pub class_id: Option<i64>,
    pub group_id: Option<i64>,
    pub hours_per_week: f64,
}

/// A lesson.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Lesson {
    pub id: i64,
    pub external_id: String,
    pub date: Date,
    pub slot: i64,
    pub subject_id: i64,
    pub class_id: Option<i64>,
    pub group_id: Option<i64>,
    pub teacher_id: Option<i64>,
    pub topic: String,
    /// Teacher Markdown.
    pub homework: Option<String>,
}

/// A current mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Mark {
    pub id: i64,
    pub external_id: String,
    pub student_id: i64,
    pub subject_id: i64,
    pub lesson_id: Option<i64>,
    pub date: Date,
    pub teacher_id: Option<i64>,
    pub work_kind_id: Option<i64>,
    pub work_title: Option<String>,
    pub value: String,
    pub weight: f64,
    pub comment: Option<String>,
}

/// An absence or late arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct Attendance {
    pub id: i64,
    pub student_id: i64,
    pub lesson_id: i64,
    pub code: String,
}

/// A mark for a reporting period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, FromRow)]
pub struct PeriodMark {
    pub id: i64,
    pub external_id: String,
    pub student_id: i64,
    pub subject_id: i64,
    pub period_id: i64,
    pub value: String,
}

/// A note from a teacher to a student's parents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct Note {
    pub id: i64,
    pub external_id: String,
    pub student_id: i64,
    pub staff_id: Option<i64>,
    pub subject_id: Option<i64>,
    pub date: Date,
    /// Teacher Markdown.
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_only_iso() {
        assert_eq!(
            Date::parse_iso("2026-09-01").unwrap().to_string(),
            "2026-09-01"
        );
        assert!(Date::parse_iso("2026-02-30").is_none());
        assert!(Date::parse_iso("01.09.2026").is_none());
        assert!(Date::parse_iso("2026-9-1").is_none());
        assert_eq!(
            Date::parse_iso("2026-12-31").unwrap().iso_week(),
            "2026-W53"
        );
    }

    #[test]
    fn names_in_russian_order() {
        let n = FullName {
            family_name: "Иванова".into(),
            given_name: "Мария".into(),
            patronymic: Some("Сергеевна".into()),
        };
        assert_eq!(n.full(), "Иванова Мария Сергеевна");
        assert_eq!(n.short(), "Иванова М. С.");
        let n = FullName {
            patronymic: None,
            ..n
        };
        assert_eq!(n.short(), "Иванова М.");
    }
}
