//! The configuration file `tabel.toml`, and the settings every command
//! resolves from it, the command line and the environment.
//!
//! Every key is optional; an unknown key is an error naming it, so a typo
//! never silently falls back to a default. Command-line options and their
//! environment variables win over the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::i18n::Language;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "tabel.toml";
/// The database used when neither the command line nor the file names one.
pub const DEFAULT_DATABASE: &str = "sqlite://tabel.db";
/// The output folder used when neither the command line nor the file names one.
pub const DEFAULT_OUTPUT: &str = "output";

/// Options resolved from the command line, the environment and the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file's contents.
    pub config: Config,
    /// Database URL.
    pub database: String,
    /// Output folder, or `s3://bucket/prefix` (see [`Store`]).
    pub output: PathBuf,
}

impl Settings {
    /// Resolves the global options: what the command line (or the
    /// environment) gave, else the file's, else the defaults. `config` is
    /// the file to read; without it `tabel.toml` is read if present.
    pub fn resolve(
        database: Option<String>,
        output: Option<PathBuf>,
        config: Option<&Path>,
    ) -> Result<Settings> {
        let config = Config::load(config)?;
        let database = database
            .or_else(|| config.database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let output = output
            .or_else(|| config.output.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
        Ok(Settings {
            config,
            database,
            output,
        })
    }
}

/// The contents of `tabel.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Database URL (`sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`).
    pub database: Option<String>,
    /// Folder the releases are written to, `s3://bucket/prefix`, or
    /// `file:///path` (objects by content on a local disk).
    pub output: Option<PathBuf>,
    /// Interface language: `ru` (default) or `en`.
    pub language: Language,
    /// Folder whose templates replace the embedded ones of the same name.
    pub templates: Option<PathBuf>,
    /// Complete releases kept in `output/releases` (the live one always is).
    pub keep_releases: usize,
    /// The gate (`tabel serve`).
    pub serve: Serve,
    /// Year-end archives (`tabel archive`).
    pub archive: Archive,
    /// Weekly e-mail digests (`tabel mail`).
    pub mail: Mail,
    /// The Дневник.ру sync (`tabel import dnevnik`).
    pub dnevnik: Dnevnik,
    /// The S3-compatible bucket of `--output s3://bucket/prefix`.
    pub store: Store,
    /// The nightly build (`tabel build`).
    pub build: Build,
}

/// The `[build]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Build {
    /// How long a build worker's claim on a school holds without being
    /// renewed (`tabel build --worker`): `60s`, `2m`, `1500ms`.
    pub lease: String,
}

impl Default for Build {
    fn default() -> Build {
        Build {
            lease: "60s".to_owned(),
        }
    }
}

impl Build {
    /// The lease, parsed.
    pub fn lease(&self) -> Result<std::time::Duration> {
        parse_lease(&self.lease).map_err(|e| anyhow::anyhow!("[build] lease: {e}"))
    }
}

/// Parses a lease of build workers: `60s`, `2m`, `1500ms`, or seconds
/// alone (`60`), from 1 s to 24 h.
pub fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    use std::time::Duration;
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let wrong = || format!("{text:?} is not a lease like 60s, 2m or 1500ms");
    let n: u64 = n.parse().map_err(|_| wrong())?;
    let d = match unit.trim() {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(wrong()),
    };
    if d < Duration::from_secs(1) || d > Duration::from_secs(24 * 3600) {
        return Err(format!(
            "a lease of {text:?} is out of range: from 1s to 24h"
        ));
    }
    Ok(d)
}

/// The `[store]` table: the S3-compatible object storage that
/// `output = "s3://bucket/prefix"` names. The credentials are never here:
/// they come from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
/// `AWS_SESSION_TOKEN`, if any).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Store {
    /// The S3 API's address, e.g. `https://storage.example:9000`; empty:
    /// AWS itself for the region.
    pub endpoint: String,
    /// The region the bucket is in.
    pub region: String,
    /// Address the bucket in the path (`endpoint/bucket/key`) rather than
    /// in the host name (`bucket.endpoint/key`): most self-hosted stores
    /// (MinIO, SeaweedFS, Ceph RGW without wildcard DNS) want this.
    pub path_style: bool,
    /// Uploads in flight at once, at most.
    pub uploads: usize,
    /// Seconds a request may take, answer included.
    pub timeout_seconds: u64,
    /// Tries after the first for a request that failed or was not answered.
    pub retries: usize,
    /// An object no kept release lists is deleted only once it is this
    /// many seconds old (and older than every running build): it may have
    /// just been sent by a build that started while the old releases were
    /// being removed.
    pub gc_grace_seconds: u64,
    /// A running build's marker older than this belongs to a build that
    /// died; a build that takes longer is refused at the end rather than
    /// published.
    pub build_hours: u64,
}

impl Default for Store {
    fn default() -> Store {
        Store {
            endpoint: String::new(),
            region: "us-east-1".to_owned(),
            path_style: true,
            uploads: 16,
            timeout_seconds: 60,
            retries: 3,
            gc_grace_seconds: 3600,
            build_hours: 24,
        }
    }
}

impl Store {
    /// Refuses settings that cannot work, naming the key.
    fn check(&self) -> Result<()> {
        if !self.endpoint.is_empty() {
            let url = url::Url::parse(&self.endpoint)
                .with_context(|| format!("[store] endpoint {:?} is not a URL", self.endpoint))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                anyhow::bail!(
                    "[store] endpoint {:?} is not an http:// or https:// URL",
                    self.endpoint
                );
            }
        }
        if self.uploads == 0 {
            anyhow::bail!("[store] uploads must be at least 1");
        }
        if self.timeout_seconds == 0 {
            anyhow::bail!("[store] timeout_seconds must be at least 1");
        }
        if self.build_hours == 0 {
            anyhow::bail!("[store] build_hours must be at least 1");
        }
        Ok(())
    }
}

/// The `[archive]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Archive {
    /// The signing key (`tabel archive keygen`). With it, the nightly build
    /// archives a school year as soon as it has ended; a password-protected
    /// key takes its password from `TABEL_ARCHIVE_KEY_PASSWORD`.
    pub key: Option<PathBuf>,
    /// An RFC 3161 time-stamping authority (`http://…`): a timestamp in
    /// every PDF signature (PAdES B-T) and the first link of each bag's
    /// timestamp chain; `tabel archive renew` adds the next links.
    pub tsa_url: Option<String>,
    /// Seconds a TSA may take to answer.
    pub tsa_timeout_seconds: u64,
    /// Sign every statement PDF inside (PAdES) when archiving.
    pub sign_pdf: bool,
    /// The school's certificate (PEM, its chain after it), with `pdf_key`.
    pub pdf_cert: Option<PathBuf>,
    /// The school's private key (PKCS #8 PEM); a protected one takes its
    /// password from `TABEL_PDF_KEY_PASSWORD`.
    pub pdf_key: Option<PathBuf>,
    /// Or both in one PKCS #12 file (`.p12`, `.pfx`), its password from
    /// `TABEL_PDF_KEY_PASSWORD`.
    pub pdf_p12: Option<PathBuf>,
}

impl Default for Archive {
    fn default() -> Archive {
        Archive {
            key: None,
            tsa_url: None,
            tsa_timeout_seconds: 30,
            sign_pdf: false,
            pdf_cert: None,
            pdf_key: None,
            pdf_p12: None,
        }
    }
}

impl Archive {
    /// Refuses settings that cannot work together, naming the key.
    fn check(&self) -> Result<()> {
        if let Some(url) = &self.tsa_url {
            check_tsa_url(url).context("[archive] tsa_url")?;
        }
        if self.tsa_timeout_seconds == 0 {
            anyhow::bail!("[archive] tsa_timeout_seconds must be at least 1");
        }
        match (&self.pdf_p12, &self.pdf_cert, &self.pdf_key) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => anyhow::bail!(
                "[archive] pdf_p12 holds the certificate and the key: give it, or pdf_cert and pdf_key, not both"
            ),
            (None, Some(_), None) => {
                anyhow::bail!("[archive] pdf_cert needs pdf_key (the certificate's private key)")
            }
            (None, None, Some(_)) => {
                anyhow::bail!("[archive] pdf_key needs pdf_cert (the key's certificate)")
            }
            (None, None, None) if self.sign_pdf => {
                anyhow::bail!("[archive] sign_pdf = true needs pdf_p12, or pdf_cert and pdf_key")
            }
            _ => Ok(()),
        }
    }
}

/// Refuses a TSA URL tabel cannot ask.
pub fn check_tsa_url(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if parsed.scheme() != "http" || parsed.host_str().is_none() {
        anyhow::bail!(
            "{url:?} is not an http:// URL (tabel asks TSAs over http; their answers are signed)"
        );
    }
    Ok(())
}

impl Default for Config {
    fn default() -> Config {
        Config {
            database: None,
            output: None,
            language: Language::Ru,
            templates: None,
            keep_releases: 3,
            serve: Serve::default(),
            archive: Archive::default(),
            mail: Mail::default(),
            dnevnik: Dnevnik::default(),
            store: Store::default(),
            build: Build::default(),
        }
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); required.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine (127.0.0.1, ::1, localhost).
    None,
}

/// The `[mail]` table of `tabel.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mail {
    /// SMTP server.
    pub host: String,
    /// Its port. [default: 587, or 465 with `security = "tls"`]
    pub port: Option<u16>,
    /// How the connection is secured: `starttls` (default), `tls` or `none`.
    pub security: MailSecurity,
    /// Login at the server, if it wants one (the password comes from `TABEL_SMTP_PASSWORD`).
    pub user: Option<String>,
    /// The sender, e.g. `Школа № 17 <tabel@school17.example>`.
    pub from: String,
    /// Where the gate is reached from outside, for the links in the messages.
    pub base_url: String,
    /// Tries per message before a temporary failure is left for the next run.
    pub attempts: u32,
    /// Seconds before the first retry; doubled each time.
    pub retry_seconds: u64,
    /// Seconds an SMTP conversation may take.
    pub timeout_seconds: u64,
}

impl Default for Mail {
    fn default() -> Mail {
        Mail {
            host: String::new(),
            port: None,
            security: MailSecurity::Starttls,
            user: None,
            from: String::new(),
            base_url: String::new(),
            attempts: 3,
            retry_seconds: 30,
            timeout_seconds: 60,
        }
    }
}

impl Mail {
    /// Whether mail is set up at all.
    pub fn configured(&self) -> bool {
        !self.host.is_empty()
    }

    /// A link to `path` on the gate.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }
}

/// The `[dnevnik]` table: how `tabel import dnevnik` talks to Дневник.ру.
/// The token is never here: it comes from `TABEL_DNEVNIK_TOKEN`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dnevnik {
    /// The API's root, ending in `/`.
    pub base_url: String,
    /// Days before the last sync's last day that a night fetches again, for
    /// marks and absences entered late.
    pub look_back_days: u32,
    /// Requests sent at the same time, at most.
    pub requests_in_flight: usize,
    /// Seconds a request may take, answer included.
    pub timeout_seconds: f64,
    /// Tries after the first for a request answered 429 or 5xx, or not at all.
    pub retries: u32,
    /// Seconds before the first retry; doubled for each further one.
    pub retry_seconds: f64,
    /// The longest wait before a retry, also for a `Retry-After` that asks more.
    pub retry_ceiling_seconds: f64,
    /// Days one request for lessons, marks or attendance covers at most; a
    /// longer window is asked for in parts.
    pub days_per_request: u32,
}

impl Default for Dnevnik {
    fn default() -> Dnevnik {
        Dnevnik {
            base_url: "https://api.dnevnik.ru/v2/".to_owned(),
            look_back_days: 7,
            requests_in_flight: 4,
            timeout_seconds: 30.0,
            retries: 4,
            retry_seconds: 1.0,
            retry_ceiling_seconds: 60.0,
            days_per_request: 31,
        }
    }
}

/// The `[serve]` table: the gate's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Serve {
    /// Address and port to listen on.
    pub listen: String,
    /// Minutes without a request after which a session ends.
    pub idle_minutes: u64,
    /// Hours after login after which a session ends however busy.
    pub session_hours: u64,
    /// Failed logins allowed per account within the window.
    pub failures_per_account: u32,
    /// Failed logins allowed per address within the window.
    pub failures_per_address: u32,
    /// The rate-limit window, in minutes.
    pub window_minutes: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The gate sits behind a TLS proxy: send HSTS.
    pub tls: bool,
    /// Seconds a form's body may take to arrive.
    pub body_seconds: u64,
    /// Connections open at once, at most.
    pub max_connections: usize,
    /// Connections open at once from one address (trusted proxies aside), at most.
    pub max_connections_per_address: usize,
    /// A gate over a bucket (`output = "s3://…"`): the folder where it
    /// keeps copies of the objects it fetched, checked again whenever read,
    /// so a restarted gate need not fetch them again. None: memory only.
    pub disk_cache: Option<PathBuf>,
    /// Bytes the disk cache may hold; the least recently used go first.
    pub disk_cache_bytes: u64,
    /// A gate over a bucket: objects fetched from it at once, at most.
    pub store_fetches: usize,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            listen: "127.0.0.1:8080".to_owned(),
            idle_minutes: 30,
            session_hours: 12,
            failures_per_account: 10,
            failures_per_address: 30,
            window_minutes: 15,
            trusted_proxies: Vec::new(),
            tls: false,
            body_seconds: 10,
            max_connections: 4096,
            max_connections_per_address: 256,
            disk_cache: None,
            disk_cache_bytes: 4 << 30,
            store_fetches: 16,
        }
    }
}

impl Serve {
    /// Refuses settings that cannot work, naming the key.
    fn check(&self) -> Result<()> {
        if self.store_fetches == 0 {
            anyhow::bail!("[serve] store_fetches must be at least 1");
        }
        if self
            .disk_cache
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            anyhow::bail!("[serve] disk_cache is empty: name a folder, or leave the key out");
        }
        Ok(())
    }
}

impl Config {
    /// Reads `path`, or `tabel.toml` if `path` is `None` and that file exists.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_CONFIG).exists() => PathBuf::from(DEFAULT_CONFIG),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        Config::parse(&text)
            .with_context(|| format!("configuration file {} is not valid", path.display()))
    }

    /// Parses the text of a configuration file.
    pub fn parse(text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.archive.check()?;
        config.store.check()?;
        config.serve.check()?;
        config.build.lease()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_parse_with_their_unit() {
        use std::time::Duration;
        assert_eq!(parse_lease("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_lease("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_lease("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_lease("90"), Ok(Duration::from_secs(90)));
        assert!(parse_lease("0s").is_err());
        assert!(parse_lease("soon").is_err());
        assert!(parse_lease("25h").is_err());
        let err = format!(
            "{:#}",
            Config::parse("[build]\nlease = \"a while\"\n").unwrap_err()
        );
        assert!(
            err.contains("[build] lease") && err.contains("a while"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = format!("{:#}", Config::parse("languag = \"en\"\n").unwrap_err());
        assert!(err.contains("unknown field `languag`"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn keys_parse() {
        let c = Config::parse("language = \"en\"\ndatabase = \"postgres://h/db\"\n").unwrap();
        assert_eq!(c.language, Language::En);
        assert_eq!(c.database.as_deref(), Some("postgres://h/db"));
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn dnevnik_keys_parse_and_default() {
        let c = Config::parse(
            "[dnevnik]\nbase_url = \"http://127.0.0.1:9/v2/\"\nlook_back_days = 0\nretry_seconds = 0.05\n",
        )
        .unwrap();
        assert_eq!(c.dnevnik.base_url, "http://127.0.0.1:9/v2/");
        assert_eq!(c.dnevnik.look_back_days, 0);
        assert_eq!(c.dnevnik.retry_seconds, 0.05);
        assert_eq!(c.dnevnik.requests_in_flight, 4);
        assert_eq!(
            Config::default().dnevnik.base_url,
            "https://api.dnevnik.ru/v2/"
        );
        let err = format!(
            "{:#}",
            Config::parse("[dnevnik]\ntoken = \"x\"\n").unwrap_err()
        );
        assert!(err.contains("unknown field `token`"), "{err}");
    }

    #[test]
    fn store_keys_parse_and_are_checked() {
        let c = Config::parse(
            "output = \"s3://tabel/city\"\n[store]\nendpoint = \"http://127.0.0.1:8333\"\npath_style = true\n",
        )
        .unwrap();
        assert_eq!(c.store.endpoint, "http://127.0.0.1:8333");
        assert_eq!(c.store.region, "us-east-1");
        assert_eq!(c.store.uploads, 16);
        assert_eq!(c.serve.disk_cache, None);
        assert_eq!(c.serve.store_fetches, 16);
        for (text, needle) in [
            ("[store]\nendpoint = \"ftp://x\"\n", "[store] endpoint"),
            ("[store]\nuploads = 0\n", "[store] uploads"),
            ("[serve]\nstore_fetches = 0\n", "[serve] store_fetches"),
            ("[serve]\ndisk_cache = \"\"\n", "[serve] disk_cache"),
            (
                "[store]\nsecret_key = \"x\"\n",
                "unknown field `secret_key`",
            ),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn archive_signing_settings_are_checked() {
        let c = Config::parse(
            "[archive]\ntsa_url = \"http://tsa.example/tsp\"\nsign_pdf = true\npdf_p12 = \"/etc/tabel/school.p12\"\n",
        )
        .unwrap();
        assert_eq!(c.archive.tsa_timeout_seconds, 30);
        for (text, needle) in [
            ("[archive]\ntsa_url = \"ftp://x\"\n", "[archive] tsa_url"),
            ("[archive]\ntsa_url = \"not a url\"\n", "[archive] tsa_url"),
            (
                "[archive]\nsign_pdf = true\n",
                "[archive] sign_pdf = true needs",
            ),
            (
                "[archive]\npdf_key = \"k.pem\"\n",
                "[archive] pdf_key needs pdf_cert",
            ),
            (
                "[archive]\npdf_p12 = \"a.p12\"\npdf_cert = \"c.pem\"\n",
                "[archive] pdf_p12",
            ),
            (
                "[archive]\ntsa_timeout_seconds = 0\n",
                "tsa_timeout_seconds",
            ),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(needle), "{text}: {err}");
        }
        // The file is named too.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tabel.toml");
        std::fs::write(&path, "[archive]\nsign_pdf = true\n").unwrap();
        let err = format!("{:#}", Config::load(Some(&path)).unwrap_err());
        assert!(
            err.contains(&path.display().to_string()) && err.contains("sign_pdf"),
            "{err}"
        );
    }
}
