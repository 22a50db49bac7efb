//! `tabel mail` and `tabel mail list`: the weekly e-mail digests.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::config::Settings;
use crate::mail::{self, RunOptions};

/// `tabel mail`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The week to send, e.g. 2026-W48. [default: this week]
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
    /// Write the messages as .eml files instead of sending them (nothing is recorded).
    #[arg(long)]
    pub dry_run: bool,
    /// Folder for --dry-run. [default: OUTPUT/mail-preview/WEEK]
    #[arg(long, value_name = "DIR", requires = "dry_run")]
    pub out: Option<PathBuf>,
}

/// Subcommands of `tabel mail`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every subscription: who, which child, which address, its state, the
    /// last digest sent and the latest failure.
    List,
}

/// Runs `tabel mail`: exit 3 when a message could not be delivered.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    super::with_database(settings, async |db| send(settings, db, args).await).await
}

async fn send(settings: &Settings, db: &crate::db::Database, args: Args) -> Result<ExitCode> {
    if let Some(Command::List) = args.command {
        let rows = mail::list(db).await?;
        println!("login\tstudent\tclass\taddress\tstate\tsince\tlast digest\tlatest failure");
        for r in rows {
            let (state, since) = match (&r.unsubscribed_at, &r.confirmed_at) {
                (Some(t), _) => ("ended", t.clone()),
                (None, Some(t)) => ("active", t.clone()),
                (None, None) => ("awaiting confirmation", r.created_at.clone()),
            };
            println!(
                "{}\t{} {}\t{}\t{}\t{state}\t{}\t{}\t{}",
                r.login,
                r.family_name,
                r.given_name,
                r.class.unwrap_or_default(),
                r.address,
                since.get(..16).unwrap_or(&since).replace('T', " "),
                r.last_sent.unwrap_or_else(|| "—".into()),
                r.failure.unwrap_or_else(|| "—".into()),
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let week = match args.week {
        Some(w) => {
            mail::digest::monday_of(&w)?;
            w
        }
        None => super::today().iso_week(),
    };
    let dry_run = args.dry_run.then(|| {
        args.out
            .clone()
            .unwrap_or_else(|| mail::preview_dir(&settings.output, &week))
    });
    let opts = RunOptions {
        week,
        dry_run: dry_run.clone(),
        language: settings.config.language,
        templates: settings.config.templates.clone(),
    };
    let summary = mail::run(db, &settings.config.mail, &opts)
        .await
        .context("the mail run failed")?;
    print!("{summary}");
    if let Some(dir) = dry_run {
        println!(
            "dry run: the messages are in {} (nothing was sent)",
            dir.display()
        );
    }
    // Failures are recorded and retried or shown; cron hears of them by the exit code.
    Ok(
        if summary.temporary.is_empty() && summary.permanent.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        },
    )
}
