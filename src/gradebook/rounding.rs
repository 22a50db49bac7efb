//! How a school turns a weighted average into a term mark: its thresholds
//! (the lowest average that still gives each mark) and how many marks a
//! term mark needs. One rule for the demo that sets term marks, the marks
//! page that explains them, and the tests that check the two agree.
//!
//! The average is compared as pages show it, cut (not rounded) to two
//! decimals: a page that shows 4,49 never explains a 5 by a rule «from
//! 4,50».

use serde::{Deserialize, Serialize};

use super::School;

/// A school's rule for term marks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rounding {
    /// The lowest weighted average that gives a 5, a 4, a 3 and a 2 (below
    /// the last, a 1), in that order.
    pub from: [f64; 4],
    /// Marks a term mark needs; with fewer the term is «н/а».
    pub min_marks: usize,
}

impl Default for Rounding {
    fn default() -> Rounding {
        Rounding::USUAL
    }
}

/// Hundredths of a weighted average as pages show it: cut to two decimals.
/// The tiny allowance keeps 4.5 computed as 4.4999999 at 4,50.
pub fn hundredths(average: f64) -> i64 {
    (average * 100.0 + 1e-7).floor() as i64
}

/// A threshold in hundredths.
fn threshold(t: f64) -> i64 {
    (t * 100.0).round() as i64
}

/// The weighted average of `(value, weight)` pairs, if any weight.
pub fn weighted_average(marks: &[(f64, f64)]) -> Option<f64> {
    let (sum, weights) = marks
        .iter()
        .fold((0.0, 0.0), |(s, w), (v, wt)| (s + v * wt, w + wt));
    (weights > 0.0).then(|| sum / weights)
}

impl Rounding {
    /// The usual rule: 5 from 4,50, 4 from 3,50, 3 from 2,50, 2 from 1,50;
    /// at least three marks.
    pub const USUAL: Rounding = Rounding {
        from: [4.5, 3.5, 2.5, 1.5],
        min_marks: 3,
    };

    /// True if each threshold is above the next.
    pub fn is_valid(&self) -> bool {
        self.from
            .windows(2)
            .all(|w| threshold(w[0]) > threshold(w[1]))
            && threshold(self.from[3]) > 100
            && threshold(self.from[0]) <= 500
            && self.min_marks >= 1
    }

    /// The mark (1–5) an average gives.
    pub fn mark(&self, average: f64) -> i64 {
        let h = hundredths(average);
        self.from
            .iter()
            .position(|&t| h >= threshold(t))
            .map_or(1, |i| 5 - i as i64)
    }

    /// The lowest average that gives `mark` (2–5), if the rule has one.
    pub fn lowest_for(&self, mark: i64) -> Option<f64> {
        (2..=5)
            .contains(&mark)
            .then(|| self.from[(5 - mark) as usize])
    }

    /// The term mark of `(value, weight)` pairs: `None` when there are
    /// fewer than the rule needs (the term is «н/а»).
    pub fn term_mark(&self, marks: &[(f64, f64)]) -> Option<i64> {
        if marks.len() < self.min_marks {
            return None;
        }
        weighted_average(marks).map(|a| self.mark(a))
    }

    /// How many more marks of `value` with `weight` bring `marks` to a
    /// term mark of `target`, if ten or fewer do.
    pub fn more_needed(
        &self,
        marks: &[(f64, f64)],
        value: f64,
        weight: f64,
        target: i64,
    ) -> Option<usize> {
        let mut all = marks.to_vec();
        for n in 1..=10 {
            all.push((value, weight));
            if all.len() >= self.min_marks
                && weighted_average(&all).is_some_and(|a| self.mark(a) >= target)
            {
                return Some(n);
            }
        }
        None
    }
}

impl School {
    /// The school's rule for term marks: its own thresholds where it has
    /// set them, the usual ones elsewhere.
    pub fn rounding(&self) -> Rounding {
        let usual = Rounding::USUAL;
        Rounding {
            from: [
                self.mark_5_from.unwrap_or(usual.from[0]),
                self.mark_4_from.unwrap_or(usual.from[1]),
                self.mark_3_from.unwrap_or(usual.from[2]),
                self.mark_2_from.unwrap_or(usual.from[3]),
            ],
            min_marks: self
                .term_min_marks
                .map_or(usual.min_marks, |n| n.clamp(1, 20) as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_rule() {
        let r = Rounding::USUAL;
        assert!(r.is_valid());
        assert_eq!(r.mark(4.5), 5);
        assert_eq!(r.mark(4.499), 4);
        assert_eq!(r.mark(3.5), 4);
        assert_eq!(r.mark(2.4999), 2);
        assert_eq!(r.mark(1.2), 1);
        assert_eq!(r.mark(5.0), 5);
        // 4.5 reached through sums of weights that are not exact in binary.
        assert_eq!(r.mark((4.0 * 0.1 + 5.0 * 0.1) / 0.2), 5);
        assert_eq!(hundredths(16.0 / 4.5), 355);
        assert_eq!(r.term_mark(&[(5.0, 1.0), (4.0, 2.0)]), None);
        assert_eq!(r.term_mark(&[(5.0, 1.0), (4.0, 2.0), (3.0, 1.0)]), Some(4));
        assert_eq!(r.lowest_for(4), Some(3.5));
        assert_eq!(r.lowest_for(1), None);
    }

    #[test]
    fn what_it_takes() {
        let r = Rounding::USUAL;
        // 4 (weight 2), 4, 5: 17 / 4 = 4,25; one more 5 of weight 2: 27 / 6 = 4,5.
        let marks = [(4.0, 2.0), (4.0, 1.0), (5.0, 1.0)];
        assert_eq!(r.more_needed(&marks, 5.0, 2.0, 5), Some(1));
        assert_eq!(r.more_needed(&marks, 5.0, 1.0, 5), Some(2));
        // Two marks: a third is needed at all.
        assert_eq!(
            r.more_needed(&[(5.0, 1.0), (5.0, 1.0)], 5.0, 1.0, 5),
            Some(1)
        );
        // Far away.
        assert_eq!(r.more_needed(&[(2.0, 3.0); 10], 5.0, 1.0, 5), None);
    }

    #[test]
    fn a_stricter_school() {
        let r = Rounding {
            from: [4.6, 3.6, 2.6, 1.6],
            min_marks: 3,
        };
        assert!(r.is_valid());
        assert_eq!(r.mark(4.59), 4);
        assert_eq!(r.mark(4.6), 5);
        let bad = Rounding {
            from: [3.5, 4.5, 2.5, 1.5],
            min_marks: 3,
        };
        assert!(!bad.is_valid());
    }
}
