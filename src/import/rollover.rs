//! The new school year (regulation 2.2: the administration sets up the
//! year before 5 September): the year and its reporting periods, copied
//! from the last year a year later, and with `promote` its classes one
//! grade up with their students, the 11th grade graduating and a new, empty
//! 1st grade. Last year's classes, spans and marks stay as they are, so
//! its pages, statements and archive do not change.
//!
//! One transaction per run; a dry run rolls it back after saying what it
//! would do.

use std::fmt;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Months};
use sqlx::{Any, Transaction};

use crate::db::Database;
use crate::gradebook::{Date, SchoolRef, SchoolYear};

/// What to set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The new year, `2027/2028`.
    pub year: String,
    /// Its first day. [default: the last year's first day, a year later]
    pub from: Option<Date>,
    /// Its last day. [default: the last year's last day, a year later]
    pub to: Option<Date>,
    /// Move the classes one grade up, with their students.
    pub promote: bool,
    /// Say what would be done, and change nothing.
    pub dry_run: bool,
}

/// What was done (or, in a dry run, would be) for one school.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The school's external id.
    pub school: String,
    /// The year it comes after.
    pub after: String,
    /// The new year and its days.
    pub year: String,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Reporting periods copied.
    pub periods: usize,
    /// `5А → 6А (25 students)`, one line a class.
    pub classes: Vec<String>,
    /// Students who graduated (were in the 11th grade at the year's end).
    pub graduated: usize,
    /// Students moved up with their class.
    pub promoted: usize,
    /// Classes of the new 1st grade, empty.
    pub first_grade: Vec<String>,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = |d: Option<Date>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
        writeln!(
            f,
            "school {}: school year {} ({} – {}) after {}, with {} reporting period(s) copied a year later",
            self.school,
            self.year,
            day(self.from),
            day(self.to),
            self.after,
            self.periods
        )?;
        for line in &self.classes {
            writeln!(f, "  {line}")?;
        }
        if !self.first_grade.is_empty() {
            writeln!(f, "  new 1st grade, empty: {}", self.first_grade.join(", "))?;
        }
        if !self.classes.is_empty() {
            writeln!(
                f,
                "  {} student(s) move up a grade, {} graduate; groups and teaching assignments are not carried over: import them for the new year",
                self.promoted, self.graduated
            )?;
        }
        Ok(())
    }
}

/// Parses `2027/2028` (or `2027-2028`) into its two calendar years.
pub fn parse_year(text: &str) -> Result<(i32, i32)> {
    let (a, b) = text
        .split_once(['/', '-'])
        .with_context(|| format!("{text:?} is not a school year; write it as 2027/2028"))?;
    let (a, b): (i32, i32) = (
        a.trim().parse().context("not a year")?,
        b.trim().parse().context("not a year")?,
    );
    if b != a + 1 {
        bail!("{text:?} is not a school year: the second year follows the first");
    }
    Ok((a, b))
}

/// A day a year later (29 February: 28 February).
fn a_year_later(d: Date) -> Result<Date> {
    d.0.checked_add_months(Months::new(12))
        .map(Date)
        .context("a date a year later is out of range")
}

/// Sets up the new year for every school of `schools`. A school that has
/// the year already, or no year before it, is an error naming it.
pub async fn run(db: &Database, schools: &[SchoolRef], opts: &Options) -> Result<Vec<Plan>> {
    let (first, second) = parse_year(&opts.year)?;
    let mut tx = db.write_tx().await?;
    let mut plans = Vec::new();
    for school in schools {
        let plan = one_school(&mut tx, db.backend(), school, opts, (first, second))
            .await
            .with_context(|| format!("school {}", school.external_id))?;
        plans.push(plan);
    }
    if opts.dry_run {
        tx.rollback()
            .await
            .context("cannot roll back the dry run")?;
    } else {
        tx.commit().await.context("cannot commit the new year")?;
    }
    Ok(plans)
}

async fn one_school(
    tx: &mut Transaction<'static, Any>,
    backend: crate::db::Backend,
    school: &SchoolRef,
    opts: &Options,
    (first, second): (i32, i32),
) -> Result<Plan> {
    let years: Vec<SchoolYear> = sqlx::query_as(
        "SELECT id, external_id, title, starts_on, ends_on FROM school_year \
         WHERE school_id = $1 ORDER BY starts_on, id",
    )
    .bind(school.id)
    .fetch_all(&mut **tx)
    .await
    .context("cannot read the school years")?;
    let title = format!("{first}/{second}");
    let folder = format!("{first}-{second}");
    if years.iter().any(|y| y.folder() == folder) {
        bail!("it has the school year {title} already");
    }
    let Some(last) = years
        .iter()
        .rev()
        .find(|y| y.starts_on.0.year() < first)
        .cloned()
    else {
        bail!("it has no school year before {title} to follow");
    };
    let from = match opts.from {
        Some(d) => d,
        None => a_year_later(last.starts_on)?,
    };
    let to = match opts.to {
        Some(d) => d,
        None => a_year_later(last.ends_on)?,
    };
    if from.0.year() != first || to.0.year() != second || from > to {
        bail!("{title} cannot run from {from} to {to}");
    }
    if from <= last.ends_on {
        bail!(
            "{title} would begin on {from}, before {} ends on {}",
            last.title,
            last.ends_on
        );
    }
    let mut plan = Plan {
        school: school.external_id.clone(),
        after: last.title.clone(),
        year: title.clone(),
        from: Some(from),
        to: Some(to),
        ..Plan::default()
    };
    let (year_id,): (i64,) = sqlx::query_as(
        "INSERT INTO school_year (school_id, external_id, title, starts_on, ends_on) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(school.id)
    .bind(unique_external_id(tx, "school_year", school.id, &folder).await?)
    .bind(title.clone())
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_one(&mut **tx)
    .await
    .context("cannot add the school year")?;
    plan.periods = copy_periods(tx, school.id, &last, year_id, &folder).await?;
    crate::gradebook::changes::record(tx, backend, school.id, "year start").await?;
    if opts.promote {
        promote(tx, school.id, &last, year_id, from, first, &mut plan).await?;
    }
    Ok(plan)
}

/// `wanted` if no row of `table` of the school has it as external id,
/// else `wanted-2`, `wanted-3` ….
async fn unique_external_id(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    school_id: i64,
    wanted: &str,
) -> Result<String> {
    let mut candidate = wanted.to_owned();
    for n in 2.. {
        let (taken,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM {table} WHERE school_id = $1 AND external_id = $2"
        ))
        .bind(school_id)
        .bind(candidate.clone())
        .fetch_one(&mut **tx)
        .await
        .with_context(|| format!("cannot read the ids of {table}"))?;
        if taken == 0 {
            break;
        }
        candidate = format!("{wanted}-{n}");
    }
    Ok(candidate)
}

/// Copies the reporting periods of `last` into the new year, a year later.
async fn copy_periods(
    tx: &mut Transaction<'static, Any>,
    school_id: i64,
    last: &SchoolYear,
    year_id: i64,
    folder: &str,
) -> Result<usize> {
    let periods: Vec<(String, i64, String, Date, Date)> = sqlx::query_as(
        "SELECT kind, number, title, starts_on, ends_on FROM reporting_period \
         WHERE school_year_id = $1 ORDER BY id",
    )
    .bind(last.id)
    .fetch_all(&mut **tx)
    .await
    .context("cannot read the reporting periods")?;
    for (kind, number, title, starts, ends) in &periods {
        let ext = unique_external_id(
            tx,
            "reporting_period",
            school_id,
            &format!("{folder}-{kind}{number}"),
        )
        .await?;
        sqlx::query(
            "INSERT INTO reporting_period \
             (school_id, school_year_id, external_id, kind, number, title, starts_on, ends_on) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(school_id)
        .bind(year_id)
        .bind(ext)
        .bind(kind.clone())
        .bind(*number)
        .bind(title.clone())
        .bind(a_year_later(*starts)?.to_string())
        .bind(a_year_later(*ends)?.to_string())
        .execute(&mut **tx)
        .await
        .context("cannot copy a reporting period")?;
    }
    Ok(periods.len())
}

/// A class of the last year.
#[derive(sqlx::FromRow)]
struct OldClass {
    id: i64,
    grade: i64,
    letter: String,
    title: String,
    class_teacher_id: Option<i64>,
    term_kind: String,
}

/// Opens the new year's classes one grade up and moves into them everyone
/// in the last year's classes on its last day; the 11th grade graduates,
/// and the 1st grade starts again empty.
async fn promote(
    tx: &mut Transaction<'static, Any>,
    school_id: i64,
    last: &SchoolYear,
    year_id: i64,
    from: Date,
    first: i32,
    plan: &mut Plan,
) -> Result<()> {
    let classes: Vec<OldClass> = sqlx::query_as(
        "SELECT id, grade, letter, title, class_teacher_id, term_kind FROM class \
         WHERE school_year_id = $1 ORDER BY grade, letter, id",
    )
    .bind(last.id)
    .fetch_all(&mut **tx)
    .await
    .context("cannot read the classes")?;
    // The term kind a grade is marked by, as the last year had it.
    let term_of = |grade: i64, fallback: &str| {
        classes
            .iter()
            .find(|c| c.grade == grade)
            .map_or_else(|| fallback.to_owned(), |c| c.term_kind.clone())
    };
    let mut opened = Vec::new();
    for c in &classes {
        if c.grade < 11 {
            let grade = c.grade + 1;
            let id = open_class(
                tx,
                school_id,
                year_id,
                first,
                grade,
                &c.letter,
                c.class_teacher_id,
                &term_of(grade, &c.term_kind),
            )
            .await?;
            opened.push((c, Some(id), format!("{grade}{}", c.letter)));
        } else {
            opened.push((c, None, String::new()));
        }
        if c.grade == 1 {
            open_class(
                tx,
                school_id,
                year_id,
                first,
                1,
                &c.letter,
                None,
                &c.term_kind,
            )
            .await?;
            plan.first_grade.push(format!("1{}", c.letter));
        }
    }
    for (c, new, title) in opened {
        // Everyone in the class on the year's last day who has not left.
        let students: Vec<(i64,)> = sqlx::query_as(
            "SELECT m.student_id FROM class_member m JOIN student s ON s.id = m.student_id \
             WHERE m.class_id = $1 AND (m.until_on IS NULL OR m.until_on >= $2) \
               AND (s.left_on IS NULL OR s.left_on > $2) ORDER BY m.student_id",
        )
        .bind(c.id)
        .bind(last.ends_on.to_string())
        .fetch_all(&mut **tx)
        .await
        .context("cannot read a class's students")?;
        match new {
            Some(new) => {
                for (student,) in &students {
                    sqlx::query(
                        "INSERT INTO class_member (class_id, student_id, school_id, from_on, until_on) \
                         VALUES ($1, $2, $3, $4, NULL)",
                    )
                    .bind(new)
                    .bind(*student)
                    .bind(school_id)
                    .bind(from.to_string())
                    .execute(&mut **tx)
                    .await
                    .context("cannot move a student up")?;
                    sqlx::query("UPDATE student SET class_id = $1 WHERE id = $2")
                        .bind(new)
                        .bind(*student)
                        .execute(&mut **tx)
                        .await
                        .context("cannot move a student up")?;
                }
                plan.promoted += students.len();
                plan.classes.push(format!(
                    "{} → {title} ({} student(s))",
                    c.title,
                    students.len()
                ));
            }
            None => {
                for (student,) in &students {
                    sqlx::query("UPDATE student SET class_id = NULL, left_on = $1 WHERE id = $2")
                        .bind(last.ends_on.to_string())
                        .bind(*student)
                        .execute(&mut **tx)
                        .await
                        .context("cannot graduate a student")?;
                }
                plan.graduated += students.len();
                plan.classes.push(format!(
                    "{} graduates ({} student(s))",
                    c.title,
                    students.len()
                ));
            }
        }
    }
    Ok(())
}

/// Opens a class of the new year: `6А`, with a fresh key.
#[allow(clippy::too_many_arguments)]
async fn open_class(
    tx: &mut Transaction<'static, Any>,
    school_id: i64,
    year_id: i64,
    first: i32,
    grade: i64,
    letter: &str,
    class_teacher: Option<i64>,
    term_kind: &str,
) -> Result<i64> {
    let title = format!("{grade}{letter}");
    let ext = unique_external_id(tx, "class", school_id, &format!("{first}-{title}")).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO class (school_id, school_year_id, external_id, key, grade, letter, title, class_teacher_id, term_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(school_id)
    .bind(year_id)
    .bind(ext)
    .bind(super::engine::new_url_key())
    .bind(grade)
    .bind(letter.to_owned())
    .bind(title)
    .bind(class_teacher)
    .bind(term_kind.to_owned())
    .fetch_one(&mut **tx)
    .await
    .context("cannot open a class")?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_parse() {
        assert_eq!(parse_year("2027/2028").unwrap(), (2027, 2028));
        assert_eq!(parse_year("2027-2028").unwrap(), (2027, 2028));
        assert!(parse_year("2027/2029").is_err());
        assert!(parse_year("2027").is_err());
        assert_eq!(
            a_year_later(Date::parse_iso("2028-02-29").unwrap()).unwrap(),
            Date::parse_iso("2029-02-28").unwrap()
        );
    }
}
