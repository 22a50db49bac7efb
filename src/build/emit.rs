//! Writing a release's files: each page rendered, compressed and written,
//! or carried over from the previous release when its inputs did not
//! change; documents typeset a batch at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Summary;
use super::release::{Entry, brotli};
use super::store::ReleaseWriter;
use crate::accounts::access::Scope;
use crate::render::html::Templates;
use crate::render::pdf::Doc;

/// Compression of pages: brotli 4. On a school day's start and marks
/// pages (14.5 KB on average) it takes 0.14 ms a page against 0.20 ms at 5
/// and makes them 11 % larger (2.5 KB against 2.26 KB): some 250 bytes
/// more a page on a phone, for a third less of a night's largest cost
/// (docs/benchmarks.md, "The allocator and the school's read").
pub(super) const PAGE_QUALITY: u32 = 4;
/// The few long-cached assets take the slow, small setting.
pub(super) const ASSET_QUALITY: u32 = 11;
/// Data files for the gate (`news.json`) are never sent to a browser, and
/// every student's changes every school day: the fastest setting, 4 times
/// faster than pages' and a third larger on them.
pub(super) const DATA_QUALITY: u32 = 1;

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// True for files stored compressed, as `<path>.br` only (ARCHITECTURE.md,
/// "Stored forms").
fn compressible(path: &str) -> bool {
    [".html", ".css", ".svg", ".json", ".txt"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The previous release's entry of the file at `path`: a text file's
/// `.br` (the one form a build stores it in, ARCHITECTURE.md "Stored
/// forms"), else the file as it is. A release written before text was
/// stored as `.br` alone also holds the plain and `.gz` forms of a page;
/// they are left behind. Scope, input and key are the file's in every form.
fn page_entry<'m>(map: &'m HashMap<String, Entry>, path: &str) -> Option<&'m Entry> {
    if compressible(path)
        && let Some(e) = map.get(format!("{path}.br").as_str())
    {
        return Some(e);
    }
    map.get(path)
}

/// Writes pages into the new release, or carries unchanged ones over.
pub(super) struct Emitter<'a> {
    /// Where the new release's files go.
    sink: &'a dyn ReleaseWriter,
    /// Whether there is a previous release; its files of the school being built.
    prev: bool,
    prev_files: std::sync::RwLock<HashMap<String, Entry>>,
    full: bool,
    /// Keyed pages and groups are built anyway and checked (`Options::check_keys`).
    check: bool,
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
    pub(super) progress: Option<indicatif::ProgressBar>,
}

/// A group of files being emitted while keys are checked, checked against its list.
struct Group {
    /// Its first file, which holds the group's key.
    first: String,
    /// True if its key matched the previous release's.
    unchanged: bool,
    /// The files it emitted so far.
    seen: Vec<String>,
}

thread_local! {
    /// The groups this thread is emitting, outermost first (keys checked).
    static GROUP: std::cell::RefCell<Vec<Group>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Documents (PDFs) of one class typeset per compile at most: a compile's
/// fixed cost is shared, and its memory stays small.
const DOCS_PER_COMPILE: usize = 32;

/// A document to emit: where it goes, who may read it, what it shows.
pub(super) struct DocJob {
    path: String,
    scope: Scope,
    input: String,
    doc: Doc,
}

impl DocJob {
    /// A job for `doc` at `path`; its input hash covers the templates and the data.
    pub(super) fn new(
        path: String,
        scope: Scope,
        version: &str,
        template: &str,
        doc: Doc,
    ) -> DocJob {
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

impl<'a> Emitter<'a> {
    /// An emitter writing into `sink`, carrying unchanged files over from
    /// the previous release (if `prev`) unless `full`.
    pub(super) fn new(
        sink: &'a dyn ReleaseWriter,
        prev: bool,
        full: bool,
        check: bool,
        templates: &'a Templates,
        progress: Option<indicatif::ProgressBar>,
    ) -> Emitter<'a> {
        Emitter {
            sink,
            prev,
            prev_files: Default::default(),
            full,
            check,
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
        }
    }

    /// What was rendered, carried, typeset and written so far, with the
    /// thread time of each kind of work.
    pub(super) fn summary(&self) -> Result<Summary> {
        let mut rendered_paths = self
            .rendered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        rendered_paths.sort();
        let nanos = |n: &AtomicU64| Duration::from_nanos(n.load(Ordering::Relaxed));
        Ok(Summary {
            rendered: rendered_paths.len(),
            rendered_paths,
            carried: self.carried.load(Ordering::Relaxed),
            typeset: self.typeset.load(Ordering::Relaxed),
            documents: self
                .kinds
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .clone(),
            bytes: self.bytes.load(Ordering::Relaxed),
            steps: vec![
                ("render (thread time)", nanos(&self.nanos_render)),
                ("compress (thread time)", nanos(&self.nanos_compress)),
                ("write (thread time)", nanos(&self.nanos_write)),
                ("typeset (thread time)", nanos(&self.nanos_typeset)),
            ],
            ..Summary::default()
        })
    }

    /// Counts `bytes` written beside the files (a school's manifest).
    pub(super) fn wrote(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The files emitted since the last call.
    pub(super) fn take_entries(&self) -> Result<Vec<Entry>> {
        let mut entries = self
            .entries
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(std::mem::take(&mut *entries))
    }

    /// Compares what follows with these files of the previous release.
    pub(super) fn set_prev(&self, files: HashMap<String, Entry>) -> Result<()> {
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
        self.carry_if(path, scope, |old| old.input == input, None)
    }

    /// Carries `path` over if its entry in the previous release is for the
    /// same readers and `same` says it is made from the same input; the
    /// carried entries take `key`, the page's key in this build, if given.
    fn carry_if(
        &self,
        path: &str,
        scope: &Scope,
        same: impl Fn(&Entry) -> bool,
        key: Option<&str>,
    ) -> Result<bool> {
        if let Some(p) = &self.progress {
            p.inc(1);
        }
        let map = self
            .prev_files
            .read()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        if !self.full
            && self.prev
            && let Some(old) = page_entry(&map, path)
            && old.scope == *scope
            && same(old)
        {
            self.sink.carry(old)?;
            let carried = match key {
                Some(key) => Entry {
                    key: key.to_owned(),
                    ..old.clone()
                },
                None => old.clone(),
            };
            self.entries
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .push(carried);
            self.carried.fetch_add(1, Ordering::Relaxed);
            drop(map);
            self.in_group(path, false)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The previous release's entry of `path`, if any.
    fn prev_entry(&self, path: &str) -> Result<Option<Entry>> {
        let map = self
            .prev_files
            .read()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        Ok(page_entry(&map, path).cloned())
    }

    /// Emits one page rendered from `view` with `template`.
    pub(super) fn page<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        template: &str,
        view: &V,
    ) -> Result<()> {
        self.render_page(path, scope, school, template, view, "", Instant::now())
    }

    /// Emits one page as [`Emitter::page`] does, recording `key` (a group's,
    /// see [`Emitter::carry_group`]) on it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn page_with_key<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        template: &str,
        key: &str,
        view: &V,
    ) -> Result<()> {
        self.render_page(path, scope, school, template, view, key, Instant::now())
    }

    /// The key a group of files is carried by: `key` (which fingerprints
    /// what the group is made from) with the templates' version.
    pub(super) fn group_key(&self, key: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.templates.version.as_bytes());
        h.update(key.as_bytes());
        data_encoding::HEXLOWER.encode(&h.finalize()[..16])
    }

    /// True if the previous release holds the group whose first file is
    /// `first` as made under `key` (from [`Emitter::group_key`]).
    fn group_matches(&self, first: &str, key: &str) -> Result<bool> {
        Ok(!self.full && self.prev && self.prev_entry(first)?.is_some_and(|e| e.key == key))
    }

    /// Carries a group of files — `files`, the first of which records the
    /// group's `key` — over from the previous release without building any
    /// of them, if it made them under the same key for the same readers;
    /// true if it did. With keys checked it never does: it builds the group and
    /// checks it came out the same (see [`Emitter::checking_group`]).
    pub(super) fn carry_group(&self, key: &str, files: &[(String, Scope)]) -> Result<bool> {
        let Some((first, _)) = files.first() else {
            return Ok(false);
        };
        if self.check || !self.group_matches(first, key)? {
            return Ok(false);
        }
        {
            let map = self
                .prev_files
                .read()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            if !files
                .iter()
                .all(|(p, s)| page_entry(&map, p).is_some_and(|e| e.scope == *s))
            {
                return Ok(false);
            }
        }
        for (path, scope) in files {
            self.carry_if(path, scope, |_| true, None)?;
        }
        Ok(true)
    }

    /// Runs `emit`, which emits the group of `files` (its key, `key`, on
    /// the first). With keys checked (every test) this checks what carrying relies on in
    /// [`Emitter::carry_group`]: that `emit` writes exactly `files` (its
    /// documents reported by [`Emitter::group_docs`]), and, when the key
    /// matched the previous release's, that none of them changed.
    pub(super) fn checking_group<T>(
        &self,
        key: &str,
        files: &[(String, Scope)],
        emit: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        if !self.check {
            return emit();
        }
        let first = files.first().map(|(p, _)| p.clone()).unwrap_or_default();
        let group = Group {
            unchanged: self.group_matches(&first, key)?,
            first,
            seen: Vec::new(),
        };
        GROUP.with(|g| g.borrow_mut().push(group));
        let result = emit();
        let group = GROUP.with(|g| g.borrow_mut().pop());
        let result = result?;
        if let Some(mut group) = group {
            let mut listed: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            listed.sort_unstable();
            group.seen.sort_unstable();
            if listed != group.seen {
                bail!(
                    "the group of {} lists {listed:?} but emits {:?}",
                    group.first,
                    group.seen
                );
            }
        }
        Ok(result)
    }

    /// Notes a file of the group being checked; fails if
    /// the group's key matched but the file changed.
    fn in_group(&self, path: &str, changed: bool) -> Result<()> {
        GROUP.with(|g| {
            for group in g.borrow_mut().iter_mut() {
                if group.unchanged && changed {
                    bail!(
                        "the key of {} matched, but {path} changed: the key misses an input",
                        group.first
                    );
                }
                group.seen.push(path.to_owned());
            }
            Ok(())
        })
    }

    /// Reports the documents of the group being checked.
    pub(super) fn group_docs(&self, jobs: &[DocJob]) -> Result<()> {
        for job in jobs {
            let changed = self
                .prev_entry(&job.path)?
                .is_none_or(|e| e.input != job.input);
            self.in_group(&job.path, changed)?;
        }
        Ok(())
    }

    /// Emits one page whose `key` fingerprints what it is made from
    /// (`views::keys`): when the previous release has the page under the
    /// same key it is carried without its view being built; else `view`
    /// builds the view and the page is emitted as [`Emitter::page`] does.
    /// With keys checked the view is built anyway, and it fails if a page carried by
    /// its key came out different: the keys are checked by every test.
    pub(super) fn page_keyed<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        template: &str,
        key: &str,
        view: impl FnOnce() -> V,
    ) -> Result<()> {
        let started = Instant::now();
        let mut h = Sha256::new();
        h.update(self.templates.version.as_bytes());
        h.update(template.as_bytes());
        h.update(key.as_bytes());
        let key = data_encoding::HEXLOWER.encode(&h.finalize()[..16]);
        let check = self.check;
        if !check && self.carry_if(path, &scope, |old| old.key == key, Some(&key))? {
            return Ok(());
        }
        let view = view();
        if check
            && let Some(old) = self.prev_entry(path)?
            && old.key == key
            && !self.full
        {
            let input = self.input_of(template, &view)?;
            if old.input != input {
                bail!(
                    "the page key of {path} matched, but its data changed: the key misses an input"
                );
            }
        }
        self.render_page(path, scope, school, template, &view, &key, started)
    }

    /// The hash of a page's inputs: the templates and the view's data.
    fn input_of<V: Serialize>(&self, template: &str, view: &V) -> Result<String> {
        let mut h = Sha256::new();
        h.update(self.templates.version.as_bytes());
        h.update(template.as_bytes());
        // The page's data is hashed as it is serialized, never held whole.
        serde_json::to_writer(crate::gradebook::snapshot::HashWriter(&mut h), view)
            .context("cannot serialize a page's data")?;
        Ok(data_encoding::HEXLOWER.encode(&h.finalize()[..16]))
    }

    #[allow(clippy::too_many_arguments)]
    fn render_page<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        template: &str,
        view: &V,
        key: &str,
        started: Instant,
    ) -> Result<()> {
        let input = self.input_of(template, view)?;
        if self.carry_if(path, &scope, |old| old.input == input, Some(key))? {
            return Ok(());
        }
        let html = self.templates.render(template, view)?;
        Self::lap(&self.nanos_render, started);
        self.file(
            path,
            scope,
            school,
            (&input, key),
            html.as_bytes(),
            Some(PAGE_QUALITY),
        )?;
        self.rendered
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(path.to_owned());
        Ok(())
    }

    /// Emits a data file (JSON of `value`) for the gate: carried over like
    /// a page when it did not change, stored compressed like one.
    pub(super) fn data<V: Serialize>(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        value: &V,
    ) -> Result<()> {
        let json = serde_json::to_vec(value).context("cannot serialize a data file")?;
        let input = data_encoding::HEXLOWER.encode(&Sha256::digest(&json)[..16]);
        if self.carry(path, &scope, &input)? {
            return Ok(());
        }
        self.file(path, scope, school, (&input, ""), &json, Some(DATA_QUALITY))?;
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
    pub(super) fn documents<F>(
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
                            (&job.input, ""),
                            &pdf,
                            Some(PAGE_QUALITY),
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
        // As many as there are cores (or fewer threads in the pool): a
        // compile holds its documents' memory, and waits little.
        let threads = rayon::current_num_threads().min(super::cores()).max(1);
        std::thread::scope(|scope| -> Result<()> {
            let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
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

    /// Writes a file: if it is text and a brotli `quality` is given, as
    /// `<path>.br` alone; else as it is.
    pub(super) fn file(
        &self,
        path: &str,
        scope: Scope,
        school: &str,
        (input, key): (&str, &str),
        bytes: &[u8],
        quality: Option<u32>,
    ) -> Result<()> {
        self.in_group(path, true)?;
        let mut t = Instant::now();
        let (p, compressed) = match quality {
            Some(q) if compressible(path) => {
                let br = brotli(bytes, q);
                t = Self::lap(&self.nanos_compress, t);
                (format!("{path}.br"), Some(br))
            }
            _ => (path.to_owned(), None),
        };
        let b = compressed.as_deref().unwrap_or(bytes);
        let sha256 = sha256_hex(b);
        let size = self.sink.write(&p, b, &sha256)?;
        self.bytes.fetch_add(size, Ordering::Relaxed);
        Self::lap(&self.nanos_write, t);
        self.entries
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(Entry {
                path: p,
                size,
                sha256,
                scope,
                school: school.to_owned(),
                input: input.to_owned(),
                key: key.to_owned(),
            });
        Ok(())
    }
}
