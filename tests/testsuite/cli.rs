//! The `tabel` binary as cron and a shell see it: exit codes and messages.

use std::process::Output;

use crate::support::tabel;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn init_creates_the_default_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let o = tabel().args(["init"]).current_dir(dir.path()).output();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(dir.path().join("tabel.db").exists());
}

#[test]
fn bad_database_url_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args(["--database", "mysql://localhost/x", "init"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("unsupported scheme \"mysql\""), "{e}");
    assert!(e.contains("mysql://localhost/x"), "{e}");
}

#[test]
fn unreachable_server_gives_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 on loopback: nothing listens there.
    let o = tabel()
        .args(["--database", "postgres://u:secret@127.0.0.1:9/db", "init"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("cannot connect to database postgres://u:***@127.0.0.1:9/db"),
        "{e}"
    );
    assert!(e.contains("caused by:"), "the cause chain is printed: {e}");
    assert!(!e.contains("secret"), "the password is not printed: {e}");
}

#[test]
fn unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tabel.toml"),
        "language = \"ru\"\noutptu = \"x\"\n",
    )
    .unwrap();
    let o = tabel().args(["init"]).current_dir(dir.path()).output();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("tabel.toml"), "{e}");
    assert!(e.contains("unknown field `outptu`"), "{e}");
    assert!(
        !dir.path().join("tabel.db").exists(),
        "nothing is done on a bad config"
    );
}

#[test]
fn missing_config_file_is_an_error_when_named() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args(["--config", "nope.toml", "init"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("nope.toml"));
}

#[test]
fn bad_demo_date_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args(["demo", "--date", "28.11.2026"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not a date YYYY-MM-DD"));
}

#[test]
fn small_demo_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args([
            "demo",
            "--students",
            "40",
            "--date",
            "2026-10-01",
            "--no-serve",
        ])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("student"), "{out}");
    assert!(out.contains("40"), "{out}");
}

#[test]
fn accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args([
            "demo",
            "--students",
            "30",
            "--date",
            "2026-10-01",
            "--no-serve",
        ])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("demo-parent") && out.contains("demo-admin"),
        "{out}"
    );
    // A one-time password is printed once.
    let o = tabel()
        .args(["accounts", "add", "--login", "office2", "--role", "admin"])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("one-time password: "));
    let o = tabel()
        .args(["accounts", "add", "--login", "office2", "--role", "admin"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already exists"));
    let o = tabel()
        .args([
            "accounts", "add", "--login", "x", "--role", "guardian", "--person", "nobody",
        ])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    // Provisioning: every guardian without an account, once, into a private file.
    let csv = dir.path().join("letters.csv");
    let o = tabel()
        .args([
            "accounts",
            "provision",
            "--role",
            "guardian",
            "--out",
            csv.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("login,password,person_id,full_name,children")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 20, "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = dir.path().join("again.csv");
    let o = tabel()
        .args([
            "accounts",
            "provision",
            "--role",
            "guardian",
            "--out",
            again.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success());
    assert_eq!(
        std::fs::read_to_string(&again).unwrap().lines().count(),
        1,
        "nobody is provisioned twice"
    );
    let o = tabel()
        .args([
            "accounts",
            "provision",
            "--role",
            "guardian",
            "--out",
            csv.to_str().unwrap(),
        ])
        .current_dir(dir.path())
        .output();
    assert_eq!(
        o.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
    let list = tabel()
        .args(["accounts", "list"])
        .current_dir(dir.path())
        .output();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("office2") && list.contains("one-time"),
        "{list}"
    );
    for cmd in [
        &["accounts", "disable", "--login", "office2"][..],
        &["accounts", "revoke", "--login", "office2"],
        &["accounts", "sessions", "--login", "office2"],
        &[
            "breach",
            "--login",
            "office2",
            "--noticed-at",
            "2026-11-28 09:30",
        ],
        &["audit", "--login", "office2", "--format", "csv"],
    ] {
        let o = tabel().args(cmd).current_dir(dir.path()).output();
        assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
    }
    let o = tabel()
        .args(["breach", "--login", "office2", "--noticed-at", "yesterday"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not a time"));
}

#[test]
fn spreadsheet_cells_never_become_formulas() {
    assert_eq!(
        tabel::text::csv_safe("=HYPERLINK(\"http://x\")"),
        "'=HYPERLINK(\"http://x\")"
    );
    assert_eq!(tabel::text::csv_safe("+7 900"), "'+7 900");
    assert_eq!(tabel::text::csv_safe("Иванова Мария"), "Иванова Мария");
}

/// `tabel audit` prints what visitors typed or sent escaped: a login with
/// a newline cannot print a line that looks like an entry, nor an escape
/// sequence rewrite one on the office's terminal.
#[tokio::test]
async fn audit_output_cannot_forge_or_rewrite_entries() {
    let t = crate::support::TestDb::sqlite().await;
    sqlx::query(
        "INSERT INTO audit (at, login, action, path, result, address, user_agent) \
         VALUES ($1, $2, 'login', $3, 'failed', '192.0.2.1', $4)",
    )
    .bind("2026-11-28T09:00:00.000000Z")
    .bind("x\n2026-11-28T09:00:01.000000Z office               admin     file         ok        /school/index.html")
    .bind("/s/\u{1b}[1A\u{1b}[2K\rforged")
    .bind("\u{1b}]0;title\u{7}")
    .execute(t.db.pool())
    .await
    .unwrap();
    for format in ["table", "csv"] {
        let o = tabel()
            .args(["--database", &t.url, "audit", "--format", format])
            .success();
        let out = String::from_utf8(o.stdout).unwrap();
        assert!(
            !out.contains(['\u{1b}', '\r', '\u{7}']),
            "{format}: {out:?}"
        );
        assert!(!out.contains("\n2026-11-28T09:00:01"), "{format}: {out}");
        assert!(out.contains("x\\n2026-11-28T09:00:01"), "{format}: {out}");
    }
}
