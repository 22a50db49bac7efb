//! The week page and the student index (the current week plus links).

use std::collections::BTreeSet;

use chrono::{Datelike, Duration};
use serde::Serialize;

use super::{Frame, Index, LegendItem, Span, fmt_weight};
use crate::gradebook::{Date, Lesson, Note, Student};
use crate::i18n::{self, Language};
use crate::render::markdown;

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
    /// The earlier school year the page belongs to (`2025-2026`), if it
    /// is not of the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
    /// On the student index: the earlier years the student has pages of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past_years: Vec<super::YearLink>,
    /// Set on the student index: every week of the year.
    pub weeks: Option<Vec<WeekLink>>,
    /// Weekly printouts (PDF) to link: on the index every printed week, on
    /// a week page its own if printed. Filled in by the build.
    pub printouts: Vec<WeekLink>,
    /// On the student index: its week is still under way, so the week has
    /// no page of its own yet (see [`RunningWeekView`]).
    pub running: bool,
}

/// What stands at the address of a week still under way: a pointer to the
/// student's start page, which shows the week. Made of nothing that
/// changes from day to day, it is written once a week and carried after.
#[derive(Debug, Clone, Serialize)]
pub struct RunningWeekView {
    pub frame: Frame,
    pub student: String,
    pub week_title: String,
}

impl<'a> Index<'a> {
    pub(super) fn week_title(&self, monday: Date) -> String {
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
        let end = Date(monday.0 + Duration::days(6));
        let week = Span {
            from: monday,
            until: end,
        };
        // The lessons of the classes and groups the student was in on each
        // lesson's day: after a move, the old class's before, the new one's after.
        let mut lessons: Vec<&Lesson> = self
            .units_during(st, week)
            .filter_map(|(u, span)| self.lessons.get(&u).map(|v| (v, span)))
            .flat_map(|(v, span)| {
                let from = v.partition_point(|l| l.date < monday.max(span.from));
                let to = v.partition_point(|l| l.date <= end.min(span.until));
                v[from..to.max(from)].iter().copied()
            })
            .collect();
        lessons.sort_by_key(|l| (l.date, l.slot, l.id));
        let mut codes = BTreeSet::new();
        let notes = self.notes.get(&st.id).map(Vec::as_slice).unwrap_or(&[]);
        // The latest day the page tells of: a lesson or a note of the week.
        let updated = lessons
            .iter()
            .map(|l| l.date)
            .chain(notes.iter().map(|n| n.date).filter(|d| week.contains(*d)))
            .max();
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
            frame: self.frame(
                root,
                format!("{} — {}", name, self.week_title(monday)),
                updated,
            ),
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
            year: self.earlier.clone(),
            past_years: Vec::new(),
            running: index && self.running_week() == Some(w),
        }
    }

    /// What stands at the address of week `w` of `st` while the week is
    /// under way: it leads to the student's start page.
    pub fn running_week_page(&self, st: &Student, w: usize) -> RunningWeekView {
        let monday = self.weeks[w].1;
        let name = st.name.full();
        RunningWeekView {
            frame: self.frame(
                "../../../",
                format!("{} — {}", name, self.week_title(monday)),
                None,
            ),
            student: name,
            week_title: self.week_title(monday),
        }
    }
}
