//! The class page: roster, absences, links to the statements.

use std::collections::HashMap;

use serde::Serialize;

use super::statement::StatementView;
use super::{Frame, Index, Span};
use crate::gradebook::{Category, Class};

/// A student on the class page.
#[derive(Debug, Clone, Serialize)]
pub struct RosterRow {
    pub n: usize,
    pub name: String,
    pub key: String,
    pub absences: usize,
    pub ill: usize,
    /// «прибыл …» or «выбыл …» for a student in the class for part of the year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
    /// The earlier school year the class belongs to, if not the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<String>,
}

impl Index<'_> {
    /// Lessons missed (all, of them ill) per student, over the lessons that
    /// `counts` accepts; late arrivals and unknown codes are not absences.
    pub(super) fn absences(&self, counts: impl Fn(i64) -> bool) -> HashMap<i64, (usize, usize)> {
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
        let roster = self.roster(class);
        let year = Span {
            from: self.s.year.starts_on,
            until: self.s.year.ends_on,
        };
        ClassView {
            frame: self.frame(
                "../../",
                format!("{} {}", self.t.class, class.title),
                self.last_lesson_of(class),
            ),
            class: class.title.clone(),
            class_teacher: class
                .class_teacher_id
                .and_then(|id| self.staff_pos.get(&id))
                .map(|&i| self.s.staff[i].name.full()),
            roster: roster
                .iter()
                .enumerate()
                .map(|(i, &(st, span))| {
                    let (absences, ill) = absences.get(&st.id).copied().unwrap_or_default();
                    RosterRow {
                        n: i + 1,
                        name: st.name.full(),
                        key: st.key.clone(),
                        absences,
                        ill,
                        note: self.moved(span, year),
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
            earlier: self.earlier.clone(),
        }
    }
}
