//! What each page and document shows: view models built from one school's
//! snapshot, shared by the nightly build, the e-mail digests, the archive
//! and the gate. `paths` is the one URL scheme of a release.
//!
//! A view holds exactly the data its page shows, so the hash of its
//! serialized form (plus the template version) is the page's input hash: the
//! incremental build renders a page again only when that hash changes.

pub mod class;
pub mod documents;
pub mod keys;
pub mod marks;
pub mod news;
pub mod paths;
pub mod school;
pub mod statement;
pub mod week;
pub mod year;

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Duration};
use serde::Serialize;

use crate::gradebook::{
    Attendance, Class, Date, Lesson, Mark, Note, PeriodKind, ReportingPeriod, Snapshot, Student,
};
use crate::i18n::{self, Labels, Language};

/// Who a lesson is given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Unit {
    Class(i64),
    Group(i64),
}

/// Days from the first to the last, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Date,
    pub until: Date,
}

impl Span {
    /// True if the span holds `day`.
    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.until
    }

    /// True if the span and `other` share a day.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.from <= other.until && other.from <= self.until
    }
}

/// Indexes over one snapshot, built once and shared by every page.
#[derive(Debug)]
pub struct Index<'a> {
    /// The snapshot.
    pub s: &'a Snapshot,
    /// Interface language.
    pub lang: Language,
    /// Interface words.
    pub t: &'static Labels,
    /// The build's "today".
    pub today: Date,
    /// Path of the stylesheet from the release root.
    pub css: String,
    /// Weeks of the year up to the current one.
    pub weeks: Vec<(String, Date)>,
    /// Set when the snapshot is of an earlier school year than the
    /// current one: its folder (`2025-2026`), which its pages' names carry.
    pub earlier: Option<String>,
    lessons: HashMap<Unit, Vec<&'a Lesson>>,
    marks: HashMap<(i64, i64), Vec<&'a Mark>>,
    marks_by_student: HashMap<i64, Vec<&'a Mark>>,
    absences: HashMap<(i64, i64), &'a Attendance>,
    notes: HashMap<i64, Vec<&'a Note>>,
    /// Each student's classes and groups of the year, each with the first
    /// and last day of their time there, in order of the first day.
    units_of: HashMap<i64, Vec<(Unit, Span)>>,
    /// Each class's students of the year, in Russian order, with their
    /// time in the class (a student who moved has a span in each).
    roster: HashMap<i64, Vec<(&'a Student, Span)>>,
    period_marks: HashMap<(i64, i64, i64), &'a str>,
    subject_pos: HashMap<i64, usize>,
    staff_pos: HashMap<i64, usize>,
    kind_pos: HashMap<i64, usize>,
    class_pos: HashMap<i64, usize>,
}

/// Weeks of the year, from the one holding its first day to the one holding
/// `today` (or the year's last), as `(ISO id, Monday)`.
fn week_list(s: &Snapshot, today: Date) -> Vec<(String, Date)> {
    let last = today.min(s.year.ends_on).max(s.year.starts_on);
    let first = s.year.starts_on.0;
    let mut monday = first - Duration::days(first.weekday().num_days_from_monday().into());
    let mut weeks = Vec::new();
    while monday <= last.0 {
        weeks.push((Date(monday).iso_week(), Date(monday)));
        monday += Duration::days(7);
    }
    weeks
}

fn sort_key(st: &Student) -> (String, String, String, i64) {
    (
        crate::text::collation_key(&st.name.family_name),
        crate::text::collation_key(&st.name.given_name),
        crate::text::collation_key(st.name.patronymic.as_deref().unwrap_or("")),
        st.id,
    )
}

impl<'a> Index<'a> {
    /// Indexes `s` for a build on `today`.
    pub fn new(s: &'a Snapshot, lang: Language, today: Date, css: &str) -> Index<'a> {
        let mut lessons: HashMap<Unit, Vec<&Lesson>> = HashMap::new();
        for l in &s.lessons {
            let unit = match (l.class_id, l.group_id) {
                (Some(c), _) => Unit::Class(c),
                (None, Some(g)) => Unit::Group(g),
                (None, None) => continue,
            };
            lessons.entry(unit).or_default().push(l);
        }
        for v in lessons.values_mut() {
            v.sort_by_key(|l| (l.date, l.slot, l.id));
        }
        let mut marks: HashMap<(i64, i64), Vec<&Mark>> = HashMap::new();
        let mut marks_by_student: HashMap<i64, Vec<&Mark>> = HashMap::new();
        for m in &s.marks {
            if let Some(l) = m.lesson_id {
                marks.entry((m.student_id, l)).or_default().push(m);
            }
            marks_by_student.entry(m.student_id).or_default().push(m);
        }
        for v in marks_by_student.values_mut() {
            v.sort_by_key(|m| (m.date, m.id));
        }
        let absences = s
            .attendance
            .iter()
            .map(|a| ((a.student_id, a.lesson_id), a))
            .collect();
        let mut notes: HashMap<i64, Vec<&Note>> = HashMap::new();
        for n in &s.notes {
            notes.entry(n.student_id).or_default().push(n);
        }
        let year = Span {
            from: s.year.starts_on,
            until: s.year.ends_on,
        };
        let student_pos: HashMap<i64, usize> = s
            .students
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id, i))
            .collect();
        let mut units_of: HashMap<i64, Vec<(Unit, Span)>> = HashMap::new();
        let mut roster: HashMap<i64, Vec<(&Student, Span)>> = HashMap::new();
        for m in &s.class_members {
            let span = Span {
                from: m.from_on,
                until: m.until_on.unwrap_or(year.until),
            };
            units_of
                .entry(m.student_id)
                .or_default()
                .push((Unit::Class(m.class_id), span));
            if let Some(&i) = student_pos.get(&m.student_id) {
                roster
                    .entry(m.class_id)
                    .or_default()
                    .push((&s.students[i], span));
            }
        }
        for m in &s.group_members {
            let span = Span {
                from: m.from_on.unwrap_or(year.from),
                until: m.until_on.unwrap_or(year.until),
            };
            units_of
                .entry(m.student_id)
                .or_default()
                .push((Unit::Group(m.group_id), span));
        }
        for v in units_of.values_mut() {
            v.sort_by_key(|(u, span)| (span.from, *u));
        }
        for v in roster.values_mut() {
            v.sort_by_cached_key(|(st, span)| (sort_key(st), span.from));
        }
        let period_marks = s
            .period_marks
            .iter()
            .map(|p| ((p.student_id, p.subject_id, p.period_id), p.value.as_str()))
            .collect();
        let pos = |ids: Vec<i64>| ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect();
        Index {
            s,
            lang,
            t: i18n::labels(lang),
            today,
            css: css.to_owned(),
            weeks: week_list(s, today),
            earlier: None,
            lessons,
            marks,
            marks_by_student,
            absences,
            notes,
            units_of,
            roster,
            period_marks,
            subject_pos: pos(s.subjects.iter().map(|x| x.id).collect()),
            staff_pos: pos(s.staff.iter().map(|x| x.id).collect()),
            kind_pos: pos(s.work_kinds.iter().map(|x| x.id).collect()),
            class_pos: pos(s.classes.iter().map(|x| x.id).collect()),
        }
    }

    /// Number of week pages per student for a build on `today`.
    pub fn weeks_of(s: &Snapshot, today: Date) -> usize {
        week_list(s, today).len()
    }

    fn subject_name(&self, id: i64) -> &'a str {
        self.subject_pos.get(&id).map_or("", |&i| {
            let x = &self.s.subjects[i];
            if self.lang == Language::En {
                &x.name_en
            } else {
                &x.name
            }
        })
    }

    fn subject_short(&self, id: i64) -> &'a str {
        self.subject_pos.get(&id).map_or("", |&i| {
            let x = &self.s.subjects[i];
            if self.lang == Language::En {
                &x.name_en
            } else {
                &x.short_name
            }
        })
    }

    fn staff_short(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.staff_pos.get(&id))
            .map(|&i| self.s.staff[i].name.short())
    }

    /// The day a page of the year is as of: the build's today, within the year.
    pub fn reference_day(&self) -> Date {
        self.today.clamp(self.s.year.starts_on, self.s.year.ends_on)
    }

    /// The class a student is in on the reference day; else the last
    /// they were in before it, else the first of the year; `None` for a
    /// student in no class of the year.
    pub fn class_of(&self, st: &Student) -> Option<&'a Class> {
        let day = self.reference_day();
        let spans: Vec<(i64, Span)> = self
            .units_of
            .get(&st.id)?
            .iter()
            .filter_map(|(u, span)| match u {
                Unit::Class(c) => Some((*c, *span)),
                Unit::Group(_) => None,
            })
            .collect();
        let class = spans
            .iter()
            .find(|(_, span)| span.contains(day))
            .or_else(|| spans.iter().rev().find(|(_, span)| span.from <= day))
            .or_else(|| spans.first())?
            .0;
        self.class_pos.get(&class).map(|&i| &self.s.classes[i])
    }

    /// The classes and groups `st` was in during the days of `span`, with
    /// their time there.
    fn units_during(&self, st: &Student, span: Span) -> impl Iterator<Item = (Unit, Span)> + '_ {
        self.units_of
            .get(&st.id)
            .into_iter()
            .flatten()
            .filter(move |(_, s)| s.overlaps(&span))
            .copied()
    }

    /// How many students are in `class` on `day`.
    pub fn members_on(&self, class: &Class, day: Date) -> usize {
        self.roster(class)
            .iter()
            .filter(|(_, span)| span.contains(day))
            .count()
    }

    /// The students of `class` during the year, in Russian order, each with
    /// their time in the class.
    pub fn roster(&self, class: &Class) -> &[(&'a Student, Span)] {
        self.roster.get(&class.id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn legend_title(&self, code: &str) -> Option<LegendItem> {
        self.s
            .legend
            .iter()
            .find(|e| e.code == code)
            .map(|e| LegendItem {
                code: e.code.clone(),
                title: if self.lang == Language::En {
                    e.title_en.clone()
                } else {
                    e.title.clone()
                },
            })
    }

    /// Index of the week holding `today` (the last week once the year is over).
    pub fn current_week(&self) -> usize {
        self.weeks
            .iter()
            .rposition(|(_, m)| *m <= self.today)
            .unwrap_or(0)
    }

    /// The current week while it is still under way (its Sunday not yet
    /// past) in the current school year: it is shown on the student's start
    /// page, and its own week page is written once it is over
    /// (ARCHITECTURE.md, "What a night costs").
    pub fn running_week(&self) -> Option<usize> {
        let w = self.current_week();
        let monday = self.weeks.get(w)?.1;
        let sunday = Date(monday.0 + Duration::days(6));
        (self.earlier.is_none() && monday <= self.today && self.today <= sunday).then_some(w)
    }

    /// Terms of the class's kind, the year, and exam and final where they apply.
    pub fn periods_of(&self, class: &Class) -> Vec<&'a ReportingPeriod> {
        self.s
            .periods
            .iter()
            .filter(|p| {
                p.kind == class.term_kind
                    || p.kind == PeriodKind::Year
                    || (matches!(p.kind, PeriodKind::Exam | PeriodKind::Final)
                        && matches!(class.grade, 9 | 11))
            })
            .collect()
    }

    /// Subjects taught to a class (to the class or one of its groups), in gradebook order.
    pub fn subjects_of(&self, class: &Class) -> Vec<i64> {
        let groups: BTreeSet<i64> = self
            .s
            .groups
            .iter()
            .filter(|g| g.class_id == Some(class.id))
            .map(|g| g.id)
            .collect();
        let mut ids: Vec<i64> = self
            .s
            .assignments
            .iter()
            .filter(|a| {
                a.class_id == Some(class.id) || a.group_id.is_some_and(|g| groups.contains(&g))
            })
            .map(|a| a.subject_id)
            .collect();
        ids.sort_by_key(|id| {
            (
                self.subject_pos
                    .get(id)
                    .map(|&i| self.s.subjects[i].position),
                *id,
            )
        });
        ids.dedup();
        ids
    }
}

/// A link to a student's or the office's pages of an earlier school year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearLink {
    /// `2025-2026`, as page names carry it.
    pub folder: String,
    /// «2025/2026».
    pub title: String,
}

/// One code of the legend, as shown under a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendItem {
    pub code: String,
    pub title: String,
}

/// Fields every page has.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    #[serde(serialize_with = "i18n::serialize_words")]
    pub t: &'static Labels,
    /// Relative path from the page to the release root ("../../").
    pub root: &'static str,
    /// Page title.
    pub title: String,
    /// School name for the header.
    pub school: String,
    /// «19 марта 2027»: the latest day the page's data tells of, so that a
    /// page says how fresh it is without changing when nothing did (empty
    /// when it tells of no day).
    pub updated: String,
    /// Path of the stylesheet from the release root.
    pub css: String,
}

impl Index<'_> {
    /// The frame of a page; `updated`, the latest day its data tells of.
    fn frame(&self, root: &'static str, title: String, updated: Option<Date>) -> Frame {
        Frame {
            t: self.t,
            root,
            title,
            school: self.s.school.short_name.clone(),
            updated: updated.map_or_else(String::new, |d| {
                format!("{} {}", i18n::day_month(self.lang, d), d.0.year())
            }),
            css: self.css.clone(),
        }
    }

    /// The day of the latest lesson of the year given to `class` or one of
    /// its groups, up to today.
    fn last_lesson_of(&self, class: &Class) -> Option<Date> {
        let groups = self
            .s
            .groups
            .iter()
            .filter(|g| g.class_id == Some(class.id))
            .map(|g| Unit::Group(g.id));
        std::iter::once(Unit::Class(class.id))
            .chain(groups)
            .filter_map(|u| self.lessons.get(&u))
            .filter_map(|v| {
                let upto = v.partition_point(|l| l.date <= self.today);
                v[..upto].last().map(|l| l.date)
            })
            .max()
    }
}

fn fmt_weight(w: f64) -> String {
    // Most weights and sums are whole: printed as the integer they are,
    // which is what `{w}` prints too, without the float formatting
    // (a marks page formats hundreds of them).
    if w.fract() == 0.0 && w.is_sign_positive() && w < 1e15 {
        return (w as i64).to_string();
    }
    let s = format!("{w}");
    s.replace('.', ",")
}
