//! Logging in and out: rate limits, and a login that does the same work
//! whether or not the account exists (see `accounts::login`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::forms::{CsrfForm, posted, read_body, same_origin, tokens_equal};
use super::respond::{
    DEVICE_COOKIE, Frame, LOGIN_CSRF_COOKIE, SESSION_COOKIE, cookie, frame, redirect, render,
    session_cookie, set_cookie,
};
use super::words::words;
use super::{Gate, address_text, peer, user_agent};
use crate::accounts::audit::Event;
use crate::accounts::login::{self, Attempt, Outcome};
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

/// `GET /login`: the form, with a fresh CSRF token in a cookie and a hidden
/// field; `/login?breach` after the owner reported a breach says how to get
/// back in.
pub async fn login_form(State(gate): State<Arc<Gate>>, uri: Uri) -> Result {
    let csrf = session::random_token(24);
    let notice =
        (uri.query() == Some("breach")).then_some(words(gate.settings.language).breach_reported);
    login_page(&gate, &csrf, notice, "", StatusCode::OK)
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
    let w = words(gate.settings.language);
    let body = read_body(req.into_body(), gate.settings.body_timeout).await?;
    let form = serde_urlencoded::from_bytes::<LoginForm>(&body)
        .map_err(|_| Error::BadRequest("bad form"))?;
    let fresh = session::random_token(24);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    let login = form.login.trim().to_owned();
    // A login the rule refuses cannot exist: it is not stored, so the log
    // holds no text a visitor chose.
    let logged = accounts::check_login(&login)
        .is_ok()
        .then_some(login.as_str());
    if !same_origin(&headers) || !expected.is_some_and(|e| tokens_equal(e, &form.csrf)) {
        gate.audit
            .log(Event {
                login: logged,
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
    let event = |result: &'static str| Event {
        login: logged,
        action: "login",
        result,
        address: client,
        user_agent: user_agent(&headers),
        ..Event::default()
    };
    let device = cookie(&headers, DEVICE_COOKIE);
    let who = Attempt {
        login: &login,
        password: &form.password,
        address: &address,
        device,
    };
    let outcome = login::attempt(&gate.db, &gate.settings.limits, who, &gate.dummy_hash).await?;
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
        Outcome::Busy => {
            gate.audit.log(event("busy")).await;
            let mut res = login_page(
                &gate,
                &fresh,
                Some(w.busy),
                &login,
                StatusCode::SERVICE_UNAVAILABLE,
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return Ok(res);
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
        // Only someone who has the password learns this: the owner, told
        // the way back, or whoever took it, told it is of no more use.
        Outcome::Breached => {
            gate.audit.log(event("breached")).await;
            return login_page(
                &gate,
                &fresh,
                Some(w.breached),
                &login,
                StatusCode::FORBIDDEN,
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
    let device = login::remember_device(&gate.db, account.id, device).await?;
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
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(DEVICE_COOKIE, &device, Some(login::DEVICE_DAYS * 24 * 3600)),
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
