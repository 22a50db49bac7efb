//! Classes and study groups: how many classes each grade has, and their rows.

use std::collections::HashMap;

use rand_chacha::ChaCha8Rng;

use super::{ClassInfo, Facts, Ids, SchoolRows, StudentInfo, key};
use crate::gradebook::bulk::Val;

/// The school's classes, with the students each grade is to have.
pub(super) struct Classes {
    /// Every class, by grade and then letter.
    pub all: Vec<ClassInfo>,
    /// Indices into `all` of each grade's classes (index 0 unused).
    pub of_grade: Vec<Vec<usize>>,
    /// Students per grade (index 0 = grade 1).
    pub per_grade: Vec<u32>,
}

/// A class split into two for a subject: one of the halves.
pub(super) struct StudyGroup {
    pub id: i64,
    /// «5А, Ин. яз., гр. 1».
    pub title: String,
    pub class_id: i64,
    /// Index into SUBJECTS.
    pub subject: usize,
    /// Indices of its students.
    pub members: Vec<usize>,
}

/// Opens the classes for `n_students`: one to four of about 25 per grade.
pub(super) fn open(ids: &mut Ids, n_students: u32) -> Classes {
    // Grades 10–11 are smaller: many leave after 9.
    let weights: Vec<f64> = (1..=11).map(|g| if g >= 10 { 0.6 } else { 1.0 }).collect();
    let total_w: f64 = weights.iter().sum();
    let mut per_grade: Vec<u32> = weights
        .iter()
        .map(|w| (f64::from(n_students) * w / total_w).floor() as u32)
        .collect();
    let mut rest = n_students - per_grade.iter().sum::<u32>();
    let mut g = 0;
    while rest > 0 {
        per_grade[g % 11] += 1;
        rest -= 1;
        g += 1;
    }
    let letters = ["А", "Б", "В", "Г"];
    let mut all: Vec<ClassInfo> = Vec::new();
    let mut of_grade: Vec<Vec<usize>> = vec![Vec::new(); 12];
    for grade in 1..=11i64 {
        let count = per_grade[grade as usize - 1];
        if count == 0 {
            continue;
        }
        let n_classes = ((f64::from(count) / 25.0).round() as usize).clamp(1, 4);
        for letter in letters.iter().take(n_classes) {
            let id = ids.next("class");
            of_grade[grade as usize].push(all.len());
            all.push(ClassInfo {
                id,
                grade,
                title: format!("{grade}{letter}"),
                students: Vec::new(),
                teacher: None,
                timetable: Default::default(),
                teachers: HashMap::new(),
                groups: HashMap::new(),
            });
        }
    }
    Classes {
        all,
        of_grade,
        per_grade,
    }
}

/// Writes the class rows, drawing each class's key.
pub(super) fn write(
    rng: &mut ChaCha8Rng,
    out: &mut SchoolRows,
    facts: &Facts,
    classes: &[ClassInfo],
) {
    let Facts {
        prefix,
        school_id,
        year_id,
        ..
    } = facts;
    for c in classes {
        out.t("class").push([
            Val::Int(c.id),
            Val::Int(*school_id),
            Val::Int(*year_id),
            format!("{prefix}-cl-{}", c.title).into(),
            key(rng).into(),
            Val::Int(c.grade),
            c.title
                .trim_start_matches(|ch: char| ch.is_ascii_digit())
                .into(),
            c.title.as_str().into(),
            c.teacher.into(),
            if c.grade >= 10 { "half" } else { "quarter" }.into(),
        ]);
    }
}

/// Writes the study groups and who is in them.
pub(super) fn write_groups(
    out: &mut SchoolRows,
    facts: &Facts,
    groups: &[StudyGroup],
    students: &[StudentInfo],
) {
    let Facts {
        prefix,
        school_id,
        year_id,
        subject_ids,
        ..
    } = facts;
    for g in groups {
        let gid = g.id;
        out.t("study_group").push([
            Val::Int(gid),
            Val::Int(*school_id),
            Val::Int(*year_id),
            format!("{prefix}-gr-{gid:05}").into(),
            g.title.as_str().into(),
            Val::Int(g.class_id),
            Val::Int(subject_ids[g.subject]),
        ]);
        for &m in &g.members {
            out.t("group_member").push([
                Val::Int(gid),
                Val::Int(students[m].id),
                Val::Int(*school_id),
            ]);
        }
    }
}
