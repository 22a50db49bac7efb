//! A fresh, empty database per test on each backend.
//!
//! SQLite always runs, in a temporary folder. PostgreSQL runs when
//! `TABEL_TEST_PG` names a server URL whose role may create databases (see
//! README); each test gets its own throwaway database, dropped at the end.
//! With `TABEL_REQUIRE_PG=1` (set by `.ci/run`) a missing server is an error
//! rather than a skip, so CI cannot pass without testing PostgreSQL.

use rand::Rng;
use tabel::db::Database;

/// A fresh database for one test.
pub struct TestDb {
    /// URL to pass to `tabel --database`.
    pub url: String,
    /// Connected pool, schema applied.
    pub db: Database,
    /// Holds the SQLite file's folder.
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the admin URL and the database to drop.
    pg: Option<(String, String)>,
    /// Short label for messages: "sqlite" or "postgres".
    pub label: &'static str,
}

impl TestDb {
    /// A new SQLite file.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        TestDb {
            url,
            db,
            _dir: Some(dir),
            pg: None,
            label: "sqlite",
        }
    }

    /// A new PostgreSQL database, or `None` if no server is configured.
    pub async fn postgres() -> Option<TestDb> {
        let admin = match std::env::var("TABEL_TEST_PG") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("TABEL_REQUIRE_PG").as_deref() != Ok("1"),
                    "TABEL_REQUIRE_PG=1 but TABEL_TEST_PG is not set"
                );
                eprintln!(
                    "note: TABEL_TEST_PG is not set; skipping the PostgreSQL half of this test"
                );
                return None;
            }
        };
        let name = format!("tabel_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        let admin_db = Database::connect(&admin)
            .await
            .expect("TABEL_TEST_PG server reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin_db.pool())
            .await
            .unwrap();
        admin_db.close().await;
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        Some(TestDb {
            url,
            db,
            _dir: None,
            pg: Some((admin, name)),
            label: "postgres",
        })
    }

    /// SQLite, and PostgreSQL when configured.
    pub async fn each() -> Vec<TestDb> {
        let mut out = vec![TestDb::sqlite().await];
        out.extend(TestDb::postgres().await);
        out
    }

    /// Closes the pool and drops a PostgreSQL database.
    pub async fn finish(self) {
        self.db.close().await;
        if let Some((admin, name)) = self.pg {
            let admin_db = Database::connect(&admin).await.unwrap();
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            // FORCE may not end an autovacuum worker that happens to be in
            // the database (it runs as no role the test's role may signal);
            // such a worker is done within moments.
            let mut tries = 0;
            while let Err(err) = sqlx::query(&drop).execute(admin_db.pool()).await {
                tries += 1;
                let busy = err
                    .as_database_error()
                    .and_then(|e| e.code())
                    .is_some_and(|c| c == "42501");
                assert!(busy && tries < 100, "cannot drop {name}: {err}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            admin_db.close().await;
        }
    }
}
