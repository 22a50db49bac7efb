//! Gates over a bucket, against a real SeaweedFS and a real PostgreSQL,
//! as real `tabel serve` processes on loopback: two gates over the same
//! bucket and database answer alike and share sessions and limits; both
//! follow the pointer within about a second; an object changed in the
//! bucket is never served; a damaged copy in the disk cache is fetched
//! again; a store that cannot be reached leaves what is cached served and
//! the rest answered 503, and the gate recovers when it is back.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::ObjectStoreExt;
use tabel::build::store::S3Store;
use tabel::build::store::s3::Client;
use tabel::demo;

use crate::support::build::{TODAY, demo_into};
use crate::support::gate::{Logged, csrf_field, serve_env, urlencode};
use crate::support::seaweed::{self, ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed};
use crate::support::{Running, TestDb};

/// An answer: status, headers (names in lower case), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of the cookie `name` this answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }
}

/// One request to the gate at `base` (`http://127.0.0.1:PORT`) over a
/// connection of its own.
fn request(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let host = base.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(host).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nOrigin: {base}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    tcp.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(base: &str, path: &str, token: Option<&str>) -> Answer {
    get_with(base, path, token, &[])
}

fn get_with(base: &str, path: &str, token: Option<&str>, more: &[(&str, &str)]) -> Answer {
    let cookie = token.map(|t| format!("__Host-tabel={t}"));
    let mut headers: Vec<(&str, &str)> = more.to_vec();
    if let Some(c) = &cookie {
        headers.push(("Cookie", c));
    }
    request(base, "GET", path, &headers, "")
}

/// Logs in through the form on the gate at `base`: the session token, or
/// the answer.
fn login(base: &str, login: &str, password: &str) -> Result<String, Answer> {
    let form = get(base, "/login", None);
    assert_eq!(form.status, 200, "{}", form.text());
    let csrf = form.cookie("__Host-tabel-csrf").unwrap();
    let field = csrf_field(&form.text());
    let body = format!(
        "login={}&password={}&csrf={}",
        urlencode(login),
        urlencode(password),
        urlencode(&field)
    );
    let cookie = format!("__Host-tabel-csrf={csrf}");
    let a = request(base, "POST", "/login", &[("Cookie", &cookie)], &body);
    match (a.status, a.cookie("__Host-tabel")) {
        (303, Some(token)) if !token.is_empty() => Ok(token),
        _ => Err(a),
    }
}

/// Logs the session `token` out through the form on the gate at `base`.
fn logout(base: &str, token: &str) {
    let page = get(base, "/account", Some(token));
    assert_eq!(page.status, 200, "{}", page.text());
    let body = format!("csrf={}", urlencode(&csrf_field(&page.text())));
    let cookie = format!("__Host-tabel={token}");
    let a = request(base, "POST", "/logout", &[("Cookie", &cookie)], &body);
    assert_eq!(a.status, 303, "{}", a.text());
}

/// Waits until `ok` holds of what `probe` returns, for at most `within`;
/// how long it took.
fn until<T: std::fmt::Debug>(
    within: Duration,
    mut probe: impl FnMut() -> T,
    ok: impl Fn(&T) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let got = probe();
        if ok(&got) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "not within {within:?}; last: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The release id a gate's `/healthz` names, or its status.
fn health(base: &str) -> Result<String, u16> {
    let a = get(base, "/healthz", None);
    if a.status == 200 {
        Ok(a.text().trim().trim_start_matches("ok ").to_owned())
    } else {
        Err(a.status)
    }
}

/// A demo school of `students` in a fresh PostgreSQL database, with its
/// demo accounts: the database, and the guardian's login and password.
async fn school(students: u32) -> Option<(TestDb, String, String)> {
    let t = TestDb::postgres().await?;
    demo_into(&t.db, students, None, 7, TODAY).await;
    let accounts = demo::accounts(&t.db).await.unwrap();
    let parent = accounts.iter().find(|a| a.login == "demo-parent").unwrap();
    let (login, password) = (parent.login.clone(), parent.password.clone());
    Some((t, login, password))
}

/// The keys of the students the account `login` may read.
async fn children(t: &TestDb, login: &str) -> Vec<String> {
    let account = tabel::accounts::get(&t.db, login).await.unwrap();
    let access = tabel::accounts::access::load(&t.db, &account)
        .await
        .unwrap();
    let mut keys: Vec<String> = access.students.iter().cloned().collect();
    keys.sort();
    keys
}

/// `tabel build` of the database at `db` into the bucket `url`, as of `date`.
fn build(db: &str, url: &str, config: &Path, date: &str) {
    seaweed::build(db, url, config, date, 2).success();
}

/// A configuration whose `[store]` is at `endpoint`, with `serve` added
/// as the `[serve]` table.
fn config(dir: &Path, name: &str, endpoint: &str, serve: &str) -> PathBuf {
    let path = Seaweed::config(dir, name, endpoint, 3, 3600);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("[serve]\n");
    text.push_str(serve);
    std::fs::write(&path, text).unwrap();
    path
}

/// A gate over the bucket `url` with `config`: the child, its base URL, its log.
fn gate(db: &str, url: &str, config: &Path) -> (Running, String, Logged) {
    let config = config.display().to_string();
    serve_env(
        db,
        url.as_ref(),
        &["--config", &config],
        None,
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    )
}

fn stop(mut child: Running) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The lines of `log` that contain `what`.
fn lines_with(log: &Logged, what: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(what))
        .cloned()
        .collect()
}

fn s3(w: &Seaweed, url: &str) -> (S3Store, Client) {
    (
        w.store(url, 3600),
        Client::connect(url, &w.settings(3600), seaweed::credentials()).unwrap(),
    )
}

/// The SHA-256 of every file of the live release, by path.
fn live_files(store: &S3Store) -> BTreeMap<String, String> {
    let id = store.current().unwrap().unwrap();
    seaweed::by_path(&store.release_files(&id).unwrap())
}

/// What each test starts from: SeaweedFS, a school with a parent of
/// children in it, a folder, and the bucket URL under `prefix`.
struct Setup {
    w: Seaweed,
    t: TestDb,
    parent: String,
    password: String,
    /// The parent's children's keys.
    kids: Vec<String>,
    dir: tempfile::TempDir,
    url: String,
}

/// The [`Setup`] of a school of `students`, or `None` (a skip) without
/// SeaweedFS.
async fn setup(students: u32, prefix: &str) -> Option<Setup> {
    let w = Seaweed::start()?;
    let (t, parent, password) = school(students).await?;
    let kids = children(&t, &parent).await;
    assert!(!kids.is_empty());
    Some(Setup {
        w,
        t,
        parent,
        password,
        kids,
        dir: tempfile::tempdir().unwrap(),
        url: format!("s3://{BUCKET}/{prefix}"),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gates_over_one_bucket_answer_alike_share_sessions_and_follow_the_pointer() {
    let Some(Setup {
        w,
        t,
        parent,
        password,
        kids,
        dir,
        url,
    }) = setup(60, "city").await
    else {
        return;
    };
    let cache_a = dir.path().join("cache-a");
    let config_a = config(
        dir.path(),
        "a.toml",
        &w.endpoint,
        &format!(
            "disk_cache = \"{}\"\nfailures_per_account = 3\n",
            cache_a.display()
        ),
    );
    // Gate B keeps nothing on disk: every file it sends it fetched itself.
    let config_b = config(
        dir.path(),
        "b.toml",
        &w.endpoint,
        "failures_per_account = 3\n",
    );
    build(&t.url, &url, &config_a, TODAY);
    let (store, _) = s3(&w, &url);
    let first = store.current().unwrap().unwrap();

    let (a, base_a, _) = gate(&t.url, &url, &config_a);
    let (b, base_b, _) = gate(&t.url, &url, &config_b);
    for base in [&base_a, &base_b] {
        until(
            Duration::from_secs(10),
            || health(base),
            |h| h.as_deref() == Ok(first.as_str()),
        );
    }

    // A guardian logs in on A and reads on B; both send the same bytes
    // and the same ETag, in each coding.
    let token = login(&base_a, &parent, &password).unwrap_or_else(|a| panic!("{}", a.text()));
    let pages = [
        format!("/s/{}/index.html", kids[0]),
        format!("/s/{}/marks.html", kids[0]),
    ];
    for page in &pages {
        for coding in [&[][..], &[("Accept-Encoding", "br, gzip")][..]] {
            let on_b = get_with(&base_b, page, Some(&token), coding);
            let on_a = get_with(&base_a, page, Some(&token), coding);
            assert_eq!(on_b.status, 200, "{page} on B: {}", on_b.text());
            assert_eq!(on_a.status, 200, "{page} on A");
            assert!(on_a.body == on_b.body, "{page}: the gates differ");
            assert!(on_a.header("etag").is_some());
            assert_eq!(on_a.header("etag"), on_b.header("etag"), "{page}");
            assert_eq!(
                on_a.header("content-encoding"),
                on_b.header("content-encoding")
            );
        }
    }
    // The disk cache of A holds what it fetched, named by its hash.
    let files = live_files(&store);
    let index_sha = &files[&pages[0][1..]];
    assert!(
        cache_a.join(&index_sha[..2]).join(index_sha).exists(),
        "{index_sha} is not in A's disk cache"
    );

    // Logged out on A: refused on A at once, on B within the session
    // cache's second.
    logout(&base_a, &token);
    assert_eq!(get(&base_a, &pages[0], Some(&token)).status, 404);
    let took = until(
        Duration::from_secs(5),
        || get(&base_b, &pages[0], Some(&token)).status,
        |s| *s == 404,
    );
    assert!(took < Duration::from_millis(2500), "{took:?}");

    // Failed logins count on every gate: three on A, and the right
    // password on B is refused.
    for _ in 0..3 {
        let a = login(&base_a, &parent, "not the password").unwrap_err();
        assert_eq!(a.status, 401, "{}", a.text());
    }
    let refused = login(&base_b, &parent, &password).unwrap_err();
    assert_eq!(refused.status, 429, "{}", refused.text());

    // A second build moves the pointer: both gates serve it within about
    // a second (a poll a second, and the new manifest read).
    build(&t.url, &url, &config_a, "2026-11-30");
    let second = store.current().unwrap().unwrap();
    assert_ne!(second, first);
    for base in [&base_a, &base_b] {
        let took = until(
            Duration::from_secs(10),
            || health(base),
            |h| h.as_deref() == Ok(second.as_str()),
        );
        assert!(took < Duration::from_millis(2000), "{base}: {took:?}");
    }
    stop(a);
    stop(b);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_changed_in_the_bucket_is_never_served_and_a_damaged_disk_copy_is_fetched_again()
{
    let Some(Setup {
        w,
        t,
        parent,
        password,
        kids,
        dir,
        url,
    }) = setup(40, "changed").await
    else {
        return;
    };
    let cache = dir.path().join("cache");
    let config = config(
        dir.path(),
        "s3.toml",
        &w.endpoint,
        &format!("disk_cache = \"{}\"\n", cache.display()),
    );
    build(&t.url, &url, &config, TODAY);
    let (store, client) = s3(&w, &url);
    let files = live_files(&store);
    let marks = format!("s/{}/marks.html", kids[0]);
    let index = format!("s/{}/index.html", kids[0]);
    // The object of the marks page is changed behind the gates' back,
    // before any gate read it.
    let sha = &files[&marks];
    assert_ne!(sha, &files[&index]);
    client
        .s3
        .put(
            &client.object_key(sha),
            b"<p>not the marks the release lists</p>".to_vec().into(),
        )
        .await
        .unwrap();

    let (g, base, log) = gate(&t.url, &url, &config);
    until(Duration::from_secs(10), || health(&base), |h| h.is_ok());
    let token = login(&base, &parent, &password).unwrap_or_else(|a| panic!("{}", a.text()));
    let a = get(&base, &format!("/{marks}"), Some(&token));
    assert_eq!(a.status, 404, "{}", a.text());
    assert!(!a.text().contains("not the marks"));
    until(
        Duration::from_secs(5),
        || lines_with(&log, "does not hold the bytes its release lists"),
        |l| {
            l.iter()
                .any(|l| l.contains("ERROR") && l.contains(sha.as_str()))
        },
    );
    // Other files are served, and kept on disk.
    let good = get(&base, &format!("/{index}"), Some(&token));
    assert_eq!(good.status, 200);
    let index_sha = &files[&index];
    let copy = cache.join(&index_sha[..2]).join(index_sha);
    assert!(copy.exists());
    // Nothing of the changed object was kept.
    assert!(!cache.join(&sha[..2]).join(sha).exists());
    stop(g);

    // The copy on disk damaged while no gate ran: the next gate notices,
    // drops it and fetches the object again.
    let mut damaged = std::fs::read(&copy).unwrap();
    damaged[0] ^= 1;
    std::fs::write(&copy, &damaged).unwrap();
    let (g, base, log) = gate(&t.url, &url, &config);
    until(Duration::from_secs(10), || health(&base), |h| h.is_ok());
    let again = get(&base, &format!("/{index}"), Some(&token));
    assert_eq!(again.status, 200);
    assert!(again.body == good.body, "the copy fetched again differs");
    // The gate's log is written by its own thread: wait for the line.
    until(
        Duration::from_secs(5),
        || lines_with(&log, "damaged"),
        |l| !l.is_empty(),
    );
    assert_ne!(std::fs::read(&copy).unwrap(), damaged);
    stop(g);
    t.finish().await;
}

/// A TCP relay to `target` that can be taken down (connections refused
/// or cut, those open cut) and brought back: the store unreachable, and
/// back. It keeps what the gate sent (requests only: the gate never
/// writes), and can hold each request back a while (a slow store).
struct Relay {
    endpoint: String,
    up: Arc<AtomicBool>,
    slow: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn start(target: &str) -> Relay {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let relay = Relay {
            endpoint: format!("http://{}", listener.local_addr().unwrap()),
            up: Arc::new(AtomicBool::new(true)),
            slow: Arc::default(),
            open: Arc::default(),
            sent: Arc::default(),
        };
        let (up, slow, open, sent) = (
            relay.up.clone(),
            relay.slow.clone(),
            relay.open.clone(),
            relay.sent.clone(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut held = open.lock().unwrap();
                held.push(client.try_clone().unwrap());
                held.push(server.try_clone().unwrap());
                drop(held);
                // The gate's requests, kept and perhaps held back.
                let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (slow, sent) = (slow.clone(), sent.clone());
                std::thread::spawn(move || {
                    let mut buf = [0; 16 << 10];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        sent.lock().unwrap().extend_from_slice(&buf[..n]);
                        if slow.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(300));
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                });
                let (mut from, mut to) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                });
            }
        });
        relay
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// How many requests the gate sent for a key ending in `name`.
    fn requests_for(&self, name: &str) -> usize {
        let sent = self.sent.lock().unwrap();
        let needle = format!("{name} HTTP/1.1");
        sent.windows(needle.len())
            .filter(|w| *w == needle.as_bytes())
            .count()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_store_unreachable_the_gate_serves_what_it_cached_and_503_for_the_rest() {
    let Some(Setup {
        w,
        t,
        parent,
        password,
        kids,
        dir,
        url,
    }) = setup(40, "down").await
    else {
        return;
    };
    let direct = config(dir.path(), "direct.toml", &w.endpoint, "");
    build(&t.url, &url, &direct, TODAY);
    let relay = Relay::start(&w.endpoint);
    let relayed = config(dir.path(), "relayed.toml", &relay.endpoint, "");

    let (g, base, log) = gate(&t.url, &url, &relayed);
    until(Duration::from_secs(10), || health(&base), |h| h.is_ok());
    let token = login(&base, &parent, &password).unwrap_or_else(|a| panic!("{}", a.text()));
    let warm = format!("/s/{}/index.html", kids[0]);
    let cold = format!("/s/{}/marks.html", kids[0]);
    let warmed = get(&base, &warm, Some(&token));
    assert_eq!(warmed.status, 200);

    // Requests for the same cold object at once, to a slow store: one
    // fetch serves them all.
    let (store, _) = s3(&w, &url);
    let files = live_files(&store);
    let (week, sha) = files
        .iter()
        .find(|(p, _)| p.starts_with(&format!("s/{}/w/", kids[0])))
        .unwrap();
    relay.slow.store(true, Ordering::SeqCst);
    let at_once: Vec<_> = (0..12)
        .map(|_| {
            let (base, path, token) = (base.clone(), format!("/{week}"), token.clone());
            std::thread::spawn(move || get(&base, &path, Some(&token)))
        })
        .collect();
    let answers: Vec<Answer> = at_once.into_iter().map(|t| t.join().unwrap()).collect();
    relay.slow.store(false, Ordering::SeqCst);
    assert!(
        answers
            .iter()
            .all(|a| a.status == 200 && a.body == answers[0].body)
    );
    assert_eq!(relay.requests_for(sha), 1);

    relay.down();
    // What the gate holds is served; the rest is answered 503 with the
    // gate's own page, Russian first, to be asked again. For over two
    // seconds: the gate tries the store again meanwhile (a request a
    // second, and the pointer's poll).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        let a = get(&base, &warm, Some(&token));
        assert_eq!(a.status, 200);
        assert!(a.body == warmed.body, "a cached page changed");
        let a = get(&base, &cold, Some(&token));
        assert_eq!(a.status, 503, "{}", a.text());
        assert!(a.header("retry-after").is_some());
        assert!(a.text().contains("lang=\"ru\""), "{}", a.text());
        assert!(a.text().contains("не отвечает"), "{}", a.text());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Logged once for the burst, not once a request.
    assert_eq!(lines_with(&log, "cannot be reached").len(), 1);

    // A gate started while the store is down starts, answers 503, and
    // serves once the store is back.
    let (late, late_base, _) = gate(&t.url, &url, &relayed);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(health(&late_base), Err(503));
    let late_token =
        login(&late_base, &parent, &password).unwrap_or_else(|a| panic!("{}", a.text()));
    assert_eq!(get(&late_base, &warm, Some(&late_token)).status, 503);

    relay.up();
    let took = until(
        Duration::from_secs(10),
        || get(&base, &cold, Some(&token)).status,
        |s| *s == 200,
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!lines_with(&log, "answers again").is_empty());
    until(
        Duration::from_secs(10),
        || get(&late_base, &warm, Some(&late_token)).status,
        |s| *s == 200,
    );
    assert!(get(&late_base, &warm, Some(&late_token)).body == warmed.body);
    stop(late);
    stop(g);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gate_over_a_store_on_a_local_disk_sends_what_a_gate_over_the_folder_sends() {
    let t = TestDb::sqlite().await;
    demo_into(&t.db, 60, None, 7, TODAY).await;
    let accounts = demo::accounts(&t.db).await.unwrap();
    let parent = accounts.iter().find(|a| a.login == "demo-parent").unwrap();
    let kids = children(&t, &parent.login).await;
    assert!(!kids.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("disk.toml");
    std::fs::write(&config, "keep_releases = 3\n").unwrap();
    let url = format!("file://{}", dir.path().join("store").display());
    let folder = dir.path().join("folder");
    for out in [url.as_str(), folder.to_str().unwrap()] {
        build(&t.url, out, &config, TODAY);
    }
    let store = S3Store::open(&url, &Default::default()).unwrap();
    let first = store.current().unwrap().unwrap();

    let flag = config.display().to_string();
    let (on_disk, disk, _) = serve_env(&t.url, url.as_ref(), &["--config", &flag], None, &[]);
    let (on_folder, plain, _) =
        serve_env(&t.url, folder.as_os_str(), &["--config", &flag], None, &[]);
    until(
        Duration::from_secs(10),
        || health(&disk),
        |h| h.as_deref() == Ok(first.as_str()),
    );
    let a =
        login(&disk, &parent.login, &parent.password).unwrap_or_else(|a| panic!("{}", a.text()));
    let b =
        login(&plain, &parent.login, &parent.password).unwrap_or_else(|a| panic!("{}", a.text()));
    let mut pages = Vec::new();
    for kid in &kids {
        pages.push(format!("/s/{kid}/index.html"));
        pages.push(format!("/s/{kid}/marks.html"));
    }
    for page in &pages {
        for coding in [
            &[][..],
            &[("Accept-Encoding", "br, gzip")][..],
            &[("Accept-Encoding", "gzip")][..],
        ] {
            let x = get_with(&disk, page, Some(&a), coding);
            let y = get_with(&plain, page, Some(&b), coding);
            assert_eq!(x.status, 200, "{page}: {}", x.text());
            assert_eq!(y.status, 200, "{page}");
            assert!(x.body == y.body, "{page}: the gates differ");
            assert_eq!(x.header("content-encoding"), y.header("content-encoding"));
        }
    }
    // Another student's page is refused alike.
    let stranger = tabel::build::release::all_entries(&folder.join("current"))
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .find(|p| p.starts_with("s/") && !kids.iter().any(|k| p.starts_with(&format!("s/{k}/"))))
        .unwrap();
    let stranger = format!("/{}", tabel::build::release::served_path(&stranger));
    assert_eq!(
        get(&disk, &stranger, Some(&a)).status,
        get(&plain, &stranger, Some(&b)).status
    );
    assert_eq!(get(&disk, &stranger, Some(&a)).status, 404);

    // The next night moves the pointer, and the gate follows it.
    build(&t.url, &url, &config, "2026-11-30");
    let second = store.current().unwrap().unwrap();
    assert_ne!(second, first);
    let took = until(
        Duration::from_secs(10),
        || health(&disk),
        |h| h.as_deref() == Ok(second.as_str()),
    );
    assert!(took < Duration::from_millis(2000), "{took:?}");
    stop(on_disk);
    stop(on_folder);
    t.finish().await;
}
