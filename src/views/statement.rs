//! The summary statement of one class for one period, as a page.

use std::collections::HashMap;

use serde::Serialize;

use super::{Frame, Index, Span};
use crate::gradebook::{Class, Date, PeriodKind, ReportingPeriod, Student};
use crate::i18n;
use crate::render::stats::{self, Stats};

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
    /// «прибыл 12.01.2027» or «выбыл 11.01.2027» for a student in the class
    /// for part of the period only; a student who left before its end has
    /// no marks here (they are in their new class's statement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    /// The earlier school year the statement belongs to (`2025-2026`), if
    /// not the current one: its students' pages of that year are linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
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
    /// «выбыл 11.01.2027» when a student's time in a class (`span`) ended
    /// within `within` (before its last day), else «прибыл 12.01.2027» when
    /// it began within it (after its first day); `None` when it covers it.
    pub(super) fn moved(&self, span: Span, within: Span) -> Option<String> {
        let day = |d: Date| i18n::short_date(self.lang, d);
        if span.until < within.until {
            Some(format!("{} {}", self.t.left_class, day(span.until)))
        } else if span.from > within.from {
            Some(format!("{} {}", self.t.joined_class, day(span.from)))
        } else {
            None
        }
    }

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
        let period = Span {
            from: p.starts_on,
            until: p.ends_on,
        };
        // The students in the class during the period: those who left
        // before its end are listed without marks and counted nowhere.
        let roster: Vec<(&Student, Span, bool)> = self
            .roster(class)
            .iter()
            .filter(|(_, span)| span.overlaps(&period))
            .map(|&(st, span)| (st, span, span.until >= period.until))
            .collect();
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
                            || roster.iter().any(|(st, ..)| {
                                self.period_marks.contains_key(&(st.id, *sid, q.id))
                            })
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
            .map(|(i, &(st, span, stayed))| {
                let (absences, ill) = missed.get(&st.id).copied().unwrap_or_default();
                let marks = |sid: i64, q: &ReportingPeriod| {
                    if stayed {
                        mark(st, sid, q)
                    } else {
                        String::new()
                    }
                };
                StatementRow {
                    n: i + 1,
                    name: st.name.full(),
                    key: st.key.clone(),
                    marks: subjects.iter().map(|&sid| marks(sid, p)).collect(),
                    absences,
                    ill,
                    cells: subjects
                        .iter()
                        .zip(&parts)
                        .map(|(&sid, ps)| ps.iter().map(|q| marks(sid, q)).collect())
                        .collect(),
                    note: self.moved(span, period),
                }
            })
            .collect();
        let stats = stats::statement_stats(
            &self.s.legend,
            rows.iter()
                .zip(&roster)
                .filter(|(_, r)| r.2)
                .map(|(r, _)| r.marks.iter().map(String::as_str).filter(|m| !m.is_empty())),
        );
        StatementView {
            frame: self.frame(
                "../../",
                format!("{} {} — {}", self.t.statement, class.title, p.title),
                Some(p.ends_on),
            ),
            class: class.title.clone(),
            class_teacher: class
                .class_teacher_id
                .and_then(|id| self.staff_pos.get(&id))
                .map(|&i| self.s.staff[i].name.full()),
            year: self.s.year.title.clone(),
            period: p.title.clone(),
            slug: super::paths::statement_stem(&period_slug(p)),
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
            earlier: self.earlier.clone(),
        }
    }
}
