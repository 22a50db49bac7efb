//! The gate as a real server on loopback: 500 keep-alive connections (wrk),
//! SIGTERM under load losing no access-log entry, and a guardian in headless
//! Chromium on a 360×640 screen.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use tabel::accounts::session;

use crate::support::gate::*;
use crate::support::tool;

/// `tabel serve` of the fixture on a free loopback port; returns the child and its base URL.
fn start(f: &Fixture) -> (Child, String) {
    serve(&f.t.url, f.out.path(), &[])
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
    let (mut child, url) = start(&f);
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
