//! The access log (regulation 1.7, 152-ФЗ art. 19): every login attempt,
//! file served or denied and account change. A request appends its entry,
//! already encoded, to a shared buffer and goes on: no request waits on the
//! database, and no entry costs an allocation of its own. A writer thread
//! with a database connection of its own stores what has gathered, a batch
//! in one transaction; when the log is closed it stores what is left, then
//! ends.

use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Timelike};
use serde::Serialize;
use sqlx::FromRow;
use tokio::sync::Notify;

use crate::accounts::Account;
use crate::db::{Backend, Database};

/// One entry of the access log, borrowing what it names from the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Event<'a> {
    pub account_id: Option<i64>,
    pub login: Option<&'a str>,
    pub role: Option<&'a str>,
    pub action: &'static str,
    pub path: Option<&'a str>,
    pub result: &'static str,
    /// The client's address; `None` when it was not known.
    pub address: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// An entry of `account`'s.
    pub fn by(account: &'a Account, action: &'static str, result: &'static str) -> Event<'a> {
        Event {
            account_id: Some(account.id),
            login: Some(&account.login),
            role: Some(&account.role),
            action,
            result,
            ..Event::default()
        }
    }
}

/// Characters kept of a login, a path and a user agent.
const LOGIN_CHARS: usize = 64;
const PATH_CHARS: usize = 300;
const AGENT_CHARS: usize = 300;

/// Bytes of entries waiting to be stored beyond which requests wait for
/// the writer (the database is stalled): some 200,000 entries.
const LIMIT: usize = 32 << 20;
/// How long the writer lets entries gather before storing them: one
/// transaction of thousands of entries costs far less than thousands of
/// small ones, and a sleeping writer is not woken by every request.
const GATHER: Duration = Duration::from_millis(100);
/// How long the writer waits before trying a failed batch again.
const RETRY: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
struct Shared {
    /// Entries not yet stored (see [`encode`]), and whether the log is
    /// closed (every `AuditLog` dropped).
    pending: Mutex<Pending>,
    /// Wakes the writer: entries arrived, or the log was closed.
    arrived: Condvar,
    /// Wakes requests waiting for room.
    room: Notify,
}

#[derive(Debug, Default)]
struct Pending {
    entries: Vec<u8>,
    closed: bool,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // Appending cannot panic halfway; take the buffer even if some
        // thread panicked while holding it, rather than lose the log.
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Closes the log when the last `AuditLog` is dropped.
#[derive(Debug)]
struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.pending().closed = true;
        self.0.arrived.notify_one();
    }
}

/// The appending side of the log.
#[derive(Debug, Clone)]
pub struct AuditLog {
    handle: Arc<Handle>,
}

impl AuditLog {
    /// Opens the writer's own connection and starts it. The returned task
    /// ends when every `AuditLog` clone has been dropped and everything
    /// logged is stored.
    pub fn start(db: &Database) -> Result<(AuditLog, tokio::task::JoinHandle<()>)> {
        let mut store = Store::open(db)?;
        let shared = Arc::new(Shared::default());
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let writer_shared = shared.clone();
        // A thread of its own, not the runtime's: storing a batch blocks,
        // and the writer must be able to finish after the runtime has
        // stopped polling the gate.
        std::thread::Builder::new()
            .name("tabel-audit".into())
            .spawn(move || {
                write_until_closed(&mut store, &writer_shared);
                let _ = done.send(());
            })
            .context("cannot start the access log writer")?;
        let task = tokio::spawn(async move {
            if finished.await.is_err() {
                tracing::error!("the access log writer stopped before storing everything");
            }
        });
        let log = AuditLog {
            handle: Arc::new(Handle(shared)),
        };
        Ok((log, task))
    }

    /// Logs an event now. Waits only when the database has fallen far
    /// behind.
    pub async fn log(&self, event: Event<'_>) {
        let shared = &self.handle.0;
        let (first, full) = BODY.with_borrow_mut(|body| {
            // Everything but the time is encoded before the lock is taken,
            // so the lock is held for a copy: a thread the OS deschedules
            // while holding it stalls every other.
            body.clear();
            encode_body(body, &event);
            let mut pending = shared.pending();
            let first = pending.entries.is_empty();
            // The time is taken under the lock, so entries are stored in
            // the order of their times.
            pending
                .entries
                .extend_from_slice(&stamp(chrono::Utc::now()));
            pending.entries.extend_from_slice(body);
            (first, pending.entries.len() > LIMIT)
        });
        if first {
            shared.arrived.notify_one();
        }
        if full {
            loop {
                let room = shared.room.notified();
                tokio::pin!(room);
                room.as_mut().enable();
                if shared.pending().entries.len() <= LIMIT {
                    break;
                }
                room.await;
            }
        }
    }
}

/// The writer: stores what gathers until the log is closed and nothing is
/// left. A batch that cannot be stored is kept and tried again; meanwhile
/// new entries stay in the buffer, so requests wait once it is full rather
/// than memory growing without end.
fn write_until_closed(store: &mut Store, shared: &Shared) {
    // Entries taken from the buffer and not yet stored.
    let mut batch = Vec::with_capacity(1 << 20);
    loop {
        if batch.is_empty() {
            let closed = {
                let mut pending = shared.pending();
                while pending.entries.is_empty() && !pending.closed {
                    pending = shared
                        .arrived
                        .wait(pending)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                pending.closed
            };
            if !closed {
                std::thread::sleep(GATHER);
            }
            let closed = {
                let mut pending = shared.pending();
                // The two buffers trade places and keep their capacity.
                std::mem::swap(&mut pending.entries, &mut batch);
                pending.closed
            };
            shared.room.notify_waiters();
            if batch.is_empty() {
                if closed {
                    return;
                }
                continue;
            }
        }
        match store.write(&batch) {
            Ok(()) => batch.clear(),
            Err(err) => {
                // Keep the entries and try again: the log must not lose any.
                tracing::error!("cannot write the access log: {err:#}");
                std::thread::sleep(RETRY);
            }
        }
    }
}

/// The first `n` characters of `s`.
fn clip(s: &str, n: usize) -> &str {
    if s.len() <= n {
        // No more bytes than n: no more characters either.
        return s;
    }
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// The nine columns of a stored entry.
const COLUMNS: &str = "at, account_id, login, role, action, path, result, address, user_agent";

thread_local! {
    /// An entry being encoded, before it is appended to the shared buffer.
    static BODY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends an entry: the time (27 bytes), then its body (see [`encode_body`]).
#[cfg(test)]
fn encode(buf: &mut Vec<u8>, at: chrono::DateTime<chrono::Utc>, e: &Event<'_>) {
    buf.extend_from_slice(&stamp(at));
    encode_body(buf, e);
}

/// Appends an entry's body: a flag byte and the account id (8 bytes,
/// little-endian), then seven texts (login, role, action, path, result,
/// address, user agent), each a 4-byte little-endian length (all ones for
/// none) and its bytes.
fn encode_body(buf: &mut Vec<u8>, e: &Event<'_>) {
    buf.push(u8::from(e.account_id.is_some()));
    buf.extend_from_slice(&e.account_id.unwrap_or(0).to_le_bytes());
    let mut text = |s: Option<&[u8]>| match s {
        // PostgreSQL cannot store a NUL in text, and one such entry would
        // hold up every entry after it: it becomes U+FFFD.
        Some(s) if s.contains(&0) => {
            let s = String::from_utf8_lossy(s).replace('\0', "\u{FFFD}");
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        Some(s) => {
            // Every text is clipped far below 4 GiB.
            buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
            buf.extend_from_slice(s);
        }
        None => buf.extend_from_slice(&u32::MAX.to_le_bytes()),
    };
    text(e.login.map(|s| clip(s, LOGIN_CHARS).as_bytes()));
    text(e.role.map(str::as_bytes));
    text(Some(e.action.as_bytes()));
    text(e.path.map(|s| clip(s, PATH_CHARS).as_bytes()));
    text(Some(e.result.as_bytes()));
    let mut address = [0u8; 48];
    let address = match e.address {
        Some(ip) => {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut address[..]);
            let _ = write!(cursor, "{ip}");
            let n = cursor.position() as usize;
            &address[..n]
        }
        None => b"unknown",
    };
    text(Some(address));
    text(e.user_agent.map(|s| clip(s, AGENT_CHARS).as_bytes()));
}

/// A stored entry's columns, read back from the buffer.
#[derive(Debug, Serialize, PartialEq)]
struct Row<'a>(
    &'a str,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// The entries of a buffer [`encode`] wrote.
fn decode(mut buf: &[u8]) -> Result<Vec<Row<'_>>> {
    fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if buf.len() < n {
            bail!("the access log buffer ends inside an entry");
        }
        let (head, tail) = buf.split_at(n);
        *buf = tail;
        Ok(head)
    }
    fn text<'a>(buf: &mut &'a [u8]) -> Result<Option<&'a str>> {
        let len = u32::from_le_bytes(take(buf, 4)?.try_into()?);
        if len == u32::MAX {
            return Ok(None);
        }
        Ok(Some(std::str::from_utf8(take(buf, len as usize)?)?))
    }
    let mut rows = Vec::new();
    while !buf.is_empty() {
        let at = std::str::from_utf8(take(&mut buf, 27)?)?;
        let known = take(&mut buf, 1)?[0] == 1;
        let id = i64::from_le_bytes(take(&mut buf, 8)?.try_into()?);
        rows.push(Row(
            at,
            known.then_some(id),
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
            text(&mut buf)?,
        ));
    }
    Ok(rows)
}

/// A time as [`crate::accounts::stamp`] writes it
/// (`2026-11-28T18:46:00.123456Z`), without the formatting machinery.
fn stamp(t: chrono::DateTime<chrono::Utc>) -> [u8; 27] {
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, t.year().clamp(0, 9999) as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 6, t.nanosecond() % 1_000_000_000 / 1000);
    b
}

/// Entries one SQLite statement inserts at most.
const MAX_ROWS: usize = 256;

/// `INSERT INTO audit … VALUES (?, …), …` for `n` entries; `?` placeholders
/// are bound by position, in order.
fn multi_insert(n: usize) -> String {
    let mut sql = format!("INSERT INTO audit ({COLUMNS}) VALUES ");
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?)");
    }
    sql
}

/// The writer's own connection.
enum Store {
    /// SQLite: a prepared insert, run once per entry in one transaction.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL: the batch travels as one JSON array bound to one
    /// parameter, far cheaper there than thousands of separate binds.
    /// Connected at first need and again after a failure, through a
    /// runtime of the writer thread's own (made there, so that it is also
    /// dropped there, outside any async context).
    Postgres {
        url: String,
        runtime: Option<tokio::runtime::Runtime>,
        conn: Option<sqlx::PgConnection>,
    },
}

impl Store {
    fn open(db: &Database) -> Result<Store> {
        match db.backend() {
            Backend::Sqlite => {
                let Some(file) = db.sqlite_file() else {
                    bail!("the access log needs an SQLite file, not an in-memory database");
                };
                let conn = rusqlite::Connection::open_with_flags(
                    file,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .with_context(|| format!("cannot open {file} for the access log"))?;
                conn.execute_batch(crate::db::SQLITE_PRAGMAS)
                    .with_context(|| format!("cannot set up {file} for the access log"))?;
                Ok(Store::Sqlite(conn))
            }
            Backend::Postgres => Ok(Store::Postgres {
                url: db.url().to_owned(),
                runtime: None,
                conn: None,
            }),
        }
    }

    /// Stores a batch of encoded entries, all or none.
    fn write(&mut self, batch: &[u8]) -> Result<()> {
        let rows = decode(batch)?;
        match self {
            Store::Sqlite(conn) => {
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .context("cannot write the access log")?;
                // Multi-row inserts: one statement's fixed work (cursors,
                // the index) spread over many entries. Chunks are powers of
                // two, so a handful of cached statements serve every batch.
                let mut rest = &rows[..];
                while !rest.is_empty() {
                    let n = rest.len().min(MAX_ROWS);
                    let n = 1 << (usize::BITS - 1 - n.leading_zeros());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    let mut insert = tx.prepare_cached(&multi_insert(n))?;
                    for (i, r) in chunk.iter().enumerate() {
                        let at = 9 * i;
                        insert.raw_bind_parameter(at + 1, r.0)?;
                        insert.raw_bind_parameter(at + 2, r.1)?;
                        insert.raw_bind_parameter(at + 3, r.2)?;
                        insert.raw_bind_parameter(at + 4, r.3)?;
                        insert.raw_bind_parameter(at + 5, r.4)?;
                        insert.raw_bind_parameter(at + 6, r.5)?;
                        insert.raw_bind_parameter(at + 7, r.6)?;
                        insert.raw_bind_parameter(at + 8, r.7)?;
                        insert.raw_bind_parameter(at + 9, r.8)?;
                    }
                    insert
                        .raw_execute()
                        .context("cannot write the access log")?;
                }
                tx.commit().context("cannot write the access log")
            }
            Store::Postgres { url, runtime, conn } => {
                let json = serde_json::to_string(&rows)?;
                if runtime.is_none() {
                    *runtime = Some(
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .context("cannot start the access log writer's runtime")?,
                    );
                }
                let runtime = runtime.as_ref().context("no runtime for the access log")?;
                runtime.block_on(async {
                    use sqlx::Connection;
                    if conn.is_none() {
                        *conn = Some(
                            sqlx::PgConnection::connect(url)
                                .await
                                .context("cannot connect for the access log")?,
                        );
                    }
                    let c = conn.as_mut().context("no connection for the access log")?;
                    let done = sqlx::query(&format!(
                        "INSERT INTO audit ({COLUMNS}) \
                         SELECT e ->> 0, (e ->> 1)::bigint, e ->> 2, e ->> 3, e ->> 4, e ->> 5, e ->> 6, e ->> 7, e ->> 8 \
                         FROM jsonb_array_elements($1::jsonb) AS e"
                    ))
                    .bind(json)
                    .execute(&mut *c)
                    .await;
                    if done.is_err() {
                        // A broken connection is opened anew next time.
                        *conn = None;
                    }
                    done.map(|_| ()).context("cannot write the access log")
                })
            }
        }
    }
}

/// A stored entry, as `tabel audit` shows it.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Stored {
    pub id: i64,
    pub at: String,
    pub login: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub path: Option<String>,
    pub result: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    pub invalid: i64,
}

/// What `tabel audit` asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this login.
    pub login: Option<String>,
    /// From this time (inclusive).
    pub from: Option<String>,
    /// Up to this time (exclusive).
    pub to: Option<String>,
    /// Only paths starting with this.
    pub path: Option<String>,
}

/// Entries matching `filter`, oldest first.
pub async fn query(db: &Database, filter: &Filter) -> Result<Vec<Stored>> {
    let (sql, binds) = query_sql(db, filter).await?;
    let mut q = sqlx::query_as::<_, Stored>(&sql);
    for b in binds {
        q = q.bind(b);
    }
    q.fetch_all(db.pool())
        .await
        .context("cannot read the access log")
}

/// The statement [`query`] runs, and its parameters.
///
/// An account's entries are found through the `(account_id, at)` index,
/// the one the log keeps: an index on the login would cost every stored
/// entry far more. Entries without an account (failed logins, say) carry
/// only the login typed, and are the `NULL` end of the same index.
async fn query_sql(db: &Database, filter: &Filter) -> Result<(String, Vec<String>)> {
    let mut sql = String::from(
        "SELECT id, at, login, role, action, path, result, address, user_agent, invalid FROM audit WHERE 1 = 1",
    );
    let mut binds = Vec::new();
    if let Some(login) = &filter.login {
        let account: Option<(i64,)> = sqlx::query_as("SELECT id FROM account WHERE login = $1")
            .bind(login.clone())
            .fetch_optional(db.pool())
            .await
            .context("cannot read the accounts")?;
        binds.push(login.clone());
        let n = binds.len();
        match account {
            // The id is the database's own integer, not user input.
            Some((id,)) => sql.push_str(&format!(
                " AND (account_id = {id} OR (account_id IS NULL AND login = ${n}))"
            )),
            None => sql.push_str(&format!(" AND login = ${n}")),
        }
    }
    for (cond, value) in [
        ("at >= ", filter.from.clone()),
        ("at < ", filter.to.clone()),
        (
            "path LIKE ",
            filter
                .path
                .as_ref()
                .map(|p| format!("/{}%", p.trim_start_matches('/').replace('%', ""))),
        ),
    ] {
        if let Some(v) = value {
            binds.push(v);
            sql.push_str(&format!(" AND {cond}${}", binds.len()));
        }
    }
    sql.push_str(" ORDER BY at, id");
    Ok((sql, binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_the_rest_of_the_database_writes_them() {
        for t in [
            "2026-11-28T18:46:00.000000Z",
            "2026-01-01T00:00:00.000001Z",
            "1999-12-31T23:59:59.999999Z",
            "2026-06-09T07:05:03.120000Z",
        ] {
            let at = chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .with_timezone(&chrono::Utc);
            assert_eq!(std::str::from_utf8(&stamp(at)).unwrap(), t);
            assert_eq!(crate::accounts::stamp(at), t);
        }
        // Nanoseconds below a microsecond are dropped, as stamp() does.
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 123_456_789).unwrap();
        assert_eq!(
            std::str::from_utf8(&stamp(at)).unwrap(),
            crate::accounts::stamp(at)
        );
    }

    #[test]
    fn entries_come_back_as_they_went_in_clipped() {
        let hostile = "\"'\\\0\r\nSet-Cookie: x=1; <script>é€😀";
        let long_path: String = "/ж".repeat(400);
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 5_000).unwrap();
        let mut buf = Vec::new();
        encode(
            &mut buf,
            at,
            &Event {
                account_id: Some(42),
                login: Some(hostile),
                role: Some("guardian"),
                action: "file",
                path: Some(&long_path),
                result: "ok",
                address: Some("2001:db8::1".parse().unwrap()),
                user_agent: Some(hostile),
            },
        );
        encode(
            &mut buf,
            at,
            &Event {
                action: "login",
                result: "csrf",
                ..Event::default()
            },
        );
        let rows = decode(&buf).unwrap();
        assert_eq!(rows.len(), 2);
        let hostile = &hostile.replace('\0', "\u{FFFD}");
        let r = &rows[0];
        assert_eq!(r.0, crate::accounts::stamp(at));
        assert_eq!(r.1, Some(42));
        assert_eq!(r.2, Some(hostile.as_str()));
        assert_eq!(r.3, Some("guardian"));
        assert_eq!((r.4, r.6), (Some("file"), Some("ok")));
        // 300 characters, cut between characters, not inside one.
        let path = r.5.unwrap();
        assert_eq!(path.chars().count(), PATH_CHARS);
        assert!(long_path.starts_with(path));
        assert_eq!(r.7, Some("2001:db8::1"));
        assert_eq!(r.8, Some(hostile.as_str()));
        assert_eq!(
            rows[1],
            Row(
                r.0,
                None,
                None,
                None,
                Some("login"),
                None,
                Some("csrf"),
                Some("unknown"),
                None
            )
        );
        // A cut buffer is refused, not misread.
        assert!(decode(&buf[..buf.len() - 1]).is_err());
    }

    const AUDIT_TABLE: &str = "CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, \
        account_id INTEGER, login TEXT, role TEXT, action TEXT NOT NULL, path TEXT, \
        result TEXT NOT NULL, address TEXT, user_agent TEXT)";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_wait_when_the_database_falls_far_behind() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        // No table yet: nothing can be stored, so entries pile up.
        let (log, writer) = AuditLog::start(&db).unwrap();
        let event = Event {
            action: "file",
            result: "ok",
            path: Some("/s/abcdefghijklmnopqrstuvwxyz/index.html"),
            ..Event::default()
        };
        let mut one = Vec::new();
        encode(&mut one, chrono::Utc::now(), &event);
        // Enough to fill the buffer twice: once for the batch the writer
        // holds, once for the buffer.
        let n = 2 * LIMIT / one.len() + 100;
        let logger = log.clone();
        let logging = tokio::spawn(async move {
            for _ in 0..n {
                logger.log(event).await;
            }
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!logging.is_finished(), "the log kept taking entries");
        sqlx::query(AUDIT_TABLE).execute(db.pool()).await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), logging)
            .await
            .unwrap()
            .unwrap();
        drop(log);
        writer.await.unwrap();
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM audit")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count as usize, n);
    }

    /// "What did this account open": read through the log's index, not by
    /// reading the whole log, for a login with an account and without.
    #[tokio::test]
    async fn an_accounts_entries_are_read_through_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        crate::accounts::add(&db, "office", "admin", None, Some("office pass 1".into()))
            .await
            .unwrap();
        let plan = |login: &str| {
            let filter = Filter {
                login: Some(login.into()),
                from: Some("2026-01-01T00:00:00.000000Z".into()),
                ..Filter::default()
            };
            let db = db.clone();
            async move {
                let (sql, binds) = query_sql(&db, &filter).await.unwrap();
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(db.pool()).await.unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
        };
        let office = plan("office").await;
        assert!(office.contains("audit_account_at"), "{office}");
        assert!(!office.contains("SCAN audit"), "{office}");
        // A login no account has (someone guessing): only the typed login
        // names its entries, and the log is read through.
        let unknown = plan("no-such-login").await;
        assert!(unknown.contains("SCAN audit"), "{unknown}");
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_stored_is_kept_until_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        // No table yet: every write fails.
        let (log, writer) = AuditLog::start(&db).unwrap();
        for result in ["a", "b", "c"] {
            log.log(Event {
                action: "file",
                result,
                ..Event::default()
            })
            .await;
        }
        tokio::time::sleep(GATHER * 8).await;
        sqlx::query(AUDIT_TABLE).execute(db.pool()).await.unwrap();
        log.log(Event {
            action: "file",
            result: "d",
            ..Event::default()
        })
        .await;
        // Closing the log stores the rest, then the writer ends.
        drop(log);
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .unwrap()
            .unwrap();
        let results: Vec<(String,)> = sqlx::query_as("SELECT result FROM audit ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
        let results: Vec<&str> = results.iter().map(|(r,)| r.as_str()).collect();
        assert_eq!(results, ["a", "b", "c", "d"]);
    }
}
