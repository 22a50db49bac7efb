//! Statements that prove themselves (docs/signing.md): PAdES signatures
//! inside the bag's PDFs with the school's certificate and a real TSA
//! (`openssl ts -reply` on loopback), judged by validators nobody here
//! wrote — pyHanko and poppler's `pdfsig` with an NSS database that trusts
//! the test CA — and by `tabel verify`; one byte changed anywhere is
//! rejected by all three; the external ГОСТ signer (OpenSSL's GOST engine)
//! through `sign-prepare` and `sign-complete`, and a CMS over another
//! document refused; the chain of archive timestamps renewed twice, every
//! removed or altered link named; a TSA that cannot be reached leaves
//! nothing half-signed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use crate::support::archive::{AFTER, outside_validators_accept, year};
use crate::support::pki::{self, Behaviour, KEY_PASSWORD, Pki};
use crate::support::{repo, tabel, tool, tree};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `tabel archive` of the finished demo year into `out`, with `extra` arguments.
fn archive(out: &Path, extra: &[&str]) -> Output {
    let y = year();
    let key = y.keys.join("tabel.key");
    let mut args = vec![
        "--database",
        &y.url,
        "--output",
        s(out),
        "archive",
        "--year",
        "2026/2027",
        "--key",
        s(&key),
        "--date",
        AFTER,
    ];
    args.extend_from_slice(extra);
    tabel().args(&args).output()
}

fn verify(bag: &Path, trust: &Path) -> Output {
    verify_trusting(bag, &[trust])
}

/// `tabel verify` with the school's public key and every root of `trust`.
fn verify_trusting(bag: &Path, trust: &[&Path]) -> Output {
    let pubkey = year().keys.join("tabel.pub");
    let mut c = tabel().args(["verify", s(bag), "--pubkey", s(&pubkey)]);
    for t in trust {
        c = c.args(["--trust", s(t)]);
    }
    c.output()
}

/// A copy of the bag `bag` to change, named `name`.
fn copy(bag: &Path, name: &str) -> PathBuf {
    let to = year().root.join("signature-copies").join(name);
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    let o = Command::new("cp")
        .args(["-a", s(bag), s(&to)])
        .output()
        .unwrap();
    assert!(o.status.success());
    to
}

/// Every PDF of a bag's payload.
fn pdfs(bag: &Path) -> Vec<PathBuf> {
    tree(&bag.join("data"))
        .keys()
        .filter(|p| p.ends_with(".pdf"))
        .map(|p| bag.join("data").join(p))
        .collect()
}

/// The bag of the demo year with every statement signed by the school's
/// certificate (PEM and PKCS #8) and timestamped by the test TSA.
fn signed_bag() -> Option<&'static (PathBuf, &'static Pki)> {
    let pki = pki::pki()?;
    static BAG: OnceLock<(PathBuf, &'static Pki)> = OnceLock::new();
    Some(BAG.get_or_init(|| {
        let tsa = pki::tsa(pki);
        let out = year().root.join("signed");
        let o = archive(
            &out,
            &[
                "--sign-pdf",
                "--pdf-cert",
                s(&pki.cert),
                "--pdf-key",
                s(&pki.key),
                "--tsa-url",
                &tsa.url,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("each signed inside (PAdES-B-T, in ")
                && text(&o).contains("timestamped"),
            "{}",
            text(&o)
        );
        (out.join("archive/2026-2027"), pki)
    }))
}

/// pyHanko's `pyhanko sign validate --trust CA --trust-replace
/// --pretty-print` on each file (one Python process for all, see
/// tests/pyhanko/validate.py): file, what it printed, its exit status.
/// `None` when pyHanko is missing and not required.
fn pyhanko(ca: &Path, files: &[PathBuf]) -> Option<Vec<(PathBuf, String, i32)>> {
    let probe = Command::new("python3")
        .args(["-c", "import pyhanko.cli"])
        .output()
        .unwrap();
    if !probe.status.success() {
        assert!(
            std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "pyHanko is missing (run .ci/run): {}",
            text(&probe)
        );
        eprintln!("note: pyHanko is missing; skipping");
        return None;
    }
    let o = Command::new("python3")
        .arg(repo("tests/pyhanko/validate.py"))
        .args(["--trust", s(ca), "--trust-replace", "--pretty-print", "--"])
        .args(files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut results = Vec::new();
    for f in files {
        let start = out
            .find(&format!("<<< {}\n", f.display()))
            .unwrap_or_else(|| panic!("no result for {}: {out}", f.display()));
        let rest = &out[start..];
        let end = rest.find("\n>>> exit ").unwrap();
        let code: i32 = rest[end + 10..]
            .lines()
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        results.push((f.clone(), rest[..end].to_owned(), code));
    }
    Some(results)
}

/// poppler's `pdfsig` with the NSS database that trusts the test CA.
fn pdfsig(pki: &Pki, file: &Path) -> Option<String> {
    let pdfsig = tool("/usr/bin/pdfsig")?;
    let db = pki::nss_db(pki)?;
    let o = Command::new(pdfsig)
        .arg("-nssdir")
        .arg(format!("sql:{}", db.display()))
        .arg(file)
        .output()
        .unwrap();
    Some(text(&o))
}

#[test]
fn every_signed_statement_validates_with_pyhanko_pdfsig_and_tabel() {
    let Some((bag, pki)) = signed_bag() else {
        return;
    };
    let files = pdfs(bag);
    assert!(files.len() > 20, "{files:?}");
    // pyHanko: valid, B-T (a sound timestamp by a trusted TSA), trusted signer.
    if let Some(results) = pyhanko(&pki.ca, &files) {
        for (f, out, code) in results {
            assert_eq!(code, 0, "{}: {out}", f.display());
            for needle in [
                "The signature is judged VALID.",
                "The signer's certificate is trusted.",
                "The signature is cryptographically sound.",
                "The timestamp token is cryptographically sound.",
                "The TSA certificate is trusted.",
                "The signature covers the entire file.",
                "Школа № 17 (тест)",
            ] {
                assert!(
                    out.contains(needle),
                    "{}: {needle:?} not in\n{out}",
                    f.display()
                );
            }
        }
    }
    // pdfsig: valid, the issuer trusted, the whole document signed.
    for f in &files {
        let Some(out) = pdfsig(pki, f) else { break };
        for needle in [
            "Signature Validation: Signature is Valid.",
            "Certificate Validation: Certificate is Trusted.",
            "Total document signed",
            "Signature Type: ETSI.CAdES.detached",
        ] {
            assert!(
                out.contains(needle),
                "{}: {needle:?} not in\n{out}",
                f.display()
            );
        }
    }
    // Still PDF/A-2b with every font embedded, and sound to qpdf.
    for f in &files {
        let (Some(pdfinfo), Some(pdffonts), Some(qpdf)) = (
            tool("/usr/bin/pdfinfo"),
            tool("/usr/bin/pdffonts"),
            tool("/usr/bin/qpdf"),
        ) else {
            break;
        };
        let meta = text(&Command::new(&pdfinfo).arg("-meta").arg(f).output().unwrap());
        assert!(
            meta.contains("<pdfaid:part>2</pdfaid:part>")
                && meta.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "{}: {meta}",
            f.display()
        );
        let fonts = text(&Command::new(&pdffonts).arg(f).output().unwrap());
        for row in fonts.lines().skip(2) {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[cols.len() - 5], "yes", "{}: {row}", f.display());
        }
        let check = Command::new(&qpdf).arg("--check").arg(f).output().unwrap();
        assert!(check.status.success(), "{}: {}", f.display(), text(&check));
    }
    // The bag: bagit.py, minisign, and tabel verify with the trusted root.
    outside_validators_accept(bag, Some(&year().keys.join("tabel.pub")));
    let o = verify(bag, &pki.ca);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "PDF signatures: {} signed PDFs, all valid",
            files.len()
        )),
        "{out}"
    );
    let first = files[0].strip_prefix(bag).unwrap().display().to_string();
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{first}:")))
        .unwrap_or_else(|| panic!("no line for {first}: {out}"));
    for needle in [
        "valid (PAdES-B-T)",
        "signed by «Школа № 17 (тест) \\ <подпись>» (certificate of «tabel test CA»)",
        "RSA-2048",
        "by the TSA «tabel test TSA»",
    ] {
        assert!(line.contains(needle), "{needle:?} not in {line}");
    }
    assert!(out.contains("timestamp chain: 1 link(s), holds"), "{out}");
    assert!(out.contains("signature: good"), "{out}");
    let info = fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Statement-Signatures: PAdES-B-T"), "{info}");
    // Without the trusted root, tabel says it did not check the roots.
    let o = tabel().args(["verify", s(bag)]).output();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("NOT checked against a trusted root"),
        "{}",
        text(&o)
    );
}

/// Replaces one byte of `file` at `at`: a hex digit by another inside the
/// signature, any other byte by its neighbour value.
fn change_byte(file: &Path, at: usize) {
    let mut b = fs::read(file).unwrap();
    b[at] = match b[at] {
        c if c.is_ascii_hexdigit() => {
            if c == b'A' {
                b'B'
            } else {
                b'A'
            }
        }
        c => c ^ 0x01,
    };
    fs::write(file, b).unwrap();
}

/// Where, in the signed PDF `pdf`, the hex digits of the signer's
/// signature value start (inside /Contents, outside the byte range).
fn signature_value_at(pdf: &[u8]) -> usize {
    let found = tabel::render::pdf::sign::signatures(pdf).unwrap();
    let sig = &found[0];
    let len = tabel::pki::cms::der_len(&sig.contents).unwrap();
    let der = &sig.contents[..len];
    let value = tabel::pki::cms::read(der).unwrap().signature;
    let in_der = der
        .windows(value.len())
        .position(|w| w == value.as_slice())
        .unwrap();
    sig.byte_range[1] as usize + 1 + 2 * (in_der + value.len() / 2)
}

#[test]
fn one_byte_changed_inside_or_outside_the_byte_range_is_rejected() {
    let Some((bag, pki)) = signed_bag() else {
        return;
    };
    let victim = pdfs(bag)
        .into_iter()
        .find(|p| p.ends_with("year.pdf"))
        .unwrap();
    let rel = victim.strip_prefix(bag).unwrap().display().to_string();
    let bytes = fs::read(&victim).unwrap();
    let cases = [
        (
            "inside",
            2000usize,
            "the document was changed after it was signed",
        ),
        (
            "outside",
            signature_value_at(&bytes),
            "the signature is not valid",
        ),
    ];
    let mut changed = Vec::new();
    for (name, at, needle) in cases {
        let copy = copy(bag, &format!("byte-{name}"));
        let f = copy.join(&rel);
        change_byte(&f, at);
        assert_ne!(fs::read(&f).unwrap(), bytes);
        // tabel verify names the file and why.
        let o = verify(&copy, &pki.ca);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        assert!(
            out.contains(&format!("{rel}: {needle}")),
            "{name}: {needle:?} not in {out}"
        );
        // pdfsig does not call it valid.
        if let Some(out) = pdfsig(pki, &f) {
            assert!(!out.contains("Signature is Valid"), "{name}: {out}");
        }
        changed.push(f);
    }
    if let Some(results) = pyhanko(&pki.ca, &changed) {
        for (f, out, code) in results {
            assert_ne!(code, 0, "{}: {out}", f.display());
            assert!(!out.contains("judged VALID"), "{}: {out}", f.display());
        }
    }
}

#[test]
fn pkcs12_and_encrypted_keys_sign_and_wrong_passwords_are_refused() {
    let Some(pki) = pki::pki() else {
        return;
    };
    let tsa = pki::tsa(pki);
    // A PKCS #12 file, its password from the environment.
    let out = year().root.join("signed-p12");
    let y = year();
    let key = y.keys.join("tabel.key");
    let base = [
        "--database",
        y.url.as_str(),
        "--output",
        s(&out),
        "archive",
        "--year",
        "2026/2027",
        "--key",
        s(&key),
        "--date",
        AFTER,
        "--tsa-url",
        tsa.url.as_str(),
    ];
    let o = tabel()
        .args(base)
        .args(["--pdf-p12", s(&pki.p12)])
        .env("TABEL_PDF_KEY_PASSWORD", KEY_PASSWORD)
        .output();
    assert!(o.status.success(), "{}", text(&o));
    let o = verify(&out.join("archive/2026-2027"), &pki.ca);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A wrong password: a clear error, no archive.
    let wrong = year().root.join("signed-p12-wrong");
    let mut args = base.to_vec();
    args[3] = s(&wrong);
    let o = tabel()
        .args(&args)
        .args(["--pdf-p12", s(&pki.p12)])
        .env("TABEL_PDF_KEY_PASSWORD", "not the password")
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not open with this password"),
        "{}",
        text(&o)
    );
    assert!(!wrong.join("archive").exists());
    // An encrypted PKCS #8 key with its password on standard input.
    let enc = year().root.join("signed-pkcs8");
    let mut args = base.to_vec();
    args[3] = s(&enc);
    let o = tabel()
        .args(&args)
        .args([
            "--pdf-cert",
            s(&pki.cert),
            "--pdf-key",
            s(&pki.key_encrypted),
            "--pdf-password-stdin",
        ])
        .stdin(&format!("{KEY_PASSWORD}\n"))
        .output();
    assert!(o.status.success(), "{}", text(&o));
    // An ECDSA P-256 key: valid to pyHanko and tabel too.
    let ec = year().root.join("signed-ecdsa");
    let mut args = base.to_vec();
    args[3] = s(&ec);
    let o = tabel()
        .args(&args)
        .args(["--pdf-cert", s(&pki.ec_cert), "--pdf-key", s(&pki.ec_key)])
        .output();
    assert!(o.status.success(), "{}", text(&o));
    let ec_bag = ec.join("archive/2026-2027");
    let o = verify(&ec_bag, &pki.ca);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("ECDSA"), "{}", text(&o));
    if let Some(results) = pyhanko(&pki.ca, &pdfs(&ec_bag)[..2]) {
        for (f, out, code) in results {
            assert_eq!(code, 0, "{}: {out}", f.display());
            assert!(out.contains("The signature is judged VALID."), "{out}");
        }
    }
    // Without it, it says how to give one.
    let none = year().root.join("signed-pkcs8-none");
    let mut args = base.to_vec();
    args[3] = s(&none);
    let o = tabel()
        .args(&args)
        .args([
            "--pdf-cert",
            s(&pki.cert),
            "--pdf-key",
            s(&pki.key_encrypted),
        ])
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("TABEL_PDF_KEY_PASSWORD"), "{}", text(&o));
    // The key of another certificate.
    let o = tabel()
        .args(&args)
        .args(["--pdf-cert", s(&pki.ca), "--pdf-key", s(&pki.key)])
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("does not belong to the certificate"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_tsa_that_cannot_be_reached_or_answers_nonsense_leaves_nothing_half_signed() {
    let Some(pki) = pki::pki() else {
        return;
    };
    let garbage = pki::start_tsa(pki, Behaviour::Garbage);
    // Down after ten timestamps: some statements are signed by then.
    let failing = pki::start_tsa(pki, Behaviour::FailsAfter(10));
    for (name, url, needle) in [
        ("unreachable", pki::unreachable_url(), "cannot connect"),
        ("garbage", garbage.url.clone(), "not a timestamp response"),
        ("down-midway", failing.url.clone(), "503"),
    ] {
        let out = year().root.join(format!("tsa-{name}"));
        let o = archive(
            &out,
            &[
                "--sign-pdf",
                "--pdf-cert",
                s(&pki.cert),
                "--pdf-key",
                s(&pki.key),
                "--tsa-url",
                &url,
            ],
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {t}");
        assert!(
            t.contains(needle) && t.contains("the archive was not written"),
            "{name}: {t}"
        );
        // No bag and no leftovers.
        let left: Vec<_> = fs::read_dir(out.join("archive"))
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{name}: {left:?}");
    }
    assert!(garbage.answered.load(Ordering::SeqCst) > 0);
    // (Requests in flight when it went down may still have been answered.)
    assert!(failing.answered.load(Ordering::SeqCst) >= 10);
    // Renewing with no TSA to reach leaves the bag as it was.
    let Some((bag, _)) = signed_bag() else {
        return;
    };
    let b = copy(bag, "renew-unreachable");
    let before = tree(&b);
    let o = tabel()
        .args([
            "archive",
            "renew",
            s(&b),
            "--tsa-url",
            &pki::unreachable_url(),
        ])
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cannot connect"), "{}", text(&o));
    assert_eq!(tree(&b), before);
    let leftovers: Vec<_> = fs::read_dir(b.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_bag_renewed_twice_verifies_and_every_removed_or_altered_link_is_named() {
    let Some((signed, pki)) = signed_bag() else {
        return;
    };
    let tsa = pki::tsa(pki);
    let bag = copy(signed, "renewed");
    for n in [2, 3] {
        let o = tabel()
            .args(["archive", "renew", s(&bag), "--tsa-url", &tsa.url])
            .output();
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains(&format!("link {n} of its timestamp chain")),
            "{}",
            text(&o)
        );
    }
    let o = verify(&bag, &pki.ca);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("timestamp chain: 3 link(s), holds"), "{out}");
    for needle in [
        "link 1 of 3:",
        "by «tabel test TSA»",
        "trustworthy until",
        "when the TSA's certificate ends",
        "carried on by link 2 in time",
        "the last link: renew before",
    ] {
        assert!(out.contains(needle), "{needle:?} not in {out}");
    }
    // Any BagIt tool still validates it (the links are in the tag manifest).
    outside_validators_accept(&bag, None);
    let listed = fs::read_to_string(bag.join("tagmanifest-sha256.txt")).unwrap();
    assert!(listed.contains("timestamps/0003.tst"), "{listed}");
    // Links checked with openssl alone, as docs/signing.md shows.
    let o = Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(bag.join("timestamps/0002.tst"))
        .arg("-data")
        .arg(bag.join("timestamps/0002.txt"))
        .arg("-CAfile")
        .arg(&pki.ca)
        .output()
        .unwrap();
    assert!(text(&o).contains("Verification: OK"), "{}", text(&o));
    type Tamper = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Tamper, Vec<&str>)> = vec![
        (
            "the middle link removed",
            Box::new(|b: &Path| {
                fs::remove_file(b.join("timestamps/0002.txt")).unwrap();
                fs::remove_file(b.join("timestamps/0002.tst")).unwrap();
            }),
            vec![
                "link 2 of 3 of the timestamp chain is missing",
                "timestamps/0002.txt: link 3 vouches for it, and it is missing",
            ],
        ),
        (
            "the last link removed",
            Box::new(|b: &Path| {
                fs::remove_file(b.join("timestamps/0003.txt")).unwrap();
                fs::remove_file(b.join("timestamps/0003.tst")).unwrap();
            }),
            vec!["link 3 of 3 of the timestamp chain is missing"],
        ),
        (
            "the first link's token removed",
            Box::new(|b: &Path| fs::remove_file(b.join("timestamps/0001.tst")).unwrap()),
            vec![
                "link 1 of 3 of the timestamp chain is missing or unreadable (timestamps/0001.tst)",
            ],
        ),
        (
            "the first link's list altered",
            Box::new(|b: &Path| {
                let f = b.join("timestamps/0001.txt");
                let t = fs::read_to_string(&f).unwrap();
                fs::write(&f, t.replacen("data/", "data/../", 1)).unwrap();
            }),
            vec![
                "timestamps/0001.txt: link 1 is not what its timestamp timestamps/0001.tst stamped: altered",
                "timestamps/0001.txt: changed after link 2 timestamped it",
            ],
        ),
        (
            "the second link's token altered",
            Box::new(|b: &Path| {
                let f = b.join("timestamps/0002.tst");
                let mut t = fs::read(&f).unwrap();
                let n = t.len();
                t[n - 10] ^= 0x01;
                fs::write(&f, t).unwrap();
            }),
            vec![
                "timestamps/0002.tst: link 2's timestamp",
                "timestamps/0002.tst: changed after link 3 timestamped it",
            ],
        ),
        (
            "a link replaced by one of another bag position",
            Box::new(|b: &Path| {
                fs::copy(b.join("timestamps/0001.txt"), b.join("timestamps/0002.txt")).unwrap();
                fs::copy(b.join("timestamps/0001.tst"), b.join("timestamps/0002.tst")).unwrap();
            }),
            vec!["timestamps/0002.txt: link 2 does not say it is link 2"],
        ),
    ];
    for (name, tamper, needles) in cases {
        let b = copy(&bag, &name.replace(' ', "-"));
        tamper(&b);
        let o = verify(&b, &pki.ca);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        for needle in needles {
            assert!(out.contains(needle), "{name}: {needle:?} not in {out}");
        }
        assert!(out.contains("timestamp chain: "), "{name}: {out}");
    }
    // A renewal refuses a bag whose chain does not hold.
    let b = copy(&bag, "renew-broken");
    fs::remove_file(b.join("timestamps/0002.tst")).unwrap();
    let o = tabel()
        .args(["archive", "renew", s(&b), "--tsa-url", &tsa.url])
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("is not a valid bag") || text(&o).contains("does not hold"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_external_gost_signer_signs_through_prepare_and_complete() {
    let Some(pki) = pki::pki() else {
        return;
    };
    let Some((gost_key, gost_cert)) = &pki.gost else {
        assert!(
            std::env::var("TABEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{} is missing (run .ci/run)",
            pki::GOST_ENGINE
        );
        return;
    };
    let tsa = pki::tsa(pki);
    // An unsigned bag, as the nightly build makes it.
    let out = year().root.join("external");
    let o = archive(&out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let bag = out.join("archive/2026-2027");
    let o = tabel().args(["archive", "sign-prepare", s(&bag)]).output();
    assert!(o.status.success(), "{}", text(&o));
    let work = out.join("archive/2026-2027.sign");
    assert!(work.join("sign.json").is_file() && work.join("README.txt").is_file());
    let tbs: Vec<PathBuf> = tree(&work)
        .keys()
        .filter(|p| p.ends_with(".tbs"))
        .map(|p| work.join(p))
        .collect();
    assert_eq!(tbs.len(), pdfs(&bag).len());
    // The director signs each file with OpenSSL's GOST engine, as the README says.
    let sign = |input: &Path, output: &Path| {
        let o = Command::new("openssl")
            .args([
                "cms",
                "-sign",
                "-engine",
                "gost",
                "-binary",
                "-md",
                "md_gost12_256",
            ])
            .args(["-nosmimecap", "-cades", "-outform", "DER", "-signer"])
            .arg(gost_cert)
            .arg("-inkey")
            .arg(gost_key)
            .arg("-in")
            .arg(input)
            .arg("-out")
            .arg(output)
            .output()
            .unwrap();
        assert!(o.status.success(), "openssl cms -sign: {}", text(&o));
    };
    for t in &tbs {
        sign(t, &t.with_extension("p7s"));
    }
    // A CMS over another document is refused, naming the file; nothing changes.
    let before = tree(&bag);
    let (a, b) = (&tbs[0], &tbs[1]);
    let b_sig = b.with_extension("p7s");
    let good = fs::read(&b_sig).unwrap();
    sign(a, &b_sig);
    let key = year().keys.join("tabel.key");
    let complete = || {
        tabel()
            .args([
                "archive",
                "sign-complete",
                s(&bag),
                "--key",
                s(&key),
                "--tsa-url",
                &tsa.url,
            ])
            .output()
    };
    let o = complete();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!("{}: this CMS does not sign", b_sig.display()))
            && t.contains("a signature of another document?"),
        "{t}"
    );
    assert!(t.contains("the bag is unchanged"), "{t}");
    assert_eq!(tree(&bag), before);
    // With the right signatures it goes in.
    fs::write(&b_sig, good).unwrap();
    let o = complete();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("PAdES-B-T"), "{}", text(&o));
    // tabel verify: the bag, its new minisign signature, every PDF; the
    // director's certificate (self-issued here) and the TSA's CA trusted.
    let o = verify_trusting(&bag, &[gost_cert, &pki.ca]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("signature: good"), "{out}");
    assert!(out.contains("all valid"), "{out}");
    assert!(out.contains("signed by «Директор Иванова М. П.»"), "{out}");
    assert!(out.contains("GOST R 34.10-2012"), "{out}");
    assert!(out.contains("by the TSA «tabel test TSA»"), "{out}");
    // OpenSSL verifies the CMS embedded in a signed PDF over its byte range.
    let pdf = fs::read(&pdfs(&bag)[0]).unwrap();
    let found = tabel::render::pdf::sign::signatures(&pdf).unwrap();
    let len = tabel::pki::cms::der_len(&found[0].contents).unwrap();
    let dir = year().root.join("external-check");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("embedded.p7s"), &found[0].contents[..len]).unwrap();
    fs::write(dir.join("signed-bytes"), found[0].signed(&pdf).concat()).unwrap();
    let o = Command::new("openssl")
        .args([
            "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER", "-in",
        ])
        .arg(dir.join("embedded.p7s"))
        .arg("-content")
        .arg(dir.join("signed-bytes"))
        .arg("-CAfile")
        .arg(gost_cert)
        .args(["-purpose", "any", "-out", "/dev/null"])
        .output()
        .unwrap();
    assert!(text(&o).contains("Verification successful"), "{}", text(&o));
    // pdfsig reads it too.
    if let Some(out) = pdfsig(pki, &pdfs(&bag)[0]) {
        assert!(out.contains("Total document signed"), "{out}");
    }
    // And bagit.py and minisign accept the resealed bag.
    outside_validators_accept(&bag, Some(&year().keys.join("tabel.pub")));
    // Signed once: a second preparation is refused.
    let o = tabel()
        .args([
            "archive",
            "sign-prepare",
            s(&bag),
            "--out",
            s(&dir.join("again")),
        ])
        .output();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("signed already"), "{}", text(&o));
}

/// Hostile bytes in a bag: a signed statement damaged in many ways is
/// never judged valid and never makes the checker panic; a PDF replaced by
/// garbage is named by `tabel verify`, which ends with exit 1, not a crash.
#[test]
fn damaged_or_garbage_pdfs_are_named_and_never_crash_the_checker() {
    let Some((bag, pki)) = signed_bag() else {
        return;
    };
    let files = pdfs(bag);
    let pdf = fs::read(&files[0]).unwrap();
    let anchors = tabel::pki::cert::read_all(&fs::read(&pki.ca).unwrap()).unwrap();
    assert!(
        tabel::archive::pdfcheck::check(&pdf, &anchors)
            .iter()
            .all(|v| v.problems.is_empty())
    );
    // A small deterministic generator: positions all over the file, more
    // of them in the signature's revision at its end.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let tail = pdf.len() - 40_000.min(pdf.len() / 2);
    let mut variants: Vec<Vec<u8>> = Vec::new();
    for i in 0..300 {
        let mut m = pdf.clone();
        let at = if i % 3 == 0 {
            next(pdf.len())
        } else {
            tail + next(pdf.len() - tail)
        };
        match i % 4 {
            0 => m.truncate(at),
            1 => m[at] ^= 1 << next(8),
            2 => m[at] = b"0<>()[]/ \n9-R"[next(13)],
            _ => m.splice(at..at, *b" 0 0 R ").for_each(drop),
        }
        if m != pdf {
            variants.push(m);
        }
    }
    variants.push(Vec::new());
    variants.push(b"%PDF-1.7\n%%EOF\n".to_vec());
    variants.push((0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect());
    for (i, m) in variants.iter().enumerate() {
        let verdicts = tabel::archive::pdfcheck::check(m, &anchors);
        assert!(
            verdicts.is_empty() || verdicts.iter().any(|v| !v.problems.is_empty()),
            "variant {i} was judged valid"
        );
    }
    // tabel verify on a bag with a garbage statement.
    let b = copy(bag, "garbage-pdf");
    let victim = pdfs(&b)
        .into_iter()
        .find(|p| p.ends_with("year.pdf"))
        .unwrap();
    let rel = victim.strip_prefix(&b).unwrap().display().to_string();
    fs::write(&victim, &variants[variants.len() - 1]).unwrap();
    let o = verify(&b, &pki.ca);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "{rel}: its signatures cannot be read: PDF: no startxref"
        )),
        "{out}"
    );
}
