//! Helpers of the build tests (`tests/build.rs`, `tests/pdf.rs`): a demo
//! school, build options, the release as a tree, and the outside tools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::TestDb;
use tabel::build;
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
        school: None,
        date: day(TODAY),
        full,
        jobs: Some(2),
        keep: 10,
        language: Language::Ru,
        templates: None,
        progress: false,
        print_weeks: build::PrintWeeks::Current,
    }
}

/// A demo school of about `students` students in a fresh SQLite file, as of `today`.
pub async fn fixture_on(students: u32, today: &str) -> TestDb {
    let t = TestDb::sqlite().await;
    demo::run(
        &t.db,
        &demo::Options {
            students,
            schools: None,
            seed: 11,
            today: day(today),
        },
    )
    .await
    .unwrap();
    t
}

/// A demo school of about `students` students as of `TODAY`.
pub async fn fixture(students: u32) -> TestDb {
    fixture_on(students, TODAY).await
}

/// Every file under `dir`, path → bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// A tool the test needs, or `None` (a skip) when it is missing and not required.
pub fn tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{path} is missing (run .ci/run to install it)"
    );
    eprintln!("note: {path} is missing; skipping");
    None
}
