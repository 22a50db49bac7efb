//! Logging in and out: rate limits, and a login that does the same work
//! whether or not the account exists (see `accounts::login`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::forms::{CsrfForm, posted, read_body, same_origin, tokens_equal};
use super::respond::{
    Frame, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, frame, redirect, render, session_cookie,
    set_cookie,
};
use super::{Gate, address_text, peer, user_agent};
use crate::accounts::audit::Event;
use crate::accounts::login::Outcome;
use crate::accounts::{self, session};

#[derive(Serialize)]
struct LoginView<'a> {
    frame: Frame,
    csrf: &'a str,
    error: Option<&'a str>,
    login: &'a str,
}

fn login_page(
    gate: &Gate,
    csrf: &str,
    error: Option<&str>,
    login: &str,
    status: StatusCode,
) -> Result {
    let t = crate::i18n::labels(gate.settings.language);
    let view = LoginView {
        frame: frame(gate, t.login),
        csrf,
        error,
        login,
    };
    let mut res = render(gate, "login.html", &view, status)?;
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, csrf, None),
    );
    Ok(res)
}

/// `GET /login`: the form, with a fresh CSRF token in a cookie and a hidden field.
pub async fn login_form(State(gate): State<Arc<Gate>>) -> Result {
    let csrf = session::random_token(24);
    login_page(&gate, &csrf, None, "", StatusCode::OK)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

/// `POST /login`.
pub async fn login(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let headers = req.headers().clone();
    let client = gate.client(&headers, peer(&req));
    let address = address_text(client);
    let t = crate::i18n::labels(gate.settings.language);
    let body = read_body(req.into_body(), gate.settings.body_timeout).await?;
    let form = serde_urlencoded::from_bytes::<LoginForm>(&body)
        .map_err(|_| Error::BadRequest("bad form"))?;
    let fresh = session::random_token(24);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    if !same_origin(&headers) || !expected.is_some_and(|e| tokens_equal(e, &form.csrf)) {
        gate.audit
            .log(Event {
                login: Some(&form.login),
                action: "login",
                result: "csrf",
                address: client,
                user_agent: user_agent(&headers),
                ..Event::default()
            })
            .await;
        return login_page(
            &gate,
            &fresh,
            Some(t.form_expired),
            &form.login,
            StatusCode::FORBIDDEN,
        );
    }
    let login = form.login.trim().to_owned();
    let event = |result: &'static str| Event {
        login: Some(&login),
        action: "login",
        result,
        address: client,
        user_agent: user_agent(&headers),
        ..Event::default()
    };
    let outcome = accounts::login::attempt(
        &gate.db,
        &gate.settings.limits,
        &login,
        &form.password,
        &address,
        &gate.dummy_hash,
    )
    .await?;
    let account = match outcome {
        Outcome::Limited => {
            // An honest message: the window slides, so the wait is known.
            gate.audit.log(event("limited")).await;
            let minutes = gate.settings.limits.window.as_secs().div_ceil(60);
            let msg = t
                .too_many_attempts
                .replace("{minutes}", &minutes.to_string());
            return login_page(
                &gate,
                &fresh,
                Some(&msg),
                &login,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Outcome::Failed => {
            gate.audit.log(event("failed")).await;
            return login_page(
                &gate,
                &fresh,
                Some(t.login_failed),
                &login,
                StatusCode::UNAUTHORIZED,
            );
        }
        Outcome::Accepted(account) => account,
    };
    // A new session id at every login; the old one, if any, ends.
    if let Some(old) = session_cookie(&headers) {
        session::end_by_token(&gate.db, old).await?;
    }
    let ua = user_agent(&headers).unwrap_or_default();
    let (token, _csrf) = session::create(&gate.db, account.id, &address, ua).await?;
    gate.forget_sessions();
    gate.audit
        .log(Event {
            account_id: Some(account.id),
            role: Some(account.role.as_str()),
            ..event("ok")
        })
        .await;
    let mut res = redirect(if account.must_change_password != 0 {
        "/account"
    } else {
        "/"
    });
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", Some(0)),
    );
    Ok(res)
}

/// `POST /logout`: ends the session (the cookie stops working at once).
pub async fn logout(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = posted::<CsrfForm>(&gate, req).await?;
    session::end_by_id(&gate.db, p.a.session.id).await?;
    gate.forget_sessions();
    gate.audit.log(p.event("logout", "ok")).await;
    let mut res = redirect("/login");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}
