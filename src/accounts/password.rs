//! Passwords: argon2id hashing off the async runtime, the rules a new
//! password must meet, and random initial passwords.
//!
//! Rules follow NIST SP 800-63B: at least 8 characters, up to 128, no
//! composition rules, and not one of the commonly used passwords.
//!
//! Every hash and check runs on a small pool of threads of its own, one per
//! CPU, each reusing one block of memory for argon2: a burst of logins
//! neither runs hundreds of 19 MiB checks at once nor leaves their memory
//! behind (the allocator keeps what many threads freed). A check that finds
//! the pool and its short queue full is refused at once ([`Busy`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, LazyLock, Mutex};

use anyhow::{Result, anyhow};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;

/// Shortest password accepted, in characters.
pub const MIN_LEN: usize = 8;
/// Longest password accepted, in characters.
pub const MAX_LEN: usize = 128;

static COMMON: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Verifications done since start: tests count them to show that a login
/// costs the same work whether or not the account exists.
pub static VERIFICATIONS: AtomicU64 = AtomicU64::new(0);

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).unwrap_or_default()
}

/// The most memory a stored hash may ask of a check, in KiB blocks: a hash
/// with more (none of ours) fails rather than take the memory.
const MAX_BLOCKS: usize = 64 * 1024;

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("the password is too short: at least {MIN_LEN} characters")]
    Short,
    /// More than [`MAX_LEN`] characters.
    #[error("the password is too long: at most {MAX_LEN} characters")]
    Long,
    /// On the list of common passwords.
    #[error("the password is one of the most common ones; choose another")]
    Common,
}

/// Checks a new password against the rules.
pub fn check(password: &str) -> Result<(), Weak> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(Weak::Short);
    }
    if n > MAX_LEN {
        return Err(Weak::Long);
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(Weak::Common);
    }
    Ok(())
}

/// `memory` grown to `blocks` blocks (it never shrinks: the pool's threads
/// keep theirs).
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> Option<&mut [Block]> {
    if blocks > MAX_BLOCKS {
        return None;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Some(&mut memory[..blocks])
}

/// Hashes a password with argon2id in `memory`.
fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String> {
    let params = params();
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut raw_salt)
        .map_err(|e| anyhow!("cannot make a salt: {e}"))?;
    let mut out = [0u8; 32];
    let memory = blocks(memory, params.block_count())
        .ok_or_else(|| anyhow!("the password parameters ask for too much memory"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
        .map_err(|e| anyhow!("cannot hash the password: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow!("cannot hash the password: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow!("cannot hash the password: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies a password against a PHC hash string in `memory`.
fn verify_with(memory: &mut Vec<Block>, phc: &str, password: &str) -> bool {
    VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let Some(memory) = blocks(memory, params.block_count()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, out, memory)
        .is_ok()
        // Output compares in constant time.
        && Output::new(out).is_ok_and(|o| o == expected)
}

/// Hashes a password with argon2id (blocking: call through [`hash_async`] from async code).
pub fn hash(password: &str) -> Result<String> {
    hash_with(&mut Vec::new(), password)
}

/// Verifies a password against a PHC hash string (blocking).
pub fn verify(phc: &str, password: &str) -> bool {
    verify_with(&mut Vec::new(), phc, password)
}

/// A check refused because the pool and its queue are full: the caller
/// answers "busy, try again" instead of waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once; try again in a moment")]
pub struct Busy;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The threads that hash and check passwords, and their queue.
struct Pool {
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
    /// Jobs that may wait beside the running ones before checks are refused.
    waiting: usize,
}

/// Threads of the pool: one per CPU (at most 8: a check is a few tens of
/// milliseconds of one core, and more threads would only hold more memory).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8))
}

static POOL: LazyLock<&'static Pool> = LazyLock::new(|| {
    let n = threads();
    let pool: &'static Pool = Box::leak(Box::new(Pool {
        queue: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
        // About a second of checks may wait (each takes some 40 ms of a
        // core): a burst is answered within a second or so, checked or
        // told to try again. The queue holds no argon2 memory, only the
        // threads do.
        waiting: 24 * n,
    }));
    for i in 0..n {
        let spawned = std::thread::Builder::new()
            .name(format!("tabel-argon2-{i}"))
            .spawn(move || pool.work());
        if let Err(err) = spawned {
            tracing::error!("cannot start a password thread: {err}");
        }
    }
    pool
});

impl Pool {
    fn jobs(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One thread of the pool: takes jobs for good, with its own memory.
    fn work(&self) {
        let mut memory = Vec::new();
        loop {
            let job = {
                let mut jobs = self.jobs();
                loop {
                    match jobs.pop_front() {
                        Some(job) => break job,
                        None => {
                            jobs = self
                                .ready
                                .wait(jobs)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                    }
                }
            };
            job(&mut memory);
        }
    }

    /// Queues `job`; with `refuse`, not when the queue is full.
    fn submit(&self, job: Job, refuse: bool) -> Result<(), Busy> {
        let mut jobs = self.jobs();
        if refuse && jobs.len() >= self.waiting {
            return Err(Busy);
        }
        jobs.push_back(job);
        drop(jobs);
        self.ready.notify_one();
        Ok(())
    }

    /// Runs `f` on the pool and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        refuse: bool,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(
            Box::new(move |memory| {
                // A request that went away needs no answer.
                if !tx.is_closed() {
                    let _ = tx.send(f(memory));
                }
            }),
            refuse,
        )?;
        rx.await.map_err(|_| Busy)
    }
}

/// [`hash`] on the password threads (it waits for its turn: hashes follow
/// a check or come from the office).
pub async fn hash_async(password: String) -> Result<String> {
    POOL.run(false, move |memory| hash_with(memory, &password))
        .await
        .map_err(|_| anyhow!("the password threads stopped"))?
}

/// [`verify`] on the password threads; [`Busy`] at once when they and
/// their queue are full.
pub async fn verify_async(phc: String, password: String) -> Result<bool, Busy> {
    POOL.run(true, move |memory| verify_with(memory, &phc, &password))
        .await
}

/// A random initial password: 12 characters from an alphabet without
/// look-alikes (no 0/O, 1/l/I), about 70 bits.
pub fn random() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..12)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check("short"), Err(Weak::Short));
        assert_eq!(check("password"), Err(Weak::Common));
        assert_eq!(check("Qwerty123"), Err(Weak::Common));
        assert_eq!(check(&"x".repeat(129)), Err(Weak::Long));
        assert_eq!(check("пароль-из-слов"), Ok(()));
        assert_eq!(check(&"долгий пароль ".repeat(4)), Ok(()));
        assert!(check(&random()).is_ok());
    }

    #[test]
    fn hashes_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "correct horsE"));
        assert!(!verify("not a hash", "x"));
    }

    /// Hashes stored before checks ran in memory of their own still verify,
    /// and the new ones verify with the library's own check.
    #[test]
    fn hashes_of_the_library_verify_and_back() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify(&library, "correct horse"));
        assert!(!verify(&library, "correct horsE"));
        let ours = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // A hash asking for 1 GiB is refused, not computed.
        let greedy = library.replace("m=19456", "m=1048576");
        assert!(!verify(&greedy, "correct horse"));
    }

    #[test]
    fn a_full_queue_refuses_checks_and_queues_hashes() {
        // No thread takes the jobs: two may wait, a third check is refused.
        let pool = Pool {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            waiting: 2,
        };
        assert_eq!(pool.submit(Box::new(|_| {}), true), Ok(()));
        assert_eq!(pool.submit(Box::new(|_| {}), true), Ok(()));
        assert_eq!(pool.submit(Box::new(|_| {}), true), Err(Busy));
        assert_eq!(pool.submit(Box::new(|_| {}), false), Ok(()));
    }
}
