//! Logging in and out: the session cookie, CSRF checks, rate limits, and
//! a login that does the same work whether or not the account exists.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::{Gate, address_text, peer, user_agent};
use crate::accounts::audit::Event;
use crate::accounts::login::Outcome;
use crate::accounts::{self, session};

/// The session cookie (`__Host-`: Secure, Path=/, no Domain).
pub const SESSION_COOKIE: &str = "__Host-tabel";
/// The cookie carrying the login form's CSRF token before a session exists.
pub const LOGIN_CSRF_COOKIE: &str = "__Host-tabel-csrf";

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The session token from the request, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// A `Set-Cookie` value with the attributes every tabel cookie has.
pub(super) fn set_cookie(name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let age = max_age.map_or(String::new(), |a| format!("; Max-Age={a}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax{age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A 303 redirect.
pub fn redirect(to: &'static str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    res
}

/// True if a POST comes from this site. A real `Origin` must name the same
/// host as `Host`. Browsers send `Origin: null` when the page's referrer
/// policy is `no-referrer` (ours is), so then — and when `Origin` is
/// missing — `Sec-Fetch-Site` must not say the request crossed sites. The
/// CSRF token is checked as well in every case.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some(site) if site != "same-origin" && site != "none") {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    origin_host.eq_ignore_ascii_case(host)
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Serialize)]
struct LoginView<'a> {
    frame: super::pages::Frame,
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
        frame: super::pages::frame(gate, t.login),
        csrf,
        error,
        login,
    };
    let mut res = super::pages::render(gate, "login.html", &view, status)?;
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
    let body = axum::body::to_bytes(req.into_body(), 16 * 1024)
        .await
        .map_err(|_| Error::TooLarge)?;
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

/// A logged-in form with nothing but its CSRF token (which [`super::pages::posted`] checks).
#[derive(Debug, Deserialize)]
pub struct CsrfForm {}

/// `POST /logout`: ends the session (the cookie stops working at once).
pub async fn logout(State(gate): State<Arc<Gate>>, req: Request) -> Result {
    let p = super::pages::posted::<CsrfForm>(&gate, req).await?;
    session::end_by_id(&gate.db, p.a.session.id).await?;
    gate.forget_sessions();
    gate.audit.log(p.event("logout", "ok")).await;
    let mut res = redirect("/login");
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}

/// Checks a logged-in form's CSRF token and origin; returns the form body.
pub async fn checked_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: axum::body::Body,
    csrf: &str,
) -> Option<T> {
    #[derive(Deserialize)]
    struct WithCsrf {
        csrf: String,
    }
    let bytes = axum::body::to_bytes(body, 16 * 1024).await.ok()?;
    let token: WithCsrf = serde_urlencoded::from_bytes(&bytes).ok()?;
    if !same_origin(headers) || !tokens_equal(&token.csrf, csrf) {
        return None;
    }
    serde_urlencoded::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("school.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://school.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        // Sent under `Referrer-Policy: no-referrer`; the token decides.
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-tabel=tok; __Host-tabel-csrf=c"),
        );
        assert_eq!(session_cookie(&h), Some("tok"));
        assert_eq!(cookie(&h, LOGIN_CSRF_COOKIE), Some("c"));
        assert!(
            tokens_equal("abc", "abc") && !tokens_equal("abc", "abd") && !tokens_equal("abc", "ab")
        );
    }
}
