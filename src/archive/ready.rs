//! When a school year may be archived: it has ended, and every student
//! has a year mark in every subject marked in their class.

use std::collections::{BTreeSet, HashMap};

use crate::gradebook::Snapshot;
use crate::gradebook::model::{Date, PeriodKind};

/// What keeps a year from being archived: empty when it is finished (the
/// year has ended, and every student has a year mark in every subject they
/// study that is marked in their class).
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
    let marked: BTreeSet<(i64, i64)> = s
        .period_marks
        .iter()
        .filter(|m| m.period_id == year.id)
        .map(|m| (m.student_id, m.subject_id))
        .collect();
    let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for g in &s.groups {
        for &m in &g.members {
            groups_of.entry(m).or_default().push(g.id);
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
    let marked_in_class: BTreeSet<(i64, i64)> = s
        .students
        .iter()
        .filter_map(|st| st.class_id.map(|c| (c, st.id)))
        .flat_map(|(c, id)| {
            marked
                .range((id, i64::MIN)..=(id, i64::MAX))
                .map(move |&(_, sid)| (c, sid))
        })
        .collect();
    let mut missing = Vec::new();
    for st in &s.students {
        let Some(class) = st.class_id else { continue };
        if st.left_on.is_some_and(|d| d <= s.year.ends_on) {
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
                let title = s
                    .classes
                    .iter()
                    .find(|c| c.id == class)
                    .map_or("?", |c| c.title.as_str());
                missing.push(format!("{} ({title}): {}", st.name.full(), subject(sid)));
            }
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        let shown: Vec<_> = missing.into_iter().take(10).collect();
        why.push(format!(
            "{n} year mark(s) missing, e.g. {}",
            shown.join("; ")
        ));
    }
    why
}
