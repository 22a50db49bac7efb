//! The local folder: `releases/<id>` and the `current` symlink, published
//! as `release.rs` describes (the behaviour tabel always had).

use std::path::{Path, PathBuf};

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
}

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
