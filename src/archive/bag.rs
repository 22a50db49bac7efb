//! Writing a bag: the statements typeset with their data (and signed
//! inside, if asked), the roster, the manifests and tag files, the
//! signature, the first archive timestamp (with a TSA); all in a temporary
//! folder that is flushed and renamed into place, never over an existing
//! archive.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256, Sha512};

use super::contents::{class_folders, one_line, roster_json, token};
use super::files::{hex, rename_no_replace, sync_dir, sync_tree, write_new};
use super::{Archived, Options, SIGNATURE, SIGNED, Signer, bagit, chain, external, year_folder};
use crate::gradebook::Snapshot;
use crate::gradebook::model::Date;
use crate::render::pdf::{Doc, Typesetter};
use crate::views::{self, documents};

/// Writes the bag of `s` at `dir` through a temporary folder.
pub(super) fn write_bag(
    s: &Snapshot,
    dir: &Path,
    opts: &Options,
    typesetter: &Typesetter,
    signer: &Signer,
) -> Result<Archived> {
    let started = Instant::now();
    if dir.exists() {
        bail!(
            "{} exists already: an archive is never overwritten",
            dir.display()
        );
    }
    let parent = dir.parent().context("the archive folder has no parent")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the archive folder has no name")?;
    // Leftovers of a killed run of this same bag go first.
    let tmp = parent.join(format!(".{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove the leftover {}", tmp.display()))?;
    }
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = fill_bag(s, &tmp, opts, typesetter, signer).and_then(|mut a| {
        let report = bagit::validate(&tmp)?;
        if !report.is_valid() {
            bail!(
                "the new bag does not validate: {}",
                report.errors.join("; ")
            );
        }
        sync_tree(&tmp)?;
        rename_no_replace(&tmp, dir)?;
        sync_dir(parent)?;
        a.dir = dir.to_owned();
        a.seconds = started.elapsed().as_secs_f64();
        Ok(a)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Typesets the statements and writes payload, tag files and signature.
fn fill_bag(
    s: &Snapshot,
    tmp: &Path,
    opts: &Options,
    typesetter: &Typesetter,
    signer: &Signer,
) -> Result<Archived> {
    let digest = s.digest();
    // Every period is finished the day after the year ends.
    let after = Date(s.year.ends_on.0 + chrono::Days::new(1));
    let ix = views::Index::new(s, opts.language, after.max(opts.today), "");
    let folders = class_folders(s);
    let mut payload: Vec<(String, Vec<u8>)> = Vec::new();
    let mut docs: Vec<(String, Doc)> = Vec::new();
    for class in &s.classes {
        let folder = &folders[&class.id];
        for p in ix.finished_periods(class) {
            let st = ix.statement(class, p);
            let path = format!(
                "data/statements/{folder}/{}",
                views::statement::period_slug(p)
            );
            let ident = format!("archive/{}/{path}.pdf", year_folder(&s.year));
            let doc = documents::statement(&ix, class, p, &st, &ident);
            payload.push((format!("{path}.json"), doc.data.clone()));
            docs.push((format!("{path}.pdf"), doc));
        }
    }
    let lang = ix.t.lang;
    let pdfs = typeset_all(typesetter, lang, &docs)?;
    let statements = docs.len();
    let mut typeset: Vec<(String, Vec<u8>)> = docs
        .into_iter()
        .zip(pdfs)
        .map(|((path, _), pdf)| (path, pdf))
        .collect();
    // Signed inside before the manifests are computed over them.
    let mut signing_seconds = 0.0;
    if let Some(signer) = &opts.sign_pdf {
        let started = Instant::now();
        typeset = signer.sign_all(typeset)?;
        signing_seconds = started.elapsed().as_secs_f64();
    }
    payload.extend(typeset);
    payload.push((
        "data/roster.json".into(),
        roster_json(s, &folders, &ix, &digest)?,
    ));
    payload.sort_by(|a, b| a.0.cmp(&b.0));
    // Payload and its manifests.
    let mut sha256 = String::new();
    let mut sha512 = String::new();
    let mut bytes = 0u64;
    for (path, data) in &payload {
        write_new(&tmp.join(path), data)?;
        bytes += data.len() as u64;
        let p = bagit::encode_path(path);
        sha256.push_str(&format!("{}  {p}\n", hex(&Sha256::digest(data))));
        sha512.push_str(&format!("{}  {p}\n", hex(&Sha512::digest(data))));
    }
    let school_id = token(&s.school.external_id, s.school.id);
    let bag_id = format!(
        "tabel:{school_id}:{}:{}",
        year_folder(&s.year),
        &digest[..16]
    );
    let mut info: Vec<(&str, String)> = vec![
        ("Source-Organization", one_line(&s.school.name)),
        ("Organization-Address", one_line(&s.school.address)),
    ];
    if let Some(e) = &s.school.email {
        info.push(("Contact-Email", one_line(e)));
    }
    if let Some(p) = &s.school.phone {
        info.push(("Contact-Phone", one_line(p)));
    }
    info.extend([
        (
            "External-Description",
            one_line(&format!(
                "{} {}: {} ({})",
                ix.t.archive_description, s.year.title, s.school.name, statements
            )),
        ),
        ("External-Identifier", bag_id.clone()),
        ("Bagging-Date", opts.today.to_string()),
        ("Bag-Count", "1 of 1".into()),
        (
            "Bag-Software-Agent",
            format!("tabel {}", env!("CARGO_PKG_VERSION")),
        ),
        ("Payload-Oxum", format!("{bytes}.{}", payload.len())),
        ("School-Identifier", school_id.clone()),
        ("School-Year", one_line(&s.year.title)),
        (
            "School-Year-Dates",
            format!("{} {}", s.year.starts_on, s.year.ends_on),
        ),
        ("Tabel-Version", env!("CARGO_PKG_VERSION").into()),
        ("Snapshot-Id", digest.clone()),
    ]);
    if let Some(signer) = &opts.sign_pdf {
        info.push((external::LABEL, signer.level().to_owned()));
    }
    let info_text: String = info.iter().map(|(l, v)| format!("{l}: {v}\n")).collect();
    let tags: Vec<(&str, String)> = vec![
        (
            "bagit.txt",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".into(),
        ),
        ("bag-info.txt", info_text),
        ("manifest-sha256.txt", sha256),
        ("manifest-sha512.txt", sha512),
    ];
    let mut tag256 = String::new();
    let mut tag512 = String::new();
    for (name, text) in &tags {
        write_new(&tmp.join(name), text.as_bytes())?;
        tag256.push_str(&format!("{}  {name}\n", hex(&Sha256::digest(text))));
        tag512.push_str(&format!("{}  {name}\n", hex(&Sha512::digest(text))));
    }
    write_new(&tmp.join("tagmanifest-sha256.txt"), tag256.as_bytes())?;
    write_new(&tmp.join(SIGNED), tag512.as_bytes())?;
    let trusted = trusted_comment(&bag_id, &school_id, &s.year.title);
    let signature = signer.sign(
        tag512.as_bytes(),
        &trusted,
        "signature of tagmanifest-sha512.txt of a tabel archive bag",
    )?;
    write_new(&tmp.join(SIGNATURE), signature.as_bytes())?;
    // The first link of the bag's timestamp chain, over all of it.
    if let Some(tsa) = &opts.tsa {
        chain::add_link(tmp, &bag_id, tsa)?;
    }
    Ok(Archived {
        school: s.school.external_id.clone(),
        dir: tmp.to_owned(),
        bag_id,
        statements,
        files: payload.len(),
        bytes,
        seconds: 0.0,
        pdf_signatures: opts.sign_pdf.as_ref().map(|s| (s.level(), signing_seconds)),
        timestamped: opts.tsa.is_some(),
    })
}

/// Typesets `docs` a few at a time on one plain thread per core, in order.
/// Not rayon tasks: typst parallelizes inside a compile with rayon, and a
/// rayon worker waiting on that would start further compiles meanwhile,
/// piling up their memory (see the build's `documents`).
fn typeset_all(
    typesetter: &Typesetter,
    lang: &str,
    docs: &[(String, Doc)],
) -> Result<Vec<Vec<u8>>> {
    const PER_COMPILE: usize = 8;
    let chunks: Vec<(usize, &[(String, Doc)])> = docs.chunks(PER_COMPILE).enumerate().collect();
    let queue = std::sync::Mutex::new(chunks.into_iter());
    let done = std::sync::Mutex::new(Vec::new());
    let work = || -> Result<()> {
        loop {
            let next = queue
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .next();
            let Some((i, chunk)) = next else {
                return Ok(());
            };
            let refs: Vec<&Doc> = chunk.iter().map(|(_, d)| d).collect();
            let pdfs = typesetter.typeset("statement.typ", lang, &refs)?;
            done.lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .push((i, pdfs));
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a typesetting thread panicked"))??;
        }
        Ok(())
    })?;
    let mut done = done.into_inner().map_err(|_| anyhow::anyhow!("poisoned"))?;
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().flat_map(|(_, p)| p).collect())
}

/// The signature's trusted comment: what the signature vouches for.
fn trusted_comment(bag: &str, school: &str, year: &str) -> String {
    format!(
        "tabel archive bag={bag} school={school} year={}",
        one_line(year).replace(' ', "_")
    )
}
