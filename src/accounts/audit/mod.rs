//! The access log (regulation 1.7 in docs/regulation.md; 152-ФЗ art. 19):
//! every login attempt, file served or denied and account change. A request
//! appends its entry, already encoded, to a shared buffer and goes on: no
//! request waits on the database, and no entry costs an allocation of its
//! own. A writer thread with a database connection of its own stores what
//! has gathered, a batch in one transaction; when the log is closed it
//! stores what is left, then ends.

use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::Notify;

use crate::accounts::Account;
use crate::db::Database;

mod query;
mod record;
mod store;

pub use query::{Filter, Stored, last_seen_before, query};
use record::{encode_body, stamp};
use store::Store;

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
            role: Some(account.role.as_str()),
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

#[cfg(test)]
mod tests {
    use super::record::encode;
    use super::*;

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
