//! X.509 certificates as tabel needs them: names in words, validity, key
//! purposes, and the path from a certificate up to a trusted root.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::name::Name;
use x509_cert::time::Time;

use super::oid;
use super::signature::{self, Outcome};

/// A name's attribute `want` (common name, organization) as text.
fn attribute(name: &Name, want: der::asn1::ObjectIdentifier) -> Option<String> {
    for rdn in name.0.iter().rev() {
        for atv in rdn.0.iter() {
            if atv.oid != want {
                continue;
            }
            let v = &atv.value;
            let text = v
                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    v.decode_as::<der::asn1::PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .or_else(|_| {
                    v.decode_as::<der::asn1::Ia5StringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .or_else(|_| {
                    v.decode_as::<der::asn1::TeletexStringRef<'_>>()
                        .map(|s| s.as_str().to_owned())
                })
                .or_else(|_| v.decode_as::<der::asn1::BmpString>().map(|s| s.to_string()));
            if let Ok(t) = text {
                return Some(t);
            }
        }
    }
    None
}

/// Text from a certificate, safe to print: control characters (a newline
/// or an escape sequence planted in a name) are shown as `\u{…}`.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A name in words: its common name, else its organization, else the
/// whole distinguished name. Printable (see [`printable`]).
pub fn name_of(name: &Name) -> String {
    let raw = attribute(name, oid::COMMON_NAME)
        .or_else(|| attribute(name, oid::ORGANIZATION))
        .unwrap_or_else(|| name.to_string());
    printable(&raw)
}

/// The subject of `cert` in words.
pub fn subject(cert: &Certificate) -> String {
    name_of(&cert.tbs_certificate.subject)
}

/// The issuer of `cert` in words.
pub fn issuer(cert: &Certificate) -> String {
    name_of(&cert.tbs_certificate.issuer)
}

pub fn time(t: &Time) -> DateTime<Utc> {
    let d = t.to_unix_duration();
    DateTime::from_timestamp(d.as_secs() as i64, 0).unwrap_or_default()
}

/// First and last moment of `cert`'s validity.
pub fn validity(cert: &Certificate) -> (DateTime<Utc>, DateTime<Utc>) {
    let v = &cert.tbs_certificate.validity;
    (time(&v.not_before), time(&v.not_after))
}

/// Whether `cert` may issue certificates.
fn is_ca(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate.get::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

/// Whether `cert` names `purpose` among its extended key usages, and
/// whether that extension is critical.
pub fn purpose(cert: &Certificate, purpose: der::asn1::ObjectIdentifier) -> Option<bool> {
    match cert.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((critical, eku))) if eku.0.contains(&purpose) => Some(critical),
        _ => None,
    }
}

/// Whether `issuer` signed `cert`.
pub fn signed_by(cert: &Certificate, issuer: &Certificate) -> Outcome {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Outcome::Bad("the issuer's name differs".into());
    }
    let alg = cert.signature_algorithm.oid;
    let Some(d) = signature::digest_of_algorithm(&alg) else {
        return Outcome::Unsupported(oid::name(&alg));
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return Outcome::Bad("the certificate cannot be encoded".into());
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return Outcome::Bad("the signature is not whole bytes".into());
    };
    signature::check(
        &issuer.tbs_certificate.subject_public_key_info,
        &alg,
        d,
        &d.hash(&[&tbs]),
        sig,
    )
}

/// Reads every certificate of a PEM file (or a single DER certificate).
pub fn read_all(bytes: &[u8]) -> Result<Vec<Certificate>> {
    if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let certs = Certificate::load_pem_chain(bytes)
            .map_err(|e| anyhow::anyhow!("not a PEM certificate list: {e}"))?;
        if certs.is_empty() {
            bail!("holds no certificate");
        }
        Ok(certs)
    } else {
        Ok(vec![
            Certificate::from_der(bytes).context("not a DER certificate")?,
        ])
    }
}

/// The path from `cert` to one of `anchors` at time `at`: the names along
/// it, root last; or why there is none.
pub fn path(
    cert: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    at: DateTime<Utc>,
) -> Result<Vec<String>, String> {
    let mut names = vec![subject(cert)];
    let mut current = cert.clone();
    for _ in 0..8 {
        let (from, until) = validity(&current);
        if at < from || at > until {
            return Err(format!(
                "the certificate of «{}» was not valid at {} (valid {} to {})",
                subject(&current),
                at.format("%Y-%m-%d %H:%M:%S UTC"),
                from.format("%Y-%m-%d"),
                until.format("%Y-%m-%d")
            ));
        }
        if anchors.contains(&current) {
            return Ok(names);
        }
        // An anchor that issued it ends the path; another issuer continues it.
        let mut unsupported = None;
        let mut next = None;
        for candidate in anchors.iter().chain(pool) {
            if candidate == &current
                || candidate.tbs_certificate.subject != current.tbs_certificate.issuer
            {
                continue;
            }
            match signed_by(&current, candidate) {
                Outcome::Good if anchors.contains(candidate) || is_ca(candidate) => {
                    next = Some(candidate.clone());
                    break;
                }
                Outcome::Unsupported(what) => unsupported = Some(what),
                _ => {}
            }
        }
        let Some(issuer) = next else {
            return Err(match unsupported {
                Some(what) => format!(
                    "the certificate of «{}» is signed with {what}, which tabel cannot check",
                    subject(&current)
                ),
                None => format!(
                    "the issuer of «{}» («{}») is not among the trusted certificates",
                    subject(&current),
                    issuer(&current)
                ),
            });
        };
        if !anchors.contains(&issuer) && !is_ca(&issuer) {
            return Err(format!(
                "«{}» is not a certificate authority",
                subject(&issuer)
            ));
        }
        names.push(subject(&issuer));
        current = issuer;
    }
    Err(format!(
        "the path from «{}» to a trusted certificate is too long",
        subject(cert)
    ))
}
