//! `tabel export csv DIR`: the whole gradebook as the tabel CSV set.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::config::Settings;

/// `tabel export FORMAT DIR`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to write.
    #[command(subcommand)]
    pub format: Format,
}

/// Formats `tabel export` writes.
#[derive(Debug, Subcommand)]
pub enum Format {
    /// The whole gradebook as the tabel CSV set (one file per table).
    Csv(CsvArgs),
}

/// Options of `tabel export csv`.
#[derive(Debug, clap::Args)]
pub struct CsvArgs {
    /// Folder to write into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Overwrite tabel CSV files already in the folder.
    #[arg(long)]
    pub force: bool,
}

/// Runs `tabel export`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let Format::Csv(a) = args.format;
    super::with_database(settings, async |db| {
        let summary = crate::import::export_csv(db, &a.dir, a.force)
            .await
            .context("the export failed")?;
        print!("{summary}");
        println!("written to {}", a.dir.display());
        Ok(ExitCode::SUCCESS)
    })
    .await
}
