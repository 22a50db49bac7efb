//! Typesetting throughput, apart from the rest of the build: weekly
//! printouts and summary statements per second, one document per compile
//! (the naive loop) and batched per class (as `tabel build` does), on as
//! many threads as cores.
//!
//! ```sh
//! cargo run --release --example pdf_bench -- sqlite:///tmp/demo.db 2026-11-27
//! ```
//!
//! Besides wall time it reports the process's CPU time, and the rate the
//! CPU time allows on the machine's cores (what the wall rate would be on
//! an otherwise idle machine).

use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use tabel::build::PrintWeeks;
use tabel::db::Database;
use tabel::gradebook::{self, Date, YearChoice};
use tabel::i18n::Language;
use tabel::render::pdf::{Doc, Typesetter};
use tabel::views::Index;
use tabel::views::documents;

/// User plus system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the name).
    (ticks(11) + ticks(12)) / 100.0
}

/// Typesets `batches` on `threads` threads; returns (documents, wall s, CPU s).
fn run(
    ts: &Typesetter,
    template: &str,
    batches: &[Vec<&Doc>],
    threads: usize,
) -> Result<(usize, f64, f64)> {
    let queue = Mutex::new(batches.iter());
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    while let Some(batch) = queue
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .next()
                    {
                        for chunk in batch.chunks(32) {
                            ts.typeset(template, "ru", chunk)?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a thread panicked"))??;
        }
        Ok(())
    })?;
    let n = batches.iter().map(Vec::len).sum();
    Ok((n, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu))
}

fn report(what: &str, (n, wall, cpu): (usize, f64, f64), cores: usize) {
    println!(
        "{what:<34} {n:>5} docs  {wall:>7.2} s wall  {:>7.1}/s  | CPU {cpu:>7.2} s → {:>7.1}/s on {cores} idle cores",
        n as f64 / wall,
        n as f64 / cpu * cores as f64
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .context("usage: pdf_bench DATABASE_URL [YYYY-MM-DD]")?;
    let date = args
        .next()
        .and_then(|d| Date::parse_iso(&d))
        .unwrap_or(Date::from_ymd(2026, 11, 27).context("date")?);
    let db = Database::connect(&url).await?;
    let school = gradebook::list_schools(&db)
        .await?
        .first()
        .context("no school")?
        .id;
    let s = gradebook::load(&db, school, YearChoice::On(date)).await?;
    let ix = Index::new(&s, Language::Ru, date, "");
    let ts = Typesetter::new(None)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The documents a nightly build makes: this week's and last week's
    // printouts of every student, the statements of finished periods.
    let mut printouts: Vec<(i64, Doc)> = Vec::new();
    for st in &s.students {
        let Some(class) = ix.class_of(st) else {
            continue;
        };
        for w in PrintWeeks::Recent.weeks(&ix) {
            let view = ix.week(st, w, false);
            printouts.push((
                class.id,
                documents::printout(&ix, st, &view, &format!("s/{}/{}", st.key, view.week)),
            ));
        }
    }
    let mut statements: Vec<(i64, Doc)> = Vec::new();
    for c in &s.classes {
        for p in ix.finished_periods(c) {
            let view = ix.statement(c, p);
            statements.push((c.id, documents::statement(&ix, c, p, &view, &view.slug)));
        }
    }
    fn per_class(docs: &[(i64, Doc)]) -> Vec<Vec<&Doc>> {
        let mut out: Vec<(i64, Vec<&Doc>)> = Vec::new();
        for (class, doc) in docs {
            match out.iter_mut().find(|(c, _)| c == class) {
                Some((_, v)) => v.push(doc),
                None => out.push((*class, vec![doc])),
            }
        }
        out.into_iter().map(|(_, v)| v).collect()
    }
    fn single(docs: &[(i64, Doc)]) -> Vec<Vec<&Doc>> {
        docs.iter().map(|(_, d)| vec![d]).collect()
    }
    // Warm up the fonts and the templates.
    ts.typeset("printout.typ", "ru", &[&printouts[0].1])?;
    ts.typeset("statement.typ", "ru", &[&statements[0].1])?;
    report(
        "printouts, one per compile",
        run(&ts, "printout.typ", &single(&printouts), cores)?,
        cores,
    );
    report(
        "printouts, batched per class",
        run(&ts, "printout.typ", &per_class(&printouts), cores)?,
        cores,
    );
    report(
        "statements, one per compile",
        run(&ts, "statement.typ", &single(&statements), cores)?,
        cores,
    );
    report(
        "statements, batched per class",
        run(&ts, "statement.typ", &per_class(&statements), cores)?,
        cores,
    );
    Ok(())
}
