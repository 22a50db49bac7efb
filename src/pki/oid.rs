//! The object identifiers tabel reads and writes, and the digests it can
//! compute: SHA-2 for its own signatures and timestamps, GOST R 34.11-2012
//! (Streebog) to check what an external ГОСТ signer signed (docs/signing.md).

use anyhow::{Result, bail};
use der::asn1::ObjectIdentifier as Oid;

/// `id-data`: the content type of a detached signature over bytes.
pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData`.
pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// `id-ct-TSTInfo`: the content of a timestamp token.
pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// Signed attributes.
pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// The unsigned attribute that carries a timestamp over the signature value.
pub const SIGNATURE_TIMESTAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// Public key and signature algorithms.
pub const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const RSA_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
/// GOST R 34.10-2012 keys and signatures (with GOST R 34.11-2012 digests).
pub const GOST_2012_256: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.1");
pub const GOST_2012_512: Oid = Oid::new_unwrap("1.2.643.7.1.1.1.2");
pub const GOST_2012_256_SIGN: Oid = Oid::new_unwrap("1.2.643.7.1.1.3.2");
pub const GOST_2012_512_SIGN: Oid = Oid::new_unwrap("1.2.643.7.1.1.3.3");

/// Certificate extensions and key purposes.
pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
pub const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
pub const ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");

/// A digest algorithm tabel computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    /// GOST R 34.11-2012, 256 bits.
    Streebog256,
    /// GOST R 34.11-2012, 512 bits.
    Streebog512,
}

/// What a digest is known for: `Some(year)` from when it no longer
/// withstands collisions (a signature or timestamp with it proves nothing
/// made after that year).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strength {
    pub broken_since: Option<i32>,
}

impl Digest {
    pub const ALL: [Digest; 6] = [
        Digest::Sha1,
        Digest::Sha256,
        Digest::Sha384,
        Digest::Sha512,
        Digest::Streebog256,
        Digest::Streebog512,
    ];

    pub fn oid(self) -> Oid {
        match self {
            Digest::Sha1 => Oid::new_unwrap("1.3.14.3.2.26"),
            Digest::Sha256 => Oid::new_unwrap("2.16.840.1.101.3.4.2.1"),
            Digest::Sha384 => Oid::new_unwrap("2.16.840.1.101.3.4.2.2"),
            Digest::Sha512 => Oid::new_unwrap("2.16.840.1.101.3.4.2.3"),
            Digest::Streebog256 => Oid::new_unwrap("1.2.643.7.1.1.2.2"),
            Digest::Streebog512 => Oid::new_unwrap("1.2.643.7.1.1.2.3"),
        }
    }

    pub fn from_oid(oid: &Oid) -> Option<Digest> {
        Digest::ALL.into_iter().find(|d| d.oid() == *oid)
    }

    /// The digest of an algorithm identifier, or an error naming it.
    pub fn of(oid: &Oid) -> Result<Digest> {
        match Digest::from_oid(oid) {
            Some(d) => Ok(d),
            None => bail!("the digest algorithm {} is not one tabel knows", name(oid)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "SHA-1",
            Digest::Sha256 => "SHA-256",
            Digest::Sha384 => "SHA-384",
            Digest::Sha512 => "SHA-512",
            Digest::Streebog256 => "GOST R 34.11-2012 (256)",
            Digest::Streebog512 => "GOST R 34.11-2012 (512)",
        }
    }

    /// Short name in a file or a tag: `sha256`, `streebog256`.
    pub fn token(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
            Digest::Streebog256 => "streebog256",
            Digest::Streebog512 => "streebog512",
        }
    }

    pub fn strength(self) -> Strength {
        Strength {
            // SHA-1: the first public collision (SHAttered) was in 2017.
            broken_since: (self == Digest::Sha1).then_some(2017),
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Digest::Sha1 => run::<sha1::Sha1>(parts),
            Digest::Sha256 => run::<sha2::Sha256>(parts),
            Digest::Sha384 => run::<sha2::Sha384>(parts),
            Digest::Sha512 => run::<sha2::Sha512>(parts),
            Digest::Streebog256 => run::<streebog::Streebog256>(parts),
            Digest::Streebog512 => run::<streebog::Streebog512>(parts),
        }
    }
}

/// A readable name of an algorithm or attribute, else its dotted number.
pub fn name(oid: &Oid) -> String {
    if let Some(d) = Digest::from_oid(oid) {
        return d.name().to_owned();
    }
    let known: &[(Oid, &str)] = &[
        (RSA, "RSA"),
        (RSA_SHA256, "RSA with SHA-256"),
        (RSA_SHA384, "RSA with SHA-384"),
        (RSA_SHA512, "RSA with SHA-512"),
        (RSA_SHA1, "RSA with SHA-1"),
        (RSA_PSS, "RSA-PSS"),
        (EC_PUBLIC_KEY, "ECDSA"),
        (ECDSA_SHA256, "ECDSA with SHA-256"),
        (ECDSA_SHA384, "ECDSA with SHA-384"),
        (ECDSA_SHA512, "ECDSA with SHA-512"),
        (GOST_2012_256, "GOST R 34.10-2012 (256)"),
        (GOST_2012_512, "GOST R 34.10-2012 (512)"),
        (
            GOST_2012_256_SIGN,
            "GOST R 34.10-2012 (256) with GOST R 34.11-2012",
        ),
        (
            GOST_2012_512_SIGN,
            "GOST R 34.10-2012 (512) with GOST R 34.11-2012",
        ),
    ];
    known
        .iter()
        .find(|(o, _)| o == oid)
        .map(|(_, n)| (*n).to_owned())
        .unwrap_or_else(|| oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_inputs() {
        let hex = |v: Vec<u8>| data_encoding::HEXLOWER.encode(&v);
        assert_eq!(
            hex(Digest::Sha256.hash(&[b"a", b"bc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // GOST R 34.11-2012, example 1 of the standard (the message is
        // "012345678901234567890123456789012345678901234567890123456789012").
        assert_eq!(
            hex(Digest::Streebog256
                .hash(&[b"012345678901234567890123456789012345678901234567890123456789012"])),
            "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
        );
        for d in Digest::ALL {
            assert_eq!(Digest::from_oid(&d.oid()), Some(d));
        }
    }
}
