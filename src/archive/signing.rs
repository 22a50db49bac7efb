//! The school's own signature inside each statement of a bag: PAdES B-B
//! with its certificate and key, B-T with a timestamp from its TSA over
//! the signature value (docs/signing.md). Every PDF is signed before the
//! bag's manifests are computed, so they cover the signed bytes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use chrono::Utc;

use super::Tsa;
use crate::pki::{self, Credentials, Digest, cert, cms};
use crate::render::pdf::sign::{self as pdfsign, Field};

/// The name of the signature field tabel adds.
pub const FIELD: &str = "Signature1";

/// Room for a timestamp token before the first one is seen.
const FIRST_TOKEN_GUESS: usize = 8192;
/// Spare bytes on top of what a signature is expected to take.
const MARGIN: usize = 512;

/// Signs statement PDFs with the school's credentials.
#[derive(Debug)]
pub struct PdfSigner {
    pub credentials: Credentials,
    /// Without a TSA the signatures are B-B: their time is only claimed.
    pub tsa: Option<Tsa>,
}

impl PdfSigner {
    /// The PAdES level the signatures reach.
    pub fn level(&self) -> &'static str {
        if self.tsa.is_some() {
            "PAdES-B-T"
        } else {
            "PAdES-B-B"
        }
    }

    /// Refuses credentials that cannot sign today.
    pub fn check_usable(&self) -> Result<()> {
        let c = self.credentials.certificate();
        let (from, until) = cert::validity(c);
        let now = Utc::now();
        if now < from || now > until {
            bail!(
                "the certificate of «{}» is valid from {} to {}, not now",
                cert::subject(c),
                from.format("%Y-%m-%d"),
                until.format("%Y-%m-%d")
            );
        }
        Ok(())
    }

    /// Signs every PDF of `pdfs` (path, bytes), a few at a time (each waits
    /// for its TSA); all of them or an error.
    pub fn sign_all(&self, pdfs: Vec<(String, Vec<u8>)>) -> Result<Vec<(String, Vec<u8>)>> {
        self.check_usable()?;
        // The CMS without a timestamp is always about this size.
        let base = cms::sign(&self.credentials, &self.credentials.digest().hash(&[b""]))?.len();
        // The largest timestamp token seen so far (0: none yet).
        let token = AtomicUsize::new(0);
        let n = pdfs.len();
        let mut queue = pdfs.into_iter().enumerate();
        let done = Mutex::new(Vec::with_capacity(n));
        let sign = |i: usize, path: String, pdf: Vec<u8>| -> Result<()> {
            let signed = self
                .sign_one(&pdf, base, &token)
                .with_context(|| format!("cannot sign {path}"))?;
            done.lock()
                .map_err(|_| anyhow!("poisoned"))?
                .push((i, (path, signed)));
            Ok(())
        };
        // The first one alone: its timestamp token tells how much room the
        // others need (a token's size hardly varies for one TSA), so each
        // reserves what it needs rather than the first guess.
        if self.tsa.is_some()
            && let Some((i, (path, pdf))) = queue.next()
        {
            sign(i, path, pdf)?;
        }
        let queue = Mutex::new(queue);
        let work = || -> Result<()> {
            loop {
                let next = queue.lock().map_err(|_| anyhow!("poisoned"))?.next();
                let Some((i, (path, pdf))) = next else {
                    return Ok(());
                };
                sign(i, path, pdf)?;
            }
        };
        let workers = n.clamp(1, 4);
        std::thread::scope(|scope| -> Result<()> {
            let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
            let mut first = Ok(());
            for h in handles {
                let r = h
                    .join()
                    .map_err(|_| anyhow!("a signing thread panicked"))
                    .and_then(|r| r);
                if first.is_ok() {
                    first = r;
                }
            }
            first
        })?;
        let mut done = done.into_inner().map_err(|_| anyhow!("poisoned"))?;
        done.sort_by_key(|(i, _)| *i);
        Ok(done.into_iter().map(|(_, p)| p).collect())
    }

    /// Signs one PDF; `token` learns how large the TSA's tokens are.
    fn sign_one(&self, pdf: &[u8], base: usize, token: &AtomicUsize) -> Result<Vec<u8>> {
        let seen = token.load(Ordering::Relaxed);
        let expected = match &self.tsa {
            Some(_) if seen == 0 => FIRST_TOKEN_GUESS,
            _ => seen,
        };
        let mut reserve = base + expected + MARGIN;
        for _ in 0..2 {
            let field = Field {
                name: FIELD.into(),
                signer: Some(self.credentials.signer_name()),
                reason: None,
                time: Utc::now(),
                reserve,
            };
            let prepared = pdfsign::prepare(pdf, &field)?;
            let d = self.credentials.digest();
            let mut der = cms::sign(&self.credentials, &d.hash(&prepared.signed()))?;
            if let Some(tsa) = &self.tsa {
                let value = cms::read(&der)?.signature;
                let t = tsa.stamp(Digest::Sha256, &Digest::Sha256.hash(&[&value]))?;
                token.fetch_max(t.len() + 64, Ordering::Relaxed);
                der = cms::add_timestamp(&der, &t)?;
            }
            if der.len() <= prepared.capacity() {
                return prepared.embed(&der);
            }
            reserve = der.len() + MARGIN;
        }
        bail!("the signature does not fit the room reserved for it")
    }
}

/// Reads the school's credentials: a PKCS #12 file, or a certificate file
/// and a PKCS #8 key file.
pub fn credentials(
    p12: Option<&std::path::Path>,
    cert_key: Option<(&std::path::Path, &std::path::Path)>,
    password: Option<&str>,
) -> Result<Credentials> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
    };
    match (p12, cert_key) {
        (Some(p), None) => pki::Credentials::from_pkcs12(&read(p)?, password.unwrap_or(""))
            .with_context(|| format!("cannot use {}", p.display())),
        (None, Some((c, k))) => pki::Credentials::from_pem(&read(c)?, &read(k)?, password)
            .with_context(|| {
                format!(
                    "cannot use the certificate {} with the key {}",
                    c.display(),
                    k.display()
                )
            }),
        (Some(_), Some(_)) => {
            bail!("give either a PKCS #12 file or a certificate and key, not both")
        }
        (None, None) => bail!("no certificate and key to sign the PDFs with"),
    }
}
