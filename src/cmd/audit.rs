//! `tabel audit`: the access log, as a table or CSV. Every text is printed
//! with its control characters escaped (`crate::text::printable`): what a
//! visitor typed or sent (a user agent, a path) cannot print a line that
//! looks like an entry of its own, nor rewrite one on a terminal.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::accounts::{self, audit};
use crate::config::Settings;
use crate::db::Database;
use crate::text::printable;

/// `tabel audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this login.
    #[arg(long)]
    pub login: Option<String>,
    /// From this time (UTC, inclusive).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Up to this time (UTC, exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only paths starting with this (e.g. s/<student-key>/ for "who opened this student's files").
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "csv"])]
    pub format: String,
}

/// Runs `tabel audit`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    super::with_database(settings, async |db| show(db, args).await).await
}

async fn show(db: &Database, args: Args) -> Result<ExitCode> {
    let time = |t: &Option<String>| -> Result<Option<String>> {
        t.as_deref()
            .map(|t| Ok(accounts::stamp(accounts::parse_time(t)?)))
            .transpose()
    };
    let filter = audit::Filter {
        login: args.login.clone(),
        from: time(&args.from)?,
        to: time(&args.to)?,
        path: args.path.clone(),
    };
    let rows = audit::query(db, &filter).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format == "csv" {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "at",
            "login",
            "role",
            "action",
            "path",
            "result",
            "address",
            "user_agent",
            "valid",
        ])?;
        for r in rows {
            w.write_record(
                [
                    r.at,
                    r.login.unwrap_or_default(),
                    r.role.unwrap_or_default(),
                    r.action,
                    r.path.unwrap_or_default(),
                    r.result,
                    r.address.unwrap_or_default(),
                    r.user_agent.unwrap_or_default(),
                    if r.invalid != 0 {
                        "INVALID".into()
                    } else {
                        "valid".into()
                    },
                ]
                .map(|c| crate::text::csv_safe(&printable(&c))),
            )?;
        }
        w.flush()?;
    } else {
        for r in &rows {
            writeln!(
                out,
                "{} {:<20} {:<9} {:<12} {:<9} {}{}{}",
                printable(&r.at),
                printable(r.login.as_deref().unwrap_or("-")),
                printable(r.role.as_deref().unwrap_or("-")),
                printable(&r.action),
                printable(&r.result),
                printable(r.path.as_deref().unwrap_or("")),
                r.address
                    .as_deref()
                    .map(|a| format!("  from {}", printable(a)))
                    .unwrap_or_default(),
                if r.invalid != 0 {
                    "  [INVALID: breach]"
                } else {
                    ""
                },
            )?;
        }
        writeln!(
            out,
            "{} entr{}",
            rows.len(),
            if rows.len() == 1 { "y" } else { "ies" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
