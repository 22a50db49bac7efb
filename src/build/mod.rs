//! `tabel build`: the nightly job. A flat list of timed steps — load, plan,
//! render (with compress and write), publish — over one school at a time,
//! so a city never sits in memory whole.

pub mod release;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::accounts::access::Scope;
use crate::db::Database;
use crate::gradebook::{self, Date, YearChoice};
use crate::i18n::Language;
use crate::render::html::{STYLESHEET, Templates};
use crate::render::pdf::{Doc, Typesetter};
use crate::views::paths::{self, Page};
use crate::views::statement::StatementView;
use crate::views::{self, Index, documents};
use release::{Entry, Manifest, Output};

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build only this school (external id); the others are carried over.
    pub school: Option<String>,
    /// The day the pages show as today.
    pub date: Date,
    /// Render everything, ignoring the previous release.
    pub full: bool,
    /// Worker threads (default: one per core).
    pub jobs: Option<usize>,
    /// Complete releases to keep.
    pub keep: usize,
    /// Interface language.
    pub language: Language,
    /// Folder whose templates override the embedded ones.
    pub templates: Option<PathBuf>,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// Weeks that get a typeset printout per student.
    pub print_weeks: PrintWeeks,
}

/// What a build did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The new live release.
    pub release: PathBuf,
    /// Pages rendered.
    pub rendered: usize,
    /// Pages carried over unchanged.
    pub carried: usize,
    /// Documents (PDFs) typeset, of the pages rendered.
    pub typeset: usize,
    /// Per kind of document: how many were typeset, in how much wall time.
    pub documents: Vec<(&'static str, usize, Duration)>,
    /// Bytes written (compressed variants included).
    pub bytes: u64,
    /// Files in the release.
    pub files: usize,
    /// Wall time of each step, and thread time of render/compress/write.
    pub steps: Vec<(&'static str, Duration)>,
    /// Paths of the pages rendered (not carried), sorted.
    pub rendered_paths: Vec<String>,
    /// Old releases removed.
    pub pruned: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "release {}", self.release.display())?;
        writeln!(
            f,
            "  pages: {} rendered ({} of them PDFs), {} carried over; {} files, {:.1} MB written",
            self.rendered,
            self.typeset,
            self.carried,
            self.files,
            self.bytes as f64 / 1e6
        )?;
        for (step, d) in &self.steps {
            writeln!(f, "  {step:<22} {:>8.3} s", d.as_secs_f64())?;
        }
        for (kind, n, d) in &self.documents {
            let rate = if d.is_zero() {
                0.0
            } else {
                *n as f64 / d.as_secs_f64()
            };
            writeln!(
                f,
                "  {kind:<22} {n:>8} typeset in {:.3} s wall, {rate:.1}/s",
                d.as_secs_f64()
            )?;
        }
        if !self.pruned.is_empty() {
            writeln!(f, "  pruned {} old release(s)", self.pruned.len())?;
        }
        Ok(())
    }
}

/// Which weeks get a printout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PrintWeeks {
    /// The current and the previous week.
    #[default]
    Current,
    /// Every week of the year so far.
    All,
    /// None: no weekly printouts (the pages and statements only).
    None,
}

impl PrintWeeks {
    /// Indices of the printed weeks among `ix.weeks`, newest first.
    pub fn weeks(self, ix: &Index<'_>) -> Vec<usize> {
        let current = ix.current_week();
        match self {
            PrintWeeks::Current => (current.saturating_sub(1)..=current).rev().collect(),
            PrintWeeks::All => (0..ix.weeks.len()).rev().collect(),
            PrintWeeks::None => Vec::new(),
        }
    }
}

/// Compression of pages: brotli 5 is ~60 times faster than 11 and only
/// ~9 % larger on pages this size; gzip 6 is the usual balance.
const PAGE_LEVELS: (u32, u32) = (5, 6);
/// The few long-cached assets take the slow, small settings.
const ASSET_LEVELS: (u32, u32) = (11, 9);

fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

fn brotli(bytes: &[u8], quality: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        // Writing into a Vec cannot fail.
        let _ = w.write_all(bytes);
    }
    out
}

fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::new(level),
    );
    let _ = w.write_all(bytes);
    w.finish().unwrap_or_default()
}

/// True for files also written as `.br` and `.gz`.
fn compressible(path: &str) -> bool {
    [".html", ".css", ".svg", ".json", ".txt"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// Writes pages into the new release, or carries unchanged ones over.
struct Emitter<'a> {
    tmp: &'a Path,
    /// The previous release's folder, and its files of the school being built.
    prev: Option<&'a Path>,
    prev_files: std::sync::RwLock<HashMap<String, Entry>>,
    full: bool,
    templates: &'a Templates,
    entries: Mutex<Vec<Entry>>,
    rendered: Mutex<Vec<String>>,
    carried: AtomicUsize,
    bytes: AtomicU64,
    nanos_render: AtomicU64,
    nanos_compress: AtomicU64,
    nanos_write: AtomicU64,
    nanos_typeset: AtomicU64,
    typeset: AtomicUsize,
    kinds: Mutex<Vec<(&'static str, usize, Duration)>>,
    progress: Option<indicatif::ProgressBar>,
}

/// Documents (PDFs) of one class typeset per compile at most: a compile's
/// fixed cost is shared, and its memory stays small.
const DOCS_PER_COMPILE: usize = 32;

/// A document to emit: where it goes, who may read it, what it shows.
struct DocJob {
    path: String,
    scope: Scope,
    input: String,
    doc: Doc,
}

impl DocJob {
    /// A job for `doc` at `path`; its input hash covers the templates and the data.
    fn new(path: String, scope: Scope, version: &str, template: &str, doc: Doc) -> DocJob {
        let mut h = Sha256::new();
        h.update(version.as_bytes());
        h.update(template.as_bytes());
        h.update(doc.ident.as_bytes());
        h.update(doc.title.as_bytes());
        h.update(doc.author.as_bytes());
        h.update(doc.date.to_string().as_bytes());
        h.update([u8::from(doc.tagged)]);
        h.update(&doc.data);
        let input = data_encoding::HEXLOWER.encode(&h.finalize()[..16]);
        DocJob {
            path,
            scope,
            input,
            doc,
        }
    }
}

impl Emitter<'_> {
    /// The files emitted since the last call.
    fn take_entries(&self) -> Result<Vec<Entry>> {
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(std::mem::take(&mut *entries))
    }

    /// Compares what follows with these files of the previous release.
    fn set_prev(&self, files: HashMap<String, Entry>) -> Result<()> {
        *self
            .prev_files
            .write()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = files;
        Ok(())
    }

    fn lap(counter: &AtomicU64, since: Instant) -> Instant {
        counter.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Instant::now()
    }

    /// Carries `path` (and its compressed variants) over from the previous
    /// release if it was made from the same input for the same readers;
    /// true if it did.
    fn carry(&self, path: &str, scope: &Scope, input: &str) -> Result<bool> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        let map = self
            .prev_files
            .read()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        if !self.full
            && let Some(dir) = self.prev
            && let Some(old) = map.get(path)
            && old.input == input
            && old.scope == *scope
        {
            let mut carried = Vec::with_capacity(3);
            for variant in [path.to_owned(), format!("{path}.br"), format!("{path}.gz")] {
                if let Some(e) = map.get(variant.as_str()) {
                    release::carry(dir, self.tmp, &variant)?;
                    carried.push(e.clone());
                }
            }
            self.entries
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .extend(carried);
            self.carried.fetch_add(1, Ordering::Relaxed);
            return Ok(true);
        }
        Ok(false)
    }

    /// Emits one page rendered from `view` with `template`.
    fn page<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        template: &str,
        view: &V,
    ) -> Result<()> {
        let started = Instant::now();
        let json = serde_json::to_vec(view).context("cannot serialize a page's data")?;
        let mut h = Sha256::new();
        h.update(self.templates.version.as_bytes());
        h.update(template.as_bytes());
        h.update(&json);
        let input = data_encoding::HEXLOWER.encode(&h.finalize()[..16]);
        if self.carry(path, &scope, &input)? {
            return Ok(());
        }
        let html = self.templates.render(template, view)?;
        Self::lap(&self.nanos_render, started);
        self.file(path, scope, school, &input, html.as_bytes(), PAGE_LEVELS)?;
        self.rendered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(path.to_owned());
        Ok(())
    }

    /// Emits documents rendered by `render`, which typesets several at a
    /// time: each group of jobs (one class's, say) is split into calls of
    /// at most `DOCS_PER_COMPILE` documents, after the unchanged ones are
    /// carried over. Groups run in parallel; documents are written as they
    /// are (PDFs are compressed inside already).
    fn documents<F>(
        &self,
        kind: &'static str,
        groups: Vec<Vec<DocJob>>,
        school: &str,
        render: F,
    ) -> Result<()>
    where
        F: Fn(&[&Doc]) -> Result<Vec<Vec<u8>>> + Sync,
    {
        if let Some(p) = &self.progress {
            p.inc_length(groups.iter().map(Vec::len).sum::<usize>() as u64);
        }
        let (started, before) = (Instant::now(), self.typeset.load(Ordering::Relaxed));
        // One plain thread per worker, each typesetting one batch at a time.
        // Not rayon tasks: typst parallelizes inside a compile with rayon,
        // and a rayon worker waiting on that would steal and start another
        // whole batch, piling up compiles (and memory) on one thread.
        let queue = Mutex::new(groups.into_iter());
        let next = || {
            queue
                .lock()
                .map(|mut q| q.next())
                .map_err(|_| anyhow::anyhow!("poisoned"))
        };
        let work = || -> Result<()> {
            while let Some(group) = next()? {
                let mut todo = Vec::new();
                for job in &group {
                    if !self.carry(&job.path, &job.scope, &job.input)? {
                        todo.push(job);
                    }
                }
                for chunk in todo.chunks(DOCS_PER_COMPILE) {
                    let started = Instant::now();
                    let docs: Vec<&Doc> = chunk.iter().map(|j| &j.doc).collect();
                    let pdfs = render(&docs)?;
                    Self::lap(&self.nanos_typeset, started);
                    for (job, pdf) in chunk.iter().zip(pdfs) {
                        self.file(
                            &job.path,
                            job.scope.clone(),
                            school,
                            &job.input,
                            &pdf,
                            PAGE_LEVELS,
                        )?;
                        self.rendered
                            .lock()
                            .map_err(|_| anyhow::anyhow!("poisoned"))?
                            .push(job.path.clone());
                        self.typeset.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| -> Result<()> {
            let workers: Vec<_> = (0..rayon::current_num_threads().max(1))
                .map(|_| scope.spawn(work))
                .collect();
            for w in workers {
                w.join()
                    .map_err(|_| anyhow::anyhow!("a typesetting thread panicked"))??;
            }
            Ok(())
        })?;
        let n = self.typeset.load(Ordering::Relaxed) - before;
        let mut kinds = self.kinds.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        match kinds.iter_mut().find(|(k, _, _)| *k == kind) {
            Some(entry) => {
                entry.1 += n;
                entry.2 += started.elapsed();
            }
            None => kinds.push((kind, n, started.elapsed())),
        }
        Ok(())
    }

    /// Writes a file and, if it is text, its `.br` and `.gz` variants.
    /// `levels` are the brotli quality and the gzip level.
    fn file(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        input: &str,
        bytes: &[u8],
        levels: (u32, u32),
    ) -> Result<()> {
        let (br, gz) = levels;
        let mut t = Instant::now();
        let mut out = vec![(path.to_owned(), bytes.to_vec())];
        if compressible(path) {
            out.push((format!("{path}.br"), brotli(bytes, br)));
            out.push((format!("{path}.gz"), gzip(bytes, gz)));
            t = Self::lap(&self.nanos_compress, t);
        }
        let mut entries = Vec::with_capacity(3);
        for (p, b) in out {
            let size = release::write_file(self.tmp, &p, &b)?;
            self.bytes.fetch_add(size, Ordering::Relaxed);
            entries.push(Entry {
                path: p,
                size,
                sha256: sha256_hex(&b),
                scope: scope.clone(),
                school: school.to_owned(),
                input: input.to_owned(),
            });
        }
        Self::lap(&self.nanos_write, t);
        self.entries
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .extend(entries);
        Ok(())
    }
}

/// A statement page: the statement under its own name, for the shared macro.
#[derive(Serialize)]
struct StatementPage<'a> {
    frame: &'a views::Frame,
    st: &'a StatementView,
}

/// Emits every page and document of one school.
fn emit_school(
    e: &Emitter<'_>,
    ix: &Index<'_>,
    ts: &Typesetter,
    print: PrintWeeks,
    single: bool,
) -> Result<()> {
    let s = ix.s;
    let school = s.school.external_id.as_str();
    let current = ix.current_week();
    let printed = print.weeks(ix);
    let links: Vec<views::week::WeekLink> = printed
        .iter()
        .map(|&w| documents::printout_link(ix, w))
        .collect();
    // Students: the start page, every week, the marks page; the printouts.
    let printouts: Vec<(i64, Vec<DocJob>)> = s
        .students
        .par_iter()
        .filter_map(|st| ix.class_of(st).map(|c| (st, c)))
        .map(|(st, class)| -> Result<(i64, Vec<DocJob>)> {
            let scope = Scope::Student(st.key.clone());
            let mut view = ix.week(st, current, true);
            view.printouts = links.clone();
            e.page(
                &Page::StudentIndex { student: &st.key }.path(),
                scope.clone(),
                school,
                "week.html",
                &view,
            )?;
            let mut jobs = Vec::new();
            for w in 0..ix.weeks.len() {
                let mut view = ix.week(st, w, false);
                if let Some(k) = printed.iter().position(|&p| p == w) {
                    view.printouts = vec![links[k].clone()];
                    let path = Page::Printout {
                        student: &st.key,
                        week: &view.week,
                    }
                    .path();
                    let doc = documents::printout(ix, st, &view, &path);
                    jobs.push(DocJob::new(
                        path,
                        scope.clone(),
                        &ts.version,
                        "printout.typ",
                        doc,
                    ));
                }
                e.page(
                    &Page::Week {
                        student: &st.key,
                        week: &view.week,
                    }
                    .path(),
                    scope.clone(),
                    school,
                    "week.html",
                    &view,
                )?;
            }
            e.page(
                &Page::Marks { student: &st.key }.path(),
                scope,
                school,
                "marks.html",
                &ix.marks(st),
            )?;
            Ok((class.id, jobs))
        })
        .collect::<Result<_>>()?;
    // Classes: statements of finished periods, then the class page.
    let latest: Vec<(i64, Option<StatementView>, Vec<DocJob>)> = s
        .classes
        .par_iter()
        .map(|c| -> Result<(i64, Option<StatementView>, Vec<DocJob>)> {
            let scope = Scope::Class(c.key.clone());
            let periods = ix.finished_periods(c);
            let statements: Vec<StatementView> =
                periods.iter().map(|p| ix.statement(c, p)).collect();
            let mut jobs = Vec::new();
            for (st, p) in statements.iter().zip(&periods) {
                let period = views::statement::period_slug(p);
                let page = StatementPage {
                    frame: &st.frame,
                    st,
                };
                e.page(
                    &Page::Statement {
                        class: &c.key,
                        period: &period,
                        pdf: false,
                    }
                    .path(),
                    scope.clone(),
                    school,
                    "statement.html",
                    &page,
                )?;
                let path = Page::Statement {
                    class: &c.key,
                    period: &period,
                    pdf: true,
                }
                .path();
                let doc = documents::statement(ix, c, p, st, &path);
                jobs.push(DocJob::new(
                    path,
                    scope.clone(),
                    &ts.version,
                    "statement.typ",
                    doc,
                ));
            }
            let page = ix.class_page(c, &statements);
            e.page(
                &Page::ClassIndex { class: &c.key }.path(),
                scope,
                school,
                "class.html",
                &page,
            )?;
            Ok((c.id, page.latest, jobs))
        })
        .collect::<Result<_>>()?;
    // The documents, typeset a class at a time.
    let lang = ix.t.lang;
    let mut by_class: HashMap<i64, Vec<DocJob>> = HashMap::new();
    for (class, jobs) in printouts {
        by_class.entry(class).or_default().extend(jobs);
    }
    let mut groups: Vec<(i64, Vec<DocJob>)> = by_class.into_iter().collect();
    groups.sort_by_key(|(id, _)| *id);
    e.documents(
        "printouts",
        groups.into_iter().map(|(_, jobs)| jobs).collect(),
        school,
        |docs| ts.typeset("printout.typ", lang, docs),
    )?;
    let mut statements = Vec::new();
    let mut latest_by_class = HashMap::new();
    for (id, latest, jobs) in latest {
        statements.push(jobs);
        if let Some(st) = latest {
            latest_by_class.insert(id, st);
        }
    }
    e.documents("statements", statements, school, |docs| {
        ts.typeset("statement.typ", lang, docs)
    })?;
    let latest = latest_by_class;
    let scope = Scope::School(school.to_owned());
    if single {
        e.page(
            &Page::School { slug: None }.path(),
            scope,
            school,
            "school.html",
            &ix.school_page(&latest, "../"),
        )
    } else {
        let slug = paths::school_slug(&s.school.external_id, s.school.id);
        let path = Page::School { slug: Some(&slug) }.path();
        e.page(
            &path,
            scope,
            school,
            "school.html",
            &ix.school_page(&latest, "../../"),
        )
    }
}

/// Runs the nightly build and publishes the result under `output`.
pub async fn run(db: &Database, output: &Path, opts: &Options) -> Result<Summary> {
    let started = Instant::now();
    let out = Output::new(output)?;
    let leftovers = out.clean_leftovers()?;
    if leftovers > 0 {
        tracing::warn!(leftovers, "removed unfinished releases of earlier builds");
    }
    // Releases that will be beyond `keep` once this one is published are
    // removed meanwhile, on their own thread: unlinking tens of thousands
    // of files is I/O the rendering need not wait for.
    let early_prune = {
        let (out, keep) = (out.clone(), opts.keep.saturating_sub(1).max(1));
        std::thread::spawn(move || out.prune(keep))
    };
    let join_prune = move || -> Result<Vec<String>> {
        early_prune
            .join()
            .map_err(|_| anyhow::anyhow!("removing old releases panicked"))?
    };
    let templates = Templates::new(opts.templates.as_deref())?;
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let live_full = out.live()?;
    let live = if opts.full { None } else { live_full.clone() };
    let schools = gradebook::list_schools(db).await?;
    if schools.is_empty() {
        bail!("the database holds no school; run `tabel import` or `tabel demo` first");
    }
    let selected: Vec<_> = match &opts.school {
        Some(want) => {
            let found: Vec<_> = schools
                .iter()
                .filter(|s| &s.external_id == want || s.id.to_string() == *want)
                .cloned()
                .collect();
            if found.is_empty() {
                bail!(
                    "there is no school {want:?} (schools: {})",
                    list_names(&schools)
                );
            }
            found
        }
        None => schools.clone(),
    };
    let single = schools.len() == 1;
    let (id, tmp) = out.start(chrono::Utc::now())?;
    let result = build_into(
        db,
        &out,
        &tmp,
        (&templates, &typesetter),
        live.as_ref(),
        live_full.as_ref(),
        &selected,
        opts,
        single,
    )
    .await;
    let (mut summary, manifest) = match result {
        Ok(r) => r,
        Err(err) => {
            let _ = std::fs::remove_dir_all(&tmp);
            let _ = join_prune();
            return Err(err);
        }
    };
    let t = Instant::now();
    summary.pruned = join_prune()?;
    summary.release = out.publish(&id, &tmp, &manifest)?;
    summary.pruned.extend(out.prune(opts.keep)?);
    summary.steps.push(("publish", t.elapsed()));
    summary.steps.push(("total", started.elapsed()));
    Ok(summary)
}

fn list_names(schools: &[gradebook::SchoolRef]) -> String {
    let names: Vec<_> = schools
        .iter()
        .take(10)
        .map(|s| s.external_id.as_str())
        .collect();
    names.join(", ")
}

#[allow(clippy::too_many_arguments)]
async fn build_into(
    db: &Database,
    _out: &Output,
    tmp: &Path,
    (templates, typesetter): (&Templates, &Typesetter),
    live: Option<&release::Live>,
    live_full: Option<&release::Live>,
    selected: &[gradebook::SchoolRef],
    opts: &Options,
    single: bool,
) -> Result<(Summary, Manifest)> {
    let mut summary = Summary::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .context("cannot start the worker threads")?;
    let progress = opts.progress.then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} pages {per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let emitter = Emitter {
        tmp,
        prev: live.map(|l| l.dir.as_path()),
        prev_files: Default::default(),
        full: opts.full,
        templates,
        entries: Mutex::new(Vec::new()),
        rendered: Mutex::new(Vec::new()),
        carried: AtomicUsize::new(0),
        bytes: AtomicU64::new(0),
        nanos_render: AtomicU64::new(0),
        nanos_compress: AtomicU64::new(0),
        nanos_write: AtomicU64::new(0),
        nanos_typeset: AtomicU64::new(0),
        typeset: AtomicUsize::new(0),
        kinds: Mutex::new(Vec::new()),
        progress,
    };
    // The stylesheet takes the slow, small compression: it is cached for long.
    let css_hash = &sha256_hex(STYLESHEET.as_bytes())[..12];
    let css = Page::Stylesheet { hash: css_hash }.path();
    emitter.file(
        &css,
        Scope::Public,
        "",
        css_hash,
        STYLESHEET.as_bytes(),
        ASSET_LEVELS,
    )?;
    emitter.file(
        &Page::Robots.path(),
        Scope::Public,
        "",
        "",
        include_bytes!("../../site/robots.txt"),
        ASSET_LEVELS,
    )?;
    let mut shared = emitter.take_entries()?;
    let mut parts = Vec::new();
    let mut snapshots = Vec::new();
    let (mut t_load, mut t_plan) = (Duration::ZERO, Duration::ZERO);
    for school in selected {
        let t = Instant::now();
        let snapshot = gradebook::load(db, school.id, YearChoice::On(opts.date))
            .await
            .with_context(|| format!("cannot load school {}", school.external_id))?;
        t_load += t.elapsed();
        let t = Instant::now();
        snapshots.push(format!(
            "{}:{}",
            snapshot.school.external_id,
            &snapshot.digest()[..16]
        ));
        if let Some(p) = &emitter.progress {
            p.set_message(snapshot.school.short_name.clone());
            let pages = snapshot.students.len() * (Index::weeks_of(&snapshot, opts.date) + 2)
                + snapshot.classes.len() * 3;
            p.inc_length(pages as u64);
        }
        let ix = Index::new(&snapshot, opts.language, opts.date, &css);
        if let Some(l) = live {
            emitter.set_prev(l.entries_of(&school.external_id)?)?;
        }
        t_plan += t.elapsed();
        // The rendering is CPU work on the worker pool; this batch job has
        // nothing else for the async runtime to do meanwhile.
        pool.install(|| emit_school(&emitter, &ix, typesetter, opts.print_weeks, single))?;
        // The school's list of files goes to disk now: a city's never
        // accumulates in memory.
        parts.push(release::write_part(
            tmp,
            &school.external_id,
            &paths::school_slug(&snapshot.school.external_id, snapshot.school.id),
            emitter.take_entries()?,
        )?);
        tracing::info!(school = %snapshot.school.external_id, "school rendered");
    }
    // Schools not rebuilt this time keep their files.
    if opts.school.is_some()
        && let Some(l) = live_full
    {
        let rebuilt: Vec<&str> = selected.iter().map(|s| s.external_id.as_str()).collect();
        for e in &l.manifest.files {
            if !e.school.is_empty() && !rebuilt.contains(&e.school.as_str()) {
                release::carry(&l.dir, tmp, &e.path)?;
                shared.push(e.clone());
            }
        }
        for part in &l.manifest.schools {
            if !rebuilt.contains(&part.school.as_str()) {
                for e in release::read_part(&l.dir, part)? {
                    release::carry(&l.dir, tmp, &e.path)?;
                }
                release::carry(&l.dir, tmp, &part.manifest)?;
                parts.push(part.clone());
            }
        }
        snapshots.extend(
            l.manifest
                .snapshots
                .iter()
                .filter(|s| !rebuilt.iter().any(|r| s.starts_with(&format!("{r}:"))))
                .cloned(),
        );
    }
    // The home page and the 404 page.
    emitter.set_prev(match live {
        Some(l) => l.entries_of("")?,
        None => HashMap::new(),
    })?;
    let t = crate::i18n::labels(opts.language);
    let frame = views::Frame {
        t,
        root: "",
        title: t.home_title.to_owned(),
        school: String::new(),
        as_of: String::new(),
        css: css.clone(),
    };
    emitter.page(
        &Page::Home.path(),
        Scope::Public,
        "",
        "home.html",
        &serde_json::json!({ "frame": frame }),
    )?;
    emitter.page(
        &Page::NotFound.path(),
        Scope::Public,
        "",
        "404.html",
        &serde_json::json!({ "frame": frame }),
    )?;
    if let Some(p) = &emitter.progress {
        p.finish_and_clear();
    }
    shared.extend(emitter.take_entries()?);
    let mut files = shared;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    parts.sort_by(|a, b| a.school.cmp(&b.school));
    snapshots.sort();
    let mut rendered_paths = emitter
        .rendered
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    rendered_paths.sort();
    summary.rendered = rendered_paths.len();
    summary.rendered_paths = rendered_paths;
    summary.carried = emitter.carried.load(Ordering::Relaxed);
    summary.typeset = emitter.typeset.load(Ordering::Relaxed);
    summary.documents = emitter
        .kinds
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    summary.bytes = emitter.bytes.load(Ordering::Relaxed);
    summary.files = files.len() + parts.iter().map(|p| p.files).sum::<usize>();
    summary.steps = vec![
        ("load", t_load),
        ("plan", t_plan),
        (
            "render (thread time)",
            Duration::from_nanos(emitter.nanos_render.load(Ordering::Relaxed)),
        ),
        (
            "compress (thread time)",
            Duration::from_nanos(emitter.nanos_compress.load(Ordering::Relaxed)),
        ),
        (
            "write (thread time)",
            Duration::from_nanos(emitter.nanos_write.load(Ordering::Relaxed)),
        ),
        (
            "typeset (thread time)",
            Duration::from_nanos(emitter.nanos_typeset.load(Ordering::Relaxed)),
        ),
    ];
    let manifest = Manifest {
        format: release::FORMAT,
        date: opts.date.to_string(),
        snapshots,
        files,
        schools: parts,
    };
    Ok((summary, manifest))
}
