//! The live release as the gate sees it: resolved through `current` (a
//! folder's at most every tenth of a second when asked, a bucket's polled
//! once a second), its manifest in memory in a compact form, and a
//! size-bounded cache of file contents, each checked against the
//! manifest's hash when first read. A school's own manifest is read off
//! the request workers: all of them in the background as soon as a
//! release goes live, and any one at once when a request needs it first.
//! What is read comes from a [`Source`]: the folder or the bucket.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use serde::Deserialize;

use super::source::{self, Failure, Source};
pub use super::source::{Coding, Stored};
use crate::accounts::access::Scope;
use crate::build::release::{self, Entry, Manifest, Part};
use crate::gradebook::Date;
use crate::views::paths::{self, Page};

/// Files by path. Their keys come from the release, never from a client,
/// so a fast hash serves: a client can only look up.
type Files = HashMap<Box<str>, Served, foldhash::fast::RandomState>;

/// A file the gate serves: who may read it, and the forms it is stored in
/// (at least one). Pages are stored as `.br` alone; a release written
/// before that also has them as they are and as `.gz`. A form a client
/// needs and the release lacks is made from one it has
/// ([`Release::bytes`]). Kept small: a city's gate holds millions. Files
/// of one scope share it.
#[derive(Debug)]
pub struct Served {
    /// Who may read it.
    pub scope: Arc<Scope>,
    /// External id of its school; empty for shared files.
    pub school: Arc<str>,
    /// The file as it is, if stored so.
    pub plain: Option<Stored>,
    /// The `.br` variant, if the release has one.
    pub br: Option<Stored>,
    /// The `.gz` variant, if the release has one.
    pub gz: Option<Stored>,
    /// Its number in the release, which keys the content cache.
    id: u64,
}

impl Served {
    /// The coding to send a client that takes brotli (`br`) and/or gzip
    /// (`gz`): brotli if the release has it, else gzip if the client takes
    /// it and the file is text (stored compressed in some form), else the
    /// file as it is.
    pub fn coding(&self, br: bool, gz: bool) -> Coding {
        if br && self.br.is_some() {
            Coding::Brotli
        } else if gz && (self.gz.is_some() || self.br.is_some()) {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    /// The stored form of `coding`, if the release has it.
    fn stored(&self, coding: Coding) -> Option<&Stored> {
        match coding {
            Coding::Identity => self.plain.as_ref(),
            Coding::Brotli => self.br.as_ref(),
            Coding::Gzip => self.gz.as_ref(),
        }
    }

    /// The form a missing one is made from: as it is, else `.br`, else `.gz`.
    fn source_form(&self) -> Option<(Coding, &Stored)> {
        [Coding::Identity, Coding::Brotli, Coding::Gzip]
            .into_iter()
            .find_map(|c| self.stored(c).map(|s| (c, s)))
    }

    /// The SHA-256 that names the file's content in its ETag: of the form
    /// that every other is made from.
    pub fn tag(&self) -> [u8; 32] {
        self.source_form()
            .map(|(_, s)| s.sha256)
            .unwrap_or_default()
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

/// The files of a manifest list by path, each stored form (as it is,
/// `.br`, `.gz`) under the file's own path, numbered from `first`.
fn served<'a>(listed: impl IntoIterator<Item = Listed<'a>>, first: u64) -> Result<Files> {
    let mut scopes: HashMap<ListedScope<'a>, Arc<Scope>> = HashMap::new();
    let mut schools: HashMap<Cow<'a, str>, Arc<str>> = HashMap::new();
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
        let (path, coding) = if let Some(p) = e.path.strip_suffix(".br") {
            (p, Coding::Brotli)
        } else if let Some(p) = e.path.strip_suffix(".gz") {
            (p, Coding::Gzip)
        } else {
            (&*e.path, Coding::Identity)
        };
        if !files.contains_key(path) {
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
                    schools.insert(e.school.clone(), s.clone());
                    s
                }
            };
            let id = first + files.len() as u64;
            files.insert(
                path.into(),
                Served {
                    scope,
                    school,
                    plain: None,
                    br: None,
                    gz: None,
                    id,
                },
            );
        }
        if let Some(file) = files.get_mut(path) {
            match coding {
                Coding::Identity => file.plain = Some(stored),
                Coding::Brotli => file.br = Some(stored),
                Coding::Gzip => file.gz = Some(stored),
            }
        }
    }
    files.shrink_to_fit();
    Ok(files)
}

/// The largest file made from another form: a release's pages are a few
/// kilobytes, its largest text files a few megabytes.
const MAX_RECODED: u64 = 64 << 20;

/// `bytes`, stored coded as `from`, coded as `to` instead. A page is made
/// plain from its `.br` for a client that takes no compression, and gzip
/// for one that takes gzip alone, at the level the build once stored `.gz`
/// with (the same bytes as then).
fn recode(bytes: &[u8], from: Coding, to: Coding) -> Result<Bytes> {
    use std::io::{Read, Write};
    let plain = match from {
        Coding::Identity => bytes.to_vec(),
        Coding::Brotli => {
            release::unbrotli(bytes, MAX_RECODED).context("its .br form cannot be decompressed")?
        }
        Coding::Gzip => {
            let mut plain = Vec::with_capacity(bytes.len() * 4);
            flate2::read::GzDecoder::new(bytes)
                .take(MAX_RECODED + 1)
                .read_to_end(&mut plain)
                .context("its .gz form cannot be decompressed")?;
            if plain.len() as u64 > MAX_RECODED {
                bail!("it decompresses to more than {MAX_RECODED} bytes");
            }
            plain
        }
    };
    Ok(Bytes::from(match to {
        Coding::Identity => plain,
        Coding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(
                Vec::with_capacity(plain.len() / 3),
                flate2::Compression::new(6),
            );
            w.write_all(&plain)?;
            w.finish()?
        }
        // Served only as stored (`Served::coding`).
        Coding::Brotli => bail!("brotli is served only as stored"),
    }))
}

/// A school's files, parsed from its manifest `json` (read from `place`).
fn parse_part(place: &str, part: &Part, number: usize, json: &[u8]) -> Result<Files> {
    let dir = PathBuf::from(place);
    let json = release::part_text(&dir, part, json)?;
    let listed: Vec<Listed> = release::parse_part(&dir, part, &json)?;
    served(listed, (number as u64 + 1) << 32)
        .with_context(|| format!("{} is not valid", dir.join(&part.manifest).display()))
}

/// The store could not be reached: answered 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable;

/// One release, loaded.
#[derive(Debug)]
pub struct Release {
    /// Its id: the folder's symlink target (`releases/<id>`), or the id
    /// the bucket's pointer names.
    pub id: String,
    source: Arc<Source>,
    /// The shared files.
    files: Files,
    /// Each school's part, its files read at first need (`None` if its
    /// manifest cannot be read: that school's files are then not served;
    /// a store that cannot be reached leaves it to be read again).
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
    /// Release `id` of `source`, whose manifest is `manifest`.
    fn new(source: Arc<Source>, id: &str, manifest: Manifest, budget: usize) -> Result<Release> {
        let css = manifest
            .files
            .iter()
            .map(|e| release::served_path(&e.path))
            .find(|path| {
                matches!(
                    paths::parse(&format!("/{path}")),
                    Some(Page::Stylesheet { .. })
                )
            })
            .map(str::to_owned)
            .unwrap_or_default();
        let files = served(manifest.files.iter().map(Listed::of), 0)
            .with_context(|| format!("the manifest of release {id} is not valid"))?;
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
            source,
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
    pub async fn file(&self, path: &str) -> Result<Option<&Served>, Unavailable> {
        // A school's folder first: most requests are for a school's files,
        // and then the shared list need not be asked.
        match self.folders.get(release::folder_of(path)) {
            Some(&i) => Ok(self.part(i).await?.and_then(|files| files.get(path))),
            None => Ok(self.files.get(path)),
        }
    }

    /// The files of part `i`, read when first asked for.
    async fn part(&self, i: usize) -> Result<Option<&Files>, Unavailable> {
        let (part, files) = &self.parts[i];
        let files = files
            .get_or_try_init(|| async {
                let json = match self.source.part(self.location(), part).await {
                    Ok(json) => json,
                    Err(Failure::Bad) => return Ok(None),
                    Err(Failure::Unavailable) => return Err(Unavailable),
                };
                let place = self.place();
                let part = part.clone();
                match tokio::task::spawn_blocking(move || parse_part(&place, &part, i, &json)).await
                {
                    Ok(Ok(files)) => Ok(Some(files)),
                    Ok(Err(err)) => {
                        tracing::error!("{err:#}");
                        Ok(None)
                    }
                    Err(err) => {
                        tracing::error!("reading a school's manifest stopped: {err}");
                        Ok(None)
                    }
                }
            })
            .await?;
        Ok(files.as_ref())
    }

    /// What the source calls this release: the folder's `releases/<id>`, the bucket's id.
    fn location(&self) -> &str {
        &self.id
    }

    /// Where the release is, for messages.
    fn place(&self) -> String {
        match &*self.source {
            Source::Folder(output) => output.join(&self.id).display().to_string(),
            Source::Bucket(b) => format!("{} release {}", b.place(), self.id),
        }
    }

    /// The content of `file` (found under `path`) in the given coding,
    /// checked against the manifest: a file whose bytes differ from it is
    /// never served (`Failure::Bad`, logged).
    pub async fn bytes(&self, path: &str, file: &Served, coding: Coding) -> Result<Bytes, Failure> {
        let key = (file.id, coding as u8);
        if let Ok(cache) = self.cache.lock()
            && let Some(b) = cache.files.get(&key)
        {
            return Ok(b.clone());
        }
        let bytes = match file.stored(coding) {
            Some(stored) => {
                self.source
                    .file(self.location(), path, stored, coding)
                    .await?
            }
            None => {
                let Some((from, stored)) = file.source_form() else {
                    tracing::error!("{path} is listed in no form");
                    return Err(Failure::Bad);
                };
                let raw = self
                    .source
                    .file(self.location(), path, stored, from)
                    .await?;
                recode(&raw, from, coding)
                    .inspect_err(|err| tracing::error!("{path}: {err:#}"))
                    .map_err(|_| Failure::Bad)?
            }
        };
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
            let _ = r.part(i).await;
            i += 1;
        }
    }
}

/// How often, at most, a folder's `current` is read to see whether a new
/// release went live: one `readlink` per 25 ms (a few microseconds) costs
/// nothing beside the requests, and a watching build's release is served
/// at once.
pub const POINTER_CHECK: Duration = Duration::from_millis(25);

/// How often a bucket's `current` is read: one small GET a second per gate.
pub const POINTER_POLL: Duration = Duration::from_secs(1);

/// The live release, and when `current` was last read.
type Live = RwLock<Option<(Instant, Arc<Release>)>>;

/// Finds the live release, reloading it when `current` moves.
#[derive(Debug)]
pub struct Releases {
    source: Arc<Source>,
    budget: usize,
    /// How long the answer of a folder's `current` is trusted before
    /// reading it again.
    ttl: Duration,
    live: Arc<Live>,
}

impl Releases {
    /// Releases of `source`, caching up to `budget` bytes of file
    /// contents; a folder's `current` is read again after `ttl` (a new
    /// release is served at most that late), a bucket's every
    /// [`POINTER_POLL`] by a task of its own, started here (within a runtime).
    pub fn new(source: Source, budget: usize, ttl: Duration) -> Releases {
        let releases = Releases {
            source: Arc::new(source),
            budget,
            ttl,
            live: Arc::new(RwLock::new(None)),
        };
        if matches!(*releases.source, Source::Bucket(_))
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(follow(
                releases.source.clone(),
                Arc::downgrade(&releases.live),
                budget,
            ));
        }
        releases
    }

    /// True when the store could not be reached lately: what is not cached
    /// is answered 503.
    pub fn unreachable(&self) -> bool {
        self.source.unreachable()
    }

    /// The release `current` points at now (as of `ttl` ago at most, or
    /// of the last poll of a bucket), if it is complete.
    pub fn live(&self) -> Option<Arc<Release>> {
        if let Ok(live) = self.live.read()
            && let Some((at, r)) = live.as_ref()
            && (at.elapsed() < self.ttl || !matches!(*self.source, Source::Folder(_)))
        {
            return Some(r.clone());
        }
        let Source::Folder(output) = &*self.source else {
            return None;
        };
        let id = source::folder_pointer(output)?;
        let mut live = self.live.write().ok()?;
        if let Some((_, r)) = live.as_ref()
            && r.id == id
        {
            let r = r.clone();
            *live = Some((Instant::now(), r.clone()));
            return Some(r);
        }
        let loaded = source::folder_manifest(output, &id)
            .and_then(|m| Release::new(self.source.clone(), &id, m, self.budget));
        match loaded {
            Ok(r) => {
                let r = Arc::new(r);
                *live = Some((Instant::now(), r.clone()));
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

/// Follows a bucket's pointer for as long as the gate lives: read now and
/// every [`POINTER_POLL`]; a release it names that is not the live one is
/// loaded (its manifest, then its schools' in the background) and made
/// live. While the store cannot be reached the live release stays.
async fn follow(source: Arc<Source>, live: Weak<Live>, budget: usize) {
    let Source::Bucket(bucket) = &*source else {
        return;
    };
    // A release whose manifest is not valid is logged once, not every poll.
    let mut refused: Option<String> = None;
    loop {
        let Some(slot) = live.upgrade() else {
            return;
        };
        let now = slot
            .read()
            .ok()
            .and_then(|l| l.as_ref().map(|(_, r)| r.id.clone()));
        if let Ok(Some(id)) = bucket.pointer().await
            && now.as_deref() != Some(id.as_str())
            && refused.as_deref() != Some(id.as_str())
        {
            match bucket.manifest(&id).await {
                Ok(m) => match Release::new(source.clone(), &id, m, budget) {
                    Ok(r) => {
                        let r = Arc::new(r);
                        if let Ok(mut l) = slot.write() {
                            *l = Some((Instant::now(), r.clone()));
                        }
                        tracing::info!("serving release {id} of {}", bucket.place());
                        tokio::spawn(Release::read_all_parts(Arc::downgrade(&r)));
                    }
                    Err(err) => {
                        tracing::error!("cannot load release {id}: {err:#}");
                        refused = Some(id);
                    }
                },
                Err(Failure::Bad) => refused = Some(id),
                Err(Failure::Unavailable) => {}
            }
        }
        drop(slot);
        tokio::time::sleep(POINTER_POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed<'a>(path: &'a str, sha256: &'a str) -> Listed<'a> {
        Listed {
            path: Cow::Borrowed(path),
            size: 1,
            sha256: Cow::Borrowed(sha256),
            scope: ListedScope::Student(Cow::Borrowed("k")),
            school: Cow::Borrowed("s1"),
        }
    }

    #[test]
    fn each_stored_form_is_found_under_the_files_own_path() {
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        let files = served(
            [
                listed("s/k/index.html.br", &a),
                listed("s/k/print/x.pdf", &b),
                listed("old.html", &c),
                listed("old.html.gz", &a),
                listed("old.html.br", &b),
            ],
            0,
        )
        .unwrap();
        assert_eq!(files.len(), 3);
        let page = &files["s/k/index.html"];
        assert!(page.plain.is_none() && page.gz.is_none());
        assert_eq!(page.br.unwrap().sha256, [0xaa; 32]);
        assert_eq!(*page.scope, Scope::Student("k".into()));
        // Brotli as stored; gzip and plain made from it.
        assert_eq!(page.coding(true, true), Coding::Brotli);
        assert_eq!(page.coding(false, true), Coding::Gzip);
        assert_eq!(page.coding(false, false), Coding::Identity);
        assert_eq!(page.tag(), [0xaa; 32]);
        // A PDF is stored as it is and never sent compressed.
        let pdf = &files["s/k/print/x.pdf"];
        assert_eq!(pdf.coding(true, true), Coding::Identity);
        // A release written before: all three forms, the plain one names it.
        let old = &files["old.html"];
        assert!(old.plain.is_some() && old.br.is_some() && old.gz.is_some());
        assert_eq!(old.tag(), [0xcc; 32]);
        assert!(served([listed("x.html.br", "zz")], 0).is_err());
    }

    #[test]
    fn missing_forms_are_made_from_the_stored_one() {
        let page = "<p>Данные на 26 ноября</p>".repeat(50);
        let br = release::brotli(page.as_bytes(), 5);
        let plain = recode(&br, Coding::Brotli, Coding::Identity).unwrap();
        assert_eq!(plain, page.as_bytes());
        let gz = recode(&br, Coding::Brotli, Coding::Gzip).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back).unwrap();
        assert_eq!(back, page.as_bytes());
        assert_eq!(
            recode(&gz, Coding::Gzip, Coding::Identity).unwrap(),
            page.as_bytes()
        );
        // Damaged bytes are refused, not served.
        assert!(recode(&br[..br.len() / 2], Coding::Brotli, Coding::Identity).is_err());
        assert!(recode(b"not gzip", Coding::Gzip, Coding::Identity).is_err());
    }
}
