//! The nightly build against a real SQLite file: pages, safety of teacher
//! text, incremental builds, crash safety, and the pages in real tools
//! (the Nu Html Checker, headless Chromium).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::build::{TODAY, day, demo_into, fixture, options};
use crate::support::{TestDb, page, tabel, tool, tree, unpack};
use tabel::build::{self, release};
use tabel::gradebook::{self, YearChoice};
use tabel::http::releases::Coding;

/// Every HTML page under `dir` (stored as `.html.br`), by its path as served.
fn html_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter_map(|p| {
            p.to_str()?
                .strip_suffix(".html.br")
                .map(|p| PathBuf::from(format!("{p}.html")))
        })
        .collect()
}

/// The page at `p` (a path [`html_files`] gives), as served plain.
fn html(p: &Path) -> String {
    page(
        p.parent().unwrap(),
        p.file_name().unwrap().to_str().unwrap(),
    )
}

/// A student of grade 2 or above (so they have marks), the first by id.
async fn some_student(t: &TestDb) -> (gradebook::Snapshot, usize) {
    let school = gradebook::list_schools(&t.db).await.unwrap()[0].id;
    let s = gradebook::load(&t.db, school, YearChoice::On(day(TODAY)))
        .await
        .unwrap();
    let i = s
        .students
        .iter()
        .position(|st| {
            s.classes
                .iter()
                .any(|c| Some(c.id) == st.class_id && c.grade == 5)
        })
        .unwrap();
    (s, i)
}

#[tokio::test]
async fn pages_match_their_snapshots() {
    let t = fixture(30).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let (s, i) = some_student(&t).await;
    let st = &s.students[i];
    let class = s
        .classes
        .iter()
        .find(|c| Some(c.id) == st.class_id)
        .unwrap();
    let cur = out.path().join("current");
    let read = |rel: String| page(&cur, &rel);
    insta::assert_snapshot!("week_page", read(format!("s/{}/w/2026-W47.html", st.key)));
    insta::assert_snapshot!("marks_page", read(format!("s/{}/marks.html", st.key)));
    insta::assert_snapshot!("class_page", read(format!("c/{}/index.html", class.key)));
    t.finish().await;
}

#[tokio::test]
async fn release_layout_and_manifest() {
    let t = fixture(30).await;
    let out = tempfile::tempdir().unwrap();
    let summary = build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let cur = out.path().join("current");
    assert!(std::fs::read_link(&cur).unwrap().starts_with("releases"));
    let n = release::verify(&cur).unwrap();
    assert_eq!(n, summary.files);
    let (s, _) = some_student(&t).await;
    for st in &s.students {
        for f in [
            "index.html",
            "marks.html",
            "w/2026-W36.html",
            "w/2026-W48.html",
        ] {
            let p = cur.join("s").join(&st.key).join(f);
            assert!(p.with_extension("html.br").exists(), "{}", p.display());
            assert!(!p.exists() && !p.with_extension("html.gz").exists());
        }
        // URLs carry keys, not names.
        assert!(!st.key.contains(&st.name.family_name));
    }
    assert!(cur.join("school/index.html.br").exists());
    assert!(cur.join("404.html.br").exists() && cur.join("index.html.br").exists());
    // Text is stored as `.br` alone.
    assert!(!cur.join("school/index.html").exists() && !cur.join("school/index.html.gz").exists());
    let css: Vec<_> = std::fs::read_dir(cur.join("assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        css.iter().any(|n| n.to_string_lossy().starts_with("tabel.")
            && n.to_string_lossy().ends_with(".css.br"))
    );
    // No page refers to anything outside the release: no scripts, no remote resources.
    let pages = html_files(&cur);
    assert!(pages.len() > 100);
    for p in pages {
        let html = html(&p);
        assert!(!html.contains("<script"), "{}", p.display());
        assert!(!html.contains("src=\"http"), "{}", p.display());
        assert!(html.contains("<meta charset=\"utf-8\">"));
    }
    // The release's manifest lists the shared files; the school's own
    // manifest lists the school's.
    let m: release::Manifest =
        serde_json::from_slice(&std::fs::read(cur.join("manifest.json")).unwrap()).unwrap();
    assert!(m.files.iter().all(|e| e.school.is_empty()));
    assert_eq!(m.schools.len(), 1);
    let part = &m.schools[0];
    assert_eq!(part.manifest, format!("manifests/{}.json.br", part.school));
    let own = release::read_part(&cur, part).unwrap();
    assert!(own.iter().all(|e| e.school == part.school));
    assert_eq!(own.len() + m.files.len(), n);
    assert!(part.folders.contains(&"school/index.html".to_owned()));
    // Every personal file carries its owner's scope.
    for e in &release::all_entries(&cur).unwrap() {
        match e.path.split('/').collect::<Vec<_>>().as_slice() {
            ["s", key, ..] => assert!(
                matches!(
                    &e.scope,
                    tabel::accounts::access::Scope::StudentDays(k, from, until)
                        if k == key && from <= until
                ),
                "{}: {:?}",
                e.path,
                e.scope
            ),
            ["c", key, ..] => assert_eq!(
                e.scope,
                tabel::accounts::access::Scope::Class((*key).to_owned()),
                "{}",
                e.path
            ),
            ["school", ..] => assert!(
                matches!(e.scope, tabel::accounts::access::Scope::School(_)),
                "{}",
                e.path
            ),
            _ => assert_eq!(
                e.scope,
                tabel::accounts::access::Scope::Public,
                "{}",
                e.path
            ),
        }
    }
    t.finish().await;
}

#[tokio::test]
async fn week_page_and_stylesheet_fit_in_14_kb_brotli() {
    let t = fixture(120).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let cur = out.path().join("current");
    let css = std::fs::read_dir(cur.join("assets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".css.br"))
        .unwrap();
    let css_len = std::fs::metadata(css).unwrap().len();
    let heaviest = walkdir::WalkDir::new(cur.join("s"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| {
            p.to_string_lossy().contains("/w/") && p.to_string_lossy().ends_with(".html.br")
        })
        .map(|p| std::fs::metadata(p).unwrap().len())
        .max()
        .unwrap();
    assert!(
        heaviest + css_len <= 14 * 1024,
        "week {heaviest} + css {css_len} bytes"
    );
    t.finish().await;
}

/// Scans HTML for live markup that did not come from our templates.
fn assert_no_live_markup(html: &str, where_: &str) {
    let allowed = [
        "html",
        "head",
        "meta",
        "title",
        "link",
        "body",
        "header",
        "main",
        "footer",
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "small",
        "p",
        "nav",
        "span",
        "section",
        "em",
        "strong",
        "ol",
        "ul",
        "li",
        "div",
        "b",
        "q",
        "aside",
        "dl",
        "dt",
        "dd",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "abbr",
        "sub",
        "details",
        "summary",
        "figure",
        "figcaption",
        "svg",
        "line",
        "polyline",
        "circle",
        "br",
        "del",
        "code",
        "pre",
        "blockquote",
        "hr",
    ];
    let lower = html.to_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(off) = lower[i..].find('<') {
        let start = i + off;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start + 1..end];
        i = end;
        if tag.starts_with('/') || tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            allowed.contains(&name.as_str()),
            "{where_}: live <{name}> in {tag:?}"
        );
        for attr in tag.split_whitespace().skip(1) {
            assert!(
                !attr.starts_with("on"),
                "{where_}: event handler in <{tag}>"
            );
            if let Some(v) = attr
                .strip_prefix("href=\"")
                .or_else(|| attr.strip_prefix("src=\""))
            {
                let v = v.replace("&#x3a;", ":").replace("&#58;", ":");
                for bad in ["javascript:", "data:", "vbscript:"] {
                    assert!(!v.contains(bad), "{where_}: unsafe URL in <{tag}>");
                }
            }
        }
        if name == "svg" {
            assert!(
                tag.starts_with("svg class=\"trend\""),
                "{where_}: foreign svg"
            );
        }
        let _ = bytes;
    }
}

#[tokio::test]
async fn hostile_teacher_text_never_becomes_markup() {
    let t = fixture(30).await;
    let (s, i) = some_student(&t).await;
    let st = &s.students[i];
    let corpus = [
        "<script>alert(1)</script>",
        "x <img src=x onerror=alert(1)> y",
        "[клик](javascript:alert(1))",
        "[клик](\tjavascript:alert(1))",
        "<svg><set attributeName=onmouseover to=alert(1)></svg>",
        "&lt;script&gt;alert(1)&lt;/script&gt; &#60;script&#62;",
        "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "\"><script>alert(1)</script>",
    ];
    let hostile = corpus.join("\n\n");
    let pool = t.db.pool();
    sqlx::query("UPDATE lesson SET homework = $1, topic = $2 WHERE class_id = $3")
        .bind(hostile.clone())
        .bind(corpus[8].to_owned())
        .bind(st.class_id.unwrap())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE mark SET comment = $1 WHERE student_id = $2")
        .bind(hostile.clone())
        .bind(st.id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE note SET body = $1")
        .bind(hostile.clone())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO note (school_id, external_id, student_id, date, body) VALUES ($1, 'x-note', $2, '2026-11-24', $3)")
        .bind(s.school.id)
        .bind(st.id)
        .bind(hostile.clone())
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE student SET family_name = $1, given_name = $2, patronymic = $3 WHERE id = $4",
    )
    .bind(corpus[0].to_owned())
    .bind(corpus[1].to_owned())
    .bind(corpus[8].to_owned())
    .bind(st.id)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE subject SET name = $1")
        .bind(corpus[4].to_owned())
        .execute(pool)
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let cur = out.path().join("current");
    let mut checked = 0;
    for p in html_files(&cur) {
        let html = html(&p);
        assert_no_live_markup(&html, &p.display().to_string());
        checked += 1;
    }
    assert!(checked > 100);
    // The text is still there, shown as text.
    // The running week, on the start page.
    let week = page(&cur, &format!("s/{}/index.html", st.key));
    assert!(
        week.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || week.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{week}"
    );
    assert!(week.contains("клик"));
    t.finish().await;
}

#[tokio::test]
async fn incremental_build_renders_only_what_changed_and_equals_a_full_build() {
    let t = fixture(40).await;
    let out = tempfile::tempdir().unwrap();
    let first = build::run(&t.db, out.path(), &options(true)).await.unwrap();
    assert_eq!(first.carried, 0);
    // Nothing changed: nothing is rendered.
    let again = build::run(&t.db, out.path(), &options(false))
        .await
        .unwrap();
    assert_eq!(again.rendered, 0, "{:?}", again.rendered_paths);
    // Change one mark of a past week.
    let (s, i) = some_student(&t).await;
    let st = &s.students[i];
    let mark = s
        .marks
        .iter()
        .find(|m| m.student_id == st.id && m.date < day("2026-11-01"))
        .unwrap();
    let new_value = if mark.value == "5" { "4" } else { "5" };
    sqlx::query("UPDATE mark SET value = $1 WHERE id = $2")
        .bind(new_value)
        .bind(mark.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    let inc = build::run(&t.db, out.path(), &options(false))
        .await
        .unwrap();
    let expected = vec![
        format!("s/{}/marks.html", st.key),
        format!("s/{}/w/{}.html", st.key, mark.date.iso_week()),
    ];
    assert_eq!(inc.rendered_paths, expected);
    assert_eq!(inc.rendered, 2);
    let inc_tree = tree(&inc.release);
    // A full build of the same data is byte-identical.
    let full = build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let full_tree = tree(&full.release);
    assert_eq!(inc_tree.len(), full_tree.len());
    for (path, bytes) in &full_tree {
        assert!(inc_tree.get(path) == Some(bytes), "{path} differs");
    }
    // Releases beyond `keep` are pruned, the live one never.
    let mut opts = options(false);
    opts.keep = 1;
    let pruned = build::run(&t.db, out.path(), &opts).await.unwrap();
    assert!(!pruned.pruned.is_empty());
    assert_eq!(
        std::fs::read_dir(out.path().join("releases"))
            .unwrap()
            .count(),
        1
    );
    release::verify(&out.path().join("current")).unwrap();
    t.finish().await;
}

#[tokio::test]
async fn a_killed_build_leaves_the_live_release_intact() {
    use rand::{Rng, SeedableRng};
    let t = fixture(150).await;
    let out = tempfile::tempdir().unwrap();
    let run = |full: bool| {
        let mut c = tabel()
            .args(["--database", &t.url, "--output"])
            .arg(out.path())
            .args(["build", "--date", TODAY])
            .command();
        if full {
            c.arg("--full");
        }
        c
    };
    assert!(run(true).status().unwrap().success());
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut live_before = std::fs::read_link(out.path().join("current")).unwrap();
    for round in 0..20 {
        let mut child = run(round % 2 == 0).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(20..2500)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let live = std::fs::read_link(out.path().join("current")).unwrap();
        release::verify(&out.path().join(&live)).unwrap_or_else(|e| panic!("round {round}: {e:#}"));
        if live != live_before {
            live_before = live;
        }
    }
    // The next build cleans up the leftovers and succeeds.
    assert!(run(false).status().unwrap().success());
    let leftovers: Vec<_> = std::fs::read_dir(out.path().join("releases"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty());
    release::verify(&out.path().join("current")).unwrap();
    t.finish().await;
}

#[tokio::test]
async fn every_page_passes_the_nu_html_checker() {
    let Some(jar) = tool(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.ci/node/node_modules/vnu-jar/build/dist/vnu.jar"
    )) else {
        return;
    };
    let t = fixture(24).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    // The checker reads the pages as they are served plain.
    assert!(unpack(&out.path().join("current")) > 50);
    let files = html_files(&out.path().join("current"));
    assert!(files.len() > 50 && files.iter().all(|f| f.is_file()));
    let o = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "text"])
        .args(&files)
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "Nu Html Checker found errors:\n{report}"
    );
    t.finish().await;
}

#[tokio::test]
async fn a_week_page_fits_a_360_px_phone_in_chromium() {
    let Some(chromium) = tool("/usr/bin/chromium") else {
        return;
    };
    let t = fixture(30).await;
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    let (s, _) = some_student(&t).await;
    // The busiest week page of the school, read from disk as it is served
    // plain, with its stylesheet.
    let cur = out.path().join("current");
    unpack(&cur);
    let page = s
        .students
        .iter()
        .map(|st| cur.join(format!("s/{}/w/2026-W47.html", st.key)))
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .unwrap();
    // Headless Chromium will not make a window narrower than 500 px, so the
    // page is shown in a 360×640 frame of a probe page, which reports the
    // frame's viewport and scroll widths in its title.
    let name = page.file_name().unwrap().to_string_lossy().into_owned();
    let probe = page.with_file_name("probe.html");
    std::fs::write(
        &probe,
        format!(
            "<!DOCTYPE html><html><head><title>pending</title><style>body{{margin:0}}iframe{{border:0;display:block}}</style></head>\
             <body><iframe id=\"f\" src=\"{name}\" width=\"360\" height=\"640\"></iframe><script>\
             document.getElementById('f').addEventListener('load',function(){{var w=this.contentWindow;\
             document.title='W'+w.document.documentElement.scrollWidth+' I'+w.innerWidth;}});</script></body></html>"
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let chrome = |extra: &[&str]| {
        Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--allow-file-access-from-files",
            ])
            .args(["--virtual-time-budget=10000", "--window-size=500,640"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", probe.display()))
            .output()
            .unwrap()
    };
    let dom = chrome(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("");
    let (width, viewport) = title
        .strip_prefix('W')
        .and_then(|r| r.split_once(" I"))
        .map(|(w, i)| (w.parse::<u32>().unwrap(), i.parse::<u32>().unwrap()))
        .unwrap_or_else(|| panic!("no width reported: {dom}"));
    assert_eq!(viewport, 360);
    assert!(width <= 360, "horizontal scroll: {width} px");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("week-360x640.png");
    let o = chrome(&[&format!("--screenshot={}", shot.display())]);
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&o.stderr));
    t.finish().await;
}

/// A district in one release: each school's files are listed in a manifest
/// of the school's own; a build of one school renders only that school's
/// changed pages, carries the others over and equals a full build; the gate
/// finds every school's files; a release in the earlier one-manifest format
/// is still read by both.
#[tokio::test]
async fn a_district_lists_each_school_apart() {
    let t = TestDb::sqlite().await;
    demo_into(&t.db, 120, Some(3), 5, TODAY).await;
    let out = tempfile::tempdir().unwrap();
    let opts = |full: bool, school: Option<&str>| build::Options {
        schools: school.map(str::to_owned).into_iter().collect(),
        print_weeks: build::PrintWeeks::None,
        ..options(full)
    };
    let first = build::run(&t.db, out.path(), &opts(false, None))
        .await
        .unwrap();
    let cur = out.path().join("current");
    let n = release::verify(&cur).unwrap();
    assert_eq!(n, first.files);
    let m = release::read_manifest(&cur).unwrap();
    assert_eq!(m.format, release::FORMAT);
    assert_eq!(m.schools.len(), 3);
    assert!(m.files.iter().all(|e| e.school.is_empty()));
    let mut owner = std::collections::HashMap::new();
    for part in &m.schools {
        let files = release::read_part(&cur, part).unwrap();
        assert_eq!(files.len(), part.files);
        assert!(files.iter().all(|e| e.school == part.school));
        assert!(files.iter().all(|e| {
            part.folders
                .contains(&release::folder_of(&e.path).to_owned())
        }));
        assert!(part.folders.iter().any(|f| f.starts_with("school/")));
        for f in &part.folders {
            assert!(
                owner.insert(f.clone(), part.school.clone()).is_none(),
                "{f}"
            );
        }
    }
    // The gate finds a file of every school, and nothing under an unknown key.
    let releases = tabel::http::releases::Releases::new(
        tabel::http::source::Source::Folder(out.path().to_path_buf()),
        1 << 20,
        std::time::Duration::from_secs(0),
    );
    let live = releases.live().unwrap();
    for part in &m.schools {
        let path = format!("{}/index.html", part.folders[0]);
        let f = live.file(&path).await.unwrap().unwrap();
        assert_eq!(&*f.school, part.school);
        // Stored as `.br` alone; served plain made from it.
        assert!(f.plain.is_none() && f.gz.is_none());
        let plain = live.bytes(&path, f, Coding::Identity).await.unwrap();
        assert_eq!(plain, page(&out.path().join("current"), &path).as_bytes());
        let br = live.bytes(&path, f, Coding::Brotli).await.unwrap();
        assert_eq!(br.len() as u64, f.br.unwrap().size);
        assert_ne!(br, plain);
    }
    assert!(
        live.file("s/aaaaaaaaaaaaaaaaaaaaaaaaaa/index.html")
            .await
            .unwrap()
            .is_none()
    );
    assert!(live.file(&m.schools[0].manifest).await.unwrap().is_none());
    // One mark changes in the second school; that school alone is rebuilt.
    let second = &m.schools[1].school;
    let school_id: i64 = sqlx::query_scalar("SELECT id FROM school WHERE external_id = $1")
        .bind(second)
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    let (mark, student): (i64, String) = sqlx::query_as(
        "SELECT m.id, s.key FROM mark m JOIN student s ON s.id = m.student_id \
         WHERE m.school_id = $1 AND m.value IN ('3', '4') ORDER BY m.id LIMIT 1",
    )
    .bind(school_id)
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE mark SET value = '5' WHERE id = $1")
        .bind(mark)
        .execute(t.db.pool())
        .await
        .unwrap();
    let inc = build::run(&t.db, out.path(), &opts(false, Some(second)))
        .await
        .unwrap();
    assert!(inc.rendered > 0);
    assert!(
        inc.rendered_paths
            .iter()
            .all(|p| owner.get(release::folder_of(p)) == Some(second)),
        "{:?}",
        inc.rendered_paths
    );
    assert!(
        inc.rendered_paths
            .iter()
            .any(|p| p.starts_with(&format!("s/{student}/")))
    );
    release::verify(&inc.release).unwrap();
    let full = build::run(&t.db, out.path(), &opts(true, None))
        .await
        .unwrap();
    assert_eq!(tree(&inc.release), tree(&full.release));
    // The earlier format: every file in the one manifest, and every page
    // also stored as it is and as `.gz`, as releases were written then.
    let old = out.path().join("releases/old");
    std::fs::create_dir(&old).unwrap();
    let mut files = Vec::new();
    for (path, bytes) in tree(&full.release) {
        if path.starts_with("manifests/") || path == "manifest.json" || path == "COMPLETE" {
            continue;
        }
        let dst = old.join(&path);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(dst, bytes).unwrap();
    }
    let sha = |b: &[u8]| data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(b));
    for e in release::all_entries(&full.release).unwrap() {
        if let Some(path) = e.path.strip_suffix(".br") {
            let plain =
                release::unbrotli(&std::fs::read(old.join(&e.path)).unwrap(), 1 << 30).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            std::io::Write::write_all(&mut gz, &plain).unwrap();
            let gz = gz.finish().unwrap();
            for (p, bytes) in [(path.to_owned(), plain), (format!("{path}.gz"), gz)] {
                std::fs::write(old.join(&p), &bytes).unwrap();
                files.push(release::Entry {
                    path: p,
                    size: bytes.len() as u64,
                    sha256: sha(&bytes),
                    ..e.clone()
                });
            }
        }
        files.push(e);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let v1 = release::Manifest {
        format: 1,
        schools: Vec::new(),
        files,
        ..release::read_manifest(&full.release).unwrap()
    };
    std::fs::write(old.join("manifest.json"), serde_json::to_vec(&v1).unwrap()).unwrap();
    std::fs::write(old.join("COMPLETE"), "").unwrap();
    std::fs::remove_file(&cur).unwrap();
    std::os::unix::fs::symlink("releases/old", &cur).unwrap();
    release::verify(&cur).unwrap();
    let live = releases.live().unwrap();
    let path = format!("{}/index.html", m.schools[2].folders[0]);
    let f = live.file(&path).await.unwrap().unwrap();
    assert_eq!(&*f.school, m.schools[2].school);
    // Each of its forms is served as stored.
    assert!(f.plain.is_some() && f.br.is_some() && f.gz.is_some());
    assert_eq!(
        live.bytes(&path, f, Coding::Identity).await.unwrap(),
        std::fs::read(old.join(&path)).unwrap()
    );
    assert_eq!(
        live.bytes(&path, f, Coding::Gzip).await.unwrap(),
        std::fs::read(old.join(format!("{path}.gz"))).unwrap()
    );
    // A build from it carries every page over, in the one form stored
    // now, and writes the new format.
    let upgraded = build::run(&t.db, out.path(), &opts(false, None))
        .await
        .unwrap();
    assert_eq!(upgraded.rendered, 0, "{:?}", upgraded.rendered_paths);
    assert_eq!(tree(&upgraded.release), tree(&full.release));
    t.finish().await;
}

/// The threads of this process whose name starts with `prefix` (Linux
/// shows the first 15 bytes of a thread's name).
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// Whether this process holds a POSIX lock on `file` (`/proc/locks`).
fn holds_a_lock_on(file: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(file).unwrap().ino().to_string();
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&"POSIX")
                && f.get(4) == Some(&pid.as_str())
                && f.get(5).and_then(|d| d.rsplit(':').next()) == Some(ino.as_str())
        })
}

/// A build reads the SQLite file ahead through a descriptor of its own.
/// Closing a descriptor drops every lock the process holds on the file,
/// SQLite's included: the office's command run meanwhile would then take
/// itself for the file's last user and delete the write-ahead log on
/// leaving, and what this process wrote after that would be lost (the
/// demo serves from the process that built). So: build here, let the read
/// ahead end, change the data from another process, and the two still
/// see each other's writes.
#[tokio::test]
async fn a_build_keeps_the_locks_its_process_holds_on_the_database() {
    use tabel::accounts;
    let t = fixture(20).await;
    let file = PathBuf::from(t.db.sqlite_file().unwrap());
    let (office, _) = accounts::add(
        &t.db,
        "office",
        "admin".parse().unwrap(),
        None,
        Some("a password of the office".into()),
    )
    .await
    .unwrap();
    assert!(holds_a_lock_on(&file), "SQLite locks the file it has open");
    let out = tempfile::tempdir().unwrap();
    build::run(&t.db, out.path(), &options(true)).await.unwrap();
    for _ in 0..600 {
        if threads_named("sqlite-read-ahe") == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(threads_named("sqlite-read-ahe"), 0, "the read ahead ends");
    assert!(holds_a_lock_on(&file), "the read ahead left SQLite's locks");
    // Another process writes and leaves; this one sees it, and what it
    // writes next the following process sees.
    let url = t.url.clone();
    tabel()
        .args([
            "--database",
            &url,
            "accounts",
            "disable",
            "--login",
            "office",
        ])
        .success();
    let wal = PathBuf::from(format!("{}-wal", file.display()));
    assert!(wal.exists(), "the write-ahead log is still there");
    assert_ne!(accounts::get(&t.db, "office").await.unwrap().disabled, 0);
    accounts::set_disabled(&t.db, office.id, false)
        .await
        .unwrap();
    let list = tabel()
        .args(["--database", &url, "accounts", "list"])
        .success();
    let list = String::from_utf8(list.stdout).unwrap();
    let line = list.lines().find(|l| l.starts_with("office ")).unwrap();
    assert!(line.contains("active"), "{list}");
    t.finish().await;
}
