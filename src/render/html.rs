//! The one minijinja environment: templates embedded in the binary, each
//! overridable by a file of the same name in a folder named in the config;
//! strict undefined values and HTML auto-escaping.

use std::path::Path;

use anyhow::{Context, Result};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use sha2::{Digest, Sha256};

/// The embedded templates: name and source.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../report-templates/html/base.html"),
    ),
    (
        "week.html",
        include_str!("../../report-templates/html/week.html"),
    ),
    (
        "running.html",
        include_str!("../../report-templates/html/running.html"),
    ),
    (
        "marks.html",
        include_str!("../../report-templates/html/marks.html"),
    ),
    (
        "year.html",
        include_str!("../../report-templates/html/year.html"),
    ),
    (
        "class.html",
        include_str!("../../report-templates/html/class.html"),
    ),
    (
        "statement.html",
        include_str!("../../report-templates/html/statement.html"),
    ),
    (
        "school.html",
        include_str!("../../report-templates/html/school.html"),
    ),
    (
        "home.html",
        include_str!("../../report-templates/html/home.html"),
    ),
    (
        "404.html",
        include_str!("../../report-templates/html/404.html"),
    ),
    (
        "macros.html",
        include_str!("../../report-templates/html/macros.html"),
    ),
    (
        "login.html",
        include_str!("../../report-templates/html/login.html"),
    ),
    (
        "portal.html",
        include_str!("../../report-templates/html/portal.html"),
    ),
    (
        "account.html",
        include_str!("../../report-templates/html/account.html"),
    ),
    (
        "mail.html",
        include_str!("../../report-templates/html/mail.html"),
    ),
    (
        "mail/digest.html",
        include_str!("../../report-templates/mail/digest.html"),
    ),
    (
        "mail/digest.txt",
        include_str!("../../report-templates/mail/digest.txt"),
    ),
];

/// The embedded stylesheet.
pub const STYLESHEET: &str = include_str!("../../site/tabel.css");

/// The templates' version: a hash of the program's version, the
/// templates' names and sources, the stylesheet and the interface `words`
/// of every language. A page's key leaves the words out (they are the
/// same on every page), so a reworded label renders pages again through
/// the version.
fn version(sources: &[(&str, String)], words: &[&crate::i18n::Labels]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    for (name, source) in sources {
        hasher.update(name.as_bytes());
        hasher.update(source.as_bytes());
    }
    hasher.update(STYLESHEET.as_bytes());
    for labels in words {
        hasher.update(serde_json::to_vec(labels).unwrap_or_default());
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize()[..8])
}

/// A ready environment plus a hash of every template it holds.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// Hash of the template sources: part of every page's input hash.
    pub version: String,
}

impl Templates {
    /// Builds the environment; a template in `overrides` replaces the
    /// embedded one of the same name.
    pub fn new(overrides: Option<&Path>) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        let mut sources = Vec::with_capacity(TEMPLATES.len());
        for (name, source) in TEMPLATES {
            let source = match overrides.map(|dir| dir.join(name)).filter(|p| p.exists()) {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read template {}", path.display()))?,
                None => (*source).to_owned(),
            };
            env.add_template_owned(*name, source.clone())
                .with_context(|| format!("template {name} is not valid"))?;
            sources.push((*name, source));
        }
        let version = version(&sources, &[&crate::i18n::RU, &crate::i18n::EN]);
        Ok(Templates { env, version })
    }

    /// Renders template `name` with `context`.
    pub fn render<S: serde::Serialize>(&self, name: &str, context: &S) -> Result<String> {
        let template = self
            .env
            .get_template(name)
            .with_context(|| format!("no template {name}"))?;
        template
            .render(minijinja::Value::from_serialize(context))
            .with_context(|| format!("cannot render {name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{EN, RU};

    /// A page's key leaves the interface words out, so the version must
    /// change with any of them, in either language, or a reworded label
    /// would stay on every carried page.
    #[test]
    fn a_reworded_label_changes_the_templates_version() {
        let sources: Vec<(&str, String)> = TEMPLATES
            .iter()
            .map(|(name, source)| (*name, (*source).to_owned()))
            .collect();
        let base = version(&sources, &[&RU, &EN]);
        assert_eq!(base, Templates::new(None).unwrap().version);
        let mut ru = RU;
        ru.diary = "Дневник ученика";
        assert_ne!(ru.diary, RU.diary);
        assert_ne!(version(&sources, &[&ru, &EN]), base);
        let mut en = EN;
        en.week = "School week";
        assert_ne!(en.week, EN.week);
        assert_ne!(version(&sources, &[&RU, &en]), base);
        let mut edited = sources.clone();
        edited[0].1.push('\n');
        assert_ne!(version(&edited, &[&RU, &EN]), base);
    }
}
