//! The HTTP side of the sync: one `reqwest` client (rustls) that sends the
//! token as `Access-Token`, keeps at most N requests in flight, gives each
//! a timeout, retries 429, 5xx, HTML outage pages and silence with
//! exponential backoff up to a ceiling, and turns every other answer that
//! is not the expected JSON into a message naming the request.
//!
//! The API's errors are JSON objects `{"type": …, "description": …}`
//! (`parameterInvalid`, `authorizationFailed`, `apiServerError`,
//! `apiUnknownError`; the same list `pydnevnikruapi` checks); its outage
//! pages are HTML.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::config::Dnevnik;

/// Where the token comes from.
pub const TOKEN_VARIABLE: &str = "TABEL_DNEVNIK_TOKEN";

/// How requests are sent and retried.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Time a request may take, answer included.
    pub timeout: Duration,
    /// Tries after the first.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub first_wait: Duration,
    /// The longest single wait.
    pub ceiling: Duration,
    /// Requests in flight at most.
    pub in_flight: usize,
}

impl Policy {
    /// The policy of the `[dnevnik]` settings.
    pub fn of(settings: &Dnevnik) -> Policy {
        let secs = |s: f64| Duration::from_secs_f64(s.clamp(0.0, 86_400.0));
        Policy {
            timeout: secs(settings.timeout_seconds).max(Duration::from_millis(10)),
            retries: settings.retries,
            first_wait: secs(settings.retry_seconds),
            ceiling: secs(settings.retry_ceiling_seconds),
            in_flight: settings.requests_in_flight.max(1),
        }
    }

    /// The wait before retry number `n` (0-based), or what the server asked
    /// for; never above the ceiling.
    fn wait(&self, n: u32, asked: Option<Duration>) -> Duration {
        let doubled = self
            .first_wait
            .saturating_mul(2u32.saturating_pow(n.min(20)));
        asked.unwrap_or(doubled).min(self.ceiling)
    }
}

/// The API client; cheap to clone (the clones share the limits and counters).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: url::Url,
    token: String,
    policy: Policy,
    gate: Semaphore,
    sent: AtomicU64,
    /// After a 429 every request waits until then.
    pause_until: Mutex<Option<Instant>>,
    progress: Option<indicatif::ProgressBar>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A sync that fails half-way leaves no bar on the terminal.
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("sent", &self.sent())
            .finish_non_exhaustive()
    }
}

/// What went wrong with one try, and whether another try may help.
enum Failure {
    /// Worth another try: 429, 5xx, an outage page, silence, a broken connection.
    Passing(String, Option<Duration>),
    /// Another try would get the same: a refused token, a wrong request, bad JSON.
    Lasting(String),
}

impl Client {
    /// A client for the API at `base_url` with `token`; with `progress`, a
    /// bar on the terminal counts the requests.
    pub fn new(base_url: &str, token: &str, policy: Policy, progress: bool) -> Result<Client> {
        let mut base = url::Url::parse(base_url)
            .with_context(|| format!("[dnevnik] base_url {base_url:?} is not a URL"))?;
        if !base.path().ends_with('/') {
            // `join` would drop the last part of the path otherwise (`…/v2` + `schools`).
            base.set_path(&format!("{}/", base.path()));
        }
        if token.trim().is_empty() {
            bail!(
                "{TOKEN_VARIABLE} is not set: the sync needs the school's Дневник.ру access token (see the README)"
            );
        }
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .user_agent(concat!("tabel/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client")?;
        let progress = progress.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>24} [{bar:30}] {pos}/{len} requests {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: token.trim().to_owned(),
                gate: Semaphore::new(policy.in_flight),
                policy,
                sent: AtomicU64::new(0),
                pause_until: Mutex::new(None),
                progress,
            }),
        })
    }

    /// Requests sent so far, retries included.
    pub fn sent(&self) -> u64 {
        self.inner.sent.load(Ordering::Relaxed)
    }

    /// Starts a phase of `n` more requests: the bar grows, or a log line says so.
    pub fn phase(&self, what: &str, n: usize) {
        match &self.inner.progress {
            Some(bar) => {
                bar.inc_length(n as u64);
                bar.set_message(what.to_owned());
            }
            None => tracing::info!(requests = n, "Дневник.ру: {what}"),
        }
    }

    /// Clears the progress bar.
    pub fn done(&self) {
        if let Some(bar) = &self.inner.progress {
            bar.finish_and_clear();
        }
    }

    /// The full URL of `path`, for messages.
    pub fn url(&self, path: &str) -> String {
        self.inner
            .base
            .join(path)
            .map_or_else(|_| path.to_owned(), |u| u.to_string())
    }

    /// `GET path` read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        match self.fetch(path, false).await? {
            Some(body) => self.parse(path, &body),
            None => Err(anyhow!("GET {}: not found (HTTP 404)", self.url(path))),
        }
    }

    /// `GET path` read as `T`, or `None` if the API answers 404 (a class
    /// without a class teacher).
    pub async fn get_optional<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        match self.fetch(path, true).await? {
            Some(body) => self.parse(path, &body).map(Some),
            None => Ok(None),
        }
    }

    fn parse<T: DeserializeOwned>(&self, path: &str, body: &[u8]) -> Result<T> {
        let mut de = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let inner = err.inner();
            let at = err.path().to_string();
            if inner.is_syntax() || inner.is_eof() {
                anyhow!(
                    "GET {}: the answer is not valid JSON: {inner}",
                    self.url(path)
                )
            } else {
                anyhow!(
                    "GET {}: the answer does not have the expected shape at {at}: {inner}",
                    self.url(path)
                )
            }
        })
    }

    /// The body of a successful `GET path` (`None`: 404 and `missing_ok`),
    /// after as many tries as the policy allows.
    async fn fetch(&self, path: &str, missing_ok: bool) -> Result<Option<Vec<u8>>> {
        let inner = &*self.inner;
        let url = inner
            .base
            .join(path)
            .with_context(|| format!("{path:?} is not a path of the API"))?;
        let mut last = String::new();
        let tries = inner.policy.retries + 1;
        for n in 0..tries {
            self.wait_for_pause().await;
            let outcome = {
                let _permit = inner
                    .gate
                    .acquire()
                    .await
                    .context("the request limiter closed")?;
                inner.sent.fetch_add(1, Ordering::Relaxed);
                self.try_once(&url, missing_ok).await
            };
            match outcome {
                Ok(body) => {
                    if let Some(bar) = &inner.progress {
                        bar.inc(1);
                    }
                    return Ok(body);
                }
                Err(Failure::Lasting(why)) => bail!("GET {url}: {why}"),
                Err(Failure::Passing(why, asked)) => {
                    if n + 1 < tries {
                        let wait = inner.policy.wait(n, asked);
                        tracing::debug!(%url, try_ = n + 1, "{why}; trying again in {wait:?}");
                        if asked.is_some() {
                            self.pause(wait);
                        }
                        tokio::time::sleep(wait).await;
                    }
                    last = why;
                }
            }
        }
        bail!(
            "GET {url}: {last} (tried {tries} time{})",
            if tries == 1 { "" } else { "s" }
        )
    }

    async fn wait_for_pause(&self) {
        loop {
            let until = *self
                .inner
                .pause_until
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }

    /// After a 429 with `Retry-After`, every request holds back, not just this one.
    fn pause(&self, wait: Duration) {
        let mut until = self
            .inner
            .pause_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let t = Instant::now() + wait;
        if until.is_none_or(|u| u < t) {
            *until = Some(t);
        }
    }

    async fn try_once(&self, url: &url::Url, missing_ok: bool) -> Result<Option<Vec<u8>>, Failure> {
        let inner = &*self.inner;
        let seconds = inner.policy.timeout.as_secs_f64();
        let silent = |e: reqwest::Error| {
            if e.is_timeout() {
                Failure::Passing(format!("no answer within {seconds} s"), None)
            } else if e.is_connect() {
                Failure::Passing(format!("cannot connect ({})", root_cause(&e)), None)
            } else {
                Failure::Passing(format!("the connection failed ({})", root_cause(&e)), None)
            }
        };
        let response = inner
            .http
            .get(url.clone())
            .header("Access-Token", &inner.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(silent)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|s| Duration::from_secs_f64(s.clamp(0.0, 86_400.0)));
        let html_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("text/html"));
        let body = response.bytes().await.map_err(silent)?.to_vec();
        let code = status.as_u16();
        if html_type || looks_like_html(&body) {
            return Err(Failure::Passing(
                format!(
                    "Дневник.ру answered with an HTML page instead of JSON (HTTP {code}{}); the service may be down or under maintenance",
                    html_title(&body).map_or_else(String::new, |t| format!(", «{t}»"))
                ),
                None,
            ));
        }
        let error = api_error(&body);
        if code == 404 && missing_ok {
            return Ok(None);
        }
        if status.is_success() {
            // Some errors arrive with 200.
            return match error {
                Some((kind, text)) => Err(classify(code, &kind, &text)),
                None => Ok(Some(body)),
            };
        }
        if code == 429 {
            return Err(Failure::Passing(
                "too many requests (HTTP 429)".to_owned(),
                retry_after,
            ));
        }
        match error {
            Some((kind, text)) => Err(classify(code, &kind, &text)),
            None if status.is_server_error() => Err(Failure::Passing(
                format!("server error (HTTP {code}{})", snippet(&body)),
                retry_after,
            )),
            None if code == 401 || code == 403 => Err(Failure::Lasting(format!(
                "Дневник.ру refused the token (HTTP {code}); check {TOKEN_VARIABLE}: it may have expired or lack the scopes CommonInfo,EducationalInfo"
            ))),
            None => Err(Failure::Lasting(format!(
                "unexpected answer (HTTP {code}{})",
                snippet(&body)
            ))),
        }
    }
}

/// The deepest cause of a transport error, which names what happened.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// What an API error means for retrying, and its message.
fn classify(code: u16, kind: &str, text: &str) -> Failure {
    let said = if text.is_empty() {
        format!("{kind}, HTTP {code}")
    } else {
        format!("{kind}: {text}, HTTP {code}")
    };
    match kind {
        "authorizationFailed" => Failure::Lasting(format!(
            "Дневник.ру refused the token ({said}); check {TOKEN_VARIABLE}: it may have expired or lack the scopes CommonInfo,EducationalInfo"
        )),
        "parameterInvalid" => Failure::Lasting(format!("Дневник.ру refused the request ({said})")),
        "apiServerError" | "apiUnknownError" => {
            Failure::Passing(format!("Дневник.ру failed ({said})"), None)
        }
        _ if code >= 500 => Failure::Passing(format!("Дневник.ру failed ({said})"), None),
        _ => Failure::Lasting(format!("Дневник.ру answered with an error ({said})")),
    }
}

/// `{"type": …, "description": …}` (also `Type`/`Description`), if the body is one.
fn api_error(body: &[u8]) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let o = v.as_object()?;
    let get = |k: &str, alt: &str| {
        o.get(k)
            .or_else(|| o.get(alt))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let kind = get("type", "Type")?;
    // An object of the data (a school, a group) also has a "type"; an error
    // has a description and none of the data's ids.
    if o.contains_key("id") || o.contains_key("id_str") {
        return None;
    }
    let text = get("description", "Description").unwrap_or_default();
    Some((kind, text))
}

fn looks_like_html(body: &[u8]) -> bool {
    let head: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

/// The `<title>` of an HTML page, collapsed to one line.
fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_lowercase();
    let start = lower.find("<title")?;
    let open = start + lower[start..].find('>')? + 1;
    let close = open + lower[open..].find("</title")?;
    let title: String = text
        .get(open..close)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| title.chars().take(120).collect())
}

/// The start of a body for a message.
fn snippet(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_ceiling() {
        let p = Policy {
            timeout: Duration::from_secs(1),
            retries: 5,
            first_wait: Duration::from_millis(500),
            ceiling: Duration::from_secs(3),
            in_flight: 1,
        };
        assert_eq!(p.wait(0, None), Duration::from_millis(500));
        assert_eq!(p.wait(2, None), Duration::from_secs(2));
        assert_eq!(p.wait(3, None), Duration::from_secs(3));
        assert_eq!(p.wait(40, None), Duration::from_secs(3));
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(60))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn errors_and_pages_are_recognised() {
        assert_eq!(
            api_error(br#"{"type":"authorizationFailed","description":"Invalid token"}"#),
            Some(("authorizationFailed".into(), "Invalid token".into()))
        );
        assert_eq!(api_error(br#"{"id": 1, "type": "Group"}"#), None);
        assert_eq!(api_error(b"[]"), None);
        let page =
            "<!DOCTYPE html>\n<html><head><title>\n Технические работы </title></head></html>";
        assert!(looks_like_html(page.as_bytes()));
        assert_eq!(
            html_title(page.as_bytes()).as_deref(),
            Some("Технические работы")
        );
        assert!(matches!(
            classify(500, "apiServerError", "oops"),
            Failure::Passing(..)
        ));
        assert!(matches!(
            classify(401, "authorizationFailed", ""),
            Failure::Lasting(..)
        ));
    }
}
