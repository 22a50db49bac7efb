//! The command line: the global options, and one file per command. A
//! command reads its arguments and the settings, opens what it needs and
//! calls the domain; nothing below this module knows the command line.

mod accounts;
mod archive;
mod audit;
mod breach;
mod build;
mod demo;
mod export;
mod import;
mod init;
mod mail;
mod serve;
mod verify;
mod year;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::db::Database;
use crate::gradebook::Date;

/// tabel: a read-only window onto a school's electronic gradebook.
#[derive(Debug, Parser)]
#[command(name = "tabel", version, about, max_term_width = 100)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created if missing) or
    /// postgres://USER:PASSWORD@HOST:PORT/DB. [default: sqlite://tabel.db]
    #[arg(long, env = "TABEL_DATABASE_URL", global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Folder the releases are written to, `s3://bucket/prefix` (the
    /// bucket set up in `[store]`), or `file:///path` (the bucket's layout
    /// on a local disk). [default: output]
    #[arg(long, env = "TABEL_OUTPUT", global = true, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Configuration file. [default: tabel.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema (safe to repeat).
    Init,
    /// Fill the database with a realistic, deterministic demo school.
    Demo(demo::Args),
    /// Import tabel CSV files, OneRoster, or a school from Дневник.ру (one
    /// transaction: all or nothing).
    Import(import::Args),
    /// Export the gradebook as tabel CSV files.
    Export(export::Args),
    /// Render every diary and statement into a new release.
    Build(build::Args),
    /// Serve the live release to logged-in users.
    Serve(serve::Args),
    /// Manage accounts of guardians, students, teachers and the office.
    #[command(subcommand)]
    Accounts(accounts::Command),
    /// Record a credential breach of an account.
    Breach(breach::Args),
    /// Query the access log.
    Audit(audit::Args),
    /// Freeze a finished school year into a signed archive package.
    Archive(archive::Args),
    /// Verify a BagIt package (ours or any other), with a public key its signature, and the
    /// signatures inside its PDFs and its chain of archive timestamps.
    Verify(verify::Args),
    /// Send the weekly e-mail digests.
    Mail(mail::Args),
    /// Set up a new school year.
    #[command(subcommand)]
    Year(year::Command),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = Settings::resolve(cli.database, cli.output, cli.config.as_deref())?;
    match cli.command {
        Command::Init => init::run(&settings).await,
        Command::Demo(args) => demo::run(&settings, args).await,
        Command::Import(args) => import::run(&settings, args).await,
        Command::Export(args) => export::run(&settings, args).await,
        Command::Build(args) => build::run(&settings, args).await,
        Command::Serve(args) => serve::run(&settings, args).await,
        Command::Accounts(args) => accounts::run(&settings, args).await,
        Command::Breach(args) => breach::run(&settings, args).await,
        Command::Audit(args) => audit::run(&settings, args).await,
        Command::Archive(args) => archive::run(&settings, args).await,
        Command::Verify(args) => verify::run(&settings, args),
        Command::Mail(args) => mail::run(&settings, args).await,
        Command::Year(args) => year::run(&settings, args).await,
    }
}

/// Sets up logging to standard error; `TABEL_LOG` (e.g. `debug`) overrides the level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TABEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// A date argument, `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse_iso(text).ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD"))
}

/// Today on this machine's clock, for commands given no `--date`.
fn today() -> Date {
    Date(chrono::Local::now().date_naive())
}

/// Opens the database of the settings, its schema brought up to date.
async fn open(settings: &Settings) -> Result<Database> {
    Database::open(&settings.database).await
}

/// Runs `work` with the settings' database open, and closes it after.
async fn with_database<T, F>(settings: &Settings, work: F) -> Result<T>
where
    F: AsyncFnOnce(&Database) -> Result<T>,
{
    let db = open(settings).await?;
    let result = work(&db).await;
    db.close().await;
    result
}
