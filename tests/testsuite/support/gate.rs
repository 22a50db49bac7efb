//! Helpers for the gate's tests: a built demo school behind a gate, and
//! requests through the whole router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tabel::accounts;
use tabel::build;
use tabel::demo;
use tabel::gradebook::{self, Date, Snapshot, YearChoice};
use tabel::http::{self, Gate};
use tabel::i18n::Language;
use tower::ServiceExt;

use super::TestDb;

pub const TODAY: &str = "2026-11-27";
pub const PASSWORD: &str = "correct horse battery";

/// A demo school, built, behind a gate.
pub struct Fixture {
    pub t: TestDb,
    pub out: tempfile::TempDir,
    pub gate: Arc<Gate>,
    pub s: Snapshot,
}

pub async fn fixture(students: u32, settings: impl FnOnce(&mut http::Settings)) -> Fixture {
    let t = TestDb::sqlite().await;
    let today = Date::parse_iso(TODAY).unwrap();
    demo::run(
        &t.db,
        &demo::Options {
            students,
            schools: None,
            seed: 5,
            today,
        },
    )
    .await
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = build::Options {
        schools: Vec::new(),
        date: today,
        full: true,
        jobs: Some(2),
        keep: 3,
        language: Language::Ru,
        templates: None,
        progress: false,
        print_weeks: Default::default(),
        check_keys: true,
    };
    build::run(&t.db, out.path(), &opts).await.unwrap();
    let mut s = http::Settings::new(out.path());
    s.cache_ttl = Duration::ZERO;
    settings(&mut s);
    let (gate, _writer) = Gate::new(t.db.clone(), s).await.unwrap();
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    let snap = gradebook::load(&t.db, school, YearChoice::On(today))
        .await
        .unwrap();
    Fixture {
        t,
        out,
        gate,
        s: snap,
    }
}

/// `tabel serve` of the database at `url` and the output `out` on a free
/// loopback port (`extra` goes before the command: `--config FILE`);
/// returns the child and its base URL.
pub fn serve(url: &str, out: &std::path::Path, extra: &[&str]) -> (super::Running, String) {
    let (child, url, _) = serve_logged(url, out, extra, None);
    (child, url)
}

/// The lines a server logged, gathered as they come.
pub type Logged = Arc<std::sync::Mutex<Vec<String>>>;

/// [`serve`] with at most `open_files` open files, if given; also returns
/// the lines the server logs.
pub fn serve_logged(
    url: &str,
    out: &std::path::Path,
    extra: &[&str],
    open_files: Option<u64>,
) -> (super::Running, String, Logged) {
    serve_env(url, out.as_os_str(), extra, open_files, &[])
}

/// [`serve_logged`] of the output `out` (a folder or `s3://…`), with
/// these variables in its environment.
pub fn serve_env(
    url: &str,
    out: &std::ffi::OsStr,
    extra: &[&str],
    open_files: Option<u64>,
    env: &[(&str, &str)],
) -> (super::Running, String, Logged) {
    use std::io::{BufRead, BufReader};
    let mut run = super::tabel()
        .args(extra)
        .args(["--database", url, "--output"])
        .arg(out)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TABEL_LOG", "info");
    for (k, v) in env {
        run = run.env(k, v);
    }
    if let Some(n) = open_files {
        run = run.open_files(n);
    }
    let mut child = run
        .command()
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    // Keep what came before the address too: a test may look for it.
    let logged = Logged::default();
    let url = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.split("serving on ").nth(1) {
            break rest.trim().to_owned();
        }
        logged.lock().unwrap().push(line);
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    let keep = logged.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(line);
        }
    });
    (super::Running(child), url, logged)
}

pub fn addr(ip: &str) -> SocketAddr {
    format!("{ip}:40000").parse().unwrap()
}

pub async fn send(
    f: &Fixture,
    mut req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
        req.extensions_mut().insert(ConnectInfo(addr("192.0.2.1")));
    }
    let res = http::app(f.gate.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path).header(header::HOST, "gate.test");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("__Host-tabel={c}"));
    }
    b.body(Body::empty()).unwrap()
}

pub fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn cookie_value(set: &str) -> String {
    set.split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

/// Logs in through the form; returns the session token, or the status.
pub async fn login_from(
    f: &Fixture,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<String, StatusCode> {
    let (status, h, _) = login_with(f, login, password, ip, None).await;
    if status != StatusCode::SEE_OTHER {
        return Err(status);
    }
    Ok(cookie_value(&set_cookie(&h, "__Host-tabel").unwrap()))
}

/// A login form's CSRF pair: (cookie, field), from `GET /login`.
pub async fn login_form(f: &Fixture) -> (String, String) {
    let (_, h, body) = send(f, get("/login", None)).await;
    let csrf_cookie = cookie_value(&set_cookie(&h, "__Host-tabel-csrf").unwrap());
    let field = csrf_field(&String::from_utf8(body).unwrap());
    assert_eq!(field, csrf_cookie);
    (csrf_cookie, field)
}

/// The `POST /login` of a form `pair`, from `ip`, with a browser's device
/// cookie if given.
pub fn login_request(
    pair: &(String, String),
    login: &str,
    password: &str,
    ip: &str,
    device: Option<&str>,
) -> Request<Body> {
    let form = format!(
        "login={}&password={}&csrf={}",
        urlencode(login),
        urlencode(password),
        urlencode(&pair.1)
    );
    let mut cookies = format!("__Host-tabel-csrf={}", pair.0);
    if let Some(d) = device {
        cookies.push_str(&format!("; __Host-tabel-device={d}"));
    }
    let mut req = Request::post("/login")
        .header(header::HOST, "gate.test")
        .header(header::ORIGIN, "http://gate.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .body(Body::from(form))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(addr(ip)));
    req
}

/// Logs in through the form, with a browser's device cookie if given;
/// returns the answer whole (the page as text).
pub async fn login_with(
    f: &Fixture,
    login: &str,
    password: &str,
    ip: &str,
    device: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let pair = login_form(f).await;
    let (status, h, body) = send(f, login_request(&pair, login, password, ip, device)).await;
    (status, h, String::from_utf8(body).unwrap())
}

/// The CSRF token in the hidden `csrf` field of a gate page's form.
pub fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// The CSRF token of the session `token`, from the account page (which
/// every logged-in account may open).
pub async fn csrf_of(f: &Fixture, token: &str) -> String {
    let (status, _, body) = send(f, get("/account", Some(token))).await;
    assert_eq!(status, StatusCode::OK);
    csrf_field(&String::from_utf8(body).unwrap())
}

pub async fn login(f: &Fixture, login: &str) -> String {
    login_from(f, login, PASSWORD, "192.0.2.1").await.unwrap()
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn add(f: &Fixture, login: &str, role: &str, person: Option<&str>) {
    accounts::add(
        &f.t.db,
        login,
        role.parse().unwrap(),
        person,
        Some(PASSWORD.to_owned()),
    )
    .await
    .unwrap();
}
