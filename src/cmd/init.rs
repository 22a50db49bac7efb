//! `tabel init`: creates or upgrades the schema.

use std::process::ExitCode;

use anyhow::Result;

use crate::config::Settings;
use crate::db;

/// Runs `tabel init`.
pub async fn run(settings: &Settings) -> Result<ExitCode> {
    super::with_database(settings, async |_| {
        println!("schema is up to date in {}", db::redact(&settings.database));
        Ok(ExitCode::SUCCESS)
    })
    .await
}
