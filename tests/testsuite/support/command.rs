//! The one way the tests run the `tabel` binary.

use std::ffi::OsStr;
use std::io::Write;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The `tabel` binary of this build, to run with none of the `TABEL_*`
/// variables of the test's environment (`TABEL_DATABASE_URL`,
/// `TABEL_OUTPUT`, the key and SMTP passwords, `TABEL_LOG`, and the tests'
/// own `TABEL_TEST_PG` and the like), so that only the arguments, the
/// folder and what the test sets itself count.
///
/// ```ignore
/// let o = tabel().args(["init"]).current_dir(dir.path()).output();
/// let mut child = tabel().args(["serve"]).env("TABEL_LOG", "info").command().spawn().unwrap();
/// ```
pub fn tabel() -> Tabel {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tabel"));
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"TABEL_") {
            cmd.env_remove(key);
        }
    }
    Tabel {
        cmd,
        stdin: None,
        open_files: None,
    }
}

/// A run of the `tabel` binary being set up; see [`tabel()`].
#[derive(Debug)]
pub struct Tabel {
    cmd: Command,
    stdin: Option<String>,
    open_files: Option<u64>,
}

impl Tabel {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Tabel {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Tabel
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets a variable of the child's environment. Set after the `TABEL_*`
    /// ones were removed, so a test can still pass its own (`TABEL_LOG`, a
    /// password).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Tabel {
        self.cmd.env(key, value);
        self
    }

    /// Runs in `dir` rather than in the package's folder.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Tabel {
        self.cmd.current_dir(dir);
        self
    }

    /// Runs the binary with at most `n` open files (the soft and the hard
    /// limit), through `prlimit`: how it copes when descriptors run out.
    pub fn open_files(mut self, n: u64) -> Tabel {
        self.open_files = Some(n);
        self
    }

    /// The command as set up: under `prlimit` if [`Tabel::open_files`] was asked for.
    fn finish(self) -> (Command, Option<String>) {
        let Some(n) = self.open_files else {
            return (self.cmd, self.stdin);
        };
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--nofile={n}:{n}"))
            .arg("--")
            .arg(self.cmd.get_program())
            .args(self.cmd.get_args());
        for (key, value) in self.cmd.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        (cmd, self.stdin)
    }

    /// Gives `text` on standard input (otherwise standard input is empty).
    pub fn stdin(mut self, text: &str) -> Tabel {
        self.stdin = Some(text.to_owned());
        self
    }

    /// Runs to the end; standard output and error are captured.
    pub fn output(self) -> Output {
        let (mut cmd, stdin) = self.finish();
        let Some(text) = stdin else {
            return cmd.output().unwrap();
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs to the end and fails the test, with what the binary printed,
    /// unless it succeeded.
    pub fn success(self) -> Output {
        let args: Vec<&OsStr> = self.cmd.get_args().collect();
        let args = format!("{args:?}");
        let o = self.output();
        assert!(
            o.status.success(),
            "tabel {args} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// The command itself, to start (`spawn`, `status`) and stop.
    pub fn command(self) -> Command {
        self.finish().0
    }
}

/// A process a test started that ends with the test, however the test
/// ends: dropped (a failed assertion unwinds through it), it is killed and
/// reaped, so no `tabel serve` outlives a failed test.
pub struct Running(pub Child);

impl Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
