//! `tabel build`: the nightly job. A flat list of timed steps — load, plan,
//! render (with compress and write), publish — over one school at a time,
//! so a city never sits in memory whole.

mod emit;
pub mod release;
mod school;
pub mod store;
pub mod watch;
pub mod workers;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::accounts::access::Scope;
use crate::db::Database;
use crate::gradebook::{self, Date, Snapshot, YearChoice};
use crate::i18n::Language;
use crate::render::html::{STYLESHEET, Templates};
use crate::render::pdf::Typesetter;
use crate::views::paths::{self, Page};
use crate::views::{self, Index};
use emit::{ASSET_QUALITY, Emitter, sha256_hex};
use release::{Entry, Manifest};
use store::{Base, ReleaseStore, ReleaseWriter};

/// What to build.
#[derive(Debug, Clone)]
pub struct Options {
    /// Build only these schools (external id or id); the others are
    /// carried over. Empty: every school.
    pub schools: Vec<String>,
    /// The day the pages show as today.
    pub date: Date,
    /// Render everything, ignoring the previous release.
    pub full: bool,
    /// Worker threads (default: [`THREADS_PER_CORE`] per core).
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
    /// Build every keyed page and group even when its key matches, and
    /// fail if one carried by its key would have come out different
    /// (ARCHITECTURE.md, "What a night costs"). On in debug builds, so
    /// every test checks the keys; off, a matching key carries the page
    /// without building it.
    pub check_keys: bool,
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
    /// Bytes written: files and schools' manifests.
    pub bytes: u64,
    /// Files in the release.
    pub files: usize,
    /// Wall time of each step, and thread time of render/compress/write.
    pub steps: Vec<(&'static str, Duration)>,
    /// Paths of the pages rendered (not carried), sorted.
    pub rendered_paths: Vec<String>,
    /// Old releases removed.
    pub pruned: Vec<String>,
    /// Objects and bytes sent to the store, when it is a bucket.
    pub uploaded: Option<(u64, u64)>,
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
        if let Some((objects, bytes)) = self.uploaded {
            writeln!(
                f,
                "  store: {objects} objects, {bytes} bytes uploaded ({:.1} MB)",
                bytes as f64 / 1e6
            )?;
        }
        if !self.pruned.is_empty() {
            writeln!(f, "  pruned {} old release(s)", self.pruned.len())?;
        }
        Ok(())
    }
}

/// Which weeks get a printout. Only weeks that are over: a running week's
/// printout would change every school day and be typeset every night; once
/// the week is over its printout is typeset once, the night after, and
/// carried from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PrintWeeks {
    /// The two latest weeks that are over.
    #[default]
    #[value(alias = "current")]
    Recent,
    /// Every week of the year that is over.
    All,
    /// None: no weekly printouts (the pages and statements only).
    None,
}

impl PrintWeeks {
    /// Indices of the printed weeks among `ix.weeks`, newest first: weeks
    /// whose Sunday is before the build's day.
    pub fn weeks(self, ix: &Index<'_>) -> Vec<usize> {
        let over = ix
            .weeks
            .iter()
            .rposition(|(_, monday)| Date(monday.0 + chrono::Duration::days(6)) < ix.today)
            .map_or(0, |last| last + 1);
        let over = (0..over).rev();
        match self {
            PrintWeeks::Recent => over.take(2).collect(),
            PrintWeeks::All => over.collect(),
            PrintWeeks::None => Vec::new(),
        }
    }
}

/// Runs the nightly build and publishes the result under `output` (a folder).
pub async fn run(db: &Database, output: &Path, opts: &Options) -> Result<Summary> {
    run_in(db, Arc::new(store::LocalStore::new(output)?), opts).await
}

/// Runs the nightly build and publishes the result in `store`.
pub async fn run_in(
    db: &Database,
    store: Arc<dyn ReleaseStore>,
    opts: &Options,
) -> Result<Summary> {
    let started = Instant::now();
    let leftovers = store.clean_leftovers()?;
    if leftovers > 0 {
        tracing::warn!(leftovers, "removed unfinished releases of earlier builds");
    }
    let templates = Templates::new(opts.templates.as_deref())?;
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let live_full = store.live()?;
    let live = if opts.full { None } else { live_full.clone() };
    let schools = gradebook::list_schools(db).await?;
    if schools.is_empty() {
        bail!("the database holds no school; run `tabel import` or `tabel demo` first");
    }
    let selected: Vec<_> = if opts.schools.is_empty() {
        schools.clone()
    } else {
        for want in &opts.schools {
            if !schools
                .iter()
                .any(|s| &s.external_id == want || s.id.to_string() == *want)
            {
                bail!(
                    "there is no school {want:?} (schools: {})",
                    list_names(&schools)
                );
            }
        }
        schools
            .iter()
            .filter(|s| {
                opts.schools
                    .iter()
                    .any(|want| &s.external_id == want || s.id.to_string() == *want)
            })
            .cloned()
            .collect()
    };
    if opts.schools.is_empty() {
        // Every school will be read: bring the file in whole, once.
        db.read_ahead();
    }
    let single = schools.len() == 1;
    let writer = store.start(live_full.as_ref())?;
    // Releases that will be beyond `keep` once this one is published are
    // removed meanwhile, on their own thread: unlinking tens of thousands
    // of files is I/O the rendering need not wait for. (The new release
    // was started first: a store spares what a running build starts from.)
    let early_prune = {
        let (store, keep) = (store.clone(), opts.keep.saturating_sub(1).max(1));
        std::thread::spawn(move || store.prune(keep))
    };
    let join_prune = move || -> Result<Vec<String>> {
        early_prune
            .join()
            .map_err(|_| anyhow::anyhow!("removing old releases panicked"))?
    };
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
    let emitter = Emitter::new(
        writer.as_ref(),
        live.is_some(),
        opts.full,
        opts.check_keys,
        &templates,
        progress,
    );
    let run = Run {
        db,
        opts,
        store: store.as_ref(),
        writer: writer.as_ref(),
        typesetter: &typesetter,
        live: live.as_ref(),
        live_full: live_full.as_ref(),
        single,
    };
    let result = run.render(&emitter, &selected).await;
    drop(emitter);
    let (mut summary, manifest) = match result {
        Ok(r) => r,
        Err(err) => {
            writer.abandon();
            let _ = join_prune();
            return Err(err);
        }
    };
    let t = Instant::now();
    let published = writer.flush().and_then(|()| {
        summary.uploaded = writer.uploaded();
        writer.publish(&manifest)
    });
    // Live first; the old releases' removal finishes after.
    let pruned = join_prune();
    summary.release =
        published.with_context(|| format!("cannot publish into {}", store.location()))?;
    let early_failed = pruned.is_err();
    summary.pruned = pruned.unwrap_or_else(|err| {
        tracing::warn!("the new release is live, but removing old ones failed: {err:#}");
        Vec::new()
    });
    // The early removal kept `keep - 1` and the release started from; with
    // the new one that is `keep`. Only with `keep = 1` (the old live
    // release goes now) or after a failure is there more to remove: a
    // store of objects would otherwise read every kept manifest and list
    // every object again for nothing.
    if opts.keep < 2 || early_failed {
        summary.pruned.extend(store.prune(opts.keep)?);
    }
    summary.steps.push(("publish", t.elapsed()));
    summary.steps.push(("total", started.elapsed()));
    Ok(summary)
}

/// Worker threads per core when `--jobs` is not given. A night carries far
/// more files than it renders, each a hard link whose source folder in the
/// previous release is seldom in the page cache: a thread waits on the disk
/// there, and with one thread per core a core waits with it. Three per core
/// keep the cores busy (docs/benchmarks.md, "Threads that wait on the
/// disk"); typesetting, which needs memory rather than waits, still runs
/// one document batch per core ([`Emitter::documents`]).
pub const THREADS_PER_CORE: usize = 3;

/// The build's worker pool: `jobs` threads, or [`THREADS_PER_CORE`] per core.
fn worker_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or_else(|| cores() * THREADS_PER_CORE))
        .build()
        .context("cannot start the worker threads")
}

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The stylesheet's path in a release (its name holds its hash).
fn stylesheet_path() -> String {
    Page::Stylesheet {
        hash: &sha256_hex(STYLESHEET.as_bytes())[..12],
    }
    .path()
}

fn list_names(schools: &[gradebook::SchoolRef]) -> String {
    let names: Vec<_> = schools
        .iter()
        .take(10)
        .map(|s| s.external_id.as_str())
        .collect();
    names.join(", ")
}

/// Loads the current year of `school` as of `date`; returns it with the
/// time the read took.
async fn load_school(
    db: &Database,
    school: &gradebook::SchoolRef,
    date: Date,
) -> Result<(Snapshot, Duration)> {
    let t = Instant::now();
    let snapshot = gradebook::load(db, school.id, YearChoice::On(date))
        .await
        .with_context(|| format!("cannot load school {}", school.external_id))?;
    Ok((snapshot, t.elapsed()))
}

/// A school being loaded on the async runtime while the build renders
/// another. Dropped unfinished (the build failed), the read is abandoned.
struct Prefetch(tokio::task::JoinHandle<Result<(Snapshot, Duration)>>);

impl Prefetch {
    fn start(db: &Database, school: &gradebook::SchoolRef, date: Date) -> Prefetch {
        let (db, school) = (db.clone(), school.clone());
        Prefetch(tokio::spawn(async move {
            load_school(&db, &school, date).await
        }))
    }

    async fn wait(mut self, school: &gradebook::SchoolRef) -> Result<(Snapshot, Duration)> {
        (&mut self.0)
            .await
            .with_context(|| format!("loading school {} stopped", school.external_id))?
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One build: where it writes, what it reads, and the release it starts
/// from. Its steps are the methods below, in the order `render` runs them.
struct Run<'a> {
    db: &'a Database,
    opts: &'a Options,
    /// Where releases are kept.
    store: &'a dyn ReleaseStore,
    /// The new release, until it is published.
    writer: &'a dyn ReleaseWriter,
    typesetter: &'a Typesetter,
    /// The live release to carry unchanged files from (none with `--full`).
    live: Option<&'a Base>,
    /// The live release whatever `--full` says: the schools not rebuilt
    /// (`--school`) keep its files.
    live_full: Option<&'a Base>,
    /// The database holds one school: its overview is `school/index.html`.
    single: bool,
}

/// What the steps gather for the manifest.
#[derive(Default)]
struct Gathered {
    /// Files shared by every school, and those of schools not rebuilt.
    shared: Vec<Entry>,
    /// Each school's part.
    parts: Vec<release::Part>,
    /// `school:digest` of each school's data snapshot.
    snapshots: Vec<String>,
    load: Duration,
    plan: Duration,
}

/// Work of the schools before and after the one rendering, done on the
/// worker pool beside its pages (ARCHITECTURE.md, "The nightly flow"): a
/// school's own steps — reading its files in the previous release, writing
/// its manifest — use a core or less, and between two schools' pages the
/// other core would wait for them.
#[derive(Default)]
struct Overlap {
    /// The files of the school rendered last, for its manifest: external
    /// id, slug, files.
    part: Option<(String, String, Vec<Entry>)>,
    /// The next school's files in the previous release: its external id
    /// and the files, read while the school before it rendered.
    prev: Option<(String, Result<HashMap<String, Entry>>)>,
}

impl Overlap {
    /// Writes the manifest of the school rendered last, if not yet written.
    fn write_part(
        part: Option<(String, String, Vec<Entry>)>,
        writer: &dyn ReleaseWriter,
    ) -> Result<Option<(release::Part, u64)>> {
        part.map(|(school, slug, files)| writer.write_part(&school, &slug, files))
            .transpose()
    }

    /// Writes the manifest of the school rendered last now, if not yet
    /// written (after the last school, or when a school's manifest is
    /// wanted at once).
    fn write_pending(
        &mut self,
        writer: &dyn ReleaseWriter,
        emitter: &Emitter<'_>,
        gathered: &mut Gathered,
    ) -> Result<()> {
        let written = Self::write_part(self.part.take(), writer)?;
        Self::wrote(written, emitter, gathered);
        Ok(())
    }

    /// Records a manifest [`Overlap::write_part`] wrote.
    fn wrote(
        written: Option<(release::Part, u64)>,
        emitter: &Emitter<'_>,
        gathered: &mut Gathered,
    ) {
        if let Some((part, size)) = written {
            emitter.wrote(size);
            gathered.parts.push(part);
        }
    }
}

impl Run<'_> {
    /// Renders every selected school into the new release and returns what
    /// was done and the release's manifest.
    async fn render(
        &self,
        emitter: &Emitter<'_>,
        selected: &[gradebook::SchoolRef],
    ) -> Result<(Summary, Manifest)> {
        let pool = worker_pool(self.opts.jobs)?;
        let css = self.assets(emitter)?;
        let mut gathered = Gathered {
            shared: emitter.take_entries()?,
            ..Gathered::default()
        };
        // While one school renders, the next one is read (ARCHITECTURE.md,
        // "The nightly flow"): reading is mostly one thread, rendering
        // keeps the worker pool busy, and a city has many schools.
        let mut next = selected
            .first()
            .map(|s| Prefetch::start(self.db, s, self.opts.date));
        let mut overlap = Overlap::default();
        for (i, school) in selected.iter().enumerate() {
            let loaded = match next.take() {
                Some(p) => p.wait(school).await?,
                None => load_school(self.db, school, self.opts.date).await?,
            };
            next = selected
                .get(i + 1)
                .map(|s| Prefetch::start(self.db, s, self.opts.date));
            let after = selected.get(i + 1).map(|s| s.external_id.as_str());
            self.school(
                emitter,
                &pool,
                school,
                loaded,
                &css,
                &mut gathered,
                (&mut overlap, after),
            )
            .await?;
        }
        overlap.write_pending(self.writer, emitter, &mut gathered)?;
        if !self.opts.schools.is_empty() {
            self.carry_other_schools(selected, &mut gathered)?;
        }
        self.public_pages(emitter, &css)?;
        if let Some(p) = &emitter.progress {
            p.finish_and_clear();
        }
        gathered.shared.extend(emitter.take_entries()?);
        self.finish(emitter, gathered)
    }

    /// The stylesheet and robots.txt; returns the stylesheet's path. The
    /// stylesheet takes the slow, small compression: it is cached for long.
    fn assets(&self, emitter: &Emitter<'_>) -> Result<String> {
        let css_hash = &sha256_hex(STYLESHEET.as_bytes())[..12];
        let css = stylesheet_path();
        emitter.file(
            &css,
            Scope::Public,
            "",
            (css_hash, ""),
            STYLESHEET.as_bytes(),
            Some(ASSET_QUALITY),
        )?;
        emitter.file(
            &Page::Robots.path(),
            Scope::Public,
            "",
            ("", ""),
            include_bytes!("../../site/robots.txt"),
            Some(ASSET_QUALITY),
        )?;
        Ok(css)
    }

    /// Renders one loaded school (and its earlier years, which it loads) on
    /// the worker pool. Its list of files is written beside the next
    /// school's pages (or by [`Overlap::write_pending`]): one school's list
    /// is held at a time, and a city's never accumulates in memory.
    ///
    /// `overlap` carries the work done beside the school's pages (see
    /// [`Overlap`]); `after` is the school rendered next, if any.
    #[allow(clippy::too_many_arguments)]
    async fn school(
        &self,
        emitter: &Emitter<'_>,
        pool: &rayon::ThreadPool,
        school: &gradebook::SchoolRef,
        (snapshot, loading): (Snapshot, Duration),
        css: &str,
        gathered: &mut Gathered,
        (overlap, after): (&mut Overlap, Option<&str>),
    ) -> Result<()> {
        let opts = self.opts;
        gathered.load += loading;
        let t = Instant::now();
        // The index with the pages' keys, and the previous release's list
        // of the school's files (unless read while the school before
        // rendered), side by side.
        let read = overlap
            .prev
            .take()
            .filter(|(id, _)| *id == school.external_id)
            .map(|(_, files)| files);
        let ((ix, keys), prev) = pool.install(|| {
            rayon::join(
                || {
                    let ix = Index::new(&snapshot, opts.language, opts.date, css);
                    let keys = ix.keys();
                    (ix, keys)
                },
                || match read {
                    Some(files) => Some(files),
                    None => self
                        .live
                        .map(|l| store::entries_of(self.store, l, &school.external_id)),
                },
            )
        });
        if let Some(p) = &emitter.progress {
            p.set_message(snapshot.school.short_name.clone());
            let pages = snapshot.students.len() * (Index::weeks_of(&snapshot, opts.date) + 2)
                + snapshot.classes.len() * 3;
            p.inc_length(pages as u64);
        }
        if let Some(prev) = prev {
            emitter.set_prev(prev?)?;
        }
        gathered.plan += t.elapsed();
        // Earlier school years first, newest first: the current year's
        // pages link to them. One year's snapshot is held at a time
        // beside the current one.
        let current: HashSet<i64> = snapshot
            .students
            .iter()
            .filter(|st| ix.class_of(st).is_some())
            .map(|st| st.id)
            .collect();
        let mut earlier = school::Earlier::default();
        let years = gradebook::school_years(self.db, school.id).await?;
        for year in years
            .iter()
            .rev()
            .filter(|y| y.ends_on < snapshot.year.starts_on)
        {
            let t = Instant::now();
            let past = gradebook::load(self.db, school.id, YearChoice::Id(year.id))
                .await
                .with_context(|| {
                    format!(
                        "cannot load {} of school {}",
                        year.title, school.external_id
                    )
                })?;
            gathered.load += t.elapsed();
            gathered.snapshots.push(format!(
                "{}:{}:{}",
                past.school.external_id,
                year.folder(),
                &past.digest()[..16]
            ));
            let mut pix = Index::new(&past, opts.language, opts.date, css);
            pix.earlier = Some(year.folder());
            pool.install(|| {
                school::emit_earlier_year(
                    emitter,
                    &pix,
                    self.typesetter,
                    self.single,
                    &current,
                    &mut earlier,
                )
            })?;
        }
        // The rendering is CPU work on the worker pool; this batch job has
        // nothing else for the async runtime to do meanwhile. Beside it: the
        // snapshot's digest, the manifest of the school before, and the
        // next school's files in the previous release.
        let before = overlap.part.take();
        let (emitted, (digest, (written, read_next))) = pool.install(|| {
            rayon::join(
                || {
                    school::emit_school(
                        emitter,
                        &ix,
                        self.typesetter,
                        opts.print_weeks,
                        self.single,
                        &earlier,
                        &keys,
                    )
                },
                || {
                    rayon::join(
                        || snapshot.digest(),
                        || {
                            rayon::join(
                                || Overlap::write_part(before, self.writer),
                                || {
                                    let (Some(next), Some(live)) = (after, self.live) else {
                                        return None;
                                    };
                                    let files = store::entries_of(self.store, live, next);
                                    if let Ok(files) = &files {
                                        self.store
                                            .read_ahead(live, files.keys().cloned().collect());
                                    }
                                    Some((next.to_owned(), files))
                                },
                            )
                        },
                    )
                },
            )
        });
        emitted?;
        Overlap::wrote(written?, emitter, gathered);
        overlap.prev = read_next;
        gathered
            .snapshots
            .push(format!("{}:{}", snapshot.school.external_id, &digest[..16]));
        overlap.part = Some((
            school.external_id.clone(),
            paths::school_slug(&snapshot.school.external_id, snapshot.school.id),
            emitter.take_entries()?,
        ));
        tracing::info!(school = %snapshot.school.external_id, "school rendered");
        Ok(())
    }

    /// With `--school`: the schools not rebuilt keep their files.
    fn carry_other_schools(
        &self,
        selected: &[gradebook::SchoolRef],
        gathered: &mut Gathered,
    ) -> Result<()> {
        let Some(l) = self.live_full else {
            return Ok(());
        };
        let rebuilt: Vec<&str> = selected.iter().map(|s| s.external_id.as_str()).collect();
        for e in &l.manifest.files {
            if !e.school.is_empty() && !rebuilt.contains(&e.school.as_str()) {
                self.writer.carry(e)?;
                gathered.shared.push(e.clone());
            }
        }
        for part in &l.manifest.schools {
            if !rebuilt.contains(&part.school.as_str()) {
                for e in self.store.read_part(l, part)? {
                    self.writer.carry(&e)?;
                }
                self.writer.carry_part(part)?;
                gathered.parts.push(part.clone());
            }
        }
        gathered.snapshots.extend(
            l.manifest
                .snapshots
                .iter()
                .filter(|s| !rebuilt.iter().any(|r| s.starts_with(&format!("{r}:"))))
                .cloned(),
        );
        Ok(())
    }

    /// The home page and the 404 page.
    fn public_pages(&self, emitter: &Emitter<'_>, css: &str) -> Result<()> {
        emitter.set_prev(match self.live {
            Some(l) => store::entries_of(self.store, l, "")?,
            None => HashMap::new(),
        })?;
        let t = crate::i18n::labels(self.opts.language);
        let frame = views::Frame {
            t,
            root: "",
            title: t.home_title.to_owned(),
            school: String::new(),
            updated: String::new(),
            css: css.to_owned(),
        };
        for (page, template) in [(Page::Home, "home.html"), (Page::NotFound, "404.html")] {
            emitter.page(
                &page.path(),
                Scope::Public,
                "",
                template,
                &FrameOnly { frame: &frame },
            )?;
        }
        Ok(())
    }

    /// The manifest of the new release, and the summary of the build.
    fn finish(&self, emitter: &Emitter<'_>, gathered: Gathered) -> Result<(Summary, Manifest)> {
        let Gathered {
            shared: mut files,
            mut parts,
            mut snapshots,
            load,
            plan,
        } = gathered;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        parts.sort_by(|a, b| a.school.cmp(&b.school));
        snapshots.sort();
        let mut summary = emitter.summary()?;
        summary.files = files.len() + parts.iter().map(|p| p.files).sum::<usize>();
        summary.steps.splice(0..0, [("load", load), ("plan", plan)]);
        let manifest = Manifest {
            format: release::FORMAT,
            date: self.opts.date.to_string(),
            snapshots,
            files,
            schools: parts,
        };
        Ok((summary, manifest))
    }
}

/// The view of a page that shows nothing but its frame (the home page,
/// the page for a missing file). A struct, not JSON: the frame's words are
/// only whole when serialized for a template ([`crate::i18n::serialize_words`]).
#[derive(serde::Serialize)]
struct FrameOnly<'a> {
    frame: &'a views::Frame,
}
