//! Outside tools (Chromium, poppler, qpdf, minisign, wrk, the Nu Html
//! Checker): used when installed, a skip with a note when not, and an error
//! with `TABEL_REQUIRE_TOOLS=1` (set by `.ci/run`, which installs them all).

use std::path::PathBuf;

/// A tool the test needs, or `None` (a skip) when it is missing and not required.
pub fn tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{path} is missing (run .ci/run to install it)"
    );
    eprintln!("note: {path} is missing; skipping");
    None
}

/// A program found on `PATH`, or `None` (a skip) when it is missing and
/// not required.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{name} is not on PATH (run .ci/run to install it)"
        );
        eprintln!("note: {name} is not on PATH; skipping");
    }
    found
}
