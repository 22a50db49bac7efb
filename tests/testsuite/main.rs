//! The integration tests, linked into one binary (`testsuite`): one module
//! per part of the product, and the helpers they share in `support`. See
//! `README.md` in this folder for how to run one module and how to add one.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

mod support;

mod archive;
mod build;
mod cli;
mod dnevnik;
mod gate;
mod gate_server;
mod golden;
mod gradebook;
mod import_cli;
mod import_csv;
mod import_oneroster;
mod mail;
mod nightly;
mod pdf;
mod phone;
mod signatures;
mod store;
mod store_gate;
mod terms;
mod workers;
mod years;
