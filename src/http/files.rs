//! The live release as the gate sees it: resolved through `current` once
//! per request, its manifest in memory (a school's own manifest is read
//! when one of its files is first asked for), and a size-bounded cache of
//! file contents, each checked against the manifest's hash when first read.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use sha2::{Digest, Sha256};

use crate::build::release::{self, COMPLETE, Entry, Part};

/// Files by path. Their keys come from the release, never from a client,
/// so a fast hash serves: a client can only look up.
type Files = HashMap<String, Served, foldhash::fast::RandomState>;

/// A file the gate serves, with its compressed variants: one lookup finds
/// all three.
#[derive(Debug)]
pub struct Served {
    pub entry: Entry,
    /// The `.br` variant, if the release has one.
    pub br: Option<Box<Entry>>,
    /// The `.gz` variant, if the release has one.
    pub gz: Option<Box<Entry>>,
}

/// The files of a manifest list by path, each variant beside its file.
/// A variant without its file cannot be asked for, and is left out.
fn served(entries: Vec<Entry>) -> Files {
    let (variants, plain): (Vec<Entry>, Vec<Entry>) = entries
        .into_iter()
        .partition(|e| e.path.ends_with(".br") || e.path.ends_with(".gz"));
    let mut files: Files = plain
        .into_iter()
        .map(|entry| {
            let served = Served {
                entry,
                br: None,
                gz: None,
            };
            (served.entry.path.clone(), served)
        })
        .collect();
    for v in variants {
        let brotli = v.path.ends_with(".br");
        let base = &v.path[..v.path.len() - 3];
        if let Some(file) = files.get_mut(base) {
            if brotli {
                file.br = Some(Box::new(v));
            } else {
                file.gz = Some(Box::new(v));
            }
        }
    }
    files
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
    parts: Vec<(Part, OnceLock<Option<Files>>)>,
    /// Which part a top folder (`s/<key>`, …) belongs to.
    folders: HashMap<String, usize, foldhash::fast::RandomState>,
    /// Path of the stylesheet, for the gate's own pages.
    pub css: String,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    bytes: usize,
    budget: usize,
    files: HashMap<String, Bytes>,
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
            .find(|e| e.path.starts_with("assets/tabel.") && e.path.ends_with(".css"))
            .map(|e| e.path.clone())
            .unwrap_or_default();
        let files = served(manifest.files);
        let folders = manifest
            .schools
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.folders.iter().map(move |f| (f.clone(), i)))
            .collect();
        let parts = manifest
            .schools
            .into_iter()
            .map(|p| (p, OnceLock::new()))
            .collect();
        Ok(Release {
            id: id.to_owned(),
            dir,
            files,
            parts,
            folders,
            css,
            cache: Mutex::new(Cache {
                budget,
                ..Cache::default()
            }),
        })
    }

    /// The manifest entry of a path.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.file(path).map(|f| &f.entry)
    }

    /// A file and its variants, by path.
    pub fn file(&self, path: &str) -> Option<&Served> {
        // A school's folder first: most requests are for a school's files,
        // and then the shared list need not be asked.
        let Some(&i) = self.folders.get(release::folder_of(path)) else {
            return self.files.get(path);
        };
        let (part, files) = &self.parts[i];
        files
            .get_or_init(|| match release::read_part(&self.dir, part) {
                Ok(files) => Some(served(files)),
                Err(err) => {
                    tracing::error!("{err:#}");
                    None
                }
            })
            .as_ref()?
            .get(path)
    }

    /// The content of a manifest-listed file. Symlinks are not followed, and
    /// a file whose bytes differ from the manifest is refused.
    pub fn bytes(&self, entry: &Entry) -> Result<Bytes> {
        if let Ok(cache) = self.cache.lock()
            && let Some(b) = cache.files.get(&entry.path)
        {
            return Ok(b.clone());
        }
        let path = self.dir.join(&entry.path);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut buf = Vec::with_capacity(entry.size as usize);
        file.read_to_end(&mut buf)?;
        if buf.len() as u64 != entry.size
            || data_encoding::HEXLOWER.encode(&Sha256::digest(&buf)) != entry.sha256
        {
            bail!("{} does not match the manifest", path.display());
        }
        let bytes = Bytes::from(buf);
        if let Ok(mut cache) = self.cache.lock()
            && cache.bytes + bytes.len() <= cache.budget
        {
            cache.bytes += bytes.len();
            cache.files.insert(entry.path.clone(), bytes.clone());
        }
        Ok(bytes)
    }
}

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
                Some(r)
            }
            Err(err) => {
                tracing::error!("cannot load the live release: {err:#}");
                None
            }
        }
    }
}
