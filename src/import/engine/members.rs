//! Class spans that the rows did not give: an import that says which class
//! a student is in now (`students.csv`'s `class`, a OneRoster homeroom) but
//! not since when gets a span in that class, so that rosters, statements
//! and the access rule, which read spans, see the student there.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::Days;

use super::Engine;
use crate::gradebook::Date;
use crate::gradebook::bulk::{Rows, Val};

/// A student whose current class has no span of theirs.
#[derive(sqlx::FromRow)]
struct Unspanned {
    id: i64,
    school_id: i64,
    class_id: i64,
    enrolled_on: Date,
    left_on: Option<Date>,
    school_year_id: i64,
    starts_on: Date,
    ends_on: Date,
}

impl Engine {
    /// Fits every class span into its class's year. Then gives every
    /// student whose current class has no span of theirs one:
    /// from their enrolment (or the class's first day) to the day they
    /// left, or to the year's end. A student with an open span in another
    /// class of the same year has moved: that span ends the day before
    /// `today` (the day the move reached the gradebook) and the new one
    /// begins on it. Last, an open span of a student who has left ends on
    /// the day they left. Returns how many spans were added and ended.
    pub(super) async fn derive_class_spans(&mut self, today: Date) -> Result<(usize, usize)> {
        let tx = self.tx().await?;
        // A span lies within its class's year: an enrollment dated from
        // the student's first day at school begins with the class's year.
        for sql in [
            "UPDATE class_member SET from_on = (SELECT y.starts_on FROM class c \
               JOIN school_year y ON y.id = c.school_year_id WHERE c.id = class_member.class_id) \
             WHERE from_on < (SELECT y.starts_on FROM class c \
               JOIN school_year y ON y.id = c.school_year_id WHERE c.id = class_member.class_id)",
            "UPDATE class_member SET until_on = NULL \
             WHERE until_on >= (SELECT y.ends_on FROM class c \
               JOIN school_year y ON y.id = c.school_year_id WHERE c.id = class_member.class_id)",
        ] {
            sqlx::query(sql)
                .execute(&mut **tx)
                .await
                .context("cannot fit class spans into their years")?;
        }
        let students: Vec<Unspanned> = sqlx::query_as(
            "SELECT s.id, s.school_id, s.class_id, s.enrolled_on, s.left_on, \
                    c.school_year_id, y.starts_on, y.ends_on \
             FROM student s JOIN class c ON c.id = s.class_id \
             JOIN school_year y ON y.id = c.school_year_id \
             WHERE NOT EXISTS (SELECT 1 FROM class_member m \
                               WHERE m.student_id = s.id AND m.class_id = s.class_id) \
             ORDER BY s.id",
        )
        .fetch_all(&mut **tx)
        .await
        .context("cannot read students without a class span")?;
        // Their open spans in other classes, by student and year.
        let open: Vec<(i64, i64, i64, Date)> = sqlx::query_as(
            "SELECT m.student_id, c.school_year_id, m.class_id, m.from_on \
             FROM class_member m JOIN class c ON c.id = m.class_id \
             JOIN student s ON s.id = m.student_id \
             WHERE m.until_on IS NULL AND m.class_id <> s.class_id \
             ORDER BY m.student_id, m.from_on",
        )
        .fetch_all(&mut **tx)
        .await
        .context("cannot read open class spans")?;
        let mut open_of: HashMap<(i64, i64), Vec<(i64, Date)>> = HashMap::new();
        for (student, year, class, from) in open {
            open_of
                .entry((student, year))
                .or_default()
                .push((class, from));
        }
        let mut rows = Rows::new(
            "class_member",
            &["class_id", "student_id", "school_id", "from_on", "until_on"],
        );
        let mut ended = 0;
        for s in &students {
            let moved = open_of.get(&(s.id, s.school_year_id));
            let from = match moved {
                None => s.enrolled_on.max(s.starts_on).min(s.ends_on),
                Some(spans) => {
                    let latest = spans.iter().map(|&(_, f)| f).max().unwrap_or(s.starts_on);
                    let Some(after) = next_day(latest) else {
                        continue;
                    };
                    today.clamp(s.starts_on, s.ends_on).max(after)
                }
            };
            if from > s.ends_on {
                continue;
            }
            if let (Some(spans), Some(before)) = (moved, prev_day(from)) {
                for &(class, f) in spans {
                    sqlx::query(
                        "UPDATE class_member SET until_on = $1 \
                         WHERE class_id = $2 AND student_id = $3 AND from_on = $4",
                    )
                    .bind(before.to_string())
                    .bind(class)
                    .bind(s.id)
                    .bind(f.to_string())
                    .execute(&mut **self.tx().await?)
                    .await
                    .context("cannot end a class span")?;
                    ended += 1;
                }
            }
            let until = s.left_on.filter(|&l| l >= from && l < s.ends_on);
            rows.push([
                Val::Int(s.class_id),
                Val::Int(s.id),
                Val::Int(s.school_id),
                from.to_string().into(),
                until.map(|d| d.to_string()).into(),
            ]);
        }
        let added = rows.len();
        let backend = self.backend;
        rows.insert(self.tx().await?, backend)
            .await
            .context("cannot add class spans")?;
        // Students who left: their open spans end on the day they left.
        let left: Vec<(i64, i64, Date, Date)> = sqlx::query_as(
            "SELECT m.class_id, m.student_id, m.from_on, s.left_on \
             FROM class_member m JOIN student s ON s.id = m.student_id \
             JOIN class c ON c.id = m.class_id JOIN school_year y ON y.id = c.school_year_id \
             WHERE m.until_on IS NULL AND s.left_on IS NOT NULL \
               AND s.left_on >= m.from_on AND s.left_on < y.ends_on",
        )
        .fetch_all(&mut **self.tx().await?)
        .await
        .context("cannot read the spans of students who left")?;
        for (class, student, from, left_on) in left {
            sqlx::query(
                "UPDATE class_member SET until_on = $1 \
                 WHERE class_id = $2 AND student_id = $3 AND from_on = $4",
            )
            .bind(left_on.to_string())
            .bind(class)
            .bind(student)
            .bind(from.to_string())
            .execute(&mut **self.tx().await?)
            .await
            .context("cannot end a class span")?;
            ended += 1;
        }
        Ok((added, ended))
    }
}

fn next_day(d: Date) -> Option<Date> {
    d.0.checked_add_days(Days::new(1)).map(Date)
}

fn prev_day(d: Date) -> Option<Date> {
    d.0.checked_sub_days(Days::new(1)).map(Date)
}
