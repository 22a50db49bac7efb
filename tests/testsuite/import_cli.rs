//! `tabel import` and `tabel export` as a shell and cron see them: exit
//! codes, the summary on standard output, problems on standard error.

use std::path::Path;
use std::process::{Command, Output};

fn tabel(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tabel"))
        .args(["--database", "sqlite://t.db"])
        .args(args)
        .current_dir(dir)
        .env_remove("TABEL_DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(path)
        .display()
        .to_string()
}

#[test]
fn import_export_and_reimport_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = tabel(&["import", "csv", &repo("examples/csv")], dir.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("imported 77 rows"), "{out}");
    assert!(out.contains("student"), "{out}");
    let o = tabel(&["export", "csv", "out"], dir.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(dir.path().join("out/marks.csv").exists());
    // A second export into the same folder needs --force.
    let o = tabel(&["export", "csv", "out"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    let o = tabel(&["import", "csv", "out"], dir.path());
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
    let o = tabel(&["import", "csv", "data"], dir.path());
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
    let o = tabel(&["import", "oneroster", "data"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("manifest.csv:0:-: is missing"));
}

#[test]
fn oneroster_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let set = repo("tests/fixtures/oneroster/v1p2-gradebook");
    let o = tabel(
        &[
            "import",
            "oneroster",
            &set,
            "--period-category",
            "Четверть=session",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    // Only «Четверть» is a period category now: the year's line item is a mark.
    assert!(
        out.lines().any(
            |l| l.split_whitespace().collect::<Vec<_>>() == ["period_mark", "2", "2", "0", "0"]
        ),
        "{out}"
    );
    let o = tabel(
        &[
            "import",
            "oneroster",
            &set,
            "--period-category",
            "Год=month",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("expected TITLE=KIND"),
        "{}",
        text(&o.stderr)
    );
}
