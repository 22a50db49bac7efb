//! `tabel import csv DIR`, `tabel import oneroster PATH` and `tabel import
//! dnevnik --school ID`: one transaction each, all or nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::config::Settings;
use crate::gradebook::Date;
use crate::import::dnevnik::client::TOKEN_VARIABLE;
use crate::import::{CsvOptions, Encoding, ImportError, ImportOptions, SyncOptions};

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
    /// A school straight from Дневник.ру's API (token in TABEL_DNEVNIK_TOKEN);
    /// each night only the days since the last sync.
    Dnevnik(DnevnikArgs),
}

/// Options of `tabel import dnevnik`.
#[derive(Debug, clap::Args)]
pub struct DnevnikArgs {
    /// The school's id in Дневник.ру.
    #[arg(long, value_name = "ID")]
    pub school: String,
    /// First day to fetch. [default: the last sync's last day less
    /// `look_back_days`, or the school year's first day]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub from: Option<Date>,
    /// Last day to fetch. [default: today]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub to: Option<Date>,
    /// Fetch the whole school year so far and every student's relatives,
    /// whatever the last sync covered.
    #[arg(long)]
    pub full: bool,
    /// Fetch and check everything, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
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
            Format::Dnevnik(a) => {
                let token = std::env::var(TOKEN_VARIABLE).unwrap_or_default();
                let options = SyncOptions {
                    school: &a.school,
                    from: a.from,
                    to: a.to.unwrap_or_else(super::today),
                    full: a.full,
                    dry_run: a.dry_run,
                    token: &token,
                    settings: &settings.config.dnevnik,
                    progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
                };
                crate::import::import_dnevnik(db, &options)
                    .await
                    .map(|synced| synced.to_string())
            }
            Format::Csv(a) => crate::import::import_csv(db, &a.dir, &a.read.options())
                .await
                .map(|s| s.to_string()),
            Format::Oneroster(a) => crate::import::import_oneroster(
                db,
                &a.path,
                &a.read.options(),
                &a.period_categories,
            )
            .await
            .map(|s| s.to_string()),
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
