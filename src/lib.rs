//! tabel: a read-only window onto a school's electronic gradebook.
//!
//! The modules, in the layers of ARCHITECTURE.md (lowest first; a module
//! uses only modules of lower layers, which a test checks):
//!
//! - [`text`]: Russian collation, transliteration, spreadsheet-safe cells;
//! - [`db`]: one connection pool for SQLite or PostgreSQL, and the migrations;
//! - [`pki`]: certificates, keys, CMS signatures and RFC 3161 timestamps;
//! - [`gradebook`]: the model, the consistent snapshot of a school, lookups by
//!   key, bulk writes;
//! - [`i18n`]: the interface language and its words, dates in words;
//! - [`config`]: `tabel.toml` and the settings every command resolves;
//! - [`render`]: the engines: HTML templates, teacher Markdown, typst PDFs,
//!   statement statistics;
//! - [`views`]: what each page and document shows, and the one URL scheme of
//!   a release;
//! - [`accounts`]: accounts, sessions, logins, the access rule, breach
//!   reports, the access log;
//! - [`import`]: OneRoster, tabel CSV and Дневник.ру's API into the gradebook,
//!   and the export;
//! - [`demo`]: the deterministic demo school (or city);
//! - [`build`]: the nightly build: pages, typeset PDFs, releases;
//! - [`archive`]: signed year-end BagIt packages, and the verifier;
//! - [`mail`]: weekly e-mail digests and their subscriptions;
//! - [`http`]: the gate (`tabel serve`);
//! - [`cmd`]: the command line, one file per command.

#[cfg(test)]
mod architecture;

pub mod accounts;
pub mod archive;
pub mod build;
pub mod cmd;
pub mod config;
pub mod db;
pub mod demo;
pub mod gradebook;
pub mod http;
pub mod i18n;
pub mod import;
pub mod mail;
pub mod pki;
pub mod render;
pub mod text;
pub mod views;
