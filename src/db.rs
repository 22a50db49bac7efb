//! The database connection: one pool for SQLite or PostgreSQL, chosen by the
//! URL, and the schema migrations for each backend.
//!
//! All queries go through sqlx's `Any` driver so the same SQL runs on both
//! backends; SQL is written in the dialect both accept (`$1` placeholders,
//! ISO dates as text).

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database server the URL selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// How a transaction that reads before it writes begins, when not with a
    /// plain `BEGIN`: on SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting up to the busy timeout. A deferred transaction
    /// that has read cannot wait for the lock when it first writes, and
    /// fails at once with "database is locked" whenever another connection
    /// writes at the same moment.
    pub fn write_begin(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some("BEGIN IMMEDIATE"),
            Backend::Postgres => None,
        }
    }

    /// Largest number of bind parameters one statement may carry.
    pub fn max_bind_params(self) -> usize {
        match self {
            Backend::Sqlite => 32_766,
            Backend::Postgres => 65_535,
        }
    }
}

/// A connection pool plus the backend it talks to.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    url: Url,
}

/// The URL the pool was opened with; it may hold a password, so it is
/// never printed.
#[derive(Clone)]
struct Url(String);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// The file and the query of an `sqlite:` URL.
fn sqlite_parts(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    Some(rest.split_once('?').unwrap_or((rest, "")))
}

/// The settings every SQLite connection gets. WAL lets the gate and the
/// nightly build read while an import writes; NORMAL is durable at every
/// checkpoint and crash-safe, which WAL makes sufficient.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";

/// Checks a database URL and returns its backend and the URL sqlx should use.
///
/// SQLite files are created when missing (`mode=rwc`), as `tabel init` on a
/// fresh machine expects.
pub fn parse_url(url: &str) -> Result<(Backend, String)> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => {
            let (path, query) = sqlite_parts(url).unwrap_or(("", ""));
            if path.is_empty() {
                bail!("database URL {url:?} names no SQLite file (expected sqlite://PATH)");
            }
            let url = if query.split('&').any(|p| p.starts_with("mode=")) || path == ":memory:" {
                url.to_owned()
            } else if query.is_empty() {
                format!("sqlite://{path}?mode=rwc")
            } else {
                format!("sqlite://{path}?{query}&mode=rwc")
            };
            Ok((Backend::Sqlite, url))
        }
        "postgres" | "postgresql" => {
            let parsed = url::Url::parse(url)
                .with_context(|| format!("database URL {url:?} is not a valid PostgreSQL URL"))?;
            if parsed.host_str().is_none_or(str::is_empty) && !url.contains("host=") {
                bail!("database URL {url:?} names no PostgreSQL host");
            }
            Ok((Backend::Postgres, url.to_owned()))
        }
        "" => bail!(
            "database URL {url:?} has no scheme: expected sqlite://PATH or postgres://USER@HOST/DB"
        ),
        other => bail!(
            "database URL {url:?} uses unsupported scheme {other:?}: expected sqlite://PATH or postgres://USER@HOST/DB"
        ),
    }
}

impl Database {
    /// Connects to the database named by `url` (see [`parse_url`]).
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, url) = parse_url(url)?;
        let options = AnyConnectOptions::from_str(&url)
            .with_context(|| format!("database URL {} is not valid", redact(&url)))?
            // Bulk statements are long by design; logging them would flood the log.
            .disable_statement_logging();
        // One direct attempt first: the pool would retry until its timeout and
        // then report only that, hiding the real cause (refused, bad password).
        tokio::time::timeout(
            Duration::from_secs(15),
            AnyConnection::connect_with(&options),
        )
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 15 s"))
        .and_then(|conn| conn.map_err(anyhow::Error::from))
        .with_context(|| format!("cannot connect to database {}", redact(&url)))?
        .close()
        .await
        .ok();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to database {}", redact(&url)))?;
        Ok(Database {
            pool,
            backend,
            url: Url(url),
        })
    }

    /// Connects to the database named by `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        let db = Database::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Creates or upgrades the schema. Safe to run any number of times.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("cannot apply the schema migrations")?;
        Ok(())
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL to open a connection of one's own with (it may hold a
    /// password: never show it).
    pub fn url(&self) -> &str {
        &self.url.0
    }

    /// The SQLite file, for a connection of one's own outside the pool
    /// (`None` on PostgreSQL and for an in-memory database).
    pub fn sqlite_file(&self) -> Option<&str> {
        let (path, _) = sqlite_parts(&self.url.0)?;
        (path != ":memory:" && !path.is_empty()).then_some(path)
    }

    /// Reads the SQLite file once from start to end on a thread of its
    /// own, so that the reads a whole build makes of it, scattered over
    /// the file, find it in memory rather than each waiting on the disk
    /// (docs/benchmarks.md, "The database read ahead"). Nothing waits
    /// for it and errors are ignored: it is a hint. Skipped for
    /// PostgreSQL, whose server keeps its own cache, and for a file
    /// bigger than half the memory available, which would push out what
    /// it was meant to bring in.
    pub fn read_ahead(&self) {
        let Some(file) = self.sqlite_file().map(std::path::PathBuf::from) else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("sqlite-read-ahead".into())
            .spawn(move || {
                let size = std::fs::metadata(&file).map_or(u64::MAX, |m| m.len());
                if worth_reading_ahead(size, available_memory()) {
                    let started = std::time::Instant::now();
                    let read = read_through(&file);
                    tracing::debug!(?read, took = ?started.elapsed(), "database read ahead");
                }
            });
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "no thread to read the database ahead");
        }
    }

    /// The backend behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that reads before it writes (see [`Backend::write_begin`]).
    pub async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend.write_begin() {
            Some(begin) => self.pool.begin_with(begin).await,
            None => self.pool.begin().await,
        };
        tx.context("cannot start a write transaction")
    }

    /// A read-only transaction that sees one consistent state: on
    /// PostgreSQL `REPEATABLE READ READ ONLY`; on SQLite a read transaction
    /// in WAL mode sees one snapshot of the file.
    pub async fn snapshot_read(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot start a read transaction")?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .context("cannot start a repeatable-read transaction")?;
        }
        Ok(tx)
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether a file of `size` bytes is read ahead with `available` bytes of
/// memory free for the page cache (`None`: unknown, so not).
fn worth_reading_ahead(size: u64, available: Option<u64>) -> bool {
    available.is_some_and(|a| size <= a / 2)
}

/// The memory the kernel counts as available (`MemAvailable` of
/// `/proc/meminfo`), where there is such a file.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Reads `file` to its end in 1 MiB pieces, keeping nothing; the bytes read.
///
/// The descriptor it reads through is never closed ([`kept_open`]): on
/// Linux and every POSIX system, closing *any* descriptor of a file drops
/// every lock the process holds on that file, SQLite's own among them. A
/// process whose SQLite connections lost their locks looks, to another
/// process closing its last connection, as though it were not there: that
/// process checkpoints and deletes the write-ahead log under it, and what
/// the first process writes after that is lost (SQLite's "How To Corrupt
/// An SQLite Database File", 2.2; docs/benchmarks.md, "The database read
/// ahead").
fn read_through(file: &std::path::Path) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let f = kept_open(file)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    loop {
        match f.read_at(&mut buf, at) {
            Ok(0) => return Ok(at),
            Ok(n) => at += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// `path` opened for reading, once per file for the life of the process
/// (see [`read_through`] for why it is not closed): a later read ahead of
/// the same file reuses the descriptor, found by device and inode. Only
/// the descriptor of a file deleted since is let go: nobody can open that
/// file any more, so no lock on it matters to anyone.
fn kept_open(path: &std::path::Path) -> std::io::Result<std::sync::Arc<std::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Arc, Mutex, PoisonError};
    static KEPT: Mutex<Vec<Arc<std::fs::File>>> = Mutex::new(Vec::new());
    let meta = std::fs::metadata(path)?;
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    kept.retain(|f| f.metadata().is_ok_and(|m| m.nlink() > 0));
    let same = |f: &&Arc<std::fs::File>| {
        f.metadata()
            .is_ok_and(|m| (m.dev(), m.ino()) == (meta.dev(), meta.ino()))
    };
    if let Some(f) = kept.iter().find(same) {
        return Ok(Arc::clone(f));
    }
    let f = Arc::new(std::fs::File::open(path)?);
    kept.push(Arc::clone(&f));
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_create_missing_files() {
        let (b, u) = parse_url("sqlite://tabel.db").unwrap();
        assert_eq!(b, Backend::Sqlite);
        assert_eq!(u, "sqlite://tabel.db?mode=rwc");
        let (_, u) = parse_url("sqlite:///var/lib/tabel/t.db?mode=ro").unwrap();
        assert_eq!(u, "sqlite:///var/lib/tabel/t.db?mode=ro");
    }

    #[test]
    fn bad_urls_are_named() {
        for bad in ["mysql://x/y", "tabel.db", "sqlite://", "postgres://"] {
            let e = parse_url(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    /// A transaction that read first can still write while another
    /// connection writes: it holds the lock from the start (SQLite).
    #[tokio::test]
    async fn a_write_transaction_reads_then_writes_beside_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER)")
            .execute(db.pool())
            .await
            .unwrap();
        let insert = |v: i64| sqlx::query("INSERT INTO t (v) VALUES ($1)").bind(v);

        // A deferred transaction (what `Pool::begin` gives) fails here: the
        // other connection's write makes its snapshot stale.
        let mut tx = db.pool().begin().await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        insert(1).execute(db.pool()).await.unwrap();
        let err = insert(2).execute(&mut *tx).await.unwrap_err();
        assert!(err.to_string().contains("locked"), "{err}");
        drop(tx);

        // The write transaction holds the lock: the other writer waits.
        let mut tx = db.write_tx().await.unwrap();
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let other = {
            let pool = db.pool().clone();
            tokio::spawn(async move { insert(3).execute(&pool).await.map(|_| ()) })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        insert(n + 10).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        other.await.unwrap().unwrap();
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT v FROM t ORDER BY rowid")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(rows, [(1,), (11,), (3,)]);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn a_database_is_read_ahead_only_when_half_the_free_memory_holds_it() {
        assert!(worth_reading_ahead(2 << 30, Some(8 << 30)));
        assert!(worth_reading_ahead(4 << 30, Some(8 << 30)));
        assert!(!worth_reading_ahead((4 << 30) + 1, Some(8 << 30)));
        assert!(!worth_reading_ahead(1, None));
        assert!(!worth_reading_ahead(u64::MAX, Some(u64::MAX)));
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(available_memory().is_some_and(|m| m > 0));
        }
    }

    #[test]
    fn reading_ahead_reads_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let len = (3 << 20) + 5;
        std::fs::write(&file, vec![7u8; len]).unwrap();
        assert_eq!(read_through(&file).unwrap(), len as u64);
        assert!(read_through(&dir.path().join("missing.db")).is_err());
    }
}
