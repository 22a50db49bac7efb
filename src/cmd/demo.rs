//! `tabel demo`: fills an empty database with the demo school (or city),
//! builds its pages, makes demo accounts and serves the result.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Settings;
use crate::gradebook::Date;
use crate::{build, db, demo};

/// Options of `tabel demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
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
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub date: Option<Date>,
    /// Do not serve the result after building it.
    #[arg(long)]
    pub no_serve: bool,
}

/// Runs `tabel demo`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let today = args.date.unwrap_or_else(super::today);
    super::with_database(settings, async |db| {
        let options = demo::Options {
            students: args.students,
            schools: args.schools,
            seed: args.seed,
            today,
        };
        let summary = demo::run(db, &options)
            .await
            .context("cannot generate the demo data")?;
        println!("{summary}");
        println!("demo data is in {}", db::redact(&settings.database));
        // Incremental: a demo at the next day over the last one's output
        // is the realistic next night of a nightly build.
        let options = super::build::options(settings, today);
        // Into the folder or the store `--output` names, as `tabel build`.
        let store = build::store::open(&settings.output, &settings.config.store)?;
        let built = build::run_in(db, store, &options)
            .await
            .context("cannot build the demo pages")?;
        print!("{built}");
        if build::store::is_bucket(&settings.output) {
            println!("pages are in {}", settings.output.display());
        } else {
            println!("pages are in {}", settings.output.join("current").display());
        }
        let accounts = demo::accounts(db)
            .await
            .context("cannot create the demo accounts")?;
        println!("demo accounts (login / password):");
        for a in &accounts {
            println!("  {:<18} {}   {}", a.login, a.password, a.who);
        }
        if !args.no_serve {
            let listen = super::serve::listen(settings, None)?;
            println!("open http://{listen}/ (Ctrl-C stops)");
            crate::http::serve(db.clone(), super::serve::gate(settings)?, listen).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}
