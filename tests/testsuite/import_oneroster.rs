//! OneRoster 1.1 and 1.2 CSV sets against real databases: the Ed-Fi sample,
//! a 1.2 set with gradebook files, a delta after a bulk, and broken sets.

use std::io::Write;
use std::path::Path;

use crate::support::import::{checksum, snapshots};
use crate::support::{TestDb, copy_dir, repo};
use tabel::gradebook::{PeriodKind, Snapshot};
use tabel::import::{self, ImportError, ImportOptions, Summary};

async fn import(t: &TestDb, path: &Path) -> Result<Summary, ImportError> {
    import::import_oneroster(&t.db, path, &ImportOptions::default(), &[]).await
}

fn count(s: &Summary, table: &str) -> u64 {
    s.table(table).map_or(0, |c| c.inserted)
}

/// The Ed-Fi sample (OneRoster 1.1, with its quirks) imports cleanly, the
/// counts match its files, and importing it again changes nothing.
#[tokio::test]
async fn edfi_sample_imports_and_counts_match_the_files() {
    let dir = repo("tests/fixtures/oneroster/edfi-lms-toolkit-v1p1");
    for t in TestDb::each().await {
        let summary = import(&t, &dir).await.unwrap();
        let warnings = summary.warnings.join("\n");
        assert!(warnings.contains("manifest.version is \"1\""), "{warnings}");
        assert!(
            warnings.contains("users.csv: 2 row(s) end with one empty field"),
            "{warnings}"
        );
        assert!(warnings.contains("metadata.address1"), "{warnings}");
        // 1 district + 1 school; 3 sessions; 2 courses, 2 scheduled classes;
        // 8 students and 2 teachers; 20 student enrollments over 10 distinct
        // class-student pairs, 4 teacher enrollments.
        assert_eq!(count(&summary, "school"), 1, "{summary}");
        assert_eq!(count(&summary, "school_year"), 1);
        assert_eq!(
            count(&summary, "reporting_period"),
            3,
            "the year and two semesters"
        );
        assert_eq!(count(&summary, "subject"), 2);
        assert_eq!(count(&summary, "study_group"), 2);
        assert_eq!(count(&summary, "student"), 8);
        assert_eq!(count(&summary, "staff"), 2);
        assert_eq!(count(&summary, "staff_role"), 2);
        assert_eq!(count(&summary, "group_member"), 10);
        assert_eq!(count(&summary, "teaching_assignment"), 4);
        assert_eq!(count(&summary, "legend_entry"), 13, "the standard legend");
        let s = &snapshots(&t.db, "2021-01-10").await[0];
        assert_eq!(s.school.external_id, "255901001");
        assert_eq!(s.school.name, "Grand Bend High School");
        let halves: Vec<_> = s
            .periods
            .iter()
            .filter(|p| p.kind == PeriodKind::Half)
            .collect();
        assert_eq!(halves.len(), 2);
        assert_eq!(halves[1].title, "2020-2021 Spring Semester");
        assert_eq!(halves[1].number, 2);
        // Leading zeros survive; swapped titles are taken as given.
        assert!(
            s.subjects
                .iter()
                .any(|x| x.external_id == "03100500" && x.name == "Algebra I")
        );
        let nash = s
            .students
            .iter()
            .find(|x| x.external_id == "604918")
            .unwrap();
        assert_eq!(nash.name.patronymic.as_deref(), Some("Ivan"));
        assert_eq!(nash.sex.as_deref(), Some("m"));
        assert_eq!(nash.birth_date.unwrap().to_string(), "1997-01-18");
        assert_eq!(nash.enrolled_on.to_string(), "2020-08-17");
        assert_eq!(nash.key.len(), 26);
        // Students of both sections: cross-class groups (no homerooms).
        assert!(
            s.groups
                .iter()
                .all(|g| g.class_id.is_none() && g.members.len() == 5)
        );
        let before = checksum(&t.db).await;
        let again = import(&t, &dir).await.unwrap();
        assert_eq!(again.changed(), (0, 0, 0), "{again}");
        assert_eq!(checksum(&t.db).await, before);
        t.finish().await;
    }
}

fn find(s: &Snapshot, student: &str) -> i64 {
    s.students
        .iter()
        .find(|x| x.external_id == student)
        .unwrap()
        .id
}

/// A OneRoster 1.2 set with roles.csv and gradebook files: results become
/// marks (score or textScore) or, in period categories, period marks.
#[tokio::test]
async fn oneroster_12_gradebook_imports_into_marks_and_period_marks() {
    let dir = repo("tests/fixtures/oneroster/v1p2-gradebook");
    for t in TestDb::each().await {
        let summary = import(&t, &dir).await.unwrap();
        assert!(
            summary
                .warnings
                .iter()
                .any(|w| w.contains("1 result(s) without a score")),
            "{summary}"
        );
        assert_eq!(count(&summary, "mark"), 6, "{summary}");
        assert_eq!(count(&summary, "period_mark"), 3);
        let s = &snapshots(&t.db, "2026-10-01").await[0];
        let subject = |ext: &str| s.subjects.iter().find(|x| x.external_id == ext).unwrap().id;
        // Homeroom course is not a subject.
        assert_eq!(s.subjects.len(), 2);
        let mark = |ext: &str| s.marks.iter().find(|m| m.external_id == ext).unwrap();
        assert_eq!(mark("res1").value, "5");
        assert_eq!(mark("res1").comment.as_deref(), Some("Отличный ответ!"));
        assert_eq!(mark("res1").date.to_string(), "2026-09-10");
        assert_eq!(mark("res2").value, "4", "score 4.0 is the mark 4");
        assert_eq!(mark("res4").value, "2");
        assert_eq!(mark("res6").value, "4", "textScore");
        assert_eq!(
            mark("res5").date.to_string(),
            "2026-10-01",
            "the line item's date"
        );
        assert_eq!(mark("res3").weight, 2.0, "the category's weight");
        assert_eq!(
            mark("res3").work_title.as_deref(),
            Some("Контрольная работа № 1")
        );
        assert_eq!(mark("res5").subject_id, subject("crs-rus5"));
        let t1 = s.staff.iter().find(|x| x.external_id == "t1").unwrap();
        assert_eq!(mark("res1").teacher_id, Some(t1.id));
        assert_eq!(
            s.work_kinds.len(),
            2,
            "period categories are not kinds of work"
        );
        // Period marks: the term from the line item's session, and the year.
        let period = |id: i64| s.periods.iter().find(|p| p.id == id).unwrap();
        let pm = |ext: &str| {
            s.period_marks
                .iter()
                .find(|m| m.external_id == ext)
                .unwrap()
        };
        assert_eq!(
            (
                period(pm("res7").period_id).kind,
                period(pm("res7").period_id).number
            ),
            (PeriodKind::Quarter, 1)
        );
        assert_eq!(pm("res7").value, "4");
        assert_eq!(pm("res8").value, "н/а");
        assert_eq!(period(pm("res9").period_id).kind, PeriodKind::Year);
        assert_eq!(pm("res9").student_id, find(s, "s1"));
        assert_eq!(
            s.periods
                .iter()
                .filter(|p| p.kind == PeriodKind::Quarter)
                .count(),
            4
        );
        // Roles, class, guardians.
        assert_eq!(
            s.staff
                .iter()
                .find(|x| x.external_id == "p1")
                .unwrap()
                .roles,
            ["director"]
        );
        assert_eq!(t1.roles, ["teacher"]);
        let class = &s.classes[0];
        assert_eq!(
            (class.grade, class.letter.as_str(), class.title.as_str()),
            (5, "А", "5А")
        );
        assert_eq!(class.class_teacher_id, Some(t1.id));
        assert!(s.students.iter().all(|x| x.class_id == Some(class.id)));
        assert!(
            s.groups
                .iter()
                .all(|g| g.class_id == Some(class.id) && g.members.len() == 4)
        );
        let links: Vec<(String, String, String)> = s
            .guardian_links
            .iter()
            .map(|l| {
                let g = s.guardians.iter().find(|g| g.id == l.guardian_id).unwrap();
                let st = s.students.iter().find(|x| x.id == l.student_id).unwrap();
                (
                    g.external_id.clone(),
                    st.external_id.clone(),
                    l.relation.clone(),
                )
            })
            .collect();
        assert_eq!(
            links,
            [
                ("g1".into(), "s1".into(), "mother".into()),
                ("g1".into(), "s2".into(), "mother".into()),
                ("g2".into(), "s3".into(), "guardian".into()),
            ]
        );
        assert_eq!(
            s.students
                .iter()
                .find(|x| x.external_id == "s3")
                .unwrap()
                .enrolled_on
                .to_string(),
            "2024-09-01"
        );
        t.finish().await;
    }
}

/// The same set as a .zip archive (files inside a folder) gives the same data.
#[tokio::test]
async fn a_zip_archive_imports_like_the_folder() {
    let dir = repo("tests/fixtures/oneroster/v1p2-gradebook");
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("set.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        zip.start_file(format!("export/{}", name.to_string_lossy()), options)
            .unwrap();
        zip.write_all(&std::fs::read(dir.join(&name)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap();
    let a = TestDb::sqlite().await;
    let b = TestDb::sqlite().await;
    import(&a, &dir).await.unwrap();
    import(&b, &zip_path).await.unwrap();
    let (sa, sb) = (
        snapshots(&a.db, "2026-10-01").await,
        snapshots(&b.db, "2026-10-01").await,
    );
    // Keys are random per import; everything else is equal.
    let strip = |s: &Snapshot| {
        let mut s = s.clone();
        s.students.iter_mut().for_each(|x| x.key.clear());
        s.classes.iter_mut().for_each(|x| x.key.clear());
        s
    };
    assert!(strip(&sa[0]) == strip(&sb[0]));
    a.finish().await;
    b.finish().await;
}

/// A delta after the bulk: changed rows are updated, `tobedeleted` rows
/// removed, new rows added, and what the delta does not mention is kept.
#[tokio::test]
async fn delta_after_bulk_applies_updates_and_deletions() {
    for t in TestDb::each().await {
        import(&t, &repo("tests/fixtures/oneroster/v1p2-gradebook"))
            .await
            .unwrap();
        let before = snapshots(&t.db, "2026-10-01").await.remove(0);
        let summary = import(&t, &repo("tests/fixtures/oneroster/v1p2-delta"))
            .await
            .unwrap();
        let students = summary.table("student").unwrap();
        assert_eq!((students.updated, students.deleted), (1, 1), "{summary}");
        let marks = summary.table("mark").unwrap();
        assert_eq!(
            (marks.inserted, marks.updated, marks.deleted),
            (1, 1, 1),
            "{summary}"
        );
        assert_eq!(summary.table("group_member").unwrap().deleted, 1);
        let s = snapshots(&t.db, "2026-10-01").await.remove(0);
        assert!(
            !s.students.iter().any(|x| x.external_id == "s2"),
            "s2 was deleted"
        );
        let old4 = before
            .students
            .iter()
            .find(|x| x.external_id == "s4")
            .unwrap();
        let s4 = s.students.iter().find(|x| x.external_id == "s4").unwrap();
        assert_eq!(s4.name.family_name, "Соколова");
        assert_eq!(s4.name.patronymic.as_deref(), Some("Андреевна"));
        // What the delta does not say is kept: key, class, enrolment.
        assert_eq!(
            (&s4.key, s4.class_id, s4.enrolled_on),
            (&old4.key, old4.class_id, old4.enrolled_on)
        );
        let mark = |ext: &str| s.marks.iter().find(|m| m.external_id == ext);
        assert_eq!(mark("res1").unwrap().value, "4");
        assert_eq!(
            mark("res1").unwrap().comment.as_deref(),
            Some("Исправлено учителем")
        );
        assert!(mark("res3").is_none());
        assert_eq!(mark("res11").unwrap().student_id, find(&s, "s3"));
        // s2's marks and links went with s2; s3 left the Russian group.
        assert!(
            !s.marks
                .iter()
                .any(|m| m.external_id == "res2" || m.external_id == "res5")
        );
        assert_eq!(s.guardian_links.len(), 2);
        let rus = s.groups.iter().find(|g| g.external_id == "rus-5a").unwrap();
        assert_eq!(rus.members, [find(&s, "s1"), find(&s, "s4")]);
        // The same delta again changes nothing.
        let again = import(&t, &repo("tests/fixtures/oneroster/v1p2-delta"))
            .await
            .unwrap();
        assert_eq!(again.changed(), (0, 0, 0), "{again}");
        t.finish().await;
    }
}

/// Broken sets name FILE:LINE:COLUMN and leave the database as it was.
#[tokio::test]
async fn broken_sets_are_named_and_change_nothing() {
    type Edit = fn(&Path);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "a 1.2 manifest with 1.1 columns",
            |d| {
                std::fs::copy(
                    repo("tests/fixtures/oneroster/edfi-lms-toolkit-v1p1/users.csv"),
                    d.join("users.csv"),
                )
                .unwrap();
            },
            "users.csv:1:orgSourcedIds: is a OneRoster 1.1 column, but manifest.csv says oneroster.version 1.2",
        ),
        (
            "unknown student",
            |d| {
                let p = d.join("results.csv");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("li-answer,s2,", "li-answer,s404,");
                std::fs::write(p, t).unwrap();
            },
            "results.csv:3:studentSourcedId: \"s404\" is not a student of school sch5 (not in the input nor in the database)",
        ),
        (
            "mark outside the legend",
            |d| {
                let p = d.join("results.csv");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("2026-10-01,,4", "2026-10-01,,отл");
                std::fs::write(p, t).unwrap();
            },
            "results.csv:7:textScore: \"отл\" is not a mark in this school's legend (5,4,3,2,1,зач,незач,н/а,осв)",
        ),
        (
            "bad date",
            |d| {
                let p = d.join("academicSessions.csv");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("2026-11-05", "2026-11-31");
                std::fs::write(p, t).unwrap();
            },
            "academicSessions.csv:4:startDate: \"2026-11-31\" is not a date",
        ),
        (
            "a file the manifest announces is missing",
            |d| std::fs::remove_file(d.join("roles.csv")).unwrap(),
            "roles.csv:0:-: is missing, but manifest.csv",
        ),
        (
            "no manifest",
            |d| std::fs::remove_file(d.join("manifest.csv")).unwrap(),
            "manifest.csv:0:-: is missing",
        ),
    ];
    for t in TestDb::each().await {
        import(&t, &repo("tests/fixtures/oneroster/edfi-lms-toolkit-v1p1"))
            .await
            .unwrap();
        let before = checksum(&t.db).await;
        for (name, edit, expect) in cases {
            let dir = copy_dir(&repo("tests/fixtures/oneroster/v1p2-gradebook"));
            edit(dir.path());
            let err = import(&t, dir.path()).await.unwrap_err();
            let ImportError::Invalid { problems, .. } = &err else {
                panic!("{name}: not a problem report: {err:#}");
            };
            assert!(
                problems.iter().any(|p| p.to_string().starts_with(expect)),
                "{}: {name}: expected {expect:?}, got:\n{err}",
                t.label
            );
            assert_eq!(
                checksum(&t.db).await,
                before,
                "{}: {name} changed the database",
                t.label
            );
        }
        t.finish().await;
    }
}
