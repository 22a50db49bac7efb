//! A finished demo school year and the archive's minisign keys, made once
//! per test process and shared by the archive tests (`archive`,
//! `signatures`); tests that change the database work on a copy.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::build::day;
use super::tabel;
use tabel::db::Database;

/// The demo year 2026/2027 ends on 30 June 2027.
pub const AFTER: &str = "2027-07-01";

/// A finished demo year (60 students) in a SQLite file, and a key pair.
#[derive(Debug)]
pub struct Year {
    /// The database's URL.
    pub url: String,
    /// `tabel.key` (unencrypted) and `tabel.pub`.
    pub keys: PathBuf,
    /// A folder the tests may write into.
    pub root: PathBuf,
}

pub fn year() -> &'static Year {
    static YEAR: OnceLock<Year> = OnceLock::new();
    YEAR.get_or_init(|| {
        let root = super::files::shared_dir("year");
        let url = format!("sqlite://{}", root.join("demo.db").display());
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = Database::connect(&url).await.unwrap();
            db.migrate().await.unwrap();
            tabel::demo::run(
                &db,
                &tabel::demo::Options {
                    students: 60,
                    schools: None,
                    seed: 5,
                    today: day(AFTER),
                },
            )
            .await
            .unwrap();
            db.close().await;
        });
        let keys = root.join("keys");
        let o = tabel()
            .args([
                "archive",
                "keygen",
                "--out",
                keys.to_str().unwrap(),
                "--unencrypted",
            ])
            .output();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        Year { url, keys, root }
    })
}

/// The Library of Congress's `bagit.py` validates `bag` (fast: no payload
/// hashes with `quick`), and, unless `minisign` is `None`, the minisign tool
/// accepts its signature with the public key `minisign`. A missing tool is
/// a skip, and an error with `TABEL_REQUIRE_TOOLS=1`.
pub fn outside_validators_accept(bag: &std::path::Path, minisign: Option<&std::path::Path>) {
    use std::process::Command;
    let o = Command::new("python3")
        .args(["-m", "bagit", "--validate", "--quiet"])
        .arg(bag)
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if out.contains("No module named bagit") {
        assert!(
            std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "bagit.py is missing (run .ci/run)"
        );
        eprintln!("note: bagit.py is missing; skipping");
    } else {
        assert!(o.status.success(), "bagit.py: {out}");
        assert!(!out.contains("invalid"), "bagit.py: {out}");
    }
    let Some(public) = minisign else { return };
    if let Some(tool) = super::tools::tool("/usr/bin/minisign") {
        let o = Command::new(tool)
            .arg("-Vm")
            .arg(bag.join("tagmanifest-sha512.txt"))
            .arg("-p")
            .arg(public)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "minisign: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
