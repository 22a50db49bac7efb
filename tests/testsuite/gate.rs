//! The gate (`tabel serve`) through its whole router: who may read what,
//! hostile paths, sessions and cookies, logins, CSRF, headers, the access
//! log, breach handling; then a real server under load and SIGTERM.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tabel::accounts;
use tabel::gradebook::Snapshot;

use crate::support::gate::*;
use crate::support::{TestDb, plain};

/// The oracle: what ARCHITECTURE.md ("A request") says each kind of account may read, computed
/// from the snapshot without the gate's SQL.
struct Oracle {
    students: HashSet<String>,
    classes: HashSet<String>,
    school: bool,
}

fn oracle_for(s: &Snapshot, role: &str, person: Option<&str>) -> Oracle {
    let mut o = Oracle {
        students: HashSet::new(),
        classes: HashSet::new(),
        school: false,
    };
    let key_of = |id: i64| {
        s.students
            .iter()
            .find(|st| st.id == id)
            .unwrap()
            .key
            .clone()
    };
    match role {
        "guardian" => {
            let g = s
                .guardians
                .iter()
                .find(|g| Some(g.external_id.as_str()) == person)
                .unwrap();
            for l in s.guardian_links.iter().filter(|l| l.guardian_id == g.id) {
                o.students.insert(key_of(l.student_id));
            }
        }
        "student" => {
            o.students.insert(
                s.students
                    .iter()
                    .find(|st| Some(st.external_id.as_str()) == person)
                    .unwrap()
                    .key
                    .clone(),
            );
        }
        "teacher" => {
            let t = s
                .staff
                .iter()
                .find(|x| Some(x.external_id.as_str()) == person)
                .unwrap()
                .id;
            for c in &s.classes {
                let leads = c.class_teacher_id == Some(t);
                let teaches_whole = s
                    .assignments
                    .iter()
                    .any(|a| a.staff_id == t && a.class_id == Some(c.id));
                let teaches_group = s.assignments.iter().any(|a| {
                    a.staff_id == t
                        && a.group_id.is_some_and(|g| {
                            s.groups
                                .iter()
                                .any(|x| x.id == g && x.class_id == Some(c.id))
                        })
                });
                if leads || teaches_whole || teaches_group {
                    o.classes.insert(c.key.clone());
                }
                if leads || teaches_whole {
                    for st in s.students.iter().filter(|st| st.class_id == Some(c.id)) {
                        o.students.insert(st.key.clone());
                    }
                }
            }
            for a in s.assignments.iter().filter(|a| a.staff_id == t) {
                if let Some(g) = a.group_id {
                    for m in &s.groups.iter().find(|x| x.id == g).unwrap().members {
                        o.students.insert(key_of(*m));
                    }
                }
            }
        }
        "admin" => o.school = true,
        _ => {}
    }
    o
}

#[tokio::test]
async fn authorization_matrix_matches_the_oracle() {
    let f = fixture(45, |_| {}).await;
    let s = &f.s;
    // One account of every kind, several teachers.
    let guardian = s
        .guardian_links
        .iter()
        .map(|l| l.guardian_id)
        .max_by_key(|g| {
            s.guardian_links
                .iter()
                .filter(|l| l.guardian_id == *g)
                .count()
        });
    let guardian = s
        .guardians
        .iter()
        .find(|g| Some(g.id) == guardian)
        .unwrap()
        .external_id
        .clone();
    let student = s.students[3].external_id.clone();
    let teachers: Vec<String> = s
        .staff
        .iter()
        .filter(|x| x.roles.contains(&"teacher".to_owned()))
        .take(6)
        .map(|x| x.external_id.clone())
        .collect();
    let office = s
        .staff
        .iter()
        .find(|x| x.roles.contains(&"admin".to_owned()))
        .unwrap()
        .external_id
        .clone();
    let mut accounts: Vec<(String, &str, Option<String>)> = vec![
        ("parent1".into(), "guardian", Some(guardian)),
        ("student1".into(), "student", Some(student)),
        ("office1".into(), "admin", Some(office)),
    ];
    for (i, t) in teachers.iter().enumerate() {
        accounts.push((format!("teacher{i}"), "teacher", Some(t.clone())));
    }
    let cur = f.out.path().join("current");
    let mut checked = 0;
    for (login_name, role, person) in &accounts {
        add(&f, login_name, role, person.as_deref()).await;
        let token = login(&f, login_name).await;
        let o = oracle_for(s, role, person.as_deref());
        for st in &s.students {
            let may = o.school || o.students.contains(&st.key);
            for file in ["index.html", "marks.html", "w/2026-W47.html"] {
                let path = format!("/s/{}/{file}", st.key);
                let (status, _, body) = send(&f, get(&path, Some(&token))).await;
                let want = if may {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(status, want, "{login_name} {path}");
                if may {
                    assert_eq!(body, plain(&cur, &path[1..]), "{path} body");
                }
                checked += 1;
            }
        }
        for c in &s.classes {
            let path = format!("/c/{}/index.html", c.key);
            let (status, _, _) = send(&f, get(&path, Some(&token))).await;
            let may = o.school || o.classes.contains(&c.key);
            assert_eq!(status == StatusCode::OK, may, "{login_name} {path}");
            checked += 1;
        }
        let (status, _, _) = send(&f, get("/school/index.html", Some(&token))).await;
        assert_eq!(
            status == StatusCode::OK,
            o.school,
            "{login_name} school page"
        );
    }
    // Nobody logged in reads nothing personal, but the public files.
    for st in s.students.iter().take(5) {
        let (status, _, _) = send(&f, get(&format!("/s/{}/index.html", st.key), None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _, _) = send(&f, get("/robots.txt", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(checked > 1000);
}

#[tokio::test]
async fn removed_links_and_moved_students_take_effect_on_the_next_request() {
    let f = fixture(40, |_| {}).await;
    let s = &f.s;
    let link = &s.guardian_links[0];
    let g = s
        .guardians
        .iter()
        .find(|g| g.id == link.guardian_id)
        .unwrap();
    let child = s
        .students
        .iter()
        .find(|st| st.id == link.student_id)
        .unwrap();
    add(&f, "parent", "guardian", Some(&g.external_id)).await;
    let token = login(&f, "parent").await;
    let path = format!("/s/{}/index.html", child.key);
    assert_eq!(send(&f, get(&path, Some(&token))).await.0, StatusCode::OK);
    sqlx::query("DELETE FROM guardian_student WHERE guardian_id = $1 AND student_id = $2")
        .bind(g.id)
        .bind(child.id)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        send(&f, get(&path, Some(&token))).await.0,
        StatusCode::NOT_FOUND
    );
    // A class teacher loses a student who moves to another class.
    let class = s
        .classes
        .iter()
        .find(|c| c.id == child.class_id.unwrap())
        .unwrap();
    let teacher = s
        .staff
        .iter()
        .find(|x| Some(x.id) == class.class_teacher_id)
        .unwrap();
    add(&f, "teacher", "teacher", Some(&teacher.external_id)).await;
    let token = login(&f, "teacher").await;
    assert_eq!(send(&f, get(&path, Some(&token))).await.0, StatusCode::OK);
    let other = s
        .classes
        .iter()
        .find(|c| c.id != class.id && c.class_teacher_id != class.class_teacher_id)
        .unwrap();
    // The whole year's time in the class moves: the old class teacher
    // taught the student on no day.
    for sql in [
        "UPDATE student SET class_id = $1 WHERE id = $2",
        "UPDATE class_member SET class_id = $1 WHERE student_id = $2",
    ] {
        sqlx::query(sql)
            .bind(other.id)
            .bind(child.id)
            .execute(f.t.db.pool())
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM group_member WHERE student_id = $1")
        .bind(child.id)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    let teaches_other = s
        .assignments
        .iter()
        .any(|a| a.staff_id == teacher.id && a.class_id == Some(other.id));
    if !teaches_other {
        assert_eq!(
            send(&f, get(&path, Some(&token))).await.0,
            StatusCode::NOT_FOUND
        );
    }
}

/// Every coding of a file is checked against its own hash before a byte of
/// it is sent; when `current` moves, the new release's files are served,
/// none of the old one's.
#[tokio::test]
async fn changed_bytes_are_refused_and_a_new_release_is_served() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    let cur = f.out.path().join("current");
    let (a, b) = (&f.s.students[0].key, &f.s.students[1].key);
    let fetch = |key: &str, coding: &str| {
        let mut req = get(&format!("/s/{key}/index.html"), Some(&token));
        req.headers_mut().insert(
            header::ACCEPT_ENCODING,
            header::HeaderValue::from_str(coding).unwrap(),
        );
        send(&f, req)
    };
    // Pages are stored as `.br` alone: brotli is sent as stored, gzip and
    // the plain page are made from it, and all three are the same page.
    let codings = ["br", "gzip", "identity"];
    let decoded = |coding: &str, body: &[u8]| -> Vec<u8> {
        match coding {
            "br" => tabel::build::release::unbrotli(body, 1 << 30).unwrap(),
            "gzip" => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out)
                    .unwrap();
                out
            }
            _ => body.to_vec(),
        }
    };
    for coding in codings {
        let (status, h, body) = fetch(a, coding).await;
        assert_eq!(status, StatusCode::OK, "{coding}");
        let sent = h.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap());
        assert_eq!(sent, Some(coding).filter(|c| *c != "identity"));
        if coding == "br" {
            let on_disk = std::fs::read(cur.join(format!("s/{a}/index.html.br"))).unwrap();
            assert_eq!(body, on_disk);
        }
        assert_eq!(
            decoded(coding, &body),
            plain(&cur, &format!("s/{a}/index.html")),
            "{coding}"
        );
    }
    // One bit changed in the stored form of another page, its size kept:
    // no coding of it is sent.
    let path = cur.join(format!("s/{b}/index.html.br"));
    let mut bytes = std::fs::read(&path).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let (_, _, missing) = send(
        &f,
        get("/s/aaaaaaaaaaaaaaaaaaaaaaaaaa/index.html", Some(&token)),
    )
    .await;
    for coding in codings {
        let (status, _, body) = fetch(b, coding).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{coding}");
        assert_eq!(body, missing, "{coding}");
    }
    // A new release: the gate follows `current` to it.
    let before = std::fs::read_link(&cur).unwrap();
    let opts = tabel::build::Options {
        schools: Vec::new(),
        date: tabel::gradebook::Date::parse_iso(TODAY).unwrap(),
        full: true,
        jobs: Some(2),
        keep: 3,
        language: tabel::i18n::Language::Ru,
        templates: None,
        progress: false,
        print_weeks: Default::default(),
        check_keys: true,
    };
    tabel::build::run(&f.t.db, f.out.path(), &opts)
        .await
        .unwrap();
    let after = std::fs::read_link(&cur).unwrap();
    assert_ne!(before, after);
    let (status, _, health) = send(&f, get("/healthz", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        String::from_utf8(health).unwrap(),
        format!("ok {}\n", after.display())
    );
    for coding in codings {
        let (status, _, body) = fetch(b, coding).await;
        assert_eq!(status, StatusCode::OK, "{coding}");
        assert_eq!(
            decoded(coding, &body),
            plain(&cur, &format!("s/{b}/index.html")),
            "{coding}"
        );
    }
}

/// With the session cache on (as served), requests that arrive together
/// share one check, a check outlives its time to live by no more than it,
/// and logging out ends the session at once all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_session_cache_is_shared_and_logout_still_ends_the_session_at_once() {
    let f = fixture(20, |s| s.cache_ttl = Duration::from_millis(1500)).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    // Forty requests at once, the first with nothing cached: every one is
    // answered, and the same, after one lookup in the database.
    let before = f.gate.session_lookups();
    let mut all = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let app = tabel::http::app(f.gate.clone());
        let mut req = get("/school/index.html", Some(&token));
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr("192.0.2.7")));
        all.spawn(async move {
            use tower::ServiceExt;
            app.oneshot(req).await.unwrap().status()
        });
    }
    while let Some(status) = all.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!(f.gate.session_lookups() - before, 1);
    // The session ended elsewhere (another gate, the office's command):
    // this gate notices within the time to live.
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM session")
        .fetch_one(f.t.db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM session WHERE id = $1")
        .bind(id)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    let start = std::time::Instant::now();
    while send(&f, get("/school/index.html", Some(&token))).await.0 == StatusCode::OK {
        assert!(start.elapsed() < Duration::from_secs(3), "still served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A logout on this gate takes effect on the very next request.
    let token = login(&f, "office").await;
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::OK
    );
    assert_eq!(post_as(&f, "/logout", &token).await, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn hostile_paths_all_get_the_same_404() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    let key = &f.s.students[0].key;
    // A symlink planted in the live release, pointing outside it.
    let cur = f.out.path().join("current");
    std::os::unix::fs::symlink("/etc/passwd", cur.join(format!("s/{key}/evil.html"))).unwrap();
    std::os::unix::fs::symlink("/etc", cur.join("s/zzzzzzzzzzzzzzzzzzzzzzzzzz")).unwrap();
    let (_, _, reference) = send(
        &f,
        get("/s/aaaaaaaaaaaaaaaaaaaaaaaaaa/index.html", Some(&token)),
    )
    .await;
    let corpus = [
        format!("/s/{key}/../../manifest.json"),
        format!("/s/{key}/..%2f..%2fmanifest.json"),
        format!("/s/{key}/%2e%2e/%2e%2e/manifest.json"),
        format!("/s/{key}/%252e%252e/index.html"),
        format!("/s/{key}/..\\..\\manifest.json"),
        format!("/s/{key}%5c..%5cmanifest.json"),
        "//etc/passwd".to_owned(),
        "/C:/Windows/win.ini".to_owned(),
        "/c%3A/windows".to_owned(),
        format!("/s/{key}/index.html%00"),
        format!("/s/{key}/%ff.html"),
        "/.git/config".to_owned(),
        "/manifest.json".to_owned(),
        "/COMPLETE".to_owned(),
        "/current/manifest.json".to_owned(),
        "/releases/".to_owned(),
        format!("/s/{key}/evil.html"),
        "/s/zzzzzzzzzzzzzzzzzzzzzzzzzz/passwd".to_owned(),
        "/s/zzzzzzzzzzzzzzzzzzzzzzzzzz/index.html".to_owned(),
        format!("/s/{key}/"),
        "/s/".to_owned(),
        "/assets/".to_owned(),
    ];
    for path in &corpus {
        let Ok(req) = Request::get(path.as_str())
            .header(header::HOST, "gate.test")
            .header(header::COOKIE, format!("__Host-tabel={token}"))
            .body(Body::empty())
        else {
            continue; // not even a valid request target
        };
        let (status, _, body) = send(&f, req).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, reference, "{path}: the same body as any other 404");
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.contains("root:") && !text.contains("\"files\""),
            "{path} leaked"
        );
    }
}

#[tokio::test]
async fn sessions_cookies_and_expiry() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    // Cookie attributes, exactly.
    let (_, h, body) = send(&f, get("/login", None)).await;
    let csrf = cookie_value(&set_cookie(&h, "__Host-tabel-csrf").unwrap());
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(&csrf));
    let req = Request::post("/login")
        .header(header::HOST, "gate.test")
        .header(header::ORIGIN, "http://gate.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(
            header::COOKIE,
            format!("__Host-tabel-csrf={csrf}; __Host-tabel=old-token-value"),
        )
        .body(Body::from(format!(
            "login=office&password={}&csrf={csrf}",
            urlencode(PASSWORD)
        )))
        .unwrap();
    let (status, h, _) = send(&f, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h.get(header::LOCATION).unwrap(), "/");
    let set = set_cookie(&h, "__Host-tabel").unwrap();
    let token = cookie_value(&set);
    assert_eq!(
        set,
        format!("__Host-tabel={token}; Path=/; Secure; HttpOnly; SameSite=Lax")
    );
    assert!(token.len() >= 43, "256-bit token");
    // Stored only hashed.
    let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM session")
        .fetch_one(f.t.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, tabel::accounts::session::token_hash(&token));
    // A new token at every login.
    let second = login(&f, "office").await;
    assert_ne!(second, token);
    // Logout ends the session: the old cookie is rejected.
    let (_, _, home) = send(&f, get("/", Some(&token))).await;
    let csrf = csrf_field(&String::from_utf8(home).unwrap());
    let req = Request::post("/logout")
        .header(header::HOST, "gate.test")
        .header(header::ORIGIN, "http://gate.test")
        .header(header::COOKIE, format!("__Host-tabel={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={}", urlencode(&csrf))))
        .unwrap();
    assert_eq!(send(&f, req).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&f, get("/school/index.html", Some(&second))).await.0,
        StatusCode::OK
    );
    // Idle timeout (30 min): a session last used 31 minutes ago has ended.
    let ago =
        |min: i64| tabel::accounts::stamp(chrono::Utc::now() - chrono::Duration::minutes(min));
    sqlx::query("UPDATE session SET last_seen_at = $1")
        .bind(ago(31))
        .execute(f.t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        send(&f, get("/school/index.html", Some(&second))).await.0,
        StatusCode::NOT_FOUND
    );
    // Absolute lifetime (12 h): busy, but logged in 13 hours ago.
    let busy = login(&f, "office").await;
    assert_eq!(
        send(&f, get("/school/index.html", Some(&busy))).await.0,
        StatusCode::OK
    );
    sqlx::query("UPDATE session SET created_at = $1, last_seen_at = $2")
        .bind(ago(13 * 60))
        .bind(ago(1))
        .execute(f.t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        send(&f, get("/school/index.html", Some(&busy))).await.0,
        StatusCode::NOT_FOUND
    );
    // Ended sessions are gone from the table, not just refused.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM session")
        .fetch_one(f.t.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
}

async fn form(
    f: &Fixture,
    path: &str,
    token: &str,
    body: String,
    origin: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::post(path)
        .header(header::HOST, "gate.test")
        .header(header::ORIGIN, origin)
        .header(header::COOKIE, format!("__Host-tabel={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(f, req).await
}

/// Posts an empty form from this site, with the session's CSRF token, as
/// the account page's buttons do.
async fn post_as(f: &Fixture, path: &str, token: &str) -> StatusCode {
    let csrf = csrf_of(f, token).await;
    let body = format!("csrf={}", urlencode(&csrf));
    form(f, path, token, body, "http://gate.test").await.0
}

#[tokio::test]
async fn password_change_and_breach_end_other_sessions() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let a = login(&f, "office").await;
    let b = login(&f, "office").await;
    let csrf = csrf_of(&f, &a).await;
    let new = "a new long password";
    let body = format!(
        "csrf={}&current={}&new={}&repeat={}",
        urlencode(&csrf),
        urlencode(PASSWORD),
        urlencode(new),
        urlencode(new)
    );
    let (status, h, _) = form(&f, "/account/password", &a, body, "http://gate.test").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let renewed = cookie_value(&set_cookie(&h, "__Host-tabel").unwrap());
    assert_eq!(
        send(&f, get("/school/index.html", Some(&b))).await.0,
        StatusCode::NOT_FOUND,
        "other session ended"
    );
    assert_eq!(
        send(&f, get("/school/index.html", Some(&a))).await.0,
        StatusCode::NOT_FOUND,
        "old token ended"
    );
    assert_eq!(
        send(&f, get("/school/index.html", Some(&renewed))).await.0,
        StatusCode::OK
    );
    // A common password is refused with a message.
    let csrf = csrf_of(&f, &renewed).await;
    let body = format!(
        "csrf={}&current={}&new=password1&repeat=password1",
        urlencode(&csrf),
        urlencode(new)
    );
    let (status, _, page) = form(&f, "/account/password", &renewed, body, "http://gate.test").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8(page).unwrap().contains("распространён"));
    // Breach: every session ends, a new password is required, the log entries since are invalid.
    let other = login_from(&f, "office", new, "192.0.2.7").await.unwrap();
    assert_eq!(
        post_as(&f, "/account/breach", &renewed).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        send(&f, get("/school/index.html", Some(&renewed))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&f, get("/school/index.html", Some(&other))).await.0,
        StatusCode::NOT_FOUND
    );
    let (must,): (i64,) =
        sqlx::query_as("SELECT must_change_password FROM account WHERE login = 'office'")
            .fetch_one(f.t.db.pool())
            .await
            .unwrap();
    assert_eq!(must, 1);
    // The office hands out a one-time password; files wait until it is changed.
    let account = accounts::get(&f.t.db, "office").await.unwrap();
    accounts::set_password(&f.t.db, account.id, "one-time from the office", false)
        .await
        .unwrap();
    let after = login_from(&f, "office", "one-time from the office", "192.0.2.7")
        .await
        .unwrap();
    let (status, h, _) = send(&f, get("/school/index.html", Some(&after))).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "files wait until the password is changed"
    );
    assert_eq!(h.get(header::LOCATION).unwrap(), "/account");
}

#[tokio::test]
async fn rate_limits_per_account_and_per_address() {
    let f = fixture(20, |s| {
        s.limits.per_account = 3;
        s.limits.per_address = 5;
    })
    .await;
    add(&f, "office", "admin", None).await;
    for _ in 0..3 {
        assert_eq!(
            login_from(&f, "office", "bad password 1", "192.0.2.20").await,
            Err(StatusCode::UNAUTHORIZED)
        );
    }
    // Now even the right password is refused, with an honest message.
    assert_eq!(
        login_from(&f, "office", PASSWORD, "192.0.2.21").await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    // Per address: one address guessing many logins.
    for i in 0..5 {
        let _ = login_from(&f, &format!("guess{i}"), "bad password 1", "192.0.2.30").await;
    }
    assert_eq!(
        login_from(&f, "someone-else", "whatever pw", "192.0.2.30").await,
        Err(StatusCode::TOO_MANY_REQUESTS)
    );
    // The window slides: old failures stop counting.
    sqlx::query("UPDATE login_failure SET at = '2000-01-01T00:00:00.000000Z'")
        .execute(f.t.db.pool())
        .await
        .unwrap();
    assert!(
        login_from(&f, "office", PASSWORD, "192.0.2.30")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn csrf_and_origin_are_checked_on_every_post() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    let csrf = csrf_of(&f, &token).await;
    let (status, _, _) = form(
        &f,
        "/logout",
        &token,
        "csrf=wrong".into(),
        "http://gate.test",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = form(&f, "/logout", &token, String::new(), "http://gate.test").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = form(
        &f,
        "/logout",
        &token,
        format!("csrf={}", urlencode(&csrf)),
        "https://evil.example",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = form(
        &f,
        "/account/breach",
        &token,
        "csrf=x".into(),
        "http://gate.test",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::OK,
        "still logged in"
    );
    // The login form too: no token, or a foreign origin.
    let (_, h, _) = send(&f, get("/login", None)).await;
    let cookie = cookie_value(&set_cookie(&h, "__Host-tabel-csrf").unwrap());
    for (origin, field) in [
        ("http://gate.test", "nope"),
        ("https://evil.example", cookie.as_str()),
    ] {
        let req = Request::post("/login")
            .header(header::HOST, "gate.test")
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, format!("__Host-tabel-csrf={cookie}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "login=office&password={}&csrf={field}",
                urlencode(PASSWORD)
            )))
            .unwrap();
        assert_eq!(send(&f, req).await.0, StatusCode::FORBIDDEN, "{origin}");
    }
}

#[tokio::test]
async fn security_headers_and_caching_on_every_kind_of_response() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    let st = &f.s.students[0];
    let css = std::fs::read_dir(f.out.path().join("current/assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find_map(|n| n.strip_suffix(".br").map(str::to_owned))
        .unwrap();
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (get("/login", None), StatusCode::OK),
        (
            get(&format!("/s/{}/index.html", st.key), Some(&token)),
            StatusCode::OK,
        ),
        (get(&format!("/assets/{css}"), None), StatusCode::OK),
        (get("/nope", Some(&token)), StatusCode::NOT_FOUND),
        (get("/", None), StatusCode::SEE_OTHER),
        (get("/", Some(&token)), StatusCode::OK),
    ];
    for (req, want) in cases {
        let path = req.uri().to_string();
        let (status, h, _) = send(&f, req).await;
        assert_eq!(status, want, "{path}");
        assert_eq!(
            h.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        assert_eq!(h.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
        if let Some(ct) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
            && ct.starts_with("text/")
        {
            assert!(ct.ends_with("charset=utf-8"), "{path}: {ct}");
        }
    }
    // Personal files: private, never stored; encodings; ETag and 304.
    let path = format!("/s/{}/index.html", st.key);
    let req = Request::get(&path)
        .header(header::COOKIE, format!("__Host-tabel={token}"))
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .unwrap();
    let (status, h, body) = send(&f, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "private, no-store");
    assert_eq!(h.get(header::CONTENT_ENCODING).unwrap(), "br");
    assert!(
        h.get(header::VARY)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Accept-Encoding")
    );
    assert_eq!(
        body,
        std::fs::read(f.out.path().join(format!("current{path}.br"))).unwrap()
    );
    let etag = h.get(header::ETAG).unwrap().clone();
    let req = Request::get(&path)
        .header(header::COOKIE, format!("__Host-tabel={token}"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (_, h, _) = send(&f, req).await;
    assert_eq!(h.get(header::CONTENT_ENCODING).unwrap(), "gzip");
    assert_ne!(
        h.get(header::ETAG).unwrap(),
        &etag,
        "each encoding has its own strong ETag"
    );
    let req = Request::get(&path)
        .header(header::COOKIE, format!("__Host-tabel={token}"))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, etag.clone())
        .body(Body::empty())
        .unwrap();
    let (status, h, body) = send(&f, req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert!(h.contains_key(header::CONTENT_SECURITY_POLICY));
    // What a 200 would carry of ETag, Vary and Cache-Control; no
    // representation metadata (RFC 9110 §15.4.5).
    assert_eq!(h.get(header::ETAG), Some(&etag));
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "private, no-store");
    assert!(h.contains_key(header::VARY));
    assert!(!h.contains_key(header::CONTENT_TYPE));
    assert!(!h.contains_key(header::CONTENT_ENCODING));
    let (_, h, _) = send(&f, get(&format!("/assets/{css}"), None)).await;
    assert_eq!(
        h.get(header::CACHE_CONTROL).unwrap(),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn the_access_log_answers_who_opened_what() {
    let f = fixture(20, |_| {}).await;
    let st = &f.s.students[0];
    let link =
        f.s.guardian_links
            .iter()
            .find(|l| l.student_id == st.id)
            .unwrap();
    let g =
        f.s.guardians
            .iter()
            .find(|g| g.id == link.guardian_id)
            .unwrap();
    add(&f, "parent", "guardian", Some(&g.external_id)).await;
    let token = login(&f, "parent").await;
    let _ = login_from(&f, "parent", "wrong wrong", "192.0.2.44").await;
    send(&f, get(&format!("/s/{}/index.html", st.key), Some(&token))).await;
    send(&f, get(&format!("/s/{}/marks.html", st.key), Some(&token))).await;
    send(&f, get("/school/index.html", Some(&token))).await;
    // The writer stores entries in batches: wait for them.
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = tabel::accounts::audit::query(
            &f.t.db,
            &tabel::accounts::audit::Filter {
                login: Some("parent".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        if rows.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary: Vec<(String, String, Option<String>)> = rows
        .iter()
        .map(|r| (r.action.clone(), r.result.clone(), r.path.clone()))
        .collect();
    assert!(
        summary.contains(&("login".into(), "ok".into(), None)),
        "{summary:?}"
    );
    assert!(
        summary.contains(&("login".into(), "failed".into(), None)),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(
            "file".into(),
            "ok".into(),
            Some(format!("/s/{}/index.html", st.key))
        )),
        "{summary:?}"
    );
    assert!(
        summary.contains(&(
            "file".into(),
            "denied".into(),
            Some("/school/index.html".into())
        )),
        "{summary:?}"
    );
    assert!(rows.iter().all(|r| r.at.ends_with('Z') && r.invalid == 0));
    // "Who opened this student's files."
    let by_path = tabel::accounts::audit::query(
        &f.t.db,
        &tabel::accounts::audit::Filter {
            path: Some(format!("s/{}/", st.key)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        by_path
            .iter()
            .all(|r| r.path.as_deref().unwrap().contains(&st.key))
    );
    assert_eq!(by_path.iter().filter(|r| r.result == "ok").count(), 2);
    // A breach noticed before those requests marks them invalid.
    let account = accounts::get(&f.t.db, "parent").await.unwrap();
    accounts::breach(&f.t.db, account.id, "2000-01-01T00:00:00.000000Z", "cli")
        .await
        .unwrap();
    let rows = tabel::accounts::audit::query(
        &f.t.db,
        &tabel::accounts::audit::Filter {
            login: Some("parent".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        rows.iter()
            .filter(|r| r.action == "file")
            .all(|r| r.invalid == 1)
    );
}

/// The access log's own writer, on each backend: every entry stored, in
/// order, hostile text kept exactly, and nothing lost when the log closes.
#[tokio::test]
async fn the_access_log_stores_every_entry_on_each_backend() {
    use tabel::accounts::audit::{AuditLog, Event, Filter, query};
    for t in TestDb::each().await {
        let (log, writer) = AuditLog::start(&t.db).unwrap();
        let hostile = "o'brien \"; DROP TABLE audit; -- \\ \r\n\u{0}<b>ж😀";
        let n = 5000;
        for i in 0..n {
            let path = format!("/s/{i:06}/index.html");
            log.log(Event {
                account_id: Some(7),
                login: Some(hostile),
                role: Some("guardian"),
                action: "file",
                path: Some(&path),
                result: "ok",
                address: Some("192.0.2.7".parse().unwrap()),
                user_agent: Some(hostile),
            })
            .await;
        }
        log.log(Event {
            action: "login",
            result: "failed",
            ..Event::default()
        })
        .await;
        drop(log);
        tokio::time::timeout(Duration::from_secs(30), writer)
            .await
            .unwrap()
            .unwrap();
        let rows = query(&t.db, &Filter::default()).await.unwrap();
        assert_eq!(rows.len(), n + 1, "{}", t.label);
        // A NUL cannot be stored in PostgreSQL text: it is replaced.
        let hostile = &hostile.replace('\0', "\u{FFFD}");
        for (i, r) in rows[..n].iter().enumerate() {
            assert_eq!(r.path.as_deref(), Some(&*format!("/s/{i:06}/index.html")));
            assert_eq!(r.login.as_ref(), Some(hostile), "{}", t.label);
            assert_eq!(r.user_agent.as_ref(), Some(hostile), "{}", t.label);
            assert_eq!(r.role.as_deref(), Some("guardian"));
            assert_eq!(r.address.as_deref(), Some("192.0.2.7"));
            assert_eq!((r.action.as_str(), r.result.as_str()), ("file", "ok"));
        }
        let last = &rows[n];
        assert_eq!(
            (last.action.as_str(), last.result.as_str()),
            ("login", "failed")
        );
        assert_eq!(
            (last.login.as_deref(), last.address.as_deref()),
            (None, Some("unknown"))
        );
        let times: Vec<&str> = rows.iter().map(|r| r.at.as_str()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{}", t.label);
    }
}

/// The access-log entries of `login` with `action`, once the writer has
/// stored at least `n` of them.
async fn logged(f: &Fixture, login: &str, action: &str, n: usize) -> Vec<(String, Option<String>)> {
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = tabel::accounts::audit::query(
            &f.t.db,
            &tabel::accounts::audit::Filter {
                login: Some(login.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == action)
        .map(|r| (r.result, r.path))
        .collect();
        if rows.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rows
}

/// Regulation 4.4: from the report on, the leaked password neither logs in
/// nor serves as the current password of a change, whether the owner
/// reported it on the account page or the office with `tabel breach`;
/// whoever types it is told the way back, and the office's one-time
/// password is that way.
#[tokio::test]
async fn a_breach_locks_the_leaked_password_out_until_the_office_sets_a_one_time_one() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    add(&f, "office2", "admin", None).await;
    // The owner reports the leak on the account page.
    let token = login(&f, "office").await;
    let csrf = csrf_of(&f, &token).await;
    let (status, h, _) = form(
        &f,
        "/account/breach",
        &token,
        format!("csrf={}", urlencode(&csrf)),
        "http://gate.test",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Whoever has the leaked password gets no session, and is told why.
    let (status, h2, page) = login_with(&f, "office", PASSWORD, "192.0.2.60", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(set_cookie(&h2, "__Host-tabel").is_none());
    assert!(page.contains("скомпрометированным"), "{page}");
    // The owner, sent to the login page, is told how to get back in.
    let to = h
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (_, _, page) = send(&f, get(&to, None)).await;
    assert!(
        String::from_utf8(page)
            .unwrap()
            .contains("одноразовый пароль"),
        "the login page says how to get back in"
    );
    // A wrong password says nothing of the breach.
    let (status, _, page) = login_with(&f, "office", "not the password", "192.0.2.60", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!page.contains("скомпрометированным"));
    // A session that a gate still knew of (started a moment before the
    // report reached it): the leaked password does not change itself.
    let account = accounts::get(&f.t.db, "office").await.unwrap();
    let (stale, _) = accounts::session::create(&f.t.db, account.id, "192.0.2.61", "x")
        .await
        .unwrap();
    let csrf = csrf_of(&f, &stale).await;
    let body = format!(
        "csrf={}&current={}&new=taken+over+now&repeat=taken+over+now",
        urlencode(&csrf),
        urlencode(PASSWORD)
    );
    let (status, _, _) = form(&f, "/account/password", &stale, body, "http://gate.test").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        login_with(&f, "office", "taken over now", "192.0.2.62", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // The office's command does the same to another account.
    assert!(
        login_from(&f, "office2", PASSWORD, "192.0.2.63")
            .await
            .is_ok()
    );
    crate::support::tabel()
        .args(["--database", &f.t.url, "breach", "--login", "office2"])
        .success();
    assert_eq!(
        login_from(&f, "office2", PASSWORD, "192.0.2.63").await,
        Err(StatusCode::FORBIDDEN)
    );
    // The way back: a one-time password from the office, then a new one.
    let o = crate::support::tabel()
        .args([
            "--database",
            &f.t.url,
            "accounts",
            "passwd",
            "--login",
            "office",
        ])
        .success();
    let stdout = String::from_utf8(o.stdout).unwrap();
    let one_time = stdout
        .split("one-time password of office: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (status, h, _) = login_with(&f, "office", &one_time, "192.0.2.64", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h.get(header::LOCATION).unwrap(), "/account");
    assert_eq!(
        login_from(&f, "office", PASSWORD, "192.0.2.64").await,
        Err(StatusCode::UNAUTHORIZED),
        "the leaked password is gone"
    );
    assert!(
        logged(&f, "office", "login", 3)
            .await
            .iter()
            .any(|(r, _)| r == "breached")
    );
}

/// Attempts that arrive together are counted as they arrive: sixty wrong
/// passwords at once for one account from one address check at most the
/// account's limit of passwords; the rest are refused unchecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_wrong_passwords_at_once_check_at_most_the_limit() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let mut pairs = Vec::new();
    for _ in 0..60 {
        pairs.push(login_form(&f).await);
    }
    let mut all = tokio::task::JoinSet::new();
    for (i, pair) in pairs.iter().enumerate() {
        let app = tabel::http::app(f.gate.clone());
        let req = login_request(
            pair,
            "office",
            &format!("wrong password {i}"),
            "192.0.2.50",
            None,
        );
        all.spawn(async move {
            use tower::ServiceExt;
            app.oneshot(req).await.unwrap().status()
        });
    }
    let mut statuses = std::collections::BTreeMap::new();
    while let Some(status) = all.join_next().await {
        *statuses.entry(status.unwrap().as_u16()).or_insert(0) += 1;
    }
    let checked = statuses.get(&401).copied().unwrap_or(0);
    assert!(checked <= 10, "{statuses:?}");
    assert_eq!(
        checked + statuses.get(&429).unwrap_or(&0) + statuses.get(&503).unwrap_or(&0),
        60,
        "{statuses:?}"
    );
    let (failures,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_failure")
        .fetch_one(f.t.db.pool())
        .await
        .unwrap();
    assert!(failures <= 10, "{failures} failures recorded");
    assert_eq!(
        failures, checked as i64,
        "a check refused as busy counts for nothing"
    );
    // The limit, once reached, holds for the right password too.
    if failures == 10 {
        assert_eq!(
            login_from(&f, "office", PASSWORD, "192.0.2.50").await,
            Err(StatusCode::TOO_MANY_REQUESTS)
        );
    }
}

/// A session does not buy unlimited guesses at the current password: they
/// count against the account's login limit.
#[tokio::test]
async fn guesses_at_the_current_password_count_against_the_login_limit() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    let csrf = csrf_of(&f, &token).await;
    let change = |current: &str| {
        format!(
            "csrf={}&current={}&new=a+brand+new+phrase&repeat=a+brand+new+phrase",
            urlencode(&csrf),
            urlencode(current)
        )
    };
    let mut statuses = Vec::new();
    for i in 0..15 {
        let (status, _, _) = form(
            &f,
            "/account/password",
            &token,
            change(&format!("guess number {i}")),
            "http://gate.test",
        )
        .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses[..10], [400; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 5], "{statuses:?}");
    // The right one now waits for the window like a login would.
    let (status, _, page) = form(
        &f,
        "/account/password",
        &token,
        change(PASSWORD),
        "http://gate.test",
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(String::from_utf8(page).unwrap().contains("Слишком много"));
    assert!(
        logged(&f, "office", "password", 16)
            .await
            .iter()
            .any(|(r, _)| r == "limited")
    );
}

/// A one-time password is changed before anything personal is read; but
/// first the file is authorized, so that the redirect tells nothing of
/// other families' files, and it is logged.
#[tokio::test]
async fn the_one_time_password_redirect_comes_after_authorization_and_is_logged() {
    let f = fixture(30, |_| {}).await;
    let link = &f.s.guardian_links[0];
    let g =
        f.s.guardians
            .iter()
            .find(|g| g.id == link.guardian_id)
            .unwrap();
    let own =
        f.s.students
            .iter()
            .find(|s| s.id == link.student_id)
            .unwrap();
    let other =
        f.s.students
            .iter()
            .find(|s| {
                !f.s.guardian_links
                    .iter()
                    .any(|l| l.guardian_id == g.id && l.student_id == s.id)
            })
            .unwrap();
    let (_, one_time) = accounts::add(
        &f.t.db,
        "parent",
        "guardian".parse().unwrap(),
        Some(&g.external_id),
        None,
    )
    .await
    .unwrap();
    let token = login_from(&f, "parent", &one_time, "192.0.2.70")
        .await
        .unwrap();
    let own_path = format!("/s/{}/index.html", own.key);
    let (status, h, _) = send(&f, get(&own_path, Some(&token))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(h.get(header::LOCATION).unwrap(), "/account");
    // Another family's child and a page that does not exist: the same 404.
    let (status, _, theirs) = send(
        &f,
        get(&format!("/s/{}/index.html", other.key), Some(&token)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, missing) = send(
        &f,
        get("/s/aaaaaaaaaaaaaaaaaaaaaaaaaa/index.html", Some(&token)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(theirs, missing);
    let files = logged(&f, "parent", "file", 3).await;
    assert!(
        files.contains(&("must-change".into(), Some(own_path.clone()))),
        "{files:?}"
    );
}

/// A browser that logged in before keeps its owner in when strangers have
/// locked the login (anyone who knows it can), or the school's one address
/// (a whole school behind one NAT); its own failures are limited all the same.
#[tokio::test]
async fn a_known_browser_logs_in_past_the_limits_that_strangers_set() {
    let f = fixture(20, |s| {
        s.limits.per_account = 3;
        s.limits.per_address = 5;
    })
    .await;
    add(&f, "parent", "admin", None).await;
    let (status, h, _) = login_with(&f, "parent", PASSWORD, "192.0.2.80", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = set_cookie(&h, "__Host-tabel-device").expect("a device cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("Secure") && set.contains("Max-Age="),
        "{set}"
    );
    let phone = cookie_value(&set);
    // Someone who knows the login locks it from elsewhere.
    for _ in 0..3 {
        let _ = login_from(&f, "parent", "a guess at it", "198.51.100.9").await;
    }
    assert_eq!(
        login_with(&f, "parent", PASSWORD, "192.0.2.81", None)
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown browser waits"
    );
    let (status, h, _) = login_with(&f, "parent", PASSWORD, "192.0.2.81", Some(&phone)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the phone that logged in before does not"
    );
    // The same browser keeps its cookie value.
    assert_eq!(
        cookie_value(&set_cookie(&h, "__Host-tabel-device").unwrap()),
        phone
    );
    // A school's address full of others' failures.
    for i in 0..5 {
        let _ = login_from(&f, &format!("pupil{i}"), "a guess at it", "203.0.113.5").await;
    }
    assert_eq!(
        login_with(&f, "parent", PASSWORD, "203.0.113.5", Some(&phone))
            .await
            .0,
        StatusCode::SEE_OTHER
    );
    // A made-up cookie is a stranger, and is not adopted.
    let (status, _, _) =
        login_with(&f, "parent", PASSWORD, "203.0.113.5", Some("made-up-value")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The phone's own wrong passwords lock the phone.
    for _ in 0..3 {
        assert_eq!(
            login_with(&f, "parent", "typo typo", "192.0.2.82", Some(&phone))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_with(&f, "parent", PASSWORD, "192.0.2.82", Some(&phone))
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Failed logins are forgotten once they count no more, and what a
/// visitor types as a login is stored only if it could be one.
#[tokio::test]
async fn failed_logins_are_pruned_and_store_no_text_that_is_not_a_login() {
    let f = fixture(20, |_| {}).await;
    add(&f, "office", "admin", None).await;
    sqlx::query(
        "INSERT INTO login_failure (login, address, at) VALUES \
         ('office', '198.51.100.1', '2000-01-01T00:00:00.000000Z'), \
         ('other', '192.0.2.90', '2000-01-01T00:00:00.000000Z')",
    )
    .execute(f.t.db.pool())
    .await
    .unwrap();
    let _ = login_from(&f, "office", "not it at all", "192.0.2.90").await;
    let huge = format!(
        "{}\n2026-11-28T09:00:00Z office ok\u{1b}[2K",
        "x".repeat(16_000)
    );
    assert_eq!(
        login_from(&f, &huge, "not it at all", "192.0.2.91").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT login, address FROM login_failure ORDER BY id")
            .fetch_all(f.t.db.pool())
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            ("office".to_owned(), "192.0.2.90".to_owned()),
            (String::new(), "192.0.2.91".to_owned())
        ]
    );
    // The access log has the attempt, without the text.
    let mut stored = Vec::new();
    for _ in 0..100 {
        stored = tabel::accounts::audit::query(&f.t.db, &Default::default())
            .await
            .unwrap();
        if stored.iter().filter(|r| r.action == "login").count() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed: Vec<Option<&str>> = stored
        .iter()
        .filter(|r| r.action == "login" && r.result == "failed")
        .map(|r| r.login.as_deref())
        .collect();
    assert_eq!(failed, [Some("office"), None]);
}

/// Cookies that name no session cost no memory beyond a cap, and ones that
/// cannot be a session token not even a database lookup.
#[tokio::test]
async fn made_up_session_cookies_are_not_looked_up_or_kept_without_bound() {
    let f = fixture(20, |s| s.cache_ttl = Duration::from_secs(60)).await;
    add(&f, "office", "admin", None).await;
    let token = login(&f, "office").await;
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::OK
    );
    let before = f.gate.session_lookups();
    for bad in ["x", "../../etc", &"A".repeat(42), "x%20y"] {
        assert_eq!(
            send(&f, get("/school/index.html", Some(bad))).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        f.gate.session_lookups(),
        before,
        "implausible tokens are not looked up"
    );
    for _ in 0..5000 {
        let made_up = tabel::accounts::session::random_token(32);
        send(&f, get("/", Some(&made_up))).await;
    }
    assert!(
        f.gate.cached_sessions() <= 4096,
        "{}",
        f.gate.cached_sessions()
    );
    // The live session survived the flood in the cache.
    let before = f.gate.session_lookups();
    assert_eq!(
        send(&f, get("/school/index.html", Some(&token))).await.0,
        StatusCode::OK
    );
    assert_eq!(f.gate.session_lookups(), before);
}

/// The login reservations, known browsers, breaches and confirmation limits
/// on each backend (the gate's tests above run on SQLite): attempts made
/// together are counted one by one on PostgreSQL too.
#[tokio::test]
async fn logins_breaches_and_confirmations_on_each_backend() {
    use tabel::accounts::login::{self, Attempt, Limits, Outcome};
    use tabel::mail::{self, Subscribed};
    for t in TestDb::each().await {
        let db = &t.db;
        let today = tabel::gradebook::Date::parse_iso(TODAY).unwrap();
        let opts = tabel::demo::Options {
            students: 20,
            schools: None,
            seed: 5,
            today,
        };
        tabel::demo::run(db, &opts).await.unwrap();
        let limits = Limits::default();
        let dummy = tabel::accounts::password::hash_async("dummy dummy".into())
            .await
            .unwrap();
        let (office, _) = accounts::add(
            db,
            "office",
            "admin".parse().unwrap(),
            None,
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
        let mut all = tokio::task::JoinSet::new();
        for i in 0..30 {
            let (db, dummy) = (db.clone(), dummy.clone());
            all.spawn(async move {
                let password = format!("wrong password {i}");
                let who = Attempt {
                    login: "office",
                    password: &password,
                    address: "192.0.2.1",
                    device: None,
                };
                login::attempt(&db, &Limits::default(), who, &dummy)
                    .await
                    .unwrap()
            });
        }
        let (mut failed, mut limited) = (0, 0);
        while let Some(outcome) = all.join_next().await {
            match outcome.unwrap() {
                Outcome::Failed => failed += 1,
                Outcome::Limited | Outcome::Busy => limited += 1,
                other => panic!("{}: {other:?}", t.label),
            }
        }
        assert!(
            failed <= 10 && failed + limited == 30,
            "{}: {failed} {limited}",
            t.label
        );
        let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_failure")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(stored, failed, "{}", t.label);
        // A known browser passes the account's limit once it is reached.
        let phone = login::remember_device(db, office.id, None).await.unwrap();
        assert_eq!(
            login::remember_device(db, office.id, Some(&phone))
                .await
                .unwrap(),
            phone
        );
        let right = |device| Attempt {
            login: "office",
            password: PASSWORD,
            address: "192.0.2.2",
            device,
        };
        if failed == 10 {
            assert!(matches!(
                login::attempt(db, &limits, right(None), &dummy)
                    .await
                    .unwrap(),
                Outcome::Limited
            ));
        }
        assert!(matches!(
            login::attempt(db, &limits, right(Some(&phone)), &dummy)
                .await
                .unwrap(),
            Outcome::Accepted(_)
        ));
        // A breach: the right password is refused, until the office's one.
        accounts::breach(db, office.id, &accounts::now(), "cli")
            .await
            .unwrap();
        assert!(matches!(
            login::attempt(db, &limits, right(Some(&phone)), &dummy)
                .await
                .unwrap(),
            Outcome::Limited | Outcome::Breached
        ));
        accounts::set_password(db, office.id, "from the office", false)
            .await
            .unwrap();
        sqlx::query("DELETE FROM login_failure")
            .execute(db.pool())
            .await
            .unwrap();
        let who = Attempt {
            password: "from the office",
            ..right(None)
        };
        assert!(matches!(
            login::attempt(db, &limits, who, &dummy).await.unwrap(),
            Outcome::Accepted(_)
        ));
        login::prune(db, limits.window).await.unwrap();
        // One confirmation per subscription in a few hours.
        let school = tabel::gradebook::list_schools(db).await.unwrap()[0].id;
        let s = tabel::gradebook::load(db, school, tabel::gradebook::YearChoice::On(today))
            .await
            .unwrap();
        let link = &s.guardian_links[0];
        let g = s
            .guardians
            .iter()
            .find(|g| g.id == link.guardian_id)
            .unwrap();
        let (parent, _) = accounts::add(
            db,
            "parent",
            "guardian".parse().unwrap(),
            Some(&g.external_id),
            None,
        )
        .await
        .unwrap();
        let first = mail::subscribe(db, parent.id, link.student_id, "a@example.test")
            .await
            .unwrap();
        assert!(
            matches!(first, Subscribed::Asked(_)),
            "{}: {first:?}",
            t.label
        );
        let again = mail::subscribe(db, parent.id, link.student_id, "b@example.test")
            .await
            .unwrap();
        assert!(
            matches!(again, Subscribed::Recent(m) if m > 170),
            "{}: {again:?}",
            t.label
        );
        assert!(
            !mail::confirm(db, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .await
                .unwrap()
        );
        t.finish().await;
    }
}

/// A mark for `st` in a lesson of their class on `date`, titled `title`.
async fn add_mark(f: &Fixture, st: &tabel::gradebook::Student, date: &str, title: &str) {
    let class =
        f.s.class_members
            .iter()
            .find(|m| m.student_id == st.id)
            .unwrap()
            .class_id;
    let lesson =
        f.s.lessons
            .iter()
            .find(|l| l.class_id == Some(class) && l.date.to_string() == date)
            .unwrap();
    sqlx::query(
        "INSERT INTO mark (school_id, external_id, student_id, subject_id, lesson_id, date, \
         teacher_id, work_kind_id, work_title, value, weight, comment) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, '5', 1.0, NULL)",
    )
    .bind(f.s.school.id)
    .bind(format!("test-{title}"))
    .bind(st.id)
    .bind(lesson.subject_id)
    .bind(lesson.id)
    .bind(date.to_owned())
    .bind(title.to_owned())
    .execute(f.t.db.pool())
    .await
    .unwrap();
}

/// The home page of a guardian says what is new for each child: on the
/// first visit the marks of the last seven days; on the next, the marks
/// since the day of the previous visit, and not one from before it; the
/// homework for the next school day, this week's absences, the latest
/// notes, each linking to its week page; all within 10 KB brotli.
#[tokio::test]
async fn the_home_page_says_what_is_new_since_the_last_visit() {
    let f = fixture(40, |_| {}).await;
    let g =
        f.s.guardians
            .iter()
            .find(|g| {
                f.s.guardian_links
                    .iter()
                    .filter(|l| l.guardian_id == g.id)
                    .count()
                    >= 2
            })
            .unwrap_or(&f.s.guardians[0]);
    add(&f, "news-parent", "guardian", Some(&g.external_id)).await;
    let account = accounts::get(&f.t.db, "news-parent").await.unwrap();
    let child =
        f.s.students
            .iter()
            .find(|st| {
                f.s.guardian_links
                    .iter()
                    .any(|l| l.guardian_id == g.id && l.student_id == st.id)
            })
            .unwrap();
    let home = |token: String| {
        let f = &f;
        async move {
            let (status, _, body) = send(f, get("/", Some(&token))).await;
            assert_eq!(status, StatusCode::OK);
            String::from_utf8(body).unwrap()
        }
    };
    // The first visit: no earlier one, so the last seven days.
    let first = home(login(&f, "news-parent").await).await;
    assert!(first.contains("Оценки за последние 7 дней"), "{first}");
    // Links are escaped as every value is: `/` reads `&#x2f;`.
    let link = |path: String| path.replace('/', "&#x2f;");
    assert!(first.contains(&link(format!("/s/{}/index.html", child.key))));
    assert!(first.contains(&child.name.family_name));
    // Its entries reach the log; then the visit is made a Monday's.
    let mut seen = 0;
    for _ in 0..100 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit WHERE account_id = $1")
            .bind(account.id)
            .fetch_one(f.t.db.pool())
            .await
            .unwrap();
        seen = n;
        if n > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen > 0);
    sqlx::query("UPDATE audit SET at = '2026-11-23T15:00:00.000000Z' WHERE account_id = $1")
        .bind(account.id)
        .execute(f.t.db.pool())
        .await
        .unwrap();
    // A mark entered for the Friday before that visit, one for the
    // Wednesday after it; the next night's build.
    add_mark(&f, child, "2026-11-20", "Проверка до визита").await;
    add_mark(&f, child, "2026-11-25", "Проверка после визита").await;
    let opts = tabel::build::Options {
        schools: Vec::new(),
        date: tabel::gradebook::Date::parse_iso(TODAY).unwrap(),
        full: false,
        jobs: Some(2),
        keep: 3,
        language: tabel::i18n::Language::Ru,
        templates: None,
        progress: false,
        print_weeks: tabel::build::PrintWeeks::None,
        check_keys: true,
    };
    tabel::build::run(&f.t.db, f.out.path(), &opts)
        .await
        .unwrap();
    let next = home(login(&f, "news-parent").await).await;
    assert!(next.contains("Новые оценки с 23 ноября"), "{next}");
    assert!(next.contains("Проверка после визита"), "{next}");
    assert!(!next.contains("Проверка до визита"), "{next}");
    // A day of the running week is on the start page.
    assert!(next.contains(&link(format!("/s/{}/index.html#d2026-11-25", child.key))));
    // The next school day after Friday 27 November is Monday 30 November.
    assert!(
        next.contains("Домашнее задание на 30 ноября, понедельник"),
        "{next}"
    );
    assert!(next.contains("Пропуски на этой неделе"));
    // No script, and small on a weak link.
    assert!(!next.contains("<script"));
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 5, 22);
        std::io::Write::write_all(&mut w, next.as_bytes()).unwrap();
    }
    eprintln!("home page: {} bytes, {} brotli", next.len(), br.len());
    assert!(br.len() <= 10 * 1024, "{} bytes brotli", br.len());
    // The news file is in the release, and never served.
    let token = login(&f, "news-parent").await;
    let (status, _, _) = send(
        &f,
        get(&format!("/s/{}/news.json", child.key), Some(&token)),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        f.out
            .path()
            .join(format!("current/s/{}/news.json.br", child.key))
            .exists()
    );
    f.t.finish().await;
}
