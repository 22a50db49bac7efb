//! What an account may read: its links, read fresh from the gradebook, and
//! the one rule that decides every file (ARCHITECTURE.md, "A request").
//!
//! - anyone, logged in or not, reads public files (home, 404, stylesheet);
//! - a guardian reads the files of the students they are linked to;
//! - a student reads their own files;
//! - a teacher reads a student's files that show days on which they taught
//!   the student (in a class they lead or teach whole, or in a group they
//!   teach): after a move, the old class's teachers keep the weeks before
//!   it, the new class's get the weeks after it; and the pages of the
//!   classes they teach or lead;
//! - the office (role admin) reads everything of its school; an admin
//!   account with no staff link reads every school;
//! - a disabled account, or none, reads only public files.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Account, Role};
use crate::db::Database;
use crate::gradebook::Date;

/// Who may read a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum Scope {
    /// Anyone, logged in or not (home page, 404, stylesheet).
    Public,
    /// One student's files that show the days from the first date to the
    /// second (a week, a year): the student, their guardians and the office
    /// read them, and a teacher who taught the student on one of those days.
    StudentDays(String, Date, Date),
    /// One student's files, of every year: how releases written before
    /// per-day scopes name them. Read as [`Scope::StudentDays`] over all time.
    Student(String),
    /// One class's files: its class teacher, its teachers, the office.
    Class(String),
    /// A school's office pages.
    School(String),
}

/// The keys an account may read, resolved from its links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Reads everything (an office account of the whole city).
    pub all: bool,
    /// External ids of schools whose every file it reads.
    pub schools: HashSet<String>,
    /// Keys of students whose files of every day it reads: a guardian's
    /// children, a student themself.
    pub students: HashSet<String>,
    /// Keys of students whose files it reads for some days only, with those
    /// days (first, last): whom a teacher taught, when.
    pub taught: HashMap<String, Vec<(Date, Date)>>,
    /// Keys of classes whose pages it reads.
    pub classes: HashSet<String>,
}

/// The access rule: may an account with `access` read a file of `scope`
/// belonging to `school`?
pub fn may_read(access: &Access, scope: &Scope, school: &str) -> bool {
    match scope {
        Scope::Public => true,
        _ if access.all => true,
        _ if !school.is_empty() && access.schools.contains(school) => true,
        Scope::StudentDays(key, from, until) => {
            access.students.contains(key)
                || access
                    .taught
                    .get(key)
                    .is_some_and(|days| days.iter().any(|&(f, u)| f <= *until && *from <= u))
        }
        Scope::Student(key) => access.students.contains(key) || access.taught.contains_key(key),
        Scope::Class(key) => access.classes.contains(key),
        Scope::School(id) => access.schools.contains(id),
    }
}

async fn keys(db: &Database, sql: &str, id: i64) -> Result<HashSet<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(sql)
        .bind(id)
        .fetch_all(db.pool())
        .await
        .context("cannot read an account's links")?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// The students a teacher taught, each with the days: their time in the
/// classes the teacher leads or teaches whole, and in the groups the
/// teacher teaches (an open end of a group span is the year's first or
/// last day).
async fn taught(db: &Database, staff_id: i64) -> Result<HashMap<String, Vec<(Date, Date)>>> {
    let rows: Vec<(String, Date, Date)> = sqlx::query_as(
        "SELECT s.key, m.from_on, COALESCE(m.until_on, y.ends_on) FROM class_member m \
         JOIN class c ON c.id = m.class_id JOIN school_year y ON y.id = c.school_year_id \
         JOIN student s ON s.id = m.student_id \
         WHERE c.class_teacher_id = $1 OR m.class_id IN \
           (SELECT class_id FROM teaching_assignment WHERE staff_id = $1 AND class_id IS NOT NULL) \
         UNION \
         SELECT s.key, COALESCE(m.from_on, y.starts_on), COALESCE(m.until_on, y.ends_on) \
         FROM group_member m JOIN study_group g ON g.id = m.group_id \
         JOIN school_year y ON y.id = g.school_year_id JOIN student s ON s.id = m.student_id \
         WHERE m.group_id IN \
           (SELECT group_id FROM teaching_assignment WHERE staff_id = $1 AND group_id IS NOT NULL)",
    )
    .bind(staff_id)
    .fetch_all(db.pool())
    .await
    .context("cannot read whom a teacher taught")?;
    let mut taught: HashMap<String, Vec<(Date, Date)>> = HashMap::new();
    for (key, from, until) in rows {
        taught.entry(key).or_default().push((from, until));
    }
    for days in taught.values_mut() {
        days.sort();
    }
    Ok(taught)
}

/// Reads what `account` may read from its links in the gradebook.
pub async fn load(db: &Database, account: &Account) -> Result<Access> {
    let mut a = Access::default();
    if account.disabled != 0 {
        return Ok(a);
    }
    match account.role {
        Role::Guardian => {
            if let Some(g) = account.guardian_id {
                a.students = keys(
                    db,
                    "SELECT s.key FROM guardian_student l JOIN student s ON s.id = l.student_id WHERE l.guardian_id = $1",
                    g,
                )
                .await?;
            }
        }
        Role::Student => {
            if let Some(s) = account.student_id {
                a.students = keys(db, "SELECT key FROM student WHERE id = $1", s).await?;
            }
        }
        Role::Teacher => {
            if let Some(t) = account.staff_id {
                // Classes they lead, classes they teach whole, classes one of whose groups they teach.
                a.classes = keys(
                    db,
                    "SELECT c.key FROM class c WHERE c.class_teacher_id = $1 \
                     UNION SELECT c.key FROM teaching_assignment ta JOIN class c ON c.id = ta.class_id WHERE ta.staff_id = $1 \
                     UNION SELECT c.key FROM teaching_assignment ta JOIN study_group g ON g.id = ta.group_id \
                       JOIN class c ON c.id = g.class_id WHERE ta.staff_id = $1",
                    t,
                )
                .await?;
                a.taught = taught(db, t).await?;
            }
        }
        Role::Admin => match account.staff_id {
            Some(staff) => {
                a.schools =
                    keys(db, "SELECT sc.external_id FROM staff st JOIN school sc ON sc.id = st.school_id WHERE st.id = $1", staff)
                        .await?;
            }
            None => a.all = true,
        },
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(keys: &[&str]) -> HashSet<String> {
        keys.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn the_rule() {
        let nobody = Access::default();
        let parent = Access {
            students: set(&["kid1", "kid2"]),
            ..Access::default()
        };
        let teacher = Access {
            classes: set(&["c5a"]),
            students: set(&["kid1"]),
            ..Access::default()
        };
        let office = Access {
            schools: set(&["s1"]),
            ..Access::default()
        };
        let city = Access {
            all: true,
            ..Access::default()
        };
        let kid1 = Scope::Student("kid1".into());
        let kid3 = Scope::Student("kid3".into());
        let c5a = Scope::Class("c5a".into());
        let school = Scope::School("s1".into());
        for a in [&nobody, &parent, &teacher, &office, &city] {
            assert!(may_read(a, &Scope::Public, ""));
        }
        assert!(!may_read(&nobody, &kid1, "s1"));
        assert!(
            may_read(&parent, &kid1, "s1")
                && !may_read(&parent, &kid3, "s1")
                && !may_read(&parent, &c5a, "s1")
        );
        assert!(!may_read(&parent, &school, "s1"));
        assert!(
            may_read(&teacher, &c5a, "s1")
                && may_read(&teacher, &kid1, "s1")
                && !may_read(&teacher, &kid3, "s1")
        );
        assert!(may_read(&office, &kid3, "s1") && may_read(&office, &school, "s1"));
        assert!(
            !may_read(&office, &kid3, "s2")
                && !may_read(&office, &Scope::School("s2".into()), "s2")
        );
        assert!(may_read(&city, &Scope::School("s2".into()), "s2"));
        // An empty school id never matches an office.
        assert!(!may_read(&office, &kid3, ""));
    }

    fn d(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn a_teacher_reads_the_days_they_taught() {
        // Taught kid1 in one class until 9 February, and from 10 February
        // in a group.
        let teacher = Access {
            taught: HashMap::from([("kid1".to_owned(), vec![(d("2026-09-01"), d("2027-02-09"))])]),
            ..Access::default()
        };
        let parent = Access {
            students: set(&["kid1"]),
            ..Access::default()
        };
        let week = |from: &str, until: &str| Scope::StudentDays("kid1".into(), d(from), d(until));
        assert!(may_read(&teacher, &week("2026-11-16", "2026-11-22"), "s1"));
        // The week of the move: it holds days they taught.
        assert!(may_read(&teacher, &week("2027-02-08", "2027-02-14"), "s1"));
        assert!(!may_read(&teacher, &week("2027-02-15", "2027-02-21"), "s1"));
        // The year's marks page holds those days.
        assert!(may_read(&teacher, &week("2026-09-01", "2027-06-30"), "s1"));
        // Last year, before they taught the student: nothing.
        assert!(!may_read(&teacher, &week("2025-09-01", "2026-06-30"), "s1"));
        // Another student's week, the same days: nothing.
        let other = Scope::StudentDays("kid2".into(), d("2026-11-16"), d("2026-11-22"));
        assert!(!may_read(&teacher, &other, "s1"));
        // A guardian reads every day of their child, any year.
        assert!(may_read(&parent, &week("2025-09-01", "2026-06-30"), "s1"));
        assert!(may_read(&parent, &week("2027-02-15", "2027-02-21"), "s1"));
        // A release written before per-day scopes: any day they taught.
        assert!(may_read(&teacher, &Scope::Student("kid1".into()), "s1"));
        assert!(!may_read(&teacher, &Scope::Student("kid2".into()), "s1"));
    }
}
