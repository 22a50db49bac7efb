//! `tabel import dnevnik` against a stand-in for Дневник.ру on loopback
//! (`support::dnevnik`): the fixture school imports into both backends, a
//! second night changes exactly what changed, ids above 2^53 survive, and
//! every recorded failure gives its message, or succeeds after retries,
//! with the database left as it was.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::support::dnevnik::{self, Fault, Peer, SCHOOL, TOKEN};
use crate::support::import::{checksum, snapshots};
use crate::support::{TestDb, page, tabel};
use tabel::config::Dnevnik;
use tabel::gradebook::{Date, Snapshot};
use tabel::import::{ImportError, SyncOptions, Synced, import_dnevnik};

fn day(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

/// Settings for the peer: short waits, so that retries take milliseconds.
fn settings(peer: &Peer) -> Dnevnik {
    Dnevnik {
        base_url: peer.base_url.clone(),
        timeout_seconds: 5.0,
        retries: 4,
        retry_seconds: 0.02,
        retry_ceiling_seconds: 0.2,
        ..Dnevnik::default()
    }
}

async fn sync(t: &TestDb, settings: &Dnevnik, to: &str) -> Result<Synced, ImportError> {
    sync_with(t, settings, to, TOKEN).await
}

async fn sync_with(
    t: &TestDb,
    settings: &Dnevnik,
    to: &str,
    token: &str,
) -> Result<Synced, ImportError> {
    import_dnevnik(
        &t.db,
        &SyncOptions {
            school: SCHOOL,
            from: None,
            to: day(to),
            full: false,
            dry_run: false,
            token,
            settings,
            progress: false,
        },
    )
    .await
}

fn inserted(s: &Synced, table: &str) -> u64 {
    s.summary.table(table).map_or(0, |c| c.inserted)
}

/// The school as text, by external ids (surrogate ids and random URL keys
/// left out): what the snapshot test pins and what the backends must agree on.
fn dump(s: &Snapshot) -> String {
    let mut out = String::new();
    let ext = |list: &[(i64, String)], id: Option<i64>| {
        id.and_then(|id| list.iter().find(|(i, _)| *i == id).map(|(_, e)| e.clone()))
            .unwrap_or_else(|| "-".into())
    };
    let staff: Vec<(i64, String)> = s
        .staff
        .iter()
        .map(|x| (x.id, x.external_id.clone()))
        .collect();
    let subjects: Vec<(i64, String)> = s.subjects.iter().map(|x| (x.id, x.name.clone())).collect();
    let classes: Vec<(i64, String)> = s.classes.iter().map(|x| (x.id, x.title.clone())).collect();
    let groups: Vec<(i64, String)> = s.groups.iter().map(|x| (x.id, x.title.clone())).collect();
    let students: Vec<(i64, String)> = s
        .students
        .iter()
        .map(|x| (x.id, x.external_id.clone()))
        .collect();
    let lessons: Vec<(i64, String)> = s
        .lessons
        .iter()
        .map(|x| (x.id, x.external_id.clone()))
        .collect();
    let periods: Vec<(i64, String)> = s.periods.iter().map(|x| (x.id, x.title.clone())).collect();
    let kinds: Vec<(i64, String)> = s
        .work_kinds
        .iter()
        .map(|x| (x.id, x.title.clone()))
        .collect();
    let sc = &s.school;
    writeln!(
        out,
        "school {} | {} | {} | {:?} | {}",
        sc.external_id, sc.name, sc.short_name, sc.number, sc.address
    )
    .unwrap();
    writeln!(
        out,
        "year {} {} {} … {}",
        s.year.external_id, s.year.title, s.year.starts_on, s.year.ends_on
    )
    .unwrap();
    for p in &s.periods {
        writeln!(
            out,
            "period {} {:?} {} {} {} … {}",
            p.external_id, p.kind, p.number, p.title, p.starts_on, p.ends_on
        )
        .unwrap();
    }
    for k in &s.work_kinds {
        writeln!(out, "work kind {} {} {}", k.code, k.title, k.weight).unwrap();
    }
    for x in &s.staff {
        writeln!(
            out,
            "staff {} {} {:?} {:?} {:?}",
            x.external_id,
            x.name.full(),
            x.position,
            x.email,
            x.roles
        )
        .unwrap();
    }
    for x in &s.subjects {
        writeln!(
            out,
            "subject {} {} | {} | {}",
            x.external_id, x.name, x.short_name, x.position
        )
        .unwrap();
    }
    for c in &s.classes {
        writeln!(
            out,
            "class {} {} grade {} letter {} teacher {} {:?}",
            c.external_id,
            c.title,
            c.grade,
            c.letter,
            ext(&staff, c.class_teacher_id),
            c.term_kind
        )
        .unwrap();
    }
    for st in &s.students {
        writeln!(
            out,
            "student {} {} {:?} class {} enrolled {} left {:?}",
            st.external_id,
            st.name.full(),
            st.sex,
            ext(&classes, st.class_id),
            st.enrolled_on,
            st.left_on
        )
        .unwrap();
    }
    for m in &s.class_members {
        writeln!(
            out,
            "in class {} {} {} … {:?}",
            ext(&classes, Some(m.class_id)),
            ext(&students, Some(m.student_id)),
            m.from_on,
            m.until_on
        )
        .unwrap();
    }
    for g in &s.groups {
        writeln!(
            out,
            "group {} {} class {} subject {}",
            g.external_id,
            g.title,
            ext(&classes, g.class_id),
            ext(&subjects, g.subject_id)
        )
        .unwrap();
    }
    for m in &s.group_members {
        writeln!(
            out,
            "in group {} {} {:?} … {:?}",
            ext(&groups, Some(m.group_id)),
            ext(&students, Some(m.student_id)),
            m.from_on,
            m.until_on
        )
        .unwrap();
    }
    let guardians: Vec<(i64, String)> = s
        .guardians
        .iter()
        .map(|x| (x.id, x.external_id.clone()))
        .collect();
    for g in &s.guardians {
        writeln!(out, "guardian {} {}", g.external_id, g.name.full()).unwrap();
    }
    for l in &s.guardian_links {
        writeln!(
            out,
            "guardian of {} {} {}",
            ext(&students, Some(l.student_id)),
            ext(&guardians, Some(l.guardian_id)),
            l.relation
        )
        .unwrap();
    }
    for a in &s.assignments {
        writeln!(
            out,
            "teaches {} {} {} {}",
            a.external_id,
            ext(&subjects, Some(a.subject_id)),
            ext(&classes, a.class_id),
            ext(&groups, a.group_id)
        )
        .unwrap();
    }
    for l in &s.lessons {
        writeln!(
            out,
            "lesson {} {} #{} {} {}{} {} | {} | {:?}",
            l.external_id,
            l.date,
            l.slot,
            ext(&subjects, Some(l.subject_id)),
            if l.class_id.is_some() {
                ext(&classes, l.class_id)
            } else {
                String::new()
            },
            if l.group_id.is_some() {
                ext(&groups, l.group_id)
            } else {
                String::new()
            },
            ext(&staff, l.teacher_id),
            l.topic,
            l.homework
        )
        .unwrap();
    }
    for m in &s.marks {
        writeln!(
            out,
            "mark {} {} {} {} lesson {} {} by {} kind {} {:?} weight {}",
            m.external_id,
            ext(&students, Some(m.student_id)),
            ext(&subjects, Some(m.subject_id)),
            m.date,
            ext(&lessons, m.lesson_id),
            m.value,
            ext(&staff, m.teacher_id),
            ext(&kinds, m.work_kind_id),
            m.work_title,
            m.weight
        )
        .unwrap();
    }
    for a in &s.attendance {
        writeln!(
            out,
            "absence {} {} {}",
            ext(&students, Some(a.student_id)),
            ext(&lessons, Some(a.lesson_id)),
            a.code
        )
        .unwrap();
    }
    for p in &s.period_marks {
        writeln!(
            out,
            "period mark {} {} {} {} {}",
            p.external_id,
            ext(&students, Some(p.student_id)),
            ext(&subjects, Some(p.subject_id)),
            ext(&periods, Some(p.period_id)),
            p.value
        )
        .unwrap();
    }
    out
}

async fn the_school(t: &TestDb) -> Snapshot {
    snapshots(&t.db, "2026-09-11").await.remove(0)
}

/// The row of `dnevnik_sync`: first and last day, requests.
async fn remembered(t: &TestDb) -> Option<(String, String, i64)> {
    sqlx::query_as("SELECT from_on, until_on, requests FROM dnevnik_sync")
        .fetch_optional(t.db.pool())
        .await
        .unwrap()
}

/// The fixture school imports: the counts and the whole school match its
/// files on both backends, a second run of the same night changes nothing,
/// and the built pages show its marks, homework and absences.
#[tokio::test]
async fn the_fixture_school_imports_and_its_pages_show_it() {
    let mut dumps = Vec::new();
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        let cfg = settings(&peer);
        let synced = sync(&t, &cfg, "2026-09-11").await.unwrap();
        let s = &synced.summary;
        assert_eq!(
            (synced.window.from, synced.window.to, synced.window.full),
            (day("2026-09-01"), day("2026-09-11"), true),
            "the first sync takes the year so far"
        );
        // 1 school, 3 lists, 4 groups asked for alone (the list gives no
        // types), 4 × students, 4 × subjects, 2 × periods and class teacher
        // (classes), 4 × lessons, marks and final marks (one part each),
        // attendance for 6 group × subject pairs, relatives of 6 students
        // with a user account.
        assert_eq!(synced.requests, 44, "{synced}");
        assert_eq!(peer.requests(), 44);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("1 group(s) of other school years")),
            "{synced}"
        );
        for (table, n) in [
            ("school", 1),
            ("legend_entry", 13),
            ("work_kind", 3),
            ("school_year", 1),
            ("reporting_period", 7),
            ("staff", 5),
            ("staff_role", 5),
            ("subject", 5),
            ("class", 2),
            ("student", 7),
            ("study_group", 2),
            ("group_member", 4),
            ("guardian", 5),
            ("guardian_student", 6),
            ("teaching_assignment", 6),
            ("lesson", 40),
            ("mark", 25),
            ("attendance", 7),
            ("period_mark", 6),
        ] {
            assert_eq!(inserted(&synced, table), n, "{table}\n{synced}");
        }
        assert_eq!(s.changed().2, 0, "nothing to delete in a new school");
        assert_eq!(
            remembered(&t).await,
            Some(("2026-09-01".into(), "2026-09-11".into(), 44))
        );
        let school = the_school(&t).await;
        // A few things the counts do not show.
        let text = dump(&school);
        assert!(
            text.contains(
                "mark 1000013000021 1000004000006 История 2026-09-02 lesson 1000005000009 зач"
            ),
            "the text-only mark:\n{text}"
        );
        assert!(
            text.contains(
                "period mark 1000004000005-1000007000004-2026-year 1000004000005 Алгебра Год 4"
            ),
            "a final mark without a period is the year's:\n{text}"
        );
        assert!(
            text.contains(
                "group 1000003000003 5А, английский язык, гр. 1 class 5А subject Английский язык"
            ),
            "{text}"
        );
        assert!(
            text.contains("mark 1000013000019 1000004000004 Английский язык 2026-09-11 lesson - 5"),
            "a mark without a lesson takes the subgroup's subject:\n{text}"
        );
        insta::assert_snapshot!("dnevnik_fixture_school", text);
        dumps.push(text);
        // The same night again changes nothing.
        let again = sync(&t, &cfg, "2026-09-11").await.unwrap();
        assert_eq!(again.summary.changed(), (0, 0, 0), "{again}");
        assert_eq!(
            (again.window.from, again.window.full),
            (day("2026-09-04"), false),
            "a week of look-back"
        );
        if t.label == "sqlite" {
            pages_show_the_journal(&t, &school).await;
        }
        t.finish().await;
    }
    if let [a, b] = dumps.as_slice() {
        assert_eq!(a, b, "SQLite and PostgreSQL hold the same school");
    }
}

async fn pages_show_the_journal(t: &TestDb, s: &Snapshot) {
    let out = tempfile::tempdir().unwrap();
    let mut opts = crate::support::build::options(true);
    opts.date = day("2026-09-11");
    tabel::build::run(&t.db, out.path(), &opts).await.unwrap();
    let maria = s
        .students
        .iter()
        .find(|x| x.name.family_name == "Смирнова")
        .unwrap();
    // The second week is the running one on the 11th: on her start page.
    let week2 = page(&out.path().join("current/s").join(&maria.key), "index.html");
    // Her homework, marks and her illness on the 7th.
    for wanted in [
        "<p class=\"subj\">Русский язык <b class=\"abs\">б</b></p>",
        "<p>Упр. 51</p>",
        "<p>Подготовиться к контрольной работе: повторить § 1–4</p>",
        "<p class=\"mk\"><b>5</b> Работа на уроке, вес 1</p>",
        "<p class=\"mk\"><b>4</b> Контрольная работа № 1, вес 2</p>",
    ] {
        assert!(week2.contains(wanted), "{wanted}:\n{week2}");
    }
    let week1 = page(
        &out.path().join("current/s").join(&maria.key),
        "w/2026-W36.html",
    );
    for wanted in [
        "<strong>упр. 34</strong>",
        "Выучить слова по теме «Семья»",
        "<p class=\"mk\"><b>5</b> Работа на уроке, вес 1</p>",
    ] {
        assert!(week1.contains(wanted), "{wanted}:\n{week1}");
    }
    let marks = page(&out.path().join("current/s").join(&maria.key), "marks.html");
    assert!(
        marks.contains("Английский язык") && marks.contains("Математика"),
        "{marks}"
    );
}

/// A second night with one changed and one deleted mark changes exactly
/// those rows, and asks only for the days since the last night.
#[tokio::test]
async fn a_second_night_changes_exactly_what_changed() {
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        let mut cfg = settings(&peer);
        cfg.look_back_days = 0;
        sync(&t, &cfg, "2026-09-11").await.unwrap();
        let before = dump(&the_school(&t).await);
        peer.take_log();
        peer.serve(dnevnik::fixture_night_two());
        let night = sync(&t, &cfg, "2026-09-14").await.unwrap();
        assert_eq!(night.summary.changed(), (0, 1, 1), "{night}");
        assert_eq!(
            night.summary.table("mark").map(|c| (c.updated, c.deleted)),
            Some((1, 1))
        );
        let after = dump(&the_school(&t).await);
        let old: Vec<&str> = before
            .lines()
            .filter(|l| !after.lines().any(|a| a == *l))
            .collect();
        let new: Vec<&str> = after
            .lines()
            .filter(|l| !before.lines().any(|b| b == *l))
            .collect();
        assert_eq!(old.len(), 2, "{old:?}");
        assert!(
            old.iter()
                .all(|l| l.starts_with("mark ") && l.contains(" 2026-09-11 ")),
            "{old:?}"
        );
        assert_eq!(new.len(), 1, "{new:?}");
        assert!(
            new[0].starts_with("mark ")
                && new[0].contains("1000004000001 Русский язык 2026-09-11")
                && new[0].contains(" 5 by "),
            "{new:?}"
        );
        // Only the window from the last night's last day was asked for.
        let log = peer.take_log();
        let windowed: Vec<&String> = log
            .iter()
            .filter(|p| {
                p.contains("/lessons/") || p.contains("/marks/") || p.contains("lesson-log-entries")
            })
            .collect();
        assert!(!windowed.is_empty());
        for p in &windowed {
            assert!(
                p.contains("2026-09-11") && p.contains("2026-09-14") && !p.contains("2026-09-01"),
                "{p}"
            );
        }
        // Attendance only for the subjects taught on those days.
        let attendance = windowed
            .iter()
            .filter(|p| p.contains("lesson-log-entries"))
            .count();
        assert_eq!(
            attendance, 4,
            "5А Russian and maths, 10Б algebra and history:\n{log:#?}"
        );
        assert!(
            !log.iter().any(|p| p.contains("/relatives")),
            "no new students, no relatives: {log:#?}"
        );
        assert_eq!(night.requests as usize, log.len());
        assert_eq!(
            remembered(&t).await.map(|(f, u, _)| (f, u)),
            Some(("2026-09-11".into(), "2026-09-14".into()))
        );
        t.finish().await;
    }
}

/// Rosters change too: a student who is no longer in her class has left
/// the day before the night's day, a student who moved to the other
/// subgroup has two spans, and a new student counts from that day, with
/// only his relatives asked for.
#[tokio::test]
async fn rosters_follow_leavers_movers_and_newcomers() {
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        let cfg = settings(&peer);
        sync(&t, &cfg, "2026-09-11").await.unwrap();
        let mut data = dnevnik::fixture_school();
        let persons = |d: &mut dnevnik::Data, g: &str| {
            d.get_mut(&format!("groups/{g}/persons.json"))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .clone()
        };
        // Зайцев leaves 10Б; Смирнова moves from group 1 to group 2; Орлов joins 5А.
        let mut ten = persons(&mut data, "1000003000002");
        ten.retain(|p| p["id_str"] != "1000004000007");
        let mut one = persons(&mut data, "1000003000003");
        let maria = one.remove(1);
        let mut two = persons(&mut data, "1000003000004");
        two.push(maria);
        let mut five = persons(&mut data, "1000003000001");
        let mut newcomer = five[0].clone();
        newcomer["id"] = 1000004000008u64.into();
        newcomer["id_str"] = "1000004000008".into();
        newcomer["lastName"] = "Орлов".into();
        newcomer["userId"] = 1000006000008u64.into();
        newcomer["userId_str"] = "1000006000008".into();
        five.push(newcomer);
        for (g, list) in [
            ("1000003000002", ten),
            ("1000003000003", one),
            ("1000003000004", two),
            ("1000003000001", five),
        ] {
            data.insert(format!("groups/{g}/persons.json"), list.into());
        }
        peer.serve(data);
        peer.take_log();
        let night = sync(&t, &cfg, "2026-09-14").await.unwrap();
        let log = peer.take_log();
        let relatives: Vec<&String> = log.iter().filter(|p| p.contains("/relatives")).collect();
        assert_eq!(relatives, ["/v2/users/1000006000008/relatives"], "{night}");
        let now: Option<i64> =
            sqlx::query_scalar("SELECT class_id FROM student WHERE external_id = '1000004000007'")
                .fetch_one(t.db.pool())
                .await
                .unwrap();
        assert_eq!(now, None, "he is in no class now");
        let s = the_school(&t).await;
        let text = dump(&s);
        for wanted in [
            // The year's record keeps his last class of the year.
            "student 1000004000007 Зайцев Никита Романович Some(\"m\") class 10Б enrolled 2026-09-01 left Some(Date(2026-09-13))",
            "in class 10Б 1000004000007 2026-09-01 … Some(Date(2026-09-13))",
            "student 1000004000008 Орлов Пётр Сергеевич Some(\"m\") class 5А enrolled 2026-09-14 left None",
            "in class 5А 1000004000008 2026-09-14 … None",
            "in group 5А, английский язык, гр. 1 1900000000000000123 None … Some(Date(2026-09-13))",
            "in group 5А, английский язык, гр. 2 1900000000000000123 Some(Date(2026-09-14)) … None",
        ] {
            assert!(text.contains(wanted), "{wanted}\n{text}");
        }
        t.finish().await;
    }
}

/// Ids above 2^53, whose numbers a double-based reader would round, are
/// read from their string twins and stored exactly, references included.
#[tokio::test]
async fn ids_above_2_53_survive() {
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        sync(&t, &settings(&peer), "2026-09-11").await.unwrap();
        let s = the_school(&t).await;
        let maria = s
            .students
            .iter()
            .find(|x| x.external_id == "1900000000000000123")
            .unwrap();
        assert_eq!(maria.name.full(), "Смирнова Мария Андреевна");
        assert!(
            !s.students
                .iter()
                .any(|x| x.external_id.starts_with("19000000000000000"))
        );
        let mark = s
            .marks
            .iter()
            .find(|m| m.external_id == "1900000000000000777")
            .unwrap();
        assert_eq!(mark.student_id, maria.id);
        let lesson = s
            .lessons
            .iter()
            .find(|l| l.external_id == "9007199254741001")
            .unwrap();
        assert_eq!(lesson.date, day("2026-09-04"));
        assert!(s.marks.iter().any(|m| m.lesson_id == Some(lesson.id)));
        assert!(
            s.attendance
                .iter()
                .any(|a| a.lesson_id == lesson.id && a.code == "н")
        );
        assert!(
            !s.lessons
                .iter()
                .any(|l| l.external_id == "9007199254741000")
        );
        // The group membership and the guardian link of the student too.
        assert!(s.group_members.iter().any(|m| m.student_id == maria.id));
        assert!(s.guardian_links.iter().any(|l| l.student_id == maria.id));
        t.finish().await;
    }
}

/// A 401, a 500 then success, a 429 storm, silence, an HTML outage page and
/// broken JSON: each gives its clear message or succeeds after retries, and
/// a failed night leaves the database and the remembered window as they were.
#[tokio::test]
async fn failures_name_the_request_and_change_nothing() {
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        let cfg = settings(&peer);
        sync(&t, &cfg, "2026-09-11").await.unwrap();
        let (data, window) = (checksum(&t.db).await, remembered(&t).await);
        let marks = format!("{}edu-groups/1000003000001/marks/", peer.base_url);
        let mut quick = cfg.clone();
        quick.timeout_seconds = 0.3;
        quick.retries = 1;
        let cases: Vec<(&str, Fault, &Dnevnik, &str, Vec<String>)> = vec![
            (
                "a refused token",
                Fault::None,
                &cfg,
                "wrong-token",
                vec![
                    format!(
                        "GET {}schools/{SCHOOL}: Дневник.ру refused the token (authorizationFailed: Доступ к ресурсу запрещён",
                        peer.base_url
                    ),
                    "TABEL_DNEVNIK_TOKEN".into(),
                ],
            ),
            (
                "silence",
                Fault::Silence("1000003000001/marks/".into()),
                &quick,
                TOKEN,
                vec![
                    marks.clone(),
                    "no answer within 0.3 s (tried 2 times)".into(),
                ],
            ),
            (
                "an outage",
                Fault::Outage,
                &cfg,
                TOKEN,
                vec![
                    format!(
                        "GET {}schools/{SCHOOL}: Дневник.ру answered with an HTML page instead of JSON (HTTP 503, «Дневник.ру — технические работы»)",
                        peer.base_url
                    ),
                    "(tried 5 times)".into(),
                ],
            ),
            (
                "broken JSON",
                Fault::Malformed("1000003000001/marks/".into()),
                &cfg,
                TOKEN,
                vec![
                    marks.clone(),
                    "the answer is not valid JSON: EOF while parsing an object at line 2 column 0"
                        .into(),
                ],
            ),
            (
                "a storm that outlasts the retries",
                Fault::TooMany(1000),
                &cfg,
                TOKEN,
                vec!["too many requests (HTTP 429) (tried 5 times)".into()],
            ),
        ];
        for (what, fault, settings, token, wanted) in cases {
            peer.fault(fault);
            peer.take_log();
            let err = sync_with(&t, settings, "2026-09-12", token)
                .await
                .unwrap_err();
            let text = format!("{err:#}");
            for w in &wanted {
                assert!(text.contains(w.as_str()), "{what}: {w:?} not in\n{text}");
            }
            assert!(matches!(err, ImportError::Other(_)), "{what}");
            assert_eq!(checksum(&t.db).await, data, "{what}: the database changed");
            assert_eq!(remembered(&t).await, window, "{what}: the window changed");
            if what == "a refused token" {
                assert_eq!(peer.requests(), 1, "a refused token is not tried again");
            }
        }
        // Passing trouble: the night succeeds after retries.
        peer.fault(Fault::None);
        peer.take_log();
        let plain = sync(&t, &cfg, "2026-09-12").await.unwrap();
        for (fault, extra) in [(Fault::ServerErrors(3), 3), (Fault::TooMany(4), 4)] {
            peer.fault(fault.clone());
            peer.take_log();
            let night = sync(&t, &cfg, "2026-09-12").await.unwrap();
            assert_eq!(night.requests, plain.requests + extra, "{fault:?}");
            assert_eq!(peer.requests() as u64, night.requests);
            assert_eq!(night.summary.changed(), (0, 0, 0));
            assert_eq!(checksum(&t.db).await, data, "{fault:?}");
        }
        t.finish().await;
    }
}

/// A value the legend does not know is a problem named by its request,
/// item and field, and nothing is written.
#[tokio::test]
async fn problems_name_the_request_item_and_field() {
    let t = TestDb::sqlite().await;
    let mut data = dnevnik::fixture_school();
    let marks = data.get_mut("groups/1000003000002/marks.json").unwrap();
    marks[2]["value"] = "6".into();
    marks[2]["textValue"] = "6".into();
    let peer = Peer::start(data);
    let err = sync(&t, &settings(&peer), "2026-09-11").await.unwrap_err();
    let ImportError::Invalid { problems, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(
        problems[0].to_string(),
        "edu-groups/1000003000002/marks/2026-09-01T00:00:00/2026-09-11T23:59:59:3:value: \"6\" is not a mark of this school's legend (5,4,3,2,1,зач,незач,н/а,осв)"
    );
    assert_eq!(
        checksum(&t.db).await,
        checksum(&TestDb::sqlite().await.db).await
    );
    assert_eq!(remembered(&t).await, None);
    t.finish().await;
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// From the command line as cron runs it: the token from the environment,
/// the summary on standard output, a dry run that writes nothing, and a
/// refused token that exits 1 naming the request.
#[tokio::test]
async fn from_the_command_line() {
    for t in TestDb::each().await {
        let peer = Peer::start(dnevnik::fixture_school());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tabel.toml"), peer.config("")).unwrap();
        let run = |token: Option<&str>, extra: &[&str]| {
            let mut cmd = tabel()
                .args([
                    "--database",
                    &t.url,
                    "import",
                    "dnevnik",
                    "--school",
                    SCHOOL,
                    "--to",
                    "2026-09-11",
                ])
                .args(extra)
                .current_dir(dir.path());
            if let Some(token) = token {
                cmd = cmd.env("TABEL_DNEVNIK_TOKEN", token);
            }
            cmd.output()
        };
        let o = run(None, &[]);
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).contains("TABEL_DNEVNIK_TOKEN is not set"),
            "{}",
            text(&o.stderr)
        );
        let o = run(Some(TOKEN), &["--dry-run"]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("dry run, nothing was written"),
            "{}",
            text(&o.stdout)
        );
        assert_eq!(remembered(&t).await, None, "a dry run remembers nothing");
        let o = run(Some(TOKEN), &[]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = text(&o.stdout);
        assert!(
            out.contains(
                "Дневник.ру: 2026-09-01 … 2026-09-11 (the whole year so far), 44 requests in"
            ),
            "{out}"
        );
        assert!(out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["mark", "25", "25", "0", "0"]), "{out}");
        // Under cron (no terminal), each round is a log line.
        assert!(
            text(&o.stderr).contains("Дневник.ру: marks"),
            "{}",
            text(&o.stderr)
        );
        let o = run(Some("expired"), &[]);
        assert_eq!(o.status.code(), Some(1));
        let err = text(&o.stderr);
        assert!(
            err.contains("the import failed; nothing was changed"),
            "{err}"
        );
        assert!(err.contains(&format!("caused by: GET {}schools/{SCHOOL}: Дневник.ру refused the token (authorizationFailed", peer.base_url)), "{err}");
        let o = tabel()
            .args([
                "--database",
                &t.url,
                "import",
                "dnevnik",
                "--school",
                "../1",
            ])
            .env("TABEL_DNEVNIK_TOKEN", TOKEN)
            .current_dir(dir.path())
            .output();
        assert_eq!(o.status.code(), Some(1));
        assert!(
            text(&o.stderr).contains("digits only"),
            "{}",
            text(&o.stderr)
        );
        t.finish().await;
    }
}

/// Figures for the README: a nightly sync of a demo-sized school (about
/// 800 students) served by the peer, first the whole year so far, then one
/// day. Run by hand:
/// `cargo test --test testsuite dnevnik::figures -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "takes minutes; prints figures"]
async fn figures_for_a_demo_sized_school() {
    let demo = crate::support::build::fixture_on(800, "2026-11-27").await;
    let s = snapshots(&demo.db, "2026-11-27").await.remove(0);
    let data = dnevnik::from_snapshot(&s);
    let latency_ms: u64 = std::env::var("DNEVNIK_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for t in [TestDb::sqlite().await] {
        let peer = Peer::start(data.clone());
        peer.latency(std::time::Duration::from_millis(latency_ms));
        let mut cfg = settings(&peer);
        cfg.look_back_days = 0;
        let started = std::time::Instant::now();
        let first = sync(&t, &cfg, "2026-11-26").await.unwrap();
        let first_wall = started.elapsed();
        let started = std::time::Instant::now();
        let night = sync(&t, &cfg, "2026-11-27").await.unwrap();
        let night_wall = started.elapsed();
        // The same night again with the default look-back: a week more of
        // lessons, marks and attendance asked for.
        cfg.look_back_days = Dnevnik::default().look_back_days;
        let started = std::time::Instant::now();
        let week = sync(&t, &cfg, "2026-11-27").await.unwrap();
        let week_wall = started.elapsed();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (k, n) in s.counts() {
            counts.insert(k, n);
        }
        println!(
            "demo school: {} students, {} lessons, {} marks; latency {latency_ms} ms, {} in flight",
            counts["student"], counts["lesson"], counts["mark"], cfg.requests_in_flight
        );
        for (what, synced, wall) in [
            ("first sync", &first, first_wall),
            ("one-day incremental", &night, night_wall),
            ("a night with a 7-day look-back", &week, week_wall),
        ] {
            println!(
                "{what}: {} requests, {:.1} s in all\n{synced}",
                synced.requests,
                wall.as_secs_f64()
            );
        }
        t.finish().await;
    }
    demo.finish().await;
}
