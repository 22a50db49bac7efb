//! Every page and document of one school: its students' weeks, marks
//! and printouts, its classes' pages and statements, the office's overview.

use std::collections::HashMap;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use super::PrintWeeks;
use super::emit::{DocJob, Emitter};
use crate::accounts::access::Scope;
use crate::render::pdf::Typesetter;
use crate::views::paths::{self, Page};
use crate::views::statement::StatementView;
use crate::views::{self, Index, documents};

/// A statement page: the statement under its own name, for the shared macro.
#[derive(Serialize)]
struct StatementPage<'a> {
    frame: &'a views::Frame,
    st: &'a StatementView,
}

/// Emits every page and document of one school.
pub(super) fn emit_school(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    print: PrintWeeks,
    single: bool,
) -> Result<()> {
    let s = ix.s;
    let school = s.school.external_id.as_str();
    let current = ix.current_week();
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
            let scope = Scope::Student(st.key.clone());
            let mut view = ix.week(st, current, true);
            view.printouts = links.clone();
            e.page(
                &Page::StudentIndex { student: &st.key }.path(),
                scope.clone(),
                school,
                "week.html",
                &view,
            )?;
            let mut jobs = Vec::new();
            for w in 0..ix.weeks.len() {
                let mut view = ix.week(st, w, false);
                if let Some(k) = printed.iter().position(|&p| p == w) {
                    view.printouts = vec![links[k].clone()];
                    let path = Page::Printout {
                        student: &st.key,
                        week: &view.week,
                    }
                    .path();
                    let doc = documents::printout(ix, st, &view, &path);
                    jobs.push(DocJob::new(
                        path,
                        scope.clone(),
                        &ts.version,
                        "printout.typ",
                        doc,
                    ));
                }
                e.page(
                    &Page::Week {
                        student: &st.key,
                        week: &view.week,
                    }
                    .path(),
                    scope.clone(),
                    school,
                    "week.html",
                    &view,
                )?;
            }
            e.page(
                &Page::Marks { student: &st.key }.path(),
                scope,
                school,
                "marks.html",
                &ix.marks(st),
            )?;
            Ok((class.id, jobs))
        })
        .collect::<Result<_>>()?;
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
    let latest = latest_by_class;
    let scope = Scope::School(school.to_owned());
    if single {
        e.page(
            &Page::School { slug: None }.path(),
            scope,
            school,
            "school.html",
            &ix.school_page(&latest, "../"),
        )
    } else {
        let slug = paths::school_slug(&s.school.external_id, s.school.id);
        let path = Page::School { slug: Some(&slug) }.path();
        e.page(
            &path,
            scope,
            school,
            "school.html",
            &ix.school_page(&latest, "../../"),
        )
    }
}
