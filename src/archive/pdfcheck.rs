//! Checking the signatures inside a statement PDF (docs/signing.md): that
//! they cover the whole file but their own value, that the signed digest
//! is this document's, that the signer's key made the signature, what
//! time a TSA vouches for, and with trusted roots whether the signer's and
//! the TSA's certificates lead to one.

use chrono::{DateTime, Utc};
use x509_cert::Certificate;

use crate::pki::{Outcome, cert, cms, tsp};
use crate::render::pdf::sign as pdfsign;

/// What checking one signature of a PDF found.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// The signer (the certificate's common name), if known.
    pub signer: Option<String>,
    /// Who issued the signer's certificate.
    pub issuer: Option<String>,
    /// The TSA's time, if the signature has a timestamp.
    pub time: Option<DateTime<Utc>>,
    /// The TSA in words.
    pub tsa: Option<String>,
    /// `PAdES-B-B`, `PAdES-B-T`.
    pub level: &'static str,
    /// The signature's algorithms in words.
    pub algorithm: String,
    /// Why it is not valid (empty: valid).
    pub problems: Vec<String>,
    /// What holds but is worth saying (what tabel could not check).
    pub notes: Vec<String>,
}

/// Checks every signature of `pdf`; empty when it has none.
pub fn check(pdf: &[u8], anchors: &[Certificate]) -> Vec<Verdict> {
    let found = match pdfsign::signatures(pdf) {
        Ok(f) => f,
        Err(e) => {
            return vec![Verdict {
                problems: vec![format!("its signatures cannot be read: {e:#}")],
                level: "?",
                ..Verdict::default()
            }];
        }
    };
    found.iter().map(|s| one(pdf, s, anchors)).collect()
}

fn one(pdf: &[u8], s: &pdfsign::Found, anchors: &[Certificate]) -> Verdict {
    let mut v = Verdict {
        level: "PAdES-B-B",
        ..Verdict::default()
    };
    if let Err(why) = &s.whole {
        v.problems.push(format!(
            "the signature does not cover the whole file: {why}"
        ));
        return v;
    }
    if !["ETSI.CAdES.detached", "adbe.pkcs7.detached"].contains(&s.sub_filter.as_str()) {
        v.problems.push(format!(
            "the signature's kind /{} is not one tabel checks",
            s.sub_filter
        ));
        return v;
    }
    let len = match cms::der_len(&s.contents) {
        Ok(n) => n,
        Err(e) => {
            v.problems
                .push(format!("the signature cannot be read: {e:#}"));
            return v;
        }
    };
    if s.contents[len..].iter().any(|&b| b != 0) {
        v.problems.push(
            "the signature's /Contents holds other bytes after the signature (the padding was altered)"
                .into(),
        );
    }
    let der = &s.contents[..len];
    let signed = match cms::read(der) {
        Ok(x) => x,
        Err(e) => {
            v.problems
                .push(format!("the signature cannot be read: {e:#}"));
            return v;
        }
    };
    if let Some(c) = &signed.signer {
        v.signer = Some(cert::subject(c));
        v.issuer = Some(cert::issuer(c));
        v.algorithm = format!(
            "{}, {}",
            crate::pki::signature::describe_key(&c.tbs_certificate.subject_public_key_info),
            crate::pki::oid::name(&signed.digest)
        );
    }
    let d = match signed.digest() {
        Ok(d) => d,
        Err(e) => {
            v.problems.push(format!("{e:#}"));
            return v;
        }
    };
    let digest = d.hash(&s.signed(pdf));
    match signed.check(&digest) {
        Err(e) => v.problems.push(format!("{e:#}")),
        Ok(c) => {
            if let Err(why) = c.covers {
                v.problems.push(format!(
                    "the document was changed after it was signed: {why}"
                ));
            }
            match c.signature {
                Outcome::Good => {}
                Outcome::Bad(why) => v.problems.push(format!("the signature is not valid: {why}")),
                Outcome::Unsupported(what) => v.notes.push(format!(
                    "the signature value ({what}) is not checked by tabel: check it with a certified tool (КриптоПро) or `openssl cms -verify -engine gost` (docs/signing.md); what it covers was checked"
                )),
            }
        }
    }
    // The timestamp over the signature value.
    for token in &signed.timestamps {
        match tsp::check(token) {
            Err(e) => v
                .problems
                .push(format!("its timestamp cannot be read: {e:#}")),
            Ok(st) => {
                if let Err(why) = &st.valid {
                    v.problems
                        .push(format!("its timestamp does not verify: {why}"));
                }
                let (alg, imprint) = &st.imprint;
                if alg.hash(&[&signed.signature]) != *imprint {
                    v.problems
                        .push("its timestamp is over another signature".into());
                }
                if st.valid.is_ok() {
                    v.level = "PAdES-B-T";
                }
                v.time = Some(st.time);
                v.tsa = Some(st.tsa_name());
                if !anchors.is_empty() {
                    match &st.tsa {
                        Some(c) => {
                            if let Err(why) = cert::path(c, &st.certificates, anchors, st.time) {
                                v.problems.push(format!("its TSA is not trusted: {why}"));
                            }
                        }
                        None => v
                            .problems
                            .push("its timestamp names no TSA certificate".into()),
                    }
                }
            }
        }
    }
    // The signer's certificate at the time of signing.
    if let Some(c) = &signed.signer {
        let at = v.time.unwrap_or_else(Utc::now);
        if anchors.is_empty() {
            let (from, until) = cert::validity(c);
            if at < from || at > until {
                v.problems.push(format!(
                    "the signer's certificate was not valid at {} (valid {} to {})",
                    at.format("%Y-%m-%d %H:%M:%S UTC"),
                    from.format("%Y-%m-%d"),
                    until.format("%Y-%m-%d")
                ));
            }
        } else if let Err(why) = cert::path(c, &signed.certificates, anchors, at) {
            v.problems.push(format!("the signer is not trusted: {why}"));
        }
    }
    v
}
