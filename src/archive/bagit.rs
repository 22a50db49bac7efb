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
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use sha2::Digest;

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

/// Checksum algorithms a manifest may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The algorithm named in a manifest's file name.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name {
            "md5" => Algorithm::Md5,
            "sha1" => Algorithm::Sha1,
            "sha224" => Algorithm::Sha224,
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return None,
        })
    }

    /// The name used in manifest file names.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hasher(self) -> Hasher {
        match self {
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha224 => Hasher::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }
}

enum Hasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(bytes),
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Sha224(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha384(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    fn hex(self) -> String {
        let bytes = match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        data_encoding::HEXLOWER.encode(&bytes)
    }
}

/// Opens a file of the bag without following a symlink.
pub fn open_in_bag(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Checksums of one file by each of `algorithms`, read once.
pub fn checksums(path: &Path, algorithms: &[Algorithm]) -> std::io::Result<Vec<String>> {
    let mut file = open_in_bag(path)?;
    let mut hashers: Vec<Hasher> = algorithms.iter().map(|a| a.hasher()).collect();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for h in &mut hashers {
            h.update(&buf[..n]);
        }
    }
    Ok(hashers.into_iter().map(Hasher::hex).collect())
}

/// Why a path in a manifest or in `fetch.txt` is not safe to use, if it is not.
pub fn unsafe_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("the path is empty");
    }
    if path.contains('\\') {
        return Some("the path uses backslashes (a Windows path)");
    }
    if path.starts_with('/') {
        return Some("the path is absolute");
    }
    if path.starts_with('~') {
        return Some("the path starts with ~ (a home folder)");
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("the path starts with a drive letter");
    }
    if path.contains('\0') {
        return Some("the path contains a NUL character");
    }
    for part in path.split('/') {
        match part {
            ".." => return Some("the path goes up with .. (outside the bag)"),
            "." | "" => return Some("the path has an empty or . component"),
            _ => {}
        }
    }
    None
}

/// Undoes the percent-encoding RFC 8493 §2.1.3 asks for in manifest paths:
/// only `%0A`, `%0D` and `%25`; any other `%` is literal.
fn decode_path(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        match code.as_deref() {
            Some("0A") => out.push('\n'),
            Some("0D") => out.push('\r'),
            Some("25") => out.push('%'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// Encodes a path for a manifest line (the inverse of [`decode_path`]).
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

/// Splits text into lines on CRLF, LF or CR.
fn lines(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text.split('\n').collect();
    for l in &mut out {
        *l = l.strip_suffix('\r').unwrap_or(l);
    }
    if out.last() == Some(&"") {
        out.pop();
    }
    out.into_iter()
        .flat_map(|l| l.split('\r'))
        .collect::<Vec<_>>()
}

/// A manifest: paths with their checksums.
struct Manifest {
    file: String,
    algorithm: Algorithm,
    entries: BTreeMap<String, String>,
}

/// The state of one validation.
struct Check<'a> {
    root: &'a Path,
    report: Report,
    /// Version as (major, minor).
    version: (u32, u32),
    encoding: &'static encoding_rs::Encoding,
}

impl Check<'_> {
    fn error(&mut self, msg: String) {
        self.report.errors.push(msg);
    }

    fn warn(&mut self, msg: String) {
        self.report.warnings.push(msg);
    }

    /// Reads a tag file in the bag's declared encoding.
    fn read_tag(&mut self, name: &str) -> Option<String> {
        let bytes = match open_in_bag(&self.root.join(name)).and_then(|mut f| {
            let mut v = Vec::new();
            f.read_to_end(&mut v).map(|_| v)
        }) {
            Ok(b) => b,
            Err(e) => {
                self.error(format!("{name}: cannot be read: {e}"));
                return None;
            }
        };
        let (text, _, bad) = self.encoding.decode(&bytes);
        if bad {
            self.error(format!(
                "{name}: is not valid {} (the bag's declared encoding)",
                self.encoding.name()
            ));
            return None;
        }
        Some(text.trim_start_matches('\u{feff}').to_owned())
    }

    /// Reads `bagit.txt`: version and tag file encoding. False if the bag
    /// cannot be read further.
    fn declaration(&mut self) -> bool {
        let path = self.root.join("bagit.txt");
        let bytes = match open_in_bag(&path).and_then(|mut f| {
            let mut v = Vec::new();
            f.read_to_end(&mut v).map(|_| v)
        }) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.error("bagit.txt: missing (every bag must have it)".into());
                return false;
            }
            Err(e) => {
                self.error(format!("bagit.txt: cannot be read: {e}"));
                return false;
            }
        };
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.error("bagit.txt: starts with a byte order mark, which is not allowed".into());
            return false;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            self.error("bagit.txt: is not UTF-8".into());
            return false;
        };
        let mut version = None;
        let mut encoding = None;
        let mut loose = Vec::new();
        for line in lines(text) {
            let Some((label, value)) = line.split_once(':') else {
                self.error(format!("bagit.txt: line {line:?} is not \"Label: value\""));
                return false;
            };
            // RFC 8493 allows exactly "Label: value"; the drafts were looser.
            let exact = label == label.trim()
                && value.len() > 1
                && value.starts_with(' ')
                && value[1..] == *value[1..].trim();
            if !exact {
                loose.push(line);
            }
            let value = value.trim();
            match label.trim() {
                "BagIt-Version" => {
                    let parsed = value.split_once('.').and_then(|(a, b)| {
                        let digits =
                            |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
                        if digits(a) && digits(b) {
                            Some((a.parse().ok()?, b.parse().ok()?))
                        } else {
                            None
                        }
                    });
                    let Some(v) = parsed else {
                        self.error(format!(
                            "bagit.txt: BagIt-Version {value:?} is not a version (M.N)"
                        ));
                        return false;
                    };
                    version = Some(v);
                    self.report.version = value.to_owned();
                }
                "Tag-File-Character-Encoding" => {
                    let Some(e) = encoding_rs::Encoding::for_label(value.as_bytes()) else {
                        self.error(format!(
                            "bagit.txt: Tag-File-Character-Encoding {value:?} is not an encoding tabel knows"
                        ));
                        return false;
                    };
                    encoding = Some(e);
                }
                other => self.warn(format!("bagit.txt: unexpected label {other:?}")),
            }
        }
        if version.is_some_and(|v| v >= (1, 0))
            && let Some(line) = loose.first()
        {
            self.error(format!(
                "bagit.txt: line {line:?} is not exactly \"Label: value\" (BagIt 1.0 allows no other whitespace)"
            ));
            return false;
        }
        let Some(version) = version else {
            self.error("bagit.txt: lacks BagIt-Version".into());
            return false;
        };
        let Some(encoding) = encoding else {
            self.error("bagit.txt: lacks Tag-File-Character-Encoding".into());
            return false;
        };
        self.version = version;
        self.encoding = encoding;
        true
    }

    /// Parses one manifest. `payload`: a payload manifest (paths under `data/`).
    fn manifest(&mut self, file: &str, algorithm: Algorithm, payload: bool) -> Option<Manifest> {
        let text = self.read_tag(file)?;
        let mut entries = BTreeMap::new();
        for (n, line) in lines(&text).into_iter().enumerate() {
            let at = format!("{file}:{}", n + 1);
            if line.trim().is_empty() {
                continue;
            }
            let Some((sum, raw)) = line.split_once([' ', '\t']) else {
                self.error(format!("{at}: {line:?} is not \"CHECKSUM PATH\""));
                continue;
            };
            let mut raw = raw.trim_start_matches([' ', '\t']);
            if let Some(r) = raw.strip_prefix('*') {
                self.warn(format!(
                    "{at}: path written in md5sum's binary mode (\"*{r}\")"
                ));
                raw = r;
            }
            let mut path = decode_path(raw);
            if let Some(p) = path.strip_prefix("./") {
                self.warn(format!("{at}: path {path:?} starts with ./"));
                path = p.to_owned();
            }
            if let Some(why) = unsafe_path(&path) {
                self.error(format!("{at}: {path:?} is not a safe path: {why}"));
                continue;
            }
            if payload != path.starts_with("data/") {
                self.error(if payload {
                    format!("{at}: {path:?} is not under data/ (a payload manifest)")
                } else {
                    format!("{at}: {path:?} is under data/ (a tag manifest lists tag files)")
                });
                continue;
            }
            let sum = sum.to_ascii_lowercase();
            let hex_len = match algorithm {
                Algorithm::Md5 => 32,
                Algorithm::Sha1 => 40,
                Algorithm::Sha224 => 56,
                Algorithm::Sha256 => 64,
                Algorithm::Sha384 => 96,
                Algorithm::Sha512 => 128,
            };
            if sum.len() != hex_len || !sum.bytes().all(|c| c.is_ascii_hexdigit()) {
                self.error(format!(
                    "{at}: {sum:?} is not a {} checksum",
                    algorithm.name()
                ));
                continue;
            }
            match entries.get(&path) {
                Some(old) if *old != sum => {
                    self.error(format!(
                        "{at}: {path:?} is listed twice with different checksums"
                    ));
                }
                Some(_) if self.version >= (1, 0) => {
                    self.error(format!(
                        "{at}: {path:?} is listed twice (not allowed in BagIt 1.0)"
                    ));
                }
                Some(_) => self.warn(format!("{at}: {path:?} is listed twice")),
                None => {
                    entries.insert(path, sum);
                }
            }
        }
        Some(Manifest {
            file: file.to_owned(),
            algorithm,
            entries,
        })
    }

    /// Parses `bag-info.txt` (or `package-info.txt` of drafts before 0.96).
    fn info(&mut self, present: &BTreeSet<String>) {
        let name = if present.contains("bag-info.txt") {
            "bag-info.txt"
        } else if present.contains("package-info.txt") {
            "package-info.txt"
        } else {
            return;
        };
        let Some(text) = self.read_tag(name) else {
            return;
        };
        let mut info: Vec<(String, String)> = Vec::new();
        for (n, line) in lines(&text).into_iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match info.last_mut() {
                    Some((_, v)) => {
                        v.push(' ');
                        v.push_str(line.trim());
                    }
                    None => self.error(format!(
                        "{name}:{}: a continuation line before any label",
                        n + 1
                    )),
                }
                continue;
            }
            match line.split_once(':') {
                Some((label, value)) => {
                    if self.version >= (1, 0) && label != label.trim() {
                        self.warn(format!(
                            "{name}:{}: whitespace before the colon of {:?}",
                            n + 1,
                            label.trim()
                        ));
                    }
                    info.push((label.trim().to_owned(), value.trim().to_owned()));
                }
                None => self.error(format!(
                    "{name}:{}: {line:?} is not \"Label: value\"",
                    n + 1
                )),
            }
        }
        self.report.info = info;
    }

    /// Checks `Payload-Oxum` against what is there.
    fn oxum(&mut self, bytes: u64, files: usize) {
        let Some(oxum) = self.report.info("Payload-Oxum").map(str::to_owned) else {
            return;
        };
        let parsed = oxum
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<usize>().ok()?)));
        match parsed {
            Some((b, f)) if b == bytes && f == files => {}
            Some((b, f)) => self.error(format!(
                "bag-info.txt: Payload-Oxum says {f} files and {b} bytes, the payload has {files} files and {bytes} bytes"
            )),
            None => self.error(format!(
                "bag-info.txt: Payload-Oxum {oxum:?} is not OCTETS.COUNT"
            )),
        }
    }

    /// Checks the paths of `fetch.txt` and that every file it names is here.
    fn fetch(&mut self, payload: &BTreeSet<String>) {
        let Some(text) = self.read_tag("fetch.txt") else {
            return;
        };
        for (n, line) in lines(&text).into_iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("fetch.txt:{}", n + 1);
            let mut parts = line.splitn(3, [' ', '\t']);
            let (Some(_url), Some(_len), Some(raw)) = (parts.next(), parts.next(), parts.next())
            else {
                self.error(format!("{at}: {line:?} is not \"URL LENGTH PATH\""));
                continue;
            };
            let path = decode_path(raw.trim_start());
            if let Some(why) = unsafe_path(&path) {
                self.error(format!("{at}: {path:?} is not a safe path: {why}"));
            } else if !path.starts_with("data/") {
                self.error(format!("{at}: {path:?} is not under data/"));
            } else if !payload.contains(&path) {
                self.error(format!(
                    "{at}: {path:?} is to be fetched and is not here (tabel does not fetch; the bag is incomplete)"
                ));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_bag_are_unsafe() {
        for bad in [
            "../x",
            "data/../../x",
            "/tmp/foo",
            "~/foo",
            "~root/foo",
            "C:\\Windows\\x",
            "c:/x",
            "\\\\?\\UNC\\server\\x",
            "data\\..\\x",
            "data//x",
            "data/./x",
            "",
        ] {
            assert!(unsafe_path(bad).is_some(), "{bad:?} should be unsafe");
        }
        for good in [
            "data/a.txt",
            "data/%test2.txt",
            "data/dir1/~test3.txt",
            "bag-info.txt",
        ] {
            assert_eq!(unsafe_path(good), None, "{good:?}");
        }
    }

    #[test]
    fn only_three_escapes_are_decoded() {
        assert_eq!(decode_path("data/%7Etest1.txt"), "data/%7Etest1.txt");
        assert_eq!(decode_path("data/%test2.txt"), "data/%test2.txt");
        assert_eq!(decode_path("data/a%0Ab%0dc%25d%"), "data/a\nb\rc%d%");
        assert_eq!(decode_path(&encode_path("data/a\nb%c")), "data/a\nb%c");
    }

    #[test]
    fn lines_split_on_any_newline() {
        assert_eq!(lines("a\r\nb\nc\rd"), vec!["a", "b", "c", "d"]);
        assert_eq!(lines("a\n"), vec!["a"]);
        assert_eq!(lines("a"), vec!["a"]);
    }
}
