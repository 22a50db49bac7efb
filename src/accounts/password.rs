//! Passwords: argon2id hashing off the async runtime, the rules a new
//! password must meet, and random initial passwords.
//!
//! Rules follow NIST SP 800-63B: at least 8 characters, up to 128, no
//! composition rules, and not one of the commonly used passwords.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Result, anyhow};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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

fn argon2() -> Argon2<'static> {
    // OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

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

/// Hashes a password with argon2id (blocking: call through [`hash_async`] from async code).
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("cannot hash the password: {e}"))
}

/// Verifies a password against a PHC hash string (blocking).
pub fn verify(phc: &str, password: &str) -> bool {
    VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`hash`] on the blocking pool.
pub async fn hash_async(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

/// [`verify`] on the blocking pool.
pub async fn verify_async(phc: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&phc, &password))
        .await
        .unwrap_or(false)
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
}
