//! The security headers every response of the gate carries: a strict
//! content security policy with no script, no sniffing, no framing, no
//! referrer, and `no-store` unless the response says how it may be cached.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// Adds the security headers to every response of the service it wraps
/// (ARCHITECTURE.md, "A request"). A plain layer: unlike `middleware::from_fn`, it neither
/// clones nor boxes the router per request.
#[derive(Debug, Clone, Copy)]
pub(super) struct SecurityHeaders {
    /// Behind TLS: `Strict-Transport-Security` too.
    pub(super) hsts: bool,
}

impl<S> tower_layer::Layer<S> for SecurityHeaders {
    type Service = Secured<S>;

    fn layer(&self, inner: S) -> Secured<S> {
        Secured {
            inner,
            add: if self.hsts {
                |res| with_security_headers(res, true)
            } else {
                |res| with_security_headers(res, false)
            },
        }
    }
}

/// The service [`SecurityHeaders`] wraps.
#[derive(Debug, Clone)]
pub(super) struct Secured<S> {
    inner: S,
    add: fn(Response) -> Response,
}

impl<S, B> tower_service::Service<axum::http::Request<B>> for Secured<S>
where
    S: tower_service::Service<axum::http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = futures_util::future::MapOk<S::Future, fn(Response) -> Response>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        futures_util::TryFutureExt::map_ok(self.inner.call(req), self.add)
    }
}

fn with_security_headers(mut res: Response, hsts: bool) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
