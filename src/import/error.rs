//! What an import reports: problems that name `FILE:LINE:COLUMN`, the
//! error that carries them, and the summary of a successful run.

use std::fmt;

/// Most problems reported by one run; the importer stops reading after them.
pub const MAX_PROBLEMS: usize = 50;

/// One thing wrong with the input, where it is and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// File name inside the imported folder or archive.
    pub file: String,
    /// 1-based line of the record (the header is line 1).
    pub line: u64,
    /// Column name (or 1-based field number when the column has no name).
    pub column: String,
    /// The offending value, if the problem is about one.
    pub value: Option<String>,
    /// What is wrong or what was expected.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(value) = &self.value {
            write!(f, "{value:?} ")?;
        }
        f.write_str(&self.message)
    }
}

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The input has problems; none of it was written.
    #[error("{}", invalid_message(.problems, *.more))]
    Invalid {
        /// The first problems found, in reading order.
        problems: Vec<Problem>,
        /// True when reading stopped at [`MAX_PROBLEMS`] and more may follow.
        more: bool,
    },
    /// Reading files or talking to the database failed.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

fn invalid_message(problems: &[Problem], more: bool) -> String {
    let mut out = format!(
        "the input has {}{} problem{}; nothing was imported:",
        problems.len(),
        if more { " or more" } else { "" },
        if problems.len() == 1 && !more {
            ""
        } else {
            "s"
        }
    );
    for p in problems {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    if more {
        out.push_str(&format!("\n  (stopped after the first {MAX_PROBLEMS})"));
    }
    out
}

/// Rows read and written for one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCount {
    /// Table name.
    pub table: &'static str,
    /// Rows read from the input for this table.
    pub read: u64,
    /// New rows.
    pub inserted: u64,
    /// Existing rows whose values changed.
    pub updated: u64,
    /// Rows removed (OneRoster `tobedeleted`).
    pub deleted: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Per table, in import order; tables the input did not touch are left out.
    pub tables: Vec<TableCount>,
    /// Harmless oddities that were accepted (BOM, a trailing empty field, …).
    pub warnings: Vec<String>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// True when the run was a dry run and everything was rolled back.
    pub dry_run: bool,
}

impl Summary {
    /// Total rows read.
    pub fn rows_read(&self) -> u64 {
        self.tables.iter().map(|t| t.read).sum()
    }

    /// The counts of one table, if it was touched.
    pub fn table(&self, name: &str) -> Option<&TableCount> {
        self.tables.iter().find(|t| t.table == name)
    }

    /// Rows inserted, updated and deleted, over all tables.
    pub fn changed(&self) -> (u64, u64, u64) {
        self.tables.iter().fold((0, 0, 0), |(i, u, d), t| {
            (i + t.inserted, u + t.updated, d + t.deleted)
        })
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        let read = self.rows_read();
        writeln!(
            f,
            "{} {read} rows in {:.1} s ({:.0} rows/s){}:",
            if self.dry_run { "checked" } else { "imported" },
            self.seconds,
            read as f64 / self.seconds.max(1e-9),
            if self.dry_run {
                " — dry run, nothing was written"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>10} {:>10} {:>10}",
            "table", "read", "inserted", "updated", "deleted"
        )?;
        for t in &self.tables {
            writeln!(
                f,
                "  {:<20} {:>10} {:>10} {:>10} {:>10}",
                t.table, t.read, t.inserted, t.updated, t.deleted
            )?;
        }
        Ok(())
    }
}
