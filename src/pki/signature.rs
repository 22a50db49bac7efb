//! Checking one signature value with a public key: RSA (PKCS #1 v1.5) and
//! ECDSA (P-256, P-384) here; GOST R 34.10-2012 in `gost.rs`. Each check
//! takes the digest of the signed bytes, so a large document is hashed
//! once, by whoever knows its algorithm.

use der::Encode;
use der::asn1::ObjectIdentifier as Oid;
use rsa::traits::PublicKeyParts;
use spki::SubjectPublicKeyInfoOwned;

use super::oid::{self, Digest};

pub use super::Outcome;

/// The DigestInfo prefix PKCS #1 v1.5 puts before a digest.
fn pkcs1_prefix(d: Digest) -> Option<&'static [u8]> {
    Some(match d {
        Digest::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        Digest::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        Digest::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        Digest::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        Digest::Streebog256 | Digest::Streebog512 => return None,
    })
}

/// The PKCS #1 v1.5 scheme for `d`.
pub(super) fn pkcs1(d: Digest) -> Option<rsa::Pkcs1v15Sign> {
    let prefix = pkcs1_prefix(d)?;
    Some(rsa::Pkcs1v15Sign {
        hash_len: Some(d.hash(&[]).len()),
        prefix: prefix.into(),
    })
}

/// The digest a signature algorithm names itself, if it names one.
pub fn digest_of_algorithm(alg: &Oid) -> Option<Digest> {
    Some(match *alg {
        oid::RSA_SHA1 => Digest::Sha1,
        oid::RSA_SHA256 | oid::ECDSA_SHA256 => Digest::Sha256,
        oid::RSA_SHA384 | oid::ECDSA_SHA384 => Digest::Sha384,
        oid::RSA_SHA512 | oid::ECDSA_SHA512 => Digest::Sha512,
        oid::GOST_2012_256_SIGN => Digest::Streebog256,
        oid::GOST_2012_512_SIGN => Digest::Streebog512,
        _ => return None,
    })
}

/// Checks `signature` over bytes whose `digest` (computed with `d`) is
/// given, by the key `key`, with the signature algorithm `alg`.
pub fn check(
    key: &SubjectPublicKeyInfoOwned,
    alg: &Oid,
    d: Digest,
    digest: &[u8],
    signature: &[u8],
) -> Outcome {
    if let Some(named) = digest_of_algorithm(alg)
        && named != d
    {
        return Outcome::Bad(format!(
            "the signature algorithm {} does not go with the digest {}",
            oid::name(alg),
            d.name()
        ));
    }
    let Ok(key_der) = key.to_der() else {
        return Outcome::Bad("the public key cannot be encoded".into());
    };
    let key_alg = key.algorithm.oid;
    match key_alg {
        oid::RSA => {
            if !matches!(
                *alg,
                oid::RSA | oid::RSA_SHA1 | oid::RSA_SHA256 | oid::RSA_SHA384 | oid::RSA_SHA512
            ) {
                return Outcome::Unsupported(oid::name(alg));
            }
            use rsa::pkcs8::DecodePublicKey;
            let Ok(pk) = rsa::RsaPublicKey::from_public_key_der(&key_der) else {
                return Outcome::Bad("the RSA public key cannot be read".into());
            };
            let Some(scheme) = pkcs1(d) else {
                return Outcome::Unsupported(format!("RSA with {}", d.name()));
            };
            match pk.verify(scheme, digest, signature) {
                Ok(()) => Outcome::Good,
                Err(_) => Outcome::Bad("the RSA signature does not match".into()),
            }
        }
        oid::EC_PUBLIC_KEY => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            use p256::pkcs8::DecodePublicKey;
            if !matches!(
                *alg,
                oid::ECDSA_SHA256 | oid::ECDSA_SHA384 | oid::ECDSA_SHA512
            ) {
                return Outcome::Unsupported(oid::name(alg));
            }
            let curve = key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok());
            let good = match curve {
                Some(oid::P256) => {
                    let (Ok(vk), Ok(sig)) = (
                        p256::ecdsa::VerifyingKey::from_public_key_der(&key_der),
                        p256::ecdsa::Signature::from_der(signature),
                    ) else {
                        return Outcome::Bad("the ECDSA key or signature cannot be read".into());
                    };
                    vk.verify_prehash(digest, &sig).is_ok()
                }
                Some(oid::P384) => {
                    let (Ok(vk), Ok(sig)) = (
                        p384::ecdsa::VerifyingKey::from_public_key_der(&key_der),
                        p384::ecdsa::Signature::from_der(signature),
                    ) else {
                        return Outcome::Bad("the ECDSA key or signature cannot be read".into());
                    };
                    vk.verify_prehash(digest, &sig).is_ok()
                }
                other => {
                    return Outcome::Unsupported(format!(
                        "ECDSA on the curve {}",
                        other.map_or("(unnamed)".into(), |o| o.to_string())
                    ));
                }
            };
            if good {
                Outcome::Good
            } else {
                Outcome::Bad("the ECDSA signature does not match".into())
            }
        }
        oid::GOST_2012_256 | oid::GOST_2012_512 => super::gost::check(key, d, digest, signature),
        other => Outcome::Unsupported(format!("keys of type {}", oid::name(&other))),
    }
}

/// A key in words: `RSA-2048`, `ECDSA P-256`, `GOST R 34.10-2012 (256)`.
pub fn describe_key(key: &SubjectPublicKeyInfoOwned) -> String {
    match key.algorithm.oid {
        oid::RSA => match rsa_bits(key) {
            Some(bits) => format!("RSA-{bits}"),
            None => "RSA".into(),
        },
        oid::EC_PUBLIC_KEY => {
            match key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok())
            {
                Some(oid::P256) => "ECDSA P-256".into(),
                Some(oid::P384) => "ECDSA P-384".into(),
                Some(o) => format!("ECDSA ({o})"),
                None => "ECDSA".into(),
            }
        }
        o => oid::name(&o),
    }
}

/// Since when a key of this kind and size no longer protects anything,
/// if it is known: RSA shorter than 2048 bits has been refused for
/// signatures since 2014 (NIST SP 800-131A).
pub fn key_broken_since(key: &SubjectPublicKeyInfoOwned) -> Option<i32> {
    match key.algorithm.oid {
        oid::RSA => rsa_bits(key).filter(|&b| b < 2048).map(|_| 2014),
        _ => None,
    }
}

fn rsa_bits(key: &SubjectPublicKeyInfoOwned) -> Option<usize> {
    use rsa::pkcs8::DecodePublicKey;
    let der = key.to_der().ok()?;
    let pk = rsa::RsaPublicKey::from_public_key_der(&der).ok()?;
    Some(pk.n().bits())
}
