//! tabel: a read-only window onto a school's electronic gradebook.
//!
//! Module map:
//! - [`cli`] parses the command line and dispatches the subcommands;
//! - [`config`] reads `tabel.toml`;
//! - [`db`] opens SQLite or PostgreSQL and applies the migrations;
//! - [`gradebook`] holds the model, the consistent snapshot loader and bulk writes;
//! - [`import`] reads OneRoster and tabel CSV into the gradebook and exports it;
//! - [`demo`] generates the deterministic demo school (or city);
//! - [`build`] is the nightly build: pages, typeset PDFs, releases;
//! - [`render`] holds the engines: HTML templates, teacher Markdown, typst PDFs,
//!   statistics.

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
pub mod render;
pub mod text;
pub mod views;
