//! Releases in an S3-compatible bucket, through the `object_store` crate
//! (the S3 API only: AWS, MinIO, Ceph RGW, SeaweedFS alike), or in the
//! same layout in a folder on a local disk (`file:///path`, the crate's
//! `LocalFileSystem`). On a local disk the build's workers write objects
//! themselves ([`local_put`]), a publish flushes the disk before the
//! manifest and again before the pointer, and the collection reads the
//! objects' names, not their inodes ([`local_sweep`]).
//!
//! Under `s3://bucket/prefix`:
//!
//! - `objects/ab/abcdef…`: every file of every release, named by the
//!   SHA-256 of its bytes, so a file already stored is never sent again;
//! - `releases/<id>/manifest.json` and `releases/<id>/manifests/<slug>.json`:
//!   the release's manifest and its schools' manifests, as in a folder;
//! - `pending/<id>.json`: a build (or a run of workers) going on now, and
//!   the release it started from;
//! - `current`: the live release's id, one small object written last.
//!
//! A reader follows `current` to a manifest whose objects were all stored
//! before it was written, so it sees the old release or the new one, never
//! half of one. Garbage collection ([`S3Store::prune`]) keeps every object
//! a kept release lists; the releases running builds started from (named
//! by their `pending` markers) whole; every object stored since the oldest
//! running build began (bucket time against bucket time); and any object
//! younger than `gc_grace_seconds` (for a build that began while the
//! collection was already under way). A marker older than `build_hours`
//! is a dead build's, and a build that takes longer is not published.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Base, ReleaseStore, ReleaseWriter};
use crate::build::release::{self, Entry, MANIFEST, Manifest, Part};
use crate::config;

/// The object holding the live release's id.
pub const POINTER: &str = "current";

/// What a running build leaves in `pending/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The release being built.
    id: String,
    /// The release it carries files over from.
    base: Option<String>,
    /// For a marker renewed by the workers of a run (`tabel build
    /// --worker`): when it was first written, in the bucket's time. What
    /// the run sent since then is spared; without it, since the marker
    /// was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<chrono::DateTime<chrono::Utc>>,
}

/// Where a run's release stands in the bucket (`tabel build --worker`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Its marker is there and fresh: workers may go on writing into it.
    Running,
    /// Its manifest is written: it was published.
    Published,
    /// Its marker is gone or older than `build_hours`: a garbage
    /// collection may have taken what it sent, so it must start over.
    Lost,
}

/// The client and the runtime its requests run on, shared by the store
/// and the releases being written.
#[derive(Debug)]
struct Inner {
    s3: Arc<dyn ObjectStore>,
    /// Its own runtime: the build calls the store from its worker threads.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    bucket: String,
    prefix: String,
    /// The endpoint, for messages.
    endpoint: String,
    /// For a store on a local disk (`file:///path`): its folder, which a
    /// publish flushes to disk before the manifest and the pointer.
    local: Option<PathBuf>,
    uploads: usize,
    grace: Duration,
    /// How long a build may take; after that its marker is stale.
    lease: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Releases in an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    inner: Arc<Inner>,
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// A SHA-256, as bytes.
type Sha = [u8; 32];

/// The bytes of a hex SHA-256; none if it is not one.
fn sha(hex: &str) -> Option<Sha> {
    data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

impl Inner {
    /// Where the store is, for messages: the bucket and the endpoint.
    fn place(&self) -> String {
        place(
            &self.bucket,
            &self.prefix,
            &self.endpoint,
            self.local.as_deref(),
        )
    }

    /// Flushes what was written to a store on a local disk (a bucket
    /// stores what it acknowledged).
    fn sync(&self) -> Result<()> {
        if let Some(root) = &self.local {
            let dir = std::fs::File::open(root)
                .with_context(|| format!("cannot open {}", root.display()))?;
            rustix::fs::syncfs(&dir)
                .with_context(|| format!("cannot flush {} to disk", root.display()))?;
        }
        Ok(())
    }

    fn key(&self, rel: &str) -> Key {
        key(&self.prefix, rel)
    }

    /// The key of the object holding bytes whose SHA-256 is `sha256`.
    fn object_key(&self, sha256: &str) -> Key {
        self.key(&object_rel(sha256))
    }

    /// A key relative to the prefix.
    fn rel<'k>(&self, key: &'k Key) -> &'k str {
        let s = key.as_ref();
        if self.prefix.is_empty() {
            s
        } else {
            s.strip_prefix(&self.prefix)
                .and_then(|s| s.strip_prefix('/'))
                .unwrap_or(s)
        }
    }

    /// Runs `fut` on the store's runtime and waits for it, from any thread.
    fn wait<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv()
            .map_err(|_| anyhow!("a request to {} was dropped", self.place()))?
    }

    fn get(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let (s3, key) = (self.s3.clone(), self.key(rel));
        let got = self.wait(async move {
            match s3.get(&key).await {
                Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        });
        got.with_context(|| format!("cannot read {rel} from {}", self.place()))
    }

    /// An object's bytes and when it was last written (bucket time).
    fn get_meta(&self, rel: &str) -> Result<Option<(Vec<u8>, chrono::DateTime<chrono::Utc>)>> {
        let (s3, key) = (self.s3.clone(), self.key(rel));
        let got = self.wait(async move {
            match s3.get(&key).await {
                Ok(r) => {
                    let at = r.meta.last_modified;
                    Ok(Some((r.bytes().await?.to_vec(), at)))
                }
                Err(e) if is_not_found(&e) => Ok(None),
                Err(e) => Err(e.into()),
            }
        });
        got.with_context(|| format!("cannot read {rel} from {}", self.place()))
    }

    fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        let (s3, key) = (self.s3.clone(), self.key(rel));
        self.wait(async move {
            s3.put(&key, PutPayload::from(bytes)).await?;
            Ok(())
        })
        .with_context(|| format!("cannot write {rel} to {}", self.place()))
    }

    /// Every object under `rel/`, with its size and age.
    fn list(&self, rel: &str) -> Result<Vec<object_store::ObjectMeta>> {
        let (s3, key) = (self.s3.clone(), self.key(rel));
        self.wait(async move { Ok(s3.list(Some(&key)).try_collect::<Vec<_>>().await?) })
            .with_context(|| format!("cannot list {rel}/ in {}", self.place()))
    }

    /// Deletes these objects, a few at a time; how many.
    fn delete(&self, keys: Vec<Key>) -> Result<usize> {
        let s3 = self.s3.clone();
        let n = keys.len();
        let parallel = self.uploads;
        self.wait(async move {
            futures_util::stream::iter(keys)
                .map(|k| {
                    let s3 = s3.clone();
                    async move {
                        match s3.delete(&k).await {
                            Err(e) if !is_not_found(&e) => Err(e),
                            _ => Ok(()),
                        }
                    }
                })
                .buffer_unordered(parallel)
                .try_collect::<Vec<()>>()
                .await?;
            Ok(())
        })
        .with_context(|| format!("cannot delete from {}", self.place()))?;
        Ok(n)
    }

    fn pointer(&self) -> Result<Option<String>> {
        Ok(self
            .get(POINTER)?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|id| !id.is_empty()))
    }

    fn manifest(&self, id: &str) -> Result<Option<Manifest>> {
        let rel = format!("releases/{id}/{MANIFEST}");
        match self.get(&rel)? {
            None => Ok(None),
            Some(json) => serde_json::from_slice(&json)
                .map(Some)
                .with_context(|| format!("{rel} in {} is not valid", self.place())),
        }
    }

    fn read_part(&self, id: &str, part: &Part) -> Result<Vec<Entry>> {
        let rel = format!("releases/{id}/{}", part.manifest);
        let json = self
            .get(&rel)?
            .ok_or_else(|| anyhow!("{rel} is missing from {}", self.place()))?;
        if hex(&json) != part.sha256 {
            bail!(
                "{rel} in {} does not match its release's manifest",
                self.place()
            );
        }
        let dir = PathBuf::from(format!(
            "{}/releases/{id}",
            url(&self.bucket, &self.prefix, self.local.as_deref())
        ));
        let json = release::part_text(&dir, part, &json)?;
        release::parse_part(&dir, part, &json)
    }

    /// Adds the SHA-256 of every file release `id` lists to `into`, one
    /// school's manifest at a time, and leaves `into` sorted without
    /// repeats. A city's release lists two million: as a sorted list of
    /// bytes they take 64 MB, a third of a set of their hex.
    fn hashes(&self, id: &str, manifest: &Manifest, into: &mut Vec<Sha>) -> Result<()> {
        into.extend(manifest.files.iter().filter_map(|e| sha(&e.sha256)));
        for part in &manifest.schools {
            into.extend(
                self.read_part(id, part)?
                    .iter()
                    .filter_map(|e| sha(&e.sha256)),
            );
        }
        into.sort_unstable();
        into.dedup();
        Ok(())
    }

    /// Every file a release lists, shared and every school's.
    fn files(&self, id: &str, manifest: &Manifest) -> Result<Vec<Entry>> {
        let mut all = manifest.files.clone();
        for part in &manifest.schools {
            all.extend(self.read_part(id, part)?);
        }
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }
}

/// An identity at the store.
#[derive(Clone)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret: String,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The credentials of the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), for the store `url`.
    /// A store on a local disk (`file://`) needs none.
    pub fn from_env(url: &str) -> Result<Credentials> {
        if url.starts_with("file://") {
            return Ok(Credentials {
                key_id: String::new(),
                secret: String::new(),
                token: None,
            });
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(key_id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            bail!(
                "the release store {url} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment (never in tabel.toml)"
            );
        };
        Ok(Credentials {
            key_id,
            secret,
            token: var("AWS_SESSION_TOKEN"),
        })
    }
}

/// An S3 client for the bucket an `s3://bucket/prefix` URL names, and where
/// the layout above puts things in it. Its requests are async; it runs on
/// whatever runtime awaits them (the gate's own).
#[derive(Debug, Clone)]
pub struct Client {
    /// The client.
    pub s3: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
    endpoint: String,
    local: Option<PathBuf>,
}

impl Client {
    /// The bucket `url` names, reached as `settings` say, with
    /// `credentials`. Nothing is asked of the store yet.
    pub fn connect(
        url: &str,
        settings: &config::Store,
        credentials: Credentials,
    ) -> Result<Client> {
        let parsed = url::Url::parse(url)
            .with_context(|| format!("{url:?} is not an s3:// or file:// URL"))?;
        if parsed.scheme() == "file" {
            return Client::local(url, &parsed);
        }
        let bucket = parsed
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| anyhow!("{url:?} names no bucket (s3://bucket/prefix)"))?
            .to_owned();
        let prefix = parsed.path().trim_matches('/').to_owned();
        let http = settings.endpoint.starts_with("http://");
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(&settings.region)
            .with_access_key_id(credentials.key_id)
            .with_secret_access_key(credentials.secret)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(http)
                    .with_timeout(Duration::from_secs(settings.timeout_seconds))
                    .with_connect_timeout(Duration::from_secs(5)),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: settings.retries,
                retry_timeout: Duration::from_secs(settings.timeout_seconds.min(120)),
            });
        if let Some(token) = credentials.token {
            builder = builder.with_token(token);
        }
        if !settings.endpoint.is_empty() {
            builder = builder
                .with_endpoint(settings.endpoint.trim_end_matches('/'))
                .with_allow_http(http);
        }
        let s3 = builder
            .build()
            .with_context(|| format!("cannot set up the release store {url}"))?;
        Ok(Client {
            s3: Arc::new(s3),
            bucket,
            prefix,
            endpoint: settings.endpoint.clone(),
            local: None,
        })
    }

    /// The store on a local disk `url` (`file:///path`) names: the same
    /// layout in a folder, made if missing.
    fn local(url: &str, parsed: &url::Url) -> Result<Client> {
        let root = parsed
            .to_file_path()
            .ok()
            .filter(|p| p.is_absolute() && parsed.host_str().is_none_or(str::is_empty))
            .ok_or_else(|| anyhow!("{url:?} names no absolute folder (file:///path)"))?;
        std::fs::create_dir_all(&root).with_context(|| {
            format!("cannot make the release store's folder {}", root.display())
        })?;
        // A removed release's folders go with its last file.
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("cannot set up the release store {url}"))?
            .with_automatic_cleanup(true);
        Ok(Client {
            s3: Arc::new(fs),
            bucket: root.display().to_string(),
            prefix: String::new(),
            endpoint: String::new(),
            local: Some(root),
        })
    }

    /// Where the store is, for messages: the bucket and the endpoint.
    pub fn place(&self) -> String {
        place(
            &self.bucket,
            &self.prefix,
            &self.endpoint,
            self.local.as_deref(),
        )
    }

    /// The key of `rel` (a path relative to the prefix).
    pub fn key(&self, rel: &str) -> Key {
        key(&self.prefix, rel)
    }

    /// The key of the object holding bytes whose SHA-256 is `sha256` (hex).
    pub fn object_key(&self, sha256: &str) -> Key {
        self.key(&object_rel(sha256))
    }

    /// The key of a release's manifest, or of a file beside it (a
    /// school's manifest, `manifests/<slug>.json`).
    pub fn release_key(&self, id: &str, rel: &str) -> Key {
        self.key(&format!("releases/{id}/{rel}"))
    }
}

/// `s3://bucket/prefix`, or `file:///path` for a store on a local disk.
fn url(bucket: &str, prefix: &str, local: Option<&std::path::Path>) -> String {
    match local {
        Some(root) => format!("file://{}", root.display()),
        None if prefix.is_empty() => format!("s3://{bucket}"),
        None => format!("s3://{bucket}/{prefix}"),
    }
}

/// `s3://bucket/prefix at endpoint`, or `file:///path`.
fn place(bucket: &str, prefix: &str, endpoint: &str, local: Option<&std::path::Path>) -> String {
    let url = url(bucket, prefix, local);
    if local.is_some() {
        return url;
    }
    let endpoint = if endpoint.is_empty() { "AWS" } else { endpoint };
    format!("{url} at {endpoint}")
}

fn key(prefix: &str, rel: &str) -> Key {
    if prefix.is_empty() {
        Key::from(rel)
    } else {
        Key::from(format!("{prefix}/{rel}"))
    }
}

/// Where the object of bytes whose SHA-256 is `sha256` lives, relative to the prefix.
fn object_rel(sha256: &str) -> String {
    format!("objects/{}/{sha256}", &sha256[..2.min(sha256.len())])
}

/// Stores `bytes` as the object `sha256` of the store on a local disk at
/// `root`: written under a name of its own beside it (`<sha256>#<n>`, a
/// name no reader looks up) and renamed, so a reader finds the whole
/// object or none. Flushed to disk by the publish (`syncfs`), not here.
fn local_put(root: &std::path::Path, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let path = root.join(object_rel(sha256));
    let tmp = root.join(format!(
        "{}#{:08x}",
        object_rel(sha256),
        rand::random::<u32>()
    ));
    let mut file = match std::fs::File::create_new(&tmp) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = tmp.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::File::create_new(&tmp)?
        }
        other => other?,
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| std::fs::rename(&tmp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Removes the objects of the store on a local disk at `root` that no
/// hash of `referenced` names and that were written before `cutoff`, and
/// the halves of writes a killed build left as old; how many. Only the
/// names of the objects kept are read, not their inodes: a city's store
/// holds two million, and a night removes a seventh of them. `referenced`
/// is sorted.
fn local_sweep(
    root: &std::path::Path,
    referenced: &[Sha],
    cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    let objects = root.join("objects");
    let dirs = match std::fs::read_dir(&objects) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        other => other.with_context(|| format!("cannot list {}", objects.display()))?,
    };
    let cutoff = std::time::SystemTime::from(cutoff);
    let mut removed = 0;
    for dir in dirs {
        let dir = dir.with_context(|| format!("cannot list {}", objects.display()))?;
        // Objects live in `objects/ab/`; anything else there is not the store's.
        if !dir.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let listed = std::fs::read_dir(dir.path())
            .with_context(|| format!("cannot list {}", dir.path().display()))?;
        for entry in listed {
            let entry = entry.with_context(|| format!("cannot list {}", dir.path().display()))?;
            let name = entry.file_name();
            if name
                .to_str()
                .and_then(sha)
                .is_some_and(|h| referenced.binary_search(&h).is_ok())
            {
                continue;
            }
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() || meta.modified().is_ok_and(|at| at >= cutoff) {
                continue;
            }
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot remove {}", entry.path().display()));
                }
            }
        }
    }
    Ok(removed)
}

impl S3Store {
    /// The bucket `url` (`s3://bucket/prefix`) names, reached as `settings`
    /// say, with the credentials of the environment. Nothing is asked of
    /// the store yet.
    pub fn open(url: &str, settings: &config::Store) -> Result<S3Store> {
        S3Store::connect(url, settings, Credentials::from_env(url)?)
    }

    /// The bucket `url` names, reached as `settings` say, with `credentials`.
    pub fn connect(
        url: &str,
        settings: &config::Store,
        credentials: Credentials,
    ) -> Result<S3Store> {
        let c = Client::connect(url, settings, credentials)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tabel-store")
            .enable_all()
            .build()
            .context("cannot start the release store's runtime")?;
        Ok(S3Store {
            inner: Arc::new(Inner {
                s3: c.s3,
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                bucket: c.bucket,
                prefix: c.prefix,
                endpoint: c.endpoint,
                local: c.local,
                uploads: settings.uploads,
                grace: Duration::from_secs(settings.gc_grace_seconds),
                lease: Duration::from_secs(settings.build_hours * 3600),
            }),
        })
    }

    /// The live release's id, read from the pointer.
    pub fn current(&self) -> Result<Option<String>> {
        self.inner.pointer()
    }

    /// Every file release `id` lists, sorted by path.
    pub fn release_files(&self, id: &str) -> Result<Vec<Entry>> {
        let manifest = self
            .inner
            .manifest(id)?
            .ok_or_else(|| anyhow!("there is no release {id} in {}", self.inner.place()))?;
        self.inner.files(id, &manifest)
    }

    /// The bytes stored for `sha256`, checked against it.
    pub fn object(&self, sha256: &str) -> Result<Vec<u8>> {
        let rel = object_rel(sha256);
        let bytes = self
            .inner
            .get(&rel)?
            .ok_or_else(|| anyhow!("{rel} is missing from {}", self.inner.place()))?;
        if hex(&bytes) != sha256 {
            bail!("{rel} in {} does not hold its bytes", self.inner.place());
        }
        Ok(bytes)
    }

    /// The content objects stored: how many, how many bytes.
    pub fn objects(&self) -> Result<(u64, u64)> {
        let all = self.inner.list("objects")?;
        Ok((all.len() as u64, all.iter().map(|m| m.size).sum()))
    }

    /// The running builds' markers, fresh or stale (older than
    /// `build_hours`): (marker, fresh, when written, key).
    #[allow(clippy::type_complexity)]
    fn pending(&self) -> Result<Vec<(Pending, bool, chrono::DateTime<chrono::Utc>, Key)>> {
        let now = chrono::Utc::now();
        let lease =
            chrono::Duration::from_std(self.inner.lease).unwrap_or(chrono::Duration::days(36_500));
        let mut out = Vec::new();
        for meta in self.inner.list("pending")? {
            let rel = self.inner.rel(&meta.location).to_owned();
            let Some(json) = self.inner.get(&rel)? else {
                continue;
            };
            let Ok(p) = serde_json::from_slice::<Pending>(&json) else {
                tracing::warn!(marker = %rel, "ignoring a pending marker that is not valid");
                continue;
            };
            let since = p.since.unwrap_or(meta.last_modified);
            out.push((p, meta.last_modified + lease > now, since, meta.location));
        }
        Ok(out)
    }

    /// The releases in the bucket: id → when it was published (its
    /// manifest written; none: not complete), and its objects.
    #[allow(clippy::type_complexity)]
    fn releases(
        &self,
    ) -> Result<BTreeMap<String, (Option<chrono::DateTime<chrono::Utc>>, Vec<Key>)>> {
        let mut out: BTreeMap<String, (Option<chrono::DateTime<chrono::Utc>>, Vec<Key>)> =
            BTreeMap::new();
        for meta in self.inner.list("releases")? {
            let rel = self.inner.rel(&meta.location);
            let Some(rest) = rel.strip_prefix("releases/") else {
                continue;
            };
            let Some((id, file)) = rest.split_once('/') else {
                continue;
            };
            let slot = out.entry(id.to_owned()).or_default();
            if file == MANIFEST {
                slot.0 = Some(meta.last_modified);
            }
            slot.1.push(meta.location);
        }
        Ok(out)
    }
}

/// Runs of `tabel build --worker`: one release written by workers in
/// several processes (`build/workers.rs`). The run's marker is written
/// once, when the run is created, and renewed by the workers while they
/// write; it keeps the bucket time it was first written at, so a garbage
/// collection spares everything the run sent since it began, as for one
/// build. Each worker stages a school's manifest under its own name
/// (`releases/<id>/staged/<slug>.<worker>.json`): a worker that lost its
/// lease never overwrites what the worker that took the school over
/// wrote. The publisher moves the staged manifests of the workers the
/// database names into place.
impl S3Store {
    /// `s3://bucket/prefix`: the same for every worker of a run, whatever
    /// endpoint each reaches the store through.
    pub fn url(&self) -> String {
        url(
            &self.inner.bucket,
            &self.inner.prefix,
            self.inner.local.as_deref(),
        )
    }

    /// A new release id, new among the releases and the running builds
    /// (several builds may start within one second, on several machines:
    /// it takes a random tail), and its marker; the id.
    fn mark_new(&self, base: Option<&Base>) -> Result<String> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut taken: HashSet<String> = self.releases()?.into_keys().collect();
        taken.extend(self.pending()?.into_iter().map(|(p, ..)| p.id));
        let id = loop {
            let id = format!("{stamp}-{:06x}", rand::random::<u32>() & 0xff_ffff);
            if !taken.contains(&id) {
                break id;
            }
        };
        let marker = Pending {
            id: id.clone(),
            base: base.map(|b| b.id.clone()),
            since: None,
        };
        let json = serde_json::to_vec(&marker).context("cannot serialize a pending marker")?;
        self.inner.put(&format!("pending/{id}.json"), json)?;
        Ok(id)
    }

    /// A writer of release `id`, carrying from `base`; with `stage`, a
    /// worker's of a run.
    fn writer(&self, id: String, base: Option<&Base>, stage: Option<&str>) -> Result<S3Writer> {
        let mut listed = Vec::new();
        if let Some(b) = base {
            self.inner.hashes(&b.id, &b.manifest, &mut listed)?;
        }
        Ok(S3Writer {
            inner: self.inner.clone(),
            id,
            base: base.map(|b| b.id.clone()),
            listed,
            known: Mutex::new(HashSet::new()),
            slots: Arc::new(tokio::sync::Semaphore::new(self.inner.uploads)),
            tasks: Mutex::new(Vec::new()),
            failed: Arc::new(OnceLock::new()),
            objects: Arc::new(AtomicU64::new(0)),
            bytes: Arc::new(AtomicU64::new(0)),
            started: Instant::now(),
            stage: stage.map(str::to_owned),
        })
    }

    /// Begins a run's release, carrying from `base`: its id, and its
    /// marker, written before any worker sends anything.
    pub fn begin_run(&self, base: Option<&Base>) -> Result<String> {
        let id = self.mark_new(base)?;
        self.renew_run(&id)?;
        Ok(id)
    }

    /// Where run `id`'s release stands.
    pub fn run_state(&self, id: &str) -> Result<RunState> {
        if self.inner.manifest(id)?.is_some() {
            return Ok(RunState::Published);
        }
        Ok(match self.inner.get_meta(&format!("pending/{id}.json"))? {
            Some((_, at)) if !self.stale(at) => RunState::Running,
            _ => RunState::Lost,
        })
    }

    fn stale(&self, written: chrono::DateTime<chrono::Utc>) -> bool {
        let lease =
            chrono::Duration::from_std(self.inner.lease).unwrap_or(chrono::Duration::days(36_500));
        written + lease <= chrono::Utc::now()
    }

    /// Renews run `id`'s marker, keeping when it was first written; an
    /// error when it is gone or stale (the run must start over).
    pub fn renew_run(&self, id: &str) -> Result<()> {
        let rel = format!("pending/{id}.json");
        let Some((json, at)) = self.inner.get_meta(&rel)? else {
            bail!(
                "the marker of run {id} is gone from {}: a garbage collection took the run for a dead build's, and what it sent may be collected; the run starts over",
                self.inner.place()
            );
        };
        if self.stale(at) {
            bail!(
                "the marker of run {id} in {} was not renewed for [store] build_hours: what the run sent may be collected; the run starts over",
                self.inner.place()
            );
        }
        let mut marker: Pending = serde_json::from_slice(&json)
            .with_context(|| format!("{rel} in {} is not valid", self.inner.place()))?;
        marker.since = Some(marker.since.unwrap_or(at));
        let json = serde_json::to_vec(&marker).context("cannot serialize a pending marker")?;
        self.inner.put(&rel, json)
    }

    /// A worker's writer into run `id`'s release, carrying from `base`:
    /// the school manifests it writes are staged under `worker`'s name.
    pub fn join_run(
        &self,
        id: &str,
        base: Option<&Base>,
        worker: &str,
    ) -> Result<Box<dyn ReleaseWriter>> {
        if worker.is_empty()
            || !worker
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            bail!("a worker's name is letters, digits, '-', '_' and '.', not {worker:?}");
        }
        self.renew_run(id)?;
        Ok(Box::new(self.writer(id.to_owned(), base, Some(worker))?))
    }

    /// The complete release `id`, if the bucket holds it.
    pub fn release(&self, id: &str) -> Result<Option<Base>> {
        Ok(self.inner.manifest(id)?.map(|manifest| Base {
            id: id.to_owned(),
            manifest,
        }))
    }

    /// Moves the school manifest `worker` staged for `part` into place in
    /// run `id`'s release, checked against the part.
    pub fn place_part(&self, id: &str, part: &Part, worker: &str) -> Result<()> {
        let staged = format!("releases/{id}/{}", staged(part, worker));
        let json = self
            .inner
            .get(&staged)?
            .ok_or_else(|| anyhow!("{staged} is missing from {}", self.inner.place()))?;
        if hex(&json) != part.sha256 {
            bail!(
                "{staged} in {} is not the manifest the database records",
                self.inner.place()
            );
        }
        self.inner
            .put(&format!("releases/{id}/{}", part.manifest), json)?;
        let _ = self.inner.delete(vec![self.inner.key(&staged)]);
        Ok(())
    }
}

/// Where a worker stages a school's manifest inside the release.
fn staged(part: &Part, worker: &str) -> String {
    let name = part
        .manifest
        .rsplit('/')
        .next()
        .unwrap_or(&part.manifest)
        .trim_end_matches(".json");
    format!("staged/{name}.{worker}.json")
}

impl ReleaseStore for S3Store {
    fn location(&self) -> String {
        self.inner.place()
    }

    /// Markers of builds that ended without publishing (killed) and are
    /// older than the grace go, with the manifests they wrote.
    fn clean_leftovers(&self) -> Result<usize> {
        let releases = self.releases()?;
        let mut keys = Vec::new();
        let mut removed = 0;
        for (p, fresh, _, marker) in self.pending()? {
            if fresh {
                continue;
            }
            if let Some((None, objects)) = releases.get(&p.id) {
                keys.extend(objects.iter().cloned());
                removed += 1;
            }
            keys.push(marker);
        }
        self.inner.delete(keys)?;
        Ok(removed)
    }

    fn live(&self) -> Result<Option<Base>> {
        let Some(id) = self.inner.pointer()? else {
            return Ok(None);
        };
        let manifest = self.inner.manifest(&id)?.ok_or_else(|| {
            anyhow!(
                "{POINTER} in {} names release {id}, which has no manifest",
                self.inner.place()
            )
        })?;
        Ok(Some(Base { id, manifest }))
    }

    fn read_part(&self, base: &Base, part: &Part) -> Result<Vec<Entry>> {
        self.inner.read_part(&base.id, part)
    }

    fn start(&self, base: Option<&Base>) -> Result<Box<dyn ReleaseWriter>> {
        // The marker first: from now on no garbage collection removes the
        // base release or what it lists.
        let id = self.mark_new(base)?;
        Ok(Box::new(self.writer(id, base, None)?))
    }

    fn prune(&self, keep: usize) -> Result<Vec<String>> {
        let pending = self.pending()?;
        let running: HashSet<String> = pending
            .iter()
            .filter(|(_, fresh, _, _)| *fresh)
            .flat_map(|(p, _, _, _)| [Some(p.id.clone()), p.base.clone()])
            .flatten()
            .collect();
        let live = self.inner.pointer()?;
        let releases = self.releases()?;
        // Oldest first, by when they were published.
        let mut complete: Vec<(chrono::DateTime<chrono::Utc>, &String)> = releases
            .iter()
            .filter_map(|(id, (done, _))| done.map(|at| (at, id)))
            .collect();
        complete.sort();
        let complete: Vec<&String> = complete.into_iter().map(|(_, id)| id).collect();
        let excess = complete.len().saturating_sub(keep.max(1));
        let mut removed = Vec::new();
        for id in complete.iter().take(excess) {
            if live.as_deref() == Some(id.as_str()) || running.contains(*id) {
                continue;
            }
            let objects = &releases[*id].1;
            // The manifest first, so a half-removed release is never taken for whole.
            self.inner
                .delete(vec![self.inner.key(&format!("releases/{id}/{MANIFEST}"))])?;
            self.inner.delete(objects.clone())?;
            removed.push((*id).clone());
        }
        // What the releases left list, and the releases running builds
        // carry files from, is kept; of the rest, what is old enough goes.
        let mut referenced: Vec<Sha> = Vec::new();
        for id in &complete {
            if removed.contains(*id) {
                continue;
            }
            let Some(manifest) = self.inner.manifest(id)? else {
                continue;
            };
            self.inner.hashes(id, &manifest, &mut referenced)?;
        }
        let mut cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(self.inner.grace)
                .unwrap_or(chrono::Duration::days(36_500));
        // Whatever a running build may have sent since it began.
        if let Some(oldest) = pending
            .iter()
            .filter(|(_, fresh, _, _)| *fresh)
            .map(|(_, _, at, _)| *at)
            .min()
        {
            cutoff = cutoff.min(oldest - chrono::Duration::seconds(1));
        }
        let swept = match &self.inner.local {
            Some(root) => local_sweep(root, &referenced, cutoff)?,
            None => {
                let garbage: Vec<Key> = self
                    .inner
                    .list("objects")?
                    .into_iter()
                    .filter(|m| m.last_modified < cutoff)
                    .filter(|m| {
                        let name = m.location.filename().unwrap_or("");
                        sha(name).is_none_or(|h| referenced.binary_search(&h).is_err())
                    })
                    .map(|m| m.location)
                    .collect();
                self.inner.delete(garbage)?
            }
        };
        if swept > 0 || !removed.is_empty() {
            tracing::info!(
                releases = removed.len(),
                objects = swept,
                "removed old releases from the store"
            );
        }
        Ok(removed)
    }
}

/// A release being written into the bucket.
struct S3Writer {
    inner: Arc<Inner>,
    id: String,
    base: Option<String>,
    /// Hashes of the objects the base release lists, sorted: stored already.
    listed: Vec<Sha>,
    /// Hashes of the objects this build sent.
    known: Mutex<HashSet<Sha>>,
    /// Uploads in flight at once, at most.
    slots: Arc<tokio::sync::Semaphore>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The first upload that failed.
    failed: Arc<OnceLock<String>>,
    objects: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
    started: Instant,
    /// A worker of a run: its name, under which it stages school manifests.
    stage: Option<String>,
}

impl S3Writer {
    fn check(&self) -> Result<()> {
        match self.failed.get() {
            Some(e) => bail!("{e}"),
            None => Ok(()),
        }
    }

    /// Waits for every upload; the first failure.
    fn drain(&self) -> Result<()> {
        let tasks = std::mem::take(&mut *self.tasks.lock().map_err(|_| anyhow!("poisoned"))?);
        self.inner.wait(async move {
            for t in tasks {
                t.await
                    .map_err(|e| anyhow!("an upload did not finish: {e}"))?;
            }
            Ok(())
        })?;
        self.check()
    }

    fn base(&self) -> Result<&str> {
        self.base
            .as_deref()
            .ok_or_else(|| anyhow!("there is no release to carry files over from"))
    }
}

impl ReleaseWriter for S3Writer {
    fn id(&self) -> &str {
        &self.id
    }

    fn write(&self, path: &str, bytes: &[u8], sha256: &str) -> Result<u64> {
        self.check()?;
        let size = bytes.len() as u64;
        let hash = sha(sha256).ok_or_else(|| anyhow!("{path}: {sha256:?} is not a SHA-256"))?;
        if self.listed.binary_search(&hash).is_ok() {
            return Ok(size);
        }
        if !self
            .known
            .lock()
            .map_err(|_| anyhow!("poisoned"))?
            .insert(hash)
        {
            return Ok(size);
        }
        if let Some(root) = &self.inner.local {
            // On a local disk the worker writes it itself: no request to
            // queue, and the rendering threads keep the disk busy.
            local_put(root, sha256, bytes)
                .with_context(|| format!("cannot store {path} in {}", self.inner.place()))?;
            self.objects.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(size, Ordering::Relaxed);
            return Ok(size);
        }
        let slots = self.slots.clone();
        let permit = self
            .inner
            .wait(async move { Ok(slots.acquire_owned().await?) })?;
        let (s3, key) = (self.inner.s3.clone(), self.inner.object_key(sha256));
        let payload = PutPayload::from(bytes.to_vec());
        let (failed, objects, counted) = (
            self.failed.clone(),
            self.objects.clone(),
            self.bytes.clone(),
        );
        let what = format!("cannot store {path} in {}", self.inner.place());
        let task = self.inner.handle.spawn(async move {
            let _permit = permit;
            match s3.put(&key, payload).await {
                Ok(_) => {
                    objects.fetch_add(1, Ordering::Relaxed);
                    counted.fetch_add(size, Ordering::Relaxed);
                }
                Err(e) => {
                    let _ = failed.set(format!("{what}: {e}"));
                }
            }
        });
        self.tasks
            .lock()
            .map_err(|_| anyhow!("poisoned"))?
            .push(task);
        Ok(size)
    }

    fn carry(&self, entry: &Entry) -> Result<()> {
        // The object is stored already: the base release lists it.
        self.base()?;
        if let Some(hash) = sha(&entry.sha256).filter(|h| self.listed.binary_search(h).is_err()) {
            self.known
                .lock()
                .map_err(|_| anyhow!("poisoned"))?
                .insert(hash);
        }
        Ok(())
    }

    fn write_part(&self, school: &str, slug: &str, files: Vec<Entry>) -> Result<(Part, u64)> {
        self.check()?;
        let (part, json) = release::part_bytes(school, slug, files)?;
        let rel = match &self.stage {
            Some(worker) => staged(&part, worker),
            None => part.manifest.clone(),
        };
        let size = json.len() as u64;
        self.inner
            .put(&format!("releases/{}/{rel}", self.id), json)?;
        Ok((part, size))
    }

    fn carry_part(&self, part: &Part) -> Result<()> {
        let base = self.base()?.to_owned();
        let json = self
            .inner
            .get(&format!("releases/{base}/{}", part.manifest))?
            .ok_or_else(|| anyhow!("{} of release {base} is missing", part.manifest))?;
        self.inner
            .put(&format!("releases/{}/{}", self.id, part.manifest), json)
    }

    fn flush(&self) -> Result<()> {
        self.drain()
    }

    fn uploaded(&self) -> Option<(u64, u64)> {
        Some((
            self.objects.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        ))
    }

    fn publish(self: Box<Self>, manifest: &Manifest) -> Result<PathBuf> {
        self.drain()?;
        if self.stage.is_some() {
            // A run's marker, renewed by its workers, says whether what
            // they sent is still whole.
            let store = S3Store {
                inner: self.inner.clone(),
            };
            store
                .renew_run(&self.id)
                .context("the run is not published")?;
        } else if self.started.elapsed() > self.inner.lease {
            bail!(
                "the build took longer than [store] build_hours ({} h): objects it relies on may have been collected meanwhile, so it is not published",
                self.inner.lease.as_secs() / 3600
            );
        }
        let json = serde_json::to_vec_pretty(manifest).context("cannot serialize the manifest")?;
        // On a local disk, what the manifest lists reaches the disk before
        // it, and it before the pointer: a crash leaves the last release live.
        self.inner.sync()?;
        self.inner
            .put(&format!("releases/{}/{MANIFEST}", self.id), json)?;
        self.inner.sync()?;
        // The one write that makes the release live.
        self.inner
            .put(POINTER, format!("{}\n", self.id).into_bytes())?;
        self.inner.sync()?;
        let _ = self
            .inner
            .delete(vec![self.inner.key(&format!("pending/{}.json", self.id))]);
        let url = url(
            &self.inner.bucket,
            &self.inner.prefix,
            self.inner.local.as_deref(),
        );
        Ok(PathBuf::from(format!("{url}/releases/{}", self.id)))
    }

    fn abandon(self: Box<Self>) {
        let _ = self.drain();
        if self.stage.is_some() {
            // The run's release is the other workers' too.
            return;
        }
        let mut keys: Vec<Key> = self
            .inner
            .list(&format!("releases/{}", self.id))
            .map(|all| all.into_iter().map(|m| m.location).collect())
            .unwrap_or_default();
        keys.push(self.inner.key(&format!("pending/{}.json", self.id)));
        let _ = self.inner.delete(keys);
    }
}
