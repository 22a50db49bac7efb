//! The gate's own pages: the home page listing what an account may read,
//! and the account page (sessions, password, breach report). Rendered with
//! the same templates and stylesheet as the static pages.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use super::auth::{SESSION_COOKIE, checked_form, redirect, set_cookie};
use super::error::{Error, Result};
use super::{Authed, Gate, address_text, peer, user_agent};
use crate::accounts::audit::Event;
use crate::accounts::{self, session};
use crate::gradebook::lookup;
use crate::i18n::{self, Labels};
use crate::text;
use crate::views::paths::{self, Page};

pub use crate::views::Frame;

/// The frame of a gate page (they all sit at the root, so links are relative to it).
pub fn frame(gate: &Gate, title: &str) -> Frame {
    let css = gate
        .releases
        .live()
        .map(|r| r.css.clone())
        .unwrap_or_default();
    Frame {
        t: i18n::labels(gate.settings.language),
        root: "",
        title: title.to_owned(),
        school: String::new(),
        as_of: String::new(),
        css,
    }
}

/// Renders a gate page; personal, so never stored by caches.
pub fn render<S: Serialize>(gate: &Gate, template: &str, view: &S, status: StatusCode) -> Result {
    let html = gate.templates.render(template, view)?;
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

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
    let mut students = Vec::new();
    // A teacher of many classes finds their students through the classes.
    if a.access.students.len() <= 200 {
        for key in &a.access.students {
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
    render(&gate, "portal.html", &view, StatusCode::OK)
}

#[derive(Serialize)]
struct AccountView<'a> {
    frame: Frame,
    login: &'a str,
    csrf: &'a str,
    must_change: bool,
    message: Option<String>,
    error: Option<String>,
    sessions: Vec<SessionItem>,
    mail: Option<super::mail::MailSection>,
}

#[derive(Serialize)]
struct SessionItem {
    id: i64,
    created_at: String,
    last_seen_at: String,
    address: String,
    user_agent: String,
    current: bool,
}

pub async fn account_page(
    gate: &Gate,
    a: &Authed,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result {
    let t = i18n::labels(gate.settings.language);
    let sessions = session::list(&gate.db, a.session.account.id).await?;
    let mail = super::mail::section(gate, a).await?;
    let view = AccountView {
        mail,
        frame: frame(gate, t.account),
        login: &a.session.account.login,
        csrf: &a.session.csrf,
        must_change: a.session.account.must_change_password != 0,
        message,
        error,
        sessions: sessions
            .into_iter()
            .map(|s| SessionItem {
                current: s.id == a.session.id,
                id: s.id,
                created_at: s
                    .created_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
                last_seen_at: s
                    .last_seen_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
                address: s.address.unwrap_or_default(),
                user_agent: s.user_agent.unwrap_or_default(),
            })
            .collect(),
    };
    render(gate, "account.html", &view, status)
}

/// `GET /account`.
pub async fn account(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let a = gate.authed(req.headers()).await.ok_or(Error::LoggedOut)?;
    account_page(&gate, &a, None, None, StatusCode::OK).await
}

/// A logged-in form POST: the account, the form (its CSRF token and origin
/// checked), and where it came from, for the access log.
pub struct Posted<T> {
    pub a: Arc<Authed>,
    pub form: T,
    pub address: Option<IpAddr>,
    pub ua: Option<String>,
}

impl<T> std::fmt::Debug for Posted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Posted")
            .field("login", &self.a.session.account.login)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl<T> Posted<T> {
    /// An access-log entry of this request.
    pub fn event(&self, action: &'static str, result: &'static str) -> Event<'_> {
        Event {
            address: self.address,
            user_agent: self.ua.as_deref(),
            ..Event::by(&self.a.session.account, action, result)
        }
    }
}

/// Reads a logged-in form POST: without a session it is
/// [`Error::LoggedOut`], and a form that fails its checks is [`Error::Forged`].
pub async fn posted<T: serde::de::DeserializeOwned>(
    gate: &Gate,
    req: Request,
) -> Result<Posted<T>> {
    let peer_addr = peer(&req);
    let (parts, body) = req.into_parts();
    let a = gate.authed(&parts.headers).await.ok_or(Error::LoggedOut)?;
    let form = checked_form::<T>(&parts.headers, body, &a.session.csrf)
        .await
        .ok_or(Error::Forged)?;
    Ok(Posted {
        address: gate.client(&parts.headers, peer_addr),
        ua: user_agent(&parts.headers).map(str::to_owned),
        a,
        form,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

/// `POST /account/password`: checks the current password, sets the new one,
/// ends every other session.
pub async fn change_password(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<PasswordForm>(&gate, req).await?;
    let (a, form) = (&p.a, &p.form);
    let t = i18n::labels(gate.settings.language);
    let current_ok =
        accounts::login::check_password(&gate.db, a.session.account.id, &form.current).await?;
    let error = if !current_ok {
        Some(t.wrong_password.to_owned())
    } else if form.new != form.repeat {
        Some(t.passwords_differ.to_owned())
    } else if form.new == form.current {
        Some(t.password_unchanged.to_owned())
    } else {
        accounts::password::check(&form.new).err().map(|e| match e {
            accounts::password::Weak::Short => t.password_short.to_owned(),
            accounts::password::Weak::Long => t.password_long.to_owned(),
            accounts::password::Weak::Common => t.password_common.to_owned(),
        })
    };
    if let Some(error) = error {
        gate.audit.log(p.event("password", "failed")).await;
        return account_page(&gate, a, None, Some(error), StatusCode::BAD_REQUEST).await;
    }
    accounts::set_password(&gate.db, a.session.account.id, &form.new, true).await?;
    // set_password ended every session; this one continues under a new token.
    gate.forget_sessions();
    gate.audit.log(p.event("password", "ok")).await;
    let ua = p.ua.clone().unwrap_or_default();
    let (token, _) = session::create(
        &gate.db,
        a.session.account.id,
        &address_text(p.address),
        &ua,
    )
    .await?;
    let mut res = redirect("/");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
    Ok(res)
}

#[derive(Deserialize)]
struct EndForm {
    session: i64,
}

/// `POST /account/sessions/end`: ends one of the account's sessions.
pub async fn end_session(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<EndForm>(&gate, req).await?;
    session::end_own(&gate.db, p.a.session.account.id, p.form.session).await?;
    gate.forget_sessions();
    gate.audit.log(p.event("session-end", "ok")).await;
    Ok(redirect("/account"))
}

/// `POST /account/breach`: the user reports that their credentials leaked
/// (regulation 4.3). Every session ends, a new password is required, the
/// office sees the report in the access log, and every entry of the account
/// since the report is marked invalid.
pub async fn report_breach(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<super::auth::CsrfForm>(&gate, req).await?;
    let a = &p.a;
    let noticed = accounts::now();
    accounts::breach(&gate.db, a.session.account.id, &noticed, "self").await?;
    gate.forget_sessions();
    gate.audit.log(p.event("breach", "reported")).await;
    let mut res = redirect("/login");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}
