//! `tabel serve`: the gate.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::Settings;
use crate::http;

/// Options of `tabel serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on. [default: `listen` in [serve], or 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
}

/// The gate's settings from the `[serve]` and `[mail]` tables (and from
/// `[store]` and the environment's credentials when the output is a
/// bucket).
pub(super) fn gate(settings: &Settings) -> Result<http::Settings> {
    let config = &settings.config;
    let c = &config.serve;
    let mut s = http::Settings::new(&settings.output);
    s.language = config.language;
    s.templates = config.templates.clone();
    s.timeouts.idle = Duration::from_secs(c.idle_minutes * 60);
    s.timeouts.absolute = Duration::from_secs(c.session_hours * 3600);
    s.limits.per_account = c.failures_per_account;
    s.limits.per_address = c.failures_per_address;
    s.limits.window = Duration::from_secs(c.window_minutes * 60);
    s.trusted_proxies = c.trusted_proxies.clone();
    s.tls = c.tls;
    s.body_timeout = Duration::from_secs(c.body_seconds.max(1));
    s.max_connections = c.max_connections.max(1);
    s.max_connections_per_address = c.max_connections_per_address.max(1);
    s.mail = config.mail.configured().then(|| config.mail.clone());
    if crate::build::store::is_bucket(&settings.output) {
        let url = settings.output.to_string_lossy().into_owned();
        s.bucket = Some(http::source::BucketSettings {
            credentials: crate::build::store::s3::Credentials::from_env(&url)?,
            url,
            store: config.store.clone(),
            disk_cache: c.disk_cache.clone().map(|d| (d, c.disk_cache_bytes)),
            fetches: c.store_fetches,
        });
    }
    Ok(s)
}

/// The address to listen on: the command line's, else the config's.
pub(super) fn listen(settings: &Settings, given: Option<SocketAddr>) -> Result<SocketAddr> {
    match given {
        Some(a) => Ok(a),
        None => {
            let listen = &settings.config.serve.listen;
            listen
                .parse()
                .with_context(|| format!("[serve] listen = {listen:?} is not an address:port"))
        }
    }
}

/// Runs `tabel serve` until SIGTERM or Ctrl-C.
pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let listen = listen(settings, args.listen)?;
    let gate = gate(settings)?;
    super::with_database(settings, async |db| {
        http::serve(db.clone(), gate, listen).await?;
        Ok(ExitCode::SUCCESS)
    })
    .await
}
