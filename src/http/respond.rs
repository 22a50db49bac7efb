//! What every page of the gate answers with: its cookies, redirects, and
//! a page rendered with the same templates and stylesheet as the static
//! pages.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Gate;
use crate::i18n;
pub use crate::views::Frame;

/// The session cookie (`__Host-`: Secure, Path=/, no Domain).
pub const SESSION_COOKIE: &str = "__Host-tabel";
/// The cookie carrying the login form's CSRF token before a session exists.
pub const LOGIN_CSRF_COOKIE: &str = "__Host-tabel-csrf";
/// The cookie of a browser that logged in before: from it the right
/// password passes the limits that a stranger's failures set.
pub const DEVICE_COOKIE: &str = "__Host-tabel-device";

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
        updated: String::new(),
        css,
    }
}

/// Renders a gate page; personal, so never stored by caches.
pub fn render<S: Serialize>(
    gate: &Gate,
    template: &str,
    view: &S,
    status: StatusCode,
) -> anyhow::Result<Response> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-tabel=tok; __Host-tabel-csrf=c"),
        );
        assert_eq!(session_cookie(&h), Some("tok"));
        assert_eq!(cookie(&h, LOGIN_CSRF_COOKIE), Some("c"));
    }
}
