//! Build workers (`tabel build --worker`): real `tabel` processes over a
//! real PostgreSQL and a real SeaweedFS build one release together. Each
//! school is built once and the release is the folder build file for
//! file; a worker killed in the middle of a school loses it to the other
//! once its lease runs out, and the bucket's `current` never names a half
//! release meanwhile; garbage collection spares what a run sent however
//! often its marker is renewed; SQLite is refused.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tabel::build::release;
use tabel::build::store::s3::Credentials;
use tabel::build::store::{ReleaseStore, S3Store};

use crate::support::build::{TODAY, demo_into};
use crate::support::seaweed::{self, ACCESS_KEY, BUCKET, SECRET_KEY, Seaweed, assert_same_release};
use crate::support::{TestDb, tabel};

/// The day before `TODAY`, the live release's.
const YESTERDAY: &str = "2026-11-26";

/// A district of three demo schools in a fresh PostgreSQL database.
async fn district(students: u32) -> Option<TestDb> {
    let t = TestDb::postgres().await?;
    demo_into(&t.db, students, Some(3), 11, TODAY).await;
    Some(t)
}

/// What the two-worker tests start from: SeaweedFS, a district of three
/// schools in PostgreSQL, a folder with the `[store]` configuration, and
/// the bucket URL under `prefix`.
struct Setup {
    w: Seaweed,
    t: TestDb,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    url: String,
}

/// The [`Setup`], or `None` (a skip) without SeaweedFS or PostgreSQL.
async fn setup(prefix: &str) -> Option<Setup> {
    let w = Seaweed::start()?;
    let t = district(360).await?;
    let dir = tempfile::tempdir().unwrap();
    let config = Seaweed::config(dir.path(), "s3.toml", &w.endpoint, 3, 3600);
    Some(Setup {
        w,
        t,
        dir,
        config,
        url: format!("s3://{BUCKET}/{prefix}"),
    })
}

/// A plain `tabel build` (one process) into `output`.
fn build(db: &str, output: &str, config: &Path, date: &str) {
    seaweed::build(db, output, config, date, 1).success();
}

/// A running `tabel build --worker`, its log read line by line.
struct Worker {
    child: Child,
    /// Lines of its log (standard error) as they come.
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Worker {
    fn start(db: &str, url: &str, config: &Path, date: &str, lease: &str) -> Worker {
        let mut child = seaweed::build(db, url, config, date, 1)
            .args(["--worker", "--lease", lease])
            .env("TABEL_LOG", "info,sqlx=warn")
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Worker {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Takes the lines logged so far.
    fn read(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        &self.log
    }

    /// Waits for the end; its summary (standard output) if it succeeded.
    fn finish(mut self) -> String {
        let mut out = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut out).unwrap();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.read().join("\n");
        assert!(
            status.success(),
            "a worker failed ({status}):\n{out}\n{log}"
        );
        out
    }
}

/// A field of a log line (`worker=NAME`).
fn field(line: &str, name: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in {line:?}"))
        .to_owned()
}

fn worker_of(line: &str) -> String {
    field(line, "worker")
}

/// Each school of the run of `date`: (external id, claims, built by).
async fn schools(t: &TestDb, date: &str) -> Vec<(String, i64, Option<String>)> {
    sqlx::query_as(
        "SELECT s.external_id, s.claims, s.built_by FROM build_run_school s \
         JOIN build_run r ON r.id = s.run_id WHERE r.build_date = $1 ORDER BY s.position",
    )
    .bind(date)
    .fetch_all(t.db.pool())
    .await
    .unwrap()
}

async fn done(t: &TestDb, date: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(s.done_at) FROM build_run_school s \
         JOIN build_run r ON r.id = s.run_id WHERE r.build_date = $1",
    )
    .bind(date)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_build_each_school_once_into_the_folder_builds_release() {
    let Some(Setup {
        w,
        t,
        dir,
        config,
        url,
    }) = setup("workers").await
    else {
        return;
    };

    // A lease shorter than a school's build: only the heartbeat keeps a
    // school from being claimed again while it is built.
    let a = Worker::start(&t.url, &url, &config, TODAY, "2s");
    let b = Worker::start(&t.url, &url, &config, TODAY, "2s");
    let (out_a, out_b) = (a.finish(), b.finish());

    // Each school built once, by one of the two; one of them published.
    let rows = schools(&t, TODAY).await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (school, claims, by) in &rows {
        assert_eq!(*claims, 1, "{school} claimed {claims} times");
        assert!(by.is_some(), "{school} not recorded");
    }
    let built = |out: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with("worker "))
            .unwrap_or_else(|| panic!("no worker line in:\n{out}"));
        line.split("built ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(built(&out_a) + built(&out_b), 3, "{out_a}\n{out_b}");
    let publishers = [&out_a, &out_b]
        .iter()
        .filter(|o| o.contains("store:"))
        .count();
    assert_eq!(publishers, 1, "{out_a}\n{out_b}");

    let folder = dir.path().join("folder");
    build(&t.url, folder.to_str().unwrap(), &config, TODAY);
    let s = w.store(&url, 3600);
    assert_same_release(&s, &folder);

    // A worker that comes after the run is published has nothing to do.
    let late = Worker::start(&t.url, &url, &config, TODAY, "10s").finish();
    assert!(late.contains("published already"), "{late}");
    assert_eq!(schools(&t, TODAY).await, rows);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_workers_school_is_taken_over_and_no_half_release_is_ever_live() {
    let Some(Setup {
        w,
        t,
        dir,
        config,
        url,
    }) = setup("killed").await
    else {
        return;
    };
    let folder = dir.path().join("folder");
    // Yesterday's release is live, in the bucket and in the folder.
    build(&t.url, &url, &config, YESTERDAY);
    build(&t.url, folder.to_str().unwrap(), &config, YESTERDAY);
    let s = w.store(&url, 3600);
    let previous = s.current().unwrap().unwrap();

    // A lease longer than a school's build: the survivor finishes the
    // other schools and has nothing to claim while the dead worker's lease
    // runs; it must wait, not publish.
    let lease = Duration::from_secs(10);
    let mut a = Worker::start(&t.url, &url, &config, TODAY, "10s");
    let mut b = Worker::start(&t.url, &url, &config, TODAY, "10s");
    // The first worker to claim a school is killed at once, in the middle of it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (victim, survivor, school) = loop {
        let claimed = |w: &mut Worker| {
            w.read()
                .iter()
                .find(|l| l.contains("claimed school"))
                .cloned()
        };
        if let Some(line) = claimed(&mut a) {
            break (a, b, line);
        }
        if let Some(line) = claimed(&mut b) {
            break (b, a, line);
        }
        assert!(Instant::now() < deadline, "no worker claimed a school");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut victim = victim;
    victim.child.kill().unwrap(); // SIGKILL
    let killed_at = Instant::now();
    victim.child.wait().unwrap();
    let dead = worker_of(&school);
    let lost = field(&school, "school");

    // While the survivor works, `current` names yesterday's release, or
    // the new one once every school is done, whole.
    let mut survivor = survivor;
    let mut seen_previous = 0;
    let mut seen = Vec::new();
    loop {
        let done_before = done(&t, TODAY).await;
        let live = s.current().unwrap().unwrap();
        if live == previous {
            seen_previous += 1;
        } else {
            assert_eq!(done_before, 3, "{live} is live with a school not done");
            s.release_files(&live).unwrap();
            if !seen.contains(&live) {
                seen.push(live);
            }
        }
        if survivor.child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(300),
            "the survivor never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took_over = survivor
        .read()
        .iter()
        .find(|l| l.contains(&format!("claimed school {lost}")))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the survivor never claimed {lost}:\n{}",
                survivor.log.join("\n")
            )
        });
    let out = survivor.finish();
    assert!(seen_previous > 0);
    assert!(seen.len() <= 1, "{seen:?}");
    assert!(out.contains("store:"), "the survivor published:\n{out}");
    assert!(out.contains(&format!("{lost} (claim 2)")), "{out}");
    // It could not take the school before the lease ran out.
    assert!(killed_at.elapsed() >= lease);

    let rows = schools(&t, TODAY).await;
    let alive = worker_of(&took_over);
    for (school, claims, by) in &rows {
        let by = by.as_deref().unwrap();
        assert_ne!(by, dead, "{school}");
        assert_eq!(by, alive, "{school}");
        let expect = if *school == lost { 2 } else { 1 };
        assert_eq!(*claims, expect, "{school}: {rows:?}");
    }

    build(&t.url, folder.to_str().unwrap(), &config, TODAY);
    assert_ne!(s.current().unwrap().unwrap(), previous);
    assert_same_release(&s, &folder);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_collection_spares_what_a_run_sent_while_its_marker_is_renewed() {
    let Some(w) = Seaweed::start() else {
        return;
    };
    let url = format!("s3://{BUCKET}/gc-run");
    // No grace: only the run's marker can keep what it sent.
    let s = S3Store::connect(
        &url,
        &w.settings(0),
        Credentials {
            key_id: ACCESS_KEY.to_owned(),
            secret: SECRET_KEY.to_owned(),
            token: None,
        },
    )
    .unwrap();
    let id = s.begin_run(None).unwrap();
    let writer = s.join_run(&id, None, "early.1").unwrap();
    let bytes = b"sent by a worker early in a long run".to_vec();
    let sha = data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    writer.write("early.txt", &bytes, &sha).unwrap();
    writer.flush().unwrap();
    // The run goes on: its marker is renewed after the object was sent
    // (bucket times are whole seconds).
    std::thread::sleep(Duration::from_millis(2100));
    s.renew_run(&id).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    s.prune(1).unwrap();
    s.object(&sha).unwrap();

    // Published without listing it, the object is garbage: the same
    // collection removes it.
    let manifest = release::Manifest {
        format: release::FORMAT,
        date: TODAY.to_owned(),
        snapshots: Vec::new(),
        files: Vec::new(),
        schools: Vec::new(),
    };
    writer.publish(&manifest).unwrap();
    assert_eq!(s.current().unwrap().as_deref(), Some(id.as_str()));
    std::thread::sleep(Duration::from_millis(1100));
    s.prune(1).unwrap();
    assert!(
        s.object(&sha).is_err(),
        "an object no release lists is kept"
    );
}

#[tokio::test]
async fn a_worker_needs_postgresql_and_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("t.db").display());
    let o = tabel()
        .args(["build", "--worker", "--database", &sqlite])
        .args(["--output", "s3://tabel/city", "--date", TODAY])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("`tabel build --worker` needs PostgreSQL") && err.contains("SQLite"),
        "{err}"
    );
    assert!(
        !dir.path().join("t.db").exists(),
        "the refusal opened the database"
    );

    let o = tabel()
        .args([
            "build",
            "--worker",
            "--database",
            "postgres://u@127.0.0.1/db",
        ])
        .args(["--output", dir.path().to_str().unwrap(), "--date", TODAY])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("bucket only"), "{err}");

    let o = tabel()
        .args([
            "build",
            "--worker",
            "--lease",
            "a while",
            "--database",
            &sqlite,
        ])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("not a lease"), "{err}");
}
