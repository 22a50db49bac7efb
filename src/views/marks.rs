//! The marks page: every mark per subject and period, averages, a trend.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Frame, Index, LegendItem, decimal, fmt_weight};
use crate::gradebook::{Mark, ReportingPeriod, Student};
use crate::i18n::{self, Language};
use crate::render::stats;

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
    /// The earlier school year the page belongs to, if not the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
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
                frame: self.frame("../../", st.name.full(), None),
                student: st.name.full(),
                class: String::new(),
                subjects: vec![],
                legend: vec![],
                year: self.earlier.clone(),
            };
        };
        let mine = self
            .marks_by_student
            .get(&st.id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let periods = self.periods_of(class);
        // The latest day the page tells of: a mark, or the end of a period
        // whose mark it shows.
        let updated = mine
            .iter()
            .map(|m| m.date)
            .chain(periods.iter().filter_map(|p| {
                self.s
                    .subjects
                    .iter()
                    .any(|x| self.period_marks.contains_key(&(st.id, x.id, p.id)))
                    .then_some(p.ends_on)
            }))
            .filter(|d| *d <= self.reference_day())
            .max();
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
            frame: self.frame(
                "../../",
                format!("{} — {}", st.name.full(), self.t.marks),
                updated,
            ),
            student: st.name.full(),
            class: class.title.clone(),
            subjects,
            legend: codes.iter().filter_map(|c| self.legend_title(c)).collect(),
            year: self.earlier.clone(),
        }
    }
}
