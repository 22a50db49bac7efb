//! Logged-in forms: where a POST came from, its CSRF token, and the
//! account, form and client it carries.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use serde::Deserialize;

use super::error::{Error, Result};
use super::{Authed, Gate, peer, user_agent};
use crate::accounts::audit::Event;

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

/// A logged-in form with nothing but its CSRF token (which [`super::pages::posted`] checks).
#[derive(Debug, Deserialize)]
pub struct CsrfForm {}

/// The largest form body of the gate.
const FORM_BYTES: usize = 16 * 1024;

/// Reads a form body of at most [`FORM_BYTES`] within `deadline` of its
/// start: a body announced and sent slowly, or never, holds nothing open
/// for longer ([`Error::TimedOut`]).
pub async fn read_body(
    body: axum::body::Body,
    deadline: std::time::Duration,
) -> Result<axum::body::Bytes> {
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, FORM_BYTES)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(Error::TooLarge),
        Err(_) => Err(Error::TimedOut),
    }
}

/// Checks a logged-in form's CSRF token and origin; returns the form.
pub fn checked_form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &[u8],
    csrf: &str,
) -> Option<T> {
    #[derive(Deserialize)]
    struct WithCsrf {
        csrf: String,
    }
    let token: WithCsrf = serde_urlencoded::from_bytes(bytes).ok()?;
    if !same_origin(headers) || !tokens_equal(&token.csrf, csrf) {
        return None;
    }
    serde_urlencoded::from_bytes(bytes).ok()
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
    let bytes = read_body(body, gate.settings.body_timeout).await?;
    let form = checked_form::<T>(&parts.headers, &bytes, &a.session.csrf).ok_or(Error::Forged)?;
    Ok(Posted {
        address: gate.client(&parts.headers, peer_addr),
        ua: user_agent(&parts.headers).map(str::to_owned),
        a,
        form,
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
    fn tokens_compare() {
        assert!(
            tokens_equal("abc", "abc") && !tokens_equal("abc", "abd") && !tokens_equal("abc", "ab")
        );
    }
}
