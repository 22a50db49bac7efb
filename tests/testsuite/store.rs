//! Releases in an S3-compatible bucket, against a real SeaweedFS: a
//! district built into the bucket is the folder build file for file; a
//! build with nothing changed sends nothing; a store that is down fails the
//! build clearly and leaves the live release; garbage collection spares
//! what a running build needs. The same layout in a folder on a local
//! disk (`file:///path`, no peer needed) is the folder build too, and
//! keeps exactly the objects its releases list.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use tabel::accounts::access::Scope;
use tabel::build::release::{self, Entry};
use tabel::build::store::{ReleaseStore, S3Store};

use crate::support::build::{TODAY, demo_into};
use crate::support::seaweed::{
    self, BUCKET, Seaweed, assert_all_stored, assert_same_release, by_path,
};
use crate::support::{TestDb, tabel};

/// A district of `schools` demo schools, `students` in all, in a fresh SQLite file.
async fn district(students: u32, schools: u32) -> TestDb {
    let t = TestDb::sqlite().await;
    demo_into(&t.db, students, Some(schools), 11, TODAY).await;
    t
}

/// `tabel build` of the data at `db` into `output` with `config`, as of `date`.
fn build(db: &str, output: &str, config: &Path, date: &str) -> Output {
    build_with(db, output, config, date, &[])
}

/// The same with more arguments.
fn build_with(db: &str, output: &str, config: &Path, date: &str, more: &[&str]) -> Output {
    seaweed::build(db, output, config, date, 2)
        .args(more)
        .output()
}

fn ok(o: Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "tabel build failed:\n{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The objects and bytes a build's summary says it sent.
fn uploaded(stdout: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("store:"))
        .unwrap_or_else(|| panic!("no store line in:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_district_in_a_bucket_is_the_folder_build_file_for_file() {
    let Some(w) = Seaweed::start() else {
        return;
    };
    let t = district(360, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let config = Seaweed::config(dir.path(), "s3.toml", &w.endpoint, 3, 3600);
    let url = format!("s3://{BUCKET}/district");
    let first = ok(build(&t.url, &url, &config, TODAY));
    let local = dir.path().join("local");
    ok(build(&t.url, local.to_str().unwrap(), &config, TODAY));

    let s = w.store(&url, 3600);
    // The entries are the same, scopes and all; and each object holds the
    // bytes of the file of the folder build.
    let in_folder = assert_same_release(&s, &local);
    let live = local.join("current");
    let id = s.current().unwrap().unwrap();
    let in_bucket = s.release_files(&id).unwrap();

    // One object per distinct content, each sent once.
    let distinct: BTreeSet<&str> = in_bucket.iter().map(|e| e.sha256.as_str()).collect();
    let (objects, bytes) = uploaded(&first);
    assert_eq!(objects, distinct.len() as u64, "{first}");
    assert_eq!(s.objects().unwrap(), (objects, bytes));

    // The next build with nothing changed sends no object, and publishes.
    let again = ok(build(&t.url, &url, &config, TODAY));
    assert_eq!(uploaded(&again), (0, 0), "{again}");
    assert_eq!(s.objects().unwrap(), (objects, bytes));
    let id2 = s.current().unwrap().unwrap();
    assert_ne!(id2, id);
    assert_eq!(
        by_path(&s.release_files(&id2).unwrap()),
        by_path(&in_folder)
    );

    // One school rebuilt on the next day, the others carried over with
    // their manifests: the same release in the bucket as in the folder.
    let school = release::read_manifest(&live).unwrap().schools[1]
        .school
        .clone();
    let more = ["--school", school.as_str()];
    ok(build_with(&t.url, &url, &config, "2026-11-30", &more));
    let folder = local.to_str().unwrap();
    ok(build_with(&t.url, folder, &config, "2026-11-30", &more));
    release::verify(&live).unwrap();
    let id3 = s.current().unwrap().unwrap();
    let one_in_bucket = s.release_files(&id3).unwrap();
    assert_eq!(one_in_bucket, release::all_entries(&live).unwrap());
    assert_ne!(by_path(&one_in_bucket), by_path(&in_folder));
    assert_all_stored(&s, &one_in_bucket);
    let id2 = id3;

    // The store down: the build fails naming it, the live release stays.
    let dead = seaweed::dead_endpoint();
    let dead_config = Seaweed::config(dir.path(), "dead.toml", &dead, 3, 3600);
    let o = build(&t.url, &url, &dead_config, "2026-11-30");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains(&dead) && err.contains(&url), "{err}");
    assert_eq!(s.current().unwrap().as_deref(), Some(id2.as_str()));

    // Without credentials the build says which variables it wants.
    let o = tabel()
        .args([
            "build",
            "--database",
            &t.url,
            "--output",
            &url,
            "--date",
            TODAY,
        ])
        .arg("--config")
        .arg(&config)
        .command()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    assert_eq!(s.current().unwrap().as_deref(), Some(id2.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_collection_spares_what_a_running_build_needs() {
    let Some(w) = Seaweed::start() else {
        return;
    };
    let t = district(200, 1).await;
    let dir = tempfile::tempdir().unwrap();
    // Keep one release, no grace: only the running build's marker can
    // keep its objects.
    let config = Seaweed::config(dir.path(), "s3.toml", &w.endpoint, 1, 0);
    let url = format!("s3://{BUCKET}/gc");
    ok(build(&t.url, &url, &config, TODAY));
    let s = w.store(&url, 0);
    let base = s.live().unwrap().unwrap();
    let r1 = s.release_files(&base.id).unwrap();
    assert_all_stored(&s, &r1);

    // A build starts from R1 and sends a file of its own...
    let running = s.start(Some(&base)).unwrap();
    let extra = b"sent by a build that is still running".to_vec();
    let sha = data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(&extra));
    running.write("extra.txt", &extra, &sha).unwrap();
    running.flush().unwrap();

    // ...while another build publishes the next day and collects garbage.
    ok(build(&t.url, &url, &config, "2026-11-30"));
    let r2_id = s.current().unwrap().unwrap();
    assert_ne!(r2_id, base.id);
    let r2 = s.release_files(&r2_id).unwrap();
    let r1_shas: BTreeSet<&str> = r1.iter().map(|e| e.sha256.as_str()).collect();
    let only_r2: Vec<&str> = r2
        .iter()
        .map(|e| e.sha256.as_str())
        .filter(|s| !r1_shas.contains(s))
        .collect();
    let only_r1: Vec<&str> = r1
        .iter()
        .map(|e| e.sha256.as_str())
        .filter(|sha| !r2.iter().any(|e| e.sha256 == *sha))
        .collect();
    assert!(!only_r2.is_empty() && !only_r1.is_empty());
    assert_all_stored(&s, &r1);
    s.object(&sha).unwrap();

    // The running build carries R1 over, adds its file and publishes.
    for e in &base.manifest.files {
        running.carry(e).unwrap();
    }
    for part in &base.manifest.schools {
        for e in s.read_part(&base, part).unwrap() {
            running.carry(&e).unwrap();
        }
        running.carry_part(part).unwrap();
    }
    let mut manifest = base.manifest.clone();
    manifest.files.push(Entry {
        path: "extra.txt".to_owned(),
        size: extra.len() as u64,
        sha256: sha.clone(),
        scope: Scope::Public,
        school: String::new(),
        input: String::new(),
        key: String::new(),
    });
    manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
    running.publish(&manifest).unwrap();
    let live = s.current().unwrap().unwrap();
    let published = s.release_files(&live).unwrap();
    assert_eq!(published.len(), r1.len() + 1);
    assert_all_stored(&s, &published);

    // With no build running, the same collection removes what only the
    // releases beyond the one kept listed, and nothing the live one does.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (before, _) = s.objects().unwrap();
    let removed = s.prune(1).unwrap();
    assert!(
        removed.contains(&r2_id) && removed.contains(&base.id),
        "{removed:?}"
    );
    assert_all_stored(&s, &published);
    for sha in &only_r2 {
        assert!(
            s.object(sha).is_err(),
            "{sha} of a removed release is still stored"
        );
    }
    let (after, _) = s.objects().unwrap();
    assert_eq!(
        after,
        before - only_r2.iter().collect::<BTreeSet<_>>().len() as u64
    );
    // And what only R1 listed stays: the live release lists it.
    for sha in &only_r1 {
        s.object(sha).unwrap();
    }
}

/// `tabel build` of the data at `db` into `output` with `config`, as of
/// `date`, with no S3 credentials in the environment.
fn bare(db: &str, output: &str, config: &Path, date: &str) -> std::process::Command {
    let mut c = seaweed::build(db, output, config, date, 2).command();
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    c
}

/// The objects in the store on a local disk at `root`, each checked to
/// hold the bytes its name is the SHA-256 of; fails on any other file.
fn objects_on_disk(root: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for dir in std::fs::read_dir(root.join("objects")).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let bytes = std::fs::read(&path).unwrap();
            let sha =
                data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            assert_eq!(name, sha, "{} does not hold its bytes", path.display());
            assert_eq!(dir.file_name().unwrap().to_str().unwrap(), &sha[..2]);
            found.insert(name);
        }
    }
    found
}

/// The SHA-256 of every file the live release of `s` lists.
fn live_shas(s: &S3Store) -> BTreeSet<String> {
    let id = s.current().unwrap().unwrap();
    s.release_files(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.sha256)
        .collect()
}

/// A file at `path` written `age` ago.
fn old_file(path: &Path, bytes: &[u8], age: std::time::Duration) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - age).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_on_a_local_disk_is_the_folder_build_and_keeps_exactly_what_its_releases_list() {
    let t = district(360, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("disk.toml");
    std::fs::write(
        &config,
        "keep_releases = 2\n[store]\ngc_grace_seconds = 0\n",
    )
    .unwrap();
    let root = dir.path().join("store");
    let url = format!("file://{}", root.display());
    let folder = dir.path().join("folder");
    let folder_url = folder.to_str().unwrap();
    let settings = tabel::config::Store {
        gc_grace_seconds: 0,
        ..Default::default()
    };

    // No credentials asked; the same release as the folder's, one file
    // per distinct content, named by its SHA-256, nothing half-written.
    let first = ok(bare(&t.url, &url, &config, TODAY).output().unwrap());
    assert!(
        first.contains(&format!("release {url}/releases/")),
        "{first}"
    );
    ok(build(&t.url, folder_url, &config, TODAY));
    let s = S3Store::open(&url, &settings).unwrap();
    let in_folder = assert_same_release(&s, &folder);
    let distinct: BTreeSet<String> = in_folder.iter().map(|e| e.sha256.clone()).collect();
    assert_eq!(objects_on_disk(&root), distinct);
    assert_eq!(uploaded(&first).0, distinct.len() as u64, "{first}");
    assert_eq!(s.objects().unwrap(), uploaded(&first));

    // The same day again sends nothing; the next day sends what changed.
    let again = ok(bare(&t.url, &url, &config, TODAY).output().unwrap());
    assert_eq!(uploaded(&again), (0, 0), "{again}");
    let day3 = "2026-11-30";
    let third = ok(bare(&t.url, &url, &config, day3).output().unwrap());
    ok(build(&t.url, folder_url, &config, day3));
    assert_same_release(&s, &folder);
    let r3 = live_shas(&s);
    let new3: BTreeSet<&String> = r3.difference(&distinct).collect();
    assert!(!new3.is_empty());
    assert_eq!(uploaded(&third).0, new3.len() as u64, "{third}");

    // What a killed build left (a half-written object, an object no
    // release lists), old enough, goes with the next collection.
    let day = std::time::Duration::from_secs(86_400);
    let half = root.join("objects/ab/abcdef#0badc0de");
    old_file(&half, b"half of an obj", day);
    let orphan_bytes = b"an object a killed build sent";
    let orphan =
        data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(orphan_bytes));
    let orphan_path = root.join("objects").join(&orphan[..2]).join(&orphan);
    old_file(&orphan_path, orphan_bytes, day);
    // A file someone left in `objects/` is no object, and stops nothing.
    let stray = root.join("objects/README");
    old_file(&stray, b"not an object", day);

    // A fourth night: two releases are kept (the third and the fourth),
    // and the store holds exactly the objects they list.
    let day4 = "2026-12-01";
    ok(bare(&t.url, &url, &config, day4).output().unwrap());
    ok(build(&t.url, folder_url, &config, day4));
    assert_same_release(&s, &folder);
    let r4 = live_shas(&s);
    let kept: BTreeSet<String> = r3.union(&r4).cloned().collect();
    std::fs::remove_file(&stray).unwrap();
    assert_eq!(objects_on_disk(&root), kept);
    assert!(!half.exists() && !orphan_path.exists());
    assert!(
        distinct.iter().any(|sha| !kept.contains(sha)),
        "the first night's own objects were collected"
    );
    let releases: Vec<_> = std::fs::read_dir(root.join("releases"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(releases.len(), 2, "{releases:?}");

    // A build killed at any moment leaves the fourth night live and whole.
    let live = s.current().unwrap().unwrap();
    for after in [150u64, 600, 1500] {
        let mut child = bare(&t.url, &url, &config, "2026-12-02").spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(after));
        let _ = child.kill();
        child.wait().unwrap();
        assert_eq!(s.current().unwrap().as_deref(), Some(live.as_str()));
        assert_all_stored(&s, &s.release_files(&live).unwrap());
    }
    // And the next build cleans up after it and publishes.
    ok(bare(&t.url, &url, &config, "2026-12-02").output().unwrap());
    let now = s.current().unwrap().unwrap();
    assert_ne!(now, live);
    assert_all_stored(&s, &s.release_files(&now).unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_builds_into_a_store_on_a_local_disk_and_the_archive_refuses_one() {
    let t = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let url = format!("file://{}", root.display());
    let o = tabel()
        .args(["--database", &t.url, "--output", &url])
        .args(["demo", "--no-serve", "--students", "40", "--date", TODAY])
        .output();
    let out = ok(o);
    assert!(out.contains(&format!("pages are in {url}")), "{out}");
    let s = S3Store::open(&url, &Default::default()).unwrap();
    let id = s.current().unwrap().expect("a live release in the store");
    let files = s.release_files(&id).unwrap();
    assert!(
        files.iter().any(|e| e.path.starts_with("s/")),
        "{} files",
        files.len()
    );
    assert_all_stored(&s, &files);
    assert!(!Path::new("file:").exists());

    // A year's bag is a folder: the store is refused by name, and nothing
    // is written beside it or in the working folder.
    let o = tabel()
        .args(["--database", &t.url, "--output", &url])
        .args(["archive", "--year", "2025/2026"])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains(&url) && err.contains("--output DIR"), "{err}");
    assert!(!root.join("archive").exists() && !Path::new("file:").exists());
}
