//! The command line of `tabel mail` and `tabel mail list`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::RunOptions;
use crate::cli::Settings;
use crate::gradebook::Date;

/// `tabel mail`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MailArgs {
    #[command(subcommand)]
    pub command: Option<MailCommand>,
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
pub enum MailCommand {
    /// Every subscription: who, which child, which address, its state, the
    /// last digest sent and the latest failure.
    List,
}

/// Runs `tabel mail`.
pub async fn mail(settings: &Settings, args: MailArgs) -> Result<ExitCode> {
    let db = settings.open_database().await?;
    let result = run(settings, &db, args).await;
    db.close().await;
    result
}

async fn run(settings: &Settings, db: &crate::db::Database, args: MailArgs) -> Result<ExitCode> {
    if let Some(MailCommand::List) = args.command {
        let rows = super::list(db).await?;
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
            super::digest::monday_of(&w)?;
            w
        }
        None => Date(chrono::Local::now().date_naive()).iso_week(),
    };
    let dry_run = args.dry_run.then(|| {
        args.out
            .clone()
            .unwrap_or_else(|| super::preview_dir(&settings.output, &week))
    });
    let opts = RunOptions {
        week,
        dry_run: dry_run.clone(),
        language: settings.config.language,
        templates: settings.config.templates.clone(),
    };
    let summary = super::run(db, &settings.config.mail, &opts)
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
