//! The live release as the gate sees it: resolved through `current` once
//! per request, its manifest in memory in a compact form, and a size-bounded
//! cache of file contents, each checked against the manifest's hash when
//! first read. A school's own manifest is read off the request workers:
//! all of them in the background as soon as a release goes live, and any
//! one at once when a request needs it first.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::accounts::access::Scope;
use crate::build::release::{self, COMPLETE, Entry, Part};
use crate::gradebook::Date;
use crate::views::paths::{self, Page};

/// Files by path. Their keys come from the release, never from a client,
/// so a fast hash serves: a client can only look up.
type Files = HashMap<Box<str>, Served, foldhash::fast::RandomState>;

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

/// A file the gate serves: who may read it, and the forms it is stored in.
/// Kept small: a city's gate holds millions. Files of one scope share it.
#[derive(Debug)]
pub struct Served {
    /// Who may read it.
    pub scope: Arc<Scope>,
    /// External id of its school; empty for shared files.
    pub school: Arc<str>,
    /// The file as it is.
    pub plain: Stored,
    /// The `.br` variant, if the release has one.
    pub br: Option<Stored>,
    /// The `.gz` variant, if the release has one.
    pub gz: Option<Stored>,
    /// Its number in the release, which keys the content cache.
    id: u64,
}

impl Served {
    /// The coding to send a client that takes brotli (`br`) and/or gzip
    /// (`gz`): the first of those the release has the file in.
    pub fn coding(&self, br: bool, gz: bool) -> Coding {
        if br && self.br.is_some() {
            Coding::Brotli
        } else if gz && self.gz.is_some() {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    fn stored(&self, coding: Coding) -> Option<&Stored> {
        match coding {
            Coding::Identity => Some(&self.plain),
            Coding::Brotli => self.br.as_ref(),
            Coding::Gzip => self.gz.as_ref(),
        }
    }
}

/// A manifest entry as read, borrowing from the manifest's text where it
/// can; what the gate does not need (the inputs' hash) is skipped.
#[derive(Debug, Deserialize)]
struct Listed<'a> {
    #[serde(borrow)]
    path: Cow<'a, str>,
    size: u64,
    #[serde(borrow)]
    sha256: Cow<'a, str>,
    #[serde(borrow)]
    scope: ListedScope<'a>,
    #[serde(borrow)]
    school: Cow<'a, str>,
}

/// [`Scope`] as read.
#[derive(Debug, Deserialize, PartialEq, Eq, Hash)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
enum ListedScope<'a> {
    Public,
    StudentDays(
        #[serde(borrow)] Cow<'a, str>,
        #[serde(borrow)] Cow<'a, str>,
        #[serde(borrow)] Cow<'a, str>,
    ),
    Student(#[serde(borrow)] Cow<'a, str>),
    Class(#[serde(borrow)] Cow<'a, str>),
    School(#[serde(borrow)] Cow<'a, str>),
}

impl<'a> Listed<'a> {
    fn of(e: &'a Entry) -> Listed<'a> {
        Listed {
            path: Cow::Borrowed(&e.path),
            size: e.size,
            sha256: Cow::Borrowed(&e.sha256),
            scope: match &e.scope {
                Scope::Public => ListedScope::Public,
                Scope::StudentDays(k, from, until) => ListedScope::StudentDays(
                    Cow::Borrowed(k),
                    Cow::Owned(from.to_string()),
                    Cow::Owned(until.to_string()),
                ),
                Scope::Student(k) => ListedScope::Student(Cow::Borrowed(k)),
                Scope::Class(k) => ListedScope::Class(Cow::Borrowed(k)),
                Scope::School(k) => ListedScope::School(Cow::Borrowed(k)),
            },
            school: Cow::Borrowed(&e.school),
        }
    }
}

impl ListedScope<'_> {
    fn owned(&self) -> Result<Scope> {
        let day = |text: &str| {
            Date::parse_iso(text).with_context(|| format!("{text:?} is not a date YYYY-MM-DD"))
        };
        Ok(match self {
            ListedScope::Public => Scope::Public,
            ListedScope::StudentDays(k, from, until) => {
                Scope::StudentDays(k.to_string(), day(from)?, day(until)?)
            }
            ListedScope::Student(k) => Scope::Student(k.to_string()),
            ListedScope::Class(k) => Scope::Class(k.to_string()),
            ListedScope::School(k) => Scope::School(k.to_string()),
        })
    }
}

/// The files of a manifest list by path, each variant beside its file,
/// numbered from `first`. A variant without its file cannot be asked for,
/// and is left out.
fn served<'a>(listed: impl IntoIterator<Item = Listed<'a>>, first: u64) -> Result<Files> {
    let mut scopes: HashMap<ListedScope<'a>, Arc<Scope>> = HashMap::new();
    let mut schools: HashMap<Cow<'a, str>, Arc<str>> = HashMap::new();
    let mut variants = Vec::new();
    let mut files = Files::default();
    for e in listed {
        let mut sha256 = [0; 32];
        if e.sha256.len() != 64
            || data_encoding::HEXLOWER
                .decode_mut(e.sha256.as_bytes(), &mut sha256)
                .is_err()
        {
            bail!("{}: {:?} is not a SHA-256 in hex", e.path, e.sha256);
        }
        let stored = Stored {
            size: e.size,
            sha256,
        };
        let coding = if e.path.ends_with(".br") {
            Coding::Brotli
        } else if e.path.ends_with(".gz") {
            Coding::Gzip
        } else {
            Coding::Identity
        };
        if coding != Coding::Identity {
            variants.push((e.path, coding, stored));
            continue;
        }
        let scope = match scopes.get(&e.scope) {
            Some(s) => s.clone(),
            None => {
                let s = Arc::new(
                    e.scope
                        .owned()
                        .with_context(|| format!("{}: its scope", e.path))?,
                );
                scopes.insert(e.scope, s.clone());
                s
            }
        };
        let school = match schools.get(&e.school) {
            Some(s) => s.clone(),
            None => {
                let s: Arc<str> = Arc::from(&*e.school);
                schools.insert(e.school, s.clone());
                s
            }
        };
        let id = first + files.len() as u64;
        files.insert(
            e.path.into(),
            Served {
                scope,
                school,
                plain: stored,
                br: None,
                gz: None,
                id,
            },
        );
    }
    for (path, coding, stored) in variants {
        if let Some(file) = files.get_mut(&path[..path.len() - 3]) {
            if coding == Coding::Brotli {
                file.br = Some(stored);
            } else {
                file.gz = Some(stored);
            }
        }
    }
    files.shrink_to_fit();
    Ok(files)
}

/// A school's files, read from its manifest in the release at `dir`.
fn read_part(dir: &Path, part: &Part, number: usize) -> Result<Files> {
    let json = release::part_json(dir, part)?;
    let listed: Vec<Listed> = release::parse_part(dir, part, &json)?;
    served(listed, (number as u64 + 1) << 32)
        .with_context(|| format!("{} is not valid", dir.join(&part.manifest).display()))
}

/// One release, loaded.
#[derive(Debug)]
pub struct Release {
    /// The symlink target it was found under (`releases/<id>`).
    pub id: String,
    dir: PathBuf,
    /// The shared files.
    files: Files,
    /// Each school's part, its files read at first need (`None` if its
    /// manifest cannot be read: that school's files are then not served).
    parts: Vec<(Part, tokio::sync::OnceCell<Option<Files>>)>,
    /// Which part a top folder (`s/<key>`, …) belongs to.
    folders: HashMap<String, usize, foldhash::fast::RandomState>,
    /// Path of the stylesheet, for the gate's own pages.
    pub css: String,
    /// The day the release shows the data as of.
    pub date: Option<Date>,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    bytes: usize,
    budget: usize,
    /// Contents by file number and coding.
    files: HashMap<(u64, u8), Bytes, foldhash::fast::RandomState>,
}

impl Release {
    fn load(output: &Path, id: &str, budget: usize) -> Result<Release> {
        let dir = output.join(id);
        if !dir.join(COMPLETE).exists() {
            bail!("{} is not a complete release", dir.display());
        }
        let manifest = release::read_manifest(&dir)?;
        let css = manifest
            .files
            .iter()
            .find(|e| {
                matches!(
                    paths::parse(&format!("/{}", e.path)),
                    Some(Page::Stylesheet { .. })
                )
            })
            .map(|e| e.path.clone())
            .unwrap_or_default();
        let files = served(manifest.files.iter().map(Listed::of), 0)
            .with_context(|| format!("the manifest of {} is not valid", dir.display()))?;
        let folders = manifest
            .schools
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.folders.iter().map(move |f| (f.clone(), i)))
            .collect();
        let parts = manifest
            .schools
            .into_iter()
            .map(|p| (p, tokio::sync::OnceCell::new()))
            .collect();
        Ok(Release {
            id: id.to_owned(),
            dir,
            files,
            parts,
            folders,
            css,
            date: Date::parse_iso(&manifest.date),
            cache: Mutex::new(Cache {
                budget,
                ..Cache::default()
            }),
        })
    }

    /// A shared file (not a school's: `404.html`, the stylesheet, …).
    pub fn shared(&self, path: &str) -> Option<&Served> {
        self.files.get(path)
    }

    /// A file and its variants, by path. A school's manifest not read yet
    /// is read now, off the async workers; requests for that school wait
    /// for the one reading.
    pub async fn file(&self, path: &str) -> Option<&Served> {
        // A school's folder first: most requests are for a school's files,
        // and then the shared list need not be asked.
        match self.folders.get(release::folder_of(path)) {
            Some(&i) => self.part(i).await?.get(path),
            None => self.files.get(path),
        }
    }

    /// The files of part `i`, read when first asked for.
    async fn part(&self, i: usize) -> Option<&Files> {
        let (part, files) = &self.parts[i];
        files
            .get_or_init(|| async {
                let (dir, part) = (self.dir.clone(), part.clone());
                match tokio::task::spawn_blocking(move || read_part(&dir, &part, i)).await {
                    Ok(Ok(files)) => Some(files),
                    Ok(Err(err)) => {
                        tracing::error!("{err:#}");
                        None
                    }
                    Err(err) => {
                        tracing::error!("reading a school's manifest stopped: {err}");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }

    /// The content of `file` (found under `path`) in the given coding.
    /// Symlinks are not followed, and a file whose bytes differ from the
    /// manifest is refused.
    pub fn bytes(&self, path: &str, file: &Served, coding: Coding) -> Result<Bytes> {
        let key = (file.id, coding as u8);
        if let Ok(cache) = self.cache.lock()
            && let Some(b) = cache.files.get(&key)
        {
            return Ok(b.clone());
        }
        let Some(stored) = file.stored(coding) else {
            bail!("{path} has no {coding:?} variant");
        };
        let mut full = self.dir.join(path).into_os_string();
        full.push(coding.suffix());
        let full = PathBuf::from(full);
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&full)
            .with_context(|| format!("cannot open {}", full.display()))?;
        let mut buf = Vec::with_capacity(stored.size as usize);
        f.read_to_end(&mut buf)?;
        if buf.len() as u64 != stored.size || Sha256::digest(&buf)[..] != stored.sha256 {
            bail!("{} does not match the manifest", full.display());
        }
        let bytes = Bytes::from(buf);
        if let Ok(mut cache) = self.cache.lock()
            && cache.bytes + bytes.len() <= cache.budget
        {
            cache.bytes += bytes.len();
            cache.files.insert(key, bytes.clone());
        }
        Ok(bytes)
    }

    /// Reads every school's manifest not read yet, one after another, for
    /// as long as the release is still in use.
    async fn read_all_parts(release: Weak<Release>) {
        let mut i = 0;
        while let Some(r) = release.upgrade() {
            if i >= r.parts.len() {
                break;
            }
            r.part(i).await;
            i += 1;
        }
    }
}

/// How often, at most, `current` is read to see whether a new release went
/// live: one `readlink` per 25 ms (a few microseconds) costs nothing
/// beside the requests, and a watching build's release is served at once.
pub const POINTER_CHECK: std::time::Duration = std::time::Duration::from_millis(25);

/// Finds the live release, reloading it when `current` moves.
#[derive(Debug)]
pub struct Releases {
    output: PathBuf,
    budget: usize,
    /// How long the answer of `current` is trusted before reading it again.
    ttl: std::time::Duration,
    /// The live release, and when `current` was last read.
    live: RwLock<Option<(std::time::Instant, Arc<Release>)>>,
}

impl Releases {
    /// Releases under `output`, caching up to `budget` bytes of file
    /// contents; `current` is read again after `ttl` (a new release is
    /// served at most that late).
    pub fn new(output: &Path, budget: usize, ttl: std::time::Duration) -> Releases {
        Releases {
            output: output.to_path_buf(),
            budget,
            ttl,
            live: RwLock::new(None),
        }
    }

    /// The release `current` points at now (as of `ttl` ago at most), if it is complete.
    pub fn live(&self) -> Option<Arc<Release>> {
        if let Ok(live) = self.live.read()
            && let Some((at, r)) = live.as_ref()
            && at.elapsed() < self.ttl
        {
            return Some(r.clone());
        }
        let target = fs::read_link(self.output.join("current")).ok()?;
        let id = target.to_str()?.to_owned();
        // Only a target of the form releases/<name> is ours.
        let name = id.strip_prefix("releases/")?;
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        let mut live = self.live.write().ok()?;
        if let Some((_, r)) = live.as_ref()
            && r.id == id
        {
            let r = r.clone();
            *live = Some((std::time::Instant::now(), r.clone()));
            return Some(r);
        }
        match Release::load(&self.output, &id, self.budget) {
            Ok(r) => {
                let r = Arc::new(r);
                *live = Some((std::time::Instant::now(), r.clone()));
                // Every school's files, read before they are asked for.
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(Release::read_all_parts(Arc::downgrade(&r)));
                }
                Some(r)
            }
            Err(err) => {
                tracing::error!("cannot load the live release: {err:#}");
                None
            }
        }
    }
}
