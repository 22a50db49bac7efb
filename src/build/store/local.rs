//! The local folder: `releases/<id>` and the `current` symlink, published
//! as `release.rs` describes (the behaviour tabel always had).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;

use super::{Base, ReleaseStore, ReleaseWriter};
use crate::build::release::{self, Entry, Manifest, Output, Part};

/// Releases in a folder of the local file system.
#[derive(Debug, Clone)]
pub struct LocalStore {
    out: Output,
    root: PathBuf,
}

impl LocalStore {
    /// The output folder at `root` (created if missing).
    pub fn new(root: &Path) -> Result<LocalStore> {
        Ok(LocalStore {
            out: Output::new(root)?,
            root: root.to_path_buf(),
        })
    }
}

impl ReleaseStore for LocalStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn clean_leftovers(&self) -> Result<usize> {
        self.out.clean_leftovers()
    }

    fn live(&self) -> Result<Option<Base>> {
        Ok(self.out.live()?.map(|l| Base {
            id: l
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            manifest: l.manifest,
        }))
    }

    fn read_part(&self, base: &Base, part: &Part) -> Result<Vec<Entry>> {
        release::read_part(&self.out.releases().join(&base.id), part)
    }

    fn start(&self, base: Option<&Base>) -> Result<Box<dyn ReleaseWriter>> {
        let (id, tmp) = self.out.start(chrono::Utc::now())?;
        Ok(Box::new(LocalWriter {
            out: self.out.clone(),
            id,
            tmp,
            base: base.map(|b| self.out.releases().join(&b.id)),
        }))
    }

    fn prune(&self, keep: usize) -> Result<Vec<String>> {
        self.out.prune(keep)
    }

    /// Carrying a file over links it, which reads its folder and its inode
    /// in the previous release; after a day those are seldom in memory,
    /// and a worker that links waits for the disk with a core idle. Here
    /// [`READ_AHEAD_THREADS`] threads look the files up first, a school
    /// ahead of the links, so that the disk serves several reads at once
    /// and the links find what they need in memory (docs/benchmarks.md,
    /// "Reading the previous release ahead").
    fn read_ahead(&self, base: &Base, mut paths: Vec<String>) {
        // In folder order: the files of a folder share its blocks.
        paths.sort_unstable();
        let dir = self.out.releases().join(&base.id);
        let (paths, next) = (Arc::new(paths), Arc::new(AtomicUsize::new(0)));
        for _ in 0..READ_AHEAD_THREADS {
            let (dir, paths, next) = (dir.clone(), paths.clone(), next.clone());
            let spawned = std::thread::Builder::new()
                .name("read-ahead".into())
                .spawn(move || {
                    loop {
                        let at = next.fetch_add(READ_AHEAD_BATCH, Ordering::Relaxed);
                        let Some(batch) = paths.get(at..(at + READ_AHEAD_BATCH).min(paths.len()))
                        else {
                            break;
                        };
                        for path in batch {
                            // Only the lookup matters: a file missing is
                            // the carry's to report.
                            let _ = std::fs::symlink_metadata(dir.join(path));
                        }
                    }
                });
            // Without a thread the links do the reading, as they would anyway.
            if spawned.is_err() {
                break;
            }
        }
    }
}

/// Threads reading the previous release ahead of the links; they mostly
/// wait on the disk, so more than the cores.
const READ_AHEAD_THREADS: usize = 4;
/// Files a read-ahead thread takes at a time: about two students' folders.
const READ_AHEAD_BATCH: usize = 32;

/// A release rendered into `releases/<id>.tmp`.
struct LocalWriter {
    out: Output,
    id: String,
    tmp: PathBuf,
    /// The folder of the release files are carried from.
    base: Option<PathBuf>,
}

impl LocalWriter {
    fn base(&self) -> Result<&Path> {
        self.base
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("there is no release to carry files over from"))
    }
}

impl ReleaseWriter for LocalWriter {
    fn id(&self) -> &str {
        &self.id
    }

    fn write(&self, path: &str, bytes: &[u8], _sha256: &str) -> Result<u64> {
        release::write_file(&self.tmp, path, bytes)
    }

    fn carry(&self, entry: &Entry) -> Result<()> {
        release::carry(self.base()?, &self.tmp, &entry.path)
    }

    fn write_part(&self, school: &str, slug: &str, files: Vec<Entry>) -> Result<(Part, u64)> {
        release::write_part(&self.tmp, school, slug, files)
    }

    fn carry_part(&self, part: &Part) -> Result<()> {
        release::carry(self.base()?, &self.tmp, &part.manifest)
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn uploaded(&self) -> Option<(u64, u64)> {
        None
    }

    fn publish(self: Box<Self>, manifest: &Manifest) -> Result<PathBuf> {
        self.out.publish(&self.id, &self.tmp, manifest)
    }

    fn abandon(self: Box<Self>) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}
