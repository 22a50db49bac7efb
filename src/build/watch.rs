//! `tabel build --watch`: a build that does not wait for the night. After
//! an import commits, the schools it wrote to are built again (only their
//! changed pages are rendered; the rest is carried) and the new release
//! goes live, published by the same rules as every build: complete, or not
//! at all. A lone import is built at once; the rest of a burst, together
//! after that build.
//!
//! Changes come from the change log (`gradebook::changes`): on PostgreSQL
//! a commit notifies the watcher at once; on SQLite, and as a fallback,
//! the watcher reads the log's latest number a few times a second.

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Options;
use crate::db::{Backend, Database};
use crate::gradebook::{Date, changes};

/// How a watching build waits.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// How often the change log is read when nothing notifies.
    pub poll: Duration,
    /// How long the log must stay quiet before the rest of a burst of
    /// imports is built (the first import after a quiet spell is built at once).
    pub quiet: Duration,
    /// How long a burst may delay the build at most.
    pub most: Duration,
}

impl Default for Watch {
    fn default() -> Watch {
        Watch {
            poll: Duration::from_millis(50),
            quiet: Duration::from_millis(100),
            most: Duration::from_secs(2),
        }
    }
}

/// Waits for changes to come in: a notification on PostgreSQL, else the
/// next poll.
enum Waker {
    Poll(Duration),
    Listen(sqlx::postgres::PgListener, Duration),
}

impl Waker {
    async fn new(db: &Database, poll: Duration) -> Result<Waker> {
        if db.backend() != Backend::Postgres {
            return Ok(Waker::Poll(poll));
        }
        let mut listener = sqlx::postgres::PgListener::connect(db.url())
            .await
            .context("cannot listen for changes")?;
        listener
            .listen(changes::CHANNEL)
            .await
            .context("cannot listen for changes")?;
        // Notifications only wake; the log says what changed, so the poll
        // can be slow.
        Ok(Waker::Listen(listener, poll * 25))
    }

    async fn wait(&mut self) {
        match self {
            Waker::Poll(poll) => tokio::time::sleep(*poll).await,
            Waker::Listen(listener, poll) => {
                if let Ok(Err(err)) = tokio::time::timeout(*poll, listener.recv()).await {
                    tracing::warn!("listening for changes: {err:#}");
                    tokio::time::sleep(*poll).await;
                }
            }
        }
    }
}

/// Builds every school, then each school again as imports change it, until
/// `stop` completes. `opts.date` fixed the day the pages show; without it
/// (`None`) each build takes today, and a new day builds every school. A
/// failed build is logged and leaves the live release as it was; the next
/// change tries again.
pub async fn watch(
    db: &Database,
    output: &Path,
    opts: &Options,
    date: Option<Date>,
    watch: Watch,
    stop: impl Future<Output = ()>,
) -> Result<()> {
    let today = || date.unwrap_or_else(|| Date(chrono::Local::now().date_naive()));
    let mut seen = changes::latest(db).await?;
    let mut day = today();
    build(db, output, opts, day, Vec::new()).await;
    let mut built = Instant::now();
    let mut waker = Waker::new(db, watch.poll).await?;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            () = waker.wait() => {}
        }
        if today() != day {
            // A new day: every school shows it.
            day = today();
            seen = changes::latest(db).await?;
            build(db, output, opts, day, Vec::new()).await;
            built = Instant::now();
            continue;
        }
        let latest = match changes::latest(db).await {
            Ok(n) => n,
            Err(err) => {
                tracing::error!("{err:#}");
                continue;
            }
        };
        if latest <= seen {
            continue;
        }
        // The first import after a quiet spell is built at once: a lone
        // import (a teacher saving marks) waits for nothing. The rest of a
        // burst comes in while that build runs, and is built together after
        // it, once the log is quiet (or the burst has waited long enough):
        // a burst of imports makes two builds at most.
        let started = Instant::now();
        let mut upto = latest;
        let idle = built.elapsed() >= watch.quiet;
        while !idle && started.elapsed() < watch.most {
            tokio::time::sleep(watch.quiet).await;
            match changes::latest(db).await {
                Ok(n) if n > upto => upto = n,
                _ => break,
            }
        }
        let schools = match changes::schools_between(db, seen, upto).await {
            Ok(s) => s,
            Err(err) => {
                tracing::error!("{err:#}");
                continue;
            }
        };
        seen = upto;
        if !schools.is_empty() {
            build(db, output, opts, day, schools).await;
            built = Instant::now();
        }
    }
}

/// One build of `schools` (all when empty) as of `day`; its outcome logged.
async fn build(db: &Database, output: &Path, opts: &Options, day: Date, schools: Vec<String>) {
    let opts = Options {
        date: day,
        schools,
        full: false,
        progress: false,
        ..opts.clone()
    };
    let what = if opts.schools.is_empty() {
        "every school".to_owned()
    } else {
        opts.schools.join(", ")
    };
    match super::run(db, output, &opts).await {
        Ok(summary) => tracing::info!(
            schools = %what,
            rendered = summary.rendered,
            carried = summary.carried,
            seconds = summary.steps.last().map_or(0.0, |(_, d)| d.as_secs_f64()),
            release = %summary.release.display(),
            "built"
        ),
        Err(err) => {
            tracing::error!(schools = %what, "the build failed; the live release stays: {err:#}")
        }
    }
}
