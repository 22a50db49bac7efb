//! `tabel import csv DIR` and `tabel import oneroster PATH`: one
//! transaction each, all or nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::config::Settings;
use crate::import::{CsvOptions, Encoding, ImportError, ImportOptions};

/// `tabel import FORMAT PATH`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to import.
    #[command(subcommand)]
    pub format: Format,
}

/// Formats `tabel import` reads.
#[derive(Debug, Subcommand)]
pub enum Format {
    /// A folder (or .zip) of tabel CSV files, as `tabel export csv` writes them.
    Csv(CsvArgs),
    /// A 1EdTech OneRoster 1.1 or 1.2 CSV set (bulk or delta), folder or .zip.
    Oneroster(OneRosterArgs),
}

/// Options of `tabel import csv`.
#[derive(Debug, clap::Args)]
pub struct CsvArgs {
    /// The folder (or .zip archive) holding schools.csv, students.csv, ….
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options of `tabel import oneroster`.
#[derive(Debug, clap::Args)]
pub struct OneRosterArgs {
    /// The folder or .zip archive holding manifest.csv and the data files.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// A lineItem category whose results are period marks, as TITLE=KIND
    /// (KIND: session, year, exam, final; `session` takes the period from the
    /// line item's academic session). Repeatable; replaces the defaults
    /// «Четверть», «Полугодие», «Триместр», term, «Год», year, «Экзамен»,
    /// exam, «Итоговая», final.
    #[arg(long = "period-category", value_name = "TITLE=KIND")]
    pub period_categories: Vec<String>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read CSV files.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// Text encoding: auto (UTF-8, or windows-1251 when a file is not UTF-8
    /// and reads as Russian), utf-8, or windows-1251 (cp1251).
    #[arg(long, default_value = "auto", value_parser = parse_encoding, value_name = "ENCODING")]
    pub encoding: Encoding,
    /// Field delimiter, ',' or ';'. [default: guessed from the header]
    #[arg(long, value_parser = parse_delimiter, value_name = "CHAR")]
    pub delimiter: Option<u8>,
    /// Check everything and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl ReadArgs {
    /// The importer options these arguments select.
    fn options(&self) -> ImportOptions {
        ImportOptions {
            csv: CsvOptions {
                encoding: self.encoding,
                delimiter: self.delimiter,
            },
            dry_run: self.dry_run,
            today: Some(super::today()),
        }
    }
}

fn parse_encoding(text: &str) -> Result<Encoding, String> {
    Encoding::parse(text)
        .ok_or_else(|| format!("{text:?} is not an encoding: expected auto, utf-8 or windows-1251"))
}

fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "," => Ok(b','),
        ";" => Ok(b';'),
        "\\t" | "tab" => Ok(b'\t'),
        _ => Err(format!("{text:?} is not a delimiter: expected ',' or ';'")),
    }
}

/// Runs `tabel import`. Problems in the files are listed with their file,
/// line and column; nothing is changed then.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let result = super::with_database(settings, async |db| {
        Ok(match args.format {
            Format::Csv(a) => crate::import::import_csv(db, &a.dir, &a.read.options()).await,
            Format::Oneroster(a) => {
                crate::import::import_oneroster(
                    db,
                    &a.path,
                    &a.read.options(),
                    &a.period_categories,
                )
                .await
            }
        })
    })
    .await?;
    match result {
        Ok(summary) => {
            print!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(err @ ImportError::Invalid { .. }) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
        Err(ImportError::Other(err)) => Err(err.context("the import failed; nothing was changed")),
    }
}
