//! Certificates, keys, CMS signatures and RFC 3161 timestamps: what the
//! PDF signatures and the archive's timestamp chain are made of
//! (docs/signing.md). It knows nothing of schools: bytes, digests, keys
//! and certificates in, signatures and verdicts out.
//!
//! - [`oid`]: the algorithms and attributes by number, and the digests
//!   tabel computes (SHA-2; GOST R 34.11-2012 to check a ГОСТ signer);
//! - [`keys`]: the school's certificate and private key (PEM/PKCS #8 or
//!   PKCS #12), and signing with it (RSA, ECDSA);
//! - [`cms`]: building a PAdES CMS signature, splicing a timestamp into
//!   one, and reading and checking any CMS signature;
//! - [`tsp`]: asking a TSA for a timestamp and checking one;
//! - [`cert`]: names, validity and the path to a trusted root;
//! - `signature`, `gost`, `der`, `http`: one signature value checked, the
//!   ГОСТ algorithms carried, exact DER bytes, the TSA's HTTP request.

pub mod cert;
pub mod cms;
mod der;
mod gost;
mod http;
pub mod keys;
pub mod oid;
pub mod signature;
pub mod tsp;

pub use http::redact;
pub use keys::Credentials;
pub use oid::Digest;

/// What checking a signature found (shared by `signature` and `gost`,
/// which must not import each other: ARCHITECTURE.md, layers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The signature was made by the key over that digest.
    Good,
    /// It was not: why.
    Bad(String),
    /// tabel cannot check this algorithm: which one.
    Unsupported(String),
}
