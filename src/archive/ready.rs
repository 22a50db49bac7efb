//! When a school year may be archived: it has ended, every student in a
//! class at its end has a year mark in every subject marked in that class,
//! and the rosters agree with the marks and lessons of every period.

use std::collections::{BTreeSet, HashMap};

use crate::gradebook::Snapshot;
use crate::gradebook::model::{Date, PeriodKind, ReportingPeriod};

/// Problems shown at most, of each kind, in one message.
const SHOWN: usize = 10;

/// What keeps a year from being archived yet: empty when it is finished
/// (the year has ended, and every student in a class on its last day has a
/// year mark in every subject they study that is marked in their class).
/// `--force` archives a year anyway.
pub fn unfinished(s: &Snapshot, today: Date) -> Vec<String> {
    let mut why = Vec::new();
    if today <= s.year.ends_on {
        why.push(format!(
            "the school year ends on {}; today is {today}",
            s.year.ends_on
        ));
    }
    let Some(year) = s.periods.iter().find(|p| p.kind == PeriodKind::Year) else {
        why.push("the school year has no reporting period for the year marks".into());
        return why;
    };
    let last = s.year.ends_on;
    let marked: BTreeSet<(i64, i64)> = s
        .period_marks
        .iter()
        .filter(|m| m.period_id == year.id)
        .map(|m| (m.student_id, m.subject_id))
        .collect();
    // Who is in which class, and in which groups, on the year's last day.
    let at_end: Vec<(i64, i64)> = s
        .class_members
        .iter()
        .filter(|m| m.until_on.is_none_or(|u| u >= last))
        .map(|m| (m.class_id, m.student_id))
        .collect();
    let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for m in &s.group_members {
        if m.until_on.is_none_or(|u| u >= last) {
            groups_of.entry(m.student_id).or_default().push(m.group_id);
        }
    }
    let subject = |id: i64| {
        s.subjects
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_string(), |x| x.name.clone())
    };
    // A subject is marked in a class if any student of the class has a
    // year mark in it: first grades and unmarked courses are not.
    let marked_in_class: BTreeSet<(i64, i64)> = at_end
        .iter()
        .flat_map(|&(c, id)| {
            marked
                .range((id, i64::MIN)..=(id, i64::MAX))
                .map(move |&(_, sid)| (c, sid))
        })
        .collect();
    let students: HashMap<i64, &crate::gradebook::Student> =
        s.students.iter().map(|st| (st.id, st)).collect();
    let mut missing = Vec::new();
    for &(class, student) in &at_end {
        let Some(st) = students.get(&student) else {
            continue;
        };
        if st.left_on.is_some_and(|d| d <= last) {
            continue;
        }
        let groups = groups_of.get(&st.id).map(Vec::as_slice).unwrap_or(&[]);
        let subjects: BTreeSet<i64> = s
            .assignments
            .iter()
            .filter(|a| {
                a.class_id == Some(class) || a.group_id.is_some_and(|g| groups.contains(&g))
            })
            .map(|a| a.subject_id)
            .collect();
        for sid in subjects {
            if marked_in_class.contains(&(class, sid)) && !marked.contains(&(st.id, sid)) {
                missing.push(format!(
                    "{} ({}): {}",
                    st.name.full(),
                    class_title(s, class),
                    subject(sid)
                ));
            }
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        let shown: Vec<_> = missing.into_iter().take(SHOWN).collect();
        why.push(format!(
            "{n} year mark(s) missing, e.g. {}",
            shown.join("; ")
        ));
    }
    why
}

/// What is wrong with the year's rosters, which no `--force` passes: a
/// class that has lessons in a period but nobody in its roster then, and
/// period marks of a student who is in no class of the year during that
/// period (their statement would leave them out). Empty when the rosters
/// hold.
pub fn roster_problems(s: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let overlaps = |from: Date, until: Option<Date>, p: &ReportingPeriod| {
        from <= p.ends_on && until.is_none_or(|u| u >= p.starts_on)
    };
    let group_class: HashMap<i64, i64> = s
        .groups
        .iter()
        .filter_map(|g| g.class_id.map(|c| (g.id, c)))
        .collect();
    let mut empty = Vec::new();
    for class in &s.classes {
        for p in s
            .periods
            .iter()
            .filter(|p| p.kind == class.term_kind || p.kind == PeriodKind::Year)
        {
            let lessons = s.lessons.iter().any(|l| {
                (l.class_id == Some(class.id)
                    || l.group_id.and_then(|g| group_class.get(&g)) == Some(&class.id))
                    && p.starts_on <= l.date
                    && l.date <= p.ends_on
            });
            let members = s
                .class_members
                .iter()
                .any(|m| m.class_id == class.id && overlaps(m.from_on, m.until_on, p));
            if lessons && !members {
                empty.push(format!("{} in «{}»", class.title, p.title));
            }
        }
    }
    if !empty.is_empty() {
        let n = empty.len();
        problems.push(format!(
            "{n} class roster(s) empty for a period with lessons: {}",
            empty.into_iter().take(SHOWN).collect::<Vec<_>>().join("; ")
        ));
    }
    let periods: HashMap<i64, &ReportingPeriod> = s.periods.iter().map(|p| (p.id, p)).collect();
    let mut spans: HashMap<i64, Vec<(Date, Option<Date>)>> = HashMap::new();
    for m in &s.class_members {
        spans
            .entry(m.student_id)
            .or_default()
            .push((m.from_on, m.until_on));
    }
    let mut outside = BTreeSet::new();
    for m in &s.period_marks {
        let Some(p) = periods.get(&m.period_id) else {
            continue;
        };
        let in_a_class = spans
            .get(&m.student_id)
            .is_some_and(|v| v.iter().any(|&(from, until)| overlaps(from, until, p)));
        if !in_a_class {
            outside.insert((m.student_id, p.id));
        }
    }
    if !outside.is_empty() {
        let name = |id: i64| {
            s.students
                .iter()
                .find(|st| st.id == id)
                .map_or_else(|| id.to_string(), |st| st.name.full())
        };
        let n = outside.len();
        let shown: Vec<String> = outside
            .iter()
            .take(SHOWN)
            .map(|&(st, p)| format!("{} in «{}»", name(st), periods[&p].title))
            .collect();
        problems.push(format!(
            "{n} time(s) a student has period marks but is in no class of the year then, so no statement lists them: {}",
            shown.join("; ")
        ));
    }
    problems
}

fn class_title(s: &Snapshot, id: i64) -> &str {
    s.classes
        .iter()
        .find(|c| c.id == id)
        .map_or("?", |c| c.title.as_str())
}
