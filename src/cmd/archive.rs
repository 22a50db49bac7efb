//! `tabel archive` and `tabel archive keygen`: a finished school year
//! frozen into a signed BagIt package; and, after each nightly build, the
//! years that have ended.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::archive::{self, Options, Password, Signer};
use crate::config::Settings;
use crate::db::Database;
use crate::gradebook::Date;

/// The environment variable a password-protected key's password may come from.
pub const PASSWORD_ENV: &str = "TABEL_ARCHIVE_KEY_PASSWORD";

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
}

/// Subcommands of `tabel archive`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a signing key pair (minisign format): DIR/tabel.key and DIR/tabel.pub.
    Keygen(KeygenArgs),
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

/// Runs `tabel archive`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    if let Some(Command::Keygen(k)) = args.command {
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
        return Ok(ExitCode::SUCCESS);
    }
    let Some(year) = args.year else {
        bail!("give the school year to archive: --year 2025/2026");
    };
    let key = args
        .key
        .or_else(|| settings.config.archive.key.clone())
        .context("no signing key: give --key FILE or set `key` in the [archive] table of tabel.toml (create one with `tabel archive keygen --out DIR`)")?;
    let signer = Signer::load(&key, &key_password(&key, args.password_stdin)?)?;
    let opts = Options {
        year,
        school: args.school,
        today: args.date.unwrap_or_else(super::today),
        force: args.force,
        language: settings.config.language,
        templates: settings.config.templates.clone(),
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
    for (school, year, _) in pending {
        let opts = Options {
            year: archive::year_folder(&year),
            school: Some(school.external_id.clone()),
            today,
            force: false,
            language: settings.config.language,
            templates: settings.config.templates.clone(),
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
