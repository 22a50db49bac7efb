//! The nightly build follows the day's changes: the next night without new
//! data renders only the pages that show the day, one school day later
//! renders a few pages per student, and both equal a full build; the
//! demo's history stays what it was at a later date; a watching build
//! publishes an imported mark within seconds, and one killed in the middle
//! leaves the last release live.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tabel::build;
use tabel::gradebook::{self, Snapshot, YearChoice};
use tabel::http::{self, Gate};

use crate::support::build::{day, demo_into, fill, options};
use crate::support::gate::{Fixture, add, get, login, send};
use crate::support::{Running, TestDb, assert_same_files, page, tabel, tree, try_plain};

/// A Wednesday in the autumn term; the next day is a school day too.
const D: &str = "2026-11-25";
const NEXT: &str = "2026-11-26";

fn opts_on(date: &str, full: bool) -> build::Options {
    build::Options {
        date: day(date),
        ..options(full)
    }
}

async fn students(t: &TestDb) -> usize {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM student")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    n as usize
}

/// A 40-student demo school on SQLite as of D, and its full build of D.
async fn built_on_d() -> (TestDb, tempfile::TempDir) {
    let t = TestDb::sqlite().await;
    fill(&t, 40, D).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &opts_on(D, true))
        .await
        .unwrap();
    (t, out)
}

/// The next night, no new data: only each student's start page shows the
/// day (the running week is on it; the week's own address leads there
/// until the week is over); the release equals a full build's.
#[tokio::test]
async fn the_next_night_without_new_data_renders_only_what_shows_the_day() {
    let (t, out) = built_on_d().await;
    let night = build::run(&t.db, out.path(), &opts_on(NEXT, false))
        .await
        .unwrap();
    let n = students(&t).await;
    assert!(
        night.rendered <= n + 2,
        "{} pages rendered for {n} students: {:?}",
        night.rendered,
        night.rendered_paths
    );
    for p in &night.rendered_paths {
        assert!(p.ends_with("/index.html"), "{p} does not show the day");
    }
    assert_eq!(night.typeset, 0);
    let full = tempfile::tempdir().unwrap();
    build::run(&t.db, full.path(), &opts_on(NEXT, true))
        .await
        .unwrap();
    assert_same_files(
        &tree(&out.path().join("current")),
        &tree(&full.path().join("current")),
        "the next night and a full build",
    );
    t.finish().await;
}

/// `tabel demo` one school day later over the last demo's database and
/// output: a realistic next night. A few pages per student are rendered,
/// and the release equals a full build of the same day.
#[test]
fn one_school_day_later_renders_a_few_pages_per_student() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let demo = |date: &str| {
        let o = tabel()
            .current_dir(d)
            .args(["--database", "sqlite://y.db", "--output", "out", "demo"])
            .args(["--students", "40", "--date", date, "--no-serve"])
            .success();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.contains("pages: "))
            .unwrap()
            .to_owned();
        line.split("pages: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    demo(D);
    let rendered = demo(NEXT);
    assert!(rendered <= 6 * 40 + 20, "{rendered} pages for 40 students");
    tabel()
        .current_dir(d)
        .args(["--database", "sqlite://y.db", "--output", "full"])
        .args(["build", "--full", "--date", NEXT])
        .success();
    assert_same_files(
        &tree(&d.join("out/current")),
        &tree(&d.join("full/current")),
        "one day later and a full build",
    );
}

/// A district's school day: every school after the first reads its files
/// in the previous release while the school before it renders, and writes
/// its manifest while the next one renders. Each still carries from its
/// own files (a school that carried nothing would render some 18 pages a
/// student, not 6), and the release equals a full build's.
#[tokio::test]
async fn a_districts_school_day_carries_each_schools_own_files() {
    let t = TestDb::sqlite().await;
    let demo = |date| demo_into(&t.db, 90, Some(3), 4, date);
    demo(D).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &opts_on(D, true))
        .await
        .unwrap();
    demo(NEXT).await;
    let night = build::run(&t.db, out.path(), &opts_on(NEXT, false))
        .await
        .unwrap();
    // Each school's students' pages, counted apart.
    let keys: Vec<(String, i64)> = sqlx::query_as("SELECT key, school_id FROM student")
        .fetch_all(t.db.pool())
        .await
        .unwrap();
    let schools = gradebook::list_schools(&t.db).await.unwrap();
    assert_eq!(schools.len(), 3);
    for school in &schools {
        let mine: Vec<&str> = keys
            .iter()
            .filter(|(_, s)| *s == school.id)
            .map(|(k, _)| k.as_str())
            .collect();
        let rendered = night
            .rendered_paths
            .iter()
            .filter(|p| mine.iter().any(|k| p.starts_with(&format!("s/{k}/"))))
            .count();
        assert!(
            !mine.is_empty() && rendered > 0,
            "{}: {rendered}",
            school.external_id
        );
        assert!(
            rendered <= 6 * mine.len(),
            "{}: {rendered} pages for {} students",
            school.external_id,
            mine.len()
        );
    }
    assert!(night.carried > 2 * night.rendered, "{night}");
    equals_full(
        &t,
        out.path(),
        NEXT,
        "a district's school day and a full build",
    )
    .await;
    t.finish().await;
}

/// While a week is under way its address leads to the student's start
/// page, which shows it; the first night after it (a Monday) writes the
/// week's own page once, with no day marked as today, and the release
/// equals a full build's.
#[tokio::test]
async fn a_week_gets_its_own_page_once_it_is_over() {
    const MONDAY: &str = "2026-11-30";
    let (t, out) = built_on_d().await;
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    let s = gradebook::load(&t.db, school, YearChoice::On(day(D)))
        .await
        .unwrap();
    let key = &s.students[0].key;
    let cur = out.path().join("current");
    let running = page(&cur, &format!("s/{key}/w/2026-W48.html"));
    assert!(
        running.contains(r#"<meta http-equiv="refresh" content="0; url=../index.html">"#),
        "{running}"
    );
    assert!(!running.contains("id=\"d2026-11-25\""), "{running}");
    let index = page(&cur, &format!("s/{key}/index.html"));
    assert!(index.contains("id=\"d2026-11-25\""), "{index}");
    assert!(
        index.contains(r#"<li><a href="index.html" aria-current="page">"#),
        "{index}"
    );
    // The next days of the week carry the week's address as it is.
    fill(&t, 40, NEXT).await;
    let thursday = build::run(&t.db, out.path(), &opts_on(NEXT, false))
        .await
        .unwrap();
    assert!(
        !thursday.rendered_paths.iter().any(|p| p.contains("/w/")),
        "{thursday}"
    );
    // Monday: last week's page is written, this week's address leads on.
    fill(&t, 40, MONDAY).await;
    let monday = build::run(
        &t.db,
        out.path(),
        &build::Options {
            check_keys: false,
            ..opts_on(MONDAY, false)
        },
    )
    .await
    .unwrap();
    let n = students(&t).await;
    let weeks = monday
        .rendered_paths
        .iter()
        .filter(|p| p.ends_with("/w/2026-W48.html"))
        .count();
    assert_eq!(weeks, n, "{monday}");
    let cur = out.path().join("current");
    let week = page(&cur, &format!("s/{key}/w/2026-W48.html"));
    assert!(week.contains("id=\"d2026-11-25\""), "{week}");
    assert!(
        !week.contains("refresh") && !week.contains("aria-current"),
        "{week}"
    );
    let next = page(&cur, &format!("s/{key}/w/2026-W49.html"));
    assert!(next.contains("url=../index.html"), "{next}");
    equals_full(&t, out.path(), MONDAY, "a Monday night and a full build").await;
    t.finish().await;
}

/// Asserts that the live release under `out` equals a full build of the
/// same data on `date`.
async fn equals_full(t: &TestDb, out: &Path, date: &str, what: &str) {
    let full = tempfile::tempdir().unwrap();
    build::run(&t.db, full.path(), &opts_on(date, true))
        .await
        .unwrap();
    assert_same_files(
        &tree(&out.join("current")),
        &tree(&full.path().join("current")),
        what,
    );
}

/// The carry path as a release build runs it, with the keys trusted rather
/// than checked (every other test checks them): one school day later and
/// then one imported mark, each built by carrying what the keys say is
/// unchanged, equal a full build of the same data byte for byte, and the
/// mark rebuilds only its student's pages.
#[tokio::test]
async fn builds_that_trust_the_keys_equal_a_full_build() {
    let t = TestDb::sqlite().await;
    fill(&t, 40, D).await;
    let trusted = |date: &str| build::Options {
        check_keys: false,
        ..opts_on(date, false)
    };
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &opts_on(D, true))
        .await
        .unwrap();
    fill(&t, 40, NEXT).await;
    let night = build::run(&t.db, out.path(), &trusted(NEXT)).await.unwrap();
    let n = students(&t).await;
    assert!(night.carried > night.rendered, "{night}");
    assert!(night.rendered <= 6 * n + 20, "{night}");
    equals_full(
        &t,
        out.path(),
        NEXT,
        "one school day later, keys trusted, and a full build",
    )
    .await;
    // A mark of a past week changes: only that student's pages are built.
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    let s = gradebook::load(&t.db, school, YearChoice::On(day(NEXT)))
        .await
        .unwrap();
    let mark = s.marks.iter().find(|m| m.date < day("2026-11-01")).unwrap();
    let key = &s
        .students
        .iter()
        .find(|st| st.id == mark.student_id)
        .unwrap()
        .key;
    sqlx::query("UPDATE mark SET value = $1 WHERE id = $2")
        .bind(if mark.value == "5" { "4" } else { "5" })
        .bind(mark.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let after = build::run(&t.db, out.path(), &trusted(NEXT)).await.unwrap();
    assert!(!after.rendered_paths.is_empty(), "{after}");
    for p in &after.rendered_paths {
        assert!(
            p.starts_with(&format!("s/{key}/")),
            "{p} is not the student's"
        );
    }
    equals_full(
        &t,
        out.path(),
        NEXT,
        "an imported mark, keys trusted, and a full build",
    )
    .await;
    t.finish().await;
}

/// What a snapshot of a later day holds of the days up to `upto`.
fn up_to(mut s: Snapshot, upto: &str) -> Snapshot {
    let upto = day(upto);
    let lessons: std::collections::HashSet<i64> = s
        .lessons
        .iter()
        .filter(|l| l.date <= upto)
        .map(|l| l.id)
        .collect();
    let finished: std::collections::HashSet<i64> = s
        .periods
        .iter()
        .filter(|p| p.ends_on < upto)
        .map(|p| p.id)
        .collect();
    s.lessons.retain(|l| l.date <= upto);
    s.marks.retain(|m| m.date <= upto);
    s.attendance.retain(|a| lessons.contains(&a.lesson_id));
    s.notes.retain(|n| n.date <= upto);
    s.period_marks.retain(|m| finished.contains(&m.period_id));
    s
}

/// The demo at a later date holds the same rows, with the same ids and
/// keys, up to the earlier date — across a week and across a quarter's end,
/// in every school of a district: one more day of the first school moves
/// no id of the second.
#[tokio::test]
async fn the_demos_history_stays_what_it_was() {
    for (early, late) in [(D, NEXT), (D, "2026-12-02"), ("2026-10-20", "2026-11-10")] {
        for t in TestDb::each().await {
            let snaps = |date: &'static str| {
                let db = t.db.clone();
                async move {
                    demo_into(&db, 60, Some(2), 4, date).await;
                    let mut snaps = Vec::new();
                    for school in gradebook::list_schools(&db).await.unwrap() {
                        snaps.push(
                            gradebook::load(&db, school.id, YearChoice::On(day(date)))
                                .await
                                .unwrap(),
                        );
                    }
                    snaps
                }
            };
            let a = snaps(early).await;
            let b = snaps(late).await;
            assert_eq!(a.len(), 2);
            assert_eq!(a.len(), b.len());
            for (a, b) in a.into_iter().zip(b) {
                let school = a.school.external_id.clone();
                let b = up_to(b, early);
                assert_eq!(
                    a.counts(),
                    b.counts(),
                    "{early} → {late}, {school} on {}",
                    t.label
                );
                assert!(
                    a == b,
                    "{early} → {late}, {school} on {}: the history differs",
                    t.label
                );
            }
            t.finish().await;
        }
    }
}

/// A mark with the comment `text` for a student in a lesson of day D, as
/// marks.csv gives it.
fn mark_csv(dir: &Path, s: &Snapshot, text: &str) -> tabel::gradebook::Student {
    let lesson = s
        .lessons
        .iter()
        .find(|l| l.date == day(D) && l.class_id.is_some())
        .unwrap();
    let st = s
        .students
        .iter()
        .find(|st| st.class_id == lesson.class_id)
        .unwrap();
    let subject = s
        .subjects
        .iter()
        .find(|x| x.id == lesson.subject_id)
        .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("marks.csv"),
        format!(
            "school,external_id,student,subject,lesson,date,value,comment\n\
             {},watch-{text},{},{},{},{D},5,{text}\n",
            s.school.external_id, st.external_id, subject.external_id, lesson.external_id
        ),
    )
    .unwrap();
    st.clone()
}

/// Four imports in a burst while a build watches: two builds at most (the
/// first import's, and one for the rest once the change log is quiet),
/// and the live release shows every mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_imports_makes_two_builds_at_most() {
    let t = TestDb::sqlite().await;
    fill(&t, 40, D).await;
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].clone();
    let s = gradebook::load(&t.db, school.id, YearChoice::On(day(D)))
        .await
        .unwrap();
    let burst = tempfile::tempdir().unwrap();
    let texts: Vec<String> = (1..=4).map(|i| format!("Серия-{i}")).collect();
    let mut dirs = Vec::new();
    let mut student = None;
    for text in &texts {
        let dir = burst.path().join(text);
        student = Some(mark_csv(&dir, &s, text));
        dirs.push(dir);
    }
    // The mark is of day D, in the running week: on the start page.
    let week = format!("current/s/{}/index.html", student.unwrap().key);
    let out = tempfile::tempdir().unwrap();
    let complete = |out: &Path| {
        std::fs::read_dir(out.join("releases")).map_or(0, |r| {
            r.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .count()
        })
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = {
        let (db, out) = (t.db.clone(), out.path().to_path_buf());
        // A quiet spell longer than the gap between two imports, even on
        // a busy machine; the burst may wait for it as long as it needs.
        let w = build::watch::Watch {
            poll: Duration::from_millis(50),
            quiet: Duration::from_secs(3),
            most: Duration::from_secs(60),
        };
        let opts = build::Options {
            keep: 100,
            ..opts_on(D, false)
        };
        tokio::spawn(async move {
            build::watch::watch(&db, &out, &opts, Some(day(D)), w, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while complete(out.path()) == 0 {
        assert!(Instant::now() < deadline, "the first build never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = complete(out.path());
    // The imports, back to back, off the runtime.
    let url = t.url.clone();
    std::thread::spawn(move || {
        for dir in dirs {
            let o = tabel()
                .args(["--database", &url, "import", "csv"])
                .arg(&dir)
                .output();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
    })
    .join()
    .unwrap();
    let shows_all = |out: &Path| {
        try_plain(out, &week).is_ok_and(|page| {
            let page = String::from_utf8_lossy(&page);
            texts.iter().all(|t| page.contains(t.as_str()))
        })
    };
    while !shows_all(out.path()) {
        assert!(Instant::now() < deadline, "the marks never went live");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Longer than the quiet spell: a third build would have begun.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let builds = complete(out.path()) - before;
    stop.send(()).unwrap();
    watcher.await.unwrap().unwrap();
    assert!(
        (1..=2).contains(&builds),
        "{builds} builds for a burst of 4 imports"
    );
    t.finish().await;
}

/// `tabel build --watch` as a child process on the test's database.
fn start_watch(t: &TestDb, out: &Path) -> (Running, std::sync::mpsc::Receiver<String>) {
    let mut child = tabel()
        .args(["--database", &t.url, "--output"])
        .arg(out)
        .args(["build", "--watch", "--date", D])
        .env("TABEL_LOG", "info")
        .command()
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (Running(child), rx)
}

/// Waits for a line of the watcher that contains `what`.
fn wait_for(rx: &std::sync::mpsc::Receiver<String>, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && line.contains(what)
        {
            return;
        }
    }
    panic!("the watcher never logged {what:?}");
}

/// An import while `tabel build --watch` runs: the gate serves the page
/// with the new mark within seconds (the figure itself is a benchmark's:
/// docs/benchmarks.md). On both backends: PostgreSQL notifies, SQLite is
/// polled.
#[tokio::test]
async fn a_watching_build_publishes_an_imported_mark() {
    for t in TestDb::each().await {
        fill(&t, 40, D).await;
        let out = tempfile::tempdir().unwrap();
        let (mut watcher, lines) = start_watch(&t, out.path());
        wait_for(&lines, "built");
        let school = gradebook::list_schools(&t.db).await.unwrap()[0].clone();
        let s = gradebook::load(&t.db, school.id, YearChoice::On(day(D)))
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = "Отлично-проверено";
        let st = mark_csv(dir.path(), &s, text);
        let mut settings = http::Settings::new(out.path());
        settings.cache_ttl = Duration::ZERO;
        let (gate, _writer) = Gate::new(t.db.clone(), settings).await.unwrap();
        let f = Fixture { t, out, gate, s };
        add(&f, "office", "admin", None).await;
        let token = login(&f, "office").await;
        // The mark is of day D, in the running week: on the start page.
        let week = format!("/s/{}/index.html", st.key);
        let started = Instant::now();
        let o = tabel()
            .args(["--database", &f.t.url, "import", "csv"])
            .arg(dir.path())
            .output();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        loop {
            let (status, _, body) = send(&f, get(&week, Some(&token))).await;
            assert_eq!(status, StatusCode::OK);
            if String::from_utf8_lossy(&body).contains(text) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the mark was not served within a minute ({})",
                f.t.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = watcher.kill();
        let _ = watcher.wait();
        f.t.finish().await;
    }
}

/// SIGKILL in the middle of a build the watcher started: the release that
/// was live stays live and whole, and the next build clears the leftovers.
#[tokio::test]
async fn a_watching_build_killed_midway_leaves_the_last_release_live() {
    let t = TestDb::sqlite().await;
    fill(&t, 120, D).await;
    let out = tempfile::tempdir().unwrap();
    let (mut watcher, lines) = start_watch(&t, out.path());
    wait_for(&lines, "built");
    let current = out.path().join("current");
    let live = std::fs::read_link(&current).unwrap();
    let before = tree(&current);
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].clone();
    let s = gradebook::load(&t.db, school.id, YearChoice::On(day(D)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    mark_csv(dir.path(), &s, "killed");
    let o = tabel()
        .args(["--database", &t.url, "import", "csv"])
        .arg(dir.path())
        .output();
    assert!(o.status.success());
    // Wait for the new release to be under way, then kill the watcher.
    let releases = out.path().join("releases");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let building = std::fs::read_dir(&releases)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        if building {
            break;
        }
        assert!(Instant::now() < deadline, "no build started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert_eq!(std::fs::read_link(&current).unwrap(), live);
    assert_same_files(&tree(&current), &before, "the live release after the kill");
    // The next build starts clean and publishes.
    let next = build::run(&t.db, out.path(), &opts_on(D, false))
        .await
        .unwrap();
    assert!(next.rendered >= 1);
    assert!(
        std::fs::read_dir(&releases).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
    t.finish().await;
}
