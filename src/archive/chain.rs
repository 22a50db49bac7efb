//! The bag's chain of archive timestamps (the idea of RFC 4998 and of
//! PAdES B-LTA, docs/signing.md): each link is a text file listing the
//! SHA-512 of every file of the bag — payload, manifests, bag-info, the
//! minisign signature, the signed PDFs and every earlier link — and an
//! RFC 3161 timestamp over that text. A link made before the previous
//! one's TSA certificate or algorithms age carries the proof forward.
//!
//! The links live in `timestamps/` (`0001.txt`, `0001.tst`, …) and are
//! listed in `tagmanifest-sha256.txt`, which is rewritten with each link;
//! `tagmanifest-sha512.txt` stays as the school signed it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use x509_cert::Certificate;

use super::Tsa;
use super::bagit;
use super::files::{hex, replace, write_new};
use crate::pki::{Digest, cert, signature, tsp};

/// The folder of the links.
pub const FOLDER: &str = "timestamps";
/// The tag manifest that lists the links (the other one is signed).
const LISTED_IN: &str = "tagmanifest-sha256.txt";
/// The digest a new link lists the files with.
const DIGEST: Digest = Digest::Sha512;
const HEADER: &str = "tabel archive timestamp";

fn link_files(n: usize) -> (String, String) {
    (
        format!("{FOLDER}/{n:04}.txt"),
        format!("{FOLDER}/{n:04}.tst"),
    )
}

/// Reads a file of the bag without following links.
fn read(bag: &Path, rel: &str) -> std::io::Result<Vec<u8>> {
    let mut f = bagit::open_in_bag(&bag.join(rel))?;
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// Every file of the bag a link covers: all but the rewritten tag manifest.
fn covered(bag: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(bag).follow_links(false).min_depth(1) {
        let e = e.with_context(|| format!("cannot list {}", bag.display()))?;
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(bag)
            .context("outside the bag")?
            .to_str()
            .context("a file name that is not UTF-8")?
            .to_owned();
        if rel != LISTED_IN {
            out.push(rel);
        }
    }
    out.sort();
    Ok(out)
}

/// The number of links in the bag (the highest link number found).
pub fn links(bag: &Path) -> usize {
    std::fs::read_dir(bag.join(FOLDER))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.split('.').next()?.parse::<usize>().ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// Adds the next link to the bag at `bag` (a bag being written, or a copy
/// being changed: files are replaced, never written into); returns its
/// number and time.
pub fn add_link(bag: &Path, bag_id: &str, tsa: &Tsa) -> Result<(usize, DateTime<Utc>)> {
    let n = links(bag) + 1;
    let (txt, tst) = link_files(n);
    let mut text = format!("{HEADER} {n}\nbag: {bag_id}\ndigest: {}\n", DIGEST.token());
    for rel in covered(bag)? {
        let data = read(bag, &rel).with_context(|| format!("cannot read {rel}"))?;
        text.push_str(&format!(
            "{}  {}\n",
            hex(&DIGEST.hash(&[&data])),
            bagit::encode_path(&rel)
        ));
    }
    let token = tsa.stamp(Digest::Sha512, &Digest::Sha512.hash(&[text.as_bytes()]))?;
    let time = tsp::check(&token)?.time;
    write_new(&bag.join(&txt), text.as_bytes())?;
    write_new(&bag.join(&tst), &token)?;
    // The tag manifest: what it listed, the links now.
    let old = String::from_utf8(
        read(bag, LISTED_IN).with_context(|| format!("cannot read {LISTED_IN}"))?,
    )
    .with_context(|| format!("{LISTED_IN} is not UTF-8"))?;
    let mut manifest: String = old
        .lines()
        .filter(|l| {
            !l.split_once("  ")
                .is_some_and(|(_, p)| p.starts_with(&format!("{FOLDER}/")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    for k in 1..=n {
        for rel in <[String; 2]>::from(link_files(k)) {
            let data = read(bag, &rel).with_context(|| format!("cannot read {rel}"))?;
            manifest.push_str(&format!("{}  {rel}\n", hex(&Digest::Sha256.hash(&[&data]))));
        }
    }
    replace(&bag.join(LISTED_IN), manifest.as_bytes())?;
    Ok((n, time))
}

/// What checking one link found.
#[derive(Debug, Clone)]
pub struct Link {
    pub n: usize,
    /// The TSA's time.
    pub time: Option<DateTime<Utc>>,
    /// Its TSA in words.
    pub tsa: String,
    /// The algorithms it rests on, in words.
    pub algorithms: String,
    /// Until when it is trustworthy, and why then.
    pub until: Option<(DateTime<Utc>, String)>,
    /// How many files it lists.
    pub files: usize,
}

/// What checking the chain found.
#[derive(Debug, Default)]
pub struct Chain {
    pub links: Vec<Link>,
    /// What is wrong, each naming the link and file.
    pub errors: Vec<String>,
    /// What holds, in plain words, one line per link and a last word.
    pub lines: Vec<String>,
}

/// Checks the chain of the bag at `bag` (none: `None`); `bag_id` is its
/// `External-Identifier`, `anchors` the trusted roots for the TSAs
/// (none given: their certificates are not checked against a root).
pub fn check(bag: &Path, bag_id: Option<&str>, anchors: &[Certificate]) -> Result<Option<Chain>> {
    let folder = bag.join(FOLDER);
    let listed = listed_links(bag);
    if !folder.exists() && listed.is_empty() {
        return Ok(None);
    }
    let mut chain = Chain::default();
    let mut numbers = BTreeSet::new();
    if folder.exists() {
        for e in std::fs::read_dir(&folder).with_context(|| format!("cannot list {FOLDER}/"))? {
            let name = e?.file_name().to_string_lossy().into_owned();
            let n = name
                .strip_suffix(".txt")
                .or_else(|| name.strip_suffix(".tst"))
                .filter(|s| s.len() == 4)
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|&n| n > 0);
            match n {
                Some(n) => {
                    numbers.insert(n);
                }
                None => chain.errors.push(format!(
                    "{FOLDER}/{name}: not a link of the timestamp chain"
                )),
            }
        }
    }
    numbers.extend(listed.iter().copied());
    let last = numbers.iter().copied().max().unwrap_or(0);
    let mut texts: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    for k in 1..=last {
        let (txt, tst) = link_files(k);
        let (t, s) = (read(bag, &txt), read(bag, &tst));
        match (&t, &s) {
            (Ok(t), Ok(_)) => {
                texts.insert(k, t.clone());
            }
            _ => {
                let gone: Vec<&str> = [(&t, &txt), (&s, &tst)]
                    .iter()
                    .filter(|(r, _)| r.is_err())
                    .map(|(_, n)| n.as_str())
                    .collect();
                chain.errors.push(format!(
                    "link {k} of {last} of the timestamp chain is missing or unreadable ({}): removed?",
                    gone.join(", ")
                ));
            }
        }
    }
    let current: BTreeSet<String> = covered(bag)?.into_iter().collect();
    for k in 1..=last {
        let Some(text) = texts.get(&k) else { continue };
        let (txt, tst) = link_files(k);
        let mut errors = Vec::new();
        let link = check_link(bag, k, text, &tst, bag_id, anchors, &current, &mut errors);
        let covers_all = k == last;
        if covers_all {
            // The last link vouches for everything there is now.
            let listed: BTreeSet<String> = listed_paths(text);
            let own: BTreeSet<String> = [txt.clone(), tst.clone()].into();
            for f in current.difference(&listed) {
                if !own.contains(f) {
                    errors.push(format!(
                        "{f}: not covered by the last timestamp (link {k}): added or renamed after it"
                    ));
                }
            }
        }
        chain.errors.extend(errors);
        if let Some(l) = link {
            chain.links.push(l);
        }
    }
    // From one link to the next.
    let now = Utc::now();
    for (i, l) in chain.links.iter().enumerate() {
        let time = l
            .time
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "(no time)".into());
        let mut line = format!(
            "link {} of {last}: {time}, by «{}» ({}), over {} files",
            l.n, l.tsa, l.algorithms, l.files
        );
        match &l.until {
            Some((until, why)) => {
                line.push_str(&format!(
                    "; trustworthy until {} ({why})",
                    until.format("%Y-%m-%d")
                ));
            }
            None => line.push_str("; how long it holds is unknown"),
        }
        match chain.links.get(i + 1) {
            Some(next) => match (next.time, &l.until) {
                (Some(t), Some((until, _))) if t <= *until => line.push_str(&format!(
                    "; carried on by link {} in time",
                    next.n
                )),
                (Some(t), Some((until, _))) => chain.errors.push(format!(
                    "link {} was made on {}, after link {} had stopped being trustworthy on {}: the chain proves the bag only from link {} on",
                    next.n,
                    t.format("%Y-%m-%d"),
                    l.n,
                    until.format("%Y-%m-%d"),
                    next.n
                )),
                _ => {}
            },
            None => match &l.until {
                Some((until, _)) if *until < now => chain.errors.push(format!(
                    "the chain lapsed on {}: its last link (link {}) is no longer trustworthy; it should have been renewed before",
                    until.format("%Y-%m-%d"),
                    l.n
                )),
                Some((until, _)) => line.push_str(&format!(
                    "; the last link: renew before {} (`tabel archive renew`)",
                    until.format("%Y-%m-%d")
                )),
                None => {}
            },
        }
        chain.lines.push(line);
    }
    if anchors.is_empty() {
        chain.lines.push(
            "the TSAs' certificates were NOT checked against a trusted root (give --trust FILE)"
                .into(),
        );
    }
    Ok(Some(chain))
}

/// The link numbers `tagmanifest-sha256.txt` lists.
fn listed_links(bag: &Path) -> BTreeSet<usize> {
    let Ok(data) = read(bag, LISTED_IN) else {
        return BTreeSet::new();
    };
    String::from_utf8_lossy(&data)
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_owned()))
        .filter_map(|p| {
            p.strip_prefix(&format!("{FOLDER}/"))?
                .split('.')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// The (encoded) paths a link's text lists.
fn listed_paths(text: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(text)
        .lines()
        .skip(3)
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_owned()))
        .collect()
}

/// Checks link `k`: its text (the bag as it was), its token, how long it holds.
#[allow(clippy::too_many_arguments)]
fn check_link(
    bag: &Path,
    k: usize,
    text: &[u8],
    tst: &str,
    bag_id: Option<&str>,
    anchors: &[Certificate],
    current: &BTreeSet<String>,
    errors: &mut Vec<String>,
) -> Option<Link> {
    let (txt, _) = link_files(k);
    let Ok(s) = std::str::from_utf8(text) else {
        errors.push(format!("{txt}: link {k} is not text: altered"));
        return None;
    };
    let mut lines = s.lines();
    let head = lines.next().unwrap_or_default();
    let id = lines.next().unwrap_or_default();
    let alg = lines.next().unwrap_or_default();
    if head != format!("{HEADER} {k}") {
        errors.push(format!(
            "{txt}: link {k} does not say it is link {k} ({head:?}): altered or moved"
        ));
    }
    if let Some(want) = bag_id
        && id != format!("bag: {want}")
    {
        errors.push(format!("{txt}: link {k} names another bag ({id:?})"));
    }
    let digest = alg
        .strip_prefix("digest: ")
        .and_then(|t| Digest::ALL.into_iter().find(|d| d.token() == t));
    let Some(digest) = digest else {
        errors.push(format!(
            "{txt}: link {k} names no digest tabel knows ({alg:?})"
        ));
        return None;
    };
    // The files as the link saw them.
    let mut listed = BTreeSet::new();
    for line in lines {
        let Some((sum, path)) = line.split_once("  ") else {
            errors.push(format!(
                "{txt}: link {k} has a damaged line {line:?}: altered"
            ));
            continue;
        };
        listed.insert(path.to_owned());
        if !current.contains(path) {
            errors.push(format!(
                "{path}: link {k} vouches for it, and it is missing (removed after {txt})"
            ));
            continue;
        }
        match read(bag, path) {
            Ok(data) if hex(&digest.hash(&[&data])) == sum => {}
            Ok(_) => errors.push(format!(
                "{path}: changed after link {k} timestamped it ({txt})"
            )),
            Err(e) => errors.push(format!("{path}: cannot be read: {e}")),
        }
    }
    for j in 1..k {
        let (jt, js) = link_files(j);
        for f in [jt, js] {
            if !listed.contains(&f) {
                errors.push(format!(
                    "{txt}: link {k} does not cover {f} of link {j}: the chain was altered"
                ));
            }
        }
    }
    // The token: over exactly this text, signed by its TSA.
    let token = match read(bag, tst) {
        Ok(t) => t,
        Err(e) => {
            errors.push(format!("{tst}: cannot be read: {e}"));
            return None;
        }
    };
    let stamp = match tsp::check(&token) {
        Ok(s) => s,
        Err(e) => {
            errors.push(format!(
                "{tst}: link {k}'s timestamp cannot be read: {e:#}: altered"
            ));
            return None;
        }
    };
    if let Err(why) = &stamp.valid {
        errors.push(format!(
            "{tst}: link {k}'s timestamp does not verify: {why}: altered"
        ));
    }
    let (alg, imprint) = &stamp.imprint;
    if alg.hash(&[text]) != *imprint {
        errors.push(format!(
            "{txt}: link {k} is not what its timestamp {tst} stamped: altered"
        ));
    }
    if !anchors.is_empty() {
        match &stamp.tsa {
            Some(c) => {
                if let Err(why) = cert::path(c, &stamp.certificates, anchors, stamp.time) {
                    errors.push(format!("{tst}: link {k}'s TSA is not trusted: {why}"));
                }
            }
            None => errors.push(format!(
                "{tst}: link {k}'s timestamp names no TSA certificate"
            )),
        }
    }
    // How long it holds: its TSA's certificate, and its algorithms.
    let mut limits: Vec<(DateTime<Utc>, String)> = Vec::new();
    if let Some(c) = &stamp.tsa {
        limits.push((
            cert::validity(c).1,
            "when the TSA's certificate ends".to_owned(),
        ));
        if let Some(y) = signature::key_broken_since(&c.tbs_certificate.subject_public_key_info) {
            limits.push((year(y), "the TSA's key is too short since then".into()));
        }
    }
    for (d, what) in [
        (Some(digest), "the files' digest"),
        (Some(*alg), "the stamped digest"),
        (stamp.digest, "the TSA's digest"),
    ] {
        if let Some(d) = d
            && let Some(y) = d.strength().broken_since
        {
            limits.push((
                year(y),
                format!("{what}, {}, is broken since then", d.name()),
            ));
        }
    }
    let until = limits.into_iter().min_by_key(|(t, _)| *t);
    Some(Link {
        n: k,
        time: Some(stamp.time),
        tsa: stamp.tsa_name(),
        algorithms: format!(
            "{}; files hashed with {}",
            stamp.signature_algorithm,
            digest.name()
        ),
        until,
        files: listed.len(),
    })
}

fn year(y: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}
