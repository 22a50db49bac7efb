//! `tabel archive` and `tabel verify`: a finished school year frozen into a
//! signed BagIt package (RFC 8493), and a verifier for any bag.
//!
//! A bag holds every summary statement of the year (each class × period and
//! the year) as PDF/A beside the JSON it was typeset from, and the year's
//! roster. SHA-256 and SHA-512 manifests cover the payload, tag manifests
//! cover the tag files, and a minisign (Ed25519) signature covers
//! `tagmanifest-sha512.txt`, with the bag id, school and year in its trusted
//! comment. Any BagIt tool and the school's public key suffice to check it.
//!
//! Beyond that (docs/signing.md): each statement may carry the school's
//! PAdES signature inside it (`signing`, or an external ГОСТ signer through
//! `external`), with a TSA's timestamp; and the bag may carry a chain of
//! archive timestamps that is renewed before its algorithms or TSA
//! certificates age (`chain`). `verify` checks all of it.

mod bag;
pub mod bagit;
pub mod chain;
mod contents;
pub mod external;
mod files;
pub mod pdfcheck;
mod ready;
pub mod sign;
pub mod signing;
mod verify;

use bag::write_bag;
use contents::token;
pub use ready::{roster_problems, unfinished};
pub use verify::{Verdict, verify, verify_with};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::db::Database;
use crate::gradebook::model::{Date, SchoolYear};
use crate::gradebook::{self, YearChoice};
use crate::i18n::Language;
use crate::render::pdf::Typesetter;

pub use sign::{Password, Signer};
pub use signing::PdfSigner;

/// A time-stamping authority (RFC 3161), `[archive] tsa_url`.
#[derive(Debug, Clone)]
pub struct Tsa {
    pub url: String,
    pub timeout: std::time::Duration,
}

impl Tsa {
    /// A timestamp token over `digest` (made with `d`), checked.
    pub fn stamp(&self, d: crate::pki::Digest, digest: &[u8]) -> Result<Vec<u8>> {
        crate::pki::tsp::stamp(&self.url, self.timeout, d, digest)
    }
}

/// The signature file beside the tag manifest it signs.
pub const SIGNATURE: &str = "tagmanifest-sha512.txt.minisig";
/// The file the signature covers.
pub const SIGNED: &str = "tagmanifest-sha512.txt";

/// What `tabel archive` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The school year, `2025/2026` (or `2025-2026`).
    pub year: String,
    /// Only this school (external id or id).
    pub school: Option<String>,
    /// Today: the year must have ended before it.
    pub today: Date,
    /// Archive even an unfinished year.
    pub force: bool,
    pub language: Language,
    pub templates: Option<PathBuf>,
    /// Sign every statement PDF (PAdES) with the school's certificate.
    pub sign_pdf: Option<std::sync::Arc<PdfSigner>>,
    /// The TSA: a timestamp in each signature (B-T) and the first link of
    /// the bag's timestamp chain.
    pub tsa: Option<Tsa>,
}

/// One bag written.
#[derive(Debug, Clone)]
pub struct Archived {
    pub school: String,
    pub dir: PathBuf,
    pub bag_id: String,
    pub statements: usize,
    pub files: usize,
    pub bytes: u64,
    pub seconds: f64,
    /// How the statements are signed, if they are (`PAdES-B-T`), and the
    /// seconds the signing took (with the TSA's answers).
    pub pdf_signatures: Option<(&'static str, f64)>,
    /// Whether the bag has its first archive timestamp.
    pub timestamped: bool,
}

impl std::fmt::Display for Archived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "archived {} into {}: {} statements{}, {} payload files, {:.1} MB, signed{}, in {:.1} s (bag {})",
            self.school,
            self.dir.display(),
            self.statements,
            match self.pdf_signatures {
                Some((level, s)) => format!(" each signed inside ({level}, in {s:.2} s)"),
                None => String::new(),
            },
            self.files,
            self.bytes as f64 / 1e6,
            if self.timestamped {
                " and timestamped"
            } else {
                ""
            },
            self.seconds,
            self.bag_id
        )
    }
}

/// `2025/2026` or `2025-2026` → (2025, 2026).
pub fn parse_year(s: &str) -> Result<(i32, i32)> {
    let parsed = s
        .split_once(['/', '-'])
        .and_then(|(a, b)| Some((a.trim().parse::<i32>().ok()?, b.trim().parse::<i32>().ok()?)));
    match parsed {
        Some((a, b)) if b == a + 1 && (1900..3000).contains(&a) => Ok((a, b)),
        _ => bail!("{s:?} is not a school year; write it as 2025/2026"),
    }
}

/// The folder name of a year: `2025-2026`.
pub fn year_folder(y: &SchoolYear) -> String {
    y.folder()
}

/// Where the bag of `year` of `school` goes: `archive/2025-2026/`, or
/// `archive/2025-2026/<school>/` when the database holds several schools.
fn bag_dir(output: &Path, year: &SchoolYear, school: Option<&str>) -> PathBuf {
    let base = output.join("archive").join(year_folder(year));
    match school {
        Some(s) => base.join(s),
        None => base,
    }
}

/// Archives the year of every selected school; refuses what is not ready.
pub async fn run(
    db: &Database,
    output: &Path,
    opts: &Options,
    signer: &Signer,
) -> Result<Vec<Archived>> {
    let (first, second) = parse_year(&opts.year)?;
    let schools = gradebook::list_schools(db).await?;
    if schools.is_empty() {
        bail!("the database holds no school");
    }
    let several = schools.len() > 1;
    let selected: Vec<_> = match &opts.school {
        Some(want) => schools
            .iter()
            .filter(|s| &s.external_id == want || s.id.to_string() == *want)
            .cloned()
            .collect(),
        None => schools.clone(),
    };
    if selected.is_empty() {
        bail!(
            "there is no school {:?}",
            opts.school.as_deref().unwrap_or("")
        );
    }
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let mut done = Vec::new();
    for school in &selected {
        let years = gradebook::school_years(db, school.id).await?;
        let Some(year) = years.into_iter().find(|y| {
            y.starts_on.0.format("%Y").to_string() == first.to_string()
                && y.ends_on.0.format("%Y").to_string() == second.to_string()
        }) else {
            bail!(
                "school {} has no school year {first}/{second}",
                school.external_id
            );
        };
        let snapshot = gradebook::load(db, school.id, YearChoice::Id(year.id))
            .await
            .with_context(|| format!("cannot load school {}", school.external_id))?;
        let why = unfinished(&snapshot, opts.today);
        if !why.is_empty() && !opts.force {
            bail!(
                "the school year {} of {} is not finished, so it is not archived (--force archives it anyway):\n  - {}",
                year.title,
                school.external_id,
                why.join("\n  - ")
            );
        }
        let wrong = roster_problems(&snapshot);
        if !wrong.is_empty() {
            bail!(
                "the rosters of the school year {} of {} do not agree with its lessons and marks, so it is not archived (not even with --force: a bag must list every student of every statement):\n  - {}",
                year.title,
                school.external_id,
                wrong.join("\n  - ")
            );
        }
        let slug = several.then(|| token(&snapshot.school.external_id, snapshot.school.id));
        let dir = bag_dir(output, &year, slug.as_deref());
        done.push(write_bag(&snapshot, &dir, opts, &typesetter, signer)?);
    }
    Ok(done)
}

/// Where the bag of `year` of `school` is (or would be), for a database of
/// one school or (`several`) of several.
pub fn bag_of(
    output: &Path,
    school: &gradebook::SchoolRef,
    year: &SchoolYear,
    several: bool,
) -> PathBuf {
    let slug = several.then(|| token(&school.external_id, school.id));
    bag_dir(output, year, slug.as_deref())
}

/// Years that ended before `today` and have no bag yet, per school: for the
/// nightly build to archive (with a key) or to warn about (without one).
pub async fn pending(
    db: &Database,
    output: &Path,
    today: Date,
) -> Result<Vec<(gradebook::SchoolRef, SchoolYear, PathBuf)>> {
    let schools = gradebook::list_schools(db).await?;
    let several = schools.len() > 1;
    let mut out = Vec::new();
    for school in schools {
        for year in gradebook::school_years(db, school.id).await? {
            if year.ends_on >= today {
                continue;
            }
            let dir = bag_of(output, &school, &year, several);
            if !dir.exists() {
                out.push((school.clone(), year, dir));
            }
        }
    }
    Ok(out)
}

/// `tabel archive renew`: checks the bag at `dir` and its chain, and adds a
/// fresh archive timestamp over all of it; returns the new link's number
/// and time. The bag is changed at once or not at all.
pub fn renew(dir: &Path, tsa: &Tsa) -> Result<(usize, chrono::DateTime<chrono::Utc>)> {
    let report = bagit::validate(dir)?;
    if !report.is_valid() {
        bail!(
            "{} is not a valid bag, so its timestamps are not renewed (they would vouch for damage):\n  - {}",
            dir.display(),
            report.errors.join("\n  - ")
        );
    }
    let id = report
        .info("External-Identifier")
        .context("bag-info.txt has no External-Identifier")?
        .to_owned();
    if let Some(c) = chain::check(dir, Some(&id), &[])?
        && !c.errors.is_empty()
    {
        // A lapsed chain may be renewed: it proves the bag from now on.
        let broken: Vec<&String> = c.errors.iter().filter(|e| !e.contains("lapsed")).collect();
        if !broken.is_empty() {
            bail!(
                "the timestamp chain of {} does not hold, so it is not renewed:\n  - {}",
                dir.display(),
                broken
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            );
        }
    }
    files::change_bag(dir, |tmp| chain::add_link(tmp, &id, tsa))
}
