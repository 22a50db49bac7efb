//! Files: fixture and example folders of the repository, copies of them,
//! and whole trees of files read into memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository path of a fixture or example folder.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A new folder for a fixture that the tests of this process share (the
/// demo year, the test PKI). Such fixtures live in statics, which are never
/// dropped, so a `TempDir` would stay behind after every run: instead they
/// go under `CARGO_TARGET_TMPDIR/shared/<process id>/`, and the folders of
/// processes that are no longer running are removed when the first one is
/// made.
pub fn shared_dir(name: &str) -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared");
        std::fs::create_dir_all(&base).unwrap();
        for entry in std::fs::read_dir(&base).unwrap().flatten() {
            let name = entry.file_name();
            let finished = name
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|pid| !Path::new("/proc").join(pid.to_string()).exists());
            if finished {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        base.join(std::process::id().to_string())
    });
    let dir = root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies a folder of files (not recursive) into a new temporary folder.
pub fn copy_dir(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// Every file under `dir`, path → bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Fails naming the files that differ between two trees.
pub fn assert_same_files(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    let differ: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .collect();
    assert!(differ.is_empty(), "{what}: these files differ: {differ:?}");
}

/// A file of a release as the gate serves it plain: `rel` under the
/// release folder `dir`, read from `rel.br` (the form a build stores text
/// in) or, for a file stored as it is (a PDF), from `rel`.
pub fn try_plain(dir: &Path, rel: &str) -> std::io::Result<Vec<u8>> {
    match std::fs::read(dir.join(format!("{rel}.br"))) {
        Ok(b) => Ok(tabel::build::release::unbrotli(&b, 1 << 30).unwrap()),
        Err(_) => std::fs::read(dir.join(rel)),
    }
}

/// [`try_plain`], which must find the file.
pub fn plain(dir: &Path, rel: &str) -> Vec<u8> {
    try_plain(dir, rel).unwrap_or_else(|e| panic!("{}: {e}", dir.join(rel).display()))
}

/// A text page of a release, as [`plain`] reads it.
pub fn page(dir: &Path, rel: &str) -> String {
    String::from_utf8(plain(dir, rel)).unwrap()
}

/// Writes, beside each `.br` file under `dir`, the file as it is served
/// plain, for tools that read a release's pages from disk (a browser over
/// `file://`, the HTML checker); returns how many it wrote.
pub fn unpack(dir: &Path) -> usize {
    let mut n = 0;
    for e in walkdir::WalkDir::new(dir).follow_root_links(true) {
        let e = e.unwrap();
        if let Some(plain) = e.path().to_str().and_then(|p| p.strip_suffix(".br")) {
            let bytes = tabel::build::release::unbrotli(&std::fs::read(e.path()).unwrap(), 1 << 30)
                .unwrap();
            std::fs::write(plain, bytes).unwrap();
            n += 1;
        }
    }
    n
}
