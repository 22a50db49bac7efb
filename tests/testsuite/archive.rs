//! Year-end archives: the Library of Congress BagIt conformance suite
//! against `tabel verify`; our bags against the independent `bagit.py`
//! and `minisign`; tampering of every kind detected and named; unfinished
//! years refused; archives never overwritten; PDF/A inside; keys.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::support::archive::{AFTER, outside_validators_accept, year};
use crate::support::{tabel, tool, tree};
use tabel::archive;
use tabel::db::Database;

const SUITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/bagit-conformance"
);

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

// ---------------------------------------------------------------------------
// The conformance suite.

/// Bags the suite files under `warning/` that, on Linux, list a file that is
/// not there — as EXPECTED.tsv's own notes say ("on Linux it is a missing
/// file", "a strict validator reports a missing file"; `bagit.py` also
/// rejects all three here). They must be invalid, naming that file.
const MISSING_ON_LINUX: &[(&str, &str)] = &[
    (
        "v0.97/warning/duplicate-file-with-different-case",
        "data/HELLO.txt",
    ),
    ("v0.97/warning/special-system-files", "data/.DS_Store"),
    (
        "v0.97/warning/same-filename-listed-twice-with-different-normalization",
        "data/Nu\u{301}n\u{303}ez",
    ),
];

/// The suite as copied: every file of its FILES.sha256 there, unchanged
/// (line ends included), so a checkout that lost or converted a file fails
/// here rather than passing for the wrong reason.
#[test]
fn conformance_suite_is_intact() {
    use sha2::{Digest, Sha256};
    let list = fs::read_to_string(format!("{SUITE}/FILES.sha256")).unwrap();
    let mut n = 0;
    for line in list.lines() {
        let (sum, path) = line.split_once("  ").unwrap();
        let data = fs::read(Path::new(SUITE).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(hex(&Sha256::digest(&data)), sum, "{path} changed");
        n += 1;
    }
    assert!(n > 300, "{n} files");
}

#[test]
fn conformance_suite_results_match_expected() {
    let expected = fs::read_to_string(format!("{SUITE}/EXPECTED.tsv")).unwrap();
    let mut checked = 0;
    for line in expected.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (bag, want) = (cols[0], cols[1]);
        let verdict = archive::verify(&Path::new(SUITE).join(bag), None).unwrap();
        let r = &verdict.report;
        let all = format!("{bag}: errors {:?}, warnings {:?}", r.errors, r.warnings);
        if let Some((_, file)) = MISSING_ON_LINUX.iter().find(|(b, _)| *b == bag) {
            assert!(!verdict.is_valid(), "{all}");
            assert!(
                r.errors
                    .iter()
                    .any(|e| e.starts_with(&format!("{file}: listed in"))),
                "{all}"
            );
        } else {
            match want {
                "valid" => assert!(verdict.is_valid(), "{all}"),
                "warning" => assert!(verdict.is_valid() && !r.warnings.is_empty(), "{all}"),
                "invalid" => assert!(!verdict.is_valid(), "{all}"),
                other => panic!("unknown expectation {other}"),
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 60, "every bag of EXPECTED.tsv was checked");
}

#[test]
fn conformance_failures_say_why() {
    let why = |bag: &str| -> String {
        archive::verify(&Path::new(SUITE).join(bag), None)
            .unwrap()
            .report
            .errors
            .join("\n")
    };
    for (bag, needle) in [
        (
            "v0.97/invalid/corrupt-data-file",
            "data/bare-filename: md5 checksum does not match",
        ),
        (
            "v0.97/invalid/extra-file-in-bag",
            "data/bar: in the payload but not listed",
        ),
        ("v0.97/invalid/missing-bagit.txt", "bagit.txt: missing"),
        ("v0.97/invalid/bom-in-bagit.txt", "byte order mark"),
        (
            "v0.97/invalid/baginfo-missing-encoding",
            "lacks Tag-File-Character-Encoding",
        ),
        (
            "v0.97/invalid/invalid-version-number",
            "\".97\" is not a version",
        ),
        (
            "v0.97/invalid/missing-baginfo",
            "bag-info.txt: listed in tagmanifest-md5.txt but missing",
        ),
        (
            "v0.97/invalid/out-of-scope-file-paths-using-dot-notation",
            "goes up with ..",
        ),
        (
            "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch",
            "fetch.txt:",
        ),
        (
            "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path",
            "is absolute",
        ),
        (
            "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username",
            "starts with ~",
        ),
        (
            "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path",
            "backslashes",
        ),
        (
            "v1.0/invalid/bagit-with-invalid-whitespace",
            "BagIt 1.0 allows no other whitespace",
        ),
        (
            "v1.0/invalid/same-filename-listed-twice-with-the-same-hash",
            "listed twice",
        ),
        (
            "v1.0/invalid/notAllManifestsListAllFiles",
            "data/missingFromManifest.txt: in the payload but not listed in manifest-sha512.txt",
        ),
    ] {
        let w = why(bag);
        assert!(w.contains(needle), "{bag}: {w:?} lacks {needle:?}");
    }
}

#[test]
fn verify_exit_codes_and_messages() {
    let valid = tabel()
        .args(["verify", &format!("{SUITE}/v1.0/valid/basicBag")])
        .output();
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid));
    assert!(
        text(&valid).contains("signature: NOT checked"),
        "{}",
        text(&valid)
    );
    let warn = tabel()
        .args([
            "verify",
            &format!("{SUITE}/v0.97/warning/made-with-md5sum-tools"),
        ])
        .output();
    assert_eq!(warn.status.code(), Some(0), "{}", text(&warn));
    assert!(
        String::from_utf8_lossy(&warn.stderr).contains("warning: "),
        "{}",
        text(&warn)
    );
    let bad = tabel()
        .args([
            "verify",
            &format!("{SUITE}/v0.97/invalid/corrupt-data-file"),
        ])
        .output();
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("INVALID"), "{}", text(&bad));
    let none = tabel().args(["verify", "/nonexistent/bag"]).output();
    assert_eq!(none.status.code(), Some(1));
    assert!(text(&none).contains("/nonexistent/bag"), "{}", text(&none));
}

// ---------------------------------------------------------------------------
// Our own bags.

/// A fresh copy of the database of `year()`, for tests that change it.
fn own_db(name: &str) -> String {
    let y = year();
    let path = y.root.join(format!("{name}.db"));
    fs::copy(y.root.join("demo.db"), &path).unwrap();
    format!("sqlite://{}", path.display())
}

/// Archives the finished year into `out`.
fn archive_into(url: &str, out: &Path, extra: &[&str]) -> Output {
    archive_with(url, out, &year().keys.join("tabel.key"), extra)
}

/// Archives the finished year into `out`, signed with `key`.
fn archive_with(url: &str, out: &Path, key: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--database",
        url,
        "--output",
        out.to_str().unwrap(),
        "archive",
        "--year",
        "2026/2027",
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    if !extra.contains(&"--date") {
        args.extend_from_slice(&["--date", AFTER]);
    }
    tabel().args(&args).output()
}

/// The one bag most tests read (never changed: tests copy it).
fn bag() -> &'static Path {
    static BAG: OnceLock<PathBuf> = OnceLock::new();
    BAG.get_or_init(|| {
        let y = year();
        let out = y.root.join("out");
        let o = archive_into(&y.url, &out, &[]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("signed"), "{}", text(&o));
        out.join("archive/2026-2027")
    })
}

fn pubkey() -> PathBuf {
    year().keys.join("tabel.pub")
}

fn verify_with(dir: &Path, key: &Path) -> Output {
    tabel()
        .args([
            "verify",
            dir.to_str().unwrap(),
            "--pubkey",
            key.to_str().unwrap(),
        ])
        .output()
}

fn copy_bag(name: &str) -> PathBuf {
    let to = year().root.join("copies").join(name);
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    let o = Command::new("cp")
        .args(["-a", bag().to_str().unwrap(), to.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    to
}

#[test]
fn bag_layout_and_metadata() {
    let b = bag();
    for f in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
        "tagmanifest-sha512.txt.minisig",
        "data/roster.json",
    ] {
        assert!(b.join(f).is_file(), "{f} missing");
    }
    assert_eq!(
        fs::read_to_string(b.join("bagit.txt")).unwrap(),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let info = fs::read_to_string(b.join("bag-info.txt")).unwrap();
    for label in [
        "Source-Organization: ",
        "Organization-Address: ",
        "Bagging-Date: 2027-07-01",
        "External-Identifier: tabel:",
        "Bag-Count: 1 of 1",
        "Payload-Oxum: ",
        "School-Year: 2026/2027",
        "Tabel-Version: ",
        "Snapshot-Id: ",
    ] {
        assert!(info.contains(label), "{label} missing from\n{info}");
    }
    // Every class has its year statement, and every PDF its JSON.
    let files = tree(&b.join("data"));
    let pdfs: Vec<&String> = files.keys().filter(|p| p.ends_with(".pdf")).collect();
    assert!(pdfs.len() > 20, "{pdfs:?}");
    for p in &pdfs {
        let json = p.replace(".pdf", ".json");
        assert!(files.contains_key(&json), "{json} missing");
        let v: serde_json::Value = serde_json::from_slice(&files[&json]).unwrap();
        assert!(v.get("rows").is_some(), "{json} is not statement data");
    }
    let roster: serde_json::Value = serde_json::from_slice(&files["roster.json"]).unwrap();
    let classes = roster["classes"].as_array().unwrap();
    assert!(!classes.is_empty());
    for c in classes {
        let folder = c["folder"].as_str().unwrap();
        assert!(
            files.contains_key(&format!("statements/{folder}/year.pdf")),
            "no year statement for {folder}"
        );
    }
    let students: usize = classes
        .iter()
        .map(|c| c["students"].as_array().unwrap().len())
        .sum();
    assert_eq!(students, 60);
}

#[test]
fn independent_tools_accept_our_bag_and_signature() {
    let b = bag();
    // The Library of Congress validator.
    outside_validators_accept(b, None);
    // The minisign tool with the published public key.
    if let Some(minisign) = tool("/usr/bin/minisign") {
        let o = Command::new(minisign)
            .arg("-Vm")
            .arg(b.join("tagmanifest-sha512.txt"))
            .arg("-p")
            .arg(pubkey())
            .output()
            .unwrap();
        let out = text(&o);
        assert!(o.status.success(), "minisign: {out}");
        let info = fs::read_to_string(b.join("bag-info.txt")).unwrap();
        let id = info
            .lines()
            .find_map(|l| l.strip_prefix("External-Identifier: "))
            .unwrap();
        assert!(
            out.contains(&format!(
                "Trusted comment: tabel archive bag={id} school=demo-"
            )) && out.contains("year=2026/2027"),
            "{out}"
        );
    }
    // And ours.
    let o = verify_with(b, &pubkey());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("signature: good"), "{}", text(&o));
}

#[test]
fn every_pdf_is_pdfa_with_embedded_fonts() {
    let (Some(pdfinfo), Some(pdffonts)) = (tool("/usr/bin/pdfinfo"), tool("/usr/bin/pdffonts"))
    else {
        return;
    };
    let files = tree(&bag().join("data"));
    let mut n = 0;
    for p in files.keys().filter(|p| p.ends_with(".pdf")) {
        let path = bag().join("data").join(p);
        let meta = Command::new(&pdfinfo)
            .arg("-meta")
            .arg(&path)
            .output()
            .unwrap();
        let meta = text(&meta);
        assert!(
            meta.contains("<pdfaid:part>2</pdfaid:part>")
                && meta.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "{p}: {meta}"
        );
        let fonts = text(&Command::new(&pdffonts).arg(&path).output().unwrap());
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{p}: no fonts");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cols[cols.len() - 5], "yes", "{p}: font not embedded: {row}");
        }
        n += 1;
    }
    assert!(n > 20);
}

/// Flips one bit of `file` at byte `at` (from the end when negative).
fn flip(file: &Path, at: isize) {
    let mut bytes = fs::read(file).unwrap();
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[i] ^= 0x01;
    fs::write(file, bytes).unwrap();
}

#[test]
fn tampering_is_detected_and_named() {
    let pdf = {
        let files = tree(&bag().join("data"));
        let p = files
            .keys()
            .find(|p| p.ends_with("year.pdf"))
            .unwrap()
            .clone();
        format!("data/{p}")
    };
    let other_keys = year().root.join("other-keys");
    if !other_keys.exists() {
        let o = tabel()
            .args([
                "archive",
                "keygen",
                "--out",
                other_keys.to_str().unwrap(),
                "--unencrypted",
            ])
            .output();
        assert!(o.status.success(), "{}", text(&o));
    }
    type Tamper = Box<dyn Fn(&Path)>;
    let pdf2 = pdf.clone();
    let pdf3 = pdf.clone();
    let pdf4 = pdf.clone();
    let cases: Vec<(&str, Tamper, String)> = vec![
        (
            "payload bit",
            Box::new(move |b: &Path| flip(&b.join(&pdf2), 1000)),
            format!("{pdf}: sha256 checksum does not match"),
        ),
        (
            "manifest bit",
            Box::new(|b: &Path| flip(&b.join("manifest-sha256.txt"), 3)),
            "manifest-sha256.txt: sha256 checksum does not match tagmanifest-sha256.txt".into(),
        ),
        (
            "bag-info bit",
            Box::new(|b: &Path| flip(&b.join("bag-info.txt"), 30)),
            "bag-info.txt: sha256 checksum does not match tagmanifest-sha256.txt".into(),
        ),
        (
            "added file",
            Box::new(|b: &Path| fs::write(b.join("data/statements/extra.pdf"), b"%PDF").unwrap()),
            "data/statements/extra.pdf: in the payload but not listed in manifest-sha256.txt".into(),
        ),
        (
            "removed file",
            Box::new(move |b: &Path| fs::remove_file(b.join(&pdf3)).unwrap()),
            format!("{pdf}: listed in manifest-sha256.txt but missing"),
        ),
        (
            "renamed file",
            Box::new(move |b: &Path| {
                fs::rename(b.join(&pdf4), b.join(pdf4.replace("year.pdf", "renamed.pdf"))).unwrap()
            }),
            "renamed.pdf: in the payload but not listed".into(),
        ),
        (
            "symlink planted",
            Box::new(|b: &Path| {
                std::os::unix::fs::symlink("/etc/passwd", b.join("data/passwd")).unwrap()
            }),
            "data/passwd: is a symbolic link".into(),
        ),
        (
            "signature replaced",
            Box::new(|b: &Path| {
                // A valid signature of the same file by another key.
                let other = year().root.join("other-keys/tabel.key");
                let signer =
                    archive::Signer::load(&other, &archive::Password::None).unwrap();
                let data = fs::read(b.join("tagmanifest-sha512.txt")).unwrap();
                let sig = signer.sign(&data, "forged", "forged").unwrap();
                fs::write(b.join("tagmanifest-sha512.txt.minisig"), sig).unwrap();
            }),
            "tagmanifest-sha512.txt.minisig: the signature of tagmanifest-sha512.txt does not verify".into(),
        ),
        (
            "signature removed",
            Box::new(|b: &Path| fs::remove_file(b.join("tagmanifest-sha512.txt.minisig")).unwrap()),
            "tagmanifest-sha512.txt.minisig: cannot be read".into(),
        ),
        (
            "metadata rewritten with fresh tag manifests",
            Box::new(|b: &Path| {
                let info = fs::read_to_string(b.join("bag-info.txt")).unwrap();
                let info = info.replace("School-Year: 2026/2027", "School-Year: 2016/2017");
                fs::write(b.join("bag-info.txt"), &info).unwrap();
                rewrite_tag_manifests(b);
            }),
            "tagmanifest-sha512.txt.minisig: the signature of tagmanifest-sha512.txt does not verify".into(),
        ),
    ];
    for (name, tamper, needle) in cases {
        let b = copy_bag(&name.replace(' ', "-"));
        tamper(&b);
        let o = verify_with(&b, &pubkey());
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        assert!(out.contains(&needle), "{name}: {out:?} lacks {needle:?}");
    }
    // The untouched bag with the wrong public key.
    let o = verify_with(bag(), &other_keys.join("tabel.pub"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("is different from public key"),
        "{}",
        text(&o)
    );
}

/// Rewrites both tag manifests to match the tag files as they are now.
fn rewrite_tag_manifests(b: &Path) {
    use sha2::{Digest, Sha256, Sha512};
    let names = [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
    ];
    let (mut t256, mut t512) = (String::new(), String::new());
    for n in names {
        let data = fs::read(b.join(n)).unwrap();
        t256.push_str(&format!("{}  {n}\n", hex(&Sha256::digest(&data))));
        t512.push_str(&format!("{}  {n}\n", hex(&Sha512::digest(&data))));
    }
    fs::write(b.join("tagmanifest-sha256.txt"), t256).unwrap();
    fs::write(b.join("tagmanifest-sha512.txt"), t512).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn unfinished_years_are_refused_and_archives_never_overwritten() {
    let y = year();
    let out = y.root.join("refusals");
    // The year has not ended yet.
    let o = archive_into(&y.url, &out, &["--date", "2027-06-15"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("is not finished") && text(&o).contains("ends on 2027-06-30"),
        "{}",
        text(&o)
    );
    assert!(!out.join("archive/2026-2027").exists());
    // A year mark is missing.
    let url = own_db("missing-mark");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Database::connect(&url).await.unwrap();
        let done = sqlx::query(
            "DELETE FROM period_mark WHERE id = (SELECT pm.id FROM period_mark pm \
             JOIN reporting_period p ON p.id = pm.period_id WHERE p.kind = 'year' \
             ORDER BY pm.id LIMIT 1)",
        )
        .execute(db.pool())
        .await
        .unwrap();
        assert_eq!(done.rows_affected(), 1);
        db.close().await;
    });
    let o = archive_into(&url, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("1 year mark(s) missing"), "{}", text(&o));
    // --force archives it anyway.
    let o = archive_into(&url, &out, &["--force", "--date", AFTER]);
    assert!(o.status.success(), "{}", text(&o));
    let before = tree(&out.join("archive/2026-2027"));
    // A second archive of the same year is refused and changes nothing.
    let o = archive_into(&y.url, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("never overwritten"), "{}", text(&o));
    assert_eq!(tree(&out.join("archive/2026-2027")), before);
    let leftovers: Vec<_> = fs::read_dir(out.join("archive"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn password_protected_keys() {
    let dir = year().root.join("protected");
    let o = tabel()
        .args([
            "archive",
            "keygen",
            "--out",
            dir.to_str().unwrap(),
            "--password-stdin",
        ])
        .stdin("a long archive password\n")
        .output();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("untrusted comment: minisign public key"),
        "{}",
        text(&o)
    );
    let mode = fs::metadata(dir.join("tabel.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Never overwritten.
    let o = tabel()
        .args([
            "archive",
            "keygen",
            "--out",
            dir.to_str().unwrap(),
            "--unencrypted",
        ])
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("never overwritten"), "{}", text(&o));
    // Signing needs the password; a wrong one is refused.
    let key = dir.join("tabel.key");
    let wrong = archive::Signer::load(&key, &archive::Password::Given("wrong".into()));
    assert!(format!("{:#}", wrong.unwrap_err()).contains("wrong password"));
    let none = archive::Signer::load(&key, &archive::Password::None);
    assert!(format!("{:#}", none.unwrap_err()).contains("password-protected"));
    let signer = archive::Signer::load(
        &key,
        &archive::Password::Given("a long archive password".into()),
    )
    .unwrap();
    assert!(
        signer
            .sign(b"x", "t", "u")
            .unwrap()
            .contains("trusted comment: t")
    );
    // The CLI without a password and without a terminal says how to give one.
    let out = year().root.join("protected-out");
    let o = archive_with(&year().url, &out, &key, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--password-stdin"), "{}", text(&o));
}

#[test]
fn nightly_build_archives_a_closed_year_or_warns() {
    let y = year();
    let url = own_db("nightly");
    let dir = y.root.join("nightly");
    fs::create_dir_all(&dir).unwrap();
    // Without a key: a warning in the summary, no archive.
    let o = tabel()
        .args([
            "--database",
            &url,
            "--output",
            dir.join("out").to_str().unwrap(),
            "build",
            "--date",
            AFTER,
        ])
        .output();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("is not archived: no signing key is configured"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("out/archive").exists());
    // With a key in tabel.toml: archived after the build, then not again.
    let config = dir.join("tabel.toml");
    fs::write(
        &config,
        format!(
            "[archive]\nkey = {:?}\n",
            y.keys.join("tabel.key").to_str().unwrap()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--database",
        &url,
        "--output",
        out.to_str().unwrap(),
        "build",
        "--date",
        AFTER,
    ];
    let o = tabel().args(args).output();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("archive: archived demo-"), "{}", text(&o));
    let o = verify_with(&dir.join("out/archive/2026-2027"), &pubkey());
    assert!(o.status.success(), "{}", text(&o));
    let o = tabel().args(args).output();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("archive:"), "{}", text(&o));
}

#[test]
fn the_same_year_gives_the_same_payload() {
    let y = year();
    let out = y.root.join("again");
    let o = archive_into(&y.url, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let again = out.join("archive/2026-2027");
    assert_eq!(tree(&again.join("data")), tree(&bag().join("data")));
    for f in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        assert_eq!(
            fs::read(again.join(f)).unwrap(),
            fs::read(bag().join(f)).unwrap(),
            "{f}"
        );
    }
}

/// `tabel verify` with `args`, stopped after 30 s: its output, or `None`
/// if it had to be stopped.
fn verify_within(args: &[&str]) -> Option<Output> {
    let mut child = tabel()
        .arg("verify")
        .args(args)
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

/// A FIFO in place of a tag file (the declaration, or the signature with
/// `--pubkey`) would block a reader for good: it is refused as not a
/// regular file, at once.
#[test]
fn a_fifo_in_a_bag_is_refused_not_waited_on() {
    let Some(mkfifo) = tool("/usr/bin/mkfifo") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bag");
    let o = Command::new("cp")
        .args([
            "-a",
            &format!("{SUITE}/v1.0/valid/basicBag"),
            b.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    fs::remove_file(b.join("bagit.txt")).unwrap();
    assert!(
        Command::new(&mkfifo)
            .arg(b.join("bagit.txt"))
            .status()
            .unwrap()
            .success()
    );
    let o = verify_within(&[b.to_str().unwrap()]).expect("verify returned");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("bagit.txt: cannot be read: not a regular file"),
        "{}",
        text(&o)
    );
    // The signature, read only with --pubkey.
    let ours = copy_bag("fifo-signature");
    let sig = ours.join("tagmanifest-sha512.txt.minisig");
    fs::remove_file(&sig).unwrap();
    assert!(Command::new(&mkfifo).arg(&sig).status().unwrap().success());
    let key = pubkey();
    let o = verify_within(&[ours.to_str().unwrap(), "--pubkey", key.to_str().unwrap()])
        .expect("verify returned");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("minisig: cannot be read"), "{}", text(&o));
}

/// File names are anyone's choice: printed escaped, a name with a newline
/// cannot print a "valid:" line of its own, nor one with an escape sequence
/// rewrite the screen.
#[test]
fn names_in_a_bag_are_printed_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("bag");
    let o = Command::new("cp")
        .args([
            "-a",
            &format!("{SUITE}/v1.0/valid/basicBag"),
            b.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    fs::write(b.join("data/x\nvalid: all is well"), "x").unwrap();
    fs::write(b.join("data/\u{1b}[1A\u{1b}[2Kok"), "x").unwrap();
    let o = verify_within(&[b.to_str().unwrap()]).expect("verify returned");
    assert_eq!(o.status.code(), Some(1));
    let all = text(&o);
    assert!(!all.contains('\u{1b}'), "{all:?}");
    assert!(!all.lines().any(|l| l.starts_with("valid:")), "{all}");
    assert!(all.contains("data/x\\nvalid: all is well"), "{all}");
}
