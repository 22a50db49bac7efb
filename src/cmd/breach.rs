//! `tabel breach`: the office records that an account's credentials leaked
//! (regulation 4.3–4.4, see docs/regulation.md).

use std::process::ExitCode;

use anyhow::Result;

use crate::accounts;
use crate::config::Settings;
use crate::db::Database;

/// `tabel breach`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The account whose credentials leaked.
    #[arg(long)]
    pub login: String,
    /// When the leak was noticed (UTC; e.g. "2026-11-28 09:30"); default: now.
    #[arg(long, value_name = "TIME")]
    pub noticed_at: Option<String>,
}

/// Runs `tabel breach`.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    super::with_database(settings, async |db| record(db, args).await).await
}

async fn record(db: &Database, args: Args) -> Result<ExitCode> {
    let a = accounts::get(db, &args.login).await?;
    let noticed = match &args.noticed_at {
        Some(t) => accounts::stamp(accounts::parse_time(t)?),
        None => accounts::now(),
    };
    let marked = accounts::breach(db, a.id, &noticed, "cli").await?;
    println!(
        "breach of {} recorded (noticed {noticed}): sessions ended, the password no longer logs in, \
         {marked} access-log entr{} since then marked invalid; give the owner a one-time password \
         with `tabel accounts passwd --login {}`",
        args.login,
        if marked == 1 { "y" } else { "ies" },
        args.login
    );
    Ok(ExitCode::SUCCESS)
}
