//! `tabel serve`: the gate. It puts the live release behind logins and
//! serves each file only to accounts that may read it (see
//! ARCHITECTURE.md, "A request"). It never writes gradebook data.
//!
//! `app()` builds the router (tests call it directly); `serve()` binds it to
//! a socket with `TCP_NODELAY` and shuts down gracefully on SIGTERM, after
//! the access log is written.

mod account;
mod auth;
pub mod error;
mod files;
mod forms;
mod headers;
mod home;
mod mail;
pub mod releases;
mod respond;
mod serve;
pub mod source;
mod words;

pub use serve::{serve, shutdown_signal, worker_woke};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::accounts::access::{self, Access};
use crate::accounts::audit::AuditLog;
use crate::accounts::login::Limits;
use crate::accounts::session::{self, Session, Timeouts};
use crate::db::Database;
use crate::i18n::Language;
use crate::render::html::Templates;
use headers::SecurityHeaders;

/// Settings of the gate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The output folder holding `current` (unless `bucket` is set).
    pub output: PathBuf,
    /// The bucket releases are read from instead of `output`, if any.
    pub bucket: Option<source::BucketSettings>,
    /// Interface language of the gate's own pages.
    pub language: Language,
    /// Folder whose templates replace the embedded ones of the same name.
    pub templates: Option<PathBuf>,
    /// Session lifetimes.
    pub timeouts: Timeouts,
    /// Failed logins allowed per login and per address.
    pub limits: Limits,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Served behind TLS: send HSTS.
    pub tls: bool,
    /// How long a session's check and links are reused before being read
    /// again (a second by default): a session ended on another gate over
    /// the same database is refused here at most this late.
    pub cache_ttl: Duration,
    /// Bytes of file contents kept in memory.
    pub cache_bytes: usize,
    /// E-mail settings, when digests are set up: subscriptions on the
    /// account page, confirmation requests sent at once.
    pub mail: Option<crate::config::Mail>,
    /// How long a request's form body may take to arrive once its headers
    /// have: a client that announces a body and sends it slowly, or not at
    /// all, is answered 408 and cut off.
    pub body_timeout: Duration,
    /// Connections open at once, at most (also kept below the open-file limit).
    pub max_connections: usize,
    /// Connections open at once from one address, at most (trusted proxies
    /// are not limited: they carry everyone's).
    pub max_connections_per_address: usize,
}

impl Settings {
    /// Defaults for a gate serving `output`.
    pub fn new(output: &Path) -> Settings {
        Settings {
            output: output.to_path_buf(),
            bucket: None,
            language: Language::Ru,
            templates: None,
            timeouts: Timeouts::default(),
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
            tls: false,
            cache_ttl: Duration::from_secs(1),
            cache_bytes: 256 << 20,
            mail: None,
            body_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_address: 256,
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
    releases: releases::Releases,
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

/// Session checks kept at most. When full, checks whose time is up and
/// tokens that named no session are dropped first: made-up cookies fill no
/// memory and push out no live session.
const SESSION_CACHE: usize = 4096;

/// True for what a session token looks like (base64url of 32 bytes): other
/// cookie values are not looked up, nor cached.
fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// How often the failed logins and forgotten devices are cleared away.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

impl Gate {
    /// Sets up the gate: templates, the dummy hash, the access log writer.
    pub async fn new(
        db: Database,
        settings: Settings,
    ) -> Result<(Arc<Gate>, tokio::task::JoinHandle<()>)> {
        let templates = Templates::new(settings.templates.as_deref())?;
        let dummy_hash = crate::accounts::password::hash_async(session::random_token(16)).await?;
        let (audit, writer) = AuditLog::start(&db)?;
        let window = settings.limits.window;
        let source = match &settings.bucket {
            // The disk cache's folder is read to take in what it holds.
            Some(b) => {
                let b = b.clone();
                tokio::task::spawn_blocking(move || source::Source::bucket(&b)).await??
            }
            None => source::Source::Folder(settings.output.clone()),
        };
        let gate = Gate {
            releases: releases::Releases::new(
                source,
                settings.cache_bytes,
                settings.cache_ttl.min(releases::POINTER_CHECK),
            ),
            db,
            settings,
            templates,
            audit,
            dummy_hash,
            sessions: RwLock::new(HashMap::new()),
            lookups: std::sync::atomic::AtomicU64::new(0),
        };
        let gate = Arc::new(gate);
        // Old failures count for nothing; a task clears them while the gate lives.
        let weak = Arc::downgrade(&gate);
        tokio::spawn(async move {
            loop {
                let Some(db) = weak.upgrade().map(|g| g.db.clone()) else {
                    return;
                };
                if let Err(err) = crate::accounts::login::prune(&db, window).await {
                    tracing::warn!("{err:#}");
                }
                drop(db);
                tokio::time::sleep(PRUNE_EVERY).await;
            }
        });
        Ok((gate, writer))
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

    /// Session checks in the cache now (answered or under way).
    pub fn cached_sessions(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
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
        let token = respond::session_cookie(headers).filter(|t| plausible_token(t))?;
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
        if cache.len() >= SESSION_CACHE {
            let ttl = self.settings.cache_ttl;
            cache.retain(|_, (at, check)| at.elapsed() < ttl && !matches!(check.get(), Some(None)));
            if cache.len() >= SESSION_CACHE {
                cache.clear();
            }
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

/// The router. Every response passes through the security headers layer (`headers.rs`).
pub fn app(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/account", get(account::account))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/end", post(account::end_session))
        .route("/account/breach", post(account::report_breach))
        .route("/account/mail", post(mail::subscribe))
        .route("/account/mail/end", post(mail::end))
        .route("/mail/confirm", get(mail::confirm_page).post(mail::confirm))
        .route(
            "/mail/unsubscribe",
            get(mail::unsubscribe_page).post(mail::unsubscribe),
        )
        .route("/healthz", get(healthz))
        .fallback(files::file)
        .layer(SecurityHeaders {
            hsts: gate.settings.tls,
        })
        .with_state(gate)
}

async fn healthz(State(gate): State<Arc<Gate>>) -> Response {
    match gate.releases.live() {
        Some(r) => (StatusCode::OK, format!("ok {}\n", r.id)).into_response(),
        None if gate.releases.unreachable() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the release store cannot be reached\n",
        )
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no live release\n").into_response(),
    }
}
