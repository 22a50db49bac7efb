//! Checks of the demo's data: the curriculum against the sanitary rules,
//! names against Russian grammar, every list against duplicates, and the
//! homework generator against its promises.

use super::homework::splitmix;
use super::*;
use std::collections::HashSet;

/// Sanitary maxima of weekly hours for a five-day week, by grade.
fn max_hours(grade: u8) -> u32 {
    match grade {
        1 => 21,
        2..=4 => 23,
        5 => 29,
        6 => 30,
        7 => 32,
        8 | 9 => 33,
        _ => 34,
    }
}

fn taught(code: &str, grade: u8) -> bool {
    hours_of(code, grade) > 0
}

fn grades_of(code: &str) -> Vec<u8> {
    (1..=11).filter(|&g| taught(code, g)).collect()
}

fn assert_unique<'a>(what: &str, items: impl IntoIterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for item in items {
        assert!(seen.insert(item), "duplicate in {what}: {item}");
    }
}

#[test]
fn weekly_totals_within_sanitary_maxima() {
    for grade in 1..=11 {
        let total = weekly_hours(grade);
        assert!(total >= 20, "grade {grade}: only {total} hours");
        assert!(
            total <= max_hours(grade),
            "grade {grade}: {total} hours > {}",
            max_hours(grade)
        );
    }
    assert_eq!(weekly_hours(0), 0);
    assert_eq!(weekly_hours(12), 0);
}

#[test]
fn subject_grade_rules() {
    let only = |code: &str, grades: &[u8]| {
        assert_eq!(grades_of(code), grades.to_vec(), "grades of {code}");
    };
    only("reading", &[1, 2, 3, 4]);
    only("literature", &[5, 6, 7, 8, 9, 10, 11]);
    only("math", &[1, 2, 3, 4, 5, 6]);
    for code in ["algebra", "geometry", "probability", "informatics"] {
        only(code, &[7, 8, 9, 10, 11]);
    }
    only("foreign", &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    only("orkse", &[4]);
    only("obzr", &[8, 9, 10, 11]);
    only("project", &[10]);
    only("pe", &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert!(grades_of("chemistry").iter().all(|&g| g >= 8));
    assert!(!grades_of("chemistry").is_empty());
    assert!(grades_of("world").iter().all(|&g| g <= 4));
    assert!(grades_of("physics").iter().all(|&g| g >= 7));
    assert!(taught("physics", 7));
    let odnknr = grades_of("odnknr");
    assert!(odnknr.contains(&5) && odnknr.iter().all(|&g| g == 5 || g == 6));
    assert!(!taught("foreign", 1));
    for s in SUBJECTS.iter() {
        assert_eq!(
            s.split,
            s.code == "foreign" || s.code == "informatics",
            "{}",
            s.code
        );
        assert_eq!(
            s.pass_fail,
            matches!(s.code, "orkse" | "odnknr" | "project"),
            "{}",
            s.code
        );
        assert!(s.hours.iter().any(|&h| h > 0), "{} is never taught", s.code);
    }
}

#[test]
fn subject_codes_unique_and_complete() {
    assert_unique("subject codes", SUBJECTS.iter().map(|s| s.code));
    assert_unique("subject names", SUBJECTS.iter().map(|s| s.name));
    assert_unique("subject short names", SUBJECTS.iter().map(|s| s.short));
    let expected = [
        "russian",
        "literature",
        "foreign",
        "math",
        "algebra",
        "geometry",
        "probability",
        "informatics",
        "history",
        "social",
        "geography",
        "biology",
        "physics",
        "chemistry",
        "world",
        "reading",
        "music",
        "art",
        "technology",
        "pe",
        "obzr",
        "orkse",
        "odnknr",
        "project",
    ];
    assert_eq!(SUBJECTS.len(), expected.len());
    for code in expected {
        assert!(subject(code).is_some(), "missing subject {code}");
    }
    for s in SUBJECTS.iter() {
        assert!(
            s.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "code {}",
            s.code
        );
        assert!(!s.name.is_empty() && !s.short.is_empty() && !s.name_en.is_empty());
    }
}

#[test]
fn topics_for_every_taught_subject_and_grade() {
    for s in SUBJECTS.iter() {
        for grade in 1..=11 {
            let list = topics(s.code, grade);
            if taught(s.code, grade) {
                assert!(
                    list.len() >= 30,
                    "{} grade {grade}: {} topics",
                    s.code,
                    list.len()
                );
            }
        }
    }
    for set in TOPIC_SETS.iter() {
        assert_unique(set.code, set.topics.iter().copied());
        assert!(set.topics.iter().all(|t| !t.trim().is_empty()));
        assert!(
            subject(set.code).is_some(),
            "topics for unknown subject {}",
            set.code
        );
    }
    assert!(topics("nonsense", 5).is_empty());
    assert_eq!(topics("math", 5)[0], "Натуральные числа и шкалы");
    assert!(topics("physics", 7).contains(&"Плотность вещества"));
}

#[test]
fn homework_is_deterministic() {
    for s in SUBJECTS.iter() {
        for grade in grades_of(s.code) {
            for lesson in 1..=40 {
                let pick = splitmix(u64::from(lesson) * 31 + u64::from(grade));
                assert_eq!(
                    homework(s.code, grade, lesson, pick),
                    homework(s.code, grade, lesson, pick),
                    "{} {grade} {lesson}",
                    s.code
                );
            }
        }
    }
    assert_eq!(
        homework("chemistry", 5, 1, 1),
        None,
        "not taught in grade 5"
    );
    assert_eq!(homework("nonsense", 5, 1, 1), None);
}

#[test]
fn homework_pe_often_none() {
    let all: Vec<_> = (1..=68)
        .map(|l| homework("pe", 6, l, splitmix(u64::from(l))))
        .collect();
    let none = all.iter().filter(|h| h.is_none()).count();
    assert!(
        none > 50,
        "PE homework too frequent: {none} of 68 lessons without"
    );
}

#[test]
fn homework_has_links_and_lists_and_progress() {
    let hw: Vec<String> = (1..=200)
        .filter_map(|l| homework("russian", 5, l, splitmix(u64::from(l) ^ 0xABCD)))
        .collect();
    assert!(
        hw.len() > 100 && hw.len() < 190,
        "{} of 200 have homework",
        hw.len()
    );
    assert!(
        hw.iter().any(|h| h.contains("](https://")),
        "no link in Russian homework"
    );
    assert!(
        hw.iter().any(|h| h
            .lines()
            .any(|l| l.starts_with("1. ") || l.starts_with("- "))),
        "no list in Russian homework"
    );
    assert!(
        hw.iter().any(|h| h.contains("\n\n")),
        "no two-paragraph homework"
    );
    assert!(hw.iter().any(|h| h.contains("**")), "no bold");
    // Exercise numbers grow through the year.
    let ex = |l: u32| -> Option<u32> {
        let h = homework("russian", 5, l, 7)?;
        let rest = h.split("Упр. ").nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let early: Vec<u32> = (1..=20).filter_map(ex).collect();
    let late: Vec<u32> = (150..=170).filter_map(ex).collect();
    assert!(!early.is_empty() && !late.is_empty());
    assert!(
        early.iter().max() < late.iter().min(),
        "{early:?} vs {late:?}"
    );
}

#[test]
fn homework_links_are_https() {
    let mut links = 0;
    for s in SUBJECTS.iter() {
        for grade in grades_of(s.code) {
            for lesson in 1..=120 {
                let pick = splitmix(u64::from(lesson) << 8 | u64::from(grade));
                let Some(h) = homework(s.code, grade, lesson, pick) else {
                    continue;
                };
                assert!(!h.trim().is_empty());
                assert!(!h.contains("теме «Итог"), "meta topic named: {h}");
                assert!(!h.contains("http://"), "{h}");
                for part in h.split("](").skip(1) {
                    links += 1;
                    assert!(part.starts_with("https://"), "bad link in {h}");
                    assert!(part.contains(')'), "unclosed link in {h}");
                }
            }
        }
    }
    assert!(links > 20, "only {links} links");
}

/// The feminine form Russian grammar requires, or None for an invariant name.
fn feminine(m: &str) -> Option<String> {
    for suffix in ["ов", "ев", "ёв", "ин", "ын"] {
        if m.ends_with(suffix) {
            return Some(format!("{m}а"));
        }
    }
    for (suffix, replacement) in [("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")]
    {
        if let Some(stem) = m.strip_suffix(suffix) {
            return Some(format!("{stem}{replacement}"));
        }
    }
    None
}

#[test]
fn family_names_follow_grammar() {
    assert!(
        FAMILY_NAMES.len() >= 200,
        "{} family names",
        FAMILY_NAMES.len()
    );
    assert_unique("family names", FAMILY_NAMES.iter().map(|n| n.m));
    assert_unique("feminine family names", FAMILY_NAMES.iter().map(|n| n.f));
    let mut invariant = 0;
    for n in FAMILY_NAMES.iter() {
        match feminine(n.m) {
            Some(f) => assert_eq!(n.f, f, "feminine of {}", n.m),
            None => {
                invariant += 1;
                assert_eq!(n.f, n.m, "{} is invariant", n.m);
            }
        }
    }
    assert!(invariant >= 10);
    assert!(FAMILY_NAMES.iter().filter(|n| n.m.contains('ё')).count() >= 5);
    for (m, f) in [
        ("Иванов", "Иванова"),
        ("Ковальский", "Ковальская"),
        ("Королёв", "Королёва"),
        ("Соловьёв", "Соловьёва"),
        ("Хабибуллин", "Хабибуллина"),
        ("Алиев", "Алиева"),
        ("Шевченко", "Шевченко"),
        ("Ким", "Ким"),
        ("Черных", "Черных"),
        ("Дурново", "Дурново"),
        ("Бондаренко", "Бондаренко"),
    ] {
        assert!(FAMILY_NAMES.iter().any(|n| n.m == m && n.f == f), "{m}/{f}");
    }
}

#[test]
fn given_names_and_patronymics() {
    assert!(MALE_NAMES.len() >= 60 && FEMALE_NAMES.len() >= 60);
    assert_unique("male names", MALE_NAMES.iter().map(|n| n.name));
    assert_unique(
        "male patronymics",
        MALE_NAMES.iter().map(|n| n.patronymic_m),
    );
    assert_unique(
        "female patronymics",
        MALE_NAMES.iter().map(|n| n.patronymic_f),
    );
    assert_unique("female names", FEMALE_NAMES.iter().copied());
    for n in MALE_NAMES.iter() {
        assert!(n.patronymic_m.ends_with("ич"), "{}", n.patronymic_m);
        assert!(n.patronymic_f.ends_with("на"), "{}", n.patronymic_f);
    }
    for (name, pm, pf) in [
        ("Сергей", "Сергеевич", "Сергеевна"),
        ("Пётр", "Петрович", "Петровна"),
        ("Илья", "Ильич", "Ильинична"),
        ("Никита", "Никитич", "Никитична"),
        ("Лев", "Львович", "Львовна"),
        ("Михаил", "Михайлович", "Михайловна"),
        ("Кузьма", "Кузьмич", "Кузьминична"),
        ("Яков", "Яковлевич", "Яковлевна"),
    ] {
        assert!(
            MALE_NAMES
                .iter()
                .any(|n| n.name == name && n.patronymic_m == pm && n.patronymic_f == pf),
            "{name}"
        );
    }
    for name in [
        "Мария",
        "Анна",
        "Алёна",
        "Дарья",
        "Софья",
        "Ксения",
        "Варвара",
    ] {
        assert!(FEMALE_NAMES.contains(&name), "{name}");
    }
}

#[test]
fn work_kinds_are_known() {
    assert_unique("work kinds", WORK_KINDS.iter().map(|k| k.code));
    let known: HashSet<_> = WORK_KINDS.iter().map(|k| k.code).collect();
    for code in [
        "oral",
        "homework",
        "classwork",
        "independent",
        "dictation",
        "essay",
        "lab",
        "practical",
        "test",
        "exam",
    ] {
        assert!(known.contains(code), "missing work kind {code}");
    }
    assert!(
        WORK_KINDS
            .iter()
            .all(|k| k.weight > 0.0 && !k.title.is_empty())
    );
    for s in SUBJECTS.iter() {
        let kinds = work_kinds_for(s.code);
        assert!(!kinds.is_empty());
        assert_unique(s.code, kinds.iter().copied());
        for k in kinds {
            assert!(known.contains(k), "{}: unknown kind {k}", s.code);
        }
        let literary = matches!(s.code, "russian" | "literature");
        assert!(literary || !kinds.contains(&"dictation") && !kinds.contains(&"essay"));
        if matches!(s.code, "physics" | "chemistry" | "biology") {
            assert!(kinds.contains(&"lab"), "{}", s.code);
        }
    }
}

#[test]
fn notes_and_streets() {
    assert!(NOTES.len() >= 25);
    assert_unique("notes", NOTES.iter().map(String::as_str));
    for note in NOTES.iter() {
        assert!(!note.trim().is_empty());
        assert!(note.matches("{name}").count() <= 1, "{note}");
    }
    assert!(NOTES.iter().filter(|n| n.contains("{name}")).count() >= 10);
    assert!(STREETS.len() >= 20);
    assert_unique("streets", STREETS.iter().copied());
}

#[test]
fn topic_sections_name_grades_once() {
    for (i, a) in TOPIC_SETS.iter().enumerate() {
        assert!(
            1 <= a.from && a.from <= a.to && a.to <= 11,
            "{}: [{}-{}]",
            a.code,
            a.from,
            a.to
        );
        // Sections of one subject must not overlap: the first would hide the other.
        for b in TOPIC_SETS[i + 1..].iter().filter(|b| b.code == a.code) {
            assert!(
                a.to < b.from || b.to < a.from,
                "{}: [{}-{}] and [{}-{}]",
                a.code,
                a.from,
                a.to,
                b.from,
                b.to
            );
        }
    }
}

#[test]
fn work_kinds_by_subject_name_known_subjects() {
    assert_unique(
        "subjects with work kinds",
        SUBJECT_WORK_KINDS.iter().map(|(code, _)| *code),
    );
    for (code, _) in SUBJECT_WORK_KINDS.iter() {
        assert!(
            subject(code).is_some(),
            "work kinds for unknown subject {code}"
        );
    }
}

#[test]
fn mark_comments() {
    assert!(MARK_COMMENTS.len() >= 5);
    assert_unique("mark comments", MARK_COMMENTS.iter().copied());
}
