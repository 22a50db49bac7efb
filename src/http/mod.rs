//! `tabel serve`: the gate. It puts the live release behind logins and
//! serves each file only to accounts that may read it (DESIGN §5). It never
//! writes gradebook data.
//!
//! `app()` builds the router (tests call it directly); `serve()` binds it to
//! a socket with `TCP_NODELAY` and shuts down gracefully on SIGTERM, after
//! the access log is written.

pub mod auth;
pub mod files;
pub mod mail;
pub mod pages;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::accounts::access::Scope;
use crate::accounts::access::{self, Access};
use crate::accounts::audit::{AuditLog, Event};
use crate::accounts::session::{self, Session, Timeouts};
use crate::db::Database;
use crate::i18n::Language;
use crate::render::html::Templates;
use crate::views::paths::{self, Page};

/// Settings of the gate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The output folder holding `current`.
    pub output: PathBuf,
    /// Interface language of the gate's own pages.
    pub language: Language,
    /// Folder whose templates replace the embedded ones of the same name.
    pub templates: Option<PathBuf>,
    /// Session lifetimes.
    pub timeouts: Timeouts,
    /// Failed logins allowed per account within `window`.
    pub per_account: u32,
    /// Failed logins allowed per address within `window`.
    pub per_address: u32,
    /// The rate-limit window.
    pub window: Duration,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Served behind TLS: send HSTS.
    pub tls: bool,
    /// How long a session's check and links are reused before being read again.
    pub cache_ttl: Duration,
    /// Bytes of file contents kept in memory.
    pub cache_bytes: usize,
    /// E-mail settings, when digests are set up: subscriptions on the
    /// account page, confirmation requests sent at once.
    pub mail: Option<crate::config::Mail>,
}

impl Settings {
    /// Defaults for a gate serving `output`.
    pub fn new(output: &Path) -> Settings {
        Settings {
            output: output.to_path_buf(),
            language: Language::Ru,
            templates: None,
            timeouts: Timeouts::default(),
            per_account: 10,
            per_address: 30,
            window: Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
            tls: false,
            cache_ttl: Duration::from_secs(1),
            cache_bytes: 256 << 20,
            mail: None,
        }
    }
}

/// A logged-in request's account, session and links.
#[derive(Debug, Clone)]
pub struct Authed {
    /// The session (with its account).
    pub session: Session,
    /// What the account may read.
    pub access: Access,
}

/// The gate's shared state.
#[derive(Debug)]
pub struct Gate {
    db: Database,
    settings: Settings,
    templates: Templates,
    releases: files::Releases,
    audit: AuditLog,
    /// A hash verified when a login does not exist, so that case costs the same.
    dummy_hash: String,
    sessions: RwLock<SessionCache>,
    /// Session checks that went to the database.
    lookups: std::sync::atomic::AtomicU64,
}

/// Session checks by token, with the time each was started. A check in
/// flight is shared by every request with that token; `None` records a
/// token that named no live session.
type SessionCache = HashMap<String, (Instant, Arc<SessionCheck>)>;
type SessionCheck = tokio::sync::OnceCell<Option<Arc<Authed>>>;

impl Gate {
    /// Sets up the gate: templates, the dummy hash, the access log writer.
    pub async fn new(
        db: Database,
        settings: Settings,
    ) -> Result<(Arc<Gate>, tokio::task::JoinHandle<()>)> {
        let templates = Templates::new(settings.templates.as_deref())?;
        let dummy_hash = crate::accounts::password::hash_async(session::random_token(16)).await?;
        let (audit, writer) = AuditLog::start(&db)?;
        let gate = Gate {
            releases: files::Releases::new(
                &settings.output,
                settings.cache_bytes,
                settings.cache_ttl,
            ),
            db,
            settings,
            templates,
            audit,
            dummy_hash,
            sessions: RwLock::new(HashMap::new()),
            lookups: std::sync::atomic::AtomicU64::new(0),
        };
        Ok((Arc::new(gate), writer))
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// How many session checks went to the database since the gate started
    /// (the others were answered from the cache).
    pub fn session_lookups(&self) -> u64 {
        self.lookups.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets cached sessions (after logout, password change, breach).
    fn forget_sessions(&self) {
        self.sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The account behind a request's session cookie, if any.
    async fn authed(&self, headers: &HeaderMap) -> Option<Arc<Authed>> {
        let token = auth::session_cookie(headers)?;
        let ttl = self.settings.cache_ttl;
        let check = {
            let cache = self
                .sessions
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match cache.get(token) {
                Some((at, check)) if at.elapsed() < ttl => match check.get() {
                    Some(hit) => return hit.clone(),
                    None => check.clone(),
                },
                _ => {
                    drop(cache);
                    self.start_check(token)
                }
            }
        };
        // Boxed: the database's futures are large, and every request's
        // future would otherwise carry them.
        Box::pin(check.get_or_init(|| self.check_session(token)))
            .await
            .clone()
    }

    /// The check of `token` that requests share from now on: the one a
    /// request started meanwhile, or a new one. When a cached answer expires
    /// under load, one lookup goes to the database, not one per request.
    fn start_check(&self, token: &str) -> Arc<SessionCheck> {
        let mut cache = self
            .sessions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, check)) = cache.get(token)
            && at.elapsed() < self.settings.cache_ttl
        {
            return check.clone();
        }
        if cache.len() > 100_000 {
            cache.clear();
        }
        let check = Arc::new(SessionCheck::new());
        cache.insert(token.to_owned(), (Instant::now(), check.clone()));
        check
    }

    /// Checks a session in the database.
    async fn check_session(&self, token: &str) -> Option<Arc<Authed>> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match session::lookup(&self.db, token, self.settings.timeouts).await {
            Ok(Some(s)) => {
                // Idle time is counted in minutes: one write a minute at most.
                let stale =
                    crate::accounts::stamp(chrono::Utc::now() - chrono::Duration::seconds(60));
                if s.last_seen_at < stale {
                    let _ = session::touch(&self.db, s.id).await;
                }
                match access::load(&self.db, &s.account).await {
                    Ok(access) => Some(Arc::new(Authed { session: s, access })),
                    Err(err) => {
                        tracing::error!("cannot read links: {err:#}");
                        None
                    }
                }
            }
            Ok(None) => None,
            Err(err) => {
                tracing::error!("cannot check a session: {err:#}");
                None
            }
        }
    }

    /// The client's address: the peer, or the last address a trusted proxy
    /// reports; `None` when not known.
    fn client(&self, req_headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let peer_ip = peer.map(|p| p.ip());
        if let Some(ip) = peer_ip
            && self.settings.trusted_proxies.contains(&ip)
            && let Some(fwd) = req_headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
            && let Some(last) = fwd.split(',').map(str::trim).rfind(|s| !s.is_empty())
            && let Ok(forwarded) = last.parse::<IpAddr>()
        {
            return Some(forwarded);
        }
        peer_ip
    }
}

/// An address as the database keeps it (`unknown` when not known).
fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
}

fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The router. Every response passes through [`SecurityHeaders`].
pub fn app(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/account", get(pages::account))
        .route("/account/password", post(pages::change_password))
        .route("/account/sessions/end", post(pages::end_session))
        .route("/account/breach", post(pages::report_breach))
        .route("/account/mail", post(mail::subscribe))
        .route("/account/mail/end", post(mail::end))
        .route("/mail/confirm", get(mail::confirm_page).post(mail::confirm))
        .route(
            "/mail/unsubscribe",
            get(mail::unsubscribe_page).post(mail::unsubscribe),
        )
        .route("/healthz", get(healthz))
        .fallback(file)
        .layer(SecurityHeaders {
            hsts: gate.settings.tls,
        })
        .with_state(gate)
}

async fn healthz(State(gate): State<Arc<Gate>>) -> Response {
    match gate.releases.live() {
        Some(r) => (StatusCode::OK, format!("ok {}\n", r.id)).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no live release\n").into_response(),
    }
}

/// Adds the security headers to every response of the service it wraps
/// (DESIGN §5). A plain layer: unlike `middleware::from_fn`, it neither
/// clones nor boxes the router per request.
#[derive(Debug, Clone, Copy)]
struct SecurityHeaders {
    /// Behind TLS: `Strict-Transport-Security` too.
    hsts: bool,
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
struct Secured<S> {
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
fn not_found(gate: &Gate) -> Response {
    let body = gate
        .releases
        .live()
        .and_then(|r| {
            let page = r.shared("404.html")?;
            r.bytes("404.html", page, files::Coding::Identity).ok()
        })
        .unwrap_or_else(|| {
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

/// Serves a file of the live release to whoever may read it.
async fn file(State(gate): State<Arc<Gate>>, req: Request) -> Response {
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
    let (Some(page), Some(release)) = (paths::parse(raw_path), gate.releases.live()) else {
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate);
    };
    // Every parsed path starts with the `/` it was parsed after.
    let path = &raw_path[1..];
    let Some(file) = release.file(path).await else {
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate);
    };
    // A one-time password must be changed before anything personal is read.
    if *file.scope != Scope::Public
        && let Some(a) = &authed
        && a.session.account.must_change_password != 0
    {
        return auth::redirect("/account");
    }
    let no_access = Access::default();
    let access = authed.as_ref().map_or(&no_access, |a| &a.access);
    if !access::may_read(access, &file.scope, &file.school) {
        gate.audit.log(event("file", "denied")).await;
        return not_found(&gate);
    }
    // The variant the client accepts.
    let (br, gz) = accepts(headers);
    let coding = file.coding(br, gz);
    let encoding = coding.header();
    // A strong ETag: the file's hash, and the coding of the bytes sent.
    let mut hash = [0; 32];
    data_encoding::HEXLOWER.encode_mut(&file.plain.sha256[..16], &mut hash);
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
        _ => "private, no-cache",
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
    let body = match release.bytes(path, file, coding) {
        Ok(b) => b,
        Err(err) => {
            tracing::error!("{err:#}");
            gate.audit.log(event("file", "error")).await;
            return not_found(&gate);
        }
    };
    gate.audit.log(event("file", "ok")).await;
    if method != axum::http::Method::HEAD {
        *res.body_mut() = Body::from(body);
    }
    res
}

/// How long a worker thread runs requests without a break before it lets
/// the other runnable threads on its CPU go first: a TLS proxy in front,
/// the database, the access log's writer, a load generator. Without it a
/// busy worker runs whole scheduler slices, and every connection whose next
/// step waits on one of those threads waits that long: on two shared cores
/// the 304 path's p99 was 4.5–5.0 ms without, 3.3–3.6 ms with it (at 500 µs:
/// 4.0–4.3 ms; below 250 µs, no better).
const RUN_BEFORE_YIELD: Duration = Duration::from_micros(250);

thread_local! {
    /// When this thread last started running without a break.
    static RUNNING_SINCE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// For the async runtime's `on_thread_unpark`: a worker thread starts
/// running after a break.
pub fn worker_woke() {
    RUNNING_SINCE.set(Some(Instant::now()));
}

/// Called as a request starts: after [`RUN_BEFORE_YIELD`] of running, the
/// thread yields its CPU once (`sched_yield`: back at once if nothing else
/// waits for the CPU).
fn share_the_cpu() {
    let now = Instant::now();
    match RUNNING_SINCE.get() {
        Some(since) if now.duration_since(since) < RUN_BEFORE_YIELD => {}
        Some(_) => {
            std::thread::yield_now();
            RUNNING_SINCE.set(Some(Instant::now()));
        }
        None => RUNNING_SINCE.set(Some(now)),
    }
}

/// Binds `listen` and serves until SIGTERM or Ctrl-C; then drains the access log.
pub async fn serve(db: Database, settings: Settings, listen: SocketAddr) -> Result<()> {
    let (gate, writer) = Gate::new(db, settings).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let bound = listener.local_addr().unwrap_or(listen);
    tracing::info!("serving on http://{bound}");
    // The live release, and in the background its schools' files, are
    // read now rather than at the first request.
    let _ = gate.releases.live();
    let router = app(gate.clone());
    // HTTP/1.1 straight on hyper: one task per connection, no protocol
    // sniffing, the peer's address put in each request for the gate.
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Out of descriptors and the like: wait, then go on.
                    tracing::error!("cannot accept a connection: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        // Small responses must not wait for Nagle and delayed ACKs.
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                async move {
                    share_the_cpu();
                    tower_service::Service::call(&mut router, req).await
                }
            });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(30))
            .serve_connection(hyper_util::rt::TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    drop(router);
    graceful.shutdown().await;
    // Every request is answered; the access log gets the rest, then stops.
    drop(gate);
    writer.await.context("the access log writer failed")?;
    tracing::info!("stopped; access log written");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
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
