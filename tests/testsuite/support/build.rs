//! Helpers of the build tests (`build`, `pdf`, `archive`): a demo school
//! and build options.

use super::TestDb;
use tabel::build;
use tabel::db::Database;
use tabel::demo;
use tabel::gradebook::Date;
use tabel::i18n::Language;

/// The day the fixture school is built on.
pub const TODAY: &str = "2026-11-27";

/// A date from `YYYY-MM-DD`.
pub fn day(text: &str) -> Date {
    Date::parse_iso(text).unwrap()
}

/// Build options: Russian, two workers, this week's printouts.
pub fn options(full: bool) -> build::Options {
    build::Options {
        schools: Vec::new(),
        date: day(TODAY),
        full,
        jobs: Some(2),
        keep: 10,
        language: Language::Ru,
        templates: None,
        progress: false,
        print_weeks: build::PrintWeeks::Recent,
        check_keys: true,
    }
}

/// Fills `t` with a demo school of about `students` students as of `today`.
pub async fn fill(t: &TestDb, students: u32, today: &str) {
    demo_into(&t.db, students, None, 11, today).await;
}

/// Fills `db` with the demo: `students` students over `schools` schools
/// (`None`: as the demo spreads them), drawn from `seed`, as of `today`.
pub async fn demo_into(db: &Database, students: u32, schools: Option<u32>, seed: u64, today: &str) {
    demo::run(
        db,
        &demo::Options {
            students,
            schools,
            seed,
            today: day(today),
        },
    )
    .await
    .unwrap();
}

/// A demo school of about `students` students in a fresh SQLite file, as of `today`.
pub async fn fixture_on(students: u32, today: &str) -> TestDb {
    let t = TestDb::sqlite().await;
    fill(&t, students, today).await;
    t
}

/// A demo school of about `students` students as of `TODAY`.
pub async fn fixture(students: u32) -> TestDb {
    fixture_on(students, TODAY).await
}
