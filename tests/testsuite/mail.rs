//! Weekly e-mail digests against a real SMTP server on loopback (aiosmtpd,
//! `tests/smtp/server.py`): subscription on the account page, confirmation
//! by the link sent, digests for exactly the confirmed subscriptions (text
//! and HTML parts, the printout PDF opened by pdftotext), nothing sent
//! twice, a refused recipient recorded without stopping the rest, a
//! temporary failure retried, unsubscribe by the one-click link, nothing to
//! a guardian whose link was removed or whose account is disabled, and
//! `--dry-run`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use mailparse::{MailHeaderMap, ParsedMail};
use tabel::config::{Mail as Settings, MailSecurity as Security};
use tabel::i18n::Language;
use tabel::mail::{self, RunOptions};

use crate::support::gate::{Fixture, add, csrf_of, fixture, get, login, send, urlencode};
use crate::support::tool;

/// The SMTP server, stopped when dropped.
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Smtp {
    fn start() -> Option<Smtp> {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py"))
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "the SMTP server did not start (is aiosmtpd installed? run .ci/run)"
            );
            eprintln!("note: aiosmtpd is missing; skipping");
            return None;
        };
        Some(Smtp { child, port, dir })
    }

    /// Messages received so far: (recipient, raw message), in order.
    fn messages(&self) -> Vec<(String, Vec<u8>)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_str().unwrap().to_owned();
                let rcpt = name[5..name.len() - 4].to_owned();
                (rcpt, std::fs::read(&p).unwrap())
            })
            .collect()
    }

    /// Waits until `n` messages have arrived (yielding to the gate's
    /// background tasks meanwhile).
    async fn wait_for(&self, n: usize) -> Vec<(String, Vec<u8>)> {
        let start = Instant::now();
        loop {
            let m = self.messages();
            if m.len() >= n || start.elapsed() > Duration::from_secs(20) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings(port: u16) -> Settings {
    Settings {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: Security::None,
        user: None,
        from: "Школа № 17 <tabel@school.test>".into(),
        base_url: "https://gate.test".into(),
        attempts: 2,
        retry_seconds: 0,
        timeout_seconds: 10,
    }
}

fn run_opts(week: &str) -> RunOptions {
    RunOptions {
        week: week.into(),
        dry_run: None,
        language: Language::Ru,
        templates: None,
    }
}

/// A guardian of the demo with one child: (guardian external id, student key, student family name).
fn guardians(f: &Fixture, n: usize) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for g in &f.s.guardians {
        let kids: Vec<_> =
            f.s.guardian_links
                .iter()
                .filter(|l| l.guardian_id == g.id)
                .collect();
        if kids.len() != 1 {
            continue;
        }
        let st =
            f.s.students
                .iter()
                .find(|s| s.id == kids[0].student_id)
                .unwrap();
        if st.class_id.is_none()
            || out
                .iter()
                .any(|(_, k, _): &(String, String, String)| *k == st.key)
        {
            continue;
        }
        out.push((
            g.external_id.clone(),
            st.key.clone(),
            st.name.family_name.clone(),
        ));
        if out.len() == n {
            break;
        }
    }
    assert_eq!(out.len(), n);
    out
}

fn post(path: &str, cookie: Option<&str>, form: String) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, "gate.test")
        .header(header::ORIGIN, "http://gate.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("__Host-tabel={c}"));
    }
    b.body(Body::from(form)).unwrap()
}

/// Logs in as a new guardian account for `guardian` and subscribes `address` to `student`.
async fn subscribe(f: &Fixture, login_name: &str, guardian: &str, student: &str, address: &str) {
    add(f, login_name, "guardian", Some(guardian)).await;
    let cookie = login(f, login_name).await;
    let token = csrf_of(f, &cookie).await;
    let (_, _, page) = send(f, get("/account", Some(&cookie))).await;
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains(&format!("name=\"student\" value=\"{student}\"")),
        "no subscription form for the child"
    );
    let (status, _, body) = send(
        f,
        post(
            "/account/mail",
            Some(&cookie),
            format!(
                "csrf={}&student={student}&address={}",
                urlencode(&token),
                urlencode(address)
            ),
        ),
    )
    .await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("Письмо со ссылкой для подтверждения отправлено"),
        "{body}"
    );
}

fn parse(raw: &[u8]) -> ParsedMail<'_> {
    mailparse::parse_mail(raw).unwrap()
}

/// The decoded parts of a message with their content types.
fn parts(m: &ParsedMail<'_>) -> Vec<(String, Vec<u8>)> {
    if m.subparts.is_empty() {
        return vec![(m.ctype.mimetype.clone(), m.get_body_raw().unwrap())];
    }
    m.subparts.iter().flat_map(parts).collect()
}

fn text_of(raw: &[u8]) -> String {
    let m = parse(raw);
    let p = parts(&m);
    let (_, t) = p.iter().find(|(t, _)| t == "text/plain").unwrap();
    String::from_utf8(t.clone()).unwrap()
}

/// The link in a message's text that starts with `prefix`.
fn link(raw: &[u8], prefix: &str) -> String {
    let text = text_of(raw);
    let at = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {text}"));
    text[at..].split_whitespace().next().unwrap().to_owned()
}

/// Waits until `n` confirmation requests have a final status in the send log
/// (the gate sends them in the background and records each after the server answers).
async fn confirmations_settled(f: &Fixture, n: i64) {
    let start = Instant::now();
    loop {
        let (done,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM mail_log WHERE kind = 'confirm' AND status <> 'sending'",
        )
        .fetch_one(f.t.db.pool())
        .await
        .unwrap();
        if done >= n {
            return;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let rows: Vec<(i64, String, String, i64, Option<String>, String)> = sqlx::query_as(
                "SELECT subscription_id, week, status, attempts, detail, at FROM mail_log ORDER BY id",
            )
            .fetch_all(f.t.db.pool())
            .await
            .unwrap();
            panic!("{done} of {n} confirmation requests recorded: {rows:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn path_of(url: &str) -> String {
    url.strip_prefix("https://gate.test").unwrap().to_owned()
}

#[tokio::test]
async fn subscribe_confirm_digest_unsubscribe() {
    // The gate's log lines, for this test only: a global subscriber would
    // take in every other test of the suite running beside it.
    let _log =
        tracing::subscriber::set_default(tracing_subscriber::fmt().with_test_writer().finish());
    let Some(smtp) = Smtp::start() else { return };
    let f = fixture(60, |s| s.mail = Some(settings(smtp.port))).await;
    let g = guardians(&f, 6);
    // Subscriptions in this order: refused first, so the others come after it.
    let who = [
        ("g-refused", "refused@example.test"),
        ("g-ok", "parent@example.test"),
        ("g-never", "never@example.test"),
        ("g-unlinked", "unlinked@example.test"),
        ("g-disabled", "disabled@example.test"),
        ("g-busy", "later@example.test"),
    ];
    for (i, (login_name, address)) in who.iter().enumerate() {
        subscribe(&f, login_name, &g[i].0, &g[i].1, address).await;
    }
    // Confirmation requests go out at once, to every address but the refused one.
    let got = smtp.wait_for(5).await;
    // The gate records each attempt after the server's answer: wait for all six.
    confirmations_settled(&f, 6).await;
    let rcpts: Vec<&str> = got.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(got.len(), 5, "{rcpts:?}");
    assert!(!rcpts.contains(&"refused@example.test"));
    for (rcpt, raw) in &got {
        let text = text_of(raw);
        assert!(
            text.contains("https://gate.test/mail/confirm?t="),
            "{rcpt}: {text}"
        );
        let m = parse(raw);
        assert_eq!(m.headers.get_first_value("List-Unsubscribe"), None);
    }
    // A GET shows a button and confirms nothing; the POST confirms.
    let mut confirmed = Vec::new();
    for (rcpt, raw) in &got {
        if rcpt.starts_with("never") {
            continue;
        }
        let url = link(raw, "https://gate.test/mail/confirm?t=");
        let (status, _, page) = send(&f, get(&path_of(&url), None)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            String::from_utf8(page)
                .unwrap()
                .contains("Подтвердить подписку")
        );
        let (status, _, page) = send(&f, post(&path_of(&url), None, String::new())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            String::from_utf8(page)
                .unwrap()
                .contains("Адрес подтверждён")
        );
        confirmed.push(rcpt.clone());
    }
    let rows = mail::list(&f.t.db).await.unwrap();
    let never = rows
        .iter()
        .find(|r| r.address == "never@example.test")
        .unwrap();
    assert!(never.confirmed_at.is_none());
    let refused = rows
        .iter()
        .find(|r| r.address == "refused@example.test")
        .unwrap();
    assert!(
        refused
            .failure
            .as_deref()
            .unwrap()
            .starts_with("permanent confirm"),
        "{:?}",
        refused.failure
    );
    // The refused address confirmed by other means (say the office): digests are tried.
    sqlx::query("UPDATE mail_subscription SET confirmed_at = '2026-11-27T00:00:00Z' WHERE address = 'refused@example.test'")
        .execute(f.t.db.pool())
        .await
        .unwrap();
    // The "later" address starts answering 451 (busy) after it was confirmed.
    sqlx::query("UPDATE mail_subscription SET address = 'busy@example.test' WHERE address = 'later@example.test'")
        .execute(f.t.db.pool())
        .await
        .unwrap();
    // One guardian's link to the child is removed, another account disabled.
    let unlinked =
        f.s.guardians
            .iter()
            .find(|x| x.external_id == g[3].0)
            .unwrap()
            .id;
    sqlx::query("DELETE FROM guardian_student WHERE guardian_id = $1")
        .bind(unlinked)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    tabel::accounts::set_disabled(
        &f.t.db,
        tabel::accounts::get(&f.t.db, "g-disabled")
            .await
            .unwrap()
            .id,
        true,
    )
    .await
    .unwrap();

    // The digests of week 48.
    let s = settings(smtp.port);
    let summary = mail::run(&f.t.db, &s, &run_opts("2026-W48")).await.unwrap();
    assert_eq!(summary.digests, 1, "{summary}");
    assert_eq!(summary.permanent.len(), 1, "{summary}");
    assert!(
        summary.permanent[0].starts_with("refused@example.test"),
        "{summary}"
    );
    assert_eq!(summary.temporary.len(), 1, "{summary}");
    assert!(
        summary.temporary[0].starts_with("busy@example.test"),
        "{summary}"
    );
    let all = smtp.wait_for(6).await;
    assert_eq!(all.len(), 6);
    let (rcpt, digest) = &all[5];
    assert_eq!(rcpt, "parent@example.test");
    // Headers, both parts, the PDF.
    let m = parse(digest);
    let unsubscribe = m.headers.get_first_value("List-Unsubscribe").unwrap();
    assert!(
        unsubscribe.starts_with("<https://gate.test/mail/unsubscribe?t="),
        "{unsubscribe}"
    );
    assert_eq!(
        m.headers
            .get_first_value("List-Unsubscribe-Post")
            .as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let subject = m.headers.get_first_value("Subject").unwrap();
    assert!(subject.contains(&g[1].2), "{subject}");
    let p = parts(&m);
    let kinds: Vec<&str> = p.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(kinds, ["text/plain", "text/html", "application/pdf"]);
    let text = String::from_utf8(p[0].1.clone()).unwrap();
    let html = String::from_utf8(p[1].1.clone()).unwrap();
    for needle in ["Отметки", "Пропуски", "Домашние задания", &g[1].2]
    {
        assert!(text.contains(needle), "text lacks {needle}: {text}");
        assert!(html.contains(needle), "html lacks {needle}");
    }
    assert!(
        !html.contains("<img") && !html.contains("<script") && !html.contains("src="),
        "{html}"
    );
    let pdf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(pdf.path(), &p[2].1).unwrap();
    if let Some(pdftotext) = tool("/usr/bin/pdftotext") {
        let o = Command::new(pdftotext)
            .arg(pdf.path())
            .arg("-")
            .output()
            .unwrap();
        assert!(o.status.success());
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(t.contains(&g[1].2), "{t}");
    }
    let rows = mail::list(&f.t.db).await.unwrap();
    let refused = rows
        .iter()
        .find(|r| r.address == "refused@example.test")
        .unwrap();
    assert!(
        refused
            .failure
            .as_deref()
            .unwrap()
            .starts_with("permanent digest 2026-W48"),
        "{:?}",
        refused.failure
    );
    let busy = rows
        .iter()
        .find(|r| r.address == "busy@example.test")
        .unwrap();
    assert!(
        busy.failure
            .as_deref()
            .unwrap()
            .starts_with("temporary digest 2026-W48"),
        "{:?}",
        busy.failure
    );

    // A second run sends nothing new; the temporary failure is tried again.
    let again = mail::run(&f.t.db, &s, &run_opts("2026-W48")).await.unwrap();
    assert_eq!(again.digests, 0, "{again}");
    assert!(again.permanent.is_empty(), "{again}");
    assert_eq!(again.temporary.len(), 1, "{again}");
    let attempts: (i64,) = sqlx::query_as(
        "SELECT attempts FROM mail_log WHERE kind = 'digest' AND status = 'temporary'",
    )
    .fetch_one(f.t.db.pool())
    .await
    .unwrap();
    assert_eq!(attempts.0, 4, "two tries per run, two runs");
    assert_eq!(smtp.messages().len(), 6);

    // A dry run writes the messages and sends and records nothing.
    let dry = tempfile::tempdir().unwrap();
    let mut o = run_opts("2026-W47");
    o.dry_run = Some(dry.path().to_path_buf());
    let d = mail::run(&f.t.db, &s, &o).await.unwrap();
    assert_eq!(d.digests, 3, "refused, parent, busy: {d}");
    let mut files: Vec<String> = std::fs::read_dir(dry.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let sends: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT subscription_id, kind, week, status FROM mail_log ORDER BY id")
            .fetch_all(f.t.db.pool())
            .await
            .unwrap();
    assert_eq!(files.len(), 3, "three digests: {files:?}, {d}, {sends:?}");
    assert_eq!(smtp.messages().len(), 6);

    // One click on the unsubscribe link (RFC 8058): no cookie, no form token.
    let url = unsubscribe.trim_matches(['<', '>']);
    let (status, _, page) = send(
        &f,
        post(&path_of(url), None, "List-Unsubscribe=One-Click".into()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(page).unwrap().contains("Вы отписались"));
    let after = mail::run(&f.t.db, &s, &run_opts("2026-W47")).await.unwrap();
    assert_eq!(after.digests, 0, "{after}");
    assert_eq!(smtp.messages().len(), 6);
}

#[tokio::test]
async fn only_a_guardian_subscribes_only_their_child() {
    let Some(smtp) = Smtp::start() else { return };
    let f = fixture(30, |s| s.mail = Some(settings(smtp.port))).await;
    let g = guardians(&f, 2);
    add(&f, "mother", "guardian", Some(&g[0].0)).await;
    let cookie = login(&f, "mother").await;
    let token = csrf_of(&f, &cookie).await;
    // Another family's child: refused like a missing page.
    let (status, _, _) = send(
        &f,
        post(
            "/account/mail",
            Some(&cookie),
            format!(
                "csrf={}&student={}&address=a%40example.test",
                urlencode(&token),
                g[1].1
            ),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A wrong token: refused.
    let (status, _, _) = send(
        &f,
        post(
            "/account/mail",
            Some(&cookie),
            format!("csrf=wrong&student={}&address=a%40example.test", g[0].1),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Not an address; a header injection attempt.
    for bad in [
        "not-an-address",
        "a@example.test\r\nBcc: x@evil.test",
        "a b@example.test",
    ] {
        let (status, _, body) = send(
            &f,
            post(
                "/account/mail",
                Some(&cookie),
                format!(
                    "csrf={}&student={}&address={}",
                    urlencode(&token),
                    g[0].1,
                    urlencode(bad)
                ),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(String::from_utf8(body).unwrap().contains("Это не адрес"));
    }
    assert!(mail::list(&f.t.db).await.unwrap().is_empty());
    // Links with made-up tokens lead nowhere.
    let (status, _, _) = send(
        &f,
        get(
            "/mail/confirm?t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(&f, post("/mail/unsubscribe?t=x", None, String::new())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A subscription form posted again and again sends one confirmation, not
/// one per post; more are sent only after some hours and a few a day; the
/// message names no login; its link is stored only hashed, expires, and
/// does not unsubscribe.
#[tokio::test]
async fn confirmation_requests_are_limited_hashed_and_expire() {
    let Some(smtp) = Smtp::start() else { return };
    let f = fixture(30, |s| s.mail = Some(settings(smtp.port))).await;
    let g = guardians(&f, 1);
    add(&f, "mother.login", "guardian", Some(&g[0].0)).await;
    let cookie = login(&f, "mother.login").await;
    let token = csrf_of(&f, &cookie).await;
    let ask = || {
        post(
            "/account/mail",
            Some(&cookie),
            format!(
                "csrf={}&student={}&address=someone%40example.test",
                urlencode(&token),
                g[0].1
            ),
        )
    };
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(send(&f, ask()).await.0.as_u16());
    }
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 429), "{statuses:?}");
    confirmations_settled(&f, 1).await;
    let got = smtp.messages();
    assert_eq!(got.len(), 1, "one message for thirty posts");
    let text = text_of(&got[0].1);
    assert!(!text.contains("mother.login"), "{text}");
    // The link's token is stored only as its hash, and is not the
    // unsubscribe token.
    let url = link(&got[0].1, "https://gate.test/mail/confirm?t=");
    let t = url.split("t=").nth(1).unwrap().to_owned();
    let (unsubscribe, hash): (String, Option<String>) =
        sqlx::query_as("SELECT token, confirm_hash FROM mail_subscription")
            .fetch_one(f.t.db.pool())
            .await
            .unwrap();
    assert_ne!(unsubscribe, t);
    assert_eq!(hash, Some(tabel::accounts::session::token_hash(&t)));
    let (status, _, _) = send(
        &f,
        post(&format!("/mail/unsubscribe?t={t}"), None, String::new()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a confirmation link does not unsubscribe"
    );
    // Two days later the link confirms nothing.
    let old = tabel::accounts::stamp(chrono::Utc::now() - chrono::Duration::hours(49));
    sqlx::query("UPDATE mail_subscription SET confirm_sent_at = $1")
        .bind(&old)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        send(&f, get(&path_of(&url), None)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&f, post(&path_of(&url), None, String::new())).await.0,
        StatusCode::NOT_FOUND
    );
    // Hours later a new one may be asked for, up to five a day.
    let earlier = tabel::accounts::stamp(chrono::Utc::now() - chrono::Duration::hours(4));
    for n in 2..=5 {
        sqlx::query("UPDATE mail_request SET at = $1")
            .bind(&earlier)
            .execute(f.t.db.pool())
            .await
            .unwrap();
        assert_eq!(send(&f, ask()).await.0, StatusCode::OK, "request {n}");
        assert_eq!(smtp.wait_for(n).await.len(), n);
    }
    sqlx::query("UPDATE mail_request SET at = $1")
        .bind(&earlier)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    let (status, _, page) = send(&f, ask()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(String::from_utf8(page).unwrap().contains("не больше 5"));
    // The latest link confirms, once.
    let all = smtp.messages();
    let url = link(&all.last().unwrap().1, "https://gate.test/mail/confirm?t=");
    assert_eq!(
        send(&f, post(&path_of(&url), None, String::new())).await.0,
        StatusCode::OK
    );
    assert_eq!(
        send(&f, post(&path_of(&url), None, String::new())).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(smtp.messages().len(), 5);
}
