//! Signing keys and signatures in minisign's format (Ed25519), by the
//! `minisign` crate: a bag's signature verifies with the `minisign` tool
//! and the school's published public key, with or without tabel.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

/// File names `keygen` writes.
pub const SECRET_FILE: &str = "tabel.key";
pub const PUBLIC_FILE: &str = "tabel.pub";

/// Where a key's password comes from.
#[derive(Debug, Clone)]
pub enum Password {
    /// The key is not protected.
    None,
    /// This password.
    Given(String),
}

/// Writes a new key pair as `dir/tabel.key` (mode 0600) and `dir/tabel.pub`;
/// returns the public key file's text. Never overwrites a key.
pub fn keygen(dir: &Path, password: &Password) -> Result<String> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (sk_path, pk_path) = (dir.join(SECRET_FILE), dir.join(PUBLIC_FILE));
    for p in [&sk_path, &pk_path] {
        if p.exists() {
            bail!(
                "{} exists already; a key is never overwritten (move it away first)",
                p.display()
            );
        }
    }
    let pass = match password {
        Password::None => String::new(),
        Password::Given(p) if p.is_empty() => bail!("the password is empty"),
        Password::Given(p) => p.clone(),
    };
    let KeyPair { pk, sk } = KeyPair::generate_encrypted_keypair(Some(pass))
        .map_err(|e| anyhow::anyhow!("cannot generate a key pair: {e}"))?;
    let sk_text = sk
        .to_box(Some(match password {
            Password::None => "tabel archive signing key (not password-protected)",
            Password::Given(_) => "tabel archive signing key",
        }))
        .map_err(|e| anyhow::anyhow!("cannot encode the secret key: {e}"))?
        .to_string();
    let pk_text = public_text(&pk)?;
    write_new(&sk_path, sk_text.as_bytes(), 0o600)?;
    write_new(&pk_path, pk_text.as_bytes(), 0o644)?;
    Ok(pk_text)
}

/// The public key as minisign writes it: a comment line and the key.
fn public_text(pk: &PublicKey) -> Result<String> {
    let text = pk
        .to_box()
        .map_err(|e| anyhow::anyhow!("cannot encode the public key: {e}"))?
        .to_string();
    Ok(text)
}

/// Creates `path` (it must not exist) with `mode`, writes and flushes it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A secret key ready to sign, with its public half.
pub struct Signer {
    sk: SecretKey,
    pk: PublicKey,
    /// The key file it came from.
    pub path: PathBuf,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Whether the key file at `path` needs a password.
pub fn needs_password(path: &Path) -> Result<bool> {
    let text = read_key(path)?;
    Ok(unlock(&text, String::new()).is_err())
}

fn read_key(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))
}

fn unlock(text: &str, password: String) -> Result<SecretKey, minisign::PError> {
    SecretKeyBox::from_string(text)?.into_secret_key(Some(password))
}

impl Signer {
    /// Reads the secret key at `path`, unlocking it with `password`.
    pub fn load(path: &Path, password: &Password) -> Result<Signer> {
        let text = read_key(path)?;
        let pass = match password {
            Password::None => String::new(),
            Password::Given(p) => p.clone(),
        };
        let sk = unlock(&text, pass).map_err(|e| {
            let why = match password {
                Password::None => "it is password-protected; give its password".to_owned(),
                Password::Given(_) => format!("{e} (a wrong password?)"),
            };
            anyhow::anyhow!("cannot use the key {}: {why}", path.display())
        })?;
        let pk = PublicKey::from_secret_key(&sk)
            .map_err(|e| anyhow::anyhow!("the key {} is damaged: {e}", path.display()))?;
        Ok(Signer {
            sk,
            pk,
            path: path.to_owned(),
        })
    }

    /// Signs `data`; returns the `.minisig` file's text.
    pub fn sign(&self, data: &[u8], trusted: &str, untrusted: &str) -> Result<String> {
        let sig = minisign::sign(
            Some(&self.pk),
            &self.sk,
            std::io::Cursor::new(data),
            Some(trusted),
            Some(untrusted),
        )
        .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
        Ok(sig.into_string())
    }

    /// Whether this key made the signature `sig` of `data` (a bag this key signed).
    pub fn made(&self, sig: &str, data: &[u8]) -> bool {
        verify(&self.pk, sig, data).is_ok()
    }

    /// The public key file's text.
    pub fn public_text(&self) -> Result<String> {
        public_text(&self.pk)
    }
}

/// Reads a public key: minisign's two-line file, or the bare key line.
pub fn read_public(path: &Path) -> Result<PublicKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the public key {}", path.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let parsed = match lines.as_slice() {
        [key] => PublicKey::from_base64(key.trim()),
        [_, _] => PublicKeyBox::from_string(&text).and_then(PublicKeyBox::into_public_key),
        _ => bail!(
            "{} is not a minisign public key (expected a comment line and a key line)",
            path.display()
        ),
    };
    parsed.map_err(|e| anyhow::anyhow!("{} is not a minisign public key: {e}", path.display()))
}

/// Verifies the signature text `sig` of `data` with `pk`; returns its
/// trusted comment.
pub fn verify(pk: &PublicKey, sig: &str, data: &[u8]) -> Result<String> {
    let sig = SignatureBox::from_string(sig)
        .map_err(|e| anyhow::anyhow!("the signature file is not a minisign signature: {e}"))?;
    minisign::verify(pk, &sig, std::io::Cursor::new(data), true, false, false)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    sig.trusted_comment()
        .map_err(|e| anyhow::anyhow!("the signature has no trusted comment: {e}"))
}
