//! What each page shows: view models built from a snapshot.
//!
//! A view holds exactly the data its page shows, so the hash of its
//! serialized form (plus the template version) is the page's input hash: the
//! incremental build renders a page again only when that hash changes.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Duration};
use serde::Serialize;

use crate::gradebook::{
    Attendance, Category, Class, Date, Lesson, Mark, Note, PeriodKind, ReportingPeriod, Snapshot,
    Student,
};
use crate::i18n::Language;
use crate::i18n::{self, Labels};
use crate::render::markdown;
use crate::render::stats::{self, Stats};

/// Who a lesson is given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Class(i64),
    Group(i64),
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
    lessons: HashMap<Unit, Vec<&'a Lesson>>,
    marks: HashMap<(i64, i64), Vec<&'a Mark>>,
    marks_by_student: HashMap<i64, Vec<&'a Mark>>,
    absences: HashMap<(i64, i64), &'a Attendance>,
    notes: HashMap<i64, Vec<&'a Note>>,
    groups_of: HashMap<i64, Vec<i64>>,
    /// Students of each class, in Russian order.
    pub roster: HashMap<i64, Vec<&'a Student>>,
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
        let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for g in &s.groups {
            for &m in &g.members {
                groups_of.entry(m).or_default().push(g.id);
            }
        }
        let mut roster: HashMap<i64, Vec<&Student>> = HashMap::new();
        for st in &s.students {
            if let Some(c) = st.class_id {
                roster.entry(c).or_default().push(st);
            }
        }
        for v in roster.values_mut() {
            v.sort_by_cached_key(|st| sort_key(st));
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
            lessons,
            marks,
            marks_by_student,
            absences,
            notes,
            groups_of,
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

    /// The class of a student, if any.
    pub fn class_of(&self, st: &Student) -> Option<&'a Class> {
        st.class_id
            .and_then(|c| self.class_pos.get(&c))
            .map(|&i| &self.s.classes[i])
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

    /// Terms of the class's kind, the year, and exam and final where they apply.
    fn periods_of(&self, class: &Class) -> Vec<&'a ReportingPeriod> {
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

/// One code of the legend, as shown under a page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendItem {
    pub code: String,
    pub title: String,
}

/// Fields every page has.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    pub t: &'static Labels,
    /// Relative path from the page to the release root ("../../").
    pub root: &'static str,
    /// Page title.
    pub title: String,
    /// School name for the header.
    pub school: String,
    /// «23 ноября 2026»: the day the data is shown as of.
    pub as_of: String,
    /// Path of the stylesheet from the release root.
    pub css: String,
}

impl Index<'_> {
    fn frame(&self, root: &'static str, title: String) -> Frame {
        Frame {
            t: self.t,
            root,
            title,
            school: self.s.school.short_name.clone(),
            as_of: format!(
                "{} {}",
                i18n::day_month(self.lang, self.today),
                self.today.0.year()
            ),
            css: self.css.clone(),
        }
    }
}

/// A mark as shown in the diary.
#[derive(Debug, Clone, Serialize)]
pub struct MarkView {
    pub value: String,
    pub kind: Option<String>,
    pub weight: String,
    pub comment: Option<String>,
    pub title: Option<String>,
}

/// A lesson in the week page.
#[derive(Debug, Clone, Serialize)]
pub struct LessonView {
    pub slot: i64,
    pub subject: String,
    pub topic: String,
    /// Sanitized HTML.
    pub homework: Option<String>,
    pub marks: Vec<MarkView>,
    pub absence: Option<String>,
    /// The teacher's Markdown, for the printout (not part of the page's data).
    #[serde(skip)]
    pub homework_source: Option<String>,
}

/// A teacher's note.
#[derive(Debug, Clone, Serialize)]
pub struct NoteView {
    pub author: Option<String>,
    pub subject: Option<String>,
    /// Sanitized HTML.
    pub body: String,
    /// The teacher's Markdown, for the printout (not part of the page's data).
    #[serde(skip)]
    pub body_source: String,
}

/// A day of the week page.
#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    pub iso: String,
    pub title: String,
    pub today: bool,
    pub lessons: Vec<LessonView>,
    pub notes: Vec<NoteView>,
}

/// A link to another week.
#[derive(Debug, Clone, Serialize)]
pub struct WeekLink {
    pub id: String,
    pub title: String,
    pub current: bool,
}

/// The week page (and the student index, which is the current week plus links).
#[derive(Debug, Clone, Serialize)]
pub struct WeekView {
    pub frame: Frame,
    pub student: String,
    pub class: String,
    pub week: String,
    pub week_title: String,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub days: Vec<DayView>,
    pub legend: Vec<LegendItem>,
    /// Set on the student index: every week of the year.
    pub weeks: Option<Vec<WeekLink>>,
    /// Weekly printouts (PDF) to link: on the index every printed week, on
    /// a week page its own if printed. Filled in by the build.
    pub printouts: Vec<WeekLink>,
}

fn fmt_weight(w: f64) -> String {
    let s = format!("{w}");
    s.replace('.', ",")
}

impl<'a> Index<'a> {
    fn week_title(&self, monday: Date) -> String {
        let sunday = Date(monday.0 + Duration::days(6));
        format!(
            "{} — {} {}",
            i18n::day_month(self.lang, monday),
            i18n::day_month(self.lang, sunday),
            sunday.0.year()
        )
    }

    /// The diary of `st` for week `w` (an index into `weeks`); with `index`
    /// set, the student's start page.
    pub fn week(&self, st: &Student, w: usize, index: bool) -> WeekView {
        let (id, monday) = self.weeks[w].clone();
        let root = if index { "../../" } else { "../../../" };
        let mut units = vec![];
        if let Some(c) = st.class_id {
            units.push(Unit::Class(c));
        }
        units.extend(
            self.groups_of
                .get(&st.id)
                .into_iter()
                .flatten()
                .map(|&g| Unit::Group(g)),
        );
        let end = Date(monday.0 + Duration::days(6));
        let mut lessons: Vec<&Lesson> = units
            .iter()
            .filter_map(|u| self.lessons.get(u))
            .flat_map(|v| {
                let from = v.partition_point(|l| l.date < monday);
                let to = v.partition_point(|l| l.date <= end);
                v[from..to].iter().copied()
            })
            .collect();
        lessons.sort_by_key(|l| (l.date, l.slot, l.id));
        let mut codes = BTreeSet::new();
        let notes = self.notes.get(&st.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut days = Vec::new();
        for offset in 0..6 {
            let day = Date(monday.0 + Duration::days(offset));
            let todays: Vec<&&Lesson> = lessons.iter().filter(|l| l.date == day).collect();
            let day_notes: Vec<&&Note> = notes.iter().filter(|n| n.date == day).collect();
            // Saturday appears only when something happened on it.
            if offset == 5 && todays.is_empty() && day_notes.is_empty() && day != self.today {
                continue;
            }
            let lesson_views = todays
                .iter()
                .map(|l| {
                    let marks = self
                        .marks
                        .get(&(st.id, l.id))
                        .map(|ms| {
                            ms.iter()
                                .map(|m| {
                                    codes.insert(m.value.clone());
                                    let kind = m
                                        .work_kind_id
                                        .and_then(|k| self.kind_pos.get(&k))
                                        .map(|&i| {
                                            let k = &self.s.work_kinds[i];
                                            if self.lang == Language::En {
                                                k.title_en.clone()
                                            } else {
                                                k.title.clone()
                                            }
                                        });
                                    MarkView {
                                        value: m.value.clone(),
                                        kind,
                                        weight: fmt_weight(m.weight),
                                        comment: m.comment.clone(),
                                        title: m.work_title.clone(),
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let absence = self.absences.get(&(st.id, l.id)).map(|a| {
                        codes.insert(a.code.clone());
                        a.code.clone()
                    });
                    LessonView {
                        slot: l.slot,
                        subject: self.subject_name(l.subject_id).to_owned(),
                        topic: l.topic.clone(),
                        homework: l
                            .homework
                            .as_deref()
                            .filter(|h| !h.trim().is_empty())
                            .map(markdown::to_html),
                        marks,
                        absence,
                        homework_source: l.homework.clone().filter(|h| !h.trim().is_empty()),
                    }
                })
                .collect();
            days.push(DayView {
                iso: day.to_string(),
                title: format!(
                    "{}, {}",
                    i18n::weekday(self.lang, day),
                    i18n::day_month(self.lang, day)
                ),
                today: day == self.today,
                lessons: lesson_views,
                notes: day_notes
                    .iter()
                    .map(|n| NoteView {
                        author: self.staff_short(n.staff_id),
                        subject: n.subject_id.map(|s| self.subject_name(s).to_owned()),
                        body: markdown::to_html(&n.body),
                        body_source: n.body.clone(),
                    })
                    .collect(),
            });
        }
        let legend = codes.iter().filter_map(|c| self.legend_title(c)).collect();
        let class = self
            .class_of(st)
            .map(|c| c.title.clone())
            .unwrap_or_default();
        let name = st.name.full();
        WeekView {
            frame: self.frame(root, format!("{} — {}", name, self.week_title(monday))),
            student: name,
            class,
            week: id,
            week_title: self.week_title(monday),
            prev: w.checked_sub(1).map(|p| self.weeks[p].0.clone()),
            next: self.weeks.get(w + 1).map(|n| n.0.clone()),
            days,
            legend,
            weeks: index.then(|| {
                let current = self.current_week();
                self.weeks
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, (id, m))| WeekLink {
                        id: id.clone(),
                        title: self.week_title(*m),
                        current: i == current,
                    })
                    .collect()
            }),
            printouts: Vec::new(),
        }
    }
}

/// One subject's marks in one period.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodMarksView {
    pub period: String,
    pub marks: Vec<DatedMark>,
    pub average: String,
    pub weighted: String,
    pub final_mark: Option<String>,
}

/// A mark with its date and kind, for the marks page.
#[derive(Debug, Clone, Serialize)]
pub struct DatedMark {
    pub value: String,
    pub date: String,
    pub kind: Option<String>,
    pub weight: String,
}

/// One subject on the marks page.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectMarksView {
    pub subject: String,
    pub periods: Vec<PeriodMarksView>,
    /// Inline SVG of the numeric marks over time, or none.
    pub trend: Option<String>,
    /// Text alternative of the trend.
    pub trend_text: String,
}

/// The marks page.
#[derive(Debug, Clone, Serialize)]
pub struct MarksView {
    pub frame: Frame,
    pub student: String,
    pub class: String,
    pub subjects: Vec<SubjectMarksView>,
    pub legend: Vec<LegendItem>,
}

fn decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}").replace('.', ","))
}

/// A small line chart of marks 1–5, drawn with shapes so it reads without colour.
fn trend_svg(values: &[f64]) -> Option<String> {
    if values.len() < 2 {
        return None;
    }
    let (w, h) = (120.0, 28.0);
    let step = w / (values.len() - 1) as f64;
    let y = |v: f64| 2.0 + (5.0 - v) * (h - 4.0) / 4.0;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| format!("{:.1},{:.1}", i as f64 * step, y(v)))
        .collect();
    let mut svg = format!(
        "<svg class=\"trend\" viewBox=\"-2 0 124 28\" width=\"124\" height=\"28\" aria-hidden=\"true\">\
         <line x1=\"0\" y1=\"{:.1}\" x2=\"120\" y2=\"{:.1}\" class=\"mid\"/><polyline points=\"{}\"/>",
        y(3.0),
        y(3.0),
        points.join(" ")
    );
    if let Some(last) = points.last() {
        let (x, yy) = last.split_once(',').unwrap_or(("0", "0"));
        svg.push_str(&format!("<circle cx=\"{x}\" cy=\"{yy}\" r=\"2.5\"/>"));
    }
    svg.push_str("</svg>");
    Some(svg)
}

impl Index<'_> {
    /// The marks page of `st`.
    pub fn marks(&self, st: &Student) -> MarksView {
        let Some(class) = self.class_of(st) else {
            return MarksView {
                frame: self.frame("../../", st.name.full()),
                student: st.name.full(),
                class: String::new(),
                subjects: vec![],
                legend: vec![],
            };
        };
        let mine = self
            .marks_by_student
            .get(&st.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let periods = self.periods_of(class);
        let terms: Vec<&&ReportingPeriod> = periods.iter().filter(|p| p.kind.is_term()).collect();
        let mut codes = BTreeSet::new();
        let subjects = self
            .subjects_of(class)
            .into_iter()
            .map(|sid| {
                let of_subject: Vec<&&Mark> = mine.iter().filter(|m| m.subject_id == sid).collect();
                let mut numeric = Vec::new();
                let mut period_views: Vec<PeriodMarksView> = terms
                    .iter()
                    .map(|p| {
                        let in_period: Vec<&&&Mark> = of_subject
                            .iter()
                            .filter(|m| m.date >= p.starts_on && m.date <= p.ends_on)
                            .collect();
                        let (mut sum, mut n, mut wsum, mut w) = (0.0, 0.0, 0.0, 0.0);
                        for m in &in_period {
                            codes.insert(m.value.clone());
                            if let stats::Meaning::Grade(v) =
                                stats::meaning(&self.s.legend, &m.value)
                            {
                                sum += v;
                                n += 1.0;
                                wsum += v * m.weight;
                                w += m.weight;
                                numeric.push(v);
                            }
                        }
                        let final_mark = self.period_marks.get(&(st.id, sid, p.id)).map(|v| {
                            codes.insert((*v).to_owned());
                            (*v).to_owned()
                        });
                        PeriodMarksView {
                            period: p.title.clone(),
                            marks: in_period
                                .iter()
                                .map(|m| DatedMark {
                                    value: m.value.clone(),
                                    date: i18n::short_date(self.lang, m.date),
                                    kind: m.work_kind_id.and_then(|k| self.kind_pos.get(&k)).map(
                                        |&i| {
                                            let k = &self.s.work_kinds[i];
                                            if self.lang == Language::En {
                                                k.title_en.clone()
                                            } else {
                                                k.title.clone()
                                            }
                                        },
                                    ),
                                    weight: fmt_weight(m.weight),
                                })
                                .collect(),
                            average: decimal((n > 0.0).then(|| sum / n)),
                            weighted: decimal((w > 0.0).then(|| wsum / w)),
                            final_mark,
                        }
                    })
                    .collect();
                // Year, exam and final marks follow the terms.
                for p in periods.iter().filter(|p| !p.kind.is_term()) {
                    if let Some(v) = self.period_marks.get(&(st.id, sid, p.id)) {
                        codes.insert((*v).to_owned());
                        period_views.push(PeriodMarksView {
                            period: p.title.clone(),
                            marks: vec![],
                            average: String::new(),
                            weighted: String::new(),
                            final_mark: Some((*v).to_owned()),
                        });
                    }
                }
                let trend_text = numeric
                    .iter()
                    .map(|v| format!("{v}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                SubjectMarksView {
                    subject: self.subject_name(sid).to_owned(),
                    periods: period_views,
                    trend: trend_svg(&numeric),
                    trend_text,
                }
            })
            .collect();
        MarksView {
            frame: self.frame("../../", format!("{} — {}", st.name.full(), self.t.marks)),
            student: st.name.full(),
            class: class.title.clone(),
            subjects,
            legend: codes.iter().filter_map(|c| self.legend_title(c)).collect(),
        }
    }
}

/// A row of a statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementRow {
    pub n: usize,
    pub name: String,
    pub key: String,
    /// One cell per column of `StatementView::columns`.
    pub marks: Vec<String>,
    pub absences: usize,
    pub ill: usize,
    /// One group per column, one cell per part of that column: the printed
    /// statement's column groups (for the year: terms, year, exam, final).
    pub cells: Vec<Vec<String>>,
}

/// A column of a statement: a subject and, for the year, which mark.
#[derive(Debug, Clone, Serialize)]
pub struct StatementColumn {
    pub subject: String,
    pub short: String,
    /// Labels of the marks in the subject's column group («I», «II», «Год»,
    /// «Экз.», «Итог.»); one label, the period's, outside the year statement.
    pub parts: Vec<String>,
}

/// A summary statement of one class for one period.
#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    pub frame: Frame,
    pub class: String,
    pub class_teacher: Option<String>,
    pub year: String,
    pub period: String,
    /// File name stem: "statement-q1".
    pub slug: String,
    pub columns: Vec<StatementColumn>,
    pub rows: Vec<StatementRow>,
    pub stats: Stats,
    pub progress: String,
    pub quality: String,
    pub sou: String,
}

/// File-name stem of a period: q1, h2, t3, year, exam, final.
pub fn period_slug(p: &ReportingPeriod) -> String {
    match p.kind {
        PeriodKind::Quarter => format!("q{}", p.number),
        PeriodKind::Half => format!("h{}", p.number),
        PeriodKind::Trimester => format!("t{}", p.number),
        PeriodKind::Year => "year".to_owned(),
        PeriodKind::Exam => "exam".to_owned(),
        PeriodKind::Final => "final".to_owned(),
    }
}

impl Index<'_> {
    /// Periods of the class that have ended by today.
    pub fn finished_periods(&self, class: &Class) -> Vec<&ReportingPeriod> {
        self.periods_of(class)
            .into_iter()
            .filter(|p| p.ends_on < self.today)
            .collect()
    }

    /// The summary statement of `class` for period `p`, built from the roster.
    pub fn statement(&self, class: &Class, p: &ReportingPeriod) -> StatementView {
        let subjects = self.subjects_of(class);
        let roster = self.roster.get(&class.id).map(Vec::as_slice).unwrap_or(&[]);
        let lessons_in: HashMap<i64, Date> = self
            .s
            .lessons
            .iter()
            .filter(|l| l.date >= p.starts_on && l.date <= p.ends_on)
            .map(|l| (l.id, l.date))
            .collect();
        let missed = self.absences(|lesson| lessons_in.contains_key(&lesson));
        // The column group of each subject: the period alone, or for the
        // year every term, the year, and the exam and final where they apply.
        let mut group: Vec<&ReportingPeriod> = if p.kind == PeriodKind::Year {
            self.periods_of(class)
        } else {
            vec![p]
        };
        group.sort_by_key(|q| (q.kind != class.term_kind, q.kind, q.number, q.id));
        let parts: Vec<Vec<&ReportingPeriod>> = subjects
            .iter()
            .map(|sid| {
                group
                    .iter()
                    .copied()
                    .filter(|q| {
                        q.kind != PeriodKind::Exam
                            || q.id == p.id
                            || roster
                                .iter()
                                .any(|st| self.period_marks.contains_key(&(st.id, *sid, q.id)))
                    })
                    .collect()
            })
            .collect();
        let mark = |st: &Student, sid: i64, q: &ReportingPeriod| {
            self.period_marks
                .get(&(st.id, sid, q.id))
                .map(|v| (*v).to_owned())
                .unwrap_or_default()
        };
        let rows: Vec<StatementRow> = roster
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let (absences, ill) = missed.get(&st.id).copied().unwrap_or_default();
                StatementRow {
                    n: i + 1,
                    name: st.name.full(),
                    key: st.key.clone(),
                    marks: subjects.iter().map(|&sid| mark(st, sid, p)).collect(),
                    absences,
                    ill,
                    cells: subjects
                        .iter()
                        .zip(&parts)
                        .map(|(&sid, ps)| ps.iter().map(|q| mark(st, sid, q)).collect())
                        .collect(),
                }
            })
            .collect();
        let stats = stats::statement_stats(
            &self.s.legend,
            rows.iter()
                .map(|r| r.marks.iter().map(String::as_str).filter(|m| !m.is_empty())),
        );
        StatementView {
            frame: self.frame(
                "../../",
                format!("{} {} — {}", self.t.statement, class.title, p.title),
            ),
            class: class.title.clone(),
            class_teacher: class
                .class_teacher_id
                .and_then(|id| self.staff_pos.get(&id))
                .map(|&i| self.s.staff[i].name.full()),
            year: self.s.year.title.clone(),
            period: p.title.clone(),
            slug: format!("statement-{}", period_slug(p)),
            columns: subjects
                .iter()
                .zip(&parts)
                .map(|(&sid, ps)| StatementColumn {
                    subject: self.subject_name(sid).to_owned(),
                    short: self.subject_short(sid).to_owned(),
                    parts: ps
                        .iter()
                        .map(|q| i18n::period_short(self.lang, q.kind, q.number))
                        .collect(),
                })
                .collect(),
            progress: stats::percent(stats.progress),
            quality: stats::percent(stats.quality),
            sou: stats::percent(stats.sou),
            stats,
            rows,
        }
    }
}

/// A student on the class page.
#[derive(Debug, Clone, Serialize)]
pub struct RosterRow {
    pub n: usize,
    pub name: String,
    pub key: String,
    pub absences: usize,
    pub ill: usize,
}

/// A link to a statement.
#[derive(Debug, Clone, Serialize)]
pub struct StatementLink {
    pub slug: String,
    pub period: String,
}

/// The class page.
#[derive(Debug, Clone, Serialize)]
pub struct ClassView {
    pub frame: Frame,
    pub class: String,
    pub class_teacher: Option<String>,
    pub roster: Vec<RosterRow>,
    pub statements: Vec<StatementLink>,
    /// The latest finished period's statement, shown on the page.
    pub latest: Option<StatementView>,
}

impl Index<'_> {
    /// Lessons missed (all, of them ill) per student, over the lessons that
    /// `counts` accepts; late arrivals and unknown codes are not absences.
    fn absences(&self, counts: impl Fn(i64) -> bool) -> HashMap<i64, (usize, usize)> {
        let mut out: HashMap<i64, (usize, usize)> = HashMap::new();
        for a in self.s.attendance.iter().filter(|a| counts(a.lesson_id)) {
            let cat = self
                .s
                .legend
                .iter()
                .find(|e| e.code == a.code)
                .map(|e| e.category);
            if matches!(cat, Some(Category::Late) | None) {
                continue;
            }
            let e = out.entry(a.student_id).or_default();
            e.0 += 1;
            if cat == Some(Category::Ill) {
                e.1 += 1;
            }
        }
        out
    }

    /// The class page of `class`, with its statements (already built).
    pub fn class_page(&self, class: &Class, statements: &[StatementView]) -> ClassView {
        let absences = self.absences(|_| true);
        let roster = self.roster.get(&class.id).map(Vec::as_slice).unwrap_or(&[]);
        ClassView {
            frame: self.frame("../../", format!("{} {}", self.t.class, class.title)),
            class: class.title.clone(),
            class_teacher: class
                .class_teacher_id
                .and_then(|id| self.staff_pos.get(&id))
                .map(|&i| self.s.staff[i].name.full()),
            roster: roster
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    let (absences, ill) = absences.get(&st.id).copied().unwrap_or_default();
                    RosterRow {
                        n: i + 1,
                        name: st.name.full(),
                        key: st.key.clone(),
                        absences,
                        ill,
                    }
                })
                .collect(),
            statements: statements
                .iter()
                .map(|s| StatementLink {
                    slug: s.slug.clone(),
                    period: s.period.clone(),
                })
                .collect(),
            latest: statements
                .iter()
                .rev()
                .find(|s| {
                    s.slug.starts_with("statement-")
                        && !s.slug.ends_with("exam")
                        && !s.slug.ends_with("final")
                })
                .cloned(),
        }
    }
}

/// A class on the school page.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolClassRow {
    pub key: String,
    pub title: String,
    pub class_teacher: Option<String>,
    pub students: usize,
    pub period: Option<String>,
    /// File name stem of that statement, for links to it.
    pub slug: Option<String>,
    pub progress: String,
    pub quality: String,
    pub sou: String,
}

/// The school page for the office.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolView {
    pub frame: Frame,
    pub name: String,
    pub year: String,
    pub classes: Vec<SchoolClassRow>,
}

impl Index<'_> {
    /// The school page, given each class's latest statement.
    pub fn school_page(
        &self,
        latest: &HashMap<i64, StatementView>,
        root: &'static str,
    ) -> SchoolView {
        let mut classes: Vec<&Class> = self.s.classes.iter().collect();
        classes.sort_by_key(|c| (c.grade, crate::text::collation_key(&c.letter), c.id));
        SchoolView {
            frame: self.frame(root, self.s.school.short_name.clone()),
            name: self.s.school.name.clone(),
            year: self.s.year.title.clone(),
            classes: classes
                .iter()
                .map(|c| {
                    let st = latest.get(&c.id);
                    SchoolClassRow {
                        key: c.key.clone(),
                        title: c.title.clone(),
                        class_teacher: c
                            .class_teacher_id
                            .and_then(|id| self.staff_pos.get(&id))
                            .map(|&i| self.s.staff[i].name.short()),
                        students: self.roster.get(&c.id).map_or(0, Vec::len),
                        period: st.map(|s| s.period.clone()),
                        slug: st.map(|s| s.slug.clone()),
                        progress: st.map_or_else(|| "—".to_owned(), |s| s.progress.clone()),
                        quality: st.map_or_else(|| "—".to_owned(), |s| s.quality.clone()),
                        sou: st.map_or_else(|| "—".to_owned(), |s| s.sou.clone()),
                    }
                })
                .collect(),
        }
    }
}
