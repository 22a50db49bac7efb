//! The command line: global options, subcommands and their dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::db::{self, Database};
use crate::demo;
use crate::gradebook::Date;

/// tabel: a read-only window onto a school's electronic gradebook.
#[derive(Debug, Parser)]
#[command(name = "tabel", version, about, max_term_width = 100)]
pub struct Cli {
    /// Database URL: sqlite://PATH (created if missing) or
    /// postgres://USER:PASSWORD@HOST:PORT/DB. [default: sqlite://tabel.db]
    #[arg(long, env = "TABEL_DATABASE_URL", global = true, value_name = "URL")]
    pub database: Option<String>,
    /// Folder the releases are written to. [default: output]
    #[arg(long, env = "TABEL_OUTPUT", global = true, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Configuration file. [default: tabel.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database schema (safe to repeat).
    Init,
    /// Fill the database with a realistic, deterministic demo school.
    Demo(DemoArgs),
    /// Import OneRoster or tabel CSV files.
    Import(Pending),
    /// Export the gradebook as tabel CSV files.
    Export(Pending),
    /// Render every diary and statement into a new release.
    Build(Pending),
    /// Serve the live release to logged-in users.
    Serve(Pending),
    /// Manage accounts of guardians, students, teachers and the office.
    Accounts(Pending),
    /// Record a credential breach of an account.
    Breach(Pending),
    /// Query the access log.
    Audit(Pending),
    /// Freeze a finished school year into a signed archive package.
    Archive(Pending),
    /// Verify an archive package.
    Verify(Pending),
    /// Send the weekly e-mail digests.
    Mail(Pending),
}

/// Options of `tabel demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of students; above about 1,200 the students are spread over
    /// several schools of about 800 (a district or a city).
    #[arg(long, default_value_t = 800, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    pub students: u32,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The demo's "today" (YYYY-MM-DD): lessons and marks run from 1 September
    /// up to this day. [default: today, clamped to the school year]
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
    /// Do not serve the result after building it.
    #[arg(long)]
    pub no_serve: bool,
}

/// Arguments of a subcommand that this version does not provide yet.
#[derive(Debug, Args)]
pub struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse_iso(text).ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD"))
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

/// Options resolved from the command line, the environment and the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file's contents.
    pub config: Config,
    /// Database URL.
    pub database: String,
    /// Output folder.
    pub output: PathBuf,
}

impl Settings {
    /// Resolves the global options: command line or environment, then the file, then defaults.
    pub fn resolve(cli: &Cli) -> Result<Settings> {
        let config = Config::load(cli.config.as_deref())?;
        let database = cli
            .database
            .clone()
            .or_else(|| config.database.clone())
            .unwrap_or_else(|| config::DEFAULT_DATABASE.to_owned());
        let output = cli
            .output
            .clone()
            .or_else(|| config.output.clone())
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_OUTPUT));
        Ok(Settings {
            config,
            database,
            output,
        })
    }

    /// Connects to the database and brings its schema up to date.
    pub async fn open_database(&self) -> Result<Database> {
        let db = Database::connect(&self.database).await?;
        db.migrate().await?;
        Ok(db)
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = Settings::resolve(&cli)?;
    match cli.command {
        Command::Init => {
            let db = settings.open_database().await?;
            println!("schema is up to date in {}", db::redact(&settings.database));
            db.close().await;
        }
        Command::Demo(args) => {
            let db = settings.open_database().await?;
            let today = args
                .date
                .unwrap_or_else(|| Date(chrono::Local::now().date_naive()));
            let options = demo::Options {
                students: args.students,
                seed: args.seed,
                today,
            };
            let summary = demo::run(&db, &options)
                .await
                .context("cannot generate the demo data")?;
            println!("{summary}");
            println!("demo data is in {}", db::redact(&settings.database));
            if !args.no_serve {
                println!("(building the pages and serving them are not part of this version yet)");
            }
            db.close().await;
        }
        pending => {
            eprintln!(
                "error: `tabel {}` is not built yet in this version of tabel",
                pending.name()
            );
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl Command {
    /// The subcommand as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init => "init",
            Command::Demo(_) => "demo",
            Command::Import(_) => "import",
            Command::Export(_) => "export",
            Command::Build(_) => "build",
            Command::Serve(_) => "serve",
            Command::Accounts(_) => "accounts",
            Command::Breach(_) => "breach",
            Command::Audit(_) => "audit",
            Command::Archive(_) => "archive",
            Command::Verify(_) => "verify",
            Command::Mail(_) => "mail",
        }
    }
}
