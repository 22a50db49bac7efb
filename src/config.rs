//! The configuration file `tabel.toml`.
//!
//! Every key is optional; an unknown key is an error naming it, so a typo
//! never silently falls back to a default. Command-line options and their
//! environment variables win over the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG: &str = "tabel.toml";
/// The database used when neither the command line nor the file names one.
pub const DEFAULT_DATABASE: &str = "sqlite://tabel.db";
/// The output folder used when neither the command line nor the file names one.
pub const DEFAULT_OUTPUT: &str = "output";

/// Interface language of generated pages and documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Russian (the default).
    #[default]
    Ru,
    /// English.
    En,
}

/// The contents of `tabel.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Database URL (`sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`).
    pub database: Option<String>,
    /// Folder the releases are written to.
    pub output: Option<PathBuf>,
    /// Interface language: `ru` (default) or `en`.
    pub language: Language,
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
        Ok(toml::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
