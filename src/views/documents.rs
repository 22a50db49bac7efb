//! The typeset documents: the data of each PDF, built from the same views as its HTML sibling.
//!
//! A document's data holds exactly what it prints. Its hash is the
//! document's data snapshot id, printed on it, and (with the template
//! version) its input hash: a document is typeset again only when that
//! changes. Nothing in it depends on the build's date, so a printout or
//! a statement stays byte-identical night after night until its data
//! changes.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::statement::{StatementColumn, StatementRow, StatementView};
use super::week::{WeekLink, WeekView};
use super::{Index, LegendItem};
use crate::gradebook::{Class, Date, ReportingPeriod, Student};
use crate::i18n::{self, Labels};
use crate::render::markdown::{self, Block};
use crate::render::pdf::Doc;
use crate::render::stats::Stats;

/// Mark columns per table of a statement: more go into a further table.
const MAX_PARTS: usize = 44;
/// Subjects above which their names are set vertically.
const VERTICAL_AFTER: usize = 8;

/// A link to the printout of week `w`.
pub fn printout_link(ix: &Index<'_>, w: usize) -> WeekLink {
    let (id, monday) = &ix.weeks[w];
    let sunday = Date(monday.0 + chrono::Duration::days(6));
    WeekLink {
        id: id.clone(),
        title: format!(
            "{} — {} {}",
            i18n::day_month(ix.lang, *monday),
            i18n::day_month(ix.lang, sunday),
            chrono::Datelike::year(&sunday.0)
        ),
        current: w == ix.current_week(),
    }
}

/// Serializes `data`, stamps it with its own hash (the document's data
/// snapshot id) and returns it with that hash. The interface words (`t`)
/// are not data: a new or reworded label leaves the id as it was.
fn stamp<T: Serialize>(data: &T, school: &str) -> (Vec<u8>, String) {
    let mut json = serde_json::to_value(data).unwrap_or(serde_json::Value::Null);
    let labels = match &mut json {
        serde_json::Value::Object(map) => map.remove("t"),
        _ => None,
    };
    let bytes = serde_json::to_vec(&json).unwrap_or_default();
    let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes)[..8]);
    if let serde_json::Value::Object(map) = &mut json {
        if let Some(t) = labels {
            map.insert("t".into(), t);
        }
        map.insert("snapshot".into(), format!("{school}:{hash}").into());
    }
    (serde_json::to_vec(&json).unwrap_or_default(), hash)
}

/// What a statement prints.
#[derive(Serialize)]
struct StatementDoc<'a> {
    t: &'static Labels,
    school: &'a str,
    class: &'a str,
    class_teacher: Option<&'a str>,
    year: &'a str,
    period: &'a str,
    groups: &'a [StatementColumn],
    /// Column groups of each table (indices into `groups`).
    tables: Vec<Vec<usize>>,
    vertical: bool,
    rows: &'a [StatementRow],
    stats: &'a Stats,
    progress: &'a str,
    quality: &'a str,
    sou: &'a str,
    director: &'a str,
    deputy: Option<&'a str>,
    number: String,
    date: String,
}

/// Splits column groups into tables of at most `MAX_PARTS` mark columns.
fn tables(groups: &[StatementColumn]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    let mut width = 0;
    for (i, g) in groups.iter().enumerate() {
        if width + g.parts.len() > MAX_PARTS && width > 0 {
            out.push(Vec::new());
            width = 0;
        }
        width += g.parts.len();
        if let Some(t) = out.last_mut() {
            t.push(i);
        }
    }
    out
}

/// The PDF of a statement: its data, with the class and period it is of.
pub fn statement(
    ix: &Index<'_>,
    class: &Class,
    p: &ReportingPeriod,
    st: &StatementView,
    ident: &str,
) -> Doc {
    let school = &ix.s.school;
    let number = format!(
        "{}/{}/{}",
        ix.s.year.title.replace('/', "-"),
        class.title,
        super::statement::period_slug(p)
    );
    let data = StatementDoc {
        t: ix.t,
        school: &school.name,
        class: &st.class,
        class_teacher: st.class_teacher.as_deref(),
        year: &st.year,
        period: &st.period,
        groups: &st.columns,
        tables: tables(&st.columns),
        vertical: st.columns.len() > VERTICAL_AFTER || st.columns.iter().any(|c| c.parts.len() > 1),
        rows: &st.rows,
        stats: &st.stats,
        progress: &st.progress,
        quality: &st.quality,
        sou: &st.sou,
        director: &school.director,
        deputy: school.deputy.as_deref(),
        number,
        date: i18n::short_date(ix.lang, p.ends_on),
    };
    let (json, _) = stamp(&data, &school.external_id);
    Doc {
        data: json,
        title: format!(
            "{} {}, {}, {}",
            ix.t.statement_title, st.class, st.period, st.year
        ),
        author: school.name.clone(),
        ident: ident.to_owned(),
        date: p.ends_on,
        tagged: true,
    }
}

/// A mark on a printout.
#[derive(Serialize)]
struct PrintMark<'a> {
    value: &'a str,
    weight: &'a str,
}

/// A lesson on a printout.
#[derive(Serialize)]
struct PrintLesson<'a> {
    slot: i64,
    subject: &'a str,
    topic: &'a str,
    homework: Vec<Block>,
    marks: Vec<PrintMark<'a>>,
    absence: Option<&'a str>,
}

/// A teacher's note on a printout.
#[derive(Serialize)]
struct PrintNote<'a> {
    author: Option<&'a str>,
    subject: Option<&'a str>,
    body: Vec<Block>,
}

/// A day on a printout.
#[derive(Serialize)]
struct PrintDay<'a> {
    title: &'a str,
    lessons: Vec<PrintLesson<'a>>,
    notes: Vec<PrintNote<'a>>,
}

/// What a weekly printout prints.
#[derive(Serialize)]
struct PrintoutDoc<'a> {
    t: &'static Labels,
    school: &'a str,
    student: &'a str,
    class: &'a str,
    week: &'a str,
    week_title: &'a str,
    days: Vec<PrintDay<'a>>,
    legend: &'a [LegendItem],
}

/// The PDF of a weekly printout, from the week's page view.
pub fn printout(ix: &Index<'_>, st: &Student, view: &WeekView, ident: &str) -> Doc {
    let school = &ix.s.school;
    // Saturday only when something happened on it, whatever day the build runs.
    let days: Vec<_> = view
        .days
        .iter()
        .enumerate()
        .filter(|(i, d)| *i < 5 || !d.lessons.is_empty() || !d.notes.is_empty())
        .map(|(_, d)| d)
        .collect();
    // The latest day with something on it dates the document.
    let date = days
        .iter()
        .filter(|d| !d.lessons.is_empty() || !d.notes.is_empty())
        .filter_map(|d| Date::parse_iso(&d.iso))
        .max()
        .or_else(|| {
            ix.weeks
                .iter()
                .find(|(id, _)| *id == view.week)
                .map(|(_, m)| *m)
        })
        .unwrap_or(ix.s.year.starts_on);
    let data = PrintoutDoc {
        t: ix.t,
        school: &school.name,
        student: &view.student,
        class: &view.class,
        week: &view.week,
        week_title: &view.week_title,
        days: days
            .iter()
            .map(|d| PrintDay {
                title: &d.title,
                lessons: d
                    .lessons
                    .iter()
                    .map(|l| PrintLesson {
                        slot: l.slot,
                        subject: &l.subject,
                        topic: &l.topic,
                        homework: l
                            .homework_source
                            .as_deref()
                            .map(markdown::to_blocks)
                            .unwrap_or_default(),
                        marks: l
                            .marks
                            .iter()
                            .map(|m| PrintMark {
                                value: &m.value,
                                weight: &m.weight,
                            })
                            .collect(),
                        absence: l.absence.as_deref(),
                    })
                    .collect(),
                notes: d
                    .notes
                    .iter()
                    .map(|n| PrintNote {
                        author: n.author.as_deref(),
                        subject: n.subject.as_deref(),
                        body: markdown::to_blocks(&n.body_source),
                    })
                    .collect(),
            })
            .collect(),
        legend: &view.legend,
    };
    let (json, _) = stamp(&data, &school.external_id);
    Doc {
        data: json,
        title: format!(
            "{}: {}, {}",
            ix.t.printout_title,
            st.name.full(),
            view.week_title
        ),
        author: school.name.clone(),
        ident: ident.to_owned(),
        date,
        tagged: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(parts: usize) -> StatementColumn {
        StatementColumn {
            subject: "x".into(),
            short: "x".into(),
            parts: vec!["I".into(); parts],
        }
    }

    #[test]
    fn wide_statements_split_into_tables() {
        let groups: Vec<_> = (0..15).map(|_| column(7)).collect();
        let t = tables(&groups);
        assert_eq!(
            t,
            vec![
                (0..6).collect::<Vec<_>>(),
                (6..12).collect(),
                (12..15).collect()
            ]
        );
        assert_eq!(tables(&[column(1), column(1)]), vec![vec![0, 1]]);
    }
}
