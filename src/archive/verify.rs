//! Verifying a bag: any BagIt bag, and with the school's public key the
//! signature over its tag manifest.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{SIGNATURE, SIGNED, bagit, sign};

/// The outcome of `tabel verify`.
#[derive(Debug)]
pub struct Verdict {
    pub report: bagit::Report,
    /// The signature's trusted comment, when a public key was given and it verified.
    pub signed: Option<String>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.report.is_valid()
    }
}

/// Verifies the bag at `dir`: BagIt validity, and with `pubkey` its signature.
pub fn verify(dir: &Path, pubkey: Option<&Path>) -> Result<Verdict> {
    let mut report = bagit::validate(dir)?;
    let mut signed = None;
    if let Some(pk_path) = pubkey {
        let pk = sign::read_public(pk_path)?;
        match check_signature(dir, &pk, &report) {
            Ok(comment) => signed = Some(comment),
            Err(e) => report.errors.push(format!("{e:#}")),
        }
    }
    Ok(Verdict { report, signed })
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
