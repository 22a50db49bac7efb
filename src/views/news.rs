//! What is new for a student, for their home page on the gate and their
//! guardians': the latest marks, the last homework of each subject with
//! the weekly timetable it is due by, absences, teachers' notes.
//!
//! The build writes it beside the student's pages as data, not as a page:
//! no path of the URL scheme names it, so the gate never serves it; it
//! reads it for the accounts that may read the student, and picks what is
//! new for the visit (since the previous one, the next school day, this
//! week). It holds the data of the weeks before the student's latest
//! lesson day and nothing that depends on the build's day, so a night
//! without new data leaves it as it was.

use chrono::{Datelike, Duration};
use serde::{Deserialize, Serialize};

use super::{Index, Span, fmt_weight};
use crate::gradebook::{Category, Date, Lesson, Student};
use crate::i18n::Language;
use crate::render::markdown;

/// Days before the latest lesson day whose marks and absences it holds.
pub const NEWS_DAYS: i64 = 28;
/// Characters of homework and of a note it keeps.
const TEXT_CHARS: usize = 240;
/// Notes it keeps, the latest.
const NOTES: usize = 3;

/// A mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsMark {
    pub date: Date,
    pub subject: String,
    pub value: String,
    pub weight: String,
    pub kind: Option<String>,
}

/// A lesson missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsAbsence {
    pub date: Date,
    pub subject: String,
    pub code: String,
}

/// The homework set last in a subject, as plain text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsHomework {
    pub subject: String,
    /// The day of the lesson that set it.
    pub date: Date,
    pub text: String,
}

/// A teacher's note, as plain text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewsNote {
    pub date: Date,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub text: String,
}

/// What is new for one student, as the build writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News {
    pub family_name: String,
    pub given_name: String,
    pub class: String,
    /// The first day whose marks and absences it holds.
    pub since: Date,
    /// Marks from `since` on, the newest first.
    pub marks: Vec<NewsMark>,
    /// Lessons missed from `since` on, the newest first.
    pub absences: Vec<NewsAbsence>,
    /// Per weekday (Monday first), the subjects of the latest such day's
    /// lessons, in order: the timetable the next school day follows.
    pub timetable: Vec<Vec<String>>,
    /// The homework set last in each subject of the timetable.
    pub homework: Vec<NewsHomework>,
    /// Weekdays off of the student's grade from `since` on.
    pub days_off: Vec<Date>,
    /// The latest notes, the newest first.
    pub notes: Vec<NewsNote>,
}

impl News {
    /// The first school day after `day` by the timetable and the days
    /// off, within three weeks.
    pub fn next_school_day(&self, day: Date) -> Option<Date> {
        (1..=21).map(|n| Date(day.0 + Duration::days(n))).find(|d| {
            let wd = d.0.weekday().num_days_from_monday() as usize;
            self.timetable.get(wd).is_some_and(|s| !s.is_empty()) && !self.days_off.contains(d)
        })
    }

    /// The subjects of `day` by the timetable, each once, in order.
    pub fn subjects_on(&self, day: Date) -> Vec<&str> {
        let wd = day.0.weekday().num_days_from_monday() as usize;
        let mut out: Vec<&str> = Vec::new();
        for s in self.timetable.get(wd).into_iter().flatten() {
            if !out.contains(&s.as_str()) {
                out.push(s);
            }
        }
        out
    }
}

impl Index<'_> {
    /// What is new for `st` in this year's data up to today.
    pub fn news(&self, st: &Student) -> News {
        let today = self.reference_day();
        let class = self.class_of(st);
        let year = Span {
            from: self.s.year.starts_on,
            until: today,
        };
        let mut lessons: Vec<&Lesson> = self
            .units_during(st, year)
            .filter_map(|(u, span)| self.lessons.get(&u).map(|v| (v, span)))
            .flat_map(|(v, span)| {
                let from = v.partition_point(|l| l.date < span.from.max(year.from));
                let to = v.partition_point(|l| l.date <= span.until.min(year.until));
                v[from..to.max(from)].iter().copied()
            })
            .collect();
        lessons.sort_by_key(|l| (l.date, l.slot, l.id));
        let last = lessons.last().map_or(year.from, |l| l.date);
        let since = Date(last.0 - Duration::days(NEWS_DAYS - 1)).max(year.from);
        let kind_title = |k: Option<i64>| {
            k.and_then(|k| self.kind_pos.get(&k)).map(|&i| {
                let k = &self.s.work_kinds[i];
                if self.lang == Language::En {
                    k.title_en.clone()
                } else {
                    k.title.clone()
                }
            })
        };
        let mut marks: Vec<NewsMark> = self
            .marks_by_student
            .get(&st.id)
            .into_iter()
            .flatten()
            .rev()
            .filter(|m| since <= m.date && m.date <= today)
            .map(|m| NewsMark {
                date: m.date,
                subject: self.subject_name(m.subject_id).to_owned(),
                value: m.value.clone(),
                weight: fmt_weight(m.weight),
                kind: m.work_title.clone().or_else(|| kind_title(m.work_kind_id)),
            })
            .collect();
        marks.sort_by_key(|m| std::cmp::Reverse(m.date));
        let late: Vec<&str> = self
            .s
            .legend
            .iter()
            .filter(|e| e.category == Category::Late)
            .map(|e| e.code.as_str())
            .collect();
        let absences: Vec<NewsAbsence> = lessons
            .iter()
            .rev()
            .filter(|l| l.date >= since)
            .filter_map(|l| {
                let a = self.absences.get(&(st.id, l.id))?;
                (!late.contains(&a.code.as_str())).then(|| NewsAbsence {
                    date: l.date,
                    subject: self.subject_name(l.subject_id).to_owned(),
                    code: a.code.clone(),
                })
            })
            .collect();
        // The timetable: each weekday's latest day with lessons.
        let mut timetable: Vec<Vec<String>> = vec![Vec::new(); 7];
        let mut seen = [None; 7];
        for l in lessons.iter().rev() {
            let wd = l.date.0.weekday().num_days_from_monday() as usize;
            if seen[wd].is_none_or(|d| d == l.date) {
                seen[wd] = Some(l.date);
                timetable[wd].push(self.subject_name(l.subject_id).to_owned());
            }
        }
        for day in &mut timetable {
            day.reverse();
        }
        let mut homework: Vec<NewsHomework> = Vec::new();
        let mut done: Vec<i64> = Vec::new();
        for l in lessons.iter().rev() {
            if done.contains(&l.subject_id) {
                continue;
            }
            done.push(l.subject_id);
            let subject = self.subject_name(l.subject_id);
            if let Some(h) = l.homework.as_deref().filter(|h| !h.trim().is_empty())
                && timetable.iter().flatten().any(|s| s == subject)
            {
                homework.push(NewsHomework {
                    subject: subject.to_owned(),
                    date: l.date,
                    text: markdown::to_text(h, TEXT_CHARS),
                });
            }
        }
        let days_off = self
            .s
            .days_off
            .iter()
            .filter(|d| {
                d.date >= since && d.grade.is_none_or(|g| class.is_some_and(|c| c.grade == g))
            })
            .map(|d| d.date)
            .collect();
        let mut notes: Vec<NewsNote> = self
            .notes
            .get(&st.id)
            .into_iter()
            .flatten()
            .filter(|n| n.date <= today)
            .map(|n| NewsNote {
                date: n.date,
                author: self.staff_short(n.staff_id),
                subject: n.subject_id.map(|s| self.subject_name(s).to_owned()),
                text: markdown::to_text(&n.body, TEXT_CHARS),
            })
            .collect();
        notes.sort_by_key(|n| std::cmp::Reverse(n.date));
        notes.truncate(NOTES);
        News {
            family_name: st.name.family_name.clone(),
            given_name: st.name.given_name.clone(),
            class: class.map(|c| c.title.clone()).unwrap_or_default(),
            since,
            marks,
            absences,
            timetable,
            homework,
            days_off,
            notes,
        }
    }
}
