//! A test PKI, made with the `openssl` tool at test time: a root CA, the
//! school's certificate and key (RSA; as PEM, encrypted PKCS #8 and
//! PKCS #12), a TSA certificate, and a director's ГОСТ key and certificate
//! (the Debian GOST engine); and a real TSA: `openssl ts -reply` behind a
//! small HTTP server on a thread of the test process (port 0).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::tool;

/// The GOST engine of Debian's `libengine-gost-openssl`.
pub const GOST_ENGINE: &str = "/usr/lib/x86_64-linux-gnu/engines-3/gost.so";

/// The files of the test PKI.
#[derive(Debug)]
pub struct Pki {
    pub dir: PathBuf,
    /// The root CA's certificate (trust anchor of every check).
    pub ca: PathBuf,
    /// The school's certificate and its key, plain and encrypted (PKCS #8
    /// with `KEY_PASSWORD`), and both in a PKCS #12 file (`KEY_PASSWORD`).
    pub cert: PathBuf,
    pub key: PathBuf,
    pub key_encrypted: PathBuf,
    pub p12: PathBuf,
    /// A second school certificate with an ECDSA P-256 key (PKCS #8).
    pub ec_cert: PathBuf,
    pub ec_key: PathBuf,
    /// The TSA's configuration for `openssl ts -reply`.
    tsa_config: PathBuf,
    /// The director's ГОСТ key and certificate (self-signed), if the engine is there.
    pub gost: Option<(PathBuf, PathBuf)>,
}

/// The password of the encrypted keys.
pub const KEY_PASSWORD: &str = "школьный пароль 17";

const CA_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
CN = tabel test CA
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

fn run(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The test PKI, made once per test process; `None` (a skip) without openssl.
pub fn pki() -> Option<&'static Pki> {
    tool("/usr/bin/openssl")?;
    static PKI: OnceLock<Pki> = OnceLock::new();
    Some(PKI.get_or_init(|| {
        let dir = super::files::shared_dir("pki");
        std::fs::write(dir.join("ca.cnf"), CA_CONFIG).unwrap();
        run(
            &dir,
            &[
                "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
                "-out", "ca.pem", "-days", "3650", "-config", "ca.cnf", "-extensions", "ca",
            ],
        );
        // A school name with the characters a PDF string must escape.
        for (name, subject, ext) in [
            ("school", "/CN=Школа № 17 (тест) \\\\ <подпись>/O=МБОУ СОШ № 17", "signer"),
            ("tsa", "/CN=tabel test TSA", "tsa"),
        ] {
            run(
                &dir,
                &[
                    "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    &format!("{name}.key"), "-out", &format!("{name}.csr"), "-subj", subject,
                    "-utf8",
                ],
            );
            run(
                &dir,
                &[
                    "x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.pem", "-CAkey",
                    "ca.key", "-CAcreateserial", "-out", &format!("{name}.pem"), "-days", "1000",
                    "-extfile", "ca.cnf", "-extensions", ext,
                ],
            );
        }
        run(
            &dir,
            &[
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "school-ec.key", "-out", "school-ec.csr", "-subj",
                "/CN=Школа № 17 (ECDSA)", "-utf8",
            ],
        );
        run(
            &dir,
            &[
                "x509", "-req", "-in", "school-ec.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "school-ec.pem", "-days", "1000", "-extfile",
                "ca.cnf", "-extensions", "signer",
            ],
        );
        let pass = format!("pass:{KEY_PASSWORD}");
        run(
            &dir,
            &[
                "pkcs8", "-topk8", "-in", "school.key", "-out", "school-encrypted.key", "-v2",
                "aes-256-cbc", "-passout", &pass,
            ],
        );
        run(
            &dir,
            &[
                "pkcs12", "-export", "-in", "school.pem", "-inkey", "school.key", "-certfile",
                "ca.pem", "-out", "school.p12", "-passout", &pass,
            ],
        );
        std::fs::write(
            dir.join("tsa.cnf"),
            format!(
                "[tsa]\ndefault_tsa = tsa1\n[tsa1]\ndir = {d}\nserial = {d}/tsaserial\ncrypto_device = builtin\n\
                 signer_cert = {d}/tsa.pem\ncerts = {d}/ca.pem\nsigner_key = {d}/tsa.key\nsigner_digest = sha256\n\
                 default_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\n\
                 tsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                d = dir.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("tsaserial"), "01\n").unwrap();
        let gost = Path::new(GOST_ENGINE).exists().then(|| {
            run(
                &dir,
                &[
                    "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt",
                    "paramset:TCA", "-out", "gost.key",
                ],
            );
            run(
                &dir,
                &[
                    "req", "-engine", "gost", "-x509", "-new", "-key", "gost.key", "-out",
                    "gost.pem", "-days", "1000", "-subj",
                    "/CN=Директор Иванова М. П./O=МБОУ СОШ № 17", "-utf8", "-md_gost12_256",
                    "-addext", "keyUsage=critical,digitalSignature,nonRepudiation",
                ],
            );
            (dir.join("gost.key"), dir.join("gost.pem"))
        });
        Pki {
            ca: dir.join("ca.pem"),
            cert: dir.join("school.pem"),
            key: dir.join("school.key"),
            key_encrypted: dir.join("school-encrypted.key"),
            p12: dir.join("school.p12"),
            ec_cert: dir.join("school-ec.pem"),
            ec_key: dir.join("school-ec.key"),
            tsa_config: dir.join("tsa.cnf"),
            gost,
            dir,
        }
    }))
}

/// How a test TSA answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// `openssl ts -reply`.
    Honest,
    /// HTTP 200 with bytes that are no timestamp response.
    Garbage,
    /// Honest for this many requests, then HTTP 503: a TSA that goes
    /// down in the middle of a run.
    FailsAfter(usize),
}

/// A TSA listening on loopback until the test process ends.
#[derive(Debug)]
pub struct Tsa {
    pub url: String,
    /// Requests answered so far.
    pub answered: &'static AtomicUsize,
}

/// Starts a TSA on a port of its own.
pub fn start_tsa(pki: &'static Pki, behaviour: Behaviour) -> Tsa {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let answered: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = answer(stream, pki, behaviour, answered);
            });
        }
    });
    Tsa { url, answered }
}

/// The one TSA most tests share.
pub fn tsa(pki: &'static Pki) -> &'static Tsa {
    static TSA: OnceLock<Tsa> = OnceLock::new();
    TSA.get_or_init(|| start_tsa(pki, Behaviour::Honest))
}

/// A URL where nothing listens.
pub fn unreachable_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/tsa")
}

fn answer(
    mut stream: TcpStream,
    pki: &Pki,
    behaviour: Behaviour,
    answered: &AtomicUsize,
) -> std::io::Result<()> {
    // `openssl ts -reply` keeps a serial number file: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let query = &buf[head_end..];
    if let Behaviour::FailsAfter(n) = behaviour
        && answered.load(Ordering::SeqCst) >= n
    {
        let msg = "the TSA is down";
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
                msg.len()
            )
            .as_bytes(),
        );
        return Ok(());
    }
    let body = match behaviour {
        Behaviour::Garbage => b"this is not a timestamp".to_vec(),
        Behaviour::Honest | Behaviour::FailsAfter(_) => {
            let n = N.fetch_add(1, Ordering::SeqCst);
            let q = pki.dir.join(format!("q{n}.tsq"));
            let r = pki.dir.join(format!("r{n}.tsr"));
            std::fs::write(&q, query)?;
            let o = {
                let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
                Command::new("openssl")
                    .args(["ts", "-reply", "-config"])
                    .arg(&pki.tsa_config)
                    .arg("-queryfile")
                    .arg(&q)
                    .arg("-out")
                    .arg(&r)
                    .output()?
            };
            if !o.status.success() {
                let msg = String::from_utf8_lossy(&o.stderr).into_owned();
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 500 TSA failed\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
                        msg.len()
                    )
                    .as_bytes(),
                );
                return Ok(());
            }
            let body = std::fs::read(&r)?;
            let _ = std::fs::remove_file(&q);
            let _ = std::fs::remove_file(&r);
            body
        }
    };
    answered.fetch_add(1, Ordering::SeqCst);
    stream.write_all(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )?;
    stream.write_all(&body)
}

/// An NSS database (for poppler's `pdfsig`) that trusts the test CA; `None`
/// without `certutil`.
pub fn nss_db(pki: &Pki) -> Option<PathBuf> {
    let certutil = tool("/usr/bin/certutil")?;
    static DB: OnceLock<PathBuf> = OnceLock::new();
    Some(
        DB.get_or_init(|| {
            let db = pki.dir.join("nssdb");
            std::fs::create_dir_all(&db).unwrap();
            let spec = format!("sql:{}", db.display());
            let o = Command::new(&certutil)
                .args(["-N", "-d", &spec, "--empty-password"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let o = Command::new(&certutil)
                .args([
                    "-A",
                    "-d",
                    &spec,
                    "-n",
                    "tabel test CA",
                    "-t",
                    "CT,C,C",
                    "-i",
                ])
                .arg(&pki.ca)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            db
        })
        .clone(),
    )
}
