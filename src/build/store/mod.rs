//! Where releases are kept: one trait, [`ReleaseStore`], over the local
//! folder (`output/releases/<id>`, `output/current`; the default) and
//! objects by content: in an S3-compatible bucket (`--output
//! s3://bucket/prefix`, set up in `[store]`) or in the same layout on a
//! local disk (`--output file:///path`), which names no file per page of
//! every release and suits a city (ARCHITECTURE.md, "The release store").
//! The build asks a store for the live release, writes the new one through
//! a [`ReleaseWriter`] (every file written or carried over from the live
//! release, each school's manifest), publishes it at once, and has the
//! store remove releases beyond `keep_releases`.

mod local;
pub mod s3;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;

use super::release::{Entry, Manifest, Part};
use crate::config;
pub use local::LocalStore;
pub use s3::S3Store;

/// A complete release a store holds: the live one a build starts from.
#[derive(Debug, Clone)]
pub struct Base {
    /// Its id (`20261127T020000Z`).
    pub id: String,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Where releases are kept.
pub trait ReleaseStore: Send + Sync + std::fmt::Debug {
    /// Where, for messages: a folder or `s3://bucket/prefix`.
    fn location(&self) -> String;
    /// Removes what killed builds left behind; how many releases.
    fn clean_leftovers(&self) -> Result<usize>;
    /// The live release, if there is one.
    fn live(&self) -> Result<Option<Base>>;
    /// The files of a school's part of `base`, checked against the part.
    fn read_part(&self, base: &Base, part: &Part) -> Result<Vec<Entry>>;
    /// Starts a new release, which may carry files over from `base`.
    fn start(&self, base: Option<&Base>) -> Result<Box<dyn ReleaseWriter>>;
    /// Removes complete releases beyond the newest `keep`, never the live
    /// one nor one a running build started from, and what only they held;
    /// the ids removed.
    fn prune(&self, keep: usize) -> Result<Vec<String>>;
    /// Starts reading ahead, in the background, what carrying `paths` of
    /// `base` over will read: a hint, which a store may ignore (a bucket
    /// does). Returns at once.
    fn read_ahead(&self, _base: &Base, _paths: Vec<String>) {}
}

/// A release being written. Dropped without [`ReleaseWriter::publish`],
/// it is never seen; [`ReleaseWriter::abandon`] removes what it wrote.
pub trait ReleaseWriter: Send + Sync {
    /// The new release's id.
    fn id(&self) -> &str;
    /// Writes one file whose SHA-256 is `sha256` (hex); its size.
    fn write(&self, path: &str, bytes: &[u8], sha256: &str) -> Result<u64>;
    /// Carries one file of the base release over unchanged.
    fn carry(&self, entry: &Entry) -> Result<()>;
    /// Writes a school's manifest; its part for the release's manifest.
    fn write_part(&self, school: &str, slug: &str, files: Vec<Entry>) -> Result<(Part, u64)>;
    /// Carries a school's manifest of the base release over unchanged.
    fn carry_part(&self, part: &Part) -> Result<()>;
    /// Waits until everything written so far is stored.
    fn flush(&self) -> Result<()>;
    /// Objects and bytes sent to the store, if it counts them (a folder does not).
    fn uploaded(&self) -> Option<(u64, u64)>;
    /// Makes the release live, once everything it lists is stored; where it is.
    fn publish(self: Box<Self>, manifest: &Manifest) -> Result<PathBuf>;
    /// Removes what was written.
    fn abandon(self: Box<Self>);
}

/// True if `output` names a store of objects by content, a bucket
/// (`s3://…`) or the same layout on a local disk (`file:///…`), rather
/// than a folder of releases.
pub fn is_bucket(output: &Path) -> bool {
    output
        .to_str()
        .is_some_and(|s| s.starts_with("s3://") || s.starts_with("file://"))
}

/// The store `output` names: `s3://bucket/prefix` (with `[store]`),
/// `file:///path`, or a folder.
pub fn open(output: &Path, settings: &config::Store) -> Result<Arc<dyn ReleaseStore>> {
    match output.to_str() {
        Some(url) if is_bucket(output) => Ok(Arc::new(S3Store::open(url, settings)?)),
        _ => Ok(Arc::new(LocalStore::new(output)?)),
    }
}

/// The files of one school of `base` (external id; `""` for the shared
/// ones) by path.
pub fn entries_of(
    store: &dyn ReleaseStore,
    base: &Base,
    school: &str,
) -> Result<HashMap<String, Entry>> {
    let mut map: HashMap<String, Entry> = base
        .manifest
        .files
        .iter()
        .filter(|e| e.school == school)
        .map(|e| (e.path.clone(), e.clone()))
        .collect();
    if !school.is_empty() {
        for part in base.manifest.schools.iter().filter(|p| p.school == school) {
            map.extend(
                store
                    .read_part(base, part)?
                    .into_iter()
                    .map(|e| (e.path.clone(), e)),
            );
        }
    }
    Ok(map)
}
