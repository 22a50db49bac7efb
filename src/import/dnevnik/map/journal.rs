//! The journal of the window: lessons (topic and homework), who teaches
//! what, marks, absences and final marks; and what Дневник.ру no longer has
//! within the window, to be removed.

use std::collections::{HashMap, HashSet};

use super::{Delete, Mapper, key};
use crate::import::dnevnik::shapes::{day_of, only_rounded, pick};

/// What a mark needs of its lesson.
#[derive(Debug, Clone)]
struct LessonInfo {
    subject: String,
    teacher: String,
    date: String,
}

/// What a mark needs of its work.
#[derive(Debug, Clone)]
struct WorkInfo {
    title: Option<String>,
    work_type: Option<String>,
    subject: Option<String>,
}

/// Counts of things left out, for one warning each.
#[derive(Debug, Default)]
struct Skipped {
    unknown_students: usize,
    unknown_lessons: usize,
    unknown_teachers: usize,
    no_value: usize,
    unknown_periods: usize,
    unknown_subjects: usize,
}

/// The longest text kept as a work's title.
const TITLE_MAX: usize = 200;

impl Mapper<'_> {
    /// Lessons, assignments, marks, absences, final marks and deletions.
    pub(super) fn journal(&mut self) {
        let f = self.f;
        let mut skipped = Skipped::default();
        let mut lessons: HashMap<String, LessonInfo> = HashMap::new();
        let mut works: HashMap<String, WorkInfo> = HashMap::new();
        let mut answered_lessons: HashSet<String> = HashSet::new();
        for (g, a) in &f.lessons {
            for (i, l) in a.data.iter().enumerate() {
                let at = |m: &mut Self, field| m.place(&a.path, i, field);
                let Some(id) = l.id() else {
                    if only_rounded(&l.id, &l.id_str) {
                        let p = at(self, "id");
                        self.plan
                            .problem(p, "", "has no exact id (no string twin)".into());
                    }
                    continue;
                };
                if !answered_lessons.insert(id.clone()) {
                    continue;
                }
                let Some(date) = day_of(l.date.as_deref()) else {
                    let p = at(self, "date");
                    self.plan.problem(
                        p,
                        l.date.as_deref().unwrap_or(""),
                        "is not a date; expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss".into(),
                    );
                    continue;
                };
                let Some(subject) = l.subject.as_ref().and_then(|s| pick(&s.id, &s.id_str)) else {
                    let p = at(self, "subject");
                    self.plan
                        .problem(p, "", "a lesson needs its subject".into());
                    continue;
                };
                if !self.is_subject(&subject) {
                    let name = l
                        .subject
                        .as_ref()
                        .and_then(|s| s.name.clone())
                        .unwrap_or_default();
                    self.subject(&subject, &name, &a.path, i);
                }
                let group = pick(&l.group, &l.group_str)
                    .filter(|x| self.classes.contains(x) || self.subgroups.contains(x))
                    .unwrap_or_else(|| g.clone());
                let (class, sub) = if self.classes.contains(&group) {
                    (group.clone(), String::new())
                } else {
                    (String::new(), group.clone())
                };
                let named = l.teacher_ids();
                let teacher = named
                    .iter()
                    .find(|t| self.is_staff(t))
                    .cloned()
                    .unwrap_or_default();
                if teacher.is_empty() && !named.is_empty() {
                    skipped.unknown_teachers += 1;
                }
                let homework: Vec<String> = l
                    .works
                    .iter()
                    .flatten()
                    .filter(|w| w.is_homework())
                    .filter_map(|w| w.text.as_ref().map(|t| t.trim().to_owned()))
                    .filter(|t| !t.is_empty())
                    .collect();
                for w in l.works.iter().flatten() {
                    if let Some(wid) = w.id() {
                        let text = w.text.as_ref().map(|t| t.trim().to_owned());
                        works.insert(
                            wid,
                            WorkInfo {
                                title: text
                                    .filter(|t| !t.is_empty() && !w.is_homework())
                                    .filter(|t| t.chars().count() <= TITLE_MAX),
                                work_type: w
                                    .work_type
                                    .as_ref()
                                    .and_then(|t| t.exact())
                                    .map(str::to_owned),
                                subject: w
                                    .subject_id
                                    .as_ref()
                                    .and_then(|s| s.exact())
                                    .map(str::to_owned)
                                    .or_else(|| Some(subject.clone())),
                            },
                        );
                    }
                }
                let slot = l.number.0.unwrap_or(0);
                let (id_at, date_at, num_at, subj_at, group_at, teach_at, title_at, works_at) = (
                    at(self, "id"),
                    at(self, "date"),
                    at(self, "number"),
                    at(self, "subject"),
                    at(self, "group"),
                    at(self, "teachers"),
                    at(self, "title"),
                    at(self, "works"),
                );
                self.set("lesson", &id, id_at)
                    .set("external_id", id.clone(), id_at)
                    .set("date", date.clone(), date_at)
                    .set("slot", slot.to_string(), num_at)
                    .set("subject", subject.clone(), subj_at)
                    .set("class", class.clone(), group_at)
                    .set("group", sub.clone(), group_at)
                    .set("teacher", teacher.clone(), teach_at)
                    .set("topic", l.title.as_deref().unwrap_or("").trim(), title_at)
                    .set("homework", homework.join("\n\n"), works_at);
                if !teacher.is_empty() {
                    // Who teaches what, as the lessons show it (no planned hours).
                    let ext = format!("{teacher}-{subject}-{group}");
                    if !self.plan.has("teaching_assignment", &ext) {
                        self.set("teaching_assignment", &ext, teach_at)
                            .set("external_id", ext.clone(), teach_at)
                            .set("staff", teacher.clone(), teach_at)
                            .set("subject", subject.clone(), subj_at)
                            .set("class", class, group_at)
                            .set("group", sub, group_at)
                            .set("hours_per_week", "0", teach_at);
                    }
                }
                lessons.insert(
                    id,
                    LessonInfo {
                        subject,
                        teacher,
                        date,
                    },
                );
            }
        }
        // Lessons of the window that Дневник.ру no longer has.
        let stale: Vec<&String> = self
            .known
            .lessons_in_window
            .iter()
            .filter(|l| !answered_lessons.contains(*l))
            .collect();
        let stale_set: HashSet<&String> = stale.iter().copied().collect();
        let lesson_of = |id: &str| -> Option<LessonInfo> {
            lessons.get(id).cloned().or_else(|| {
                self.known
                    .lessons
                    .get(id)
                    .filter(|_| !stale_set.contains(&id.to_owned()))
                    .map(|k| LessonInfo {
                        subject: k.subject.clone(),
                        teacher: k.teacher.clone(),
                        date: String::new(),
                    })
            })
        };

        // Marks.
        let mut answered_marks: HashSet<String> = HashSet::new();
        let mut mark_rows = Vec::new();
        for (g, a) in &f.marks {
            for (i, m) in a.data.iter().enumerate() {
                let Some(id) = m.id() else {
                    if only_rounded(&m.id, &m.id_str) {
                        let p = self.place(&a.path, i, "id");
                        self.plan
                            .problem(p, "", "has no exact id (no string twin)".into());
                    }
                    continue;
                };
                if !answered_marks.insert(id.clone()) {
                    continue;
                }
                let Some(person) = m.person().filter(|p| self.is_student(p)) else {
                    skipped.unknown_students += 1;
                    continue;
                };
                let Some((shown, field)) = m.shown() else {
                    skipped.no_value += 1;
                    continue;
                };
                let Some(code) = self.mark_code(shown) else {
                    let p = self.place(&a.path, i, field);
                    let legend: Vec<&str> =
                        self.known.marks.iter().map(|(c, ..)| c.as_str()).collect();
                    self.plan.problem(
                        p,
                        shown,
                        format!(
                            "is not a mark of this school's legend ({})",
                            legend.join(",")
                        ),
                    );
                    continue;
                };
                let lesson_id = m.lesson();
                let lesson = lesson_id.as_deref().and_then(&lesson_of);
                if lesson_id.is_some() && lesson.is_none() {
                    skipped.unknown_lessons += 1;
                }
                let work = m.work().and_then(|w| works.get(&w).cloned());
                let date = day_of(m.date.as_deref()).or_else(|| {
                    lesson
                        .as_ref()
                        .map(|l| l.date.clone())
                        .filter(|d| !d.is_empty())
                });
                let Some(date) = date else {
                    let p = self.place(&a.path, i, "date");
                    self.plan.problem(
                        p,
                        m.date.as_deref().unwrap_or(""),
                        "is not a date, and the mark names no lesson with one".into(),
                    );
                    continue;
                };
                let single = self
                    .group_subjects
                    .get(g)
                    .filter(|s| s.len() == 1)
                    .map(|s| s[0].clone());
                let subject = lesson
                    .as_ref()
                    .map(|l| l.subject.clone())
                    .or_else(|| pick(&m.subject, &m.subject_str))
                    .or_else(|| work.as_ref().and_then(|w| w.subject.clone()))
                    .or(single)
                    .filter(|s| self.is_subject(s));
                let Some(subject) = subject else {
                    let p = self.place(&a.path, i, "lesson");
                    self.plan.problem(
                        p,
                        lesson_id.as_deref().unwrap_or(""),
                        "the mark names no lesson or work whose subject is known".into(),
                    );
                    continue;
                };
                let kind = m
                    .work_type
                    .as_ref()
                    .and_then(|t| t.exact())
                    .map(str::to_owned)
                    .or_else(|| work.as_ref().and_then(|w| w.work_type.clone()))
                    .filter(|k| self.work_kinds.contains(k))
                    .unwrap_or_default();
                mark_rows.push((
                    a.path.clone(),
                    i,
                    id,
                    person,
                    subject,
                    lesson
                        .map(|_| lesson_id.unwrap_or_default())
                        .unwrap_or_default(),
                    date,
                    code,
                    field,
                    kind,
                    work.and_then(|w| w.title).unwrap_or_default(),
                ));
            }
        }
        for (path, i, id, person, subject, lesson, date, code, field, kind, title) in mark_rows {
            let teacher = lessons
                .get(&lesson)
                .map(|l| l.teacher.clone())
                .or_else(|| self.known.lessons.get(&lesson).map(|l| l.teacher.clone()))
                .unwrap_or_default();
            let at = |m: &mut Self, f| m.place(&path, i, f);
            let (id_at, person_at, lesson_at, date_at, value_at, type_at, work_at) = (
                at(self, "id"),
                at(self, "person"),
                at(self, "lesson"),
                at(self, "date"),
                at(self, field),
                at(self, "workType"),
                at(self, "work"),
            );
            self.set("mark", &id, id_at)
                .set("external_id", id.clone(), id_at)
                .set("student", person, person_at)
                .set("subject", subject, lesson_at)
                .set("lesson", lesson, lesson_at)
                .set("date", date, date_at)
                .set("teacher", teacher, lesson_at)
                .set("work_kind", kind, type_at)
                .set("work_title", title, work_at)
                .set("value", code, value_at)
                .set("weight", "", type_at)
                .set("comment", "", id_at);
        }

        // Absences and late arrivals.
        let mut answered_absences: HashSet<(String, String)> = HashSet::new();
        for a in &f.log_entries {
            for (i, e) in a.data.iter().enumerate() {
                let status = e.status.as_deref().unwrap_or("");
                let code = match self.attendance_code(status) {
                    Ok(Some(code)) => code,
                    Ok(None) => continue,
                    Err(message) => {
                        let p = self.place(&a.path, i, "status");
                        self.plan.problem(p, status, message);
                        continue;
                    }
                };
                let Some(person) = pick(&e.person, &e.person_str).filter(|p| self.is_student(p))
                else {
                    skipped.unknown_students += 1;
                    continue;
                };
                let Some(lesson) =
                    pick(&e.lesson, &e.lesson_str).filter(|l| lesson_of(l).is_some())
                else {
                    skipped.unknown_lessons += 1;
                    continue;
                };
                if !answered_absences.insert((person.clone(), lesson.clone())) {
                    continue;
                }
                let (id_at, status_at) = (
                    self.place(&a.path, i, "person"),
                    self.place(&a.path, i, "status"),
                );
                let lesson_at = self.place(&a.path, i, "lesson");
                self.set("attendance", &key(&[&person, &lesson]), id_at)
                    .set("student", person, id_at)
                    .set("lesson", lesson, lesson_at)
                    .set("code", code, status_at);
            }
        }

        // Final marks: a period's, or without a period the year's.
        let mut answered_finals: HashSet<String> = HashSet::new();
        for (_, a) in &f.final_marks {
            for (i, pf) in a.data.iter().enumerate() {
                let Some(person) = pick(&pf.person, &pf.person_str).filter(|p| self.is_student(p))
                else {
                    skipped.unknown_students += 1;
                    continue;
                };
                let period = match pick(&pf.reporting_period, &pf.reporting_period_str) {
                    None => self.year_period.clone(),
                    Some(p) => match self.periods.get(&p) {
                        Some(ext) => ext.clone(),
                        None => {
                            skipped.unknown_periods += 1;
                            continue;
                        }
                    },
                };
                for sm in pf.per_subject.iter().flatten() {
                    let Some(subject) =
                        pick(&sm.subject, &sm.subject_str).filter(|s| self.is_subject(s))
                    else {
                        skipped.unknown_subjects += 1;
                        continue;
                    };
                    let Some(mark) = &sm.final_mark else { continue };
                    let Some((shown, field)) = mark.shown() else {
                        continue;
                    };
                    let value_at = self.place(
                        &a.path,
                        i,
                        if field == "value" {
                            "final-mark.value"
                        } else {
                            "final-mark.textValue"
                        },
                    );
                    let Some(code) = self.mark_code(shown) else {
                        let legend: Vec<&str> =
                            self.known.marks.iter().map(|(c, ..)| c.as_str()).collect();
                        self.plan.problem(
                            value_at,
                            shown,
                            format!(
                                "is not a mark of this school's legend ({})",
                                legend.join(",")
                            ),
                        );
                        continue;
                    };
                    let ext = format!("{person}-{subject}-{period}");
                    if !answered_finals.insert(ext.clone()) {
                        continue;
                    }
                    let (id_at, period_at, subject_at) = (
                        self.place(&a.path, i, "person"),
                        self.place(&a.path, i, "reportingPeriod"),
                        self.place(&a.path, i, "per-subject-final-marks"),
                    );
                    self.set("period_mark", &ext, id_at)
                        .set("external_id", ext.clone(), id_at)
                        .set("student", person.clone(), id_at)
                        .set("subject", subject, subject_at)
                        .set("period", period.clone(), period_at)
                        .set("value", code, value_at);
                }
            }
        }

        // What Дневник.ру no longer has: children first.
        for (s, l) in &self.known.absences_in_window {
            if !answered_absences.contains(&(s.clone(), l.clone())) {
                self.plan.deletes.push(Delete {
                    table: "attendance",
                    key: vec![s.clone(), l.clone()],
                });
            }
        }
        for m in &self.known.marks_in_window {
            if !answered_marks.contains(m) {
                self.plan.deletes.push(Delete {
                    table: "mark",
                    key: vec![m.clone()],
                });
            }
        }
        for m in &self.known.period_marks {
            if !answered_finals.contains(m) {
                self.plan.deletes.push(Delete {
                    table: "period_mark",
                    key: vec![m.clone()],
                });
            }
        }
        for l in stale {
            self.plan.deletes.push(Delete {
                table: "lesson",
                key: vec![l.clone()],
            });
        }

        for (n, what) in [
            (
                skipped.unknown_students,
                "mark(s), absence(s) or final mark(s) of persons in no group of the school; left out",
            ),
            (
                skipped.unknown_lessons,
                "mark(s) or absence(s) at lessons Дневник.ру did not give; marks kept without their lesson, absences left out",
            ),
            (
                skipped.unknown_teachers,
                "lesson(s) whose teachers are not among the school's; kept without a teacher",
            ),
            (skipped.no_value, "mark(s) without a value; left out"),
            (
                skipped.unknown_periods,
                "final mark(s) of periods no class has; left out",
            ),
            (
                skipped.unknown_subjects,
                "final mark(s) in subjects no group has; left out",
            ),
        ] {
            if n > 0 {
                self.plan.warnings.push(format!("{n} {what}"));
            }
        }
    }
}
