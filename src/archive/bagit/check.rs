//! One validation of a bag: the declaration, the manifests, completeness,
//! checksums, the metadata and fetch.txt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Report;
use super::hash::{Algorithm, TAG_BYTES, read_in_bag};
use super::paths::{decode_path, lines, unsafe_path};

/// A manifest: paths with their checksums.
pub(super) struct Manifest {
    pub(super) file: String,
    pub(super) algorithm: Algorithm,
    pub(super) entries: BTreeMap<String, String>,
}

/// The state of one validation.
pub(super) struct Check<'a> {
    pub(super) root: &'a Path,
    pub(super) report: Report,
    /// Version as (major, minor).
    pub(super) version: (u32, u32),
    pub(super) encoding: &'static encoding_rs::Encoding,
}

impl Check<'_> {
    pub(super) fn error(&mut self, msg: String) {
        self.report.errors.push(msg);
    }

    pub(super) fn warn(&mut self, msg: String) {
        self.report.warnings.push(msg);
    }

    /// Reads a tag file in the bag's declared encoding.
    pub(super) fn read_tag(&mut self, name: &str) -> Option<String> {
        let bytes = match read_in_bag(&self.root.join(name), TAG_BYTES) {
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
    pub(super) fn declaration(&mut self) -> bool {
        let path = self.root.join("bagit.txt");
        let bytes = match read_in_bag(&path, TAG_BYTES) {
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
    pub(super) fn manifest(
        &mut self,
        file: &str,
        algorithm: Algorithm,
        payload: bool,
    ) -> Option<Manifest> {
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
    pub(super) fn info(&mut self, present: &BTreeSet<String>) {
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
    pub(super) fn oxum(&mut self, bytes: u64, files: usize) {
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
    pub(super) fn fetch(&mut self, payload: &BTreeSet<String>) {
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
