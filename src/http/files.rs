//! Serving a file of the live release: the path parsed by the one URL
//! scheme, the access rule asked, the coding the client takes, ETags and
//! 304s, and one answer for what is not there or not for this account.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::releases::{Coding, Unavailable};
use super::source::Failure;
use super::{Gate, peer, respond, user_agent};
use crate::accounts::access::{self, Access, Scope};
use crate::accounts::audit::Event;
use crate::views::paths::{self, Page};

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("svg") => "image/svg+xml; charset=utf-8",
        Some("json") => "application/json; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Which encodings the client takes: (brotli, gzip). A coding listed with
/// `q=0` is refused; any other weight accepts it. Nothing is allocated.
fn accepts(headers: &HeaderMap) -> (bool, bool) {
    let Some(v) = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return (false, false);
    };
    let mut br = false;
    let mut gz = false;
    for part in v.split(',') {
        let mut it = part.split(';');
        let name = it.next().unwrap_or("").trim();
        let refused = it.any(zero_weight);
        if name.eq_ignore_ascii_case("br") {
            br = !refused;
        } else if name.eq_ignore_ascii_case("gzip") {
            gz = !refused;
        }
    }
    (br, gz)
}

/// True for a parameter `q=0` (`0.`, `0.0`, … `0.000`, spaces allowed
/// around `=`).
fn zero_weight(param: &str) -> bool {
    let Some((key, value)) = param.split_once('=') else {
        return false;
    };
    let value = value.trim();
    key.trim().eq_ignore_ascii_case("q")
        && (value == "0"
            || value
                .strip_prefix("0.")
                .is_some_and(|d| d.len() <= 3 && d.bytes().all(|b| b == b'0')))
}

/// The one answer for a file that does not exist or may not be read.
async fn not_found(gate: &Gate) -> Response {
    let mut body = None;
    if let Some(r) = gate.releases.live()
        && let Some(page) = r.shared("404.html")
    {
        body = r.bytes("404.html", page, Coding::Identity).await.ok();
    }
    let body = body.unwrap_or_else(|| {
        axum::body::Bytes::from_static(b"<!DOCTYPE html><title>404</title><p>404</p>")
    });
    let mut res = (StatusCode::NOT_FOUND, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The answer for a file the store holds but cannot give now: the gate's
/// own page (it may have no release to take a page from), to be asked
/// again shortly.
fn unavailable(gate: &Gate) -> Response {
    let w = super::words::words(gate.settings.language);
    let body = format!(
        "<!DOCTYPE html><html lang=\"{}\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><h1>{}</h1><p>{}</p></html>",
        crate::i18n::labels(gate.settings.language).lang,
        w.unavailable_title,
        w.unavailable_title,
        w.unavailable
    );
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// Serves a file of the live release to whoever may read it.
pub(super) async fn file(State(gate): State<Arc<Gate>>, req: Request) -> Response {
    let address = gate.client(req.headers(), peer(&req));
    let (parts, _) = req.into_parts();
    let (headers, method) = (&parts.headers, &parts.method);
    let raw_path = parts.uri.path();
    let authed = gate.authed(headers).await;
    let event = |action: &'static str, result: &'static str| {
        let account = authed.as_ref().map(|a| &a.session.account);
        Event {
            account_id: account.map(|a| a.id),
            login: account.map(|a| a.login.as_str()),
            role: account.map(|a| a.role.as_str()),
            action,
            path: Some(raw_path),
            result,
            address,
            user_agent: user_agent(headers),
        }
    };
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(page) = paths::parse(raw_path) else {
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate).await;
    };
    let Some(release) = gate.releases.live() else {
        if gate.releases.unreachable() {
            gate.audit.log(event("file", "unavailable")).await;
            return unavailable(&gate);
        }
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate).await;
    };
    // Every parsed path starts with the `/` it was parsed after.
    let path = &raw_path[1..];
    let file = match release.file(path).await {
        Ok(Some(file)) => file,
        Ok(None) => {
            gate.audit.log(event("file", "denied")).await;
            return not_found(&gate).await;
        }
        Err(Unavailable) => {
            gate.audit.log(event("file", "unavailable")).await;
            return unavailable(&gate);
        }
    };
    let no_access = Access::default();
    let access = authed.as_ref().map_or(&no_access, |a| &a.access);
    if !access::may_read(access, &file.scope, &file.school) {
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate).await;
    }
    // A one-time password must be changed before anything personal is
    // read. Asked only of a file the account may read: a redirect for
    // others' files would tell which exist.
    if *file.scope != Scope::Public
        && let Some(a) = &authed
        && a.session.account.must_change_password != 0
    {
        gate.audit.log(event("file", "must-change")).await;
        return respond::redirect("/account");
    }
    // The variant the client accepts.
    let (br, gz) = accepts(headers);
    let coding = file.coding(br, gz);
    let encoding = coding.header();
    // A strong ETag: the file's hash, and the coding of the bytes sent.
    let mut hash = [0; 32];
    data_encoding::HEXLOWER.encode_mut(&file.tag()[..16], &mut hash);
    let mut etag = String::with_capacity(40);
    etag.push('"');
    etag.push_str(std::str::from_utf8(&hash).unwrap_or_default());
    if let Some(encoding) = encoding {
        etag.push('-');
        etag.push_str(encoding);
    }
    etag.push('"');
    let cache_control = match &*file.scope {
        // Named by its content: a new stylesheet gets a new name.
        Scope::Public if matches!(page, Page::Stylesheet { .. }) => {
            "public, max-age=31536000, immutable"
        }
        Scope::Public => "no-cache",
        // A diary is not kept on the disk of a computer a family shares:
        // the browser fetches it again each time (a few kilobytes).
        _ => "private, no-store",
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    // A 304 carries what a 200 would have of ETag, Vary and Cache-Control,
    // and no representation metadata (RFC 9110 §15.4.5). Room is made at
    // once for every header, the security headers included.
    let mut res = Response::new(Body::empty());
    *res.headers_mut() = HeaderMap::with_capacity(16);
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Encoding, Cookie"),
    );
    if let Ok(v) = HeaderValue::from_maybe_shared(axum::body::Bytes::from(etag)) {
        h.insert(header::ETAG, v);
    }
    if matches {
        gate.audit.log(event("file", "not-modified")).await;
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    if let Some(enc) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    let body = match release.bytes(path, file, coding).await {
        Ok(b) => b,
        // Logged where it was found.
        Err(Failure::Bad) => {
            gate.audit.log(event("file", "error")).await;
            return not_found(&gate).await;
        }
        Err(Failure::Unavailable) => {
            gate.audit.log(event("file", "unavailable")).await;
            return unavailable(&gate);
        }
    };
    gate.audit.log(event("file", "ok")).await;
    if method != axum::http::Method::HEAD {
        *res.body_mut() = Body::from(body);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(value: &str) -> (bool, bool) {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("a header value"),
        );
        accepts(&headers)
    }

    #[test]
    fn the_codings_a_client_takes_are_read_with_their_weights() {
        assert_eq!(accepts(&HeaderMap::new()), (false, false));
        assert_eq!(accepted("br, gzip"), (true, true));
        assert_eq!(accepted("gzip, deflate, br, zstd"), (true, true));
        assert_eq!(accepted("GZip;q=0.5 , BR;q=1.0"), (true, true));
        assert_eq!(accepted("identity"), (false, false));
        assert_eq!(accepted("br;q=0, gzip"), (false, true));
        assert_eq!(accepted("br; q = 0.000, gzip;Q=0."), (false, false));
        assert_eq!(accepted("br;q=0.001, gzip;q=0.0001"), (true, true));
        assert_eq!(accepted("br;level=0, gzip;q"), (true, true));
        assert_eq!(accepted("brotli, gzipx, x-gzip"), (false, false));
    }
}
