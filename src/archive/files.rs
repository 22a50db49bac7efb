//! Writing the files of a bag safely: new files only, flushed to disk,
//! folders renamed into place and never over an existing one; and a
//! change to an existing bag made on a copy of hard links that is
//! swapped in with one atomic exchange of folders.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256, Sha512};

pub(super) fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// The manifest lines of `path` with content `data`: SHA-256 and SHA-512.
pub(super) fn manifest_lines(path: &str, data: &[u8]) -> (String, String) {
    (
        format!("{}  {path}\n", hex(&Sha256::digest(data))),
        format!("{}  {path}\n", hex(&Sha512::digest(data))),
    )
}

/// Creates a new file (and its folders) with `bytes`.
pub(super) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Puts `bytes` at `path` as a new file, unlinking what was there first:
/// in a copy made of hard links, the original's file is never written.
pub(super) fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    write_new(path, bytes)
}

/// Flushes every file of the tree at `root` to disk.
pub(super) fn sync_tree(root: &Path) -> Result<()> {
    let dir = fs::File::open(root).with_context(|| format!("cannot open {}", root.display()))?;
    rustix::fs::syncfs(&dir).context("cannot flush the archive to disk")?;
    Ok(())
}

pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot flush {}", dir.display()))
}

/// Renames `from` to `to`, failing if `to` exists (even if it appeared meanwhile).
pub(super) fn rename_no_replace(from: &Path, to: &Path) -> Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .with_context(|| {
        format!(
            "cannot move the new archive into {} (it is never overwritten)",
            to.display()
        )
    })
}

/// The temporary folder beside `dir` for a new or changed bag: `.NAME.tmp`.
pub(super) fn temporary(dir: &Path, what: &str) -> Result<PathBuf> {
    let parent = dir.parent().context("the archive folder has no parent")?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the archive folder has no name")?;
    Ok(parent.join(format!(".{name}.{what}")))
}

/// Changes the bag at `dir` all at once: `change` works on a copy made of
/// hard links (it must replace files, never write into one, see
/// [`replace`]); when it succeeds the copy is flushed and exchanged with
/// the bag in one rename, and the old tree removed. When it fails, or the
/// machine stops before the exchange, the bag is as it was.
pub(super) fn change_bag<T>(dir: &Path, change: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let tmp = temporary(dir, "change")?;
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove the leftover {}", tmp.display()))?;
    }
    let result = link_tree(dir, &tmp)
        .and_then(|()| change(&tmp))
        .and_then(|t| {
            sync_tree(&tmp)?;
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &tmp,
                rustix::fs::CWD,
                dir,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .with_context(|| format!("cannot swap the changed bag into {}", dir.display()))?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent)?;
            }
            Ok(t)
        });
    // Either the copy that failed, or (after the exchange) the old bag.
    let _ = fs::remove_dir_all(&tmp);
    result
}

/// A copy of the tree `from` at `to`, every file a hard link.
fn link_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_links(false) {
        let entry = entry.with_context(|| format!("cannot list {}", from.display()))?;
        let rel = entry.path().strip_prefix(from).context("outside the bag")?;
        let target = to.join(rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
        } else if ft.is_file() {
            fs::hard_link(entry.path(), &target)
                .with_context(|| format!("cannot link {}", target.display()))?;
        } else {
            bail!(
                "{}: not a plain file; a bag holds only files",
                entry.path().display()
            );
        }
    }
    Ok(())
}
