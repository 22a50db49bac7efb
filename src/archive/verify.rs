//! Verifying a bag: any BagIt bag; with the school's public key the
//! signature over its tag manifest; the signatures inside its PDFs; and its
//! chain of archive timestamps (docs/signing.md). With trusted roots, the
//! signers' and TSAs' certificates are checked against them.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use x509_cert::Certificate;

use super::{SIGNATURE, SIGNED, bagit, chain, external, pdfcheck, sign};

/// The outcome of `tabel verify`.
#[derive(Debug)]
pub struct Verdict {
    pub report: bagit::Report,
    /// The signature's trusted comment, when a public key was given and it verified.
    pub signed: Option<String>,
    /// The signatures inside the PDFs: path and what each check found.
    pub pdfs: Vec<(String, Vec<pdfcheck::Verdict>)>,
    /// The chain of archive timestamps, if the bag has one.
    pub chain: Option<chain::Chain>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.report.is_valid()
    }
}

/// Verifies the bag at `dir`: BagIt validity, with `pubkey` its signature,
/// the signatures inside its PDFs and its timestamp chain; `anchors` are
/// the trusted roots for signers and TSAs (none: not checked against roots).
pub fn verify(dir: &Path, pubkey: Option<&Path>) -> Result<Verdict> {
    verify_with(dir, pubkey, &[])
}

/// [`verify`] with trusted roots.
pub fn verify_with(dir: &Path, pubkey: Option<&Path>, anchors: &[Certificate]) -> Result<Verdict> {
    let mut report = bagit::validate(dir)?;
    let mut signed = None;
    if let Some(pk_path) = pubkey {
        let pk = sign::read_public(pk_path)?;
        match check_signature(dir, &pk, &report) {
            Ok(comment) => signed = Some(comment),
            Err(e) => report.errors.push(format!("{e:#}")),
        }
    }
    let pdfs = check_pdfs(dir, &mut report, anchors)?;
    let id = report.info("External-Identifier").map(str::to_owned);
    let chain = chain::check(dir, id.as_deref(), anchors)?;
    if let Some(c) = &chain {
        report.errors.extend(c.errors.iter().cloned());
    }
    Ok(Verdict {
        report,
        signed,
        pdfs,
        chain,
    })
}

/// Checks the signatures inside every PDF of the payload; a bag whose
/// `bag-info.txt` says its statements are signed must have them all signed.
fn check_pdfs(
    dir: &Path,
    report: &mut bagit::Report,
    anchors: &[Certificate],
) -> Result<Vec<(String, Vec<pdfcheck::Verdict>)>> {
    let data = dir.join("data");
    if !data.is_dir() {
        return Ok(Vec::new());
    }
    let promised = report.info(external::LABEL).is_some();
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(&data)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.with_context(|| format!("cannot list {}", data.display()))?;
        if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "pdf") {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut bytes = Vec::new();
        if bagit::open_in_bag(e.path())
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .is_err()
        {
            continue; // The BagIt check names it.
        }
        let verdicts = pdfcheck::check(&bytes, anchors);
        if verdicts.is_empty() {
            if promised {
                report.errors.push(format!(
                    "{rel}: not signed, though bag-info.txt says the statements are ({})",
                    report.info(external::LABEL).unwrap_or_default()
                ));
            }
            continue;
        }
        for v in &verdicts {
            for p in &v.problems {
                report.errors.push(format!("{rel}: {p}"));
            }
        }
        out.push((rel, verdicts));
    }
    Ok(out)
}

fn check_signature(dir: &Path, pk: &minisign::PublicKey, report: &bagit::Report) -> Result<String> {
    let read = |name: &str, max: u64| -> Result<Vec<u8>> {
        bagit::read_in_bag(&dir.join(name), max).with_context(|| format!("{name}: cannot be read"))
    };
    // A signature is a few hundred bytes.
    let sig = read(SIGNATURE, 64 << 10)?;
    let sig = String::from_utf8(sig).with_context(|| format!("{SIGNATURE}: is not text"))?;
    let data = read(SIGNED, bagit::TAG_BYTES)?;
    let comment = sign::verify(pk, &sig, &data)
        .with_context(|| format!("{SIGNATURE}: the signature of {SIGNED} does not verify"))?;
    // The trusted comment must name this bag.
    let field = |k: &str| {
        comment
            .split(' ')
            .find_map(|w| w.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(str::to_owned)
    };
    let expect = [
        ("bag", report.info("External-Identifier").map(str::to_owned)),
        (
            "school",
            report.info("School-Identifier").map(str::to_owned),
        ),
        (
            "year",
            report.info("School-Year").map(|y| y.replace(' ', "_")),
        ),
    ];
    for (k, want) in expect {
        let got = field(k);
        if got.is_none() || got != want {
            bail!(
                "{SIGNATURE}: the trusted comment {comment:?} does not match bag-info.txt ({k} is {:?} there)",
                want.unwrap_or_default()
            );
        }
    }
    Ok(comment)
}
