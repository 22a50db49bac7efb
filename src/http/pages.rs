//! The gate's own pages: the home page listing what an account may read,
//! and the account page (sessions, password, breach report). Rendered with
//! the same templates and stylesheet as the static pages.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::{SESSION_COOKIE, checked_form, redirect, set_cookie};
use super::{Authed, Gate, address_text, peer, user_agent};
use crate::accounts::audit::Event;
use crate::accounts::{self, session};
use crate::i18n::{self, Labels};
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
pub fn render<S: Serialize>(gate: &Gate, template: &str, view: &S, status: StatusCode) -> Response {
    match gate.templates.render(template, view) {
        Ok(html) => {
            let mut res = (status, html).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(err) => {
            tracing::error!("{err:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
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

/// Names of the students and classes an account may read, in Russian order.
async fn listing(gate: &Gate, a: &Authed) -> (Vec<Item>, Vec<Item>, Vec<Item>) {
    let db = gate.db.pool();
    let mut students: Vec<(String, String, String, String, Option<String>)> = Vec::new();
    let mut classes: Vec<(String, String, i64)> = Vec::new();
    let mut schools: Vec<(String, String)> = Vec::new();
    let all: Vec<(String, String, String, String, Option<String>)> = if a.access.students.len()
        <= 200
    {
        let mut out = Vec::new();
        for key in &a.access.students {
            if let Ok(Some(row)) = sqlx::query_as(
                "SELECT s.key, s.family_name, s.given_name, COALESCE(c.title, ''), s.patronymic FROM student s \
                 LEFT JOIN class c ON c.id = s.class_id WHERE s.key = $1",
            )
            .bind(key.clone())
            .fetch_optional(db)
            .await
            {
                out.push(row);
            }
        }
        out
    } else {
        Vec::new()
    };
    students.extend(all);
    for key in &a.access.classes {
        if let Ok(Some(row)) = sqlx::query_as("SELECT key, title, grade FROM class WHERE key = $1")
            .bind(key.clone())
            .fetch_optional(db)
            .await
        {
            classes.push(row);
        }
    }
    if a.access.all || !a.access.schools.is_empty() {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, external_id, short_name FROM school ORDER BY id")
                .fetch_all(db)
                .await
                .unwrap_or_default();
        let single = rows.len() == 1;
        for (id, ext, name) in rows {
            if a.access.all || a.access.schools.contains(&ext) {
                let slug = (!single).then(|| paths::school_slug(&ext, id));
                let page = Page::School {
                    slug: slug.as_deref(),
                };
                schools.push((page.href(), name));
            }
        }
    }
    students.sort_by_key(|s| {
        (
            crate::text::collation_key(&s.1),
            crate::text::collation_key(&s.2),
            s.0.clone(),
        )
    });
    classes.sort_by_key(|c| (c.2, crate::text::collation_key(&c.1)));
    (
        students
            .into_iter()
            .map(|(key, family, given, class, _)| Item {
                href: Page::StudentIndex { student: &key }.href(),
                title: format!("{family} {given}"),
                note: class,
            })
            .collect(),
        classes
            .into_iter()
            .map(|(key, title, _)| Item {
                href: Page::ClassIndex { class: &key }.href(),
                title,
                note: String::new(),
            })
            .collect(),
        schools
            .into_iter()
            .map(|(href, title)| Item {
                href,
                title,
                note: String::new(),
            })
            .collect(),
    )
}

/// `GET /`: the public home page, or what the logged-in account may read.
pub async fn home(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let Some(a) = gate.authed(req.headers()).await else {
        return redirect("/login");
    };
    if a.session.account.must_change_password != 0 {
        return redirect("/account");
    }
    let t: &Labels = i18n::labels(gate.settings.language);
    let (students, classes, schools) = listing(&gate, &a).await;
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
) -> Response {
    let t = i18n::labels(gate.settings.language);
    let sessions = session::list(&gate.db, a.session.account.id)
        .await
        .unwrap_or_default();
    let mail = super::mail::section(gate, a).await;
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
pub async fn account(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let Some(a) = gate.authed(req.headers()).await else {
        return redirect("/login");
    };
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

/// Reads a logged-in form POST; the response to send instead when there is
/// no session (to the login page) or the form fails its checks (403).
pub async fn posted<T: serde::de::DeserializeOwned>(
    gate: &Gate,
    req: Request,
) -> Result<Posted<T>, Response> {
    let peer_addr = peer(&req);
    let (parts, body) = req.into_parts();
    let Some(a) = gate.authed(&parts.headers).await else {
        return Err(redirect("/login"));
    };
    let Some(form) = checked_form::<T>(&parts.headers, body, &a.session.csrf).await else {
        return Err((StatusCode::FORBIDDEN, "CSRF check failed").into_response());
    };
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
pub async fn change_password(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let p = match posted::<PasswordForm>(&gate, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let (a, form) = (&p.a, &p.form);
    let t = i18n::labels(gate.settings.language);
    let hash: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM account WHERE id = $1")
        .bind(a.session.account.id)
        .fetch_optional(gate.db.pool())
        .await
        .ok()
        .flatten();
    let current_ok = match hash {
        Some((h,)) => accounts::password::verify_async(h, form.current.clone()).await,
        None => false,
    };
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
    if let Err(err) = accounts::set_password(&gate.db, a.session.account.id, &form.new, true).await
    {
        tracing::error!("{err:#}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // set_password ended every session; this one continues under a new token.
    gate.forget_sessions();
    gate.audit.log(p.event("password", "ok")).await;
    let ua = p.ua.clone().unwrap_or_default();
    let Ok((token, _)) = session::create(
        &gate.db,
        a.session.account.id,
        &address_text(p.address),
        &ua,
    )
    .await
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut res = redirect("/");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
    res
}

#[derive(Deserialize)]
struct EndForm {
    session: i64,
}

/// `POST /account/sessions/end`: ends one of the account's sessions.
pub async fn end_session(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let p = match posted::<EndForm>(&gate, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let _ = sqlx::query("DELETE FROM session WHERE id = $1 AND account_id = $2")
        .bind(p.form.session)
        .bind(p.a.session.account.id)
        .execute(gate.db.pool())
        .await;
    gate.forget_sessions();
    gate.audit.log(p.event("session-end", "ok")).await;
    redirect("/account")
}

/// `POST /account/breach`: the user reports that their credentials leaked
/// (regulation 4.3). Every session ends, a new password is required, the
/// office sees the report in the access log, and every entry of the account
/// since the report is marked invalid.
pub async fn report_breach(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let p = match posted::<super::auth::CsrfForm>(&gate, req).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let a = &p.a;
    let noticed = accounts::now();
    if let Err(err) = accounts::breach(&gate.db, a.session.account.id, &noticed, "self").await {
        tracing::error!("{err:#}");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    gate.forget_sessions();
    gate.audit.log(p.event("breach", "reported")).await;
    let mut res = redirect("/login");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    res
}
