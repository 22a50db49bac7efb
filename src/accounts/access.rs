//! What an account may read: its links, read fresh from the gradebook, and
//! the one rule that decides every file (ARCHITECTURE.md, "A request").
//!
//! - anyone, logged in or not, reads public files (home, 404, stylesheet);
//! - a guardian reads the files of the students they are linked to;
//! - a student reads their own files;
//! - a teacher reads the files of every student they teach (in a class or a
//!   group), the pages of the classes they teach or lead, and, as class
//!   teacher, every file of their class's students;
//! - the office (role admin) reads everything of its school; an admin
//!   account with no staff link reads every school;
//! - a disabled account, or none, reads only public files.

use std::collections::HashSet;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{Account, Role};
use crate::db::Database;

/// Who may read a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum Scope {
    /// Anyone, logged in or not (home page, 404, stylesheet).
    Public,
    /// One student's files: the student, their guardians, their teachers, the office.
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
    /// Keys of students whose files it reads.
    pub students: HashSet<String>,
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
        Scope::Student(key) => access.students.contains(key),
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
                // Students of the classes they lead or teach whole, and members of their groups.
                a.students = keys(
                    db,
                    "SELECT s.key FROM student s JOIN class c ON c.id = s.class_id WHERE c.class_teacher_id = $1 \
                     UNION SELECT s.key FROM teaching_assignment ta JOIN student s ON s.class_id = ta.class_id WHERE ta.staff_id = $1 \
                     UNION SELECT s.key FROM teaching_assignment ta JOIN group_member m ON m.group_id = ta.group_id \
                       JOIN student s ON s.id = m.student_id WHERE ta.staff_id = $1",
                    t,
                )
                .await?;
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
}
