//! The command line: global options, subcommands and their dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config};
use crate::db::{self, Database};
use crate::gradebook::Date;
use crate::{build, demo};

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
    /// Import OneRoster or tabel CSV files (one transaction: all or nothing).
    Import(ImportArgs),
    /// Export the gradebook as tabel CSV files.
    Export(ExportArgs),
    /// Render every diary and statement into a new release.
    Build(BuildArgs),
    /// Serve the live release to logged-in users.
    Serve(ServeArgs),
    /// Manage accounts of guardians, students, teachers and the office.
    #[command(subcommand)]
    Accounts(crate::accounts::cli::AccountsCommand),
    /// Record a credential breach of an account.
    Breach(crate::accounts::cli::BreachArgs),
    /// Query the access log.
    Audit(crate::accounts::cli::AuditArgs),
    /// Freeze a finished school year into a signed archive package.
    Archive(crate::archive::cli::ArchiveArgs),
    /// Verify a BagIt package (ours or any other) and, with a public key, its signature.
    Verify(crate::archive::cli::VerifyArgs),
    /// Send the weekly e-mail digests.
    Mail(crate::mail::cli::MailArgs),
}

/// Options of `tabel demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of students; above about 1,200 the students are spread over
    /// several schools of about 800 (a district or a city).
    #[arg(long, default_value_t = 800, value_parser = clap::value_parser!(u32).range(1..=2_000_000))]
    pub students: u32,
    /// Spread the students over this many schools (a district) instead.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub schools: Option<u32>,
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

/// Options of `tabel build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Build only this school (external id or id); the others' files are
    /// carried over from the live release.
    #[arg(long, value_name = "ID")]
    pub school: Option<String>,
    /// The day the pages show as today. [default: today]
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
    /// Render every page, ignoring the previous release.
    #[arg(long)]
    pub full: bool,
    /// Worker threads. [default: one per core]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Weeks that get a typeset printout (PDF) per student: `current` (this
    /// week and the previous one), `all` (every week of the year so far) or
    /// `none`.
    #[arg(long, value_enum, default_value_t = build::PrintWeeks::Current, value_name = "WEEKS")]
    pub print_weeks: build::PrintWeeks,
}

/// `tabel import FORMAT PATH`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What to import.
    #[command(subcommand)]
    pub format: ImportFormat,
}

/// Formats `tabel import` reads.
#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// A folder (or .zip) of tabel CSV files, as `tabel export csv` writes them.
    Csv(ImportCsvArgs),
    /// A 1EdTech OneRoster 1.1 or 1.2 CSV set (bulk or delta), folder or .zip.
    Oneroster(ImportOneRosterArgs),
}

/// Options of `tabel import csv`.
#[derive(Debug, Args)]
pub struct ImportCsvArgs {
    /// The folder (or .zip archive) holding schools.csv, students.csv, ….
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Options of `tabel import oneroster`.
#[derive(Debug, Args)]
pub struct ImportOneRosterArgs {
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
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Text encoding: auto (UTF-8, or windows-1251 when a file is not UTF-8
    /// and reads as Russian), utf-8, or windows-1251 (cp1251).
    #[arg(long, default_value = "auto", value_parser = parse_encoding, value_name = "ENCODING")]
    pub encoding: crate::import::Encoding,
    /// Field delimiter, ',' or ';'. [default: guessed from the header]
    #[arg(long, value_parser = parse_delimiter, value_name = "CHAR")]
    pub delimiter: Option<u8>,
    /// Check everything and report, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl ReadArgs {
    /// The importer options these arguments select.
    pub fn options(&self) -> crate::import::ImportOptions {
        crate::import::ImportOptions {
            csv: crate::import::CsvOptions {
                encoding: self.encoding,
                delimiter: self.delimiter,
            },
            dry_run: self.dry_run,
        }
    }
}

fn parse_encoding(text: &str) -> Result<crate::import::Encoding, String> {
    crate::import::Encoding::parse(text)
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

/// `tabel export FORMAT DIR`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to write.
    #[command(subcommand)]
    pub format: ExportFormat,
}

/// Formats `tabel export` writes.
#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// The whole gradebook as the tabel CSV set (one file per table).
    Csv(ExportCsvArgs),
}

/// Options of `tabel export csv`.
#[derive(Debug, Args)]
pub struct ExportCsvArgs {
    /// Folder to write into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Overwrite tabel CSV files already in the folder.
    #[arg(long)]
    pub force: bool,
}

/// Options of `tabel serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. [default: `listen` in [serve], or 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
}

pub fn parse_date(text: &str) -> Result<Date, String> {
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

    /// Build options from the settings and the command line.
    pub fn build_options(
        &self,
        school: Option<String>,
        date: Date,
        full: bool,
        jobs: Option<usize>,
    ) -> build::Options {
        build::Options {
            school,
            date,
            full,
            jobs,
            keep: self.config.keep_releases,
            language: self.config.language,
            templates: self.config.templates.clone(),
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            print_weeks: build::PrintWeeks::default(),
        }
    }

    /// The gate's settings from the `[serve]` table.
    pub fn gate(&self) -> crate::http::Settings {
        let c = &self.config.serve;
        let mut s = crate::http::Settings::new(&self.output);
        s.language = self.config.language;
        s.timeouts.idle = std::time::Duration::from_secs(c.idle_minutes * 60);
        s.timeouts.absolute = std::time::Duration::from_secs(c.session_hours * 3600);
        s.per_account = c.failures_per_account;
        s.per_address = c.failures_per_address;
        s.window = std::time::Duration::from_secs(c.window_minutes * 60);
        s.trusted_proxies = c.trusted_proxies.clone();
        s.tls = c.tls;
        s.mail = self
            .config
            .mail
            .configured()
            .then(|| self.config.mail.clone());
        s
    }

    /// The address to listen on: the command line, else the config.
    pub fn listen(&self, given: Option<std::net::SocketAddr>) -> Result<std::net::SocketAddr> {
        match given {
            Some(a) => Ok(a),
            None => self.config.serve.listen.parse().with_context(|| {
                format!(
                    "[serve] listen = {:?} is not an address:port",
                    self.config.serve.listen
                )
            }),
        }
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
                schools: args.schools,
                seed: args.seed,
                today,
            };
            let summary = demo::run(&db, &options)
                .await
                .context("cannot generate the demo data")?;
            println!("{summary}");
            println!("demo data is in {}", db::redact(&settings.database));
            let built = build::run(
                &db,
                &settings.output,
                &settings.build_options(None, today, true, None),
            )
            .await
            .context("cannot build the demo pages")?;
            print!("{built}");
            println!("pages are in {}", settings.output.join("current").display());
            let accounts = demo::accounts(&db)
                .await
                .context("cannot create the demo accounts")?;
            println!("demo accounts (login / password):");
            for a in &accounts {
                println!("  {:<18} {}   {}", a.login, a.password, a.who);
            }
            if !args.no_serve {
                let listen = settings.listen(None)?;
                println!("open http://{listen}/ (Ctrl-C stops)");
                crate::http::serve(db.clone(), settings.gate(), listen).await?;
            }
            db.close().await;
        }
        Command::Build(args) => {
            let db = settings.open_database().await?;
            let today = args
                .date
                .unwrap_or_else(|| Date(chrono::Local::now().date_naive()));
            let mut options =
                settings.build_options(args.school, today, args.full, args.jobs.map(usize::from));
            options.print_weeks = args.print_weeks;
            let summary = build::run(&db, &settings.output, &options)
                .await
                .context("the build failed")?;
            print!("{summary}");
            let (lines, failed) = crate::archive::cli::nightly(&db, &settings, today).await?;
            for line in lines {
                println!("  {line}");
            }
            db.close().await;
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Import(args) => {
            let db = settings.open_database().await?;
            let result = match args.format {
                ImportFormat::Csv(a) => {
                    crate::import::import_csv(&db, &a.dir, &a.read.options()).await
                }
                ImportFormat::Oneroster(a) => {
                    crate::import::import_oneroster(
                        &db,
                        &a.path,
                        &a.read.options(),
                        &a.period_categories,
                    )
                    .await
                }
            };
            db.close().await;
            match result {
                Ok(summary) => print!("{summary}"),
                Err(crate::import::ImportError::Invalid { problems, more }) => {
                    let err = crate::import::ImportError::Invalid { problems, more };
                    eprintln!("error: {err}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(crate::import::ImportError::Other(err)) => {
                    return Err(err.context("the import failed; nothing was changed"));
                }
            }
        }
        Command::Export(args) => {
            let db = settings.open_database().await?;
            let ExportFormat::Csv(a) = args.format;
            let summary = crate::import::export_csv(&db, &a.dir, a.force)
                .await
                .context("the export failed")?;
            print!("{summary}");
            println!("written to {}", a.dir.display());
            db.close().await;
        }
        Command::Serve(args) => {
            let db = settings.open_database().await?;
            let listen = settings.listen(args.listen)?;
            crate::http::serve(db.clone(), settings.gate(), listen).await?;
            db.close().await;
        }
        Command::Accounts(cmd) => {
            let db = settings.open_database().await?;
            crate::accounts::cli::accounts(&db, cmd).await?;
            db.close().await;
        }
        Command::Breach(args) => {
            let db = settings.open_database().await?;
            crate::accounts::cli::breach(&db, args).await?;
            db.close().await;
        }
        Command::Audit(args) => {
            let db = settings.open_database().await?;
            crate::accounts::cli::audit(&db, args).await?;
            db.close().await;
        }
        Command::Archive(args) => {
            return crate::archive::cli::archive(&settings, args).await;
        }
        Command::Verify(args) => {
            return crate::archive::cli::verify(args);
        }
        Command::Mail(args) => {
            return crate::mail::cli::mail(&settings, args).await;
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
