//! Signing a bag's statements with a tool tabel does not replace: a
//! qualified ГОСТ signature made by КриптоПро on the director's token, or
//! by OpenSSL with the GOST engine (docs/signing.md).
//!
//! `sign-prepare` writes, beside the bag, each statement with a signature
//! field whose `/Contents` is reserved, the exact bytes its signature must
//! cover (`.tbs`), their digests, and a list of it all (`sign.json`).
//! Whoever signs makes a detached CMS of each `.tbs` (`.p7s`, DER).
//! `sign-complete` checks that each CMS's message digest is that of its
//! own PDF's byte range (a CMS over another document is refused, naming
//! the file), adds a timestamp when a TSA is set, embeds it, and reseals
//! the bag: new manifests, `bag-info.txt` with the new `Payload-Oxum`, a
//! new minisign signature — all swapped in at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::files::{change_bag, hex, manifest_lines, replace, write_new};
use super::{SIGNATURE, SIGNED, Signer, Tsa, bagit, chain, pdfcheck, signing};
use crate::pki::{Digest, Outcome, cms};
use crate::render::pdf::sign::{self as pdfsign, Field, Prepared};

/// The list `sign-prepare` writes into the work folder.
pub const LIST: &str = "sign.json";
/// The bag-info label that says how the statements are signed.
pub const LABEL: &str = "Statement-Signatures";

#[derive(Debug, Serialize, Deserialize)]
struct List {
    /// The bag's External-Identifier.
    bag: String,
    prepared: String,
    reserve: usize,
    files: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// The PDF in the bag (`data/statements/5A/year.pdf`).
    pdf: String,
    /// The prepared PDF in the work folder, and the bytes to sign.
    prepared: String,
    tbs: String,
    /// Where the signature is expected.
    signature: String,
    /// SHA-256 of the bag's PDF and of the prepared one.
    original_sha256: String,
    prepared_sha256: String,
    byte_range: [usize; 4],
    /// The byte range's digests, hex: for tools that sign a digest.
    sha256: String,
    streebog256: String,
    streebog512: String,
}

/// The work folder of a bag when none is named: `<bag>.sign` beside it.
pub fn default_work(bag: &Path) -> Result<PathBuf> {
    let name = bag
        .file_name()
        .and_then(|n| n.to_str())
        .context("the bag's folder has no name")?;
    Ok(bag.with_file_name(format!("{name}.sign")))
}

/// The statements of a valid bag that has no signatures and no timestamps yet.
fn unsigned_statements(bag: &Path) -> Result<(String, Vec<String>)> {
    let report = bagit::validate(bag)?;
    if !report.is_valid() {
        bail!(
            "{} is not a valid bag, so it is not signed: {}",
            bag.display(),
            report.errors.join("; ")
        );
    }
    let id = report
        .info("External-Identifier")
        .context("bag-info.txt has no External-Identifier: not a tabel bag")?
        .to_owned();
    if report.info(LABEL).is_some() {
        bail!("the statements of {} are signed already", bag.display());
    }
    if chain::links(bag) > 0 {
        bail!(
            "{} has archive timestamps already; its statements can no longer be signed without breaking them",
            bag.display()
        );
    }
    let mut pdfs = Vec::new();
    for e in walkdir::WalkDir::new(bag.join("data"))
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e?;
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "pdf") {
            let rel = e
                .path()
                .strip_prefix(bag)?
                .to_str()
                .context("a file name that is not UTF-8")?
                .to_owned();
            pdfs.push(rel);
        }
    }
    if pdfs.is_empty() {
        bail!("{} holds no PDF", bag.display());
    }
    Ok((id, pdfs))
}

/// `tabel archive sign-prepare`: writes the work folder `work`.
pub fn prepare(bag: &Path, work: &Path, reserve: usize) -> Result<usize> {
    let (id, pdfs) = unsigned_statements(bag)?;
    if work.exists() {
        bail!(
            "{} exists already (a preparation under way?); remove it to prepare again",
            work.display()
        );
    }
    let now = Utc::now();
    let tmp = work.with_file_name(format!(
        ".{}.tmp",
        work.file_name().and_then(|n| n.to_str()).unwrap_or("sign")
    ));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    let result = (|| -> Result<usize> {
        let mut files = Vec::new();
        for pdf in &pdfs {
            let original = std::fs::read(bag.join(pdf))?;
            let field = Field {
                name: signing::FIELD.into(),
                signer: None,
                reason: None,
                time: now,
                reserve,
            };
            let p = pdfsign::prepare(&original, &field)
                .with_context(|| format!("{pdf}: cannot prepare"))?;
            let rel = pdf.strip_prefix("data/").unwrap_or(pdf);
            let tbs: Vec<u8> = p.signed().concat();
            let e = Entry {
                pdf: pdf.clone(),
                prepared: rel.to_owned(),
                tbs: format!("{rel}.tbs"),
                signature: format!("{rel}.p7s"),
                original_sha256: hex(&Digest::Sha256.hash(&[&original])),
                prepared_sha256: hex(&Digest::Sha256.hash(&[&p.pdf])),
                byte_range: p.byte_range(),
                sha256: hex(&Digest::Sha256.hash(&[&tbs])),
                streebog256: hex(&Digest::Streebog256.hash(&[&tbs])),
                streebog512: hex(&Digest::Streebog512.hash(&[&tbs])),
            };
            write_new(&tmp.join(&e.prepared), &p.pdf)?;
            write_new(&tmp.join(&e.tbs), &tbs)?;
            files.push(e);
        }
        let list = List {
            bag: id.clone(),
            prepared: now.to_rfc3339(),
            reserve,
            files,
        };
        let mut json = serde_json::to_vec_pretty(&list)?;
        json.push(b'\n');
        write_new(&tmp.join(LIST), &json)?;
        write_new(&tmp.join("README.txt"), readme(&list).as_bytes())?;
        Ok(list.files.len())
    })();
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, work)
                .with_context(|| format!("cannot move the work folder to {}", work.display()))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn readme(list: &List) -> String {
    let mut s = format!(
        "Statements of the bag {} prepared for signing on {}.\n\n\
         For each FILE.pdf.tbs below, make a detached CMS signature in DER, FILE.pdf.p7s,\n\
         over exactly the bytes of FILE.pdf.tbs, with signed attributes (not -noattr). E.g.\n\
         with OpenSSL and the GOST engine, for every file:\n\n\
         \x20 openssl cms -sign -engine gost -binary -md md_gost12_256 -nosmimecap -cades \\\n\
         \x20     -signer director.pem -inkey director.key -outform DER \\\n\
         \x20     -in FILE.pdf.tbs -out FILE.pdf.p7s\n\n\
         or with КриптоПро CSP: cryptcp -sign -detached -der -thumbprint THUMBPRINT FILE.pdf.tbs FILE.pdf.p7s\n\
         (see docs/signing.md of tabel). Then run tabel archive sign-complete on the bag.\n\n\
         Each signature may take up to {} bytes.\n\nFiles:\n",
        list.bag, list.prepared, list.reserve
    );
    for e in &list.files {
        s.push_str(&format!(
            "  {}  (GOST R 34.11-2012/256: {})\n",
            e.tbs, e.streebog256
        ));
    }
    s
}

/// One statement signed, ready to go into the bag.
struct Done {
    pdf: String,
    bytes: Vec<u8>,
}

/// `tabel archive sign-complete`: checks and embeds every signature, then
/// reseals the bag. Returns how many statements were signed and what
/// tabel could not check itself.
pub fn complete(
    bag: &Path,
    work: &Path,
    minisign: &Signer,
    tsa: Option<&Tsa>,
) -> Result<(usize, Vec<String>)> {
    let (id, pdfs) = unsigned_statements(bag)?;
    let old_sig = std::fs::read_to_string(bag.join(SIGNATURE)).unwrap_or_default();
    let old_signed = std::fs::read(bag.join(SIGNED)).unwrap_or_default();
    if !minisign.made(&old_sig, &old_signed) {
        bail!(
            "the key {} did not sign {}: the bag is resealed only with the key that signed it",
            minisign.path.display(),
            bag.display()
        );
    }
    let list: List = serde_json::from_slice(
        &std::fs::read(work.join(LIST))
            .with_context(|| format!("cannot read {}", work.join(LIST).display()))?,
    )
    .with_context(|| format!("{} is damaged", work.join(LIST).display()))?;
    if list.bag != id {
        bail!(
            "{} was prepared for the bag {}, not for {} ({id})",
            work.display(),
            list.bag,
            bag.display()
        );
    }
    let listed: Vec<&str> = list.files.iter().map(|e| e.pdf.as_str()).collect();
    if listed != pdfs.iter().map(String::as_str).collect::<Vec<_>>() {
        bail!("the bag's statements are not those {LIST} lists; prepare again");
    }
    let mut done = Vec::new();
    let mut notes = Vec::new();
    let mut problems = Vec::new();
    for e in &list.files {
        match complete_one(bag, work, e, tsa) {
            Ok((d, note)) => {
                done.push(d);
                notes.extend(note);
            }
            Err(err) => problems.push(format!("{err:#}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} of {} signatures cannot go in; the bag is unchanged:\n  - {}",
            problems.len(),
            list.files.len(),
            problems.join("\n  - ")
        );
    }
    let level = if tsa.is_some() {
        "PAdES-B-T"
    } else {
        "PAdES-B-B"
    };
    let n = done.len();
    let changes: BTreeMap<String, Vec<u8>> = done.into_iter().map(|d| (d.pdf, d.bytes)).collect();
    reseal(
        bag,
        &changes,
        &format!("{level} (external signer)"),
        minisign,
    )?;
    Ok((n, notes))
}

/// Checks and embeds the signature of one statement.
fn complete_one(
    bag: &Path,
    work: &Path,
    e: &Entry,
    tsa: Option<&Tsa>,
) -> Result<(Done, Option<String>)> {
    let sig_path = work.join(&e.signature);
    let original = std::fs::read(bag.join(&e.pdf))?;
    if hex(&Digest::Sha256.hash(&[&original])) != e.original_sha256 {
        bail!(
            "{}: changed in the bag since it was prepared; prepare again",
            e.pdf
        );
    }
    let prepared = std::fs::read(work.join(&e.prepared))
        .with_context(|| format!("cannot read {}", work.join(&e.prepared).display()))?;
    if hex(&Digest::Sha256.hash(&[&prepared])) != e.prepared_sha256
        || !prepared.starts_with(&original)
    {
        bail!(
            "{}: changed since it was prepared; prepare again",
            work.join(&e.prepared).display()
        );
    }
    let p = Prepared::read(prepared)?;
    if p.byte_range() != e.byte_range {
        bail!("{}: its byte range changed; prepare again", e.prepared);
    }
    let raw = std::fs::read(&sig_path).with_context(|| {
        format!(
            "{}: no signature (make it from {})",
            sig_path.display(),
            e.tbs
        )
    })?;
    let der = if raw.starts_with(b"-----BEGIN") {
        der::pem::decode_vec(&raw)
            .map(|(_, d)| d)
            .map_err(|err| anyhow::anyhow!("{}: not a PEM CMS: {err}", sig_path.display()))?
    } else {
        raw
    };
    let len =
        cms::der_len(&der).with_context(|| format!("{}: not a DER CMS", sig_path.display()))?;
    let der = der[..len].to_vec();
    let signed =
        cms::read(&der).with_context(|| format!("{}: not a CMS signature", sig_path.display()))?;
    let d = signed
        .digest()
        .with_context(|| format!("{}: its digest algorithm", sig_path.display()))?;
    let checked = signed.check(&d.hash(&p.signed()))?;
    if let Err(why) = checked.covers {
        bail!(
            "{}: this CMS does not sign {}: {why} (a signature of another document?)",
            sig_path.display(),
            e.tbs
        );
    }
    let mut note = None;
    match checked.signature {
        Outcome::Good => {}
        Outcome::Bad(why) => bail!("{}: the signature is not valid: {why}", sig_path.display()),
        Outcome::Unsupported(what) if signed.has_signed_attributes() => {
            note = Some(format!(
                "{}: the {what} signature value is not checked by tabel (what it covers is)",
                e.pdf
            ));
        }
        Outcome::Unsupported(what) => bail!(
            "{}: a {what} signature without signed attributes (openssl -noattr): tabel can tell what it covers only by checking the signature value, which it does not do for {what}; sign with signed attributes",
            sig_path.display()
        ),
    }
    let mut der = der;
    if let Some(tsa) = tsa {
        let token = tsa.stamp(Digest::Sha256, &Digest::Sha256.hash(&[&signed.signature]))?;
        der = cms::add_timestamp(&der, &token)?;
    }
    let bytes = p.embed(&der).with_context(|| {
        format!(
            "{}: prepare again with a larger --reserve (the signature with its timestamp takes {} bytes)",
            e.pdf,
            der.len()
        )
    })?;
    // The result must read back as it will be verified.
    let verdicts = pdfcheck::check(&bytes, &[]);
    if let Some(v) = verdicts.iter().find(|v| !v.problems.is_empty()) {
        bail!(
            "{}: the signed PDF does not verify: {}",
            e.pdf,
            v.problems.join("; ")
        );
    }
    Ok((
        Done {
            pdf: e.pdf.clone(),
            bytes,
        },
        note,
    ))
}

/// Puts the signed statements into the bag at `bag`: new payload
/// manifests, `Payload-Oxum` and the signatures label in `bag-info.txt`,
/// new tag manifests and a new minisign signature, all at once.
fn reseal(
    bag: &Path,
    changes: &BTreeMap<String, Vec<u8>>,
    label: &str,
    minisign: &Signer,
) -> Result<()> {
    change_bag(bag, |tmp| {
        for (path, bytes) in changes {
            replace(&tmp.join(path), bytes)?;
        }
        // Payload manifests, line by line.
        for (name, pick) in [("manifest-sha256.txt", 0), ("manifest-sha512.txt", 1)] {
            let text = std::fs::read_to_string(tmp.join(name))?;
            let mut out = String::new();
            for line in text.lines() {
                match line.split_once("  ") {
                    Some((_, p)) if changes.contains_key(p) => {
                        let (a, b) = manifest_lines(p, &changes[p]);
                        out.push_str(if pick == 0 { &a } else { &b });
                    }
                    _ => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            replace(&tmp.join(name), out.as_bytes())?;
        }
        // bag-info.txt: the payload's new size, and how it is signed.
        let (mut bytes, mut files) = (0u64, 0usize);
        for e in walkdir::WalkDir::new(tmp.join("data")).follow_links(false) {
            let e = e?;
            if e.file_type().is_file() {
                bytes += e.metadata()?.len();
                files += 1;
            }
        }
        let info = std::fs::read_to_string(tmp.join("bag-info.txt"))?;
        let mut out = String::new();
        for line in info.lines() {
            if line.starts_with("Payload-Oxum:") {
                out.push_str(&format!("Payload-Oxum: {bytes}.{files}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!("{LABEL}: {label}\n"));
        replace(&tmp.join("bag-info.txt"), out.as_bytes())?;
        // Tag manifests and the signature.
        let tags = [
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
        ];
        let (mut t256, mut t512) = (String::new(), String::new());
        for name in tags {
            let data = std::fs::read(tmp.join(name))?;
            let (a, b) = manifest_lines(name, &data);
            t256.push_str(&a);
            t512.push_str(&b);
        }
        replace(&tmp.join("tagmanifest-sha256.txt"), t256.as_bytes())?;
        replace(&tmp.join(SIGNED), t512.as_bytes())?;
        let old = std::fs::read_to_string(tmp.join(SIGNATURE)).unwrap_or_default();
        let trusted = old
            .lines()
            .find_map(|l| l.strip_prefix("trusted comment: "))
            .context("the bag's signature has no trusted comment")?
            .to_owned();
        let sig = minisign.sign(
            t512.as_bytes(),
            &trusted,
            "signature of tagmanifest-sha512.txt of a tabel archive bag",
        )?;
        replace(&tmp.join(SIGNATURE), sig.as_bytes())?;
        let report = bagit::validate(tmp)?;
        if !report.is_valid() {
            bail!(
                "the resealed bag does not validate: {}",
                report.errors.join("; ")
            );
        }
        Ok(())
    })
}
