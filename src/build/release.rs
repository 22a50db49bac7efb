//! Releases on disk: where they live, their manifest, and the atomic,
//! crash-safe publication of ARCHITECTURE.md ("The nightly flow", step 5).
//!
//! A release is rendered into `releases/<id>.tmp`, flushed to disk, given its
//! `manifest.json` and then `COMPLETE`, renamed to `releases/<id>`, and made
//! live by renaming a fresh `current` symlink over the old one. A build
//! killed at any point leaves the previous release live; its leftovers
//! (`*.tmp`) are removed by the next build.

use std::borrow::Cow;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::accounts::access::Scope;

/// Name of the file written last into a finished release.
pub const COMPLETE: &str = "COMPLETE";
/// Name of the manifest.
pub const MANIFEST: &str = "manifest.json";
/// Folder of the schools' own manifests.
pub const PARTS: &str = "manifests";
/// Format of the manifests this version writes.
pub const FORMAT: u32 = 2;

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path inside the release, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Who may read it.
    pub scope: Scope,
    /// External id of the school it belongs to; empty for shared files.
    pub school: String,
    /// Hash of the page's inputs (data shown + template version).
    pub input: String,
    /// The page's key, when the build keys it: a cheaper fingerprint of
    /// what it is made from, which lets the next build carry it without
    /// building its data (`views::keys`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
}

/// The manifest of a release. It lists the shared files itself and each
/// school's files in a manifest of the school's own (`manifests/<slug>.json`),
/// so that neither a build nor a gate ever holds a whole city's list at
/// once. Together they list every file but themselves and `COMPLETE`.
/// (Format 1 listed every file here and had no `schools`; it is still read.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of this file.
    pub format: u32,
    /// The day the release shows the data as of.
    pub date: String,
    /// Data snapshot ids (one per school), sorted.
    pub snapshots: Vec<String>,
    /// The shared files (format 1: every file), sorted by path.
    pub files: Vec<Entry>,
    /// Each school's part, sorted by school.
    #[serde(default)]
    pub schools: Vec<Part>,
}

/// One school's part of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// External id of the school.
    pub school: String,
    /// Path of its manifest inside the release.
    pub manifest: String,
    /// SHA-256 of that manifest, hex.
    pub sha256: String,
    /// Files it lists.
    pub files: usize,
    /// The top folders of its files (`s/<key>`, `c/<key>`, `school/<slug>`),
    /// sorted: which part to look in for a path.
    pub folders: Vec<String>,
}

/// A school's own manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartManifest<F = Entry> {
    /// External id of the school.
    pub school: String,
    /// Its files, sorted by path.
    pub files: Vec<F>,
}

/// The path a stored file is served under: a text file stored as
/// `<path>.br` (or, by releases written before, `<path>.gz`) is `<path>`.
pub fn served_path(stored: &str) -> &str {
    stored
        .strip_suffix(".br")
        .or_else(|| stored.strip_suffix(".gz"))
        .unwrap_or(stored)
}

/// The top folder of a release path: its first two segments.
pub fn folder_of(path: &str) -> &str {
    match path.match_indices('/').nth(1) {
        Some((i, _)) => &path[..i],
        None => path,
    }
}

/// Writes a school's manifest into the release at `dir`; its part for the
/// release's manifest, and the bytes written.
pub fn write_part(dir: &Path, school: &str, slug: &str, files: Vec<Entry>) -> Result<(Part, u64)> {
    let (part, json) = part_bytes(school, slug, files)?;
    let size = write_file(dir, &part.manifest, &json)?;
    Ok((part, size))
}

/// A school's manifest: its part for the release's manifest, and its bytes
/// (to be stored at the part's `manifest` path inside the release).
pub fn part_bytes(school: &str, slug: &str, mut files: Vec<Entry>) -> Result<(Part, Vec<u8>)> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    let mut folders: Vec<String> = files
        .iter()
        .map(|e| folder_of(served_path(&e.path)).to_owned())
        .collect();
    folders.sort();
    folders.dedup();
    let manifest = format!("{PARTS}/{slug}.json.br");
    let part = PartManifest {
        school: school.to_owned(),
        files,
    };
    let json = serde_json::to_vec(&part).context("cannot serialize a school's manifest")?;
    // Quality 1: on a school's manifest (megabytes of JSON) it compresses
    // as well as 5 (a quarter of the size) in an eighth of the time, 20 ms
    // rather than 170 ms for 800 students, which a watching build waits for.
    let json = brotli(&json, 1);
    Ok((
        Part {
            school: school.to_owned(),
            manifest,
            sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(&json)),
            files: part.files.len(),
            folders,
        },
        json,
    ))
}

/// Reads a school's manifest from the release at `dir`, checked against its part.
pub fn read_part(dir: &Path, part: &Part) -> Result<Vec<Entry>> {
    let stored = part_json(dir, part)?;
    let json = part_text(dir, part, &stored)?;
    parse_part(dir, part, &json)
}

/// The JSON of a school's manifest from its stored bytes (read by
/// [`part_json`]): written brotli-compressed (`.json.br`, a third of the
/// size: most of a night's manifest bytes are the same from night to
/// night, and cannot be carried whole as a page can), or as it is by
/// releases written before.
pub fn part_text<'a>(dir: &Path, part: &Part, stored: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    if part.manifest.ends_with(".br") {
        let json = unbrotli(stored, MAX_PART).with_context(|| {
            format!(
                "{} cannot be decompressed",
                dir.join(&part.manifest).display()
            )
        })?;
        Ok(Cow::Owned(json))
    } else {
        Ok(Cow::Borrowed(stored))
    }
}

/// The largest school manifest read: a 4,000-student school's is some 20 MB.
const MAX_PART: u64 = 1 << 30;

/// `bytes` brotli-compressed at `quality` (0–11).
///
/// Through the reference C library (`brotlic`), one shot: on the pages of a
/// school day it takes a quarter less time than the Rust port at the same
/// quality, and the same size within a few bytes in a million
/// (docs/benchmarks.md, "The demo's ids and the C encoder").
pub fn brotli(bytes: &[u8], quality: u32) -> Vec<u8> {
    // A 256 KiB window holds any page whole and compresses a page a third
    // faster than the 4 MiB one, to the same size (smaller windows are
    // slower again at these qualities); bigger files take the big window.
    let window = if bytes.len() < (1 << 18) - 16 { 18 } else { 22 };
    let q = u8::try_from(quality.min(11)).unwrap_or(11);
    if let (Ok(level), Ok(bits), Ok(two)) = (
        brotlic::Quality::new(q),
        brotlic::WindowSize::new(window),
        brotlic::Quality::new(2),
    ) {
        // The bound holds at every quality: a one-shot encoder that would
        // exceed it stores the input uncompressed instead.
        let bound = brotlic::compress_bound(bytes.len(), two).unwrap_or(bytes.len() + 1024);
        let mut out = vec![0; bound];
        if let Ok(n) = brotlic::compress(
            bytes,
            &mut out,
            level,
            bits,
            brotlic::CompressionMode::Generic,
        ) {
            out.truncate(n);
            return out;
        }
    }
    // Not reached with the settings above; the Rust port is the fallback.
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut w = ::brotli::CompressorWriter::new(&mut out, 4096, quality, u32::from(window));
        // Writing into a Vec cannot fail.
        let _ = w.write_all(bytes);
    }
    out
}

/// `bytes` brotli-decompressed, refused if that is more than `limit` bytes.
pub fn unbrotli(bytes: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    ::brotli::Decompressor::new(bytes, 4096)
        .take(limit + 1)
        .read_to_end(&mut out)
        .context("not valid brotli")?;
    if out.len() as u64 > limit {
        bail!("it decompresses to more than {limit} bytes");
    }
    Ok(out)
}

/// The bytes of a school's manifest in the release at `dir`, checked
/// against the hash its part records.
pub fn part_json(dir: &Path, part: &Part) -> Result<Vec<u8>> {
    let path = dir.join(&part.manifest);
    let json = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if data_encoding::HEXLOWER.encode(&Sha256::digest(&json)) != part.sha256 {
        bail!("{} does not match the release's manifest", path.display());
    }
    Ok(json)
}

/// The files a school's manifest lists, parsed from `json` (read by
/// [`part_json`]) in the form `F` (which may borrow from it), checked to
/// be the part's school and number of files.
pub fn parse_part<'a, F: Deserialize<'a>>(
    dir: &Path,
    part: &Part,
    json: &'a [u8],
) -> Result<Vec<F>> {
    let path = dir.join(&part.manifest);
    let m: PartManifest<F> =
        serde_json::from_slice(json).with_context(|| format!("{} is not valid", path.display()))?;
    if m.school != part.school || m.files.len() != part.files {
        bail!("{} does not match the release's manifest", path.display());
    }
    Ok(m.files)
}

/// Reads the manifest of the release at `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let text = fs::read(dir.join(MANIFEST))
        .with_context(|| format!("cannot read the manifest of {}", dir.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("the manifest of {} is not valid", dir.display()))
}

/// Every file the release at `dir` lists, shared and every school's, sorted by path.
pub fn all_entries(dir: &Path) -> Result<Vec<Entry>> {
    let manifest = read_manifest(dir)?;
    let mut all = manifest.files;
    for part in &manifest.schools {
        all.extend(read_part(dir, part)?);
    }
    all.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(all)
}

/// The output folder: `current`, `releases/`.
#[derive(Debug, Clone)]
pub struct Output {
    root: PathBuf,
}

/// The live release, as found through `current`.
#[derive(Debug, Clone)]
pub struct Live {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush folder {}", dir.display()))
}

impl Output {
    /// The output folder at `root` (created if missing).
    pub fn new(root: &Path) -> Result<Output> {
        fs::create_dir_all(root.join("releases"))
            .with_context(|| format!("cannot create the output folder {}", root.display()))?;
        Ok(Output {
            root: root.to_path_buf(),
        })
    }

    /// The folder holding every release.
    pub fn releases(&self) -> PathBuf {
        self.root.join("releases")
    }

    /// The live release, if `current` points at a complete one.
    pub fn live(&self) -> Result<Option<Live>> {
        let current = self.root.join("current");
        let Ok(target) = fs::read_link(&current) else {
            return Ok(None);
        };
        let dir = self.root.join(target);
        if !dir.join(COMPLETE).exists() {
            return Ok(None);
        }
        let manifest = read_manifest(&dir)?;
        Ok(Some(Live { dir, manifest }))
    }

    /// Removes what killed builds left behind.
    pub fn clean_leftovers(&self) -> Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(self.releases())? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tmp") {
                fs::remove_dir_all(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                removed += 1;
            }
        }
        for entry in fs::read_dir(&self.root)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("current.") && name.ends_with(".tmp") {
                fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        Ok(removed)
    }

    /// A fresh id (UTC time, unique among existing releases) and its `.tmp` folder.
    pub fn start(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(String, PathBuf)> {
        let base = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut id = base.clone();
        let mut n = 1;
        while self.releases().join(&id).exists()
            || self.releases().join(format!("{id}.tmp")).exists()
        {
            id = format!("{base}-{n}");
            n += 1;
        }
        let dir = self.releases().join(format!("{id}.tmp"));
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok((id, dir))
    }

    /// Finishes a release: manifest, flush, `COMPLETE`, rename, swap `current`.
    pub fn publish(&self, id: &str, tmp: &Path, manifest: &Manifest) -> Result<PathBuf> {
        let json = serde_json::to_vec_pretty(manifest).context("cannot serialize the manifest")?;
        fs::write(tmp.join(MANIFEST), &json).context("cannot write the manifest")?;
        // Everything rendered so far reaches the disk before COMPLETE does.
        let dir = fs::File::open(tmp).with_context(|| format!("cannot open {}", tmp.display()))?;
        rustix::fs::syncfs(&dir).context("cannot flush the release to disk")?;
        let mut complete = fs::File::create(tmp.join(COMPLETE)).context("cannot write COMPLETE")?;
        let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(&json));
        writeln!(complete, "{digest}  {MANIFEST}").context("cannot write COMPLETE")?;
        complete.sync_all().context("cannot flush COMPLETE")?;
        sync_dir(tmp)?;
        let final_dir = self.releases().join(id);
        fs::rename(tmp, &final_dir)
            .with_context(|| format!("cannot rename {} into place", tmp.display()))?;
        sync_dir(&self.releases())?;
        let link = self
            .root
            .join(format!("current.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(Path::new("releases").join(id), &link)
            .with_context(|| format!("cannot create {}", link.display()))?;
        fs::rename(&link, self.root.join("current")).context("cannot swap the current release")?;
        sync_dir(&self.root)?;
        Ok(final_dir)
    }

    /// Removes complete releases beyond the newest `keep`, never the live one.
    pub fn prune(&self, keep: usize) -> Result<Vec<String>> {
        let live = fs::read_link(self.root.join("current")).ok();
        let mut ids: Vec<String> = fs::read_dir(self.releases())?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(COMPLETE).exists())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect();
        ids.sort();
        let mut removed = Vec::new();
        let excess = ids.len().saturating_sub(keep.max(1));
        for id in ids.into_iter().take(excess) {
            if live.as_deref() == Some(Path::new("releases").join(&id).as_path()) {
                continue;
            }
            let path = self.releases().join(&id);
            // Unmark it first, so a half-removed release is never taken for whole.
            fs::remove_file(path.join(COMPLETE))
                .with_context(|| format!("cannot unmark {}", path.display()))?;
            fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            removed.push(id);
        }
        Ok(removed)
    }
}

/// Writes `bytes` to `root/rel`, creating folders; returns the size.
pub fn write_file(root: &Path, rel: &str, bytes: &[u8]) -> Result<u64> {
    let path = root.join(rel);
    with_parent(&path, || fs::write(&path, bytes))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(bytes.len() as u64)
}

/// Carries `rel` from the previous release into the new one as a hard link
/// (a copy if the two are on different file systems).
pub fn carry(from: &Path, to: &Path, rel: &str) -> Result<()> {
    let (src, dst) = (from.join(rel), to.join(rel));
    if with_parent(&dst, || fs::hard_link(&src, &dst)).is_err() {
        with_parent(&dst, || fs::copy(&src, &dst).map(drop))
            .with_context(|| format!("cannot carry {} over", src.display()))?;
    }
    Ok(())
}

/// Runs `op` on `path`; if its folder is missing, creates it and runs it
/// again. Most files land in a folder that exists already: this saves a
/// `mkdir` and a `stat` per file over creating the folder every time.
fn with_parent(path: &Path, op: impl Fn() -> std::io::Result<()>) -> std::io::Result<()> {
    match op() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            op()
        }
        other => other,
    }
}

/// Checks that a release holds exactly the files of its manifest, with their
/// sizes and hashes (the tests use it after every kind of build).
pub fn verify(dir: &Path) -> Result<usize> {
    if !dir.join(COMPLETE).exists() {
        bail!("{} has no {COMPLETE}", dir.display());
    }
    let manifest = read_manifest(dir)?;
    let parts: std::collections::HashSet<&str> = manifest
        .schools
        .iter()
        .map(|p| p.manifest.as_str())
        .collect();
    let files = all_entries(dir)?;
    let mut on_disk = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry?;
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)?
                .to_string_lossy()
                .replace('\\', "/");
            if rel != MANIFEST && rel != COMPLETE && !parts.contains(rel.as_str()) {
                on_disk.push(rel);
            }
        }
    }
    on_disk.sort();
    let listed: Vec<&str> = files.iter().map(|e| e.path.as_str()).collect();
    if on_disk != listed {
        bail!("files of {} differ from its manifest", dir.display());
    }
    for e in &files {
        let bytes = fs::read(dir.join(&e.path))?;
        if bytes.len() as u64 != e.size
            || data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes)) != e.sha256
        {
            bail!("{} does not match the manifest", e.path);
        }
    }
    Ok(files.len())
}
