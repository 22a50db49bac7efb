//! `tabel verify DIR`: any BagIt bag; with the school's public key its
//! signature; the signatures inside its PDFs and its chain of archive
//! timestamps, each in plain words; with trusted roots, the certificates
//! of the signers and TSAs. Exit 0 only when everything holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Settings;
use crate::pki::cert;

/// `tabel verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bag's folder.
    pub dir: PathBuf,
    /// The school's public key (minisign format); without it only the bag
    /// is checked, not its signature.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Trusted root certificates (PEM or DER) for the signatures inside
    /// the PDFs and the TSAs; may be given several times. Without it the
    /// signatures are checked, but not whom their certificates lead to.
    #[arg(long, value_name = "FILE")]
    pub trust: Vec<PathBuf>,
}

/// Runs `tabel verify`: exit 0 only when the bag (and its signature, with a key) holds.
pub fn run(_settings: &Settings, args: Args) -> Result<ExitCode> {
    let mut anchors = Vec::new();
    for t in &args.trust {
        let bytes = std::fs::read(t).with_context(|| format!("cannot read {}", t.display()))?;
        anchors.extend(
            cert::read_all(&bytes)
                .with_context(|| format!("{} holds no certificate tabel can read", t.display()))?,
        );
    }
    let verdict = crate::archive::verify_with(&args.dir, args.pubkey.as_deref(), &anchors)?;
    let r = &verdict.report;
    // Names in a bag are anyone's choice: printed escaped, a name cannot
    // start a line of its own ("valid: …") or move the terminal's cursor.
    let p = crate::text::printable;
    // The signatures inside the PDFs, one line each.
    if !verdict.pdfs.is_empty() {
        let bad = verdict
            .pdfs
            .iter()
            .filter(|(_, vs)| vs.iter().any(|v| !v.problems.is_empty()))
            .count();
        println!(
            "PDF signatures: {} signed PDFs, {}",
            verdict.pdfs.len(),
            if bad == 0 {
                "all valid".to_owned()
            } else {
                format!("{bad} NOT valid")
            }
        );
        for (path, vs) in &verdict.pdfs {
            for v in vs {
                println!("  {}: {}", p(path), pdf_line(v, !anchors.is_empty()));
            }
        }
    }
    if let Some(chain) = &verdict.chain {
        println!(
            "timestamp chain: {} link(s), {}",
            chain.links.len(),
            if chain.errors.is_empty() {
                "holds"
            } else {
                "does NOT hold"
            }
        );
        for l in &chain.lines {
            println!("  {}", p(l));
        }
    }
    for w in &r.warnings {
        eprintln!("warning: {}", p(w));
    }
    for e in &r.errors {
        eprintln!("error: {}", p(e));
    }
    let dir = args.dir.display().to_string();
    let dir = p(&dir);
    if !verdict.is_valid() {
        eprintln!("INVALID: {dir}: {} problem(s)", r.errors.len());
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "valid: {dir}: BagIt {}, {} payload files, {} bytes, checksums {} all match",
        p(&r.version),
        r.payload_files,
        r.payload_bytes,
        r.algorithms.join(", ")
    );
    match (&verdict.signed, &args.pubkey) {
        (Some(comment), Some(pk)) => println!(
            "signature: good, by the key {}; it vouches for: {}",
            p(&pk.display().to_string()),
            p(comment)
        ),
        _ => println!(
            "signature: NOT checked (no --pubkey given): only the bag's own checksums were verified, which anyone could have rewritten"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// One signature of a PDF in words: valid or not and why, by whom, when.
fn pdf_line(v: &crate::archive::pdfcheck::Verdict, trusted: bool) -> String {
    let mut s = if v.problems.is_empty() {
        format!("valid ({})", v.level)
    } else {
        format!("NOT valid: {}", v.problems.join("; "))
    };
    if let Some(who) = &v.signer {
        s.push_str(&format!("; signed by «{who}»"));
        if let Some(i) = &v.issuer {
            s.push_str(&format!(" (certificate of «{i}»)"));
        }
        if !v.algorithm.is_empty() {
            s.push_str(&format!(", {}", v.algorithm));
        }
    }
    match (&v.time, &v.tsa) {
        (Some(t), Some(tsa)) => s.push_str(&format!(
            "; at {} by the TSA «{tsa}»",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        _ if v.signer.is_some() => s.push_str("; no timestamp: its time is only claimed"),
        _ => {}
    }
    for n in &v.notes {
        s.push_str(&format!("; note: {n}"));
    }
    if v.problems.is_empty() && !trusted {
        s.push_str("; certificates NOT checked against a trusted root (give --trust FILE)");
    }
    s
}
