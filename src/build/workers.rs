//! `tabel build --worker`: any number of worker processes, on any machines,
//! over one PostgreSQL database and one bucket, build one release together
//! (ARCHITECTURE.md, "Build workers").
//!
//! - A *run* is one build date into one store (`build_run`). The first
//!   worker creates it, under a table lock, with the schools to build and
//!   the live release every worker carries unchanged files from; it
//!   writes the run's marker in the bucket before anyone sends anything
//!   (`store/s3.rs`). The others join it.
//! - A worker claims a school whose lease is free or has run out
//!   (`FOR UPDATE SKIP LOCKED`), renews the lease from a thread of its own
//!   while it builds (the heartbeat), builds it with the same
//!   [`Run::school`] a single build runs, waits until every object is
//!   stored, and records the school done with its part, in one statement
//!   that checks the claim is still its own. A claim's number is its
//!   token: a worker whose lease ran out and was taken over can no longer
//!   record anything, and its staged school manifest is not the one the
//!   database names.
//! - A worker that dies stops renewing; once its lease has run out another
//!   worker claims the school and builds it from the start (objects are
//!   content-addressed: sending one again changes nothing).
//! - A worker with nothing to claim waits: for a lease to run out, or for
//!   the last school to be recorded. Whoever then takes the run's publish
//!   lease writes the shared files, moves the schools' manifests into
//!   place, writes the release's manifest and the pointer, and prunes. The
//!   release goes live once, after every school is done. Every worker
//!   exits when the run is published.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sqlx::{AnyConnection, Connection};

use super::emit::Emitter;
use super::release::Part;
use super::store::s3::RunState;
use super::store::{ReleaseStore, ReleaseWriter, S3Store};
use super::{Gathered, Options, Run, Summary};
use crate::db::{Backend, Database};
use crate::gradebook::{self, SchoolRef};
use crate::render::html::Templates;
use crate::render::pdf::Typesetter;

/// The lease a worker holds on a school when nothing says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How often a worker holding a lease renews the run's marker in the bucket.
const MARKER_EVERY: Duration = Duration::from_secs(60);

/// One worker process.
#[derive(Debug, Clone)]
pub struct Worker {
    /// Its name in the database and in the bucket: host, process, a
    /// random tail.
    pub name: String,
    /// How long a claim holds without being renewed.
    pub lease: Duration,
}

impl Worker {
    /// This process as a worker holding leases of `lease`.
    pub fn new(lease: Duration) -> Worker {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .unwrap_or_default();
        let host: String = host
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let host = if host.is_empty() { "host".into() } else { host };
        Worker {
            name: format!(
                "{host}.{}.{:04x}",
                std::process::id(),
                rand::random::<u16>()
            ),
            lease,
        }
    }

    /// How often the worker renews a lease it holds.
    fn beat(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(100))
    }

    /// How often a worker with nothing to claim looks again.
    fn poll(&self) -> Duration {
        (self.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(2))
    }
}

/// A run as the database holds it.
#[derive(Debug, Clone)]
struct RunRow {
    id: i64,
    release: String,
    base: Option<String>,
    full: bool,
    schools: i64,
}

/// What a worker did, printed when it exits.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The worker's name.
    pub worker: String,
    /// The run's release, where it is.
    pub release: String,
    /// Who published it.
    pub published_by: String,
    /// The run's summary, if this worker published it.
    pub summary: Option<Summary>,
    /// The schools this worker built and recorded, with the number of
    /// their claim (1: built once).
    pub built: Vec<(String, i64)>,
    /// Pages this worker rendered and carried, in the schools it built.
    pub rendered: usize,
    /// Pages it carried over.
    pub carried: usize,
    /// Objects and bytes it sent to the store.
    pub uploaded: (u64, u64),
    /// The run had been published before this worker came.
    pub already: bool,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(s) = &self.summary {
            write!(f, "{s}")?;
        } else {
            writeln!(f, "release {}", self.release)?;
        }
        if self.already {
            writeln!(
                f,
                "  worker {}: the run was published already (by {}); nothing to do",
                self.worker, self.published_by
            )?;
            return Ok(());
        }
        let schools: Vec<String> = self
            .built
            .iter()
            .map(|(s, claim)| {
                if *claim > 1 {
                    format!("{s} (claim {claim})")
                } else {
                    s.clone()
                }
            })
            .collect();
        writeln!(
            f,
            "  worker {}: built {} school(s) [{}]; {} pages rendered, {} carried over; sent {} objects, {} bytes",
            self.worker,
            self.built.len(),
            schools.join(", "),
            self.rendered,
            self.carried,
            self.uploaded.0,
            self.uploaded.1
        )?;
        writeln!(f, "  published by {}", self.published_by)
    }
}

/// The milliseconds of a lease, for SQL.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs one worker until the run of `opts.date` into `store` is published.
pub async fn work(
    db: &Database,
    store: Arc<S3Store>,
    opts: &Options,
    worker: &Worker,
) -> Result<Report> {
    if db.backend() != Backend::Postgres {
        bail!(
            "build workers need PostgreSQL: they share the schools through its row locks; this database is SQLite (build with `tabel build` alone)"
        );
    }
    let started = Instant::now();
    let leftovers = store.clean_leftovers()?;
    if leftovers > 0 {
        tracing::warn!(leftovers, "removed unfinished releases of earlier builds");
    }
    let mut report = Report {
        worker: worker.name.clone(),
        ..Report::default()
    };
    let Some(run) = join(db, &store, opts).await? else {
        let (release, publisher) = published(db, &store, opts).await?;
        report.release = release;
        report.published_by = publisher;
        report.already = true;
        return Ok(report);
    };
    report.release = format!("{}/releases/{}", store.url(), run.release);
    tracing::info!(worker = %worker.name, release = %run.release, "joined the run of {}", opts.date);
    let base = match &run.base {
        Some(id) => Some(store.release(id)?.ok_or_else(|| {
            anyhow!(
                "release {id}, which run {} carries from, is gone from {}",
                run.release,
                store.location()
            )
        })?),
        None => None,
    };
    let writer = store.join_run(&run.release, base.as_ref(), &worker.name)?;
    let heartbeat = Heartbeat::start(
        db.url().to_owned(),
        worker.clone(),
        (*store).clone(),
        run.release.clone(),
    )?;
    let templates = Templates::new(opts.templates.as_deref())?;
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let (emitter, build) = run_steps(
        (db, opts, &store),
        writer.as_ref(),
        (&templates, &typesetter),
        base.as_ref(),
        &run,
    );
    let turns = Turns {
        db,
        store: &store,
        worker,
        run: &run,
        heartbeat: &heartbeat,
    };
    let result = turns.take(&build, &emitter, &mut report).await;
    drop(emitter);
    let result = match result {
        Ok(Some(publish)) => {
            turns
                .publish(writer, publish, opts, started, &mut report)
                .await
        }
        Ok(None) => writer.flush(),
        Err(err) => {
            writer.abandon();
            Err(err)
        }
    };
    heartbeat.stop();
    result?;
    if report.published_by.is_empty() {
        report.published_by = publisher_of(db, run.id).await?;
    }
    Ok(report)
}

/// The emitter and the build steps of a worker's part of `run`, a school
/// or the publish: both write into `writer` and carry from the run's base.
fn run_steps<'a>(
    (db, opts, store): (&'a Database, &'a Options, &'a S3Store),
    writer: &'a dyn ReleaseWriter,
    (templates, typesetter): (&'a Templates, &'a Typesetter),
    base: Option<&'a super::Base>,
    run: &RunRow,
) -> (Emitter<'a>, Run<'a>) {
    let emitter = Emitter::new(
        writer,
        base.is_some(),
        run.full,
        opts.check_keys,
        templates,
        None,
    );
    let build = Run {
        db,
        opts,
        store,
        writer,
        typesetter,
        live: base,
        live_full: base,
        single: run.schools == 1,
    };
    (emitter, build)
}

/// The run of `opts.date` into `store`: joined, or created if there is
/// none (or the one there lost its marker); `None` if it is published.
async fn join(db: &Database, store: &S3Store, opts: &Options) -> Result<Option<RunRow>> {
    let url = store.url();
    let date = opts.date.to_string();
    let mut tx = db
        .pool()
        .begin()
        .await
        .context("cannot begin a transaction")?;
    // One worker at a time finds or creates the run; the others wait here
    // and join it.
    sqlx::query("LOCK TABLE build_run IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .context("cannot lock the build runs")?;
    let found: Option<(i64, String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT id, release, base, full_build, \
                CASE WHEN published_at IS NULL THEN 0 ELSE 1 END \
         FROM build_run WHERE store = $1 AND build_date = $2",
    )
    .bind(&url)
    .bind(&date)
    .fetch_optional(&mut *tx)
    .await
    .context("cannot read the build runs")?;
    if let Some((id, release, base, full, published)) = found {
        if published == 1 {
            tx.commit().await?;
            return Ok(None);
        }
        match store.run_state(&release)? {
            RunState::Running => {
                let (schools,): (i64,) =
                    sqlx::query_as("SELECT count(*) FROM build_run_school WHERE run_id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                return Ok(Some(RunRow {
                    id,
                    release,
                    base,
                    full: full == 1,
                    schools,
                }));
            }
            RunState::Published => {
                // Its publisher died between the pointer and the record.
                sqlx::query("UPDATE build_run SET published_at = now() WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(None);
            }
            RunState::Lost => {
                tracing::warn!(
                    release = %release,
                    "the run's marker is gone or stale: what it sent may have been collected; the run starts over"
                );
                sqlx::query("DELETE FROM build_run WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    let schools = gradebook::list_schools(db).await?;
    if schools.is_empty() {
        bail!("the database holds no school; run `tabel import` or `tabel demo` first");
    }
    let live = if opts.full { None } else { store.live()? };
    let release = store.begin_run(live.as_ref())?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO build_run (store, build_date, release, base, full_build) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&url)
    .bind(&date)
    .bind(&release)
    .bind(live.as_ref().map(|b| b.id.clone()))
    .bind(i64::from(opts.full))
    .fetch_one(&mut *tx)
    .await
    .context("cannot record the run")?;
    for (position, school) in schools.iter().enumerate() {
        sqlx::query(
            "INSERT INTO build_run_school (run_id, school_id, external_id, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(school.id)
        .bind(&school.external_id)
        .bind(position as i64)
        .execute(&mut *tx)
        .await
        .context("cannot record the run's schools")?;
    }
    tx.commit().await.context("cannot record the run")?;
    tracing::info!(release = %release, schools = schools.len(), "began the run of {date}");
    Ok(Some(RunRow {
        id,
        release,
        base: live.map(|b| b.id),
        full: opts.full,
        schools: schools.len() as i64,
    }))
}

/// The published run of `opts.date`: its release and its publisher.
async fn published(db: &Database, store: &S3Store, opts: &Options) -> Result<(String, String)> {
    let (release, publisher): (String, Option<String>) = sqlx::query_as(
        "SELECT release, publisher FROM build_run WHERE store = $1 AND build_date = $2",
    )
    .bind(store.url())
    .bind(opts.date.to_string())
    .fetch_one(db.pool())
    .await
    .context("cannot read the build run")?;
    Ok((
        format!("{}/releases/{release}", store.url()),
        publisher.unwrap_or_default(),
    ))
}

async fn publisher_of(db: &Database, run: i64) -> Result<String> {
    let (p,): (Option<String>,) = sqlx::query_as("SELECT publisher FROM build_run WHERE id = $1")
        .bind(run)
        .fetch_one(db.pool())
        .await?;
    Ok(p.unwrap_or_default())
}

/// A school claimed: the claim's number is its token.
#[derive(Debug, Clone)]
struct Claim {
    school: SchoolRef,
    number: i64,
}

/// The publish lease taken, and what the schools recorded.
struct Publish {
    claim: i64,
    gathered: Gathered,
    /// (school, worker that built it) for each school, to move its staged manifest.
    staged: Vec<(Part, String)>,
    /// Totals of the schools' builds: rendered, carried, typeset, bytes, objects, object bytes.
    totals: [u64; 6],
}

/// A worker's turns at one run.
struct Turns<'a> {
    db: &'a Database,
    store: &'a S3Store,
    worker: &'a Worker,
    run: &'a RunRow,
    heartbeat: &'a Heartbeat,
}

impl Turns<'_> {
    /// Claims and builds schools until none is left; then either the
    /// publish lease (`Some`) or the run published by another (`None`).
    async fn take(
        &self,
        build: &Run<'_>,
        emitter: &Emitter<'_>,
        report: &mut Report,
    ) -> Result<Option<Publish>> {
        let pool = super::worker_pool(build.opts.jobs)?;
        let css = super::stylesheet_path();
        let schools = gradebook::list_schools(self.db).await?;
        loop {
            if let Some(err) = self.heartbeat.error() {
                bail!("{err}");
            }
            if let Some(claim) = self.claim(&schools).await? {
                self.heartbeat.hold(Some(Hold::School {
                    run: self.run.id,
                    school: claim.school.id,
                    claim: claim.number,
                }));
                let built = self
                    .build_school(build, emitter, &pool, &claim, &css, report)
                    .await;
                self.heartbeat.hold(None);
                if let Err(err) = built {
                    self.release(&claim).await;
                    return Err(
                        err.context(format!("cannot build school {}", claim.school.external_id))
                    );
                }
                continue;
            }
            let (total, done, published) = self.progress().await?;
            if published {
                return Ok(None);
            }
            if done == total
                && let Some(publish) = self.publish_lease().await?
            {
                return Ok(Some(publish));
            }
            tokio::time::sleep(self.worker.poll()).await;
        }
    }

    /// Claims the first school not done whose lease is free or has run out.
    async fn claim(&self, schools: &[SchoolRef]) -> Result<Option<Claim>> {
        let row: Option<(i64, String, i64)> = sqlx::query_as(
            "UPDATE build_run_school \
             SET worker = $2, lease_until = now() + $3 * interval '1 millisecond', \
                 claims = claims + 1 \
             WHERE run_id = $1 AND school_id = ( \
                 SELECT school_id FROM build_run_school \
                 WHERE run_id = $1 AND done_at IS NULL \
                   AND (lease_until IS NULL OR lease_until < now()) \
                 ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING school_id, external_id, claims",
        )
        .bind(self.run.id)
        .bind(&self.worker.name)
        .bind(millis(self.worker.lease))
        .fetch_optional(self.db.pool())
        .await
        .context("cannot claim a school")?;
        let Some((id, external_id, number)) = row else {
            return Ok(None);
        };
        let school = schools
            .iter()
            .find(|s| s.id == id)
            .cloned()
            .ok_or_else(|| {
                anyhow!("school {external_id} of the run is no longer in the database")
            })?;
        tracing::info!(
            worker = %self.worker.name,
            school = %external_id,
            claim = number,
            "claimed school {external_id}"
        );
        // The run's marker is renewed before anything more is sent.
        self.store.renew_run(&self.run.release)?;
        Ok(Some(Claim { school, number }))
    }

    /// Builds a claimed school into the store (objects and its staged
    /// manifest), waits until all of it is stored, and records it done if
    /// the claim is still this worker's.
    async fn build_school(
        &self,
        build: &Run<'_>,
        emitter: &Emitter<'_>,
        pool: &rayon::ThreadPool,
        claim: &Claim,
        css: &str,
        report: &mut Report,
    ) -> Result<()> {
        let before = emitter.summary()?;
        let sent_before = build.writer.uploaded().unwrap_or_default();
        let mut gathered = Gathered::default();
        let loaded = super::load_school(build.db, &claim.school, build.opts.date).await?;
        let mut overlap = super::Overlap::default();
        build
            .school(
                emitter,
                pool,
                &claim.school,
                loaded,
                css,
                &mut gathered,
                (&mut overlap, None),
            )
            .await?;
        overlap.write_pending(build.writer, emitter, &mut gathered)?;
        // Every object stored before the school counts as done.
        build.writer.flush()?;
        let after = emitter.summary()?;
        let sent = build.writer.uploaded().unwrap_or_default();
        let part = gathered
            .parts
            .pop()
            .ok_or_else(|| anyhow!("school {} wrote no manifest", claim.school.external_id))?;
        let counts = [
            after.rendered - before.rendered,
            after.carried - before.carried,
            after.typeset - before.typeset,
        ];
        let recorded = sqlx::query(
            "UPDATE build_run_school \
             SET done_at = now(), lease_until = NULL, built_by = $3, part = $5, snapshots = $6, \
                 rendered = $7, carried = $8, typeset = $9, bytes = $10, objects = $11, object_bytes = $12 \
             WHERE run_id = $1 AND school_id = $2 AND worker = $3 AND claims = $4 AND done_at IS NULL",
        )
        .bind(self.run.id)
        .bind(claim.school.id)
        .bind(&self.worker.name)
        .bind(claim.number)
        .bind(serde_json::to_string(&part)?)
        .bind(serde_json::to_string(&gathered.snapshots)?)
        .bind(counts[0] as i64)
        .bind(counts[1] as i64)
        .bind(counts[2] as i64)
        .bind((after.bytes - before.bytes) as i64)
        .bind((sent.0 - sent_before.0) as i64)
        .bind((sent.1 - sent_before.1) as i64)
        .execute(self.db.pool())
        .await
        .context("cannot record a school done")?
        .rows_affected();
        if recorded == 1 {
            tracing::info!(
                worker = %self.worker.name,
                school = %claim.school.external_id,
                "built school {}",
                claim.school.external_id
            );
            report
                .built
                .push((claim.school.external_id.clone(), claim.number));
            report.rendered += counts[0];
            report.carried += counts[1];
        } else {
            tracing::warn!(
                worker = %self.worker.name,
                school = %claim.school.external_id,
                "lost the lease on school {} to another worker: its build stands, this one is dropped",
                claim.school.external_id
            );
        }
        report.uploaded = sent;
        Ok(())
    }

    /// Gives a claim up at once (the build failed), for another worker.
    async fn release(&self, claim: &Claim) {
        let _ = sqlx::query(
            "UPDATE build_run_school SET lease_until = NULL \
             WHERE run_id = $1 AND school_id = $2 AND worker = $3 AND claims = $4 AND done_at IS NULL",
        )
        .bind(self.run.id)
        .bind(claim.school.id)
        .bind(&self.worker.name)
        .bind(claim.number)
        .execute(self.db.pool())
        .await;
    }

    /// Schools in the run, schools done, and whether it is published.
    async fn progress(&self) -> Result<(i64, i64, bool)> {
        let (total, done, published): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*), count(s.done_at), \
                    (SELECT CASE WHEN published_at IS NULL THEN 0 ELSE 1 END FROM build_run WHERE id = $1) \
             FROM build_run_school s WHERE s.run_id = $1",
        )
        .bind(self.run.id)
        .fetch_one(self.db.pool())
        .await
        .context("cannot read the run's progress")?;
        Ok((total, done, published == 1))
    }

    /// Takes the publish lease once every school is done, with what the
    /// schools recorded; `None` if another worker holds it.
    async fn publish_lease(&self) -> Result<Option<Publish>> {
        let taken: Option<(i64,)> = sqlx::query_as(
            "UPDATE build_run \
             SET publisher = $2, publish_until = now() + $3 * interval '1 millisecond', \
                 publish_claims = publish_claims + 1 \
             WHERE id = $1 AND published_at IS NULL \
               AND (publish_until IS NULL OR publish_until < now()) \
               AND NOT EXISTS (SELECT 1 FROM build_run_school WHERE run_id = $1 AND done_at IS NULL) \
             RETURNING publish_claims",
        )
        .bind(self.run.id)
        .bind(&self.worker.name)
        .bind(millis(self.worker.lease))
        .fetch_optional(self.db.pool())
        .await
        .context("cannot take the publish lease")?;
        let Some((claim,)) = taken else {
            return Ok(None);
        };
        self.heartbeat.hold(Some(Hold::Publish {
            run: self.run.id,
            claim,
        }));
        tracing::info!(worker = %self.worker.name, "every school is done: publishing");
        #[allow(clippy::type_complexity)]
        let rows: Vec<(
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        )> = sqlx::query_as(
            "SELECT external_id, part, snapshots, built_by, rendered, carried, typeset, bytes, \
                        objects, object_bytes \
                 FROM build_run_school WHERE run_id = $1 ORDER BY position",
        )
        .bind(self.run.id)
        .fetch_all(self.db.pool())
        .await
        .context("cannot read the run's schools")?;
        let mut publish = Publish {
            claim,
            gathered: Gathered::default(),
            staged: Vec::new(),
            totals: [0; 6],
        };
        for (school, part, snapshots, built_by, r, c, t, b, o, ob) in rows {
            let (Some(part), Some(snapshots), Some(built_by)) = (part, snapshots, built_by) else {
                bail!("school {school} is recorded done without its manifest");
            };
            let part: Part = serde_json::from_str(&part)
                .with_context(|| format!("the part of school {school} in the database"))?;
            let snapshots: Vec<String> = serde_json::from_str(&snapshots)
                .with_context(|| format!("the snapshots of school {school} in the database"))?;
            publish.gathered.parts.push(part.clone());
            publish.gathered.snapshots.extend(snapshots);
            publish.staged.push((part, built_by));
            for (sum, n) in publish.totals.iter_mut().zip([r, c, t, b, o, ob]) {
                *sum += n.max(0) as u64;
            }
        }
        Ok(Some(publish))
    }

    /// Publishes the run: the shared files, the schools' manifests moved
    /// into place, the release's manifest, the pointer; then prunes.
    async fn publish(
        &self,
        writer: Box<dyn ReleaseWriter>,
        mut publish: Publish,
        opts: &Options,
        started: Instant,
        report: &mut Report,
    ) -> Result<()> {
        let t = Instant::now();
        let run = self.run;
        if self.store.run_state(&run.release)? == RunState::Published {
            // An earlier publisher died after the pointer: record it.
            self.published(publish.claim).await?;
            return Ok(());
        }
        let templates = Templates::new(opts.templates.as_deref())?;
        let typesetter = Typesetter::new(opts.templates.as_deref())?;
        let base = match &run.base {
            Some(id) => self.store.release(id)?,
            None => None,
        };
        let sent_before = writer.uploaded().unwrap_or_default();
        let (mut summary, manifest) = {
            let (emitter, build) = run_steps(
                (self.db, opts, self.store),
                writer.as_ref(),
                (&templates, &typesetter),
                base.as_ref(),
                run,
            );
            let css = build.assets(&emitter)?;
            publish.gathered.shared = emitter.take_entries()?;
            build.public_pages(&emitter, &css)?;
            publish.gathered.shared.extend(emitter.take_entries()?);
            let gathered = std::mem::take(&mut publish.gathered);
            build.finish(&emitter, gathered)?
        };
        for (part, worker) in &publish.staged {
            self.store
                .place_part(&run.release, part, worker)
                .with_context(|| format!("cannot place the manifest of school {}", part.school))?;
        }
        writer.flush()?;
        let sent = writer.uploaded().unwrap_or_default();
        let [r, c, ty, b, o, ob] = publish.totals;
        summary.rendered += r as usize;
        summary.carried += c as usize;
        summary.typeset += ty as usize;
        summary.bytes += b;
        summary.uploaded = Some((o + sent.0 - sent_before.0, ob + sent.1 - sent_before.1));
        summary.documents.clear();
        summary.rendered_paths.clear();
        let release = writer
            .publish(&manifest)
            .with_context(|| format!("cannot publish into {}", self.store.location()))?;
        self.published(publish.claim).await?;
        summary.release = release;
        summary.pruned = self.store.prune(opts.keep).unwrap_or_else(|err| {
            tracing::warn!("the new release is live, but removing old ones failed: {err:#}");
            Vec::new()
        });
        summary.steps = vec![
            ("publish", t.elapsed()),
            ("total (this worker)", started.elapsed()),
        ];
        report.published_by = self.worker.name.clone();
        report.uploaded = (
            report.uploaded.0 + sent.0 - sent_before.0,
            report.uploaded.1 + sent.1 - sent_before.1,
        );
        report.summary = Some(summary);
        Ok(())
    }

    /// Records the run published (the pointer is written).
    async fn published(&self, claim: i64) -> Result<()> {
        sqlx::query(
            "UPDATE build_run SET published_at = now(), publish_until = NULL \
             WHERE id = $1 AND publisher = $2 AND publish_claims = $3",
        )
        .bind(self.run.id)
        .bind(&self.worker.name)
        .bind(claim)
        .execute(self.db.pool())
        .await
        .context("the release is live, but cannot record the run published")?;
        self.heartbeat.hold(None);
        Ok(())
    }
}

/// What a worker holds and the heartbeat renews.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hold {
    School { run: i64, school: i64, claim: i64 },
    Publish { run: i64, claim: i64 },
}

#[derive(Debug, Default)]
struct BeatState {
    hold: Option<Hold>,
    stop: bool,
    /// Renewing the run's marker failed: the run must not go on.
    error: Option<String>,
}

/// A thread of its own, with a database connection of its own, renewing
/// the lease the worker holds (every third of the lease) and the run's
/// marker in the bucket (every minute) while the worker's threads render:
/// a long school never lets its lease run out while its worker lives.
#[derive(Debug)]
struct Heartbeat {
    shared: Arc<(Mutex<BeatState>, Condvar)>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Heartbeat {
    fn start(url: String, worker: Worker, store: S3Store, release: String) -> Result<Heartbeat> {
        let shared = Arc::new((Mutex::new(BeatState::default()), Condvar::new()));
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("tabel-heartbeat".into())
            .spawn(move || beat(&url, &worker, &store, &release, &theirs))
            .context("cannot start the heartbeat thread")?;
        Ok(Heartbeat {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn hold(&self, hold: Option<Hold>) {
        if let Ok(mut st) = self.shared.0.lock() {
            st.hold = hold;
        }
    }

    fn error(&self) -> Option<String> {
        self.shared.0.lock().ok().and_then(|st| st.error.clone())
    }

    fn stop(&self) {
        if let Ok(mut st) = self.shared.0.lock() {
            st.stop = true;
            st.hold = None;
        }
        self.shared.1.notify_all();
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The heartbeat's loop.
fn beat(
    url: &str,
    worker: &Worker,
    store: &S3Store,
    release: &str,
    shared: &(Mutex<BeatState>, Condvar),
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("cannot start the heartbeat's runtime");
        return;
    };
    let mut conn: Option<AnyConnection> = None;
    let mut marker = Instant::now();
    loop {
        let hold = {
            let Ok(st) = shared.0.lock() else { return };
            let Ok((st, _)) = shared
                .1
                .wait_timeout_while(st, worker.beat(), |st| !st.stop)
            else {
                return;
            };
            if st.stop {
                return;
            }
            st.hold.clone()
        };
        let Some(hold) = hold else {
            continue;
        };
        match rt.block_on(renew(&mut conn, url, worker, &hold)) {
            Ok(true) => {}
            Ok(false) => {
                let still = shared
                    .0
                    .lock()
                    .is_ok_and(|st| st.hold.as_ref() == Some(&hold));
                if still {
                    tracing::warn!(worker = %worker.name, "a lease this worker held was taken over");
                }
            }
            Err(err) => {
                // The next beat connects again; the lease may run out meanwhile.
                tracing::warn!("cannot renew the lease: {err:#}");
                conn = None;
            }
        }
        if marker.elapsed() >= MARKER_EVERY {
            marker = Instant::now();
            if let Err(err) = store.renew_run(release)
                && let Ok(mut st) = shared.0.lock()
            {
                st.error = Some(format!("{err:#}"));
            }
        }
    }
}

/// Renews `hold`; false if it is no longer this worker's.
async fn renew(
    conn: &mut Option<AnyConnection>,
    url: &str,
    worker: &Worker,
    hold: &Hold,
) -> Result<bool> {
    if conn.is_none() {
        *conn = Some(
            AnyConnection::connect(url)
                .await
                .context("cannot connect to the database")?,
        );
    }
    let c = conn.as_mut().ok_or_else(|| anyhow!("no connection"))?;
    let lease = millis(worker.lease);
    let done = match hold {
        Hold::School { run, school, claim } => sqlx::query(
            "UPDATE build_run_school SET lease_until = now() + $5 * interval '1 millisecond' \
             WHERE run_id = $1 AND school_id = $2 AND worker = $3 AND claims = $4 AND done_at IS NULL",
        )
        .bind(run)
        .bind(school)
        .bind(&worker.name)
        .bind(claim)
        .bind(lease)
        .execute(&mut *c)
        .await?,
        Hold::Publish { run, claim } => sqlx::query(
            "UPDATE build_run SET publish_until = now() + $4 * interval '1 millisecond' \
             WHERE id = $1 AND publisher = $2 AND publish_claims = $3 AND published_at IS NULL",
        )
        .bind(run)
        .bind(&worker.name)
        .bind(claim)
        .bind(lease)
        .execute(&mut *c)
        .await?,
    };
    Ok(done.rows_affected() == 1)
}
