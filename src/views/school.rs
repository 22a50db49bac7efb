//! The office's overview of a school.

use std::collections::HashMap;

use serde::Serialize;

use super::statement::StatementView;
use super::{Frame, Index};
use crate::gradebook::Class;

/// A class on the school page.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolClassRow {
    pub key: String,
    pub title: String,
    pub class_teacher: Option<String>,
    pub students: usize,
    pub period: Option<String>,
    /// File name stem of that statement, for links to it.
    pub slug: Option<String>,
    pub progress: String,
    pub quality: String,
    pub sou: String,
}

/// The school page for the office.
#[derive(Debug, Clone, Serialize)]
pub struct SchoolView {
    pub frame: Frame,
    pub name: String,
    pub year: String,
    pub classes: Vec<SchoolClassRow>,
    /// The overviews of earlier school years.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past_years: Vec<super::YearLink>,
}

impl Index<'_> {
    /// The school page, given each class's latest statement.
    pub fn school_page(
        &self,
        latest: &HashMap<i64, StatementView>,
        root: &'static str,
    ) -> SchoolView {
        let mut classes: Vec<&Class> = self.s.classes.iter().collect();
        classes.sort_by_key(|c| (c.grade, crate::text::collation_key(&c.letter), c.id));
        SchoolView {
            frame: self.frame(
                root,
                self.s.school.short_name.clone(),
                classes.iter().filter_map(|c| self.last_lesson_of(c)).max(),
            ),
            name: self.s.school.name.clone(),
            year: self.s.year.title.clone(),
            classes: classes
                .iter()
                .map(|c| {
                    let st = latest.get(&c.id);
                    SchoolClassRow {
                        key: c.key.clone(),
                        title: c.title.clone(),
                        class_teacher: c
                            .class_teacher_id
                            .and_then(|id| self.staff_pos.get(&id))
                            .map(|&i| self.s.staff[i].name.short()),
                        students: self.members_on(c, self.reference_day()),
                        period: st.map(|s| s.period.clone()),
                        slug: st.map(|s| s.slug.clone()),
                        progress: st.map_or_else(|| "—".to_owned(), |s| s.progress.clone()),
                        quality: st.map_or_else(|| "—".to_owned(), |s| s.quality.clone()),
                        sou: st.map_or_else(|| "—".to_owned(), |s| s.sou.clone()),
                    }
                })
                .collect(),
            past_years: Vec::new(),
        }
    }
}
