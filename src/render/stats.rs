//! Statistics of a summary statement («сводная ведомость»): one function
//! used by the HTML class pages and the PDF statements alike.
//!
//! Definitions, per student, over the period marks of the statement:
//! - excellent: every assessed mark is the top grade (5) or a pass;
//! - good: every mark 4 or 5 (or a pass), at least one 4;
//! - one «3»: exactly one 3, every other mark 4 or 5 (or a pass);
//! - failing: at least one failing mark (a grade below 3, or «незач»);
//! - not assessed: no failing mark but at least one «н/а», or no mark at all.
//!
//! Absolute progress = students neither failing nor not assessed / N;
//! quality = (excellent + good) / N; СОУ = (100·n5 + 64·n4 + 36·n3 + 16·n2 +
//! 7·n1) / (n5 + … + n1) over the numeric marks. N is the roster size, so a
//! student without marks still counts. Exempt marks («осв») are left out.

use serde::Serialize;

use crate::gradebook::{Category, LegendEntry};

/// What one mark code means, resolved from the school's legend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Meaning {
    /// A numeric grade.
    Grade(f64),
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Not assessed.
    NotAssessed,
    /// Exempt, or a code the legend does not know: left out.
    Ignored,
}

/// Resolves `code` through the legend.
pub fn meaning(legend: &[LegendEntry], code: &str) -> Meaning {
    match legend
        .iter()
        .find(|e| e.code == code)
        .map(|e| (e.category, e.numeric_value))
    {
        Some((Category::Grade, Some(v))) => Meaning::Grade(v),
        Some((Category::Pass, _)) => Meaning::Pass,
        Some((Category::Fail, _)) => Meaning::Fail,
        Some((Category::NotAssessed, _)) => Meaning::NotAssessed,
        _ => Meaning::Ignored,
    }
}

/// The statistics rows of a statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Students on the roster.
    pub students: usize,
    /// All marks the top grade.
    pub excellent: usize,
    /// All marks 4 or 5, at least one 4.
    pub good: usize,
    /// Exactly one 3, the rest 4 or 5.
    pub one_three: usize,
    /// At least one failing mark.
    pub failing: usize,
    /// Not assessed (and not failing).
    pub not_assessed: usize,
    /// Absolute progress, percent; `None` for an empty class.
    pub progress: Option<f64>,
    /// Quality of knowledge, percent; `None` for an empty class.
    pub quality: Option<f64>,
    /// СОУ, percent; `None` when there is no numeric mark.
    pub sou: Option<f64>,
    /// Numeric marks counted per grade: 5, 4, 3, 2, 1.
    pub counts: [usize; 5],
}

/// Computes the statistics of a statement whose rows are the roster and
/// whose cells are each student's period marks (codes; absent cells omitted).
pub fn statement_stats<'a, R, C>(legend: &[LegendEntry], rows: R) -> Stats
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = &'a str>,
{
    let mut st = Stats::default();
    for row in rows {
        st.students += 1;
        let (mut any, mut fail, mut na, mut threes, mut fours) = (false, false, false, 0, 0);
        for code in row {
            match meaning(legend, code) {
                Meaning::Grade(v) => {
                    any = true;
                    let idx = (5.0 - v.round()).clamp(0.0, 4.0) as usize;
                    st.counts[idx] += 1;
                    if v < 3.0 {
                        fail = true;
                    } else if v < 4.0 {
                        threes += 1;
                    } else if v < 5.0 {
                        fours += 1;
                    }
                }
                Meaning::Pass => any = true,
                Meaning::Fail => {
                    any = true;
                    fail = true;
                }
                Meaning::NotAssessed => na = true,
                Meaning::Ignored => {}
            }
        }
        if fail {
            st.failing += 1;
        } else if na || !any {
            st.not_assessed += 1;
        } else if threes == 0 && fours == 0 {
            st.excellent += 1;
        } else if threes == 0 {
            st.good += 1;
        } else if threes == 1 {
            st.one_three += 1;
        }
    }
    if st.students > 0 {
        let n = st.students as f64;
        st.progress = Some(100.0 * (st.students - st.failing - st.not_assessed) as f64 / n);
        st.quality = Some(100.0 * (st.excellent + st.good) as f64 / n);
    }
    let marks: usize = st.counts.iter().sum();
    if marks > 0 {
        let weights = [100.0, 64.0, 36.0, 16.0, 7.0];
        let sum: f64 = st
            .counts
            .iter()
            .zip(weights)
            .map(|(&c, w)| c as f64 * w)
            .sum();
        st.sou = Some(sum / marks as f64);
    }
    st
}

/// A percentage with a decimal comma and one decimal, or «—».
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{v:.1}").replace('.', ","),
        None => "—".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradebook::legend::standard_legend;

    fn stats(rows: &[&[&str]]) -> Stats {
        statement_stats(&standard_legend(), rows.iter().map(|r| r.iter().copied()))
    }

    #[test]
    fn hand_computed_class() {
        // 6 students: excellent, good, one «3», two «3», failing, not assessed.
        let s = stats(&[
            &["5", "5", "зач"],
            &["5", "4", "4"],
            &["3", "4", "5"],
            &["3", "3", "4"],
            &["2", "4", "5"],
            &["н/а", "4", "5"],
        ]);
        assert_eq!(
            (
                s.students,
                s.excellent,
                s.good,
                s.one_three,
                s.failing,
                s.not_assessed
            ),
            (6, 1, 1, 1, 1, 1)
        );
        // progress: 4 of 6; quality: 2 of 6.
        assert_eq!(percent(s.progress), "66,7");
        assert_eq!(percent(s.quality), "33,3");
        // marks: 5×6 (5 5 5 5 5 5) — count them: 5: 2+1+1+1+1 = 6; 4: 2+1+1+1+1 = 6; 3: 1+2 = 3; 2: 1.
        assert_eq!(s.counts, [6, 6, 3, 1, 0]);
        let sou = (100.0 * 6.0 + 64.0 * 6.0 + 36.0 * 3.0 + 16.0 * 1.0) / 16.0;
        assert!((s.sou.unwrap() - sou).abs() < 1e-9);
        assert_eq!(percent(s.sou), "69,2");
    }

    #[test]
    fn student_without_marks_is_not_assessed() {
        let s = stats(&[&["5"], &[]]);
        assert_eq!((s.students, s.excellent, s.not_assessed), (2, 1, 1));
        assert_eq!(s.progress, Some(50.0));
    }

    #[test]
    fn failing_wins_over_not_assessed_and_exempt_is_ignored() {
        let s = stats(&[&["н/а", "незач"], &["осв", "5"]]);
        assert_eq!((s.failing, s.not_assessed, s.excellent), (1, 0, 1));
    }

    #[test]
    fn empty_class() {
        let s = stats(&[]);
        assert_eq!(s, Stats::default());
        assert_eq!(percent(s.progress), "—");
    }
}
