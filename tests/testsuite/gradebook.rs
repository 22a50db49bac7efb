//! The gradebook foundation against real databases: migrations, the demo
//! school and its invariants, and the snapshot loader on both backends.

use std::collections::{HashMap, HashSet};

use crate::support::{TestDb, repo};
use tabel::demo::{self, school::round_mark};
use tabel::gradebook::{self, Category, Date, PeriodKind, Snapshot, YearChoice};

fn day(text: &str) -> Date {
    Date::parse_iso(text).unwrap()
}

async fn fill(t: &TestDb, students: u32, seed: u64, today: &str) -> Vec<Snapshot> {
    let options = demo::Options {
        students,
        schools: None,
        seed,
        today: day(today),
    };
    demo::run(&t.db, &options).await.unwrap();
    let mut out = Vec::new();
    for s in gradebook::list_schools(&t.db).await.unwrap() {
        out.push(
            gradebook::load(&t.db, s.id, YearChoice::On(day(today)))
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn migrations_apply_twice_on_both_backends() {
    for t in TestDb::each().await {
        // TestDb already applied them once.
        t.db.migrate().await.unwrap();
        t.db.migrate().await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
        assert!(n >= 1, "{}", t.label);
        t.finish().await;
    }
}

/// Both migrations describe the same tables and columns, and PostgreSQL
/// carries a comment on every table and column.
#[tokio::test]
async fn schemas_agree_and_are_commented() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let lite = TestDb::sqlite().await;
    let pg_cols: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, \
                col_description(format('%I', c.table_name)::regclass, c.ordinal_position::int) \
         FROM information_schema.columns c \
         WHERE c.table_schema = 'public' AND c.table_name <> '_sqlx_migrations' \
         ORDER BY 1, 2",
    )
    .fetch_all(pg.db.pool())
    .await
    .unwrap();
    for (table, column, comment) in &pg_cols {
        assert!(
            comment.as_deref().is_some_and(|c| !c.is_empty()),
            "{table}.{column} has no comment"
        );
    }
    let tables: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT t.table_name::text, obj_description(format('%I', t.table_name)::regclass, 'pg_class') \
         FROM information_schema.tables t WHERE t.table_schema = 'public' \
         AND t.table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(pg.db.pool())
    .await
    .unwrap();
    assert!(tables.len() >= 20);
    for (table, comment) in &tables {
        assert!(comment.is_some(), "table {table} has no comment");
    }
    let mut lite_cols = Vec::new();
    for (table, _) in &tables {
        let cols: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(lite.db.pool())
                .await
                .unwrap();
        assert!(!cols.is_empty(), "SQLite lacks table {table}");
        lite_cols.extend(cols.into_iter().map(|(c,)| (table.clone(), c)));
    }
    lite_cols.sort();
    let pg_names: Vec<(String, String)> = pg_cols.into_iter().map(|(t, c, _)| (t, c)).collect();
    assert_eq!(lite_cols, pg_names);
    // Every SQLite column carries an inline comment in its CREATE TABLE.
    let mut sql = String::new();
    for entry in std::fs::read_dir(repo("migrations/sqlite")).unwrap() {
        sql.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    for line in sql.lines().map(str::trim) {
        let is_column = line
            .split_whitespace()
            .nth(1)
            .is_some_and(|w| ["INTEGER", "TEXT", "REAL"].contains(&w));
        if is_column {
            assert!(line.contains(" -- "), "uncommented column: {line}");
        }
    }
    lite.finish().await;
    pg.finish().await;
}

#[tokio::test]
async fn demo_is_deterministic() {
    let a = TestDb::sqlite().await;
    let b = TestDb::sqlite().await;
    let c = TestDb::sqlite().await;
    let sa = fill(&a, 90, 42, "2026-11-28").await;
    let sb = fill(&b, 90, 42, "2026-11-28").await;
    let sc = fill(&c, 90, 43, "2026-11-28").await;
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0].counts(), sb[0].counts());
    assert_eq!(sa[0].digest(), sb[0].digest());
    assert_ne!(
        sa[0].digest(),
        sc[0].digest(),
        "another seed gives other data"
    );
    // Running the demo again replaces the earlier demo with the same data.
    let again = fill(&a, 90, 42, "2026-11-28").await;
    assert_eq!(again[0].digest(), sa[0].digest());
    for t in [a, b, c] {
        t.finish().await;
    }
}

#[tokio::test]
async fn snapshots_are_equal_on_sqlite_and_postgres() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let lite = TestDb::sqlite().await;
    // A finished year: every kind of row, period marks included.
    let a = fill(&lite, 150, 5, "2027-06-29").await;
    let b = fill(&pg, 150, 5, "2027-06-29").await;
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.counts(), y.counts());
        assert!(x == y, "snapshots differ");
        assert_eq!(x.digest(), y.digest());
    }
    lite.finish().await;
    pg.finish().await;
}

/// An SQLite file is read with SQLite's own interface (`load`), everything
/// else through the pool (`load_through_pool`): both make the same
/// snapshot of the same file, for the running year and a finished one,
/// with NULLs and hostile text in it; a value of the wrong kind is an error
/// naming its table and column.
#[tokio::test]
async fn sqlite_is_read_the_same_natively_and_through_the_pool() {
    let t = TestDb::sqlite().await;
    fill(&t, 150, 5, "2027-06-29").await;
    let pool = t.db.pool();
    sqlx::query("UPDATE mark SET comment = $1, work_title = NULL WHERE id % 7 = 0")
        .bind("«кавычки» <b>&amp;</b> \u{0} 😀 \"quoted\" 'x'".to_owned())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE lesson SET homework = NULL WHERE id % 5 = 0")
        .execute(pool)
        .await
        .unwrap();
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    for choice in [
        YearChoice::On(day("2027-06-29")),
        YearChoice::On(day("2026-11-26")),
        YearChoice::On(day("2027-07-15")),
    ] {
        let native = gradebook::load(&t.db, school, choice).await.unwrap();
        let pooled = gradebook::load_through_pool(&t.db, school, choice)
            .await
            .unwrap();
        assert!(!native.marks.is_empty() && !native.period_marks.is_empty());
        assert!(native.marks.iter().any(|m| m.work_title.is_none()));
        assert!(native == pooled, "the two reads differ for {choice:?}");
        assert_eq!(native.digest(), pooled.digest());
    }
    sqlx::query("UPDATE mark SET weight = 'тяжёлый' WHERE id = (SELECT MIN(id) FROM mark)")
        .execute(pool)
        .await
        .unwrap();
    let err = gradebook::load(&t.db, school, YearChoice::On(day("2027-06-29")))
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("FROM mark") && text.contains("weight") && text.contains("row 1"),
        "{text}"
    );
    t.finish().await;
}

#[tokio::test]
async fn a_city_is_many_schools_loaded_one_by_one() {
    let t = TestDb::sqlite().await;
    let snaps = fill(&t, 1_700, 3, "2026-09-20").await;
    assert_eq!(snaps.len(), demo::school_count(1_700) as usize);
    let students: usize = snaps.iter().map(|s| s.students.len()).sum();
    assert_eq!(students, 1_700);
    for s in &snaps {
        assert!(
            s.students
                .iter()
                .all(|st| st.external_id.starts_with(&s.school.external_id))
        );
        assert!(
            s.lessons
                .iter()
                .all(|l| s.classes.iter().any(|c| Some(c.id) == l.class_id)
                    || s.groups.iter().any(|g| Some(g.id) == l.group_id))
        );
    }
    t.finish().await;
}

/// Checks the demo school against what a school's gradebook must look like.
fn check_invariants(s: &Snapshot, today: Date) {
    let class_of: HashMap<i64, &gradebook::Class> = s.classes.iter().map(|c| (c.id, c)).collect();
    let group_of: HashMap<i64, &gradebook::StudyGroup> =
        s.groups.iter().map(|g| (g.id, g)).collect();
    let student_of: HashMap<i64, &gradebook::Student> =
        s.students.iter().map(|st| (st.id, st)).collect();
    let lesson_of: HashMap<i64, &gradebook::Lesson> = s.lessons.iter().map(|l| (l.id, l)).collect();
    let subject_of: HashMap<i64, &gradebook::Subject> =
        s.subjects.iter().map(|x| (x.id, x)).collect();
    let period_of: HashMap<i64, &gradebook::ReportingPeriod> =
        s.periods.iter().map(|p| (p.id, p)).collect();

    // Every student in exactly one class of this year.
    for st in &s.students {
        let class = st.class_id.and_then(|c| class_of.get(&c));
        assert!(class.is_some(), "{} has no class", st.external_id);
        // Gender agreement of the patronymic.
        let p = st.name.patronymic.as_deref().unwrap_or("");
        match st.sex.as_deref() {
            Some("m") => assert!(p.ends_with("ич"), "{:?}", st.name),
            Some("f") => assert!(p.ends_with("на"), "{:?}", st.name),
            other => panic!("sex {other:?}"),
        }
        assert_eq!(st.key.len(), 26);
    }
    let keys: HashSet<&str> = s.students.iter().map(|st| st.key.as_str()).collect();
    assert_eq!(keys.len(), s.students.len(), "student keys are unique");

    // Guardians: one or two per student; some guardians have several children.
    let mut per_student: HashMap<i64, usize> = HashMap::new();
    let mut per_guardian: HashMap<i64, usize> = HashMap::new();
    for link in &s.guardian_links {
        *per_student.entry(link.student_id).or_default() += 1;
        *per_guardian.entry(link.guardian_id).or_default() += 1;
    }
    for st in &s.students {
        let n = per_student.get(&st.id).copied().unwrap_or(0);
        assert!((1..=2).contains(&n), "{} has {n} guardians", st.external_id);
    }
    assert!(
        per_guardian.values().any(|&n| n >= 2),
        "no guardian with several children"
    );

    // Subjects by grade.
    for l in &s.lessons {
        let grade = match (l.class_id, l.group_id) {
            (Some(c), None) => class_of[&c].grade,
            (None, Some(g)) => class_of[&group_of[&g].class_id.unwrap()].grade,
            other => panic!("lesson {} has class/group {other:?}", l.external_id),
        };
        let subject = subject_of[&l.subject_id];
        if subject.external_id.ends_with("-chemistry") {
            assert!(grade >= 8, "chemistry in grade {grade}");
        }
        if subject.name == "Окружающий мир" {
            assert!(grade <= 4, "Окружающий мир in grade {grade}");
        }
        // Dates: inside the year, not after today, never Sunday or a day off.
        assert!(l.date >= s.year.starts_on && l.date <= s.year.ends_on && l.date <= today);
        assert_ne!(chrono::Datelike::weekday(&l.date.0), chrono::Weekday::Sun);
        assert!(
            !s.days_off
                .iter()
                .any(|d| d.date == l.date && d.grade.is_none_or(|g| g == grade)),
            "lesson on a day off: {}",
            l.date
        );
        // The teacher teaches this subject to this class or group.
        let teacher = l.teacher_id.expect("lesson has a teacher");
        assert!(
            s.assignments.iter().any(|a| a.staff_id == teacher
                && a.subject_id == l.subject_id
                && a.class_id == l.class_id
                && a.group_id == l.group_id),
            "lesson {} is given by a teacher not assigned to it",
            l.external_id
        );
    }

    // Marks and absences only on lessons the student attends.
    let attends = |student: i64, lesson: &gradebook::Lesson| {
        let st = student_of[&student];
        match (lesson.class_id, lesson.group_id) {
            (Some(c), _) => st.class_id == Some(c),
            (_, Some(g)) => group_of[&g].members.binary_search(&student).is_ok(),
            _ => false,
        }
    };
    let absent: HashSet<(i64, i64)> = s
        .attendance
        .iter()
        .filter(|a| a.code != "о")
        .map(|a| (a.student_id, a.lesson_id))
        .collect();
    let legend_codes = |cat: fn(Category) -> bool| -> HashSet<&str> {
        s.legend
            .iter()
            .filter(|e| cat(e.category))
            .map(|e| e.code.as_str())
            .collect()
    };
    let attendance_codes = legend_codes(|c| {
        matches!(
            c,
            Category::Absent | Category::Ill | Category::Excused | Category::Late
        )
    });
    let mark_codes = legend_codes(|c| {
        !matches!(
            c,
            Category::Absent | Category::Ill | Category::Excused | Category::Late
        )
    });
    for a in &s.attendance {
        assert!(
            attends(a.student_id, lesson_of[&a.lesson_id]),
            "absence on a lesson not attended"
        );
        assert!(
            attendance_codes.contains(a.code.as_str()),
            "attendance code {}",
            a.code
        );
    }
    for m in &s.marks {
        let l = lesson_of[&m.lesson_id.unwrap()];
        assert!(
            attends(m.student_id, l),
            "mark {} on a lesson not attended",
            m.external_id
        );
        assert!(
            !absent.contains(&(m.student_id, l.id)),
            "mark for an absent student"
        );
        assert_eq!((m.date, m.subject_id), (l.date, l.subject_id));
        assert!(mark_codes.contains(m.value.as_str()), "mark {}", m.value);
        let grade = class_of[&student_of[&m.student_id].class_id.unwrap()].grade;
        assert_ne!(grade, 1, "a mark in grade 1");
    }
    // Absences cluster: most illness absences sit in runs of several days.
    let mut ill_days: HashMap<i64, HashSet<Date>> = HashMap::new();
    for a in s.attendance.iter().filter(|a| a.code == "б") {
        ill_days
            .entry(a.student_id)
            .or_default()
            .insert(lesson_of[&a.lesson_id].date);
    }
    for days in ill_days.values() {
        assert!(
            days.len() >= 3 || days.iter().all(|d| *d <= today),
            "{days:?}"
        );
    }

    // Period marks: in the legend, for finished periods of the class's kind,
    // and the school's rule applied to the period's marks: the rounded
    // weighted average, or the next mark up for an average at most 0,10
    // short of it (a teacher's decision); «н/а» for fewer marks than the
    // rule needs.
    let mut log: HashMap<(i64, i64), Vec<&gradebook::Mark>> = HashMap::new();
    for m in &s.marks {
        log.entry((m.student_id, m.subject_id)).or_default().push(m);
    }
    for pm in &s.period_marks {
        let p = period_of[&pm.period_id];
        let class = class_of[&student_of[&pm.student_id].class_id.unwrap()];
        assert!(p.ends_on < today, "period mark for unfinished {}", p.title);
        assert_ne!(class.grade, 1, "period mark in grade 1");
        assert!(
            mark_codes.contains(pm.value.as_str()),
            "period mark {}",
            pm.value
        );
        if p.kind.is_term() {
            assert_eq!(
                p.kind, class.term_kind,
                "{} marked by {:?}",
                class.title, p.kind
            );
            let rule = s.school.rounding();
            let values: Vec<(f64, f64)> = log
                .get(&(pm.student_id, pm.subject_id))
                .into_iter()
                .flatten()
                .filter(|m| m.date >= p.starts_on && m.date <= p.ends_on)
                .map(|m| (m.value.parse::<f64>().unwrap(), m.weight))
                .collect();
            if let Ok(v) = pm.value.parse::<i64>() {
                let average = gradebook::rounding::weighted_average(&values).unwrap();
                let by_rule = rule.term_mark(&values).expect("enough marks");
                assert_eq!(by_rule, round_mark(average), "the usual rule");
                let rounded_up = v == by_rule + 1
                    && rule.lowest_for(v).is_some_and(|t| {
                        gradebook::rounding::hundredths(average) + 10
                            >= gradebook::rounding::hundredths(t)
                    });
                assert!(
                    v == by_rule || rounded_up,
                    "period mark {v} against its marks"
                );
            } else if pm.value == "н/а" {
                assert!(
                    values.len() < rule.min_marks,
                    "«н/а» with {} marks",
                    values.len()
                );
            }
        }
        if matches!(p.kind, PeriodKind::Exam | PeriodKind::Final) {
            assert!(class.grade == 9 || class.grade == 11);
        }
    }
}

#[tokio::test]
async fn demo_invariants_in_the_autumn() {
    let t = TestDb::sqlite().await;
    let today = day("2026-11-28");
    let snaps = fill(&t, 800, 1, "2026-11-28").await;
    let s = &snaps[0];
    assert_eq!(s.students.len(), 800);
    check_invariants(s, today);
    // 2–4 classes per grade, 20–30 students per class, a class teacher each.
    for grade in 1..=11 {
        let classes: Vec<_> = s.classes.iter().filter(|c| c.grade == grade).collect();
        assert!(
            (2..=4).contains(&classes.len()),
            "grade {grade}: {} classes",
            classes.len()
        );
        for c in classes {
            let n = s
                .students
                .iter()
                .filter(|st| st.class_id == Some(c.id))
                .count();
            assert!((20..=30).contains(&n), "{} has {n} students", c.title);
            assert!(
                c.class_teacher_id.is_some(),
                "{} has no class teacher",
                c.title
            );
        }
    }
    // The first quarter is over: its marks exist; the second is not.
    let q1 = s
        .periods
        .iter()
        .find(|p| p.kind == PeriodKind::Quarter && p.number == 1)
        .unwrap();
    let q2 = s
        .periods
        .iter()
        .find(|p| p.kind == PeriodKind::Quarter && p.number == 2)
        .unwrap();
    assert!(s.period_marks.iter().any(|m| m.period_id == q1.id));
    assert!(!s.period_marks.iter().any(|m| m.period_id == q2.id));
    assert!(s.period_marks.iter().any(|m| m.value == "н/а") || s.period_marks.len() > 5000);
    // Homework is Markdown with lists and the odd link; notes exist.
    assert!(s.lessons.iter().any(|l| {
        l.homework
            .as_deref()
            .is_some_and(|h| h.contains("\n- ") || h.contains("\n1. "))
    }));
    assert!(s.lessons.iter().any(|l| {
        l.homework
            .as_deref()
            .is_some_and(|h| h.contains("](https://"))
    }));
    assert!(!s.notes.is_empty());
    // Strong students get more fives than weak ones: the distribution is believable.
    let fives = s.marks.iter().filter(|m| m.value == "5").count() as f64 / s.marks.len() as f64;
    let twos = s.marks.iter().filter(|m| m.value == "2").count() as f64 / s.marks.len() as f64;
    assert!(fives > 0.15 && fives < 0.5, "share of fives {fives}");
    assert!(twos > 0.005 && twos < 0.12, "share of twos {twos}");
    t.finish().await;
}

#[tokio::test]
async fn demo_invariants_after_the_year() {
    let t = TestDb::sqlite().await;
    let today = day("2027-06-29");
    let snaps = fill(&t, 200, 9, "2027-06-29").await;
    let s = &snaps[0];
    check_invariants(s, today);
    let year = s
        .periods
        .iter()
        .find(|p| p.kind == PeriodKind::Year)
        .unwrap();
    let with_year: HashSet<i64> = s
        .period_marks
        .iter()
        .filter(|m| m.period_id == year.id)
        .map(|m| m.student_id)
        .collect();
    let class_of: HashMap<i64, i64> = s.classes.iter().map(|c| (c.id, c.grade)).collect();
    for st in &s.students {
        let grade = class_of[&st.class_id.unwrap()];
        assert_eq!(
            with_year.contains(&st.id),
            grade > 1,
            "year marks of {}",
            st.external_id
        );
    }
    assert!(s.period_marks.iter().any(|m| {
        s.periods
            .iter()
            .any(|p| p.id == m.period_id && p.kind == PeriodKind::Exam)
    }));
    t.finish().await;
}
