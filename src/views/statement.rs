//! The summary statement of one class for one period, as a page.

use std::collections::HashMap;

use serde::Serialize;

use super::{Frame, Index};
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
        }
    }
}
