//! `tabel demo`: a realistic, deterministic school (or a city of them) for
//! newcomers and benchmarks.
//!
//! Up to about 1,200 students make one school; more are spread over schools
//! of about 800, as a district or a city has them. Each school is generated
//! from its own seeded generator and written in its own transaction, so
//! memory stays bounded by one school however large the city.

pub mod calendar;
pub mod content;
pub mod school;

use std::fmt;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sqlx::Executor;

use crate::accounts::Role;
use crate::db::{Backend, Database};
use crate::gradebook::Date;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of students in all.
    pub students: u32,
    /// Schools they are spread over; `None`: one up to 1,200 students,
    /// else one per ~800 (`school_count`).
    pub schools: Option<u32>,
    /// Seed of every random choice.
    pub seed: u64,
    /// The demo's "today".
    pub today: Date,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Number of schools.
    pub schools: u32,
    /// Rows written per table.
    pub rows: Vec<(&'static str, u64)>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: u64 = self.rows.iter().map(|(_, n)| n).sum();
        writeln!(
            f,
            "generated {} school(s), {total} rows in {:.1} s:",
            self.schools, self.seconds
        )?;
        for (table, n) in &self.rows {
            writeln!(f, "  {table:<20} {n:>10}")?;
        }
        Ok(())
    }
}

/// How many schools `students` are spread over.
pub fn school_count(students: u32) -> u32 {
    if students <= 1200 {
        1
    } else {
        (students + 400) / 800
    }
}

/// Fills the database with demo data, replacing an earlier demo.
///
/// Refuses a database that holds anything but demo data: the demo never
/// deletes a real school.
pub async fn run(db: &Database, options: &Options) -> Result<Summary> {
    let started = Instant::now();
    clear_previous_demo(db).await?;
    let schools = options
        .schools
        .unwrap_or_else(|| school_count(options.students))
        .clamp(1, options.students.max(1));
    let mut ids = school::Ids::default();
    let mut totals: Vec<(&'static str, u64)> =
        school::TABLES.iter().map(|(t, _)| (*t, 0)).collect();
    // Generating school n+1 (CPU) overlaps with writing school n (database).
    let spawn = |index: u32, ids: school::Ids| {
        let (seed, today) = (options.seed, options.today);
        let n = options.students / schools + u32::from(index <= options.students % schools);
        tokio::task::spawn_blocking(move || {
            let mut ids = ids;
            let rows = school::generate(seed, index, n, today, &mut ids);
            (rows, ids)
        })
    };
    let mut pending = Some(spawn(1, ids.clone()));
    for index in 1..=schools {
        let (mut rows, next_ids) = pending
            .take()
            .context("generator missing")?
            .await
            .context("demo generator failed")?;
        ids = next_ids;
        if index < schools {
            pending = Some(spawn(index + 1, ids.clone()));
        }
        let mut tx = db
            .pool()
            .begin()
            .await
            .context("cannot start a transaction")?;
        for (batch, total) in rows.tables.iter_mut().zip(totals.iter_mut()) {
            total.1 += batch.insert(&mut tx, db.backend()).await?;
        }
        tx.commit().await.context("cannot commit the demo school")?;
        tracing::info!(school = index, of = schools, "demo school written");
    }
    if db.backend() == Backend::Postgres {
        // Rows were written with explicit ids; move each identity past them.
        for (table, last) in ids.last() {
            if table == "staff_role" {
                continue;
            }
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"
            ))
            .execute(db.pool())
            .await
            .with_context(|| format!("cannot move the id sequence of {table}"))?;
        }
    }
    if db.backend() == Backend::Sqlite {
        db.pool()
            .execute("PRAGMA optimize")
            .await
            .context("cannot optimize the database")?;
    }
    Ok(Summary {
        schools,
        rows: totals,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A demo account, as printed for the newcomer.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login.
    pub login: String,
    /// Password (the demo's own, not one-time).
    pub password: String,
    /// Who it is, in words.
    pub who: String,
}

/// Creates the demo accounts: a guardian of two children in different
/// classes, one of those children, a subject teacher, a class teacher and
/// the office. Earlier demo accounts are replaced.
pub async fn accounts(db: &Database) -> Result<Vec<DemoAccount>> {
    sqlx::query("DELETE FROM account WHERE login LIKE 'demo-%'")
        .execute(db.pool())
        .await?;
    let one = |sql: &'static str| async move {
        sqlx::query_as::<_, (String, String)>(sql)
            .fetch_optional(db.pool())
            .await
            .context("cannot pick demo people")
    };
    // A guardian with children in two different classes, and the first child.
    let family = one(
        "SELECT g.external_id, MIN(s.external_id) FROM guardian g          JOIN guardian_student l ON l.guardian_id = g.id JOIN student s ON s.id = l.student_id          GROUP BY g.id, g.external_id HAVING COUNT(DISTINCT s.class_id) >= 2 ORDER BY g.id LIMIT 1",
    )
    .await?;
    let class_teacher = one(
        "SELECT st.external_id, c.title FROM class c JOIN staff st ON st.id = c.class_teacher_id          WHERE c.grade >= 5 ORDER BY c.grade, c.id LIMIT 1",
    )
    .await?;
    let subject_teacher = one(
        "SELECT st.external_id, st.position FROM staff st JOIN staff_role r ON r.staff_id = st.id AND r.role = 'teacher'          WHERE st.id NOT IN (SELECT class_teacher_id FROM class WHERE class_teacher_id IS NOT NULL) \
         AND st.id NOT IN (SELECT staff_id FROM staff_role WHERE role <> 'teacher') ORDER BY st.id LIMIT 1",
    )
    .await?;
    let office = one(
        "SELECT st.external_id, st.position FROM staff st JOIN staff_role r ON r.staff_id = st.id AND r.role = 'admin'          ORDER BY st.id LIMIT 1",
    )
    .await?;
    let mut plan: Vec<(&str, Role, String, String)> = Vec::new();
    if let Some((guardian, child)) = family {
        plan.push((
            "demo-parent",
            Role::Guardian,
            guardian,
            "родитель двоих детей в разных классах".to_owned(),
        ));
        plan.push((
            "demo-student",
            Role::Student,
            child,
            "учащийся (один из этих детей)".to_owned(),
        ));
    }
    if let Some((staff, position)) = subject_teacher {
        plan.push(("demo-teacher", Role::Teacher, staff, position));
    }
    if let Some((staff, class)) = class_teacher {
        plan.push((
            "demo-classteacher",
            Role::Teacher,
            staff,
            format!("классный руководитель {class}"),
        ));
    }
    if let Some((staff, position)) = office {
        plan.push(("demo-admin", Role::Admin, staff, position));
    }
    let mut out = Vec::new();
    for (login, role, person, who) in plan {
        let password = crate::accounts::password::random();
        crate::accounts::add(db, login, role, Some(&person), Some(password.clone())).await?;
        out.push(DemoAccount {
            login: login.to_owned(),
            password,
            who,
        });
    }
    Ok(out)
}

/// Deletes an earlier demo; refuses if the database holds non-demo schools.
async fn clear_previous_demo(db: &Database) -> Result<()> {
    let others: Vec<(String,)> = sqlx::query_as(
        "SELECT external_id FROM school WHERE external_id NOT LIKE 'demo-%' ORDER BY id LIMIT 5",
    )
    .fetch_all(db.pool())
    .await
    .context("cannot look for existing schools")?;
    if !others.is_empty() {
        let names: Vec<_> = others.into_iter().map(|(e,)| e).collect();
        bail!(
            "the database already holds schools that are not demo data ({}); \
             the demo only fills an empty database or replaces an earlier demo — use another --database",
            names.join(", ")
        );
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM school")
        .fetch_one(db.pool())
        .await
        .context("cannot count schools")?;
    if count == 0 {
        return Ok(());
    }
    tracing::info!(schools = count, "replacing the earlier demo");
    let mut tx = db.pool().begin().await?;
    // Children first, so no cascade has to search a large table.
    for (table, _) in school::TABLES.iter().rev() {
        let sql = match db.backend() {
            Backend::Postgres => format!("TRUNCATE {table} CASCADE"),
            Backend::Sqlite => format!("DELETE FROM {table}"),
        };
        tx.execute(sql.as_str())
            .await
            .with_context(|| format!("cannot clear {table}"))?;
    }
    tx.commit().await.context("cannot clear the earlier demo")?;
    Ok(())
}
