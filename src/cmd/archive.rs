//! `tabel archive` and its subcommands: a finished school year frozen into
//! a signed BagIt package (its statements signed inside with
//! `--sign-pdf`), the key pair, the external signer's two steps, and the
//! renewal of a bag's timestamps (docs/signing.md); and, after each nightly
//! build, the years that have ended.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::archive::{self, Options, Password, PdfSigner, Signer, Tsa};
use crate::config::Settings;
use crate::db::Database;
use crate::gradebook::Date;

/// The environment variable a password-protected key's password may come from.
pub const PASSWORD_ENV: &str = "TABEL_ARCHIVE_KEY_PASSWORD";
/// The environment variable the password of the school's PDF signing key
/// (PKCS #8 or PKCS #12) may come from.
pub const PDF_PASSWORD_ENV: &str = "TABEL_PDF_KEY_PASSWORD";

/// `tabel archive`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The school year to archive, e.g. 2025/2026.
    #[arg(long, value_name = "YYYY/YYYY")]
    pub year: Option<String>,
    /// The signing key. [default: `[archive] key` of tabel.toml]
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Archive only this school (external id or id).
    #[arg(long, value_name = "ID")]
    pub school: Option<String>,
    /// Today: the year must have ended before it. [default: today]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
    /// Archive a year that has not ended or lacks year marks.
    #[arg(long)]
    pub force: bool,
    /// Read the key's password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub pdf: PdfArgs,
    /// The time-stamping authority (RFC 3161, http://…). [default: `[archive] tsa_url`]
    #[arg(long, value_name = "URL")]
    pub tsa_url: Option<String>,
}

/// How the statements are signed inside.
#[derive(Debug, Clone, clap::Args)]
pub struct PdfArgs {
    /// Sign every statement PDF inside (PAdES) with the school's
    /// certificate. [default: `[archive] sign_pdf`]
    #[arg(long)]
    pub sign_pdf: bool,
    /// The school's certificate, PEM, its chain after it. [default: `[archive] pdf_cert`]
    #[arg(long, value_name = "FILE", requires = "pdf_key")]
    pub pdf_cert: Option<PathBuf>,
    /// The certificate's private key, PKCS #8 PEM. [default: `[archive] pdf_key`]
    #[arg(long, value_name = "FILE", requires = "pdf_cert")]
    pub pdf_key: Option<PathBuf>,
    /// Or certificate and key in one PKCS #12 file. [default: `[archive] pdf_p12`]
    #[arg(long, value_name = "FILE", conflicts_with_all = ["pdf_cert", "pdf_key"])]
    pub pdf_p12: Option<PathBuf>,
    /// Read the PDF key's password from standard input (the line after the
    /// archive key's password, when both are read). [default: TABEL_PDF_KEY_PASSWORD]
    #[arg(long)]
    pub pdf_password_stdin: bool,
}

/// Subcommands of `tabel archive`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a signing key pair (minisign format): DIR/tabel.key and DIR/tabel.pub.
    Keygen(KeygenArgs),
    /// Prepare a bag's statements for an external signer (e.g. a ГОСТ
    /// signature with КриптоПро): what each signature must cover.
    SignPrepare(SignPrepareArgs),
    /// Put the external signer's signatures into the bag's statements,
    /// checking each covers its own statement; reseal the bag.
    SignComplete(SignCompleteArgs),
    /// Add a fresh archive timestamp over the whole bag (its chain of
    /// timestamps), before the last one ages.
    Renew(RenewArgs),
}

/// `tabel archive sign-prepare`.
#[derive(Debug, clap::Args)]
pub struct SignPrepareArgs {
    /// The bag.
    pub dir: PathBuf,
    /// The work folder to write. [default: DIR.sign beside the bag]
    #[arg(long, value_name = "WORK")]
    pub out: Option<PathBuf>,
    /// Bytes reserved in each PDF for its signature (with its timestamp).
    #[arg(long, value_name = "BYTES", default_value_t = 16384)]
    pub reserve: usize,
}

/// `tabel archive sign-complete`.
#[derive(Debug, clap::Args)]
pub struct SignCompleteArgs {
    /// The bag.
    pub dir: PathBuf,
    /// The work folder with the signatures. [default: DIR.sign beside the bag]
    #[arg(long, value_name = "WORK")]
    pub from: Option<PathBuf>,
    /// The bag's signing key (minisign), to sign it again. [default: `[archive] key`]
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Read the key's password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// The TSA for the signatures' timestamps. [default: `[archive] tsa_url`]
    #[arg(long, value_name = "URL")]
    pub tsa_url: Option<String>,
}

/// `tabel archive renew`.
#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// The bag.
    pub dir: PathBuf,
    /// The TSA. [default: `[archive] tsa_url`]
    #[arg(long, value_name = "URL")]
    pub tsa_url: Option<String>,
}

/// `tabel archive keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Folder for tabel.key and tabel.pub.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Read the password from the first line of standard input.
    #[arg(long, conflicts_with = "unencrypted")]
    pub password_stdin: bool,
    /// No password: for an unattended server that archives by itself.
    #[arg(long)]
    pub unencrypted: bool,
}

fn stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let line = line.trim_end_matches(['\n', '\r']).to_owned();
    if line.is_empty() {
        bail!("standard input gave an empty password");
    }
    Ok(line)
}

/// The password of the key at `path`, if it has one.
pub fn key_password(path: &Path, from_stdin: bool) -> Result<Password> {
    if !archive::sign::needs_password(path)? {
        return Ok(Password::None);
    }
    if from_stdin {
        return Ok(Password::Given(stdin_line()?));
    }
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(Password::Given(p));
    }
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password(format!("Password of {}: ", path.display()))
            .context("cannot read the password")?;
        return Ok(Password::Given(p));
    }
    bail!(
        "the key {} is password-protected: give --password-stdin or set {PASSWORD_ENV}",
        path.display()
    )
}

/// The TSA of the command line, else of the settings.
fn tsa(settings: &Settings, url: Option<String>) -> Result<Option<Tsa>> {
    let Some(url) = url.or_else(|| settings.config.archive.tsa_url.clone()) else {
        return Ok(None);
    };
    crate::config::check_tsa_url(&url).context("--tsa-url")?;
    Ok(Some(Tsa {
        url,
        timeout: std::time::Duration::from_secs(settings.config.archive.tsa_timeout_seconds),
    }))
}

/// The school's PDF signer, if the statements are to be signed inside.
fn pdf_signer(settings: &Settings, args: &PdfArgs, tsa: Option<Tsa>) -> Result<Option<PdfSigner>> {
    let conf = &settings.config.archive;
    let given = args.pdf_p12.is_some() || args.pdf_cert.is_some();
    if !args.sign_pdf && !conf.sign_pdf && !given {
        return Ok(None);
    }
    let (p12, cert, key) = if given {
        (
            args.pdf_p12.clone(),
            args.pdf_cert.clone(),
            args.pdf_key.clone(),
        )
    } else {
        (
            conf.pdf_p12.clone(),
            conf.pdf_cert.clone(),
            conf.pdf_key.clone(),
        )
    };
    let cert_key = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        _ => None,
    };
    if p12.is_none() && cert_key.is_none() {
        bail!(
            "--sign-pdf needs the school's certificate and key: --pdf-p12 FILE, or --pdf-cert FILE and --pdf-key FILE (or pdf_p12, pdf_cert and pdf_key in the [archive] table of tabel.toml)"
        );
    }
    let protected = match (&p12, &cert_key) {
        (Some(_), _) => true,
        (None, Some((_, k))) => std::fs::read(k)
            .map(|b| String::from_utf8_lossy(&b).contains("ENCRYPTED PRIVATE KEY"))
            .unwrap_or(false),
        _ => false,
    };
    let password = if args.pdf_password_stdin {
        Some(stdin_line()?)
    } else if let Ok(p) = std::env::var(PDF_PASSWORD_ENV) {
        Some(p)
    } else if protected && std::io::stdin().is_terminal() {
        let file = p12.as_ref().or(cert_key.as_ref().map(|(_, k)| k));
        Some(rpassword::prompt_password(format!(
            "Password of {}: ",
            file.map(|f| f.display().to_string()).unwrap_or_default()
        ))?)
    } else if protected && cert_key.is_some() {
        bail!(
            "the PDF signing key is password-protected: give --pdf-password-stdin or set {PDF_PASSWORD_ENV}"
        );
    } else {
        None
    };
    let credentials = archive::signing::credentials(
        p12.as_deref(),
        cert_key.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
        password.as_deref(),
    )
    .map_err(|e| {
        if p12.is_some() && password.is_none() {
            e.context(format!(
                "give the PKCS #12 file's password with --pdf-password-stdin or {PDF_PASSWORD_ENV}"
            ))
        } else {
            e
        }
    })?;
    let signer = PdfSigner { credentials, tsa };
    signer.check_usable()?;
    Ok(Some(signer))
}

/// The bag's minisign key for a command that changes a bag.
fn minisign_key(settings: &Settings, key: Option<PathBuf>, password_stdin: bool) -> Result<Signer> {
    let key = key
        .or_else(|| settings.config.archive.key.clone())
        .context(
            "no signing key: give --key FILE or set `key` in the [archive] table of tabel.toml",
        )?;
    Signer::load(&key, &key_password(&key, password_stdin)?)
}

/// Runs `tabel archive`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    match args.command {
        Some(Command::SignPrepare(a)) => {
            let work = match a.out {
                Some(w) => w,
                None => archive::external::default_work(&a.dir)?,
            };
            let n = archive::external::prepare(&a.dir, &work, a.reserve)
                .context("the statements were not prepared")?;
            println!(
                "prepared {n} statements of {} in {}: sign each .tbs file there into a detached CMS (.p7s, DER), as its README.txt says, then run `tabel archive sign-complete {}`",
                a.dir.display(),
                work.display(),
                a.dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::SignComplete(a)) => {
            let work = match a.from {
                Some(w) => w,
                None => archive::external::default_work(&a.dir)?,
            };
            let signer = minisign_key(settings, a.key, a.password_stdin)?;
            let tsa = tsa(settings, a.tsa_url)?;
            let (n, notes) = archive::external::complete(&a.dir, &work, &signer, tsa.as_ref())
                .context("the signatures were not put in")?;
            for note in &notes {
                println!("note: {note}");
            }
            println!(
                "signed {n} statements of {} inside ({}); the bag is sealed again with {}",
                a.dir.display(),
                if tsa.is_some() {
                    "PAdES-B-T, timestamped"
                } else {
                    "PAdES-B-B, no TSA set"
                },
                signer.path.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Renew(a)) => {
            let Some(tsa) = tsa(settings, a.tsa_url)? else {
                bail!(
                    "no TSA: give --tsa-url URL or set `tsa_url` in the [archive] table of tabel.toml"
                );
            };
            let (n, time) = archive::renew(&a.dir, &tsa).with_context(|| {
                format!("the timestamps of {} were not renewed", a.dir.display())
            })?;
            println!(
                "renewed {}: link {n} of its timestamp chain, {} by {}",
                a.dir.display(),
                time.format("%Y-%m-%d %H:%M:%S UTC"),
                crate::pki::redact(&tsa.url)
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Keygen(k)) => return keygen(k),
        None => {}
    }
    if crate::build::store::is_bucket(&settings.output) {
        bail!(
            "a year's bag is a folder of signed files, written under a folder --output; {} is a store of objects: give --output DIR",
            settings.output.display()
        );
    }
    let Some(year) = args.year else {
        bail!("give the school year to archive: --year 2025/2026");
    };
    let key = args
        .key
        .or_else(|| settings.config.archive.key.clone())
        .context("no signing key: give --key FILE or set `key` in the [archive] table of tabel.toml (create one with `tabel archive keygen --out DIR`)")?;
    let signer = Signer::load(&key, &key_password(&key, args.password_stdin)?)?;
    let tsa = tsa(settings, args.tsa_url)?;
    let sign_pdf = pdf_signer(settings, &args.pdf, tsa.clone())?.map(std::sync::Arc::new);
    let opts = Options {
        year,
        school: args.school,
        today: args.date.unwrap_or_else(super::today),
        force: args.force,
        language: settings.config.language,
        templates: settings.config.templates.clone(),
        sign_pdf,
        tsa,
    };
    super::with_database(settings, async |db| {
        let archived = archive::run(db, &settings.output, &opts, &signer)
            .await
            .context("the archive was not written")?;
        for a in archived {
            println!("{a}");
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// `tabel archive keygen`.
fn keygen(k: KeygenArgs) -> Result<ExitCode> {
    let password = if k.unencrypted {
        Password::None
    } else if k.password_stdin {
        Password::Given(stdin_line()?)
    } else if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("Password for the new key: ")?;
        let b = rpassword::prompt_password("The same password again: ")?;
        if a != b {
            bail!("the two passwords differ");
        }
        Password::Given(a)
    } else {
        bail!("give --password-stdin, or --unencrypted for a key without a password");
    };
    let public = archive::sign::keygen(&k.out, &password)?;
    println!(
        "wrote {} (secret, mode 0600) and {}",
        k.out.join(archive::sign::SECRET_FILE).display(),
        k.out.join(archive::sign::PUBLIC_FILE).display()
    );
    println!("Publish the public key, so anyone can check the school's archives:\n");
    print!("{public}");
    Ok(ExitCode::SUCCESS)
}

/// After a nightly build: archives every school year that has ended and has
/// no bag yet (with a key configured), or says why it is waiting. Returns
/// the lines for the build's summary, and true if the configured key could
/// not be used (a year that is not ready is only reported, night after
/// night, until it is).
pub(super) async fn nightly(
    db: &Database,
    settings: &Settings,
    today: Date,
) -> Result<(Vec<String>, bool)> {
    let pending = archive::pending(db, &settings.output, today).await?;
    let mut lines = Vec::new();
    if pending.is_empty() {
        return Ok((lines, false));
    }
    let Some(key) = settings.config.archive.key.clone() else {
        for (school, year, _) in &pending {
            let line = format!(
                "archive: the school year {} of {} ended on {} and is not archived: no signing key is configured (set `key` in the [archive] table of tabel.toml; `tabel archive keygen` makes one)",
                year.title, school.external_id, year.ends_on
            );
            tracing::warn!("{line}");
            lines.push(line);
        }
        return Ok((lines, false));
    };
    let signer = match key_password(&key, false).and_then(|p| Signer::load(&key, &p)) {
        Ok(s) => s,
        Err(e) => {
            lines.push(format!("archive: cannot use the signing key: {e:#}"));
            return Ok((lines, true));
        }
    };
    let tsa = tsa(settings, None)?;
    let no_flags = PdfArgs {
        sign_pdf: false,
        pdf_cert: None,
        pdf_key: None,
        pdf_p12: None,
        pdf_password_stdin: false,
    };
    let sign_pdf = match pdf_signer(settings, &no_flags, tsa.clone()) {
        Ok(s) => s.map(std::sync::Arc::new),
        Err(e) => {
            lines.push(format!(
                "archive: cannot use the certificate to sign the statements: {e:#}"
            ));
            return Ok((lines, true));
        }
    };
    for (school, year, _) in pending {
        let opts = Options {
            year: archive::year_folder(&year),
            school: Some(school.external_id.clone()),
            today,
            force: false,
            language: settings.config.language,
            templates: settings.config.templates.clone(),
            sign_pdf: sign_pdf.clone(),
            tsa: tsa.clone(),
        };
        match archive::run(db, &settings.output, &opts, &signer).await {
            Ok(done) => lines.extend(done.iter().map(|a| format!("archive: {a}"))),
            Err(e) => {
                let line = format!(
                    "archive: the school year {} of {} is not archived yet: {e:#}",
                    year.title, school.external_id
                );
                tracing::warn!("{line}");
                lines.push(line);
            }
        }
    }
    Ok((lines, false))
}
