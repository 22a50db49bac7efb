//! `tabel year start YYYY/YYYY`: the new school year, from the last one
//! (regulation 2.2). Refuses while the last year is not archived.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::config::Settings;
use crate::gradebook::{self, Date};
use crate::import::rollover;

/// `tabel year …`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a new school year: the year and its reporting periods, copied
    /// from the last year a year later; with --promote its classes one
    /// grade up with their students (the 11th grade graduates, a new 1st
    /// grade is empty).
    Start(StartArgs),
}

/// Options of `tabel year start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// The new school year, e.g. 2027/2028.
    #[arg(value_name = "YYYY/YYYY")]
    pub year: String,
    /// Move every class one grade up with its students.
    #[arg(long)]
    pub promote: bool,
    /// Print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Start the year although the last one has no archive yet.
    #[arg(long)]
    pub force: bool,
    /// Only this school (external id or id). [default: every school]
    #[arg(long, value_name = "ID")]
    pub school: Option<String>,
    /// The new year's first day. [default: the last year's, a year later]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub from: Option<Date>,
    /// The new year's last day. [default: the last year's, a year later]
    #[arg(long, value_parser = super::parse_date, value_name = "YYYY-MM-DD")]
    pub to: Option<Date>,
}

/// Runs `tabel year …`.
pub async fn run(settings: &Settings, cmd: Command) -> Result<ExitCode> {
    let Command::Start(args) = cmd;
    let (first, _) = rollover::parse_year(&args.year)?;
    super::with_database(settings, async |db| {
        let all = gradebook::list_schools(db).await?;
        let several = all.len() > 1;
        let schools: Vec<_> = match &args.school {
            Some(want) => all
                .iter()
                .filter(|s| &s.external_id == want || s.id.to_string() == *want)
                .cloned()
                .collect(),
            None => all.clone(),
        };
        if schools.is_empty() {
            bail!(
                "there is no school {:?}",
                args.school.as_deref().unwrap_or("")
            );
        }
        // The year before the new one must be in the archive first: once
        // the classes move up, nobody should have to rebuild it by hand.
        let mut unarchived = Vec::new();
        for school in &schools {
            let years = gradebook::school_years(db, school.id).await?;
            if let Some(last) = years
                .iter()
                .rev()
                .find(|y| chrono::Datelike::year(&y.starts_on.0) < first)
                && !crate::archive::bag_of(&settings.output, school, last, several).exists()
            {
                unarchived.push(format!("{} of {}", last.title, school.external_id));
            }
        }
        if !unarchived.is_empty() && !args.force && !args.dry_run {
            bail!(
                "the school year {} is not archived yet: run `tabel archive --year …` first (or --force to start the new year anyway)",
                unarchived.join(", ")
            );
        }
        let opts = rollover::Options {
            year: args.year.clone(),
            from: args.from,
            to: args.to,
            promote: args.promote,
            dry_run: args.dry_run,
        };
        let plans = rollover::run(db, &schools, &opts)
            .await
            .context("the new school year was not set up")?;
        for plan in &plans {
            print!("{plan}");
        }
        if args.dry_run {
            for u in &unarchived {
                println!("note: the school year {u} is not archived yet; the real run refuses until it is (or --force)");
            }
            println!("dry run: nothing was changed");
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}
