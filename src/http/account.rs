//! The account page: sessions, password, a breach report, and for a
//! guardian the e-mail digests of each child.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::forms::{CsrfForm, posted};
use super::respond::{Frame, SESSION_COOKIE, frame, redirect, render, set_cookie};
use super::words::words;
use super::{Authed, Gate, address_text};
use crate::accounts::login::Outcome;
use crate::accounts::{self, Role, session};
use crate::gradebook::lookup;
use crate::i18n;
use crate::mail::{self, digest::MailLabels};

/// The mail part of the account page: the guardian's children and their subscriptions.
#[derive(Debug, Serialize)]
pub struct MailSection {
    pub l: &'static MailLabels,
    pub children: Vec<Child>,
}

/// A child on the account page.
#[derive(Debug, Serialize)]
pub struct Child {
    pub key: String,
    pub name: String,
    pub class: String,
    /// "active" or "unconfirmed", with the address and the subscription id.
    pub state: Option<(String, String, i64)>,
}

/// The section for `a`, if it is a guardian's and mail is set up.
pub async fn section(gate: &Gate, a: &Authed) -> Result<Option<MailSection>> {
    if gate.settings.mail.is_none() || a.session.account.role != Role::Guardian {
        return Ok(None);
    }
    let subs = mail::of_account(&gate.db, a.session.account.id).await?;
    let mut children = Vec::new();
    let mut keys: Vec<&String> = a.access.students.iter().collect();
    keys.sort();
    for key in keys {
        let Some(st) = lookup::student(&gate.db, key).await? else {
            continue;
        };
        let state = subs
            .iter()
            .find(|s| s.student_id == st.id && s.unsubscribed_at.is_none())
            .map(|s| (s.state().to_owned(), s.address.clone(), s.id));
        children.push(Child {
            key: st.key,
            name: format!("{} {}", st.given_name, st.family_name),
            class: st.class,
            state,
        });
    }
    children.sort_by(|x, y| x.name.cmp(&y.name));
    Ok(Some(MailSection {
        l: mail::digest::labels(gate.settings.language),
        children,
    }))
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
    mail: Option<MailSection>,
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
    let mail = section(gate, a).await?;
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
    Ok(render(gate, "account.html", &view, status)?)
}

/// `GET /account`.
pub async fn account(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let a = gate.authed(req.headers()).await.ok_or(Error::LoggedOut)?;
    account_page(&gate, &a, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

/// `POST /account/password`: checks the current password (a wrong one
/// counts against the account's login limits), sets the new one, ends
/// every other session.
pub async fn change_password(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<PasswordForm>(&gate, req).await?;
    let (a, form) = (&p.a, &p.form);
    let t = i18n::labels(gate.settings.language);
    let outcome = accounts::login::check_current(
        &gate.db,
        &gate.settings.limits,
        &a.session.account,
        &form.current,
        &address_text(p.address),
        &gate.dummy_hash,
    )
    .await?;
    let current_ok = match outcome {
        Outcome::Accepted(_) => true,
        Outcome::Failed | Outcome::Breached => false,
        Outcome::Limited => {
            gate.audit.log(p.event("password", "limited")).await;
            let minutes = gate.settings.limits.window.as_secs().div_ceil(60);
            let msg = t
                .too_many_attempts
                .replace("{minutes}", &minutes.to_string());
            return account_page(&gate, a, None, Some(msg), StatusCode::TOO_MANY_REQUESTS).await;
        }
        Outcome::Busy => {
            gate.audit.log(p.event("password", "busy")).await;
            let busy = words(gate.settings.language).busy.to_owned();
            let mut res =
                account_page(&gate, a, None, Some(busy), StatusCode::SERVICE_UNAVAILABLE).await?;
            res.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
            return Ok(res);
        }
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
/// (regulation 4.3). Every session ends, the password logs in no more until
/// the office hands out a one-time one (the login page says so), the office
/// sees the report in the access log, and every entry of the account since
/// the report is marked invalid.
pub async fn report_breach(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<CsrfForm>(&gate, req).await?;
    let a = &p.a;
    let noticed = accounts::now();
    accounts::breach(&gate.db, a.session.account.id, &noticed, "self").await?;
    gate.forget_sessions();
    gate.audit.log(p.event("breach", "reported")).await;
    let mut res = redirect("/login?breach");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}
