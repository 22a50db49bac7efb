//! A BagIt validator (RFC 8493, and the drafts 0.93–0.97 before it).
//!
//! It checks any bag, not only ours: the declaration (`bagit.txt`), every
//! payload and tag manifest, completeness both ways, every checksum, the
//! bag's metadata (`Payload-Oxum`), `fetch.txt`, and path safety — no
//! manifest or fetch entry may point outside the bag, and no symlink or
//! special file may be in it. Files are opened without following symlinks,
//! only after their path was checked, so nothing outside the bag is read.
//!
//! Problems that make a bag invalid are errors; harmless oddities that
//! older tools wrote (a `./` before a path, md5sum's binary-mode `*`, a
//! path listed twice with the same checksum before version 1.0) are
//! warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

mod check;
mod hash;
mod paths;

pub use hash::{Algorithm, TAG_BYTES, checksums, open_in_bag, read_in_bag};
pub use paths::{encode_path, unsafe_path};

use check::Check;

/// What validating a bag found.
#[derive(Debug, Default)]
pub struct Report {
    /// Problems that make the bag invalid, each naming the file.
    pub errors: Vec<String>,
    /// Oddities that do not.
    pub warnings: Vec<String>,
    /// `BagIt-Version` of `bagit.txt`.
    pub version: String,
    /// Payload files found and checked.
    pub payload_files: usize,
    /// Their total size.
    pub payload_bytes: u64,
    /// Algorithms of the payload manifests checked.
    pub algorithms: Vec<String>,
    /// The bag's metadata (`bag-info.txt`), labels in file order.
    pub info: Vec<(String, String)>,
}

impl Report {
    /// True when no error was found.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// The first value of metadata `label` (labels compare case-insensitively).
    pub fn info(&self, label: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }
}

/// Lists every file of the bag (relative paths with `/`), refusing
/// symlinks and special files.
fn walk(root: &Path, report: &mut Report) -> Result<(BTreeSet<String>, BTreeMap<String, u64>)> {
    let mut tags = BTreeSet::new();
    let mut payload = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
        let rel = entry
            .path()
            .strip_prefix(root)
            .context("a file outside the bag")?;
        let Some(rel) = rel.to_str().map(str::to_owned) else {
            report.errors.push(format!(
                "{}: the file name is not UTF-8",
                rel.to_string_lossy()
            ));
            continue;
        };
        let ft = entry.file_type();
        if ft.is_symlink() {
            report
                .errors
                .push(format!("{rel}: is a symbolic link (not allowed in a bag)"));
        } else if ft.is_dir() {
        } else if ft.is_file() {
            if rel.starts_with("data/") {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                payload.insert(rel, size);
            } else {
                tags.insert(rel);
            }
        } else if ft.is_fifo() || ft.is_socket() || ft.is_block_device() || ft.is_char_device() {
            report
                .errors
                .push(format!("{rel}: is a special file (not allowed in a bag)"));
        }
    }
    Ok((tags, payload))
}

/// Validates the bag at `root`. Errors of the bag go into the report; an
/// `Err` means the folder itself could not be read.
pub fn validate(root: &Path) -> Result<Report> {
    let meta = fs::metadata(root).with_context(|| format!("cannot open {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a folder", root.display());
    }
    let root: PathBuf = root.to_path_buf();
    let mut check = Check {
        root: &root,
        report: Report::default(),
        version: (0, 0),
        encoding: encoding_rs::UTF_8,
    };
    let (tags, files) = walk(&root, &mut check.report)?;
    if !check.declaration() {
        return Ok(check.report);
    }
    if !root.join("data").is_dir() {
        check.error("data/: missing (every bag has a payload folder)".into());
    }
    // Manifests, by kind and algorithm.
    let mut payload_manifests = Vec::new();
    let mut tag_manifests = Vec::new();
    for name in &tags {
        if name.contains('/') {
            continue;
        }
        let (kind, alg) = if let Some(a) = name
            .strip_prefix("manifest-")
            .and_then(|r| r.strip_suffix(".txt"))
        {
            (true, a)
        } else if let Some(a) = name
            .strip_prefix("tagmanifest-")
            .and_then(|r| r.strip_suffix(".txt"))
        {
            (false, a)
        } else {
            continue;
        };
        let Some(algorithm) = Algorithm::from_name(alg) else {
            check.warn(format!(
                "{name}: checksum algorithm {alg:?} is not one tabel knows; not checked"
            ));
            continue;
        };
        if let Some(m) = check.manifest(name, algorithm, kind) {
            if kind {
                payload_manifests.push(m);
            } else {
                tag_manifests.push(m);
            }
        }
    }
    if payload_manifests.is_empty() {
        check.error("no payload manifest (manifest-ALGORITHM.txt) tabel can check".into());
    }
    check.info(&tags);
    let payload: BTreeSet<String> = files.keys().cloned().collect();
    if tags.contains("fetch.txt") {
        check.fetch(&payload);
    }
    // Completeness: every listed file is here, every payload file is listed everywhere.
    let mut wanted: BTreeMap<String, Vec<(usize, Algorithm, String)>> = BTreeMap::new();
    for (i, m) in payload_manifests.iter().chain(&tag_manifests).enumerate() {
        for (path, sum) in &m.entries {
            let here = payload.contains(path) || tags.contains(path);
            if here {
                wanted
                    .entry(path.clone())
                    .or_default()
                    .push((i, m.algorithm, sum.clone()));
            } else {
                check.error(format!(
                    "{path}: listed in {} but missing from the bag",
                    m.file
                ));
            }
        }
    }
    for path in &payload {
        for m in &payload_manifests {
            if !m.entries.contains_key(path) {
                check.error(format!(
                    "{path}: in the payload but not listed in {}",
                    m.file
                ));
            }
        }
    }
    // Checksums: each file read once, files in parallel.
    let names: Vec<String> = payload_manifests
        .iter()
        .chain(&tag_manifests)
        .map(|m| m.file.clone())
        .collect();
    let problems: Vec<String> = wanted
        .par_iter()
        .flat_map_iter(|(path, sums)| {
            let mut algs: Vec<Algorithm> = sums.iter().map(|(_, a, _)| *a).collect();
            algs.sort();
            algs.dedup();
            match checksums(&root.join(path), &algs) {
                Ok(found) => sums
                    .iter()
                    .filter_map(|(i, a, want)| {
                        let k = algs.iter().position(|x| x == a)?;
                        (found[k] != *want).then(|| {
                            format!(
                                "{path}: {} checksum does not match {} (expected {want}, found {})",
                                a.name(),
                                names[*i],
                                found[k]
                            )
                        })
                    })
                    .collect::<Vec<_>>(),
                Err(e) => vec![format!("{path}: cannot be read: {e}")],
            }
        })
        .collect();
    check.report.errors.extend(problems);
    let bytes: u64 = files.values().sum();
    check.oxum(bytes, files.len());
    check.report.payload_files = files.len();
    check.report.payload_bytes = bytes;
    check.report.algorithms = payload_manifests
        .iter()
        .map(|m| m.algorithm.name().to_owned())
        .collect();
    Ok(check.report)
}
