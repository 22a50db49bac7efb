//! The snapshot loader: everything a build needs for one school and one
//! school year, read in one consistent transaction.
//!
//! A city database is built school by school: [`list_schools`] names them,
//! [`load`] reads one, so only one school is ever held in memory.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, FromRow, Transaction};

use super::model::*;
use super::native::{Bind, NativeRead, NativeRow};
use crate::db::Database;

/// Everything the build reads for one school year of one school.
///
/// Every list is ordered by id, so two loads of the same data are equal and
/// serialize to the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub school: School,
    pub year: SchoolYear,
    pub legend: Vec<LegendEntry>,
    pub work_kinds: Vec<WorkKind>,
    pub days_off: Vec<DayOff>,
    pub periods: Vec<ReportingPeriod>,
    pub staff: Vec<Staff>,
    pub subjects: Vec<Subject>,
    pub classes: Vec<Class>,
    pub students: Vec<Student>,
    /// Who was in which class of the year, and when, by class and student.
    pub class_members: Vec<ClassMember>,
    pub groups: Vec<StudyGroup>,
    /// Who was in which group of the year, and when, by group and student.
    pub group_members: Vec<GroupMember>,
    pub guardians: Vec<Guardian>,
    pub guardian_links: Vec<GuardianLink>,
    pub assignments: Vec<TeachingAssignment>,
    pub lessons: Vec<Lesson>,
    pub marks: Vec<Mark>,
    pub attendance: Vec<Attendance>,
    pub period_marks: Vec<PeriodMark>,
    pub notes: Vec<Note>,
}

impl Snapshot {
    /// SHA-256 of the snapshot's canonical JSON, hex: the data snapshot id.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_writer(HashWriter(&mut hasher), self).expect("snapshot serializes");
        data_encoding::HEXLOWER.encode(&hasher.finalize())
    }

    /// Row counts per table, for summaries and tests.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("legend_entry", self.legend.len()),
            ("work_kind", self.work_kinds.len()),
            ("day_off", self.days_off.len()),
            ("reporting_period", self.periods.len()),
            ("staff", self.staff.len()),
            ("subject", self.subjects.len()),
            ("class", self.classes.len()),
            ("student", self.students.len()),
            ("class_member", self.class_members.len()),
            ("study_group", self.groups.len()),
            ("group_member", self.group_members.len()),
            ("guardian", self.guardians.len()),
            ("guardian_student", self.guardian_links.len()),
            ("teaching_assignment", self.assignments.len()),
            ("lesson", self.lessons.len()),
            ("mark", self.marks.len()),
            ("attendance", self.attendance.len()),
            ("period_mark", self.period_marks.len()),
            ("note", self.notes.len()),
        ]
    }
}

/// Feeds what is written into a hash: a value serialized into it is hashed
/// without being held whole.
pub(crate) struct HashWriter<'a>(pub(crate) &'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A school as listed for choosing what to build.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SchoolRef {
    pub id: i64,
    pub external_id: String,
    pub short_name: String,
}

/// Every school in the database, by id.
pub async fn list_schools(db: &Database) -> Result<Vec<SchoolRef>> {
    sqlx::query_as("SELECT id, external_id, short_name FROM school ORDER BY id")
        .fetch_all(db.pool())
        .await
        .context("cannot list the schools")
}

/// Which school year to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearChoice {
    /// The year that contains this day, or else the latest one that began before it.
    On(Date),
    /// The year with this id.
    Id(i64),
}

async fn all<T>(tx: &mut Source<'_>, sql: &'static str, binds: &[Bind<'_>]) -> Result<Vec<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + NativeRow + Send + Unpin,
{
    let rows = match tx {
        Source::Pool(tx) => {
            let mut query = sqlx::query_as::<_, T>(sql);
            for b in binds {
                query = match *b {
                    Bind::Id(id) => query.bind(id),
                    Bind::Text(text) => query.bind(text.to_owned()),
                };
            }
            query
                .fetch_all(&mut ***tx)
                .await
                .map_err(anyhow::Error::from)
        }
        Source::Native(native) => native.all(sql, binds),
    };
    rows.with_context(|| format!("cannot read the gradebook ({})", first_words(sql)))
}

fn first_words(sql: &str) -> String {
    let from = sql.find("FROM").unwrap_or(0);
    sql[from..]
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The school years of a school, oldest first.
const YEARS: &str = "SELECT id, external_id, title, starts_on, ends_on FROM school_year \
     WHERE school_id = $1 ORDER BY starts_on, id";

/// The school years of school `school_id`, oldest first.
pub async fn school_years(db: &Database, school_id: i64) -> Result<Vec<SchoolYear>> {
    sqlx::query_as(YEARS)
        .bind(school_id)
        .fetch_all(db.pool())
        .await
        .context("cannot read the school years")
}

/// Loads one school year of one school from one consistent read. An
/// SQLite file is read with SQLite's own interface on a blocking thread
/// (`native.rs`, much cheaper for a school's hundreds of thousands of
/// rows); PostgreSQL and an in-memory SQLite through the pool
/// ([`load_through_pool`]). Both make the same snapshot of the same data.
pub async fn load(db: &Database, school_id: i64, year: YearChoice) -> Result<Snapshot> {
    let Some(file) = db.sqlite_file() else {
        return load_through_pool(db, school_id, year).await;
    };
    let file = file.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut source = Source::Native(NativeRead::begin(&file)?);
        // Every read below completes at once: nothing here waits on the runtime.
        let snapshot =
            tokio::runtime::Handle::current().block_on(read(&mut source, school_id, year))?;
        if let Source::Native(native) = source {
            native.finish()?;
        }
        Ok(snapshot)
    })
    .await
    .context("the gradebook's reading thread stopped")?
}

/// Loads one school year of one school through the pool, in one read
/// transaction ([`Database::snapshot_read`]).
pub async fn load_through_pool(
    db: &Database,
    school_id: i64,
    year: YearChoice,
) -> Result<Snapshot> {
    let mut tx = db.snapshot_read().await?;
    let snapshot = read(&mut Source::Pool(&mut tx), school_id, year).await?;
    tx.commit()
        .await
        .context("cannot end the read transaction")?;
    Ok(snapshot)
}

/// Where a snapshot is read from.
enum Source<'a> {
    /// A read transaction of the pool.
    Pool(&'a mut Transaction<'static, Any>),
    /// A read transaction on an SQLite file.
    Native(NativeRead),
}

async fn read(tx: &mut Source<'_>, school_id: i64, choice: YearChoice) -> Result<Snapshot> {
    let s = Bind::Id(school_id);
    let school: Vec<School> = all(
        tx,
        "SELECT id, external_id, name, short_name, number, address, director, deputy, email, phone, \
         mark_5_from, mark_4_from, mark_3_from, mark_2_from, term_min_marks \
         FROM school WHERE id = $1",
        &[s],
    )
    .await?;
    let Some(school) = school.into_iter().next() else {
        bail!("there is no school with id {school_id}");
    };
    if !school.rounding().is_valid() {
        bail!(
            "school {}: the lowest averages for the marks 5, 4, 3, 2 must fall in that order, \
             above 1 and at most 5: {:?}",
            school.external_id,
            school.rounding().from
        );
    }
    let years: Vec<SchoolYear> = all(tx, YEARS, &[s]).await?;
    let year = match choice {
        YearChoice::Id(id) => years.into_iter().find(|y| y.id == id),
        YearChoice::On(day) => {
            let containing = years
                .iter()
                .find(|y| y.starts_on <= day && day <= y.ends_on)
                .cloned();
            containing.or_else(|| years.into_iter().rev().find(|y| y.starts_on <= day))
        }
    };
    let Some(year) = year else {
        bail!(
            "school {} ({}) has no school year {}",
            school.external_id,
            school.short_name,
            match choice {
                YearChoice::On(day) => format!("that had begun by {day}"),
                YearChoice::Id(id) => format!("with id {id}"),
            }
        );
    };
    let y = Bind::Id(year.id);
    let (from, to) = (year.starts_on.to_string(), year.ends_on.to_string());
    let (from, to) = (Bind::Text(&from), Bind::Text(&to));

    let legend = all(
        tx,
        "SELECT id, domain, code, category, numeric_value, title, title_en, position \
         FROM legend_entry WHERE school_id = $1 ORDER BY id",
        &[s],
    )
    .await?;
    let work_kinds = all(
        tx,
        "SELECT id, code, title, title_en, weight FROM work_kind \
         WHERE school_id = $1 ORDER BY id",
        &[s],
    )
    .await?;
    let days_off = all(
        tx,
        "SELECT id, date, kind, title, grade FROM day_off \
         WHERE school_year_id = $1 ORDER BY id",
        &[y],
    )
    .await?;
    let periods = all(
        tx,
        "SELECT id, external_id, kind, number, title, starts_on, ends_on FROM reporting_period \
         WHERE school_year_id = $1 ORDER BY id",
        &[y],
    )
    .await?;
    let mut staff: Vec<Staff> = all(
        tx,
        "SELECT id, external_id, family_name, given_name, patronymic, position, email FROM staff \
         WHERE school_id = $1 ORDER BY id",
        &[s],
    )
    .await?;
    let roles: Vec<(i64, String)> = all(
        tx,
        "SELECT staff_id, role FROM staff_role WHERE school_id = $1 \
         ORDER BY staff_id, role",
        &[s],
    )
    .await?;
    attach(&mut staff, roles, |m| m.id, |m| &mut m.roles);
    let subjects = all(
        tx,
        "SELECT id, external_id, name, short_name, name_en, assessment, position FROM subject \
         WHERE school_id = $1 ORDER BY id",
        &[s],
    )
    .await?;
    let classes = all(
        tx,
        "SELECT id, external_id, key, grade, letter, title, class_teacher_id, term_kind FROM class \
         WHERE school_id = $2 AND school_year_id = $1 ORDER BY id",
        &[y, s],
    )
    .await?;
    // The year's students: those in one of its classes or groups. What
    // a student row says of today (their class now, a departure after the
    // year) is not the year's record, so the snapshot of a finished year
    // stays as it was whatever the years after it bring: a student's class
    // is their last of the year, and a departure after its end is none.
    let mut students: Vec<Student> = all(
        tx,
        "SELECT id, external_id, key, family_name, given_name, patronymic, sex, birth_date, \
         class_id, individual_plan, enrolled_on, left_on FROM student \
         WHERE id IN (SELECT m.student_id FROM class_member m JOIN class c ON c.id = m.class_id \
                      WHERE c.school_id = $2 AND c.school_year_id = $1) \
            OR id IN (SELECT m.student_id FROM group_member m JOIN study_group g ON g.id = m.group_id \
                      WHERE g.school_id = $2 AND g.school_year_id = $1) \
         ORDER BY id",
        &[y, s],
    )
    .await?;
    let class_members: Vec<ClassMember> = all(
        tx,
        "SELECT m.class_id, m.student_id, m.from_on, m.until_on FROM class_member m \
         JOIN class c ON c.id = m.class_id \
         WHERE c.school_id = $2 AND c.school_year_id = $1 \
         ORDER BY m.class_id, m.student_id, m.from_on",
        &[y, s],
    )
    .await?;
    let mut last_class: std::collections::HashMap<i64, (Date, i64)> = Default::default();
    for m in &class_members {
        let e = last_class
            .entry(m.student_id)
            .or_insert((m.from_on, m.class_id));
        if m.from_on > e.0 {
            *e = (m.from_on, m.class_id);
        }
    }
    for st in &mut students {
        st.class_id = last_class.get(&st.id).map(|&(_, c)| c);
        st.left_on = st.left_on.filter(|&d| d < year.ends_on);
    }
    let mut groups: Vec<StudyGroup> = all(
        tx,
        "SELECT id, external_id, title, class_id, subject_id FROM study_group \
         WHERE school_id = $2 AND school_year_id = $1 ORDER BY id",
        &[y, s],
    )
    .await?;
    let group_members: Vec<GroupMember> = all(
        tx,
        "SELECT m.group_id, m.student_id, m.from_on, m.until_on FROM group_member m \
         JOIN study_group g ON g.id = m.group_id \
         WHERE g.school_id = $2 AND g.school_year_id = $1 ORDER BY m.group_id, m.student_id",
        &[y, s],
    )
    .await?;
    let members = group_members
        .iter()
        .map(|m| (m.group_id, m.student_id))
        .collect();
    attach(&mut groups, members, |g| g.id, |g| &mut g.members);
    let guardians = all(
        tx,
        "SELECT id, external_id, family_name, given_name, patronymic, email, phone FROM guardian \
         WHERE school_id = $1 ORDER BY id",
        &[s],
    )
    .await?;
    let guardian_links = all(
        tx,
        "SELECT guardian_id, student_id, relation FROM guardian_student \
         WHERE school_id = $1 ORDER BY guardian_id, student_id",
        &[s],
    )
    .await?;
    let assignments = all(
        tx,
        "SELECT a.id, a.external_id, a.staff_id, a.subject_id, a.class_id, a.group_id, a.hours_per_week \
         FROM teaching_assignment a \
         LEFT JOIN class c ON c.id = a.class_id \
         LEFT JOIN study_group g ON g.id = a.group_id \
         WHERE a.school_id = $1 \
           AND (c.school_year_id = $2 OR g.school_year_id = $2) \
         ORDER BY a.id",
        &[s, y],
    )
    .await?;
    let lessons = all(
        tx,
        "SELECT id, external_id, date, slot, subject_id, class_id, group_id, teacher_id, topic, homework \
         FROM lesson WHERE school_id = $1 AND date BETWEEN $2 AND $3 ORDER BY id",
        &[s, from, to],
    )
    .await?;
    let marks = all(
        tx,
        "SELECT id, external_id, student_id, subject_id, lesson_id, date, teacher_id, work_kind_id, \
         work_title, value, weight, comment FROM mark \
         WHERE school_id = $1 AND date BETWEEN $2 AND $3 ORDER BY id",
        &[s, from, to],
    )
    .await?;
    let attendance = all(
        tx,
        "SELECT a.id, a.student_id, a.lesson_id, a.code FROM attendance a \
         JOIN lesson l ON l.id = a.lesson_id \
         WHERE a.school_id = $1 AND l.date BETWEEN $2 AND $3 ORDER BY a.id",
        &[s, from, to],
    )
    .await?;
    let period_marks = all(
        tx,
        "SELECT m.id, m.external_id, m.student_id, m.subject_id, m.period_id, m.value \
         FROM period_mark m JOIN reporting_period p ON p.id = m.period_id \
         WHERE m.school_id = $2 AND p.school_year_id = $1 ORDER BY m.id",
        &[y, s],
    )
    .await?;
    let notes = all(
        tx,
        "SELECT id, external_id, student_id, staff_id, subject_id, date, body FROM note \
         WHERE school_id = $1 AND date BETWEEN $2 AND $3 ORDER BY id",
        &[s, from, to],
    )
    .await?;
    Ok(Snapshot {
        school,
        year,
        legend,
        work_kinds,
        days_off,
        periods,
        staff,
        subjects,
        classes,
        students,
        class_members,
        groups,
        group_members,
        guardians,
        guardian_links,
        assignments,
        lessons,
        marks,
        attendance,
        period_marks,
        notes,
    })
}

/// Distributes `(owner id, value)` pairs onto their owners; both are sorted
/// by id, and a pair whose owner is not in the list is dropped.
fn attach<O, V>(
    owners: &mut [O],
    pairs: Vec<(i64, V)>,
    id: impl Fn(&O) -> i64,
    list: impl Fn(&mut O) -> &mut Vec<V>,
) {
    let mut pairs = pairs.into_iter().peekable();
    for owner in owners.iter_mut() {
        let oid = id(owner);
        while pairs.next_if(|(o, _)| *o < oid).is_some() {}
        while let Some((_, v)) = pairs.next_if(|(o, _)| *o == oid) {
            list(owner).push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attach;

    #[test]
    fn attach_skips_orphans() {
        let mut owners = vec![(1, vec![]), (3, vec![]), (4, vec![])];
        attach(
            &mut owners,
            vec![(0, 'x'), (1, 'a'), (1, 'b'), (2, 'y'), (4, 'c'), (9, 'z')],
            |o| o.0,
            |o| &mut o.1,
        );
        assert_eq!(
            owners,
            vec![(1, vec!['a', 'b']), (3, vec![]), (4, vec!['c'])]
        );
    }
}
