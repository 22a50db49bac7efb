//! Where the gate reads releases from (ARCHITECTURE.md, "The gate's
//! sources"): the local folder (`output/current`, `output/releases/<id>`)
//! or an S3-compatible bucket laid out as `build/store/s3.rs` writes it
//! (`current`, `releases/<id>/…`, `objects/ab/<sha256>`). `releases.rs`
//! asks one [`Source`] for the pointer, a manifest, a school's manifest and
//! a file's bytes, whichever it is.
//!
//! A bucket is read with `object_store`'s async API on the gate's own
//! runtime. Objects are named by their SHA-256 and never change, so a copy
//! fetched once serves every release that lists it: copies are kept in a
//! bounded folder on local disk (`[serve] disk_cache`), least recently used
//! first out. Every object is checked against its SHA-256 before it is
//! served, fetched or read from that folder: an object changed in the
//! bucket is not served (and logged); a damaged copy on disk is dropped and
//! fetched again. Requests for the same cold object share one fetch, and
//! fetches in flight at once are bounded. A store that cannot be reached
//! is logged once, when it goes, and once when it is back; meanwhile what
//! is cached is served and the rest is answered 503.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Bytes;
use object_store::ObjectStoreExt;
use object_store::path::Path as Key;
use sha2::{Digest, Sha256};

use crate::build::release::{self, COMPLETE, MANIFEST, Manifest, Part};
use crate::build::store::s3::{Client, Credentials, POINTER};
use crate::config;

/// One stored form of a file (as it is, or compressed): size and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

/// How a file's bytes are coded, on disk and on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// The file as it is.
    Identity,
    /// Its `.br` variant.
    Brotli,
    /// Its `.gz` variant.
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
        }
    }

    /// What the variant's file name adds to the file's.
    fn suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Brotli => ".br",
            Coding::Gzip => ".gz",
        }
    }
}

/// Why something could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The store cannot be reached now: answered 503, tried again later.
    Unavailable,
    /// Missing, or not what the manifest says (logged where found):
    /// answered 404, never with other bytes.
    Bad,
}

/// Where releases are read from.
#[derive(Debug)]
pub enum Source {
    /// The output folder holding `current` and `releases/`.
    Folder(PathBuf),
    /// A bucket.
    Bucket(Box<Bucket>),
}

/// How a gate reaches a bucket.
#[derive(Debug, Clone)]
pub struct BucketSettings {
    /// `s3://bucket/prefix`.
    pub url: String,
    /// The `[store]` table.
    pub store: config::Store,
    /// The identity at the store.
    pub credentials: Credentials,
    /// The folder of the disk cache, if any, and the bytes it may hold.
    pub disk_cache: Option<(PathBuf, u64)>,
    /// Fetches in flight at once, at most.
    pub fetches: usize,
}

impl Source {
    /// The bucket `settings` name, with its disk cache. Nothing is asked
    /// of the store yet: a gate starts while it is down.
    pub fn bucket(settings: &BucketSettings) -> Result<Source> {
        let client = Client::connect(&settings.url, &settings.store, settings.credentials.clone())?;
        let disk = match &settings.disk_cache {
            Some((dir, bytes)) => Some(Arc::new(DiskCache::open(dir, *bytes)?)),
            None => None,
        };
        Ok(Source::Bucket(Box::new(Bucket {
            client,
            disk,
            slots: tokio::sync::Semaphore::new(settings.fetches.max(1)),
            flights: Mutex::new(HashMap::new()),
            health: Mutex::new(Health::default()),
        })))
    }

    /// True when the store could not be reached lately (a folder always can).
    pub fn unreachable(&self) -> bool {
        match self {
            Source::Folder(_) => false,
            Source::Bucket(b) => lock(&b.health).down,
        }
    }

    /// The text of a school's manifest in release `id`, checked against its part.
    pub async fn part(&self, id: &str, part: &Part) -> Result<Bytes, Failure> {
        match self {
            Source::Folder(output) => {
                let (dir, part) = (output.join(id), part.clone());
                match tokio::task::spawn_blocking(move || release::part_json(&dir, &part)).await {
                    Ok(Ok(json)) => Ok(Bytes::from(json)),
                    Ok(Err(err)) => {
                        tracing::error!("{err:#}");
                        Err(Failure::Bad)
                    }
                    Err(err) => {
                        tracing::error!("reading a school's manifest stopped: {err}");
                        Err(Failure::Bad)
                    }
                }
            }
            Source::Bucket(b) => {
                let mut sha256 = [0; 32];
                if data_encoding::HEXLOWER
                    .decode_mut(part.sha256.as_bytes(), &mut sha256)
                    .is_err()
                    || part.sha256.len() != 64
                {
                    tracing::error!(
                        "release {id}: {:?} is not a SHA-256 in hex ({})",
                        part.sha256,
                        part.manifest
                    );
                    return Err(Failure::Bad);
                }
                let key = b.client.release_key(id, &part.manifest);
                b.checked(sha256, None, key).await
            }
        }
    }

    /// The bytes of the file at `path` of release `id` in `coding`, stored
    /// as `stored` says, checked against it.
    pub async fn file(
        &self,
        id: &str,
        path: &str,
        stored: &Stored,
        coding: Coding,
    ) -> Result<Bytes, Failure> {
        match self {
            Source::Folder(output) => read_file(output, id, path, stored, coding).map_err(|err| {
                tracing::error!("{err:#}");
                Failure::Bad
            }),
            Source::Bucket(b) => {
                let hex = data_encoding::HEXLOWER.encode(&stored.sha256);
                let key = b.client.object_key(&hex);
                b.checked(stored.sha256, Some(stored.size), key).await
            }
        }
    }
}

/// Reads a file of the release `output/id` from disk (symlinks are not
/// followed), checked against the manifest.
fn read_file(
    output: &Path,
    id: &str,
    path: &str,
    stored: &Stored,
    coding: Coding,
) -> Result<Bytes> {
    let mut full = output.join(id).join(path).into_os_string();
    full.push(coding.suffix());
    let full = PathBuf::from(full);
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&full)
        .with_context(|| format!("cannot open {}", full.display()))?;
    let mut buf = Vec::with_capacity(stored.size as usize);
    f.read_to_end(&mut buf)?;
    if !matches(&buf, stored.sha256, Some(stored.size)) {
        anyhow::bail!("{} does not match the manifest", full.display());
    }
    Ok(Bytes::from(buf))
}

/// The release the folder's `current` names (`releases/<id>`), read now.
pub fn folder_pointer(output: &Path) -> Option<String> {
    let target = fs::read_link(output.join("current")).ok()?;
    let id = target.to_str()?.to_owned();
    // Only a target of the form releases/<name> is ours.
    let name = id.strip_prefix("releases/")?;
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    Some(id)
}

/// The manifest of the complete release `output/id`.
pub fn folder_manifest(output: &Path, id: &str) -> Result<Manifest> {
    let dir = output.join(id);
    if !dir.join(COMPLETE).exists() {
        anyhow::bail!("{} is not a complete release", dir.display());
    }
    release::read_manifest(&dir)
}

fn matches(bytes: &[u8], sha256: [u8; 32], size: Option<u64>) -> bool {
    size.is_none_or(|s| s == bytes.len() as u64) && Sha256::digest(bytes)[..] == sha256
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fetch shared by every request for the same object meanwhile.
type Flight = Arc<tokio::sync::OnceCell<Result<Bytes, Failure>>>;

/// A bucket, as the gate reads it.
#[derive(Debug)]
pub struct Bucket {
    client: Client,
    disk: Option<Arc<DiskCache>>,
    /// Fetches in flight at once, at most.
    slots: tokio::sync::Semaphore,
    /// Fetches under way, by SHA-256.
    flights: Mutex<HashMap<[u8; 32], Flight>>,
    health: Mutex<Health>,
}

/// Whether the store answers.
#[derive(Debug, Default)]
struct Health {
    /// The last request failed to reach it.
    down: bool,
    /// When a request last failed to reach it.
    failed_at: Option<Instant>,
}

/// While the store is down, requests that need it are answered 503 at once,
/// and one request this often tries it again (the pointer's poll does too).
const RETRY_DOWN: Duration = Duration::from_secs(1);

impl Bucket {
    /// Where the bucket is, for messages.
    pub fn place(&self) -> String {
        self.client.place()
    }

    /// Whether a request may try the store now: always while it answers;
    /// once a second while it does not.
    fn may_try(&self) -> bool {
        let h = lock(&self.health);
        !h.down || h.failed_at.is_none_or(|at| at.elapsed() >= RETRY_DOWN)
    }

    fn failed(&self, key: &Key, err: &object_store::Error) {
        let mut h = lock(&self.health);
        h.failed_at = Some(Instant::now());
        if !h.down {
            h.down = true;
            tracing::error!(
                "the release store {} cannot be reached (reading {key}: {err}); serving what is cached, 503 for the rest, until it answers",
                self.place()
            );
        }
    }

    fn reached(&self) {
        let mut h = lock(&self.health);
        if h.down {
            h.down = false;
            tracing::info!("the release store {} answers again", self.place());
        }
    }

    /// The object at `key`; `None` if there is none.
    async fn get(&self, key: &Key) -> Result<Option<Bytes>, Failure> {
        let got = match self.client.s3.get(key).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match got {
            Ok(b) => {
                self.reached();
                Ok(Some(b))
            }
            Err(object_store::Error::NotFound { .. }) => {
                self.reached();
                Ok(None)
            }
            Err(e) => {
                self.failed(key, &e);
                Err(Failure::Unavailable)
            }
        }
    }

    /// The id the pointer names, read from the store now.
    pub async fn pointer(&self) -> Result<Option<String>, Failure> {
        let key = self.client.key(POINTER);
        Ok(self
            .get(&key)
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|id| !id.is_empty()))
    }

    /// The manifest of release `id`.
    pub async fn manifest(&self, id: &str) -> Result<Manifest, Failure> {
        let key = self.client.release_key(id, MANIFEST);
        let Some(json) = self.get(&key).await? else {
            tracing::error!(
                "{POINTER} in {} names release {id}, which has no manifest",
                self.place()
            );
            return Err(Failure::Bad);
        };
        serde_json::from_slice(&json).map_err(|err| {
            tracing::error!("{key} in {} is not valid: {err}", self.place());
            Failure::Bad
        })
    }

    /// The bytes whose SHA-256 is `sha256` (and size `size`, if known),
    /// stored at `key`: from the disk cache, or fetched (once for every
    /// request that wants them meanwhile), checked either way.
    async fn checked(
        &self,
        sha256: [u8; 32],
        size: Option<u64>,
        key: Key,
    ) -> Result<Bytes, Failure> {
        if let Some(disk) = &self.disk
            && let Some(b) = disk.get(sha256, size).await
        {
            return Ok(b);
        }
        if !self.may_try() {
            return Err(Failure::Unavailable);
        }
        let flight = lock(&self.flights).entry(sha256).or_default().clone();
        let got = flight
            .get_or_init(|| self.fetch(sha256, size, &key))
            .await
            .clone();
        let mut flights = lock(&self.flights);
        if flights
            .get(&sha256)
            .is_some_and(|f| Arc::ptr_eq(f, &flight))
        {
            flights.remove(&sha256);
        }
        got
    }

    async fn fetch(
        &self,
        sha256: [u8; 32],
        size: Option<u64>,
        key: &Key,
    ) -> Result<Bytes, Failure> {
        let Ok(_slot) = self.slots.acquire().await else {
            return Err(Failure::Unavailable);
        };
        let Some(bytes) = self.get(key).await? else {
            tracing::error!("{key} is missing from {}: not served", self.place());
            return Err(Failure::Bad);
        };
        if !matches(&bytes, sha256, size) {
            tracing::error!(
                "{key} in {} does not hold the bytes its release lists (SHA-256 {}): not served",
                self.place(),
                data_encoding::HEXLOWER.encode(&sha256)
            );
            return Err(Failure::Bad);
        }
        if let Some(disk) = &self.disk {
            disk.put(sha256, bytes.clone()).await;
        }
        Ok(bytes)
    }
}

/// Copies of objects on local disk, `dir/ab/<sha256>`, holding at most
/// `budget` bytes; the least recently used go first.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    budget: u64,
    lru: Mutex<Lru>,
}

/// What the disk cache holds, and in which order it was last used.
#[derive(Debug, Default)]
struct Lru {
    bytes: u64,
    tick: u64,
    /// Size and last use, by SHA-256.
    by_sha: HashMap<[u8; 32], (u64, u64)>,
    /// SHA-256 by last use, oldest first.
    by_use: BTreeMap<u64, [u8; 32]>,
}

impl Lru {
    fn touch(&mut self, sha256: [u8; 32]) -> bool {
        let Some((_, used)) = self.by_sha.get_mut(&sha256) else {
            return false;
        };
        self.by_use.remove(used);
        self.tick += 1;
        *used = self.tick;
        self.by_use.insert(self.tick, sha256);
        true
    }

    fn insert(&mut self, sha256: [u8; 32], size: u64) {
        if self.touch(sha256) {
            return;
        }
        self.tick += 1;
        self.by_sha.insert(sha256, (size, self.tick));
        self.by_use.insert(self.tick, sha256);
        self.bytes += size;
    }

    fn remove(&mut self, sha256: &[u8; 32]) {
        if let Some((size, used)) = self.by_sha.remove(sha256) {
            self.by_use.remove(&used);
            self.bytes -= size;
        }
    }

    /// Drops the least recently used until `budget` holds; what was dropped.
    fn evict(&mut self, budget: u64) -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        while self.bytes > budget
            && let Some((_, sha256)) = self.by_use.pop_first()
        {
            if let Some((size, _)) = self.by_sha.remove(&sha256) {
                self.bytes -= size;
            }
            out.push(sha256);
        }
        out
    }
}

impl DiskCache {
    /// The cache in `dir` (made if missing), taking in what an earlier
    /// gate left there, oldest first out; at most `budget` bytes.
    pub fn open(dir: &Path, budget: u64) -> Result<DiskCache> {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot make the disk cache folder {}", dir.display()))?;
        let mut found = Vec::new();
        let read = fs::read_dir(dir)
            .with_context(|| format!("cannot read the disk cache folder {}", dir.display()))?;
        for sub in read.flatten() {
            let Ok(files) = fs::read_dir(sub.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let mut sha256 = [0; 32];
                let path = f.path();
                let ok = name.len() == 64
                    && data_encoding::HEXLOWER
                        .decode_mut(name.as_encoded_bytes(), &mut sha256)
                        .is_ok();
                match f.metadata() {
                    Ok(m) if ok && m.is_file() => {
                        let at = m.modified().unwrap_or(std::time::UNIX_EPOCH);
                        found.push((at, sha256, m.len()));
                    }
                    // A copy being written when an earlier gate stopped.
                    _ => {
                        let _ = fs::remove_file(&path);
                    }
                }
            }
        }
        found.sort();
        let cache = DiskCache {
            dir: dir.to_path_buf(),
            budget,
            lru: Mutex::new(Lru::default()),
        };
        let evicted = {
            let mut lru = lock(&cache.lru);
            for (_, sha256, size) in found {
                lru.insert(sha256, size);
            }
            lru.evict(budget)
        };
        for sha256 in evicted {
            let _ = fs::remove_file(cache.path(&sha256));
        }
        Ok(cache)
    }

    fn path(&self, sha256: &[u8; 32]) -> PathBuf {
        let hex = data_encoding::HEXLOWER.encode(sha256);
        self.dir.join(&hex[..2]).join(hex)
    }

    /// The copy of the bytes whose SHA-256 is `sha256`, if one is kept
    /// and still holds them; a damaged copy is dropped.
    async fn get(self: &Arc<Self>, sha256: [u8; 32], size: Option<u64>) -> Option<Bytes> {
        if !lock(&self.lru).touch(sha256) {
            return None;
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let path = me.path(&sha256);
            let bytes = fs::read(&path).ok();
            if let Some(b) = bytes
                && matches(&b, sha256, size)
            {
                return Some(Bytes::from(b));
            }
            tracing::warn!(
                "the disk cache's copy {} is damaged or gone: dropped, fetched again",
                path.display()
            );
            lock(&me.lru).remove(&sha256);
            let _ = fs::remove_file(&path);
            None
        })
        .await
        .ok()
        .flatten()
    }

    /// Keeps a copy of `bytes` (checked to be `sha256`), making room.
    async fn put(self: &Arc<Self>, sha256: [u8; 32], bytes: Bytes) {
        if bytes.len() as u64 > self.budget || lock(&self.lru).by_sha.contains_key(&sha256) {
            return;
        }
        let me = self.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let path = me.path(&sha256);
            let tmp = path.with_extension(format!("tmp{:08x}", rand::random::<u32>()));
            let wrote = (|| -> std::io::Result<()> {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)?;
                }
                let mut f = fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                fs::rename(&tmp, &path)
            })();
            if let Err(err) = wrote {
                let _ = fs::remove_file(&tmp);
                tracing::warn!("cannot keep a copy in {}: {err}", me.dir.display());
                return;
            }
            let evicted = {
                let mut lru = lock(&me.lru);
                lru.insert(sha256, bytes.len() as u64);
                lru.evict(me.budget)
            };
            for old in evicted {
                let _ = fs::remove_file(me.path(&old));
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    #[tokio::test]
    async fn the_disk_cache_keeps_the_recently_used_within_its_budget_and_drops_damaged_copies() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(DiskCache::open(dir.path(), 25).unwrap());
        let (a, b, c) = (&b"aaaaaaaaaa"[..], &b"bbbbbbbbbb"[..], &b"cccccccccc"[..]);
        cache.put(sha(a), Bytes::from_static(a)).await;
        cache.put(sha(b), Bytes::from_static(b)).await;
        // `a` used last: `b` goes when `c` comes.
        assert_eq!(cache.get(sha(a), Some(10)).await.as_deref(), Some(a));
        cache.put(sha(c), Bytes::from_static(c)).await;
        assert_eq!(cache.get(sha(b), Some(10)).await, None);
        assert!(!cache.path(&sha(b)).exists());
        assert_eq!(cache.get(sha(c), None).await.as_deref(), Some(c));

        // A damaged copy is never returned, and is dropped.
        fs::write(cache.path(&sha(c)), b"cccccccccX").unwrap();
        assert_eq!(cache.get(sha(c), Some(10)).await, None);
        assert!(!cache.path(&sha(c)).exists());

        // What is kept outlives the cache: a new one over the folder finds it.
        drop(cache);
        let again = Arc::new(DiskCache::open(dir.path(), 25).unwrap());
        assert_eq!(again.get(sha(a), Some(10)).await.as_deref(), Some(a));
        assert_eq!(lock(&again.lru).bytes, 10);
    }
}
