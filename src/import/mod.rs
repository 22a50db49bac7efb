//! Real data in and out: the tabel CSV set, OneRoster 1.1/1.2 CSV, and
//! Дневник.ру's API.
//!
//! Module map:
//! - [`spec`] describes the tabel CSV set, one file per gradebook table;
//! - [`source`] reads CSV as others write it (encodings, delimiters, zips);
//! - [`engine`] checks and writes rows in one transaction, for every format;
//! - [`oneroster`] maps OneRoster 1.1/1.2 CSV sets onto the same tables;
//! - [`dnevnik`] reads a school straight from Дневник.ру's API, every night;
//! - [`csv_set`] imports the tabel CSV set, [`export`] writes it;
//! - [`rollover`] sets up the next school year from the last one;
//! - [`error`] holds the problems (`FILE:LINE:COLUMN`) and the summary.

pub mod csv_set;
pub mod dnevnik;
pub mod engine;
pub mod error;
pub mod export;
pub mod oneroster;
pub mod rollover;
pub mod source;
pub mod spec;

pub use csv_set::import_csv;
pub use dnevnik::{SyncOptions, Synced, import_dnevnik};
pub use error::{ImportError, MAX_PROBLEMS, Problem, Summary, TableCount};
pub use export::export_csv;
pub use oneroster::import_oneroster;
pub use source::{CsvOptions, Encoding};

/// Options shared by the importers.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// How to read the CSV files.
    pub csv: CsvOptions,
    /// Check everything, then roll back instead of committing.
    pub dry_run: bool,
    /// The day of the import, which dates a move between two classes of
    /// one year that the input gives without a date. [default: today]
    pub today: Option<crate::gradebook::Date>,
}

impl ImportOptions {
    /// The day of the import.
    pub fn today(&self) -> crate::gradebook::Date {
        self.today
            .unwrap_or_else(|| crate::gradebook::Date(chrono::Local::now().date_naive()))
    }
}
