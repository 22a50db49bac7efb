//! CMS signatures (RFC 5652) as PAdES wants them (docs/signing.md): a
//! detached `SignedData` over the PDF's byte range whose signed attributes
//! are the content type, the message digest and the signer's certificate
//! (ESS `signing-certificate-v2`), never a signing time (the PDF's `/M`
//! carries the claimed time); and an RFC 3161 timestamp over the signature
//! value as an unsigned attribute (PAdES B-T).
//!
//! A CMS made elsewhere (a ГОСТ signature from КриптоПро or OpenSSL) is
//! read, checked and given its timestamp without being re-encoded: its
//! signed attributes are checked as they were signed, and the timestamp
//! is spliced into its bytes.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use super::der as raw;
use super::keys::Credentials;
use super::oid::{self, Digest};
use super::signature::{self, Outcome};

/// `IssuerSerial` of RFC 5035.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// `ESSCertIDv2` of RFC 5035, its hash algorithm left at the default SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `ESSCertIDv2` as others may write it: with any hash algorithm.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct AnyEssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// `SigningCertificateV2` as tabel writes it.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// `SigningCertificateV2` as others may write it.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct AnySigningCertificateV2 {
    certs: Vec<AnyEssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `SigningCertificate` of RFC 2634.
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `ESSCertID` of RFC 2634 (SHA-1).
#[derive(Clone, Debug, Eq, PartialEq, der::Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

fn attribute(oid: Oid, value: impl Encode) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(Any::from_der(&value.to_der()?)?)?;
    Ok(Attribute { oid, values })
}

fn algorithm(oid: Oid, null: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: null.then(|| Any::from(der::asn1::Null)),
    }
}

/// A detached CMS signature by `signer` over content whose digest (with
/// [`Credentials::digest`]) is `content_digest`: DER of a `ContentInfo`.
pub fn sign(signer: &Credentials, content_digest: &[u8]) -> Result<Vec<u8>> {
    let d = signer.digest();
    let cert = signer.certificate();
    let tbs = &cert.tbs_certificate;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Digest::Sha256.hash(&[&cert.to_der()?]))?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                serial_number: tbs.serial_number.clone(),
            }),
        }],
    };
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(oid::CONTENT_TYPE, oid::DATA)?)?;
    attrs.insert(attribute(
        oid::MESSAGE_DIGEST,
        OctetString::new(content_digest)?,
    )?)?;
    attrs.insert(attribute(oid::SIGNING_CERTIFICATE_V2, ess)?)?;
    let signed = attrs.to_der()?;
    let value = signer.sign(&d.hash(&[&signed]))?;
    let alg = signer.signature_algorithm();
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: algorithm(d.oid(), false),
        signed_attrs: Some(attrs),
        signature_algorithm: algorithm(alg, alg == oid::RSA_SHA256),
        signature: OctetString::new(value)?,
        unsigned_attrs: None,
    };
    let mut certs = SetOfVec::new();
    for c in &signer.chain {
        certs.insert(cms::cert::CertificateChoices::Certificate(c.clone()))?;
    }
    let mut digests = SetOfVec::new();
    digests.insert(algorithm(d.oid(), false))?;
    let mut infos = SetOfVec::new();
    infos.insert(info)?;
    let sd = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oid::DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(infos),
    };
    let ci = ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(&sd)?,
    };
    Ok(ci.to_der()?)
}

/// Encodes a DER element of `tag` around `value`.
fn element(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// Rebuilds the element `tlv` with the descendant found along `path`
/// (child indices; `usize::MAX` is the last child) replaced by `with`'s result.
fn rebuild(
    tlv: &[u8],
    path: &[usize],
    with: &dyn Fn(raw::Tlv<'_>) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let (t, _) = raw::read(tlv)?;
    let Some((&first, rest)) = path.split_first() else {
        return with(t);
    };
    let kids = raw::children(t.value)?;
    let at = if first == usize::MAX {
        kids.len().checked_sub(1).context("CMS: an empty element")?
    } else {
        first
    };
    let mut value = Vec::with_capacity(t.value.len() + 64);
    for (i, k) in kids.iter().enumerate() {
        if i == at {
            value.extend(rebuild(k.raw, rest, with)?);
        } else {
            value.extend_from_slice(k.raw);
        }
    }
    Ok(element(t.tag, &value))
}

/// Adds `token` (an RFC 3161 `TimeStampToken`) to the CMS `cms` as the
/// signature-time-stamp unsigned attribute of its signer, keeping every
/// other byte (the signature stays valid).
pub fn add_timestamp(cms: &[u8], token: &[u8]) -> Result<Vec<u8>> {
    let attr = element(
        0x30,
        &[
            Oid::to_der(&oid::SIGNATURE_TIMESTAMP)?,
            element(0x31, token),
        ]
        .concat(),
    );
    // ContentInfo → [0] → SignedData → signerInfos (last) → the first SignerInfo.
    rebuild(cms, &[1, 0, usize::MAX, 0], &|info| {
        let kids = raw::children(info.value)?;
        let mut value = Vec::new();
        let mut added = false;
        for k in &kids {
            if k.tag == 0xa1 {
                // Unsigned attributes already there: one more, in DER order.
                let mut attrs: Vec<Vec<u8>> = raw::children(k.value)?
                    .iter()
                    .map(|a| a.raw.to_vec())
                    .collect();
                attrs.push(attr.clone());
                attrs.sort();
                value.extend(element(0xa1, &attrs.concat()));
                added = true;
            } else {
                value.extend_from_slice(k.raw);
            }
        }
        if !added {
            value.extend(element(0xa1, &attr));
        }
        Ok(element(info.tag, &value))
    })
}

/// A CMS `SignedData` with one signer, read for checking.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Every certificate it carries.
    pub certificates: Vec<Certificate>,
    /// The signer's certificate, when it carries it.
    pub signer: Option<Certificate>,
    /// The digest algorithm of the signer.
    pub digest: Oid,
    pub signature_algorithm: Oid,
    pub signature: Vec<u8>,
    /// The signed attributes exactly as signed (a `SET OF`), if any.
    signed_attrs: Option<Vec<u8>>,
    pub message_digest: Option<Vec<u8>>,
    content_type: Option<Oid>,
    /// The claimed `signing-time` attribute, if any.
    pub signing_time: Option<DateTime<Utc>>,
    /// ESS certificate references: (hash algorithm, hash of the signer's certificate).
    ess: Vec<(Digest, Vec<u8>)>,
    /// Timestamp tokens over the signature value (unsigned attributes).
    pub timestamps: Vec<Vec<u8>>,
    pub econtent_type: Oid,
    /// The encapsulated content, when it is not detached (a timestamp's TSTInfo).
    pub econtent: Option<Vec<u8>>,
}

/// The value of a single-valued attribute.
fn single(a: &Attribute) -> Result<&Any> {
    if a.values.len() != 1 {
        bail!("the attribute {} has {} values", a.oid, a.values.len());
    }
    a.values.get(0).context("an attribute without a value")
}

/// Reads a DER `ContentInfo` with a `SignedData` of one signer.
pub fn read(der: &[u8]) -> Result<Signed> {
    let ci = ContentInfo::from_der(der).map_err(|e| anyhow!("not a DER CMS ContentInfo: {e}"))?;
    if ci.content_type != oid::SIGNED_DATA {
        bail!("the CMS is not SignedData but {}", ci.content_type);
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| anyhow!("the CMS SignedData cannot be read: {e}"))?;
    if sd.signer_infos.0.len() != 1 {
        bail!(
            "the CMS has {} signers; one is expected",
            sd.signer_infos.0.len()
        );
    }
    let info = sd.signer_infos.0.get(0).context("no signer")?;
    let certificates: Vec<Certificate> = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let signer = certificates
        .iter()
        .find(|c| match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(is) => {
                c.tbs_certificate.issuer == is.issuer
                    && c.tbs_certificate.serial_number == is.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
                c.tbs_certificate.get::<x509_cert::ext::pkix::SubjectKeyIdentifier>(),
                Ok(Some((_, k))) if k == *ski
            ),
        })
        .cloned();
    let mut s = Signed {
        certificates,
        signer,
        digest: info.digest_alg.oid,
        signature_algorithm: info.signature_algorithm.oid,
        signature: info.signature.as_bytes().to_vec(),
        signed_attrs: raw::signed_attributes(der)?,
        message_digest: None,
        content_type: None,
        signing_time: None,
        ess: Vec::new(),
        timestamps: Vec::new(),
        econtent_type: sd.encap_content_info.econtent_type,
        econtent: match &sd.encap_content_info.econtent {
            Some(any) => Some(
                any.decode_as::<OctetString>()
                    .map_err(|e| anyhow!("the CMS content is not an OCTET STRING: {e}"))?
                    .as_bytes()
                    .to_vec(),
            ),
            None => None,
        },
    };
    for a in info.signed_attrs.iter().flat_map(|a| a.iter()) {
        match a.oid {
            oid::MESSAGE_DIGEST => {
                s.message_digest = Some(single(a)?.decode_as::<OctetString>()?.as_bytes().to_vec())
            }
            oid::CONTENT_TYPE => s.content_type = Some(single(a)?.decode_as::<Oid>()?),
            oid::SIGNING_TIME => {
                let t = x509_cert::time::Time::from_der(&single(a)?.to_der()?)?;
                s.signing_time = Some(super::cert::time(&t));
            }
            oid::SIGNING_CERTIFICATE_V2 => {
                let v: AnySigningCertificateV2 = single(a)?.decode_as()?;
                for c in v.certs {
                    let d = match &c.hash_algorithm {
                        Some(alg) => Digest::of(&alg.oid)?,
                        None => Digest::Sha256,
                    };
                    s.ess.push((d, c.cert_hash.as_bytes().to_vec()));
                }
            }
            oid::SIGNING_CERTIFICATE => {
                let v: SigningCertificate = single(a)?.decode_as()?;
                for c in v.certs {
                    s.ess.push((Digest::Sha1, c.cert_hash.as_bytes().to_vec()));
                }
            }
            _ => {}
        }
    }
    for a in info.unsigned_attrs.iter().flat_map(|a| a.iter()) {
        if a.oid == oid::SIGNATURE_TIMESTAMP {
            for v in a.values.iter() {
                s.timestamps.push(v.to_der()?);
            }
        }
    }
    if s.signed_attrs.is_some() != info.signed_attrs.is_some() {
        bail!("the CMS signed attributes cannot be found in its bytes");
    }
    Ok(s)
}

/// What checking a CMS signature found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The signed content is the content given (its digest matches).
    pub covers: Result<(), String>,
    /// The signature value, by the signer's key.
    pub signature: Outcome,
}

impl Signed {
    /// The digest algorithm of the signer, or why tabel cannot compute it.
    pub fn digest(&self) -> Result<Digest> {
        Digest::of(&self.digest)
    }

    /// Whether it signs attributes (else it signs the content directly).
    pub fn has_signed_attributes(&self) -> bool {
        self.signed_attrs.is_some()
    }

    /// Checks the signature over content whose digest (with [`Signed::digest`])
    /// is `content_digest`.
    pub fn check(&self, content_digest: &[u8]) -> Result<Checked> {
        let d = self.digest()?;
        let Some(cert) = &self.signer else {
            return Ok(Checked {
                covers: Err("the CMS does not carry its signer's certificate".into()),
                signature: Outcome::Bad("no signer certificate".into()),
            });
        };
        let key = &cert.tbs_certificate.subject_public_key_info;
        let (covers, signed_digest) = match &self.signed_attrs {
            Some(attrs) => {
                let covers = match &self.message_digest {
                    None => Err("the signed attributes have no message digest".to_owned()),
                    Some(md) if md.as_slice() == content_digest => Ok(()),
                    Some(md) => Err(format!(
                        "the signature is over other bytes: their {} is {}, this document's is {}",
                        d.name(),
                        hex(md),
                        hex(content_digest)
                    )),
                };
                let covers = covers.and_then(|()| match self.content_type {
                    Some(t) if t == self.econtent_type => Ok(()),
                    Some(t) => Err(format!(
                        "the signed content type {t} differs from the content's {}",
                        self.econtent_type
                    )),
                    None => Err("the signed attributes have no content type".into()),
                });
                (covers, d.hash(&[attrs]))
            }
            None => (Ok(()), content_digest.to_vec()),
        };
        let mut outcome = signature::check(
            key,
            &self.signature_algorithm,
            d,
            &signed_digest,
            &self.signature,
        );
        // The certificate the signer named must be the one that verified.
        if outcome == Outcome::Good {
            let der = cert.to_der()?;
            for (alg, hash) in &self.ess {
                if alg.hash(&[&der]) != *hash {
                    outcome = Outcome::Bad(
                        "the signed reference to the signer's certificate names another certificate"
                            .into(),
                    );
                }
            }
        }
        Ok(Checked {
            covers,
            signature: outcome,
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// The length of the DER element at the start of `bytes` (a CMS followed
/// by zero padding in a PDF's `/Contents`).
pub fn der_len(bytes: &[u8]) -> Result<usize> {
    Ok(raw::read(bytes)?.0.raw.len())
}
