//! `GET /`: what the logged-in account may read, by name.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::error::{Error, Result};
use super::respond::{Frame, frame, redirect, render};
use super::{Authed, Gate};
use crate::gradebook::lookup;
use crate::i18n::{self, Labels};
use crate::text;
use crate::views::paths::{self, Page};

/// A link on the home page.
#[derive(Debug, Serialize)]
struct Item {
    href: String,
    title: String,
    note: String,
}

#[derive(Serialize)]
struct HomeView {
    frame: Frame,
    login: String,
    csrf: String,
    students: Vec<Item>,
    classes: Vec<Item>,
    schools: Vec<Item>,
}

/// Names of the students, classes and schools an account may read, in
/// Russian order, as links.
async fn listing(gate: &Gate, a: &Authed) -> Result<(Vec<Item>, Vec<Item>, Vec<Item>)> {
    let db = &gate.db;
    // Whose pages to list: a guardian's children, a student themself, and
    // the students a teacher teaches today. A teacher of many classes finds
    // their students through the classes.
    let today = crate::gradebook::Date(chrono::Local::now().date_naive());
    let keys: Vec<&String> = a
        .access
        .students
        .iter()
        .chain(a.access.taught.iter().filter_map(|(key, days)| {
            days.iter()
                .any(|&(from, until)| from <= today && today <= until)
                .then_some(key)
        }))
        .collect();
    let mut students = Vec::new();
    if keys.len() <= 200 {
        for key in keys {
            students.extend(lookup::student(db, key).await?);
        }
    }
    let mut classes = Vec::new();
    for key in &a.access.classes {
        classes.extend(lookup::class(db, key).await?);
    }
    let mut schools = Vec::new();
    if a.access.all || !a.access.schools.is_empty() {
        let all = lookup::schools(db).await?;
        let single = all.len() == 1;
        for s in all {
            if a.access.all || a.access.schools.contains(&s.external_id) {
                let slug = (!single).then(|| paths::school_slug(&s.external_id, s.id));
                let page = Page::School {
                    slug: slug.as_deref(),
                };
                schools.push(Item {
                    href: page.href(),
                    title: s.short_name,
                    note: String::new(),
                });
            }
        }
    }
    students.sort_by_key(|s| {
        (
            text::collation_key(&s.family_name),
            text::collation_key(&s.given_name),
            s.key.clone(),
        )
    });
    classes.sort_by_key(|c| (c.grade, text::collation_key(&c.title)));
    let students = students
        .into_iter()
        .map(|s| Item {
            href: Page::StudentIndex { student: &s.key }.href(),
            title: format!("{} {}", s.family_name, s.given_name),
            note: s.class,
        })
        .collect();
    let classes = classes
        .into_iter()
        .map(|c| Item {
            href: Page::ClassIndex { class: &c.key }.href(),
            title: c.title,
            note: String::new(),
        })
        .collect();
    Ok((students, classes, schools))
}

/// `GET /`: the public home page, or what the logged-in account may read.
pub async fn home(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let a = gate.authed(req.headers()).await.ok_or(Error::LoggedOut)?;
    if a.session.account.must_change_password != 0 {
        return Ok(redirect("/account"));
    }
    let t: &Labels = i18n::labels(gate.settings.language);
    let (students, classes, schools) = listing(&gate, &a).await?;
    let view = HomeView {
        frame: frame(&gate, t.home_title),
        login: a.session.account.login.clone(),
        csrf: a.session.csrf.clone(),
        students,
        classes,
        schools,
    };
    Ok(render(&gate, "portal.html", &view, StatusCode::OK)?)
}
