//! The gate as a real server on loopback: 500 keep-alive connections (wrk),
//! SIGTERM under load losing no access-log entry, a guardian in headless
//! Chromium on a 360×640 screen, a burst of logins against its memory, and
//! slow bodies and a flood of connections against its descriptors.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tabel::accounts::session;

use crate::support::gate::*;
use crate::support::{Running, tool};

/// `tabel serve` of the fixture on a free loopback port; returns the child and its base URL.
fn start(f: &Fixture) -> (Running, String) {
    let (child, url, _) = start_with(f, "", None);
    (child, url)
}

/// `tabel serve` with `config` as its `tabel.toml` and, if given, at most
/// `open_files` open files; returns the child, its base URL and the lines
/// it logs (gathered as they come).
fn start_with(f: &Fixture, config: &str, open_files: Option<u64>) -> (Running, String, Logged) {
    let toml = f.out.path().join("tabel.toml");
    std::fs::write(&toml, config).unwrap();
    let toml = toml.display().to_string();
    serve_logged(&f.t.url, f.out.path(), &["--config", &toml], open_files)
}

/// `VmRSS` and `VmHWM` (the peak) of a process, in MiB.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .unwrap()
            / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One request over a connection of its own: the status and the whole answer.
fn http(host: &str, request: &str) -> std::io::Result<(u16, String)> {
    let mut tcp = TcpStream::connect(host)?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    tcp.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, answer))
}

/// A login form's CSRF pair (cookie, field) from the server at `host`.
fn login_pair(host: &str) -> (String, String) {
    let (status, page) = http(
        host,
        &format!("GET /login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
    .unwrap();
    assert_eq!(status, 200, "{page}");
    let cookie = page
        .split("__Host-tabel-csrf=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, csrf_field(&page))
}

/// Runs wrk; returns (completed requests, its report).
fn wrk(args: &[&str]) -> (u64, String) {
    let o = Command::new("wrk").args(args).output().unwrap();
    let report = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "wrk failed: {report}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let completed = report
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .map(|(n, _)| n.trim().parse::<u64>().unwrap())
        })
        .unwrap_or_else(|| panic!("no request count in: {report}"));
    (completed, report)
}

async fn session_for_office(f: &Fixture) -> String {
    accounts_add(f, "office", "admin").await;
    let account = tabel::accounts::get(&f.t.db, "office").await.unwrap();
    session::create(&f.t.db, account.id, "127.0.0.1", "wrk")
        .await
        .unwrap()
        .0
}

async fn accounts_add(f: &Fixture, login: &str, role: &str) {
    tabel::accounts::add(
        &f.t.db,
        login,
        role.parse().unwrap(),
        None,
        Some(PASSWORD.to_owned()),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_keep_alive_connections_for_ten_seconds_without_an_error() {
    let Some(_) = tool("/usr/bin/wrk") else {
        return;
    };
    let f = fixture(30, |_| {}).await;
    let token = session_for_office(&f).await;
    // wrk's connections all come from one address.
    let (mut child, url, _) = start_with(&f, "[serve]\nmax_connections_per_address = 1000\n", None);
    let key = &f.s.students[0].key;
    let cookie = format!("Cookie: __Host-tabel={token}");
    let (completed, report) = wrk(&[
        "-t2",
        "-c500",
        "-d10s",
        "--timeout",
        "5s",
        "-H",
        &cookie,
        "-H",
        "Accept-Encoding: br, gzip",
        &format!("{url}/s/{key}/index.html"),
    ]);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(completed > 1000, "{report}");
    assert!(!report.contains("Socket errors"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_loses_no_access_log_entry() {
    let Some(_) = tool("/usr/bin/wrk") else {
        return;
    };
    let f = fixture(30, |_| {}).await;
    let token = session_for_office(&f).await;
    let (mut child, url) = start(&f);
    let key = f.s.students[1].key.clone();
    let cookie = format!("Cookie: __Host-tabel={token}");
    let target = format!("{url}/s/{key}/marks.html");
    let load = std::thread::spawn(move || {
        let o = Command::new("wrk")
            .args(["-t2", "-c32", "-d4s", "-H", &cookie, &target])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "the gate exits cleanly on SIGTERM: {status}"
    );
    let report = load.join().unwrap();
    let completed: u64 = report
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .map(|(n, _)| n.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let (logged,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit WHERE action = 'file' AND result = 'ok'")
            .fetch_one(f.t.db.pool())
            .await
            .unwrap();
    assert!(completed > 100, "{report}");
    // Every answered request is in the log; at most the in-flight ones more.
    assert!(
        logged as u64 >= completed,
        "{logged} logged < {completed} answered\n{report}"
    );
    assert!(
        logged as u64 <= completed + 64,
        "{logged} logged vs {completed} answered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guardian_on_a_phone_logs_in_and_reads_the_diary() {
    let Some(node_modules) = tool(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.ci/node/node_modules/playwright-core"
    )) else {
        return;
    };
    let Some(_) = tool("/usr/bin/chromium") else {
        return;
    };
    let _ = node_modules;
    let f = fixture(60, |_| {}).await;
    let accounts = tabel::demo::accounts(&f.t.db).await.unwrap();
    let parent = accounts.iter().find(|a| a.login == "demo-parent").unwrap();
    let (mut child, url) = start(&f);
    // Browsers keep Secure cookies on http://localhost, not on other plain-HTTP hosts.
    let url = url.replace("127.0.0.1", "localhost");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/guardian");
    std::fs::create_dir_all(&artifacts).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/guardian.mjs");
    let o = Command::new("node")
        .arg(&script)
        .args([&url, &parent.login, &parent.password])
        .arg(&artifacts)
        .env(
            "TOOLS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/node"),
        )
        .output()
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("ok"));
    for shot in ["1-login.png", "2-home.png", "3-diary.png", "4-week.png"] {
        assert!(artifacts.join(shot).exists(), "{shot}");
    }
}

/// 150 logins at once: every one is answered (checked, or "busy, try again"
/// at once), and the gate's memory neither climbs by gigabytes nor stays
/// up: checks run on a few threads, each reusing its 19 MiB.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_logins_is_answered_within_bounded_memory() {
    let f = fixture(30, |_| {}).await;
    accounts_add(&f, "office", "admin").await;
    // Limits high enough that every attempt reaches the check.
    let (mut child, url, _) = start_with(
        &f,
        "[serve]\nfailures_per_account = 100000\nfailures_per_address = 100000\n",
        None,
    );
    let host = url.trim_start_matches("http://").to_owned();
    let pid = child.id();
    let pairs: Vec<(String, String)> = (0..150).map(|_| login_pair(&host)).collect();
    let (before, _) = memory_of(pid);
    let go = Arc::new(std::sync::Barrier::new(pairs.len()));
    let burst: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(i, (cookie, field))| {
            let (host, go) = (host.clone(), go.clone());
            std::thread::spawn(move || {
                let body = format!("login=office&password=wrong+password+{i}&csrf={}", urlencode(&field));
                let request = format!(
                    "POST /login HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: close\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nCookie: __Host-tabel-csrf={cookie}\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                go.wait();
                http(&host, &request).map(|(status, _)| status)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for t in burst {
        *statuses.entry(t.join().unwrap().unwrap()).or_insert(0) += 1;
    }
    let (_, peak) = memory_of(pid);
    // What the gate holds once the burst is over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (after, _) = memory_of(pid);
    child.kill().unwrap();
    let _ = child.wait();
    let answered = statuses.get(&401).unwrap_or(&0) + statuses.get(&503).unwrap_or(&0);
    assert_eq!(answered, 150, "{statuses:?}");
    assert!(statuses.get(&401).is_some_and(|n| *n > 0), "{statuses:?}");
    eprintln!(
        "burst of 150 logins: {statuses:?}; RSS {before} MiB before, peak {peak} MiB, {after} MiB after"
    );
    assert!(
        peak < before + 400,
        "peak {peak} MiB from {before} MiB: {statuses:?}"
    );
    assert!(after < before + 200, "{after} MiB after, from {before} MiB");
}

/// A client that announces a form and sends it slowly, or never, is
/// answered 408 and cut off within the body deadline; a flood of idle
/// connections from one address beyond what the process has descriptors
/// for is capped, the surplus closed at once, and the gate still answers
/// another client, with no storm of accept errors in its log.
#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_and_a_flood_of_connections_do_not_starve_the_gate() {
    let Some(_) = tool("/usr/bin/prlimit") else {
        return;
    };
    let f = fixture(30, |_| {}).await;
    // 600 descriptors: 344 for connections, 256 of them per address.
    let (mut child, url, logged) = start_with(&f, "", Some(600));
    let host = url.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 16000\r\n\r\n"
    );
    let slow = |dribble: bool| {
        // Connected before the flood, so that the cap is not full yet.
        let started = Instant::now();
        let mut tcp = TcpStream::connect(&host).unwrap();
        tcp.write_all(head.as_bytes()).unwrap();
        std::thread::spawn(move || {
            tcp.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            while started.elapsed() < Duration::from_secs(40) {
                if dribble {
                    // A byte every half second: never the whole body.
                    if tcp.write_all(b"a").is_err() {
                        break;
                    }
                }
                match tcp.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            (
                String::from_utf8_lossy(&answer).into_owned(),
                started.elapsed(),
            )
        })
    };
    let silent = slow(false);
    let dribbling = slow(true);
    // 700 idle connections from 127.0.0.1, more than the process may open.
    let mut flood = Vec::new();
    for _ in 0..700 {
        match tokio::net::TcpStream::connect(&host).await {
            Ok(tcp) => flood.push(tcp),
            Err(e) => panic!("the kernel refused a connection: {e}"),
        }
    }
    // Another client, from another address, is served.
    let other = async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut tcp = socket.connect(host.parse().unwrap()).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tcp.write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.unwrap();
        answer
    };
    let health = tokio::time::timeout(Duration::from_secs(10), other).await;
    // The surplus was closed by the gate.
    let mut closed = 0;
    for tcp in &mut flood {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(5), tcp.read(&mut byte)).await
        {
            closed += 1;
        }
    }
    drop(flood);
    let (silent, silent_took) = silent.join().unwrap();
    let (dribbled, dribble_took) = dribbling.join().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let log = logged.lock().unwrap().clone();
    let health = health.expect("/healthz answered within 10 s under the flood");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(closed >= 700 - 256, "only {closed} of 700 closed");
    for (answer, took) in [(&silent, silent_took), (&dribbled, dribble_took)] {
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "{answer:?} after {took:?}"
        );
        assert!(took < Duration::from_secs(30), "{took:?}");
    }
    let accept_errors = log.iter().filter(|l| l.contains("cannot accept")).count();
    assert!(accept_errors <= 1, "{accept_errors} accept errors logged");
    let refusals = log
        .iter()
        .filter(|l| l.contains("refused a connection"))
        .count();
    assert!(
        (1..=5).contains(&refusals),
        "{refusals} refusals logged: {log:#?}"
    );
}
