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
        let root = tempfile::tempdir().unwrap().keep();
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
