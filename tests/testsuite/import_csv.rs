//! The tabel CSV set against real databases: export and import give back the
//! same gradebook on both backends, a second import changes nothing, broken
//! input is reported by FILE:LINE:COLUMN and leaves the database as it was,
//! and what Excel saves on a Russian Windows is read.

use std::path::Path;

use crate::support::import::{assert_same, checksum, snapshots};
use crate::support::{TestDb, copy_dir, repo};
use tabel::demo;
use tabel::gradebook::Date;
use tabel::import::{self, ImportError, ImportOptions, MAX_PROBLEMS, Summary};

const DAY: &str = "2027-06-29";

async fn import(t: &TestDb, dir: &Path) -> Result<Summary, ImportError> {
    import::import_csv(&t.db, dir, &ImportOptions::default()).await
}

async fn demo_db(t: &TestDb, students: u32, day: &str) {
    let options = demo::Options {
        students,
        schools: None,
        seed: 7,
        today: Date::parse_iso(day).unwrap(),
    };
    demo::run(&t.db, &options).await.unwrap();
}

/// Demo → export → import into an empty database gives the same snapshot,
/// from SQLite to both backends and from PostgreSQL to SQLite; importing
/// the same folder again changes nothing.
#[tokio::test]
async fn round_trip_gives_the_same_snapshot_on_both_backends() {
    // A finished year (every kind of period mark) from SQLite, and a city
    // of two schools in September from PostgreSQL.
    let mut sources = vec![(TestDb::sqlite().await, 150, DAY)];
    sources.extend(TestDb::postgres().await.map(|t| (t, 1_250, "2026-09-20")));
    for (source, students, day) in sources {
        demo_db(&source, students, day).await;
        let want = snapshots(&source.db, day).await;
        assert_eq!(want.len(), demo::school_count(students) as usize);
        let dir = tempfile::tempdir().unwrap();
        let exported = import::export_csv(&source.db, dir.path(), false)
            .await
            .unwrap();
        // Every file has rows, but September has no period marks yet.
        let empty: Vec<_> = exported.files.iter().filter(|(_, n)| *n == 0).collect();
        assert!(empty.len() <= 1, "{exported}");
        let mut targets = TestDb::each().await;
        if source.label == "postgres" {
            targets.truncate(1);
        }
        for target in targets {
            let what = format!("{} → {}", source.label, target.label);
            let summary = import(&target, dir.path()).await.unwrap();
            let rows: u64 = exported.files.iter().map(|(_, n)| n).sum();
            assert_eq!(summary.rows_read(), rows, "{what}");
            assert_eq!(summary.changed().0, rows, "{what}: every row is new");
            let got = snapshots(&target.db, day).await;
            assert_same(&want, &got, &what);
            let before = checksum(&target.db).await;
            let again = import(&target, dir.path()).await.unwrap();
            assert_eq!(again.changed(), (0, 0, 0), "{what}: second import\n{again}");
            assert_eq!(checksum(&target.db).await, before, "{what}: second import");
            target.finish().await;
        }
        source.finish().await;
    }
}

/// A changed value is an update, a new row an insert, the rest untouched.
#[tokio::test]
async fn a_changed_file_updates_only_what_changed() {
    for t in TestDb::each().await {
        let dir = copy_dir(&repo("examples/csv"));
        import(&t, dir.path()).await.unwrap();
        let path = dir.path().join("students.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(
            "Смирнова,Ольга,,f,,",
            "Смирнова,Ольга,Андреевна,f,2015-05-05,",
        );
        let text = text + "sch5,s005,,Новиков,Илья,Ильич,m,2015-02-02,5a,0,2026-09-01,\n";
        std::fs::write(&path, text).unwrap();
        let summary = import(&t, dir.path()).await.unwrap();
        let students = summary.table("student").unwrap();
        assert_eq!((students.inserted, students.updated), (1, 1), "{}", t.label);
        assert_eq!(summary.changed(), (1, 1, 0), "{summary}");
        // The new student got a fresh random key.
        let (key,): (String,) =
            sqlx::query_as("SELECT key FROM student WHERE external_id = 's005'")
                .fetch_one(t.db.pool())
                .await
                .unwrap();
        assert_eq!(key.len(), 26);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        t.finish().await;
    }
}

/// How a file is broken, and the start of the message it must give.
struct Case {
    name: &'static str,
    file: &'static str,
    edit: fn(String) -> Vec<u8>,
    expect: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "bad date",
        file: "students.csv",
        edit: |t| (t + "sch5,s009,,Орлов,Олег,,m,31.02.2015,5a,0,2026-09-01,\n").into_bytes(),
        expect: "students.csv:6:birth_date: \"31.02.2015\" is not a date; expected YYYY-MM-DD or ДД.ММ.ГГГГ",
    },
    Case {
        name: "unknown reference",
        file: "marks.csv",
        edit: |t| (t + "sch5,m99,s404,math,l1,2026-09-01,st-sidorov,,,5,1,\n").into_bytes(),
        expect: "marks.csv:9:student: \"s404\" is not a student of school sch5 (not in students.csv nor in the database)",
    },
    Case {
        name: "duplicate id",
        file: "lessons.csv",
        edit: |t| (t + "sch5,l4,2026-09-03,1,math,5a,,st-sidorov,Повторение,\n").into_bytes(),
        expect: "lessons.csv:9:external_id: \"l4\" appears twice in the input",
    },
    Case {
        name: "wrong column count",
        file: "guardians.csv",
        edit: |t| (t + "sch5,g009,Орлова,Ирина,Павловна,orlova@example.com\n").into_bytes(),
        expect: "guardians.csv:5:7: the row has 6 fields but the header has 7",
    },
    Case {
        name: "mark outside the legend",
        file: "marks.csv",
        edit: |t| {
            t.replace("st-sidorov,answer,,4,,", "st-sidorov,answer,,отл,,")
                .into_bytes()
        },
        expect: "marks.csv:3:value: \"отл\" is not a mark in this school's legend (5,4,3,2,1,зач,незач,н/а,осв)",
    },
    Case {
        name: "invalid UTF-8",
        file: "guardians.csv",
        edit: |t| {
            let mut b = t.into_bytes();
            let at = b.windows(4).position(|w| w == "Дм".as_bytes()).unwrap();
            b[at + 1] = 0xFF;
            b
        },
        expect: "guardians.csv:3:given_name: ",
    },
    Case {
        name: "empty file",
        file: "notes.csv",
        edit: |_| Vec::new(),
        expect: "notes.csv:1:1: the file is empty; expected a header row",
    },
    // Keys the gate would not serve: the student's pages would be a 404
    // for everyone.
    Case {
        name: "a key with capitals, '-' and '_'",
        file: "students.csv",
        edit: |t| {
            (t + "sch5,s009,Key-Of_Mine-12345,Орлов,Олег,,m,2015-02-03,5a,0,2026-09-01,\n")
                .into_bytes()
        },
        expect: "students.csv:6:key: \"Key-Of_Mine-12345\" is not a key; expected 16–64 lower-case Latin letters and digits",
    },
    Case {
        name: "a short key",
        file: "classes.csv",
        edit: |t| {
            t.replace("gq3tmzrtgq2dinbvgy4dsmzq", "abcd1234")
                .into_bytes()
        },
        expect: "classes.csv:2:key: \"abcd1234\" is not a key",
    },
    Case {
        name: "missing column",
        file: "subjects.csv",
        edit: |t| t.replace(",assessment,", ",grading,").into_bytes(),
        expect: "subjects.csv:1:grading: is not a column of subjects.csv",
    },
];

/// Every broken input names FILE:LINE:COLUMN, the value and what was
/// expected, and leaves the database exactly as it was.
#[tokio::test]
async fn broken_inputs_are_named_and_change_nothing() {
    for t in TestDb::each().await {
        let good = repo("examples/csv");
        import(&t, &good).await.unwrap();
        let before = checksum(&t.db).await;
        for case in CASES {
            let dir = copy_dir(&good);
            let path = dir.path().join(case.file);
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, (case.edit)(text)).unwrap();
            let err = import(&t, dir.path()).await.unwrap_err();
            let ImportError::Invalid { problems, more } = &err else {
                panic!("{}: {}: not a problem report: {err:#}", t.label, case.name);
            };
            assert!(!more, "{}", case.name);
            assert!(
                problems
                    .iter()
                    .any(|p| p.to_string().starts_with(case.expect)),
                "{}: {}: expected {:?}, got:\n{err}",
                t.label,
                case.name,
                case.expect
            );
            assert_eq!(
                checksum(&t.db).await,
                before,
                "{}: {} changed the database",
                t.label,
                case.name
            );
        }
        t.finish().await;
    }
}

/// One run reports the first 50 problems, not only the first.
#[tokio::test]
async fn up_to_fifty_problems_are_reported_at_once() {
    let t = TestDb::sqlite().await;
    let dir = copy_dir(&repo("examples/csv"));
    let path = dir.path().join("marks.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for i in 0..70 {
        text.push_str(&format!(
            "sch5,x{i},s001,math,l1,2026-09-01,,,,{},1,\n",
            6 + i
        ));
    }
    std::fs::write(&path, text).unwrap();
    let Err(ImportError::Invalid { problems, more }) = import(&t, dir.path()).await else {
        panic!("expected problems");
    };
    assert_eq!(problems.len(), MAX_PROBLEMS);
    assert!(more);
    assert!(
        problems[0]
            .to_string()
            .starts_with("marks.csv:9:value: \"6\""),
        "{}",
        problems[0]
    );
    assert!(
        problems[49]
            .to_string()
            .starts_with("marks.csv:58:value: \"55\""),
        "{}",
        problems[49]
    );
    assert!(checksum(&t.db).await == checksum(&TestDb::sqlite().await.db).await);
    t.finish().await;
}

/// windows-1251, `;`, CRLF, ДД.ММ.ГГГГ and decimal commas give exactly what
/// the UTF-8 original gives.
#[tokio::test]
async fn excel_cp1251_semicolon_files_import() {
    for t in TestDb::each().await {
        let summary = import(&t, &repo("tests/fixtures/csv/excel-cp1251"))
            .await
            .unwrap();
        assert!(
            summary
                .warnings
                .iter()
                .any(|w| w.contains("read as windows-1251")),
            "{summary}"
        );
        assert!(
            summary
                .warnings
                .iter()
                .any(|w| w.contains("separated by ';'"))
        );
        let reference = TestDb::sqlite().await;
        import(&reference, &repo("examples/csv")).await.unwrap();
        assert_same(
            &snapshots(&reference.db, "2026-09-01").await,
            &snapshots(&t.db, "2026-09-01").await,
            t.label,
        );
        let s = &snapshots(&t.db, "2026-09-01").await[0];
        assert!(
            s.students
                .iter()
                .any(|st| st.name.family_name == "Кузнецов")
        );
        assert!(s.work_kinds.iter().any(|k| k.weight == 1.5));
        reference.finish().await;
        t.finish().await;
    }
    // Lines are counted right in CRLF files too.
    let t = TestDb::sqlite().await;
    let dir = copy_dir(&repo("tests/fixtures/csv/excel-cp1251"));
    let path = dir.path().join("marks.csv");
    let bytes = std::fs::read(&path).unwrap();
    let (text, _, _) = encoding_rs::WINDOWS_1251.decode(&bytes);
    let text = text.replace(";answer;;4;;", ";answer;;отл;;");
    std::fs::write(&path, encoding_rs::WINDOWS_1251.encode(&text).0).unwrap();
    let err = import(&t, dir.path()).await.unwrap_err().to_string();
    assert!(
        err.contains("marks.csv:3:value: \"отл\" is not a mark"),
        "{err}"
    );
    t.finish().await;
    // The encoding can also be named.
    let t = TestDb::sqlite().await;
    let options = ImportOptions {
        csv: import::CsvOptions {
            encoding: import::Encoding::Windows1251,
            delimiter: Some(b';'),
        },
        dry_run: false,
        today: None,
    };
    import::import_csv(&t.db, &repo("tests/fixtures/csv/excel-cp1251"), &options)
        .await
        .unwrap();
    // Read as UTF-8 by force, the same files are refused with the reason.
    let t2 = TestDb::sqlite().await;
    let options = ImportOptions {
        csv: import::CsvOptions {
            encoding: import::Encoding::Utf8,
            delimiter: None,
        },
        dry_run: false,
        today: None,
    };
    let err = import::import_csv(&t2.db, &repo("tests/fixtures/csv/excel-cp1251"), &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not valid UTF-8"), "{err}");
    assert!(err.contains("--encoding windows-1251"), "{err}");
    t.finish().await;
    t2.finish().await;
}

/// A dry run reports the same counts and writes nothing.
#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let t = TestDb::sqlite().await;
    let before = checksum(&t.db).await;
    let options = ImportOptions {
        dry_run: true,
        ..ImportOptions::default()
    };
    let summary = import::import_csv(&t.db, &repo("examples/csv"), &options)
        .await
        .unwrap();
    assert!(summary.dry_run);
    assert_eq!(summary.table("student").unwrap().inserted, 4);
    assert_eq!(checksum(&t.db).await, before);
    t.finish().await;
}
