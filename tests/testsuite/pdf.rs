//! The typeset PDFs of the nightly build, opened by real PDF tools
//! (poppler's pdftotext, pdffonts, pdfinfo, pdftoppm; qpdf): what they
//! show, PDF/A conformance, page breaks, hostile text, reproducibility,
//! incremental typesetting, and characters no font has.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::build::{TODAY, day, fixture, fixture_on, options};
use crate::support::{TestDb, page, tool, tree};
use tabel::build;
use tabel::gradebook::{self, Snapshot, YearChoice};
use tabel::i18n::Language;
use tabel::text::collation_key;
use tabel::views::Index;

/// Runs a poppler or qpdf tool; `None` when it is missing and not required.
fn run(tool_name: &str, args: &[&str], file: &Path) -> Option<String> {
    let path = tool(&format!("/usr/bin/{tool_name}"))?;
    let o = Command::new(path).args(args).arg(file).output().unwrap();
    assert!(
        o.status.success(),
        "{tool_name} {}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// The text of `pdf` (pages `pages`, all when `None`) as laid out, line
/// by line, with each line's runs of white space made single spaces.
fn text(pdf: &Path, pages: Option<(u32, u32)>) -> Option<Vec<String>> {
    pdftotext(pdf, "-layout", pages)
}

fn pdftotext(pdf: &Path, mode: &str, pages: Option<(u32, u32)>) -> Option<Vec<String>> {
    let mut args = vec![mode.to_owned(), "-enc".to_owned(), "UTF-8".to_owned()];
    if let Some((f, l)) = pages {
        args.extend([
            "-f".to_owned(),
            f.to_string(),
            "-l".to_owned(),
            l.to_string(),
        ]);
    }
    let path = tool("/usr/bin/pdftotext")?;
    let o = Command::new(path)
        .args(&args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pdftotext {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    Some(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(squash)
            .collect(),
    )
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Everything `pdf` says in the order it was typeset (a table cell's
/// lines together), as one line.
fn all_text(pdf: &Path) -> Option<String> {
    pdftotext(pdf, "-raw", None).map(|lines| squash(&lines.join(" ")))
}

async fn snapshot(t: &TestDb, on: &str) -> Snapshot {
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    gradebook::load(&t.db, school, YearChoice::On(day(on)))
        .await
        .unwrap()
}

/// Keeps a PNG of each page of `pdf` in `target/tmp/artifacts/` for a person to look at.
fn keep_pictures(pdf: &Path, name: &str) {
    let Some(pdftoppm) = tool("/usr/bin/pdftoppm") else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let o = Command::new(pdftoppm)
        .args(["-png", "-r", "80"])
        .arg(pdf)
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn pdfs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn statement_shows_the_roster_in_russian_order_with_marks_and_statistics() {
    let t = fixture(60).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let s = snapshot(&t, TODAY).await;
    let ix = Index::new(&s, Language::Ru, day(TODAY), "");
    let class = s.classes.iter().find(|c| c.grade == 5).unwrap();
    let p = ix.finished_periods(class)[0];
    let st = ix.statement(class, p);
    assert!(st.rows.len() >= 3);
    let pdf = out
        .path()
        .join(format!("current/c/{}/{}.pdf", class.key, st.slug));
    keep_pictures(&pdf, "statement");
    let Some(lines) = text(&pdf, None) else {
        return;
    };
    let mut at = 0;
    let mut previous = String::new();
    for row in &st.rows {
        // Every student of the roster, in Russian order (Ё with Е), on one line with their marks.
        let i = at
            + lines[at..]
                .iter()
                .position(|l| l.contains(&row.name))
                .unwrap_or_else(|| panic!("{} missing", row.name));
        let line = &lines[i];
        let after = &line[line.find(&row.name).unwrap() + row.name.len()..];
        let mut expected: Vec<String> = row
            .marks
            .iter()
            .filter(|m| !m.is_empty())
            .cloned()
            .collect();
        expected.extend([row.absences.to_string(), row.ill.to_string()]);
        assert_eq!(squash(after), expected.join(" "), "row of {}", row.name);
        let key = collation_key(&row.name);
        assert!(previous <= key, "{} before {}", previous, row.name);
        previous = key;
        at = i + 1;
    }
    let all = squash(&lines.join(" "));
    // The statistics, from the same function as the HTML statement.
    for (label, value) in [
        ("Успеваемость, %", st.progress.clone()),
        ("Качество, %", st.quality.clone()),
        ("СОУ, %", st.sou.clone()),
    ] {
        assert!(all.contains(label), "{label}");
        assert!(all.contains(&value), "{label} {value}");
    }
    let stats = [
        st.stats.students,
        st.stats.excellent,
        st.stats.good,
        st.stats.one_three,
        st.stats.failing,
        st.stats.not_assessed,
    ];
    let numbers = format!("{} {} {} {}", stats[0], st.progress, st.quality, st.sou);
    assert!(all.contains(&numbers), "{numbers} in {all}");
    assert!(
        st.progress.contains(',') || st.progress == "—",
        "decimal comma"
    );
    for word in [
        "СВОДНАЯ ВЕДОМОСТЬ",
        &s.school.name,
        &class.title,
        "М.П.",
        "Директор",
        "Классный руководитель",
        "стр. 1 из 1",
    ] {
        assert!(all.contains(word), "{word} missing in {all}");
    }
    assert!(all.contains("Сформировано системой tabel по снимку данных"));
    t.finish().await;
}

#[tokio::test]
async fn weekly_printout_shows_the_homework() {
    let t = fixture(30).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let s = snapshot(&t, TODAY).await;
    let ix = Index::new(&s, Language::Ru, day(TODAY), "");
    let st = s
        .students
        .iter()
        .find(|st| ix.class_of(st).is_some_and(|c| c.grade == 6))
        .unwrap();
    let view = ix.week(st, ix.current_week() - 1, false);
    let pdf = out
        .path()
        .join(format!("current/s/{}/print/{}.pdf", st.key, view.week));
    keep_pictures(&pdf, "printout");
    let Some(all) = all_text(&pdf) else { return };
    let pages = run("pdfinfo", &[], &pdf).unwrap();
    assert!(pages.lines().any(|l| l == "Pages:           1"), "{pages}");
    assert!(all.contains(&st.name.full()) && all.contains("Выписка из электронного дневника"));
    let dense: String = all.split_whitespace().collect();
    let mut homework = 0;
    for d in &view.days {
        for l in &d.lessons {
            if let Some(md) = &l.homework_source {
                let blocks = tabel::render::markdown::to_blocks(md);
                // Each block on its own, list items with their markers.
                let plain: Vec<String> = blocks
                    .iter()
                    .map(|b| {
                        let text: String = b.spans.iter().map(|s| s.text.as_str()).collect();
                        if b.marker.is_empty() {
                            text
                        } else {
                            format!("{} {text}", b.marker)
                        }
                    })
                    .collect();
                // Long words (links) break across lines: compare without white space.
                let plain: String = plain.join(" ").split_whitespace().collect();
                assert!(
                    dense.contains(&plain),
                    "homework {plain:?} missing in {all}"
                );
                homework += 1;
            }
            for m in &l.marks {
                assert!(all.contains(&m.value));
            }
        }
    }
    assert!(homework > 5);
    // Notes from teachers, if the week has any.
    for n in view.days.iter().flat_map(|d| &d.notes) {
        let body: String = n
            .body_source
            .split_whitespace()
            .collect::<String>()
            .replace(['*', '_', '`'], "");
        assert!(
            dense.replace(['*', '_', '`'], "").contains(&body),
            "note {body:?} missing"
        );
    }
    assert!(all.contains("Подпись родителя"));
    t.finish().await;
}

#[tokio::test]
async fn pdfs_are_pdf_a_2b_with_every_font_embedded() {
    let t = fixture(24).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let files = pdfs(&out.path().join("current"));
    assert!(files.len() > 40);
    let statement = files
        .iter()
        .find(|p| p.to_string_lossy().contains("/statement-"))
        .unwrap();
    let printout = files
        .iter()
        .find(|p| p.to_string_lossy().contains("/print/"))
        .unwrap();
    for pdf in [statement, printout] {
        let Some(fonts) = run("pdffonts", &[], pdf) else {
            return;
        };
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty());
        for row in rows {
            // name type encoding emb sub uni object ID
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(
                (cols[n - 5], cols[n - 4]),
                ("yes", "yes"),
                "font not embedded and subset: {row}"
            );
        }
        let check = run("qpdf", &["--check"], pdf).unwrap();
        assert!(
            check.contains("No syntax or stream encoding errors"),
            "{check}"
        );
        let info = run("pdfinfo", &["-meta"], pdf).unwrap();
        assert!(
            info.contains("<pdfaid:part>2</pdfaid:part>")
                && info.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "{info}"
        );
        let info = run("pdfinfo", &[], pdf).unwrap();
        assert!(
            info.contains("Title:") && info.contains("Author:") && info.contains("CreationDate:"),
            "{info}"
        );
        // The output intent and the document language, in the uncompressed file.
        let plain = tempfile::NamedTempFile::new().unwrap();
        let o = Command::new("/usr/bin/qpdf")
            .args(["--qdf", "--object-streams=disable"])
            .arg(pdf)
            .arg(plain.path())
            .output()
            .unwrap();
        assert!(o.status.success());
        let bytes = String::from_utf8_lossy(&std::fs::read(plain.path()).unwrap()).into_owned();
        assert!(
            bytes.contains("/OutputIntents") && bytes.contains("/GTS_PDFA1"),
            "no PDF/A output intent"
        );
        assert!(bytes.contains("/Lang (ru)"), "no document language");
    }
    t.finish().await;
}

#[tokio::test]
async fn a_40_student_class_gets_a_two_page_statement_with_the_header_on_each_page() {
    let t = fixture(60).await;
    let s = snapshot(&t, TODAY).await;
    // Fill one class of grade 5 up to 40 with students of other classes.
    let class = s.classes.iter().find(|c| c.grade == 5).unwrap();
    let others: Vec<i64> = s
        .students
        .iter()
        .filter(|st| st.class_id.is_some() && st.class_id != Some(class.id))
        .map(|st| st.id)
        .collect();
    let have = s
        .students
        .iter()
        .filter(|st| st.class_id == Some(class.id))
        .count();
    assert!(
        have + others.len() >= 40,
        "the school has {} students",
        have + others.len()
    );
    for id in others.iter().take(40 - have) {
        for sql in [
            "UPDATE student SET class_id = $1 WHERE id = $2",
            "UPDATE class_member SET class_id = $1 WHERE student_id = $2",
        ] {
            sqlx::query(sql)
                .bind(class.id)
                .bind(id)
                .execute(t.db.pool())
                .await
                .unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let pdf = out
        .path()
        .join(format!("current/c/{}/statement-q1.pdf", class.key));
    keep_pictures(&pdf, "statement-40");
    let Some(info) = run("pdfinfo", &[], &pdf) else {
        return;
    };
    assert!(info.lines().any(|l| l == "Pages:           2"), "{info}");
    for (page, footer) in [(1, "стр. 1 из 2"), (2, "стр. 2 из 2")] {
        let all = squash(&text(&pdf, Some((page, page))).unwrap().join(" "));
        assert!(
            all.contains("Фамилия, имя, отчество") && all.contains("Пропуски"),
            "no table header on page {page}"
        );
        assert!(all.contains(footer), "no «{footer}» on page {page}: {all}");
    }
    let all = all_text(&pdf).unwrap();
    for n in 1..=40 {
        assert!(all.contains(&format!(" {n} ")), "row {n}");
    }
    t.finish().await;
}

/// Typst markup that must print as typed.
const HOSTILE: [&str; 10] = [
    "#set text(fill: red)",
    "#read(\"/etc/passwd\")",
    "#panic(\"boom\")",
    "]",
    "$x^2$",
    "*жирный*",
    "\\",
    "#{ 1 + 1 }",
    "<label> @ref",
    "= Заголовок // не комментарий",
];

#[tokio::test]
async fn hostile_text_prints_literally_and_never_runs() {
    let t = fixture(30).await;
    let s = snapshot(&t, TODAY).await;
    let ix = Index::new(&s, Language::Ru, day(TODAY), "");
    let st = s
        .students
        .iter()
        .find(|st| ix.class_of(st).is_some_and(|c| c.grade == 5))
        .unwrap();
    let class = ix.class_of(st).unwrap();
    let hostile = HOSTILE.join(" ");
    let pool = t.db.pool();
    sqlx::query(
        "UPDATE student SET family_name = $1, given_name = $2, patronymic = $3 WHERE id = $4",
    )
    .bind(HOSTILE[0])
    .bind(HOSTILE[1])
    .bind(HOSTILE[3..].join(" "))
    .bind(st.id)
    .execute(pool)
    .await
    .unwrap();
    // Homework is Markdown: code spans keep every character as typed.
    let homework = format!(
        "`{}` и `{}`",
        HOSTILE[..5].join(" "),
        HOSTILE[6..].join(" ")
    );
    sqlx::query("UPDATE lesson SET homework = $1, topic = $2 WHERE class_id = $3")
        .bind(&homework)
        .bind(&hostile)
        .bind(class.id)
        .execute(pool)
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let week = ix.weeks[ix.current_week() - 1].0.clone();
    let printout = out
        .path()
        .join(format!("current/s/{}/print/{week}.pdf", st.key));
    let statement = out
        .path()
        .join(format!("current/c/{}/statement-q1.pdf", class.key));
    keep_pictures(&printout, "printout-hostile");
    let Some(p) = all_text(&printout) else { return };
    let name = format!("{} {} {}", HOSTILE[0], HOSTILE[1], HOSTILE[3..].join(" "));
    assert!(p.contains(&name), "name not literal in {p}");
    assert!(p.contains(&hostile), "topic not literal in {p}");
    assert!(
        p.contains(&format!(
            "{} и {}",
            HOSTILE[..5].join(" "),
            HOSTILE[6..].join(" ")
        )),
        "homework not literal in {p}"
    );
    let st_text = all_text(&statement).unwrap();
    assert!(
        st_text.contains(&name),
        "name not literal in the statement: {st_text}"
    );
    for text in [&p, &st_text] {
        assert!(!text.contains("root:"), "a file was read");
        assert!(!text.contains("boom") || text.contains("#panic(\"boom\")"));
    }
    t.finish().await;
}

#[tokio::test]
async fn same_data_same_bytes_and_a_changed_mark_retypesets_only_its_documents() {
    let t = fixture(40).await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = build::run(&t.db, a.path(), &options(true)).await.unwrap();
    build::run(&t.db, b.path(), &options(true)).await.unwrap();
    let pdf_tree = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        tree(dir)
            .into_iter()
            .filter(|(p, _)| p.ends_with(".pdf"))
            .collect()
    };
    let (ta, tb) = (
        pdf_tree(&first.release),
        pdf_tree(&b.path().join("current")),
    );
    assert!(ta.len() > 80);
    assert!(ta == tb, "two builds of the same data differ");
    // Nothing changed: nothing is typeset again.
    let again = build::run(&t.db, a.path(), &options(false)).await.unwrap();
    assert_eq!(again.typeset, 0, "{:?}", again.rendered_paths);
    // A mark of last week (printed: it is over) and a quarter mark change.
    let s = snapshot(&t, TODAY).await;
    let ix = Index::new(&s, Language::Ru, day(TODAY), "");
    let monday = ix.weeks[ix.current_week() - 1].1;
    let next_monday = ix.weeks[ix.current_week()].1;
    let mark = s
        .marks
        .iter()
        .find(|m| m.date >= monday && m.date < next_monday && m.lesson_id.is_some())
        .unwrap();
    let st = s
        .students
        .iter()
        .find(|st| st.id == mark.student_id)
        .unwrap();
    let value = if mark.value == "5" { "4" } else { "5" };
    sqlx::query("UPDATE mark SET value = $1 WHERE id = $2")
        .bind(value)
        .bind(mark.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let pm = &s.period_marks[0];
    let holder = s.students.iter().find(|st| st.id == pm.student_id).unwrap();
    let class = ix.class_of(holder).unwrap();
    let period = s.periods.iter().find(|p| p.id == pm.period_id).unwrap();
    let value = if pm.value == "5" { "4" } else { "5" };
    sqlx::query("UPDATE period_mark SET value = $1 WHERE id = $2")
        .bind(value)
        .bind(pm.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let inc = build::run(&t.db, a.path(), &options(false)).await.unwrap();
    let typeset: Vec<&String> = inc
        .rendered_paths
        .iter()
        .filter(|p| p.ends_with(".pdf"))
        .collect();
    let expected = [
        format!(
            "c/{}/statement-{}.pdf",
            class.key,
            tabel::views::statement::period_slug(period)
        ),
        format!("s/{}/print/{}.pdf", st.key, mark.date.iso_week()),
    ];
    let mut expected: Vec<&String> = expected.iter().collect();
    expected.sort();
    assert_eq!(typeset, expected);
    assert_eq!(inc.typeset, 2);
    // Typeset alone or in a batch of its class: the same bytes.
    let full = build::run(&t.db, b.path(), &options(true)).await.unwrap();
    assert!(
        pdf_tree(&inc.release) == pdf_tree(&full.release),
        "incremental and full builds differ"
    );
    t.finish().await;
}

#[tokio::test]
async fn a_name_no_font_has_does_not_fail_the_build() {
    let t = fixture(24).await;
    let s = snapshot(&t, TODAY).await;
    let ix = Index::new(&s, Language::Ru, day(TODAY), "");
    let st = s
        .students
        .iter()
        .find(|st| ix.class_of(st).is_some_and(|c| c.grade == 5))
        .unwrap();
    sqlx::query("UPDATE student SET given_name = $1 WHERE id = $2")
        .bind("Аня😀\u{200d}🔥 王小明 \u{1F9D1}\u{1F3FD}")
        .bind(st.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    // Last week's printout: the running week has none.
    let week = &ix.weeks[ix.current_week() - 1].0;
    let pdf = out
        .path()
        .join(format!("current/s/{}/print/{week}.pdf", st.key));
    keep_pictures(&pdf, "printout-emoji");
    let Some(all) = all_text(&pdf) else { return };
    // Each character no font has shows as «�».
    assert!(
        all.contains(&format!("{} Аня\u{FFFD}", st.name.family_name)),
        "{all}"
    );
    assert!(
        all.contains(" \u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD}\u{FFFD}"),
        "{all}"
    );
    t.finish().await;
}

#[tokio::test]
async fn the_year_statement_has_a_column_group_per_subject() {
    let on = "2027-06-28";
    let t = fixture_on(24, on).await;
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(true);
    opts.date = day(on);
    build::run(&t.db, out.path(), &opts).await.unwrap();
    let s = snapshot(&t, on).await;
    let class = s
        .classes
        .iter()
        .find(|c| c.grade == 9)
        .or_else(|| s.classes.iter().find(|c| c.grade == 5))
        .unwrap();
    let pdf = out
        .path()
        .join(format!("current/c/{}/statement-year.pdf", class.key));
    keep_pictures(&pdf, "statement-year");
    let Some(all) = all_text(&pdf) else { return };
    assert!(all.contains("I II III IV Год"), "{all}");
    // The class page, the student index and the school page link to the PDFs.
    let cur = out.path().join("current");
    let class_page = page(&cur, &format!("c/{}/index.html", class.key));
    assert!(class_page.contains("href=\"statement-year.pdf\""));
    let school = page(&cur, "school/index.html");
    assert!(school.contains(&format!("c/{}/statement-", class.key)) && school.contains(".pdf\""));
    let st = s
        .students
        .iter()
        .find(|st| st.class_id == Some(class.id))
        .unwrap();
    let index = page(&cur, &format!("s/{}/index.html", st.key));
    let printed: Vec<&str> = index
        .split("href=\"print/")
        .skip(1)
        .map(|r| r.split('"').next().unwrap())
        .collect();
    assert_eq!(printed.len(), 2, "{index}");
    for p in printed {
        assert!(cur.join(format!("s/{}/print/{p}", st.key)).exists(), "{p}");
    }
    t.finish().await;
}
