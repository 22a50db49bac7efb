//! RFC 3161 timestamps: asking a TSA for one over a digest, and checking
//! one — the TSA's signature over its `TSTInfo`, what it stamped, when,
//! and that its certificate is meant for timestamping.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use der::asn1::{Any, Int, OctetString};
use der::{Decode, Encode};
use rand::RngCore;
use x509_cert::Certificate;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use super::cert;
use super::cms;
use super::http;
use super::oid::{self, Digest};
use super::signature::Outcome;

/// A checked timestamp token.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// When the TSA says it saw the digest.
    pub time: DateTime<Utc>,
    /// What it stamped: the digest algorithm and value.
    pub imprint: (Digest, Vec<u8>),
    /// The TSA's certificate, if the token carries it.
    pub tsa: Option<Certificate>,
    /// Every certificate the token carries.
    pub certificates: Vec<Certificate>,
    /// Whether the token is whole and signed by the TSA certificate it
    /// carries, or why not.
    pub valid: Result<(), String>,
    /// The TSA's signature algorithm (for how long it holds).
    pub signature_algorithm: String,
    /// The token's signer digest algorithm.
    pub digest: Option<Digest>,
}

impl Stamp {
    /// The TSA in words.
    pub fn tsa_name(&self) -> String {
        self.tsa
            .as_ref()
            .map(cert::subject)
            .unwrap_or_else(|| "an unnamed TSA".into())
    }
}

/// Asks the TSA at `url` for a timestamp over `digest` (made with `d`);
/// returns the checked token's DER.
pub fn stamp(url_with_login: &str, timeout: Duration, d: Digest, digest: &[u8]) -> Result<Vec<u8>> {
    // Messages name the TSA without the password a URL may carry.
    let url = &http::redact(url_with_login);
    let mut nonce = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut nonce);
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01;
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier::<Any> {
                oid: d.oid(),
                parameters: None,
            },
            hashed_message: OctetString::new(digest)?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce)?),
        cert_req: true,
        extensions: None,
    };
    let answer = http::post(
        url_with_login,
        "application/timestamp-query",
        &req.to_der()?,
        timeout,
    )
    .with_context(|| format!("the TSA {url} gave no timestamp"))?;
    let resp = TimeStampResp::from_der(&answer).map_err(|e| {
        anyhow!("the TSA {url} answered with something that is not a timestamp response: {e}")
    })?;
    use cmpv2::status::PkiStatus;
    if !matches!(
        resp.status.status,
        PkiStatus::Accepted | PkiStatus::GrantedWithMods
    ) {
        let text: Vec<&str> = resp
            .status
            .status_string
            .iter()
            .flatten()
            .map(|s| s.as_str())
            .collect();
        bail!(
            "the TSA {url} refused the timestamp ({:?}{})",
            resp.status.status,
            if text.is_empty() {
                String::new()
            } else {
                format!(": {}", text.join("; "))
            }
        );
    }
    let token = resp
        .time_stamp_token
        .with_context(|| format!("the TSA {url} granted a timestamp but sent none"))?
        .to_der()?;
    let st = check(&token)?;
    if let Err(why) = &st.valid {
        bail!("the timestamp of the TSA {url} does not verify: {why}");
    }
    if st.imprint != (d, digest.to_vec()) {
        bail!("the TSA {url} stamped something else than what was asked");
    }
    let info = tst_info(&token)?;
    let sent = Int::new(&nonce)?;
    if info.nonce.as_ref() != Some(&sent) {
        bail!("the TSA {url} answered another request (its nonce differs)");
    }
    Ok(token)
}

fn tst_info(token: &[u8]) -> Result<TstInfo> {
    let signed = cms::read(token)?;
    if signed.econtent_type != oid::TST_INFO {
        bail!("the token's content is not a TSTInfo");
    }
    let content = signed.econtent.context("the token has no TSTInfo")?;
    TstInfo::from_der(&content).map_err(|e| anyhow!("the TSTInfo cannot be read: {e}"))
}

/// Reads and checks a timestamp token (a CMS `ContentInfo`); an `Err` when
/// it cannot be read at all.
pub fn check(token: &[u8]) -> Result<Stamp> {
    let signed = cms::read(token).context("the timestamp token cannot be read")?;
    if signed.econtent_type != oid::TST_INFO {
        bail!("the timestamp token's content is not a TSTInfo");
    }
    let content = signed
        .econtent
        .clone()
        .context("the timestamp token has no TSTInfo")?;
    let info =
        TstInfo::from_der(&content).map_err(|e| anyhow!("the TSTInfo cannot be read: {e}"))?;
    let imprint_alg = Digest::of(&info.message_imprint.hash_algorithm.oid)?;
    let time = DateTime::from_timestamp(info.gen_time.to_unix_duration().as_secs() as i64, 0)
        .unwrap_or_default();
    let digest = signed.digest().ok();
    let valid = match digest {
        None => Err(format!(
            "the TSA signed with the digest {}, which tabel does not know",
            oid::name(&signed.digest)
        )),
        Some(d) => {
            let checked = signed.check(&d.hash(&[&content]))?;
            match (checked.covers, checked.signature) {
                (Err(why), _) => Err(why),
                (Ok(()), Outcome::Good) => Ok(()),
                (Ok(()), Outcome::Bad(why)) => Err(format!("the TSA's signature: {why}")),
                (Ok(()), Outcome::Unsupported(what)) => Err(format!(
                    "the TSA signed with {what}, which tabel cannot check"
                )),
            }
        }
    };
    let valid = valid.and_then(|()| match &signed.signer {
        Some(c) if cert::purpose(c, oid::KP_TIME_STAMPING).is_some() => Ok(()),
        Some(c) => Err(format!(
            "the certificate of «{}» is not meant for timestamps",
            cert::subject(c)
        )),
        None => Err("the token does not carry the TSA's certificate".into()),
    });
    Ok(Stamp {
        time,
        imprint: (
            imprint_alg,
            info.message_imprint.hashed_message.as_bytes().to_vec(),
        ),
        signature_algorithm: match &signed.signer {
            Some(c) => format!(
                "{} ({})",
                super::signature::describe_key(&c.tbs_certificate.subject_public_key_info),
                oid::name(&signed.signature_algorithm)
            ),
            None => oid::name(&signed.signature_algorithm),
        },
        tsa: signed.signer.clone(),
        certificates: signed.certificates.clone(),
        valid,
        digest,
    })
}
