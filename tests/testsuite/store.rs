//! Releases in an S3-compatible bucket, against a real SeaweedFS: a
//! district built into the bucket is the folder build file for file; a
//! build with nothing changed sends nothing; a store that is down fails the
//! build clearly and leaves the live release; garbage collection spares
//! what a running build needs.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use tabel::accounts::access::Scope;
use tabel::build::release::{self, Entry};
use tabel::build::store::ReleaseStore;

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
