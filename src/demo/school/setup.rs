//! What a school has before anyone joins it: its own row, naming its
//! director and deputy; the legend of marks; the kinds of work; the year
//! with its days off and reporting periods; the subjects.

use std::collections::HashMap;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::people::{Person, person};
use super::{Ids, SchoolRows};
use crate::demo::calendar::Calendar;
use crate::demo::content;
use crate::gradebook::bulk::Val;
use crate::gradebook::legend::standard_legend;

/// The school as its row names it.
pub(super) struct School {
    pub id: i64,
    /// «Школа № 17».
    pub number: i64,
    pub director: Person,
    pub deputy: Person,
}

/// Writes the school's row, drawing its director, deputy, address and phone.
pub(super) fn school(
    rng: &mut ChaCha8Rng,
    out: &mut SchoolRows,
    ids: &mut Ids,
    index: u32,
    prefix: &str,
) -> School {
    let school_id = ids.next("school");
    let number = 16 + index as i64;
    let female = rng.gen_bool(0.7);
    let director = person(rng, female);
    let female = rng.gen_bool(0.85);
    let deputy = person(rng, female);
    let street = content::STREETS
        .choose(rng)
        .copied()
        .unwrap_or("ул. Ленина");
    let full = |p: &Person| format!("{} {} {}", p.family, p.given, p.patronymic);
    out.t("school").push([
        Val::Int(school_id),
        prefix.into(),
        format!("Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № {number}» г. Новоградска").into(),
        format!("Школа № {number}").into(),
        number.to_string().into(),
        format!("123{:03}, г. Новоградск, {street}, д. {}", index % 1000, rng.gen_range(1..120)).into(),
        full(&director).into(),
        full(&deputy).into(),
        format!("school{number}@example.ru").into(),
        format!("+7 (4{:02}) {:03}-{:02}-{:02}", rng.gen_range(10..99), rng.gen_range(100..999), rng.gen_range(10..99), rng.gen_range(10..99)).into(),
    ]);
    School {
        id: school_id,
        number,
        director,
        deputy,
    }
}

/// Writes the standard legend and the kinds of work; returns each kind's
/// `(id, weight, title)` by code.
pub(super) fn legend_and_work_kinds(
    out: &mut SchoolRows,
    ids: &mut Ids,
    school_id: i64,
) -> HashMap<&'static str, (i64, f64, &'static str)> {
    for entry in standard_legend() {
        let id = ids.next("legend_entry");
        out.t("legend_entry").push([
            Val::Int(id),
            Val::Int(school_id),
            entry.domain.as_str().into(),
            entry.code.into(),
            entry.category.as_str().into(),
            entry.numeric_value.into(),
            entry.title.into(),
            entry.title_en.into(),
            Val::Int(entry.position),
        ]);
    }
    let mut kind_ids = HashMap::new();
    for kind in content::WORK_KINDS.iter() {
        let id = ids.next("work_kind");
        kind_ids.insert(kind.code, (id, kind.weight, kind.title));
        out.t("work_kind").push([
            Val::Int(id),
            Val::Int(school_id),
            kind.code.into(),
            kind.title.into(),
            kind.title_en.into(),
            Val::Real(kind.weight),
        ]);
    }
    kind_ids
}

/// Writes the school year with its days off and reporting periods; returns
/// the year's id and the periods' ids, in the calendar's order.
pub(super) fn year(
    out: &mut SchoolRows,
    ids: &mut Ids,
    school_id: i64,
    prefix: &str,
    cal: &Calendar,
) -> (i64, Vec<i64>) {
    let year_id = ids.next("school_year");
    out.t("school_year").push([
        Val::Int(year_id),
        Val::Int(school_id),
        format!("{prefix}-y{}", cal.first_year).into(),
        cal.title().into(),
        cal.starts_on.to_string().into(),
        cal.ends_on.to_string().into(),
    ]);
    for off in &cal.days_off {
        let id = ids.next("day_off");
        out.t("day_off").push([
            Val::Int(id),
            Val::Int(school_id),
            Val::Int(year_id),
            off.date.to_string().into(),
            off.kind.into(),
            off.title.into(),
            off.grade.into(),
        ]);
    }
    let mut period_ids = Vec::new();
    for p in &cal.periods {
        let id = ids.next("reporting_period");
        period_ids.push(id);
        out.t("reporting_period").push([
            Val::Int(id),
            Val::Int(school_id),
            Val::Int(year_id),
            format!(
                "{prefix}-y{}-{}{}",
                cal.first_year,
                p.kind.as_str(),
                p.number
            )
            .into(),
            p.kind.as_str().into(),
            Val::Int(p.number),
            p.title.as_str().into(),
            p.starts_on.to_string().into(),
            p.ends_on.to_string().into(),
        ]);
    }
    (year_id, period_ids)
}

/// Writes the subjects of the curriculum; returns their ids, in its order.
pub(super) fn subjects(
    out: &mut SchoolRows,
    ids: &mut Ids,
    school_id: i64,
    prefix: &str,
) -> Vec<i64> {
    let mut subject_ids = Vec::new();
    for (i, s) in content::SUBJECTS.iter().enumerate() {
        let id = ids.next("subject");
        subject_ids.push(id);
        out.t("subject").push([
            Val::Int(id),
            Val::Int(school_id),
            format!("{prefix}-subj-{}", s.code).into(),
            s.name.into(),
            s.short.into(),
            s.name_en.into(),
            if s.pass_fail { "pass_fail" } else { "graded" }.into(),
            Val::Int(i as i64 + 1),
        ]);
    }
    subject_ids
}
