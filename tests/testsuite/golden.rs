//! The golden outputs: what the commands write for a fixed demo, recorded
//! file by file in `tests/golden/`. A change to the code that is not meant
//! to change what users get (a restructuring, a faster path) must leave
//! every line of these lists as it is.
//!
//! When a change is meant to alter the output (a new page, a template
//! fix), run the test with `TABEL_BLESS=1` to rewrite the lists, and read
//! their diff: it names every file whose bytes changed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::support::tabel;

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// Every regular file under `root`, by path relative to it (following the
/// `current` symlink if `root` is one), and each file stored as `.br` alone
/// also as it is served plain, under its own path.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root)
        .follow_root_links(true)
        .min_depth(1)
    {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(root).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    let plain: Vec<(String, Vec<u8>)> = out
        .iter()
        .filter_map(|(path, bytes)| {
            let p = path.strip_suffix(".br")?;
            (!out.contains_key(p)).then(|| {
                (
                    p.to_owned(),
                    tabel::build::release::unbrotli(bytes, 1 << 30).unwrap(),
                )
            })
        })
        .collect();
    out.extend(plain);
    out
}

/// The list of a tree: one line per file, `sha256  path`. The compressed
/// variants of a page are folded into its line (a second hash over both)
/// to keep the list readable.
fn listing(tree: &BTreeMap<String, Vec<u8>>) -> String {
    let mut out = String::new();
    for (path, bytes) in tree {
        if path.ends_with(".br") || path.ends_with(".gz") {
            continue;
        }
        let variants: Vec<&Vec<u8>> = [".br", ".gz"]
            .iter()
            .filter_map(|ext| tree.get(&format!("{path}{ext}")))
            .collect();
        let mut line = hex(bytes)[..32].to_owned();
        if !variants.is_empty() {
            let mut h = Sha256::new();
            for v in &variants {
                h.update(Sha256::digest(v));
            }
            line.push(' ');
            line.push_str(&data_encoding::HEXLOWER.encode(&h.finalize())[..16]);
        }
        writeln!(out, "{line}  {path}").unwrap();
    }
    out
}

/// Compares `actual` with the recorded list `name`, or records it when
/// `TABEL_BLESS=1`.
fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("TABEL_BLESS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; record it with TABEL_BLESS=1",
            path.display()
        )
    });
    if expected != actual {
        let old: BTreeMap<&str, &str> = expected
            .lines()
            .filter_map(|l| l.split_once("  ").map(|(h, p)| (p, h)))
            .collect();
        let new: BTreeMap<&str, &str> = actual
            .lines()
            .filter_map(|l| l.split_once("  ").map(|(h, p)| (p, h)))
            .collect();
        let mut diff = Vec::new();
        for (p, h) in &new {
            match old.get(p) {
                None => diff.push(format!("new      {p}")),
                Some(o) if o != h => diff.push(format!("changed  {p}")),
                _ => {}
            }
        }
        for p in old.keys().filter(|p| !new.contains_key(*p)) {
            diff.push(format!("gone     {p}"));
        }
        let shown = diff.len().min(40);
        panic!(
            "{name}: {} file(s) differ from the recording (TABEL_BLESS=1 records the new output):\n{}{}",
            diff.len(),
            diff[..shown].join("\n"),
            if diff.len() > shown { "\n…" } else { "" }
        );
    }
}

/// The demo's release and its CSV export, in the autumn of a school year.
#[test]
fn the_demo_release_and_export_are_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tabel()
        .current_dir(d)
        .args([
            "--database",
            "sqlite://golden.db",
            "--output",
            "out",
            "demo",
            "--students",
            "40",
            "--seed",
            "3",
            "--date",
            "2026-11-27",
            "--no-serve",
        ])
        .success();
    let release = files(&d.join("out/current"));
    check("release.txt", &listing(&release));
    every_link_is_a_page_of_the_release(&release);
    tabel()
        .current_dir(d)
        .args([
            "--database",
            "sqlite://golden.db",
            "export",
            "csv",
            "export",
        ])
        .success();
    check("export.txt", &listing(&files(&d.join("export"))));
}

/// A finished year's archive: the bag's payload (statements and their data)
/// and its payload manifest. The tag files carry the time of archiving and a
/// signature by a fresh key, so they are not compared.
#[test]
fn the_archive_of_a_finished_demo_year_is_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tabel()
        .current_dir(d)
        .args([
            "--database",
            "sqlite://golden.db",
            "--output",
            "out",
            "demo",
            "--students",
            "40",
            "--seed",
            "3",
            "--date",
            "2027-07-01",
            "--no-serve",
        ])
        .success();
    tabel()
        .current_dir(d)
        .args(["archive", "keygen", "--out", "keys", "--unencrypted"])
        .success();
    tabel()
        .current_dir(d)
        .args([
            "--database",
            "sqlite://golden.db",
            "--output",
            "out",
            "archive",
            "--year",
            "2026/2027",
            "--key",
            "keys/tabel.key",
            "--date",
            "2027-07-01",
        ])
        .success();
    let archive = d.join("out/archive");
    let bags: Vec<PathBuf> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut tree = BTreeMap::new();
    for bag in &bags {
        let name = bag.file_name().unwrap().to_string_lossy().into_owned();
        for (path, bytes) in files(bag) {
            if path.starts_with("data/") || path.starts_with("manifest-") {
                tree.insert(format!("{name}/{path}"), bytes);
            }
        }
    }
    assert!(!tree.is_empty(), "no bag under {}", archive.display());
    check("archive.txt", &listing(&tree));
}

/// Every link and stylesheet of every page of a release names a file of
/// that release by the one URL scheme (`tabel::views::paths`), or one of
/// the gate's own pages: templates and the scheme agree.
pub(crate) fn every_link_is_a_page_of_the_release(release: &BTreeMap<String, Vec<u8>>) {
    const GATE: &[&str] = &["login", "account", "logout"];
    let mut checked = 0;
    for (stored, bytes) in release {
        // A page stored as `.br` is read as it is served.
        let (path, html) = match stored.strip_suffix(".br") {
            Some(p) if p.ends_with(".html") => (
                p,
                String::from_utf8(tabel::build::release::unbrotli(bytes, 1 << 30).unwrap())
                    .unwrap(),
            ),
            _ if stored.ends_with(".html") => {
                (stored.as_str(), String::from_utf8_lossy(bytes).into_owned())
            }
            _ => continue,
        };
        for link in html.split(" href=\"").skip(1) {
            let link = &link[..link.find('"').unwrap()];
            if link.starts_with("https://") || link.starts_with("http://") || link.starts_with('#')
            {
                continue;
            }
            // Resolved against the page's folder, as a browser does.
            let mut parts: Vec<&str> = path.split('/').collect();
            parts.pop();
            for seg in link.split('/') {
                match seg {
                    ".." => {
                        parts.pop();
                    }
                    "." | "" => {}
                    s => parts.push(s),
                }
            }
            let target = parts.join("/");
            if GATE.contains(&target.as_str()) {
                continue;
            }
            // A folder link is its index page.
            let target = if link.ends_with('/') || target.is_empty() {
                format!(
                    "{target}{}index.html",
                    if target.is_empty() { "" } else { "/" }
                )
            } else {
                target
            };
            assert!(
                tabel::views::paths::parse(&format!("/{target}")).is_some(),
                "{path} links to {link:?}, which is not a path of a release"
            );
            assert!(
                release.contains_key(&target) || release.contains_key(&format!("{target}.br")),
                "{path} links to {link:?}, which this release does not hold"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} links checked");
}
