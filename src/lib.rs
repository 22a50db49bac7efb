//! tabel: a read-only window onto a school's electronic gradebook.
//!
//! Module map:
//! - [`cli`] parses the command line and dispatches the subcommands;
//! - [`config`] reads `tabel.toml`;
//! - [`db`] opens SQLite or PostgreSQL and applies the migrations;
//! - [`gradebook`] holds the model, the consistent snapshot loader and bulk writes;
//! - [`demo`] generates the deterministic demo school (or city).

pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod gradebook;
