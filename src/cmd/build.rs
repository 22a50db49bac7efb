//! `tabel build`: the nightly build, then the archive of any school year
//! that has ended.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::build::{self, PrintWeeks};
use crate::config::Settings;
use crate::gradebook::Date;

/// Options of `tabel build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Build only this school (external id or id); the others' files are
    /// carried over from the live release.
    #[arg(long, value_name = "ID")]
    pub school: Option<String>,
    /// The day the pages show as today. [default: today]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
    /// Render every page, ignoring the previous release.
    #[arg(long)]
    pub full: bool,
    /// Worker threads. [default: three per core: most of a night's files are
    /// hard links, which wait on the disk]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Weeks that get a typeset printout (PDF) per student, of those that
    /// are over: `recent` (the latest two), `all` (every one of the year)
    /// or `none`. A running week gets its printout the night after it ends.
    #[arg(long, value_enum, default_value_t = PrintWeeks::Recent, value_name = "WEEKS")]
    pub print_weeks: PrintWeeks,
    /// Keep running: after every import, build the schools it changed and
    /// publish at once (and every school when a new day begins); stops on
    /// SIGTERM or Ctrl-C.
    #[arg(long, conflicts_with = "full")]
    pub watch: bool,
    /// Be one of any number of build workers, on any machines, over the
    /// same PostgreSQL database and bucket, building the day's release
    /// together: claim schools one at a time, and exit once the release
    /// is published (the last to finish publishes it).
    #[arg(long, conflicts_with_all = ["watch", "school"])]
    pub worker: bool,
    /// How long a worker's claim on a school holds unless renewed: `60s`,
    /// `2m`, `1500ms`. A worker that dies loses its school to another this
    /// long after its last renewal. [default: `[build] lease`, else 60s]
    #[arg(long, requires = "worker", value_parser = crate::config::parse_lease, value_name = "DURATION")]
    pub lease: Option<std::time::Duration>,
}

/// The build's options from the settings: everything but what the command
/// line chooses.
pub(super) fn options(settings: &Settings, date: Date) -> build::Options {
    build::Options {
        schools: Vec::new(),
        date,
        full: false,
        jobs: None,
        keep: settings.config.keep_releases,
        language: settings.config.language,
        templates: settings.config.templates.clone(),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        print_weeks: PrintWeeks::default(),
        check_keys: cfg!(debug_assertions),
    }
}

/// Runs `tabel build`: exit 1 when the build fails, or when a year that
/// has ended cannot be archived with the configured key.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let today = args.date.unwrap_or_else(super::today);
    let options = build::Options {
        schools: args.school.into_iter().collect(),
        full: args.full,
        jobs: args.jobs.map(usize::from),
        print_weeks: args.print_weeks,
        ..options(settings, today)
    };
    if args.worker {
        return worker(settings, &options, args.lease).await;
    }
    if args.watch {
        if build::store::is_bucket(&settings.output) {
            anyhow::bail!(
                "`tabel build --watch` writes into a folder only; {} is a store of objects",
                settings.output.display()
            );
        }
        return super::with_database(settings, async |db| {
            build::watch::watch(
                db,
                &settings.output,
                &options,
                args.date,
                build::watch::Watch::default(),
                crate::http::shutdown_signal(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        })
        .await;
    }
    super::with_database(settings, async |db| {
        let store = build::store::open(&settings.output, &settings.config.store)?;
        let summary = build::run_in(db, store, &options)
            .await
            .context("the build failed")?;
        print!("{summary}");
        if build::store::is_bucket(&settings.output) {
            // Year-end bags are folders of signed files: they are made
            // into a folder (`tabel archive --output DIR`), not a store.
            println!(
                "  archive: not run by a build into a store of objects; run `tabel archive` with a folder --output"
            );
            return Ok(ExitCode::SUCCESS);
        }
        let (lines, failed) = super::archive::nightly(db, settings, today).await?;
        for line in lines {
            println!("  {line}");
        }
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
    .await
}

/// `tabel build --worker`: one worker of the run of the build's date.
async fn worker(
    settings: &Settings,
    options: &build::Options,
    lease: Option<std::time::Duration>,
) -> Result<ExitCode> {
    let (backend, _) = crate::db::parse_url(&settings.database)?;
    if backend != crate::db::Backend::Postgres {
        anyhow::bail!(
            "`tabel build --worker` needs PostgreSQL: workers share the schools through its row locks and leases, and this database is SQLite; build on one machine with `tabel build`, or move to PostgreSQL (README, \"PostgreSQL\")"
        );
    }
    let Some(url) = settings
        .output
        .to_str()
        .filter(|url| url.starts_with("s3://"))
    else {
        anyhow::bail!(
            "`tabel build --worker` writes into a bucket only (--output s3://bucket/prefix), which the workers' machines share; {} is not one",
            settings.output.display()
        );
    };
    let lease = match lease {
        Some(l) => l,
        None => settings.config.build.lease()?,
    };
    let store = std::sync::Arc::new(build::store::S3Store::open(url, &settings.config.store)?);
    let worker = build::workers::Worker::new(lease);
    super::with_database(settings, async |db| {
        let report = build::workers::work(db, store, options, &worker)
            .await
            .with_context(|| format!("worker {} failed", worker.name))?;
        print!("{report}");
        println!(
            "  archive: not run by a build into a bucket; run `tabel archive` with a folder --output"
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}
