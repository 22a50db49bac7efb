//! Helpers shared by the modules of the suite, one file per concern:
//!
//! - [`command`]: running the `tabel` binary ([`tabel()`]);
//! - [`db`]: a fresh database per test on each backend ([`TestDb`]);
//! - [`files`]: fixture folders of the repository and trees of files;
//! - [`tools`]: outside tools a test needs, or a skip ([`tool()`]);
//! - [`build`]: a demo school and build options for the build tests;
//! - [`archive`]: a finished demo year and archive keys (archive, signatures);
//! - [`pki`]: a test PKI made with openssl, a local TSA, an NSS database;
//! - [`dnevnik`]: a stand-in for Дневник.ру's API on loopback, and its schools;
//! - [`gate`]: a built demo school behind a gate, requests, logins, CSRF;
//! - [`import`]: checksums and snapshots for the import tests;
//! - [`seaweed`]: a real SeaweedFS (S3) on loopback, with a bucket.

pub mod archive;
pub mod build;
pub mod command;
pub mod db;
pub mod dnevnik;
pub mod files;
pub mod gate;
pub mod import;
pub mod pki;
pub mod seaweed;
pub mod tools;

pub use command::{Running, tabel};
pub use db::TestDb;
pub use files::{assert_same_files, copy_dir, page, plain, repo, tree, try_plain, unpack};
pub use tools::tool;
