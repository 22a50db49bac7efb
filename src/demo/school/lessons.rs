//! Lessons day by day with their marks and absences, notes to parents, and
//! the period marks that follow from the marks.
//!
//! The timetable and the whole year's illnesses draw from the school's
//! generator, in that order (a long illness of a student from one of their
//! own); each school day draws from a generator of its own, seeded by the
//! school and the day, and each period mark from one seeded by the student,
//! the subject and the period. So the demo at a later date holds the same
//! rows up to the earlier date, one school day at a time: the realistic
//! next night of a nightly build.
//!
//! As in a real school, every student gets enough marks in every marked
//! subject for a term mark (the usual rule: at least three), one-hour
//! subjects included: a teacher who sees that a student has too few marks
//! for the lessons left in the term asks them at the next lesson. Only a
//! student who missed most of the term's lessons ends it «н/а».

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{ClassInfo, Facts, Ids, SchoolRows, StudentInfo, normal, round_mark};
use crate::demo::content::{self, SubjectDef};
use crate::gradebook::bulk::Val;
use crate::gradebook::rounding::{self, Rounding};
use crate::gradebook::{Date, PeriodKind};

/// A student's marks in one subject: `(date, value, weight)`.
type MarkLog = HashMap<(usize, usize), Vec<(Date, f64, f64)>>;

/// The demo school keeps the usual rule for term marks.
const RULE: Rounding = Rounding::USUAL;

/// Every lesson day of the year of a class's subject (one entry per
/// lesson, in order): the lesson with ordinal `n` is the `n`-th.
type Schedule = HashMap<(i64, usize), Vec<Date>>;

/// Generates the timetable, lessons, marks, absences, notes and period marks.
pub(super) fn generate(
    mut rng: ChaCha8Rng,
    out: &mut SchoolRows,
    ids: &mut Ids,
    facts: &Facts,
    classes: &mut [ClassInfo],
    students: &mut [StudentInfo],
) {
    timetable(&mut rng, classes);
    absences(&mut rng, facts, students);
    long_illnesses(facts, students);
    let mut w = Writer {
        rng: ChaCha8Rng::seed_from_u64(facts.seed),
        out,
        ids,
        facts,
    };
    let mark_log = w.lessons(classes, students);
    w.period_marks(classes, students, &mark_log);
}

/// Spreads each subject's hours over the week, then shuffles each day.
fn timetable(rng: &mut ChaCha8Rng, classes: &mut [ClassInfo]) {
    for c in classes.iter_mut() {
        let mut week: [Vec<usize>; 5] = Default::default();
        let mut taught: Vec<(usize, u8)> = content::SUBJECTS
            .iter()
            .enumerate()
            .map(|(si, s)| (si, s.hours[c.grade as usize - 1]))
            .filter(|&(_, h)| h > 0)
            .collect();
        taught.sort_by_key(|&(si, h)| (std::cmp::Reverse(h), si));
        for (si, h) in taught {
            for _ in 0..h {
                let day = (0..5)
                    .min_by_key(|&d| {
                        (
                            week[d].iter().filter(|&&x| x == si).count(),
                            week[d].len(),
                            d,
                        )
                    })
                    .unwrap_or(0);
                week[day].push(si);
            }
        }
        for day in week.iter_mut() {
            day.shuffle(rng);
        }
        c.timetable = week;
    }
}

/// Whole days missed: illnesses of several days, clustered, and single days
/// off; drawn for the whole year whatever today is, so that a later today
/// finds the same ones.
fn absences(rng: &mut ChaCha8Rng, facts: &Facts, students: &mut [StudentInfo]) {
    let school_days_all = facts.cal.school_days(5, facts.cal.ends_on);
    for s in students.iter_mut() {
        let mut i = 0;
        while i < school_days_all.len() {
            let r: f64 = rng.r#gen();
            if r < 0.009 {
                let len = rng.gen_range(3..=8);
                for day in school_days_all.iter().skip(i).take(len) {
                    s.days_missed.insert(*day, "б");
                }
                i += len + 10;
            } else if r < 0.011 {
                s.days_missed.insert(school_days_all[i], "п");
                i += 1;
            } else {
                i += 1;
            }
        }
    }
}

/// Now and then a long illness: three to eight weeks at home or in
/// hospital (a student in some thirty). Drawn from each student's own
/// generator, for the whole year: the short illnesses stay as they were.
fn long_illnesses(facts: &Facts, students: &mut [StudentInfo]) {
    let days = facts.cal.school_days(5, facts.cal.ends_on);
    if days.is_empty() {
        return;
    }
    for s in students.iter_mut() {
        let mut rng = derived(facts.seed, &[s.id as u64, 0x10_4e6]);
        if !rng.gen_bool(0.035) {
            continue;
        }
        let len = rng.gen_range(15..=40);
        let start = rng.gen_range(0..days.len());
        for day in days.iter().skip(start).take(len) {
            s.days_missed.insert(*day, "б");
        }
    }
}

/// The days of every lesson of the year, per class and subject, from the
/// calendar and the timetable (whatever today is).
fn schedule(facts: &Facts, classes: &[ClassInfo]) -> Schedule {
    let weekday = |d: Date| chrono::Datelike::weekday(&d.0).num_days_from_monday() as usize;
    let mut out: Schedule = HashMap::new();
    for c in classes {
        for day in facts.cal.school_days(c.grade, facts.cal.ends_on) {
            for &si in &c.timetable[weekday(day)] {
                out.entry((c.id, si)).or_default().push(day);
            }
        }
    }
    out
}

/// One lesson: of a class or of one of its groups.
struct Lesson<'a> {
    id: i64,
    class: &'a ClassInfo,
    day: Date,
    slot: i64,
    /// Index into SUBJECTS.
    subject: usize,
    group: Option<i64>,
    teacher: i64,
    /// The lesson's ordinal in its subject's year for this class or group, from 1.
    n: u32,
    /// Indices of the students it is for.
    members: Vec<usize>,
}

/// A generator seeded by the school's seed and `parts`, for draws that must
/// not depend on anything drawn before them.
fn derived(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    let mut x = seed;
    for &p in parts {
        // splitmix64 steps: distinct inputs, well spread seeds.
        x = (x ^ p).wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
    }
    ChaCha8Rng::seed_from_u64(x)
}

/// A day as a number, for seeds.
fn day_number(d: Date) -> u64 {
    chrono::Datelike::num_days_from_ce(&d.0) as u64
}

/// What the lesson steps draw from and write to.
struct Writer<'a> {
    /// The generator of the day being written (see [`derived`]).
    rng: ChaCha8Rng,
    out: &'a mut SchoolRows,
    ids: &'a mut Ids,
    facts: &'a Facts,
}

impl Writer<'_> {
    /// Lessons, marks and attendance, day by day, class by class, and now
    /// and then a note to the parents; returns the marks for period marks.
    fn lessons(&mut self, classes: &[ClassInfo], students: &[StudentInfo]) -> MarkLog {
        let facts = self.facts;
        let subjects: &[SubjectDef] = &content::SUBJECTS;
        let mut lesson_no: HashMap<(i64, usize, Option<i64>), u32> = HashMap::new();
        let weekday = |d: Date| chrono::Datelike::weekday(&d.0).num_days_from_monday() as usize;
        let mut mark_log: MarkLog = HashMap::new();
        let schedule = schedule(facts, classes);
        // Day by day, each day's classes in order, each day with its own
        // generator: one more day appends rows and changes none before it.
        let days_of: Vec<std::collections::BTreeSet<Date>> = classes
            .iter()
            .map(|c| {
                facts
                    .cal
                    .school_days(c.grade, facts.today)
                    .into_iter()
                    .collect()
            })
            .collect();
        let mut all_days: Vec<Date> = days_of.iter().flatten().copied().collect();
        all_days.sort_unstable();
        all_days.dedup();
        for day in all_days {
            self.rng = derived(facts.seed, &[day_number(day)]);
            for (class, days) in classes.iter().zip(&days_of) {
                if !days.contains(&day) {
                    continue;
                }
                let day_plan = class.timetable[weekday(day)].clone();
                for (slot0, &si) in day_plan.iter().enumerate() {
                    let units: Vec<(Option<i64>, i64, Vec<usize>)> = match class.groups.get(&si) {
                        Some(groups) => groups
                            .iter()
                            .map(|(gid, t, m)| (Some(*gid), *t, m.clone()))
                            .collect(),
                        None => vec![(
                            None,
                            class.teachers.get(&si).copied().unwrap_or(facts.deputy_id),
                            class.students.clone(),
                        )],
                    };
                    for (group, teacher, members) in units {
                        let n = lesson_no.entry((class.id, si, group)).or_insert(0);
                        *n += 1;
                        let lesson = Lesson {
                            id: self.ids.next("lesson"),
                            class,
                            day,
                            slot: slot0 as i64 + 1,
                            subject: si,
                            group,
                            teacher,
                            n: *n,
                            members,
                        };
                        self.lesson(&lesson);
                        let present = self.attendance(&lesson, students);
                        // Marks: none in grade 1 or in pass/fail subjects.
                        if class.grade == 1 || subjects[si].pass_fail || present.is_empty() {
                            continue;
                        }
                        let days = schedule
                            .get(&(class.id, si))
                            .map(Vec::as_slice)
                            .unwrap_or(&[]);
                        let given = self.marks(&lesson, present, students, days, &mark_log);
                        for (m, value, weight) in given {
                            mark_log
                                .entry((m, si))
                                .or_default()
                                .push((day, value, weight));
                        }
                    }
                }
                self.note(class, day, day_plan.first().copied(), students);
            }
        }
        mark_log
    }

    /// Writes a lesson with its topic and homework.
    fn lesson(&mut self, l: &Lesson) {
        let Facts {
            prefix,
            school_id,
            subject_ids,
            ..
        } = self.facts;
        let s = &content::SUBJECTS[l.subject];
        let grade = l.class.grade as u8;
        let topics = content::topics(s.code, grade);
        let topic = topics
            .get((l.n as usize - 1) % topics.len().max(1))
            .copied()
            .unwrap_or("Урок");
        let homework = content::homework(s.code, grade, l.n, self.rng.next_u64());
        let lesson_id = l.id;
        self.out.t("lesson").push([
            Val::Int(lesson_id),
            Val::Int(*school_id),
            format!("{prefix}-ls-{lesson_id:08}").into(),
            l.day.to_string().into(),
            Val::Int(l.slot),
            Val::Int(subject_ids[l.subject]),
            if l.group.is_some() {
                Val::NullInt
            } else {
                Val::Int(l.class.id)
            },
            l.group.into(),
            Val::Int(l.teacher),
            topic.into(),
            homework.into(),
        ]);
    }

    /// Writes who missed a lesson or came late; returns who was there.
    fn attendance(&mut self, l: &Lesson, students: &[StudentInfo]) -> Vec<usize> {
        let mut present = Vec::new();
        for &m in &l.members {
            let st = &students[m];
            let code = match st.days_missed.get(&l.day) {
                Some(code) => Some(*code),
                None if st.ability < 3.5 && self.rng.gen_bool(0.006) => Some("н"),
                None if l.slot == 1 && self.rng.gen_bool(0.01) => Some("о"),
                None => None,
            };
            if let Some(code) = code {
                let id = self.ids.next("attendance");
                self.out.t("attendance").push([
                    Val::Int(id),
                    Val::Int(self.facts.school_id),
                    Val::Int(st.id),
                    Val::Int(l.id),
                    code.into(),
                ]);
                if code != "о" {
                    continue;
                }
            }
            present.push(m);
        }
        present
    }

    /// Writes the marks of a lesson: everyone present in a test, a few
    /// otherwise (more in a subject of few lessons), and anyone who has too
    /// few marks in the term for the lessons they will still attend;
    /// returns `(student, value, weight)` of each. `days` are the days of
    /// every lesson of the year of the subject, `log` the marks so far.
    fn marks(
        &mut self,
        l: &Lesson,
        present: Vec<usize>,
        students: &[StudentInfo],
        days: &[Date],
        log: &MarkLog,
    ) -> Vec<(usize, f64, f64)> {
        let Facts {
            prefix,
            school_id,
            subject_ids,
            kind_ids,
            ..
        } = self.facts;
        let (si, n) = (l.subject, l.n);
        let s = &content::SUBJECTS[si];
        let kinds = content::work_kinds_for(s.code);
        let every = if s.major { 9 } else { 13 };
        let is_test = n.is_multiple_of(every);
        // The term of the lesson: its lessons, and those after this one.
        let term_kind = if l.class.grade >= 10 {
            PeriodKind::Half
        } else {
            PeriodKind::Quarter
        };
        let term = self
            .facts
            .cal
            .periods
            .iter()
            .find(|p| p.kind == term_kind && p.starts_on <= l.day && l.day <= p.ends_on);
        let (in_term, after): (usize, &[Date]) = match term {
            Some(p) => {
                let within = |d: &&Date| p.starts_on <= **d && **d <= p.ends_on;
                let rest = days.get(n as usize..).unwrap_or(&[]);
                let left = rest.iter().take_while(|d| **d <= p.ends_on).count();
                (days.iter().filter(within).count(), &rest[..left])
            }
            None => (0, &[]),
        };
        let marks_in_term = |m: usize| {
            term.map_or(0, |p| {
                log.get(&(m, si)).map_or(0, |v| {
                    v.iter()
                        .filter(|(d, ..)| p.starts_on <= *d && *d <= p.ends_on)
                        .count()
                })
            })
        };
        let mut chosen: Vec<usize> = if is_test {
            present.clone()
        } else {
            let base = if s.major { 0.22 } else { 0.13 };
            let rate = if in_term > 0 {
                f64::max(base, 3.5 / in_term as f64).min(1.0)
            } else {
                base
            };
            let k = ((present.len() as f64 * rate).round() as usize).min(present.len());
            let mut p = present.clone();
            p.shuffle(&mut self.rng);
            p.truncate(k);
            p
        };
        // Those the teacher must ask now: the lessons they will still
        // attend this term (one spare for a day off sick) are too few.
        for &m in &present {
            let have = marks_in_term(m);
            if term.is_none() || have >= RULE.min_marks || chosen.contains(&m) {
                continue;
            }
            let left = after
                .iter()
                .filter(|d| !students[m].days_missed.contains_key(*d))
                .count();
            if left < RULE.min_marks - have + 1 {
                chosen.push(m);
            }
        }
        chosen.sort_unstable();
        let kind = if is_test {
            if kinds.contains(&"dictation") && n.is_multiple_of(2) {
                "dictation"
            } else {
                "test"
            }
        } else {
            let usual: Vec<&str> = kinds
                .iter()
                .copied()
                .filter(|k| !matches!(*k, "test" | "exam" | "dictation" | "essay"))
                .collect();
            let i = (self.rng.gen_range(0.0f64..1.0).powi(2) * usual.len() as f64) as usize;
            usual.get(i).copied().unwrap_or("oral")
        };
        let (kind_id, weight, kind_title) = kind_ids.get(kind).copied().unwrap_or((0, 1.0, ""));
        let title = is_test.then(|| format!("{} № {}", kind_title, n / every));
        let comments: &[&str] = &content::MARK_COMMENTS;
        let mut given = Vec::new();
        for m in chosen {
            let st = &students[m];
            let offset = ((st.id as u64).wrapping_mul(31).wrapping_add(si as u64 * 17) % 7) as f64
                / 10.0
                - 0.3;
            let mut v = round_mark(st.ability + offset + normal(&mut self.rng) * 0.75).clamp(2, 5);
            if v == 2 && st.ability < 3.4 && self.rng.gen_bool(0.02) {
                v = 1;
            }
            let id = self.ids.next("mark");
            let comment = self
                .rng
                .gen_bool(0.03)
                .then(|| comments[self.rng.gen_range(0..comments.len())]);
            self.out.t("mark").push([
                Val::Int(id),
                Val::Int(*school_id),
                format!("{prefix}-mk-{id:09}").into(),
                Val::Int(st.id),
                Val::Int(subject_ids[si]),
                Val::Int(l.id),
                l.day.to_string().into(),
                Val::Int(l.teacher),
                Val::Int(kind_id),
                title.clone().into(),
                v.to_string().into(),
                Val::Real(weight),
                comment.into(),
            ]);
            given.push((m, v as f64, weight));
        }
        given
    }

    /// Now and then (one school day in twenty) a note to a student's
    /// parents, by the class teacher or the teacher of the day's first lesson.
    fn note(
        &mut self,
        class: &ClassInfo,
        day: Date,
        first_subject: Option<usize>,
        students: &[StudentInfo],
    ) {
        // The draw comes first: it is made on every school day.
        if !self.rng.gen_bool(0.05) || class.students.is_empty() {
            return;
        }
        let Facts {
            prefix,
            school_id,
            subject_ids,
            ..
        } = self.facts;
        let m = class.students[self.rng.gen_range(0..class.students.len())];
        let body = content::NOTES[self.rng.gen_range(0..content::NOTES.len())]
            .replace("{name}", &students[m].given);
        let by_class_teacher = self.rng.gen_bool(0.5);
        let (staff, subject) = match (by_class_teacher, first_subject) {
            (false, Some(si)) => (
                class.teachers.get(&si).copied().or(class.teacher),
                Some(subject_ids[si]),
            ),
            _ => (class.teacher, None),
        };
        let id = self.ids.next("note");
        self.out.t("note").push([
            Val::Int(id),
            Val::Int(*school_id),
            format!("{prefix}-nt-{id:07}").into(),
            Val::Int(students[m].id),
            staff.into(),
            subject.into(),
            day.to_string().into(),
            body.into(),
        ]);
    }

    /// Period marks for every finished period, consistent with the current
    /// marks; period by period, so that a period that ends later appends
    /// its marks (and ids) after those of the earlier ones.
    fn period_marks(
        &mut self,
        classes: &[ClassInfo],
        students: &[StudentInfo],
        mark_log: &MarkLog,
    ) {
        let Facts {
            cal,
            today,
            prefix,
            school_id,
            subject_ids,
            period_ids,
            ..
        } = self.facts;
        // Per student and subject: the term marks so far, and the year mark.
        let mut terms: HashMap<(usize, usize), (Vec<f64>, Option<i64>)> = HashMap::new();
        for (pi, p) in cal.periods.iter().enumerate() {
            if p.ends_on >= *today {
                continue;
            }
            for c in classes {
                if c.grade == 1 {
                    continue;
                }
                let term = if c.grade >= 10 {
                    PeriodKind::Half
                } else {
                    PeriodKind::Quarter
                };
                let exams = c.grade == 9 || c.grade == 11;
                for &m in &c.students {
                    let st = &students[m];
                    for (si, s) in content::SUBJECTS.iter().enumerate() {
                        if s.hours[c.grade as usize - 1] == 0 {
                            continue;
                        }
                        // A period mark's draws are its own.
                        self.rng = derived(
                            self.facts.seed,
                            &[st.id as u64, si as u64, pi as u64, u64::MAX],
                        );
                        let (term_values, year_value) = terms.entry((m, si)).or_default();
                        let value: Option<String> = if p.kind == term {
                            let v = if s.pass_fail {
                                if st.ability < 3.2 && self.rng.gen_bool(0.1) {
                                    "незач".to_owned()
                                } else {
                                    "зач".to_owned()
                                }
                            } else {
                                let marks: Vec<&(Date, f64, f64)> = mark_log
                                    .get(&(m, si))
                                    .map(|l| {
                                        l.iter()
                                            .filter(|(d, _, _)| {
                                                *d >= p.starts_on && *d <= p.ends_on
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                let values: Vec<(f64, f64)> =
                                    marks.iter().map(|&&(_, v, w)| (v, w)).collect();
                                match (RULE.term_mark(&values), rounding::weighted_average(&values))
                                {
                                    (Some(v), Some(average)) => {
                                        // Now and then a teacher gives the next mark up
                                        // for an average just short of it.
                                        let close = RULE.lowest_for(v + 1).is_some_and(|t| {
                                            rounding::hundredths(average) + 10
                                                >= rounding::hundredths(t)
                                        });
                                        let v = if close && self.rng.gen_bool(0.3) {
                                            v + 1
                                        } else {
                                            v
                                        };
                                        term_values.push(v as f64);
                                        v.to_string()
                                    }
                                    _ => "н/а".to_owned(),
                                }
                            };
                            Some(v)
                        } else if p.kind == PeriodKind::Year {
                            let v = if s.pass_fail {
                                "зач".to_owned()
                            } else if term_values.is_empty() {
                                "н/а".to_owned()
                            } else {
                                let v = RULE.mark(
                                    term_values.iter().sum::<f64>() / term_values.len() as f64,
                                );
                                *year_value = Some(v);
                                v.to_string()
                            };
                            Some(v)
                        } else if exams && p.kind == PeriodKind::Exam && !s.pass_fail {
                            let exam_subject = matches!(s.code, "russian" | "algebra")
                                || (st.id as usize + si).is_multiple_of(9);
                            exam_subject.then(|| {
                                round_mark(st.ability + normal(&mut self.rng) * 0.6)
                                    .clamp(2, 5)
                                    .to_string()
                            })
                        } else if exams && p.kind == PeriodKind::Final && !s.pass_fail {
                            year_value.map(|y| y.to_string())
                        } else {
                            None
                        };
                        if let Some(value) = value {
                            let id = self.ids.next("period_mark");
                            self.out.t("period_mark").push([
                                Val::Int(id),
                                Val::Int(*school_id),
                                format!("{prefix}-pm-{id:08}").into(),
                                Val::Int(st.id),
                                Val::Int(subject_ids[si]),
                                Val::Int(period_ids[pi]),
                                value.into(),
                            ]);
                        }
                    }
                }
            }
        }
    }
}
