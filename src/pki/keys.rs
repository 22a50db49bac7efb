//! The school's signing credentials: its certificate (with the chain up
//! to its authority) and private key, from a PEM certificate file and a
//! PKCS #8 key (plain or password-protected), or from one PKCS #12 file.
//! Keys may be RSA or ECDSA (P-256, P-384); a ГОСТ key stays in its
//! certified tool, which signs through `tabel archive sign-prepare`
//! (docs/signing.md).

use anyhow::{Context, Result, anyhow, bail};
use der::asn1::{ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode};
use hmac::Mac;
use x509_cert::Certificate;

use super::cert;
use super::der as raw;
use super::oid::{self, Digest};
use super::signature;

/// A private key tabel signs with.
enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// A certificate chain (the signer's first) and its private key.
pub struct Credentials {
    pub chain: Vec<Certificate>,
    key: Key,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("signer", &self.signer_name())
            .finish_non_exhaustive()
    }
}

/// Every PEM block of `text`: label and bytes.
fn pem_blocks(text: &[u8]) -> Vec<(String, Vec<u8>)> {
    let s = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &s;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let Some(end_label) = block.find("-----END ") else {
            break;
        };
        let Some(close) = block[end_label + 9..].find("-----") else {
            break;
        };
        let end = end_label + 9 + close + 5;
        if let Ok((label, bytes)) = der::pem::decode_vec(&block.as_bytes()[..end]) {
            out.push((label.to_owned(), bytes));
        }
        rest = &block[end..];
    }
    out
}

/// A PKCS #8 `PrivateKeyInfo` (DER) as a key tabel signs with.
fn key_from_pkcs8(der: &[u8]) -> Result<Key> {
    use p256::pkcs8::DecodePrivateKey;
    let info = pkcs8::PrivateKeyInfo::try_from(der)
        .map_err(|e| anyhow!("not a PKCS #8 private key: {e}"))?;
    match info.algorithm.oid {
        oid::RSA => Ok(Key::Rsa(Box::new(
            rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| anyhow!("the RSA key cannot be read: {e}"))?,
        ))),
        oid::EC_PUBLIC_KEY => {
            let curve = info
                .algorithm
                .parameters
                .and_then(|p| p.decode_as::<Oid>().ok());
            match curve {
                Some(oid::P256) => Ok(Key::P256(
                    p256::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|e| anyhow!("the P-256 key cannot be read: {e}"))?,
                )),
                Some(oid::P384) => Ok(Key::P384(
                    p384::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|e| anyhow!("the P-384 key cannot be read: {e}"))?,
                )),
                _ => bail!("ECDSA keys on curves other than P-256 and P-384 are not supported"),
            }
        }
        oid::GOST_2012_256 | oid::GOST_2012_512 => bail!(
            "this is a ГОСТ key: tabel does not make ГОСТ signatures itself; sign with your certified tool through `tabel archive sign-prepare` and `sign-complete`"
        ),
        other => bail!("keys of type {} are not supported", oid::name(&other)),
    }
}

impl Credentials {
    /// Reads a certificate file (PEM: the signer's certificate first, then
    /// any intermediate ones) and a PKCS #8 key file (PEM), unlocking an
    /// encrypted key with `password`.
    pub fn from_pem(certs: &[u8], key: &[u8], password: Option<&str>) -> Result<Credentials> {
        let chain = cert::read_all(certs)?;
        let blocks = pem_blocks(key);
        let key = if let Some((_, der)) = blocks.iter().find(|(l, _)| l == "PRIVATE KEY") {
            key_from_pkcs8(der)?
        } else if let Some((_, der)) = blocks.iter().find(|(l, _)| l == "ENCRYPTED PRIVATE KEY") {
            let Some(password) = password else {
                bail!("the key is password-protected; give its password");
            };
            let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                .map_err(|e| anyhow!("the encrypted key cannot be read: {e}"))?;
            let doc = enc
                .decrypt(password.as_bytes())
                .map_err(|_| anyhow!("the key cannot be decrypted (a wrong password?)"))?;
            key_from_pkcs8(doc.as_bytes())?
        } else if let Some((label, _)) = blocks.first() {
            bail!(
                "the key is a {label:?} PEM block; tabel reads PKCS #8 keys (\"PRIVATE KEY\" or \"ENCRYPTED PRIVATE KEY\"): convert it with `openssl pkcs8 -topk8 -in OLD -out NEW`"
            );
        } else {
            bail!("holds no PEM private key");
        };
        Credentials::new(chain, key)
    }

    /// Reads a PKCS #12 file (`.p12`, `.pfx`) protected by `password`.
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Credentials> {
        let pfx =
            pkcs12::pfx::Pfx::from_der(bytes).map_err(|e| anyhow!("not a PKCS #12 file: {e}"))?;
        if pfx.auth_safe.content_type != oid::DATA {
            bail!("a PKCS #12 file protected by public keys is not supported");
        }
        let safe = pfx
            .auth_safe
            .content
            .decode_as::<OctetString>()
            .map_err(|e| anyhow!("PKCS #12: {e}"))?;
        let Some(mac) = &pfx.mac_data else {
            bail!("the PKCS #12 file has no integrity check (MAC)");
        };
        check_mac(mac, safe.as_bytes(), password)?;
        let parts = Vec::<cms::content_info::ContentInfo>::from_der(safe.as_bytes())
            .map_err(|e| anyhow!("PKCS #12: {e}"))?;
        let mut certs = Vec::new();
        let mut keys = Vec::new();
        for part in parts {
            let contents = match part.content_type {
                oid::DATA => part
                    .content
                    .decode_as::<OctetString>()
                    .map_err(|e| anyhow!("PKCS #12: {e}"))?
                    .as_bytes()
                    .to_vec(),
                o if o == Oid::new_unwrap("1.2.840.113549.1.7.6") => {
                    let enc = part
                        .content
                        .decode_as::<cms::encrypted_data::EncryptedData>()
                        .map_err(|e| anyhow!("PKCS #12: {e}"))?;
                    let info = enc.enc_content_info;
                    let data = info
                        .encrypted_content
                        .context("PKCS #12: an encrypted part without content")?;
                    decrypt(&info.content_enc_alg, password, data.as_bytes())?
                }
                other => bail!("PKCS #12: a part of type {other} is not supported"),
            };
            let bags = Vec::<pkcs12::safe_bag::SafeBag>::from_der(&contents)
                .map_err(|e| anyhow!("PKCS #12: {e}"))?;
            for bag in bags {
                let (outer, _) = raw::read(&bag.bag_value)?;
                let inner = outer.value;
                match bag.bag_id.to_string().as_str() {
                    // keyBag: a plain PrivateKeyInfo.
                    "1.2.840.113549.1.12.10.1.1" => keys.push(key_from_pkcs8(inner)?),
                    // pkcs8ShroudedKeyBag: an EncryptedPrivateKeyInfo.
                    "1.2.840.113549.1.12.10.1.2" => {
                        let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(inner)
                            .map_err(|e| anyhow!("PKCS #12: the key: {e}"))?;
                        let doc = enc.decrypt(password.as_bytes()).map_err(|_| {
                            anyhow!(
                                "PKCS #12: the key cannot be decrypted (its encryption is not PBES2, or a wrong password)"
                            )
                        })?;
                        keys.push(key_from_pkcs8(doc.as_bytes())?);
                    }
                    // certBag of an X.509 certificate.
                    "1.2.840.113549.1.12.10.1.3" => {
                        let bag = pkcs12::cert_type::CertBag::from_der(inner)
                            .map_err(|e| anyhow!("PKCS #12: a certificate: {e}"))?;
                        certs.push(
                            Certificate::from_der(bag.cert_value.as_bytes())
                                .map_err(|e| anyhow!("PKCS #12: a certificate: {e}"))?,
                        );
                    }
                    _ => {}
                }
            }
        }
        let Some(key) = keys.into_iter().next() else {
            bail!("the PKCS #12 file holds no private key");
        };
        // The signer's certificate first: the one whose key this is.
        let public = public_of(&key)?;
        let Some(at) = certs.iter().position(|c| {
            c.tbs_certificate.subject_public_key_info.to_der().ok() == Some(public.clone())
        }) else {
            bail!("the PKCS #12 file holds no certificate for its key");
        };
        let signer = certs.remove(at);
        let mut chain = vec![signer];
        chain.extend(certs);
        Credentials::new(chain, key)
    }

    fn new(chain: Vec<Certificate>, key: Key) -> Result<Credentials> {
        let Some(first) = chain.first() else {
            bail!("no certificate");
        };
        let public = public_of(&key)?;
        if first.tbs_certificate.subject_public_key_info.to_der()? != public {
            bail!(
                "the key does not belong to the certificate of «{}» (the first certificate of the file)",
                cert::subject(first)
            );
        }
        Ok(Credentials { chain, key })
    }

    /// The signer's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.chain[0]
    }

    /// The signer in words (the certificate's common name).
    pub fn signer_name(&self) -> String {
        cert::subject(self.certificate())
    }

    /// The digest tabel signs with this key.
    pub fn digest(&self) -> Digest {
        match self.key {
            Key::P384(_) => Digest::Sha384,
            _ => Digest::Sha256,
        }
    }

    /// The signature algorithm of CMS `SignerInfo.signatureAlgorithm`.
    pub fn signature_algorithm(&self) -> Oid {
        match self.key {
            Key::Rsa(_) => oid::RSA_SHA256,
            Key::P256(_) => oid::ECDSA_SHA256,
            Key::P384(_) => oid::ECDSA_SHA384,
        }
    }

    /// Signs the digest `digest` (of [`Credentials::digest`]).
    pub fn sign(&self, digest: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        Ok(match &self.key {
            Key::Rsa(k) => {
                let scheme =
                    signature::pkcs1(Digest::Sha256).context("no PKCS #1 scheme for SHA-256")?;
                // With blinding (a random number), against timing attacks.
                k.sign_with_rng(&mut rand::thread_rng(), scheme, digest)
                    .map_err(|e| anyhow!("cannot sign: {e}"))?
            }
            Key::P256(k) => {
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .map_err(|e| anyhow!("cannot sign: {e}"))?;
                sig.to_der().as_bytes().to_vec()
            }
            Key::P384(k) => {
                let sig: p384::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .map_err(|e| anyhow!("cannot sign: {e}"))?;
                sig.to_der().as_bytes().to_vec()
            }
        })
    }
}

/// The DER `SubjectPublicKeyInfo` of a private key's public half.
fn public_of(key: &Key) -> Result<Vec<u8>> {
    use p256::pkcs8::EncodePublicKey;
    let doc = match key {
        Key::Rsa(k) => rsa::RsaPublicKey::from(k.as_ref()).to_public_key_der(),
        Key::P256(k) => k.verifying_key().to_public_key_der(),
        Key::P384(k) => k.verifying_key().to_public_key_der(),
    }
    .map_err(|e| anyhow!("cannot encode the public key: {e}"))?;
    Ok(doc.as_bytes().to_vec())
}

/// Checks the PKCS #12 MAC over the authenticated safe: the password is right
/// and the file whole.
fn check_mac(mac: &pkcs12::mac_data::MacData, data: &[u8], password: &str) -> Result<()> {
    use pkcs12::kdf::{Pkcs12KeyType, derive_key_utf8};
    let alg = Digest::of(&mac.mac.algorithm.oid)
        .map_err(|e| anyhow!("PKCS #12: the integrity check: {e}"))?;
    let salt = mac.mac_salt.as_bytes();
    let want = mac.mac.digest.as_bytes();
    let rounds = mac.iterations;
    let bad = || anyhow!("the PKCS #12 file does not open with this password (or is damaged)");
    macro_rules! run {
        ($d:ty, $len:expr) => {{
            let key = derive_key_utf8::<$d>(password, salt, Pkcs12KeyType::Mac, rounds, $len)
                .map_err(|e| anyhow!("PKCS #12: {e}"))?;
            let mut m = hmac::Hmac::<$d>::new_from_slice(&key).map_err(|_| bad())?;
            m.update(data);
            m.verify_slice(want).map_err(|_| bad())
        }};
    }
    match alg {
        Digest::Sha1 => run!(sha1::Sha1, 20),
        Digest::Sha256 => run!(sha2::Sha256, 32),
        Digest::Sha384 => run!(sha2::Sha384, 48),
        Digest::Sha512 => run!(sha2::Sha512, 64),
        other => bail!(
            "PKCS #12: an integrity check with {} is not supported",
            other.name()
        ),
    }
}

/// Decrypts a PKCS #12 part encrypted with PBES2 (what OpenSSL 3 and
/// current Windows write).
fn decrypt(alg: &spki::AlgorithmIdentifierOwned, password: &str, data: &[u8]) -> Result<Vec<u8>> {
    let der = alg.to_der()?;
    let scheme = pkcs5::EncryptionScheme::try_from(der.as_slice()).map_err(|_| {
        anyhow!(
            "PKCS #12: the certificates are encrypted with {}, an old scheme tabel does not read; re-export the file with current OpenSSL (`openssl pkcs12 -export`, which uses AES) or give the certificate and a PKCS #8 key",
            oid::name(&alg.oid)
        )
    })?;
    scheme
        .decrypt(password.as_bytes(), data)
        .map_err(|_| anyhow!("PKCS #12: the certificates cannot be decrypted (a wrong password?)"))
}
