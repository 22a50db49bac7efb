//! A student's page of an earlier school year: the year's weeks and its
//! marks, as links. It shows no day of its own, so whoever may read any
//! of the year's pages may read it.

use serde::Serialize;

use super::week::WeekLink;
use super::{Frame, Index};
use crate::gradebook::Student;

/// The page of an earlier school year.
#[derive(Debug, Clone, Serialize)]
pub struct YearView {
    pub frame: Frame,
    pub student: String,
    pub class: String,
    /// `2025-2026`, as the year's page names carry it.
    pub year: String,
    /// «2025/2026».
    pub year_title: String,
    /// Every week of the year, the last first.
    pub weeks: Vec<WeekLink>,
}

impl Index<'_> {
    /// The page of `st` for this (earlier) school year.
    pub fn year_page(&self, st: &Student) -> YearView {
        let class = self
            .class_of(st)
            .map(|c| c.title.clone())
            .unwrap_or_default();
        let name = st.name.full();
        YearView {
            frame: self.frame(
                "../../",
                format!("{name} — {}", self.s.year.title),
                self.s.lessons.iter().map(|l| l.date).max(),
            ),
            student: name,
            class,
            year: self.s.year.folder(),
            year_title: self.s.year.title.clone(),
            weeks: self
                .weeks
                .iter()
                .rev()
                .map(|(id, monday)| WeekLink {
                    id: id.clone(),
                    title: self.week_title(*monday),
                    current: false,
                })
                .collect(),
        }
    }
}
