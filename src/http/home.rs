//! `GET /`: what the logged-in account may read, by name; for a guardian's
//! children and a student themself, what is new: marks since the previous
//! visit (or of the last week), homework for the next school day, this
//! week's absences and the latest notes, each linking to its week page.
//!
//! What is new comes from the release (`views::news`, written by the build
//! beside each student's pages): the page asks the database only when the
//! account was last seen.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use chrono::{Datelike, Duration};
use serde::Serialize;

use super::error::{Error, Result};
use super::releases::{Coding, Release};
use super::respond::{Frame, frame, redirect, render};
use super::{Authed, Gate};
use crate::accounts::audit;
use crate::gradebook::{Date, lookup};
use crate::i18n::{self, Labels, Language, fill};
use crate::text;
use crate::views::news::News;
use crate::views::paths::{self, Page};

/// Days of marks shown to an account that has not been seen before.
const RECENT_DAYS: i64 = 7;
/// Marks listed per child; the rest are on the marks page.
const MARKS_SHOWN: usize = 12;

/// A link on the home page.
#[derive(Debug, Serialize)]
struct Item {
    href: String,
    title: String,
    note: String,
    /// What is new, for a guardian's child or a student themself.
    news: Option<NewsView>,
}

/// A line of news: what, when, and the week page it links to.
#[derive(Debug, Serialize)]
struct Line {
    href: String,
    date: String,
    subject: String,
    /// A mark or an absence code.
    code: String,
    /// The kind of work and weight of a mark; a note's author.
    detail: String,
    /// Homework or a note.
    text: String,
}

/// What is new for one student.
#[derive(Debug, Serialize)]
struct NewsView {
    marks_heading: String,
    marks: Vec<Line>,
    /// «и ещё 5 — на странице оценок».
    more_marks: Option<String>,
    marks_href: String,
    /// «Домашнее задание на 30 ноября, понедельник», if the next school day is known.
    homework_heading: Option<String>,
    homework: Vec<Line>,
    absences: Vec<Line>,
    notes: Vec<Line>,
}

#[derive(Serialize)]
struct HomeView {
    frame: Frame,
    login: String,
    csrf: String,
    /// A student's own account: `children` is the student themself.
    own: bool,
    /// A guardian's children or the student themself, with what is new.
    children: Vec<Item>,
    /// The students a teacher teaches today.
    students: Vec<Item>,
    classes: Vec<Item>,
    schools: Vec<Item>,
}

/// The link to `day` on its week page, or on the student's start page
/// while its week is the release's running week (the week page is written
/// once the week is over; ARCHITECTURE.md, "What a night costs").
fn day_link(key: &str, day: Date, today: Date) -> String {
    let week = day.iso_week();
    let page = if week == today.iso_week() {
        Page::StudentIndex { student: key }
    } else {
        Page::Week {
            student: key,
            week: &week,
        }
    };
    format!("{}#d{day}", page.href())
}

/// What is new in `n` for a visit on `today` (the release's day), with
/// the account last seen on `previous`.
fn news_view(
    t: &Labels,
    lang: Language,
    key: &str,
    n: &News,
    today: Date,
    previous: Option<Date>,
) -> NewsView {
    let day = |d: Date| i18n::day_month(lang, d);
    let (since, marks_heading) = match previous {
        Some(p) => {
            let since = p.max(n.since);
            (since, fill(t.news_marks_since, &[("day", &day(since))]))
        }
        None => (
            Date(today.0 - Duration::days(RECENT_DAYS - 1)).max(n.since),
            fill(t.news_marks_recent, &[("days", &RECENT_DAYS.to_string())]),
        ),
    };
    let new: Vec<_> = n
        .marks
        .iter()
        .filter(|m| since <= m.date && m.date <= today)
        .collect();
    let marks = new
        .iter()
        .take(MARKS_SHOWN)
        .map(|m| Line {
            href: day_link(key, m.date, today),
            date: day(m.date),
            subject: m.subject.clone(),
            code: m.value.clone(),
            detail: match &m.kind {
                Some(k) => format!("{k}, {} {}", t.weight, m.weight),
                None => format!("{} {}", t.weight, m.weight),
            },
            text: String::new(),
        })
        .collect();
    let more_marks = (new.len() > MARKS_SHOWN).then(|| {
        fill(
            t.news_more_marks,
            &[("n", &(new.len() - MARKS_SHOWN).to_string())],
        )
    });
    let next = n.next_school_day(today);
    let homework = next.map_or_else(Vec::new, |next| {
        n.subjects_on(next)
            .into_iter()
            .filter_map(|s| n.homework.iter().find(|h| h.subject == s && h.date < next))
            .map(|h| Line {
                href: day_link(key, h.date, today),
                date: day(h.date),
                subject: h.subject.clone(),
                code: String::new(),
                detail: String::new(),
                text: h.text.clone(),
            })
            .collect()
    });
    let monday = Date(today.0 - Duration::days(today.0.weekday().num_days_from_monday().into()));
    let absences = n
        .absences
        .iter()
        .filter(|a| monday <= a.date && a.date <= today)
        .map(|a| Line {
            href: day_link(key, a.date, today),
            date: day(a.date),
            subject: a.subject.clone(),
            code: a.code.clone(),
            detail: String::new(),
            text: String::new(),
        })
        .collect();
    let notes = n
        .notes
        .iter()
        .filter(|x| x.date <= today)
        .map(|x| Line {
            href: day_link(key, x.date, today),
            date: day(x.date),
            subject: x.subject.clone().unwrap_or_default(),
            code: String::new(),
            detail: x.author.clone().unwrap_or_else(|| t.teacher.to_owned()),
            text: x.text.clone(),
        })
        .collect();
    NewsView {
        marks_heading,
        marks,
        more_marks,
        marks_href: Page::Marks { student: key }.href(),
        homework_heading: next
            .map(|d| fill(t.news_homework, &[("day", &i18n::day_in_words(lang, d))])),
        homework,
        absences,
        notes,
    }
}

/// What is new for the student with `key`, as the live release has it.
async fn news_of(release: &Release, key: &str) -> Option<News> {
    let path = paths::news_file(key);
    let file = release.file(&path).await.ok()??;
    // A failure was logged where it was found.
    let bytes = release.bytes(&path, file, Coding::Identity).await.ok()?;
    serde_json::from_slice(&bytes)
        .inspect_err(|err| tracing::error!("{path}: {err}"))
        .ok()
}

/// The day the account was last seen before this session began.
async fn previous_visit(gate: &Gate, a: &Authed) -> Result<Option<Date>> {
    let at = audit::last_seen_before(&gate.db, a.session.account.id, &a.session.created_at).await?;
    Ok(at
        .and_then(|at| crate::accounts::parse_time(&at).ok())
        .map(|t| Date(t.with_timezone(&chrono::Local).date_naive())))
}

/// A guardian's children (or a student themself), with what is new.
async fn children(gate: &Gate, a: &Authed) -> Result<Vec<Item>> {
    if a.access.students.is_empty() {
        return Ok(Vec::new());
    }
    let t: &Labels = i18n::labels(gate.settings.language);
    let release = gate.releases.live();
    let today = release
        .as_ref()
        .and_then(|r| r.date)
        .unwrap_or_else(|| Date(chrono::Local::now().date_naive()));
    let previous = previous_visit(gate, a).await?;
    let mut found = Vec::new();
    for key in &a.access.students {
        let news = match &release {
            Some(r) => news_of(r, key).await,
            None => None,
        };
        match news {
            Some(n) => found.push((
                key.clone(),
                n.family_name.clone(),
                n.given_name.clone(),
                n.class.clone(),
                Some(n),
            )),
            // A release written before news files: the names from the gradebook.
            None => {
                if let Some(s) = lookup::student(&gate.db, key).await? {
                    found.push((s.key, s.family_name, s.given_name, s.class, None));
                }
            }
        }
    }
    found.sort_by_cached_key(|(key, family, given, ..)| {
        (
            text::collation_key(family),
            text::collation_key(given),
            key.clone(),
        )
    });
    Ok(found
        .into_iter()
        .map(|(key, family, given, class, news)| Item {
            href: Page::StudentIndex { student: &key }.href(),
            title: format!("{family} {given}"),
            note: class,
            news: news.map(|n| news_view(t, gate.settings.language, &key, &n, today, previous)),
        })
        .collect())
}

/// Names of the students, classes and schools an account may read, in
/// Russian order, as links: the students a teacher teaches today, their
/// classes, the schools of the office.
async fn listing(gate: &Gate, a: &Authed) -> Result<(Vec<Item>, Vec<Item>, Vec<Item>)> {
    let db = &gate.db;
    // A teacher of many classes finds their students through the classes.
    let today = Date(chrono::Local::now().date_naive());
    let keys: Vec<&String> = a
        .access
        .taught
        .iter()
        .filter_map(|(key, days)| {
            days.iter()
                .any(|&(from, until)| from <= today && today <= until)
                .then_some(key)
        })
        .filter(|key| !a.access.students.contains(*key))
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
                    news: None,
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
            news: None,
        })
        .collect();
    let classes = classes
        .into_iter()
        .map(|c| Item {
            href: Page::ClassIndex { class: &c.key }.href(),
            title: c.title,
            note: String::new(),
            news: None,
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
    let children = children(&gate, &a).await?;
    let (students, classes, schools) = listing(&gate, &a).await?;
    let view = HomeView {
        frame: frame(&gate, t.home_title),
        login: a.session.account.login.clone(),
        csrf: a.session.csrf.clone(),
        own: a.session.account.role == crate::accounts::Role::Student,
        children,
        students,
        classes,
        schools,
    };
    Ok(render(&gate, "portal.html", &view, StatusCode::OK)?)
}
