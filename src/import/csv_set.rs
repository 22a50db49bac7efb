//! `tabel import csv DIR`: the tabel CSV set (see [`super::spec`]), file by
//! file in dependency order, streamed through the [`Engine`].

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;

use super::ImportOptions;
use super::engine::{Engine, Origin};
use super::error::{ImportError, Problem, Summary};
use super::source::{CsvFile, Input, Next};
use super::spec::{TABLES, TableSpec};
use crate::db::Database;

/// Imports a folder (or .zip) of tabel CSV files in one transaction.
pub async fn import_csv(
    db: &Database,
    dir: &Path,
    options: &ImportOptions,
) -> Result<Summary, ImportError> {
    let input = Input::open(dir)?;
    let mut engine = Engine::begin(db, true).await?;
    let known: Vec<&str> = TABLES.iter().map(|t| t.file).collect();
    let mut found = false;
    for name in input.names()? {
        if known.contains(&name.as_str()) {
            found = true;
        } else if name.to_ascii_lowercase().ends_with(".csv") {
            engine.warn(format!("{name}: not a file of the tabel CSV set; ignored"));
        }
    }
    if !found {
        return Err(anyhow::anyhow!(
            "{} holds none of the tabel CSV files ({} …)",
            dir.display(),
            known[..3].join(", ")
        )
        .into());
    }
    for spec in TABLES {
        engine.start_table(spec).await?;
        if engine.full() {
            break;
        }
        match CsvFile::open(&input, spec.file, options.csv)? {
            None => {}
            Some(Err(problem)) => {
                engine.problem(problem);
            }
            Some(Ok(mut file)) => {
                read_file(&mut engine, spec, &mut file).await?;
                for note in file.finish_notes() {
                    engine.warn(note);
                }
            }
        }
    }
    engine.finish(options.dry_run, options.today()).await
}

/// Where each spec column is in the file's header.
fn columns(spec: &TableSpec, file: &CsvFile) -> (Vec<Option<usize>>, Vec<Problem>) {
    let mut problems = Vec::new();
    let at = |column: &str, message: String| Problem {
        file: file.name.clone(),
        line: 1,
        column: column.to_owned(),
        value: None,
        message,
    };
    let mut map = vec![None; spec.cols.len()];
    for (h, name) in file.header.iter().enumerate() {
        let found = spec
            .cols
            .iter()
            .position(|c| c.name == name || c.name.eq_ignore_ascii_case(name));
        match found {
            Some(i) => map[i] = Some(h),
            None => problems.push(at(
                if name.is_empty() { "?" } else { name },
                format!(
                    "is not a column of {}; expected {}",
                    spec.file,
                    spec.cols
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )),
        }
    }
    for (i, col) in spec.cols.iter().enumerate() {
        if map[i].is_none() && !col.optional {
            problems.push(at(
                col.name,
                "this required column is missing from the header".into(),
            ));
        }
    }
    (map, problems)
}

async fn read_file(
    engine: &mut Engine,
    spec: &'static TableSpec,
    file: &mut CsvFile,
) -> Result<()> {
    let (map, problems) = columns(spec, file);
    if !problems.is_empty() {
        for p in problems {
            engine.problem(p);
        }
        return Ok(());
    }
    let bar = (file.size > 8 << 20 && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(file.size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>24} [{bar:30}] {bytes}/{total_bytes} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(file.name.clone());
        bar
    });
    let name = file.name.clone();
    let mut n: u64 = 0;
    loop {
        match file.next_record() {
            Next::End => break,
            Next::Bad(problem) => {
                if !engine.problem(problem) {
                    break;
                }
                continue;
            }
            Next::Row => {}
        }
        let mut fields: Vec<&str> = Vec::with_capacity(spec.cols.len());
        let mut ok = true;
        for h in &map {
            match h.map(|h| file.field(h)) {
                None => fields.push(""),
                Some(Ok(text)) => fields.push(text),
                Some(Err(problem)) => {
                    engine.problem(problem);
                    ok = false;
                    fields.push("");
                }
            }
        }
        if ok {
            let origin = Origin::Row {
                file: &name,
                line: file.line(),
            };
            engine.row(&fields, &origin).await?;
        }
        if engine.full() {
            break;
        }
        n += 1;
        if n.is_multiple_of(16_384)
            && let Some(bar) = &bar
        {
            bar.set_position(file.offset());
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}
