//! The marks page: every mark per subject and period with its weight, the
//! weighted average, how the period mark comes out of it by the school's
//! rule, what the running term still needs for the next mark, a trend.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Frame, Index, LegendItem, fmt_weight};
use crate::gradebook::rounding::{self, Rounding};
use crate::gradebook::{Mark, PeriodKind, ReportingPeriod, Student};
use crate::i18n::{self, Labels, Language, fill};
use crate::render::stats;

/// One subject's marks in one period.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodMarksView {
    pub period: String,
    pub marks: Vec<DatedMark>,
    /// The weighted average cut to two decimals («4,27»), or «—».
    pub weighted: String,
    pub final_mark: Option<String>,
    /// The running term.
    pub running: bool,
    /// How the period mark comes out, where it comes from marks.
    pub how: Option<HowView>,
}

/// How a period mark comes out of the marks, in words and figures.
#[derive(Debug, Clone, Serialize)]
pub struct HowView {
    /// «(5×1 + 4×2) ÷ (1 + 2) = 13 ÷ 3 = 4,33»; for the year the term marks' average.
    pub formula: String,
    /// The mark the school's rule gives («4»), or «н/а» with too few marks.
    pub by_rule: String,
    /// The averages that give that mark: «от 3,50 до 4,49».
    pub band: String,
    /// The period mark is not what the rule gives: a teacher set it so.
    /// The page says so in `note`.
    pub teacher_set: bool,
    /// Said under the period: a teacher's decision, too few marks, or for
    /// the running term what comes out so far.
    pub note: Option<String>,
    /// For the running term: what it takes to reach the next mark.
    pub next: Option<String>,
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
    /// The school's rule for term marks, in words.
    pub rule: String,
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

/// An average as pages show it: cut to two decimals, with a comma.
pub fn cut_average(average: f64) -> String {
    let h = rounding::hundredths(average);
    format!("{},{:02}", h / 100, h % 100)
}

/// A threshold of the rule: «4,50».
fn threshold(t: f64) -> String {
    // Thresholds are whole hundredths (4,50): printed from the integer
    // they are, as `{t:.2}` would, without its slow exact path.
    let hundredths = t * 100.0;
    if hundredths.fract() == 0.0 && hundredths.is_sign_positive() && hundredths < 1e15 {
        let h = hundredths as i64;
        return format!("{},{:02}", h / 100, h % 100);
    }
    format!("{t:.2}").replace('.', ",")
}

/// A sum of weights or of marks times weights: «19,5», «70».
fn amount(v: f64) -> String {
    fmt_weight((v * 1000.0).round() / 1000.0)
}

/// The school's rule in one sentence.
pub fn rule_text(t: &Labels, rule: &Rounding) -> String {
    let items: Vec<String> = (2..=5)
        .rev()
        .filter_map(|m| {
            rule.lowest_for(m).map(|from| {
                fill(
                    t.rule_item,
                    &[("mark", &m.to_string()), ("from", &threshold(from))],
                )
            })
        })
        .collect();
    fill(
        t.rule_text,
        &[
            ("rule", &items.join(", ")),
            ("min", &rule.min_marks.to_string()),
        ],
    )
}

/// The averages that give `mark` by `rule`.
fn band(t: &Labels, rule: &Rounding, mark: i64) -> String {
    let m = mark.to_string();
    match (rule.lowest_for(mark), rule.lowest_for(mark + 1)) {
        (Some(from), Some(next)) => fill(
            t.band,
            &[
                ("mark", &m),
                ("from", &threshold(from)),
                ("until", &cut_average(next - 0.01)),
            ],
        ),
        (Some(from), None) => fill(t.band_top, &[("mark", &m), ("from", &threshold(from))]),
        (None, Some(next)) => fill(
            t.band,
            &[
                ("mark", &m),
                ("from", "1,00"),
                ("until", &cut_average(next - 0.01)),
            ],
        ),
        (None, None) => String::new(),
    }
}

/// «(5×1 + 4×2) ÷ (1 + 2) = 13 ÷ 3 = 4,33».
fn weighted_formula(marks: &[(f64, f64)]) -> String {
    let terms: Vec<String> = marks
        .iter()
        .map(|(v, w)| format!("{}×{}", amount(*v), fmt_weight(*w)))
        .collect();
    let weights: Vec<String> = marks.iter().map(|(_, w)| fmt_weight(*w)).collect();
    let sum: f64 = marks.iter().map(|(v, w)| v * w).sum();
    let wsum: f64 = marks.iter().map(|(_, w)| w).sum();
    format!(
        "({}) ÷ ({}) = {} ÷ {} = {}",
        terms.join(" + "),
        weights.join(" + "),
        amount(sum),
        amount(wsum),
        cut_average(sum / wsum)
    )
}

/// «(4 + 5 + 4) ÷ 3 = 4,33».
fn plain_formula(values: &[f64]) -> String {
    let terms: Vec<String> = values.iter().map(|v| amount(*v)).collect();
    let sum: f64 = values.iter().sum();
    format!(
        "({}) ÷ {} = {} ÷ {} = {}",
        terms.join(" + "),
        values.len(),
        amount(sum),
        values.len(),
        cut_average(sum / values.len() as f64)
    )
}

/// What it takes to reach the mark above what `marks` give now: a «5»
/// of the heaviest weight seen, or of the lightest.
fn next_mark(t: &Labels, rule: &Rounding, marks: &[(f64, f64)], now: i64) -> Option<String> {
    if now >= 5 || marks.is_empty() {
        return None;
    }
    let target = now + 1;
    let mut weights: Vec<f64> = marks.iter().map(|(_, w)| *w).collect();
    weights.sort_by(f64::total_cmp);
    weights.dedup();
    // The heaviest weight needs the fewest marks; the lightest is the
    // easier to get, and alone when it needs no more.
    let heavy = weights
        .last()
        .and_then(|&w| rule.more_needed(marks, 5.0, w, target).map(|n| (n, w)));
    let light = weights
        .first()
        .and_then(|&w| rule.more_needed(marks, 5.0, w, target).map(|n| (n, w)));
    let ways: Vec<(usize, f64)> = match (heavy, light) {
        (Some(h), Some(l)) if l.0 <= h.0 => vec![l],
        (Some(h), Some(l)) => vec![h, l],
        (h, l) => h.into_iter().chain(l).collect(),
    };
    if ways.is_empty() {
        return Some(fill(t.next_far, &[("target", &target.to_string())]));
    }
    let options: Vec<String> = ways
        .iter()
        .map(|&(n, w)| {
            let args = [
                ("count", t.counts[n - 1]),
                ("value", "5"),
                ("weight", &fmt_weight(w)),
            ];
            if n == 1 {
                fill(t.more_one, &args)
            } else {
                fill(t.more_many, &args)
            }
        })
        .collect();
    let options = options.join(&format!(" {} ", t.or));
    Some(i18n::capitalized(&fill(
        t.next_mark,
        &[("options", &options), ("target", &target.to_string())],
    )))
}

impl Index<'_> {
    /// How a term mark comes out of `marks` (value, weight), against the
    /// mark set (`set`); for the running term, what comes out so far and
    /// what the next mark takes.
    fn how_term(
        &self,
        rule: &Rounding,
        marks: &[(f64, f64)],
        set: Option<&str>,
        running: bool,
    ) -> Option<HowView> {
        let t = self.t;
        let average = rounding::weighted_average(marks);
        let n = marks.len().to_string();
        let min = rule.min_marks.to_string();
        if running {
            let Some(average) = average else {
                return Some(HowView {
                    formula: String::new(),
                    by_rule: String::new(),
                    band: String::new(),
                    teacher_set: false,
                    note: Some(t.no_marks_yet.to_owned()),
                    next: None,
                });
            };
            let now = rule.mark(average);
            let note = if marks.len() < rule.min_marks {
                fill(t.so_far_few, &[("n", &n), ("min", &min)])
            } else {
                fill(
                    t.so_far,
                    &[("mark", &now.to_string()), ("avg", &cut_average(average))],
                )
            };
            return Some(HowView {
                formula: weighted_formula(marks),
                by_rule: now.to_string(),
                band: band(t, rule, now),
                teacher_set: false,
                note: Some(note),
                next: next_mark(t, rule, marks, now),
            });
        }
        // A finished term: the mark set, checked against the rule.
        let set = set?;
        let by_rule = rule
            .term_mark(marks)
            .map_or_else(|| "н/а".to_owned(), |m| m.to_string());
        let teacher_set = set != by_rule;
        let note = if teacher_set {
            Some(fill(t.teacher_set, &[("set", set), ("rule", &by_rule)]))
        } else if marks.len() < rule.min_marks {
            Some(fill(t.few_marks, &[("n", &n), ("min", &min)]))
        } else {
            None
        };
        Some(HowView {
            formula: average.map_or_else(String::new, |_| weighted_formula(marks)),
            band: average.map_or_else(String::new, |a| band(t, rule, rule.mark(a))),
            by_rule,
            teacher_set,
            note,
            next: None,
        })
    }

    /// How the year mark comes out of the term marks.
    fn how_year(&self, rule: &Rounding, terms: &[f64], set: &str) -> Option<HowView> {
        if terms.is_empty() || !set.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let average = terms.iter().sum::<f64>() / terms.len() as f64;
        let by_rule = rule.mark(average).to_string();
        let teacher_set = set != by_rule;
        Some(HowView {
            formula: format!("{}: {}", self.t.year_average, plain_formula(terms)),
            band: band(self.t, rule, rule.mark(average)),
            note: teacher_set
                .then(|| fill(self.t.teacher_set, &[("set", set), ("rule", &by_rule)])),
            by_rule,
            teacher_set,
            next: None,
        })
    }

    /// The marks page of `st`.
    pub fn marks(&self, st: &Student) -> MarksView {
        let rule = self.s.school.rounding();
        let Some(class) = self.class_of(st) else {
            return MarksView {
                frame: self.frame("../../", st.name.full(), None),
                student: st.name.full(),
                class: String::new(),
                rule: String::new(),
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
        // The terms begun by today: a later one shows nothing yet.
        let terms: Vec<&&ReportingPeriod> = periods
            .iter()
            .filter(|p| p.kind.is_term() && p.starts_on <= self.today)
            .collect();
        let mut codes = BTreeSet::new();
        let subjects = self
            .subjects_of(class)
            .into_iter()
            .map(|sid| {
                let of_subject: Vec<&&Mark> = mine.iter().filter(|m| m.subject_id == sid).collect();
                let mut numeric = Vec::new();
                // The numeric term marks, for the year's explanation.
                let mut term_marks = Vec::new();
                let mut period_views: Vec<PeriodMarksView> = terms
                    .iter()
                    .map(|p| {
                        let in_period: Vec<&&&Mark> = of_subject
                            .iter()
                            .filter(|m| m.date >= p.starts_on && m.date <= p.ends_on)
                            .collect();
                        let mut weighted = Vec::new();
                        for m in &in_period {
                            codes.insert(m.value.clone());
                            if let stats::Meaning::Grade(v) =
                                stats::meaning(&self.s.legend, &m.value)
                            {
                                weighted.push((v, m.weight));
                                numeric.push(v);
                            }
                        }
                        let final_mark = self.period_marks.get(&(st.id, sid, p.id)).map(|v| {
                            codes.insert((*v).to_owned());
                            (*v).to_owned()
                        });
                        if let Some(stats::Meaning::Grade(v)) = final_mark
                            .as_deref()
                            .map(|f| stats::meaning(&self.s.legend, f))
                        {
                            term_marks.push(v);
                        }
                        let running = p.starts_on <= self.today && self.today <= p.ends_on;
                        let finished = p.ends_on < self.today;
                        let how = if running {
                            self.how_term(&rule, &weighted, None, true)
                        } else if finished {
                            self.how_term(&rule, &weighted, final_mark.as_deref(), false)
                        } else {
                            None
                        };
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
                            weighted: rounding::weighted_average(&weighted)
                                .map_or_else(|| "—".to_owned(), cut_average),
                            final_mark,
                            running,
                            how,
                        }
                    })
                    .collect();
                // Year, exam and final marks follow the terms.
                for p in periods.iter().filter(|p| !p.kind.is_term()) {
                    if let Some(v) = self.period_marks.get(&(st.id, sid, p.id)) {
                        codes.insert((*v).to_owned());
                        let how = if p.kind == PeriodKind::Year {
                            self.how_year(&rule, &term_marks, v)
                        } else {
                            None
                        };
                        period_views.push(PeriodMarksView {
                            period: p.title.clone(),
                            marks: vec![],
                            weighted: String::new(),
                            final_mark: Some((*v).to_owned()),
                            running: false,
                            how,
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
            rule: rule_text(self.t, &rule),
            subjects,
            legend: codes.iter().filter_map(|c| self.legend_title(c)).collect(),
            year: self.earlier.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_figures_print_as_float_formatting_prints_them() {
        // The integer shortcuts of `threshold` and `fmt_weight` print what
        // the float formatting prints, whole or not.
        for i in 0..20_000 {
            let t = f64::from(i) / 100.0;
            assert_eq!(threshold(t), format!("{t:.2}").replace('.', ","), "{t}");
            let w = f64::from(i) / 8.0;
            assert_eq!(fmt_weight(w), format!("{w}").replace('.', ","), "{w}");
            assert_eq!(amount(t * 3.0), {
                let v = (t * 3.0 * 1000.0).round() / 1000.0;
                format!("{v}").replace('.', ",")
            });
        }
    }

    #[test]
    fn figures_read_as_pages_show_them() {
        assert_eq!(cut_average(16.0 / 4.5), "3,55");
        assert_eq!(cut_average(4.5), "4,50");
        assert_eq!(
            weighted_formula(&[(5.0, 1.0), (4.0, 2.0), (3.0, 1.5)]),
            "(5×1 + 4×2 + 3×1,5) ÷ (1 + 2 + 1,5) = 17,5 ÷ 4,5 = 3,88"
        );
        assert_eq!(
            plain_formula(&[4.0, 5.0, 4.0, 4.0]),
            "(4 + 5 + 4 + 4) ÷ 4 = 17 ÷ 4 = 4,25"
        );
        let t = i18n::labels(Language::Ru);
        let r = Rounding::USUAL;
        assert_eq!(band(t, &r, 4), "от 3,50 до 4,49");
        assert_eq!(band(t, &r, 5), "от 4,50");
        assert_eq!(
            next_mark(t, &r, &[(4.0, 2.0), (4.0, 1.0), (5.0, 1.0)], 4).as_deref(),
            Some("Ещё одна «5» с весом 2 или ещё две «5» с весом 1 — и выйдет «5».")
        );
        assert_eq!(
            next_mark(t, &r, &[(3.0, 2.0), (3.0, 1.0), (4.0, 1.0)], 3).as_deref(),
            Some("Ещё одна «5» с весом 1 — и выйдет «4».")
        );
        assert_eq!(
            next_mark(t, &r, &[(4.0, 2.0), (4.0, 1.0), (4.0, 1.0)], 4).as_deref(),
            Some("Ещё две «5» с весом 2 или ещё четыре «5» с весом 1 — и выйдет «5».")
        );
        assert!(
            rule_text(t, &r).contains("«5» — от 4,50, «4» — от 3,50, «3» — от 2,50, «2» — от 1,50")
        );
    }
}
