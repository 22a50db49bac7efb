//! Every page and document of one school year of one school: its students'
//! weeks, marks and printouts, its classes' pages and statements, the
//! office's overview. The current year's pages have the plain names; an
//! earlier year's student pages carry the year in their names (its weeks
//! keep theirs: a week belongs to one year), its classes are its own.
//! Beside each student's start page goes what is new for them
//! (`news.json`), data for the gate's home page.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use super::PrintWeeks;
use super::emit::{DocJob, Emitter};
use crate::accounts::access::Scope;
use crate::gradebook::{Date, Student};
use crate::render::pdf::Typesetter;
use crate::views::keys::Keys;
use crate::views::paths::{self, Page};
use crate::views::statement::StatementView;
use crate::views::{self, Index, YearLink, documents};

/// A statement page: the statement under its own name, for the shared macro.
#[derive(Serialize)]
struct StatementPage<'a> {
    frame: &'a views::Frame,
    st: &'a StatementView,
}

/// What a school's earlier years leave for its current year's pages: the
/// links to them, and which students already have a start page.
#[derive(Debug, Default)]
pub(super) struct Earlier {
    /// Per student, the earlier years they have pages of, newest first.
    pub students: HashMap<i64, Vec<YearLink>>,
    /// The school's earlier years, newest first.
    pub years: Vec<YearLink>,
    /// Students not in the current year whose start page is that of their
    /// latest earlier year.
    pub indexed: HashSet<i64>,
}

/// Who may read a student's file that shows the days `from`..=`until`.
fn days(st: &Student, from: Date, until: Date) -> Scope {
    Scope::StudentDays(st.key.clone(), from, until)
}

/// The days of week `w` of `ix`: Monday to Sunday.
fn week_days(ix: &Index<'_>, w: usize) -> (Date, Date) {
    let monday = ix.weeks[w].1;
    (monday, Date(monday.0 + chrono::Duration::days(6)))
}

/// The page of week `w` of `st` and who may read it.
fn week_file(ix: &Index<'_>, st: &Student, w: usize) -> (String, Scope) {
    let week = &ix.weeks[w].0;
    of_week(
        ix,
        st,
        w,
        Page::Week {
            student: &st.key,
            week,
        },
    )
}

/// The printout of week `w` of `st` and who may read it.
fn printout_file(ix: &Index<'_>, st: &Student, w: usize) -> (String, Scope) {
    let week = &ix.weeks[w].0;
    of_week(
        ix,
        st,
        w,
        Page::Printout {
            student: &st.key,
            week,
        },
    )
}

/// `page`'s path, readable by whoever may read `st`'s days of week `w`.
fn of_week(ix: &Index<'_>, st: &Student, w: usize, page: Page<'_>) -> (String, Scope) {
    let (from, until) = week_days(ix, w);
    (page.path(), days(st, from, until))
}

/// Emits the page of week `w` of `st` (one without a printout), carried
/// by its key when that did not change, its view built only if needed.
fn keyed_week_page(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    keys: &Keys,
    st: &Student,
    w: usize,
) -> Result<()> {
    let (path, scope) = week_file(ix, st, w);
    e.page_keyed(
        &path,
        scope,
        school_id(ix),
        "week.html",
        &keys.week(ix, st, w, None),
        || ix.week(st, w, false),
    )
}

/// The school's files are listed under its external id.
fn school_id<'a>(ix: &'a Index<'_>) -> &'a str {
    ix.s.school.external_id.as_str()
}

/// A student of the current year, with the earlier years they have pages of.
struct CurrentStudent<'a> {
    st: &'a Student,
    past: &'a [YearLink],
}

/// Emits a student's pages of the current year — the start page, every
/// week, the marks page, what is new — and returns their printouts to
/// typeset. When nothing they are made from changed (the student's key,
/// `views::keys`), every one of them is carried over at once, no view built.
#[allow(clippy::too_many_arguments)]
fn emit_student(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    keys: &Keys,
    printed: &[usize],
    links: &[views::week::WeekLink],
    student: CurrentStudent<'_>,
) -> Result<Vec<DocJob>> {
    let CurrentStudent { st, past } = student;
    let school = school_id(ix);
    let s = ix.s;
    let year = (s.year.starts_on, s.year.ends_on);
    let current = ix.current_week();
    let running = ix.running_week();
    let key = e.group_key(&keys.student(ix, st, &(links, past, &ts.version)));
    let index = Page::StudentIndex { student: &st.key }.path();
    // The group's files, its start page first.
    let mut files = vec![(index.clone(), {
        let (from, until) = week_days(ix, current);
        days(st, from, until)
    })];
    for w in 0..ix.weeks.len() {
        files.push(week_file(ix, st, w));
        if printed.contains(&w) {
            files.push(printout_file(ix, st, w));
        }
    }
    files.push((
        Page::Marks { student: &st.key }.path(),
        days(st, year.0, year.1),
    ));
    files.push((paths::news_file(&st.key), days(st, year.0, year.1)));
    if e.carry_group(&key, &files)? {
        return Ok(Vec::new());
    }
    e.checking_group(&key, &files, || {
        let mut view = ix.week(st, current, true);
        view.printouts = links.to_vec();
        view.past_years = past.to_vec();
        e.page_with_key(&index, files[0].1.clone(), school, "week.html", &key, &view)?;
        let mut jobs = Vec::new();
        for w in 0..ix.weeks.len() {
            if running == Some(w) {
                // The week under way is on the start page; its own address
                // leads there until the week is over.
                let (path, scope) = week_file(ix, st, w);
                let view = ix.running_week_page(st, w);
                e.page(&path, scope, school, "running.html", &view)?;
                continue;
            }
            let Some(k) = printed.iter().position(|&p| p == w) else {
                keyed_week_page(e, ix, keys, st, w)?;
                continue;
            };
            // A printed week: its page and its printout, carried together
            // by the page's key.
            let pair = [week_file(ix, st, w), printout_file(ix, st, w)];
            let key = e.group_key(&format!(
                "{}{}",
                keys.week(ix, st, w, Some(&links[k])),
                ts.version
            ));
            if e.carry_group(&key, &pair)? {
                continue;
            }
            e.checking_group(&key, &pair, || {
                let mut view = ix.week(st, w, false);
                view.printouts = vec![links[k].clone()];
                let doc = documents::printout(ix, st, &view, &pair[1].0);
                let job = DocJob::new(
                    pair[1].0.clone(),
                    pair[1].1.clone(),
                    &ts.version,
                    "printout.typ",
                    doc,
                );
                e.page_with_key(
                    &pair[0].0,
                    pair[0].1.clone(),
                    school,
                    "week.html",
                    &key,
                    &view,
                )?;
                e.group_docs(std::slice::from_ref(&job))?;
                jobs.push(job);
                Ok(())
            })?;
        }
        e.page_keyed(
            &Page::Marks { student: &st.key }.path(),
            days(st, year.0, year.1),
            school,
            "marks.html",
            &keys.marks(ix, st),
            || ix.marks(st),
        )?;
        e.data(
            &paths::news_file(&st.key),
            days(st, year.0, year.1),
            school,
            &ix.news(st),
        )?;
        Ok(jobs)
    })
}

/// Emits every page and document of the current school year of one school.
pub(super) fn emit_school(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    print: PrintWeeks,
    single: bool,
    earlier: &Earlier,
    keys: &Keys,
) -> Result<()> {
    let s = ix.s;
    let school = school_id(ix);
    let printed = print.weeks(ix);
    let links: Vec<views::week::WeekLink> = printed
        .iter()
        .map(|&w| documents::printout_link(ix, w))
        .collect();
    // Students: the start page, every week, the marks page; the printouts.
    let printouts: Vec<(i64, Vec<DocJob>)> = s
        .students
        .par_iter()
        .filter_map(|st| ix.class_of(st).map(|c| (st, c)))
        .map(|(st, class)| -> Result<(i64, Vec<DocJob>)> {
            let student = CurrentStudent {
                st,
                past: earlier.students.get(&st.id).map_or(&[], Vec::as_slice),
            };
            Ok((
                class.id,
                emit_student(e, ix, ts, keys, &printed, &links, student)?,
            ))
        })
        .collect::<Result<_>>()?;
    let latest = emit_classes(e, ix, ts, Some(printouts))?;
    let scope = Scope::School(school.to_owned());
    let slug = (!single).then(|| paths::school_slug(&s.school.external_id, s.school.id));
    let root = if single { "../" } else { "../../" };
    let mut page = ix.school_page(&latest, root);
    page.past_years = earlier.years.clone();
    e.page(
        &Page::School {
            slug: slug.as_deref(),
        }
        .path(),
        scope,
        school,
        "school.html",
        &page,
    )
}

/// Emits the pages of an earlier school year of one school: every week,
/// the year page and the marks of each of its students, its classes' pages
/// and statements, the office's overview; no printouts. A student who is
/// in no class of the current year (`current` holds those who are) gets
/// the year page of their latest year as their start page too.
pub(super) fn emit_earlier_year(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    single: bool,
    current: &HashSet<i64>,
    earlier: &mut Earlier,
) -> Result<()> {
    let s = ix.s;
    let school = school_id(ix);
    let year = s.year.folder();
    let link = YearLink {
        folder: year.clone(),
        title: s.year.title.clone(),
    };
    let students: Vec<&Student> = s
        .students
        .iter()
        .filter(|st| ix.class_of(st).is_some())
        .collect();
    let (first, last) = (s.year.starts_on, s.year.ends_on);
    let keys = ix.keys();
    students.par_iter().try_for_each(|&st| -> Result<()> {
        let page = ix.year_page(st);
        e.page(
            &Page::YearIndex {
                student: &st.key,
                year: &year,
            }
            .path(),
            days(st, first, last),
            school,
            "year.html",
            &page,
        )?;
        if !current.contains(&st.id) && !earlier.indexed.contains(&st.id) {
            e.page(
                &Page::StudentIndex { student: &st.key }.path(),
                days(st, first, last),
                school,
                "year.html",
                &page,
            )?;
            e.data(
                &paths::news_file(&st.key),
                days(st, first, last),
                school,
                &ix.news(st),
            )?;
        }
        for w in 0..ix.weeks.len() {
            keyed_week_page(e, ix, &keys, st, w)?;
        }
        e.page(
            &Page::YearMarks {
                student: &st.key,
                year: &year,
            }
            .path(),
            days(st, first, last),
            school,
            "marks.html",
            &ix.marks(st),
        )
    })?;
    for st in students {
        earlier
            .students
            .entry(st.id)
            .or_default()
            .push(link.clone());
        if !current.contains(&st.id) {
            earlier.indexed.insert(st.id);
        }
    }
    let latest = emit_classes(e, ix, ts, None)?;
    let slug = (!single).then(|| paths::school_slug(&s.school.external_id, s.school.id));
    let root = if single { "../" } else { "../../" };
    e.page(
        &Page::SchoolYear {
            slug: slug.as_deref(),
            year: &year,
        }
        .path(),
        Scope::School(school.to_owned()),
        school,
        "school.html",
        &ix.school_page(&latest, root),
    )?;
    earlier.years.push(link);
    Ok(())
}

/// Emits the class pages and statements of the year, then typesets the
/// printouts (`printouts`, grouped by class) and the statements, a class
/// at a time. Returns each class's latest statement, for the overview.
fn emit_classes(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    printouts: Option<Vec<(i64, Vec<DocJob>)>>,
) -> Result<HashMap<i64, StatementView>> {
    let s = ix.s;
    let school = school_id(ix);
    // Classes: statements of finished periods, then the class page.
    let latest: Vec<(i64, Option<StatementView>, Vec<DocJob>)> = s
        .classes
        .par_iter()
        .map(|c| -> Result<(i64, Option<StatementView>, Vec<DocJob>)> {
            let scope = Scope::Class(c.key.clone());
            let periods = ix.finished_periods(c);
            let statements: Vec<StatementView> =
                periods.iter().map(|p| ix.statement(c, p)).collect();
            let mut jobs = Vec::new();
            for (st, p) in statements.iter().zip(&periods) {
                let period = views::statement::period_slug(p);
                let page = StatementPage {
                    frame: &st.frame,
                    st,
                };
                e.page(
                    &Page::Statement {
                        class: &c.key,
                        period: &period,
                        pdf: false,
                    }
                    .path(),
                    scope.clone(),
                    school,
                    "statement.html",
                    &page,
                )?;
                let path = Page::Statement {
                    class: &c.key,
                    period: &period,
                    pdf: true,
                }
                .path();
                let doc = documents::statement(ix, c, p, st, &path);
                jobs.push(DocJob::new(
                    path,
                    scope.clone(),
                    &ts.version,
                    "statement.typ",
                    doc,
                ));
            }
            let page = ix.class_page(c, &statements);
            e.page(
                &Page::ClassIndex { class: &c.key }.path(),
                scope,
                school,
                "class.html",
                &page,
            )?;
            Ok((c.id, page.latest, jobs))
        })
        .collect::<Result<_>>()?;
    // The documents, typeset a class at a time.
    let lang = ix.t.lang;
    if let Some(printouts) = printouts {
        let mut by_class: HashMap<i64, Vec<DocJob>> = HashMap::new();
        for (class, jobs) in printouts {
            by_class.entry(class).or_default().extend(jobs);
        }
        let mut groups: Vec<(i64, Vec<DocJob>)> = by_class.into_iter().collect();
        groups.sort_by_key(|(id, _)| *id);
        e.documents(
            "printouts",
            groups.into_iter().map(|(_, jobs)| jobs).collect(),
            school,
            |docs| ts.typeset("printout.typ", lang, docs),
        )?;
    }
    let mut statements = Vec::new();
    let mut latest_by_class = HashMap::new();
    for (id, latest, jobs) in latest {
        statements.push(jobs);
        if let Some(st) = latest {
            latest_by_class.insert(id, st);
        }
    }
    e.documents("statements", statements, school, |docs| {
        ts.typeset("statement.typ", lang, docs)
    })?;
    Ok(latest_by_class)
}
