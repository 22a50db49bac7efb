//! `tabel verify DIR`: any BagIt bag, and with the school's public key its
//! signature; exit 0 only when everything holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::config::Settings;

/// `tabel verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bag's folder.
    pub dir: PathBuf,
    /// The school's public key (minisign format); without it only the bag
    /// is checked, not its signature.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
}

/// Runs `tabel verify`: exit 0 only when the bag (and its signature, with a key) holds.
pub fn run(_settings: &Settings, args: Args) -> Result<ExitCode> {
    let verdict = crate::archive::verify(&args.dir, args.pubkey.as_deref())?;
    let r = &verdict.report;
    // Names in a bag are anyone's choice: printed escaped, a name cannot
    // start a line of its own ("valid: …") or move the terminal's cursor.
    let p = crate::text::printable;
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
