//! School years: class membership for a span of days, a move in the middle
//! of a year, the next year's roster leaving last year's statements and
//! archive as they were, the rollover command, the archive refusing empty
//! rosters, OneRoster enrollments with dates, and the migration of
//! databases made before spans.

use std::collections::BTreeMap;
use std::path::Path;

use axum::http::StatusCode;
use tabel::build;
use tabel::gradebook::{self, Date, Snapshot, YearChoice};
use tabel::http::{self, Gate};
use tabel::i18n::Language;
use tabel::views::Index;

use crate::support::build::{day, demo_into};
use crate::support::gate::{Fixture, add, get, login, send};
use crate::support::{TestDb, assert_same_files, copy_dir, repo, tabel, tree};

/// The demo year 2026/2027 is over on this day: every mark is in.
const AFTER: &str = "2027-07-01";

/// A finished demo year of 60 students (one class a grade) in `dir`.
fn demo_year(dir: &Path) {
    tabel()
        .current_dir(dir)
        .args([
            "--database",
            "sqlite://y.db",
            "--output",
            "out",
            "demo",
            "--students",
            "60",
            "--seed",
            "5",
            "--date",
            AFTER,
            "--no-serve",
        ])
        .success();
}

/// Runs `tabel` in `dir` on its demo database.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    tabel()
        .current_dir(dir)
        .args(["--database", "sqlite://y.db"])
        .args(args)
        .output()
}

/// Every statement PDF of the live release in `out`: path → bytes.
fn statement_pdfs(out: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(&out.join("current/c"))
        .into_iter()
        .filter(|(p, _)| p.ends_with(".pdf"))
        .collect()
}

/// The payload of the archive bag of 2026/2027 under `out`.
fn bag_payload(out: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(&out.join("archive/2026-2027"))
        .into_iter()
        .filter(|(p, _)| p.starts_with("data/") || p.starts_with("manifest-"))
        .collect()
}

/// Reads a CSV file of an export: header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// The office imports next year's roster the way a school's roster export
/// looks — the new year, its classes one grade up, every student in their
/// new class — and last year's statements and archive stay byte for byte
/// what they were.
#[test]
fn next_years_roster_leaves_last_years_statements_and_archive_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    demo_year(d);
    let before = statement_pdfs(&d.join("out"));
    assert!(before.len() > 40, "{} statements", before.len());
    tabel()
        .current_dir(d)
        .args(["archive", "keygen", "--out", "keys", "--unencrypted"])
        .success();
    let archive = |out: &str| {
        let o = run(
            d,
            &[
                "--output",
                out,
                "archive",
                "--year",
                "2026/2027",
                "--key",
                "keys/tabel.key",
                "--date",
                AFTER,
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        bag_payload(&d.join(out))
    };
    let bag = archive("first");
    // Next year's roster.
    assert!(run(d, &["export", "csv", "csv"]).status.success());
    let next = d.join("next");
    std::fs::create_dir(&next).unwrap();
    let (yh, years) = read_csv(&d.join("csv/school_years.csv"));
    let mut year = years[0].clone();
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    year[col(&yh, "external_id")] = "2027-2028".into();
    year[col(&yh, "title")] = "2027/2028".into();
    year[col(&yh, "starts_on")] = "2027-09-01".into();
    year[col(&yh, "ends_on")] = "2028-06-30".into();
    write_csv(&next.join("school_years.csv"), &yh, &[year]);
    let (ch, classes) = read_csv(&d.join("csv/classes.csv"));
    let mut new_classes = Vec::new();
    let mut moved_to = BTreeMap::new();
    for c in &classes {
        let grade: i64 = c[col(&ch, "grade")].parse().unwrap();
        if grade == 11 {
            continue;
        }
        let mut n = c.clone();
        let ext = format!("{}-next", c[col(&ch, "external_id")]);
        n[col(&ch, "external_id")] = ext.clone();
        n[col(&ch, "school_year")] = "2027-2028".into();
        n[col(&ch, "key")] = String::new();
        n[col(&ch, "grade")] = (grade + 1).to_string();
        n[col(&ch, "title")] = format!("{}{}", grade + 1, c[col(&ch, "letter")]);
        moved_to.insert(c[col(&ch, "external_id")].clone(), ext);
        new_classes.push(n);
    }
    write_csv(&next.join("classes.csv"), &ch, &new_classes);
    let (sh, students) = read_csv(&d.join("csv/students.csv"));
    let students: Vec<Vec<String>> = students
        .into_iter()
        .map(|mut s| {
            let class = col(&sh, "class");
            s[class] = moved_to.get(&s[class]).cloned().unwrap_or_default();
            if s[class].is_empty() {
                s[col(&sh, "left_on")] = "2027-06-30".into();
            }
            s
        })
        .collect();
    write_csv(&next.join("students.csv"), &sh, &students);
    let o = run(d, &["import", "csv", "next"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same day: 2026/2027 is still the current year.
    assert!(
        run(d, &["--output", "out", "build", "--full", "--date", AFTER])
            .status
            .success()
    );
    assert_same_files(&statement_pdfs(&d.join("out")), &before, "statements");
    assert_same_files(&archive("second"), &bag, "the archive");
    // In September the new year is current; last year's statements are
    // still served, the same documents.
    let o = run(d, &["--output", "out", "build", "--date", "2027-09-06"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let after = statement_pdfs(&d.join("out"));
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path}");
    }
    let release = tree(&d.join("out/current"));
    let earlier: Vec<&String> = release
        .keys()
        .filter(|p| p.starts_with("s/") && p.ends_with("/year-2026-2027.html.br"))
        .collect();
    assert_eq!(
        earlier.len(),
        read_csv(&d.join("csv/students.csv")).1.len(),
        "every student has a page of 2026/2027"
    );
    crate::golden::every_link_is_a_page_of_the_release(&release);
}

/// A finished demo year of about `students` students in a fresh database,
/// for the tests that change it.
async fn finished_year(t: &TestDb, students: u32) {
    demo_into(&t.db, students, None, 5, AFTER).await;
}

fn options(date: &str) -> build::Options {
    build::Options {
        date: day(date),
        print_weeks: build::PrintWeeks::None,
        ..crate::support::build::options(true)
    }
}

async fn snapshot(t: &TestDb) -> Snapshot {
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    gradebook::load(&t.db, school, YearChoice::On(day(AFTER)))
        .await
        .unwrap()
}

/// A student moves from one class to another on 10 February: the old
/// class's statements list them
/// up to the third quarter (there, as «выбыл», without marks), the new
/// class's from the third quarter on (as «прибыл»), the year statements
/// both; each class teacher reads the weeks the student was in their class.
#[tokio::test]
async fn a_student_who_moves_in_february_is_in_both_classes_for_their_days() {
    for t in TestDb::each().await {
        finished_year(&t, 60).await;
        let s = snapshot(&t).await;
        // Two marked classes whose class teachers teach in neither's other
        // class, so that what each reads is decided by the move alone (in
        // a small school: primary classes, whose teacher teaches them all).
        let teaches_in = |staff: Option<i64>, class: i64| {
            s.assignments.iter().any(|x| {
                Some(x.staff_id) == staff
                    && (x.class_id == Some(class)
                        || x.group_id.is_some_and(|g| {
                            s.groups
                                .iter()
                                .any(|gr| gr.id == g && gr.class_id == Some(class))
                        }))
            })
        };
        let (a, b) = s
            .classes
            .iter()
            .flat_map(|a| s.classes.iter().map(move |b| (a, b)))
            .find(|(a, b)| {
                a.id != b.id
                    && a.grade >= 2
                    && b.grade >= 2
                    && a.class_teacher_id != b.class_teacher_id
                    && !teaches_in(a.class_teacher_id, b.id)
                    && !teaches_in(b.class_teacher_id, a.id)
            })
            .map(|(a, b)| (a.clone(), b.clone()))
            .expect("two classes with class teachers apart");
        let st = s
            .students
            .iter()
            .find(|st| st.class_id == Some(a.id))
            .unwrap()
            .clone();
        // The move, as class_members.csv gives it.
        let school = &s.school.external_id;
        let csv_dir = tempfile::tempdir().unwrap();
        let (from,): (String,) = sqlx::query_as(
            "SELECT from_on FROM class_member WHERE student_id = $1 AND class_id = $2",
        )
        .bind(st.id)
        .bind(a.id)
        .fetch_one(t.db.pool())
        .await
        .unwrap();
        std::fs::write(
            csv_dir.path().join("class_members.csv"),
            format!(
                "school,class,student,from,until\n\
                 {school},{},{},{from},2027-02-09\n\
                 {school},{},{},2027-02-10,\n",
                a.external_id, st.external_id, b.external_id, st.external_id
            ),
        )
        .unwrap();
        tabel::import::import_csv(&t.db, csv_dir.path(), &Default::default())
            .await
            .unwrap();
        sqlx::query("UPDATE student SET class_id = $1 WHERE id = $2")
            .bind(b.id)
            .bind(st.id)
            .execute(t.db.pool())
            .await
            .unwrap();
        // 5А's groups end with the move too.
        sqlx::query("UPDATE group_member SET until_on = '2027-02-09' WHERE student_id = $1")
            .bind(st.id)
            .execute(t.db.pool())
            .await
            .unwrap();
        let s = snapshot(&t).await;
        let ix = Index::new(&s, Language::Ru, day(AFTER), "assets/x.css");
        let row = |class: &gradebook::Class, slug: &str| {
            let p = ix
                .finished_periods(class)
                .into_iter()
                .find(|p| tabel::views::statement::period_slug(p) == slug)
                .unwrap();
            let stmt = ix.statement(class, p);
            stmt.rows.into_iter().find(|r| r.key == st.key)
        };
        let has_marks =
            |r: &tabel::views::statement::StatementRow| r.marks.iter().any(|m| !m.is_empty());
        for q in ["q1", "q2"] {
            let r = row(&a, q).unwrap_or_else(|| panic!("{} {q} lists the student", a.title));
            assert!(r.note.is_none() && has_marks(&r), "{} {q}: {r:?}", a.title);
            assert!(
                row(&b, q).is_none(),
                "{} {q} does not list the student",
                b.title
            );
        }
        let r = row(&a, "q3").unwrap();
        assert_eq!(r.note.as_deref(), Some("выбыл 09.02.2027"));
        assert!(
            !has_marks(&r),
            "the marks are in the new class's statement: {r:?}"
        );
        assert!(row(&a, "q4").is_none());
        let r = row(&b, "q3").unwrap();
        assert_eq!(r.note.as_deref(), Some("прибыл 10.02.2027"));
        assert!(has_marks(&r), "{r:?}");
        assert!(row(&b, "q4").unwrap().note.is_none());
        assert!(row(&a, "year").unwrap().note.is_some());
        assert!(row(&b, "year").unwrap().note.is_some());
        // The statements' statistics count the student in 6А only.
        let count = |c: &gradebook::Class| {
            let p = ix
                .finished_periods(c)
                .into_iter()
                .find(|p| tabel::views::statement::period_slug(p) == "q3")
                .unwrap();
            ix.statement(c, p).stats.students
        };
        assert_eq!(
            count(&a) + 1,
            ix.statement(&a, ix.finished_periods(&a)[1]).stats.students
        );
        assert!(count(&b) > 0);
        // The class teachers through the gate.
        let out = tempfile::tempdir().unwrap();
        build::run(&t.db, out.path(), &options(AFTER))
            .await
            .unwrap();
        let mut settings = http::Settings::new(out.path());
        settings.cache_ttl = std::time::Duration::ZERO;
        let (gate, _writer) = Gate::new(t.db.clone(), settings).await.unwrap();
        let f = Fixture { t, out, gate, s };
        let teacher = |c: &gradebook::Class| {
            f.s.staff
                .iter()
                .find(|x| Some(x.id) == c.class_teacher_id)
                .unwrap()
                .external_id
                .clone()
        };
        add(&f, "teacher-a", "teacher", Some(&teacher(&a))).await;
        add(&f, "teacher-b", "teacher", Some(&teacher(&b))).await;
        let (ta, tb) = (login(&f, "teacher-a").await, login(&f, "teacher-b").await);
        let week = |d: &str| format!("/s/{}/w/{}.html", st.key, day(d).iso_week());
        let status = |token: &str, path: &str| {
            let (f, token, path) = (&f, token.to_owned(), path.to_owned());
            async move { send(f, get(&path, Some(&token))).await.0 }
        };
        assert_eq!(status(&ta, &week("2026-11-18")).await, StatusCode::OK);
        assert_eq!(
            status(&tb, &week("2026-11-18")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(&ta, &week("2027-03-03")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(status(&tb, &week("2027-03-03")).await, StatusCode::OK);
        // The marks page shows the year: both read it.
        let marks = format!("/s/{}/marks.html", st.key);
        assert_eq!(status(&ta, &marks).await, StatusCode::OK);
        assert_eq!(status(&tb, &marks).await, StatusCode::OK);
        f.t.finish().await;
    }
}

/// `tabel year start`: refused while last year is not archived; a dry run
/// changes nothing; the real run opens every class one grade up with its
/// students, graduates the 11th grade and opens an empty 1st grade; a
/// second run is refused; the built release has last year's pages.
#[test]
fn the_new_year_starts_with_every_class_one_grade_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    demo_year(d);
    let start = |extra: &[&str]| {
        let mut args = vec!["--output", "out", "year", "start", "2027/2028", "--promote"];
        args.extend_from_slice(extra);
        run(d, &args)
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let o = start(&[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("2026/2027 of demo-001 is not archived yet"),
        "{}",
        text(&o)
    );
    // The classes, as an export lists them now.
    let count_classes = || {
        let o = run(d, &["export", "csv", "--force", "check"]);
        assert!(o.status.success());
        read_csv(&d.join("check/classes.csv")).1.len()
    };
    let classes = count_classes();
    let o = start(&["--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    let plan = text(&o);
    assert!(plan.contains("5А → 6А (6 student(s))"), "{plan}");
    assert!(plan.contains("11А graduates"), "{plan}");
    assert!(plan.contains("new 1st grade, empty: 1А"), "{plan}");
    assert!(plan.contains("nothing was changed"), "{plan}");
    assert_eq!(count_classes(), classes);
    tabel()
        .current_dir(d)
        .args(["archive", "keygen", "--out", "keys", "--unencrypted"])
        .success();
    let o = run(
        d,
        &[
            "--output",
            "out",
            "archive",
            "--year",
            "2026/2027",
            "--key",
            "keys/tabel.key",
            "--date",
            AFTER,
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = start(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(count_classes(), classes + 11);
    let (sh, students) = read_csv(&d.join("check/students.csv"));
    let (ch, new_classes) = read_csv(&d.join("check/classes.csv"));
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    let title_of: BTreeMap<String, (String, String)> = new_classes
        .iter()
        .map(|c| {
            (
                c[col(&ch, "external_id")].clone(),
                (
                    c[col(&ch, "title")].clone(),
                    c[col(&ch, "school_year")].clone(),
                ),
            )
        })
        .collect();
    let graduated = students
        .iter()
        .filter(|s| s[col(&sh, "class")].is_empty())
        .count();
    assert_eq!(graduated, 3, "the 11th grade");
    for s in students.iter().filter(|s| !s[col(&sh, "class")].is_empty()) {
        let (title, year) = &title_of[&s[col(&sh, "class")]];
        assert!(year.contains("2027"), "{title} is of {year}");
    }
    let (mh, members) = read_csv(&d.join("check/class_members.csv"));
    assert_eq!(
        members
            .iter()
            .filter(|m| m[col(&mh, "from")] == "2027-09-01")
            .count(),
        57
    );
    let o = start(&[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("has the school year 2027/2028 already"),
        "{}",
        text(&o)
    );
    // September: the new year's pages, with last year's beside them.
    let o = run(d, &["--output", "out", "build", "--date", "2027-09-06"]);
    assert!(o.status.success(), "{}", text(&o));
    let release = tree(&d.join("out/current"));
    crate::golden::every_link_is_a_page_of_the_release(&release);
    assert!(
        release
            .keys()
            .any(|p| p.starts_with("school/year-2026-2027.html"))
    );
}

/// A class whose roster is empty for a period in which it had lessons is
/// an error naming the class, even with `--force`; so are period marks of
/// a student who is in no class then.
#[test]
fn the_archive_refuses_an_empty_roster() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    demo_year(d);
    tabel()
        .current_dir(d)
        .args(["archive", "keygen", "--out", "keys", "--unencrypted"])
        .success();
    let db = d.join("y.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "DELETE FROM class_member WHERE class_id = (SELECT id FROM class WHERE title = '5А')",
        [],
    )
    .unwrap();
    drop(conn);
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec![
            "--output",
            "out",
            "archive",
            "--year",
            "2026/2027",
            "--key",
            "keys/tabel.key",
            "--date",
            AFTER,
        ];
        args.extend_from_slice(extra);
        let o = run(d, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "archived: {err}");
        assert!(
            err.contains("class roster(s) empty for a period with lessons"),
            "{err}"
        );
        assert!(err.contains("5А in «1 четверть»"), "{err}");
        assert!(err.contains("has period marks but is in no class"), "{err}");
        assert!(!d.join("out/archive/2026-2027").exists());
    }
}

/// OneRoster homerooms with dates are the student's spans in each class;
/// a scheduled enrollment's dates are their span in the group.
#[tokio::test]
async fn oneroster_enrollments_with_dates_become_spans() {
    let set = copy_dir(&repo("tests/fixtures/oneroster/v1p2-gradebook"));
    let p = set.path();
    let mut classes = std::fs::read_to_string(p.join("classes.csv")).unwrap();
    classes.push_str(
        "hr-5b,active,2026-08-20T09:00:00.000Z,5Б,05,crs-homeroom,5Б,homeroom,каб. 13,sch5,\"q1,q2,q3,q4\",,,\n",
    );
    std::fs::write(p.join("classes.csv"), classes).unwrap();
    let enrollments = std::fs::read_to_string(p.join("enrollments.csv"))
        .unwrap()
        .replace(
            "e-hr-s4,active,2026-08-20T09:00:00.000Z,hr-5a,sch5,s4,student,false,2022-09-01,",
            "e-hr-s4,active,2026-08-20T09:00:00.000Z,hr-5a,sch5,s4,student,false,2022-09-01,2027-01-11\n\
             e-hr-s4b,active,2026-08-20T09:00:00.000Z,hr-5b,sch5,s4,student,false,2027-01-12,",
        )
        .replace(
            "e-math-s4,active,2026-08-20T09:00:00.000Z,math-5a,sch5,s4,student,false,2026-09-01,",
            "e-math-s4,active,2026-08-20T09:00:00.000Z,math-5a,sch5,s4,student,false,2026-09-01,2027-01-11",
        );
    std::fs::write(p.join("enrollments.csv"), enrollments).unwrap();
    for t in TestDb::each().await {
        tabel::import::import_oneroster(&t.db, p, &Default::default(), &[])
            .await
            .unwrap();
        let s = snapshot(&t).await;
        let s4 = s.students.iter().find(|x| x.external_id == "s4").unwrap();
        let title = |id: i64| s.classes.iter().find(|c| c.id == id).unwrap().title.clone();
        let spans: Vec<(String, Date, Option<Date>)> = s
            .class_members
            .iter()
            .filter(|m| m.student_id == s4.id)
            .map(|m| (title(m.class_id), m.from_on, m.until_on))
            .collect();
        assert_eq!(
            spans,
            [
                ("5А".to_owned(), day("2026-09-01"), Some(day("2027-01-11"))),
                ("5Б".to_owned(), day("2027-01-12"), None),
            ]
        );
        assert_eq!(title(s4.class_id.unwrap()), "5Б", "the latest homeroom");
        let math = s
            .groups
            .iter()
            .find(|g| g.external_id == "math-5a")
            .unwrap();
        let span = s
            .group_members
            .iter()
            .find(|m| m.group_id == math.id && m.student_id == s4.id)
            .unwrap();
        assert_eq!(
            (span.from_on, span.until_on),
            (Some(day("2026-09-01")), Some(day("2027-01-11")))
        );
        // Everyone else is in 5А from the year's first day.
        let s1 = s.students.iter().find(|x| x.external_id == "s1").unwrap();
        assert!(s.class_members.iter().any(|m| m.student_id == s1.id
            && m.from_on == day("2026-09-01")
            && m.until_on.is_none()));
        t.finish().await;
    }
}

/// A database made before spans: migration 0004 gives every student a span
/// in their class, and the release it builds is the release of before.
#[tokio::test]
async fn the_migration_gives_every_student_a_span_and_builds_the_same_release() {
    for t in TestDb::each().await {
        crate::support::build::fill(&t, 40, "2026-11-27").await;
        let built = |t: &TestDb| {
            let db = t.db.clone();
            async move {
                let out = tempfile::tempdir().unwrap();
                build::run(&db, out.path(), &options("2026-11-27"))
                    .await
                    .unwrap();
                tree(&out.path().join("current"))
            }
        };
        let before = built(&t).await;
        let (spans,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM class_member")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        // Back to the schema of before, with the data of before.
        for sql in [
            "DROP TABLE class_member",
            "ALTER TABLE group_member DROP COLUMN from_on",
            "ALTER TABLE group_member DROP COLUMN until_on",
            "DELETE FROM _sqlx_migrations WHERE version = 4",
        ] {
            sqlx::query(sql).execute(t.db.pool()).await.unwrap();
        }
        t.db.migrate().await.unwrap();
        let (again,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM class_member")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert_eq!(again, spans, "{}", t.label);
        assert_same_files(&built(&t).await, &before, t.label);
        t.finish().await;
    }
}
