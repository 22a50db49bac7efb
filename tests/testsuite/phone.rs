//! Every kind of page on a phone, in Russian and in English, served by a
//! real gate and opened in headless Chromium at 360 and 320 px: no page
//! scrolls sideways, no word or number is broken across lines, axe-core
//! finds no serious or critical violation, the content security policy
//! refuses nothing. The screenshots at 360 px are kept under
//! `target/tmp/artifacts/phone/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use tabel::build;
use tabel::i18n::Language;

use crate::support::build::day;
use crate::support::gate::{PASSWORD, TODAY, fixture, serve};
use crate::support::{Running, tabel, tool};

/// The demo year 2026/2027 is over on this day.
const AFTER: &str = "2027-07-01";
/// A day of the next year, after its start.
const NEXT_YEAR: &str = "2027-09-15";

/// The gates a test started; each ends with the test, however it ends.
struct Gates(Vec<Running>);

/// The page of `pattern` (`s/*/marks.html`) under `dir` with the most
/// bytes (as stored, `.br`), as its key (the `*`).
fn heaviest(dir: &Path, top: &str, file: &str) -> String {
    let file = format!("{file}.br");
    std::fs::read_dir(dir.join(top))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join(&file).exists())
        .max_by_key(|p| std::fs::metadata(p.join(&file)).unwrap().len())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("no {top}/*/{file} in {}", dir.display()))
}

/// A config file setting the interface language to English.
fn english(dir: &Path) -> PathBuf {
    let path = dir.join("en.toml");
    std::fs::write(&path, "language = \"en\"\n").unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_page_reads_on_a_phone() {
    let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/node");
    let (Some(_), Some(_), Some(_)) = (
        tool(&format!("{tools}/node_modules/playwright-core")),
        tool(&format!("{tools}/node_modules/axe-core/axe.min.js")),
        tool("/usr/bin/chromium"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let en_toml = english(dir.path());
    let en = ["--config", en_toml.to_str().unwrap()];
    let mut gates = Gates(Vec::new());

    // A school in the middle of the year, in Russian (the fixture's build)
    // and in English.
    let f = fixture(60, |_| {}).await;
    let out_en = dir.path().join("out-en");
    build::run(
        &f.t.db,
        &out_en,
        &build::Options {
            schools: Vec::new(),
            date: day(TODAY),
            full: true,
            jobs: Some(2),
            keep: 2,
            language: Language::En,
            templates: None,
            progress: false,
            print_weeks: build::PrintWeeks::None,
            check_keys: true,
        },
    )
    .await
    .unwrap();
    let accounts = tabel::demo::accounts(&f.t.db).await.unwrap();
    let account = |login: &str| {
        let a = accounts.iter().find(|a| a.login == login).unwrap();
        json!([a.login, a.password])
    };
    let cur = f.out.path().join("current");
    let student = heaviest(&cur, "s", "marks.html");
    let class = heaviest(&cur, "c", "statement-q1.html");
    let pages = json!([
        { "kind": "login", "account": null, "path": "/login" },
        { "kind": "home", "account": "parent", "path": "/" },
        { "kind": "account", "account": "parent", "path": "/account" },
        { "kind": "index", "account": "office", "path": format!("/s/{student}/index.html") },
        { "kind": "week", "account": "office", "path": format!("/s/{student}/w/2026-W47.html") },
        { "kind": "running-week", "account": "office", "path": format!("/s/{student}/w/2026-W48.html"), "lands": format!("/s/{student}/index.html") },
        { "kind": "marks", "account": "office", "path": format!("/s/{student}/marks.html") },
        { "kind": "class", "account": "office", "path": format!("/c/{class}/index.html") },
        { "kind": "statement", "account": "office", "path": format!("/c/{class}/statement-q1.html") },
        { "kind": "school", "account": "office", "path": "/school/index.html" },
    ]);
    let (child, ru_url) = serve(&f.t.url, f.out.path(), &[]);
    gates.0.push(child);
    let (child, en_url) = serve(&f.t.url, &out_en, &en);
    gates.0.push(child);
    let mid_year = json!({ "parent": account("demo-parent"), "office": account("demo-admin") });

    // A school whose last year is over: the pages of an earlier year.
    let y = dir.path().join("years");
    std::fs::create_dir_all(&y).unwrap();
    let db = format!("sqlite://{}", y.join("y.db").display());
    let run = |args: &[&str]| {
        tabel()
            .current_dir(&y)
            .args(["--database", &db])
            .args(args)
            .success();
    };
    run(&[
        "--output",
        "out",
        "demo",
        "--students",
        "40",
        "--seed",
        "5",
        "--date",
        AFTER,
        "--no-serve",
    ]);
    run(&["year", "start", "2027/2028", "--promote", "--force"]);
    for (out, extra) in [("out", &[][..]), ("out-en", &en[..])] {
        tabel()
            .current_dir(&y)
            .args(extra)
            .args(["--database", &db, "--output", out])
            .args([
                "build",
                "--full",
                "--date",
                NEXT_YEAR,
                "--print-weeks",
                "none",
            ])
            .success();
    }
    tabel()
        .current_dir(&y)
        .args([
            "--database",
            &db,
            "accounts",
            "add",
            "--login",
            "office",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(PASSWORD)
        .success();
    let ycur = y.join("out/current");
    let old = heaviest(&ycur, "s", "marks-2026-2027.html");
    let old_class = heaviest(&ycur, "c", "statement-year.html");
    let year_pages = json!([
        { "kind": "year", "account": "office", "path": format!("/s/{old}/year-2026-2027.html") },
        { "kind": "year-marks", "account": "office", "path": format!("/s/{old}/marks-2026-2027.html") },
        { "kind": "year-statement", "account": "office", "path": format!("/c/{old_class}/statement-year.html") },
        { "kind": "year-school", "account": "office", "path": "/school/year-2026-2027.html" },
    ]);
    let (child, yru_url) = serve(&db, &y.join("out"), &[]);
    gates.0.push(child);
    let (child, yen_url) = serve(&db, &y.join("out-en"), &en);
    gates.0.push(child);
    let office = json!({ "office": ["office", PASSWORD] });

    // Browsers keep Secure cookies on http://localhost, not on other plain-HTTP hosts.
    let local = |u: &str| u.replace("127.0.0.1", "localhost");
    let spec = json!({ "sites": [
        { "lang": "ru", "base": local(&ru_url), "accounts": mid_year, "pages": pages },
        { "lang": "en", "base": local(&en_url), "accounts": mid_year, "pages": pages },
        { "lang": "ru", "base": local(&yru_url), "accounts": office, "pages": year_pages },
        { "lang": "en", "base": local(&yen_url), "accounts": office, "pages": year_pages },
    ]});
    let spec_file = dir.path().join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/phone");
    std::fs::create_dir_all(&artifacts).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/pages.mjs");
    let o = Command::new("node")
        .arg(&script)
        .arg(&spec_file)
        .arg(&artifacts)
        .env("TOOLS_DIR", tools)
        .output()
        .unwrap();
    drop(gates);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("ok: "), "{out}");
    eprintln!("{out}");
    for lang in ["ru", "en"] {
        for kind in [
            "login",
            "home",
            "account",
            "index",
            "week",
            "marks",
            "class",
            "statement",
            "school",
            "year",
            "year-marks",
            "year-statement",
            "year-school",
        ] {
            let shot = artifacts.join(format!("{lang}-{kind}-360.png"));
            assert!(shot.exists(), "{}", shot.display());
        }
    }
    f.t.finish().await;
}
