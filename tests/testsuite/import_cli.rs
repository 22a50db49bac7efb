//! `tabel import` and `tabel export` as a shell and cron see them: exit
//! codes, the summary on standard output, problems on standard error.

use crate::support::{repo, tabel};

/// Every command here works on this database, a file in the test's folder.
const DB: [&str; 2] = ["--database", "sqlite://t.db"];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn import_export_and_reimport_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel()
        .args(DB)
        .args(["import", "csv", repo("examples/csv").to_str().unwrap()])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("imported 77 rows"), "{out}");
    assert!(out.contains("student"), "{out}");
    let o = tabel()
        .args(DB)
        .args(["export", "csv", "out"])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(dir.path().join("out/marks.csv").exists());
    // A second export into the same folder needs --force.
    let o = tabel()
        .args(DB)
        .args(["export", "csv", "out"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    let o = tabel()
        .args(DB)
        .args(["import", "csv", "out"])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Re-importing the export changes nothing: every table reads 0 0 0.
    for line in text(&o.stdout).lines().skip(2) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cols[2..], ["0", "0", "0"], "{line}");
    }
}

#[test]
fn problems_go_to_stderr_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(
        data.join("schools.csv"),
        "external_id,name,short_name,address,director\nsch1,Школа,Школа,,\n",
    )
    .unwrap();
    std::fs::write(
        data.join("school_years.csv"),
        "school,external_id,title,starts_on,ends_on\nsch1,y1,2026/2027,2026-09-01,2026-02-30\nsch2,y2,2026/2027,2026-09-01,2027-05-31\n",
    )
    .unwrap();
    let o = tabel()
        .args(DB)
        .args(["import", "csv", "data"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("the input has 2 problems; nothing was imported"),
        "{err}"
    );
    assert!(
        err.contains("school_years.csv:2:ends_on: \"2026-02-30\" is not a date"),
        "{err}"
    );
    assert!(
        err.contains("school_years.csv:3:school: \"sch2\" is not a school"),
        "{err}"
    );
    let o = tabel()
        .args(DB)
        .args(["import", "oneroster", "data"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("manifest.csv:0:-: is missing"));
}

#[test]
fn oneroster_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let set = repo("tests/fixtures/oneroster/v1p2-gradebook");
    let set = set.to_str().unwrap();
    let o = tabel()
        .args(DB)
        .args([
            "import",
            "oneroster",
            set,
            "--period-category",
            "Четверть=session",
        ])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    // Only «Четверть» is a period category now: the year's line item is a mark.
    assert!(
        out.lines().any(
            |l| l.split_whitespace().collect::<Vec<_>>() == ["period_mark", "2", "2", "0", "0"]
        ),
        "{out}"
    );
    let o = tabel()
        .args(DB)
        .args(["import", "oneroster", set, "--period-category", "Год=month"])
        .current_dir(dir.path())
        .output();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("expected TITLE=KIND"),
        "{}",
        text(&o.stderr)
    );
}

/// The tabel CSV set of `examples/csv` as a .zip (in a folder, as archives
/// made by hand have them), with `junk` bytes of zeros in a file no import
/// reads.
fn zipped_example(path: &std::path::Path, junk: usize) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for entry in std::fs::read_dir(repo("examples/csv")).unwrap() {
        let entry = entry.unwrap();
        zip.start_file(
            format!("set/{}", entry.file_name().to_string_lossy()),
            options,
        )
        .unwrap();
        zip.write_all(&std::fs::read(entry.path()).unwrap())
            .unwrap();
    }
    if junk > 0 {
        zip.start_file("set/junk.bin", options).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..junk >> 20 {
            zip.write_all(&zeros).unwrap();
        }
    }
    zip.finish().unwrap();
}

/// A .zip of a megabyte that unpacks to half a gigabyte of zeros, in a
/// file the import would not even read, is refused at once with its name,
/// before anything is unpacked; the same set zipped honestly imports.
#[test]
fn a_zip_bomb_is_refused_at_once_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    zipped_example(&dir.path().join("set.zip"), 0);
    zipped_example(&dir.path().join("bomb.zip"), 512 << 20);
    assert!(
        std::fs::metadata(dir.path().join("bomb.zip"))
            .unwrap()
            .len()
            < 2 << 20
    );
    let o = tabel()
        .args(DB)
        .args(["import", "csv", "set.zip", "--dry-run"])
        .current_dir(dir.path())
        .output();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let started = std::time::Instant::now();
    let o = tabel()
        .args(DB)
        .args(["import", "csv", "bomb.zip", "--dry-run"])
        .current_dir(dir.path())
        .output();
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(
        err.contains("set/junk.bin") && err.contains("zip bomb"),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}
