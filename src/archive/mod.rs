//! `tabel archive` and `tabel verify`: a finished school year frozen into a
//! signed BagIt package (RFC 8493), and a verifier for any bag.
//!
//! A bag holds every summary statement of the year (each class × period and
//! the year) as PDF/A beside the JSON it was typeset from, and the year's
//! roster. SHA-256 and SHA-512 manifests cover the payload, tag manifests
//! cover the tag files, and a minisign (Ed25519) signature covers
//! `tagmanifest-sha512.txt`, with the bag id, school and year in its trusted
//! comment. Any BagIt tool and the school's public key suffice to check it.

pub mod bagit;
pub mod sign;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha512};

use crate::db::Database;
use crate::gradebook::model::{Date, PeriodKind, SchoolYear};
use crate::gradebook::{self, Snapshot, YearChoice};
use crate::i18n::Language;
use crate::render::pdf::{Doc, Typesetter};
use crate::views::{self, documents};

pub use sign::{Password, Signer};

/// The signature file beside the tag manifest it signs.
pub const SIGNATURE: &str = "tagmanifest-sha512.txt.minisig";
/// The file the signature covers.
pub const SIGNED: &str = "tagmanifest-sha512.txt";

/// What `tabel archive` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The school year, `2025/2026` (or `2025-2026`).
    pub year: String,
    /// Only this school (external id or id).
    pub school: Option<String>,
    /// Today: the year must have ended before it.
    pub today: Date,
    /// Archive even an unfinished year.
    pub force: bool,
    pub language: Language,
    pub templates: Option<PathBuf>,
}

/// One bag written.
#[derive(Debug, Clone)]
pub struct Archived {
    pub school: String,
    pub dir: PathBuf,
    pub bag_id: String,
    pub statements: usize,
    pub files: usize,
    pub bytes: u64,
    pub seconds: f64,
}

impl std::fmt::Display for Archived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "archived {} into {}: {} statements, {} payload files, {:.1} MB, signed, in {:.1} s (bag {})",
            self.school,
            self.dir.display(),
            self.statements,
            self.files,
            self.bytes as f64 / 1e6,
            self.seconds,
            self.bag_id
        )
    }
}

/// `2025/2026` or `2025-2026` → (2025, 2026).
pub fn parse_year(s: &str) -> Result<(i32, i32)> {
    let parsed = s
        .split_once(['/', '-'])
        .and_then(|(a, b)| Some((a.trim().parse::<i32>().ok()?, b.trim().parse::<i32>().ok()?)));
    match parsed {
        Some((a, b)) if b == a + 1 && (1900..3000).contains(&a) => Ok((a, b)),
        _ => bail!("{s:?} is not a school year; write it as 2025/2026"),
    }
}

/// The folder name of a year: `2025-2026`.
pub fn year_folder(y: &SchoolYear) -> String {
    format!(
        "{}-{}",
        y.starts_on.0.format("%Y"),
        y.ends_on.0.format("%Y")
    )
}

/// Where the bag of `year` of `school` goes: `archive/2025-2026/`, or
/// `archive/2025-2026/<school>/` when the database holds several schools.
fn bag_dir(output: &Path, year: &SchoolYear, school: Option<&str>) -> PathBuf {
    let base = output.join("archive").join(year_folder(year));
    match school {
        Some(s) => base.join(s),
        None => base,
    }
}

/// What keeps a year from being archived: empty when it is finished (the
/// year has ended, and every student has a year mark in every subject they
/// study that is marked in their class).
pub fn unfinished(s: &Snapshot, today: Date) -> Vec<String> {
    let mut why = Vec::new();
    if today <= s.year.ends_on {
        why.push(format!(
            "the school year ends on {}; today is {today}",
            s.year.ends_on
        ));
    }
    let Some(year) = s.periods.iter().find(|p| p.kind == PeriodKind::Year) else {
        why.push("the school year has no reporting period for the year marks".into());
        return why;
    };
    let marked: BTreeSet<(i64, i64)> = s
        .period_marks
        .iter()
        .filter(|m| m.period_id == year.id)
        .map(|m| (m.student_id, m.subject_id))
        .collect();
    let mut groups_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for g in &s.groups {
        for &m in &g.members {
            groups_of.entry(m).or_default().push(g.id);
        }
    }
    let subject = |id: i64| {
        s.subjects
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_string(), |x| x.name.clone())
    };
    // A subject is marked in a class if any student of the class has a
    // year mark in it: first grades and unmarked courses are not.
    let marked_in_class: BTreeSet<(i64, i64)> = s
        .students
        .iter()
        .filter_map(|st| st.class_id.map(|c| (c, st.id)))
        .flat_map(|(c, id)| {
            marked
                .range((id, i64::MIN)..=(id, i64::MAX))
                .map(move |&(_, sid)| (c, sid))
        })
        .collect();
    let mut missing = Vec::new();
    for st in &s.students {
        let Some(class) = st.class_id else { continue };
        if st.left_on.is_some_and(|d| d <= s.year.ends_on) {
            continue;
        }
        let groups = groups_of.get(&st.id).map(Vec::as_slice).unwrap_or(&[]);
        let subjects: BTreeSet<i64> = s
            .assignments
            .iter()
            .filter(|a| {
                a.class_id == Some(class) || a.group_id.is_some_and(|g| groups.contains(&g))
            })
            .map(|a| a.subject_id)
            .collect();
        for sid in subjects {
            if marked_in_class.contains(&(class, sid)) && !marked.contains(&(st.id, sid)) {
                let title = s
                    .classes
                    .iter()
                    .find(|c| c.id == class)
                    .map_or("?", |c| c.title.as_str());
                missing.push(format!("{} ({title}): {}", st.name.full(), subject(sid)));
            }
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        let shown: Vec<_> = missing.into_iter().take(10).collect();
        why.push(format!(
            "{n} year mark(s) missing, e.g. {}",
            shown.join("; ")
        ));
    }
    why
}

/// A class's folder name in the bag: its title in Latin letters when that
/// is plain and unique, else its key.
fn class_folders(s: &Snapshot) -> HashMap<i64, String> {
    const CYR: &[(char, &str)] = &[
        ('А', "A"),
        ('Б', "B"),
        ('В', "V"),
        ('Г', "G"),
        ('Д', "D"),
        ('Е', "E"),
        ('Ё', "E"),
        ('Ж', "Zh"),
        ('З', "Z"),
        ('И', "I"),
        ('Й', "I"),
        ('К', "K"),
        ('Л', "L"),
        ('М', "M"),
        ('Н', "N"),
        ('О', "O"),
        ('П', "P"),
        ('Р', "R"),
        ('С', "S"),
        ('Т', "T"),
        ('У', "U"),
        ('Ф', "F"),
        ('Х', "Kh"),
        ('Ц', "Ts"),
        ('Ч', "Ch"),
        ('Ш', "Sh"),
        ('Щ', "Shch"),
        ('Ы', "Y"),
        ('Э', "E"),
        ('Ю', "Iu"),
        ('Я', "Ia"),
    ];
    let latin = |title: &str| -> Option<String> {
        let mut out = String::new();
        for ch in title.trim().chars() {
            let up = ch.to_uppercase().next().unwrap_or(ch);
            if ch.is_ascii_alphanumeric() {
                out.push(ch);
            } else if let Some((_, l)) = CYR.iter().find(|(c, _)| *c == up) {
                out.push_str(l);
            } else if ch == '-' || ch == ' ' {
                out.push('-');
            } else {
                return None;
            }
        }
        (!out.is_empty() && out.len() <= 24).then_some(out)
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    let names: Vec<(i64, Option<String>)> =
        s.classes.iter().map(|c| (c.id, latin(&c.title))).collect();
    for (_, n) in &names {
        if let Some(n) = n {
            *count.entry(n.to_ascii_lowercase()).or_default() += 1;
        }
    }
    s.classes
        .iter()
        .zip(names)
        .map(|(c, (_, n))| {
            let name = match n {
                Some(n) if count.get(&n.to_ascii_lowercase()) == Some(&1) => n,
                _ => c.key.clone(),
            };
            (c.id, name)
        })
        .collect()
}

/// A bag-info value on one line, without control characters.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An identifier safe in a path and a trusted comment.
fn token(s: &str, fallback: i64) -> String {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && !s.starts_with('.');
    if ok {
        s.to_owned()
    } else {
        format!("school-{fallback}")
    }
}

/// The year's roster, as `data/roster.json` carries it.
#[derive(Serialize)]
struct Roster<'a> {
    school: &'a str,
    school_id: &'a str,
    year: &'a str,
    starts_on: String,
    ends_on: String,
    snapshot: &'a str,
    classes: Vec<RosterClass<'a>>,
}

#[derive(Serialize)]
struct RosterClass<'a> {
    title: &'a str,
    id: &'a str,
    key: &'a str,
    folder: &'a str,
    class_teacher: Option<String>,
    students: Vec<RosterStudent<'a>>,
}

#[derive(Serialize)]
struct RosterStudent<'a> {
    n: usize,
    name: String,
    id: &'a str,
    key: &'a str,
    birth_date: Option<String>,
    enrolled_on: String,
    left_on: Option<String>,
}

/// Archives the year of every selected school; refuses what is not ready.
pub async fn run(
    db: &Database,
    output: &Path,
    opts: &Options,
    signer: &Signer,
) -> Result<Vec<Archived>> {
    let (first, second) = parse_year(&opts.year)?;
    let schools = gradebook::list_schools(db).await?;
    if schools.is_empty() {
        bail!("the database holds no school");
    }
    let several = schools.len() > 1;
    let selected: Vec<_> = match &opts.school {
        Some(want) => schools
            .iter()
            .filter(|s| &s.external_id == want || s.id.to_string() == *want)
            .cloned()
            .collect(),
        None => schools.clone(),
    };
    if selected.is_empty() {
        bail!(
            "there is no school {:?}",
            opts.school.as_deref().unwrap_or("")
        );
    }
    let typesetter = Typesetter::new(opts.templates.as_deref())?;
    let mut done = Vec::new();
    for school in &selected {
        let years = gradebook::school_years(db, school.id).await?;
        let Some(year) = years.into_iter().find(|y| {
            y.starts_on.0.format("%Y").to_string() == first.to_string()
                && y.ends_on.0.format("%Y").to_string() == second.to_string()
        }) else {
            bail!(
                "school {} has no school year {first}/{second}",
                school.external_id
            );
        };
        let snapshot = gradebook::load(db, school.id, YearChoice::Id(year.id))
            .await
            .with_context(|| format!("cannot load school {}", school.external_id))?;
        let why = unfinished(&snapshot, opts.today);
        if !why.is_empty() && !opts.force {
            bail!(
                "the school year {} of {} is not finished, so it is not archived (--force archives it anyway):\n  - {}",
                year.title,
                school.external_id,
                why.join("\n  - ")
            );
        }
        let slug = several.then(|| token(&snapshot.school.external_id, snapshot.school.id));
        let dir = bag_dir(output, &year, slug.as_deref());
        done.push(write_bag(&snapshot, &dir, opts, &typesetter, signer)?);
    }
    Ok(done)
}

/// Writes the bag of `s` at `dir` through a temporary folder.
fn write_bag(
    s: &Snapshot,
    dir: &Path,
    opts: &Options,
    typesetter: &Typesetter,
    signer: &Signer,
) -> Result<Archived> {
    let started = Instant::now();
    if dir.exists() {
        bail!(
            "{} exists already: an archive is never overwritten",
            dir.display()
        );
    }
    let parent = dir.parent().context("the archive folder has no parent")?;
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the archive folder has no name")?;
    // Leftovers of a killed run of this same bag go first.
    let tmp = parent.join(format!(".{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove the leftover {}", tmp.display()))?;
    }
    fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = fill_bag(s, &tmp, opts, typesetter, signer).and_then(|mut a| {
        let report = bagit::validate(&tmp)?;
        if !report.is_valid() {
            bail!(
                "the new bag does not validate: {}",
                report.errors.join("; ")
            );
        }
        sync_tree(&tmp)?;
        rename_no_replace(&tmp, dir)?;
        sync_dir(parent)?;
        a.dir = dir.to_owned();
        a.seconds = started.elapsed().as_secs_f64();
        Ok(a)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// Typesets the statements and writes payload, tag files and signature.
fn fill_bag(
    s: &Snapshot,
    tmp: &Path,
    opts: &Options,
    typesetter: &Typesetter,
    signer: &Signer,
) -> Result<Archived> {
    let digest = s.digest();
    // Every period is finished the day after the year ends.
    let after = Date(s.year.ends_on.0 + chrono::Days::new(1));
    let ix = views::Index::new(s, opts.language, after.max(opts.today), "");
    let folders = class_folders(s);
    let mut payload: Vec<(String, Vec<u8>)> = Vec::new();
    let mut docs: Vec<(String, Doc)> = Vec::new();
    for class in &s.classes {
        let folder = &folders[&class.id];
        for p in ix.finished_periods(class) {
            let st = ix.statement(class, p);
            let path = format!(
                "data/statements/{folder}/{}",
                views::statement::period_slug(p)
            );
            let ident = format!("archive/{}/{path}.pdf", year_folder(&s.year));
            let doc = documents::statement(&ix, class, p, &st, &ident);
            payload.push((format!("{path}.json"), doc.data.clone()));
            docs.push((format!("{path}.pdf"), doc));
        }
    }
    let lang = ix.t.lang;
    let pdfs = typeset_all(typesetter, lang, &docs)?;
    let statements = docs.len();
    for ((path, _), pdf) in docs.into_iter().zip(pdfs) {
        payload.push((path, pdf));
    }
    payload.push((
        "data/roster.json".into(),
        roster_json(s, &folders, &ix, &digest)?,
    ));
    payload.sort_by(|a, b| a.0.cmp(&b.0));
    // Payload and its manifests.
    let mut sha256 = String::new();
    let mut sha512 = String::new();
    let mut bytes = 0u64;
    for (path, data) in &payload {
        write_new(&tmp.join(path), data)?;
        bytes += data.len() as u64;
        let p = bagit::encode_path(path);
        sha256.push_str(&format!("{}  {p}\n", hex(&Sha256::digest(data))));
        sha512.push_str(&format!("{}  {p}\n", hex(&Sha512::digest(data))));
    }
    let school_id = token(&s.school.external_id, s.school.id);
    let bag_id = format!(
        "tabel:{school_id}:{}:{}",
        year_folder(&s.year),
        &digest[..16]
    );
    let mut info: Vec<(&str, String)> = vec![
        ("Source-Organization", one_line(&s.school.name)),
        ("Organization-Address", one_line(&s.school.address)),
    ];
    if let Some(e) = &s.school.email {
        info.push(("Contact-Email", one_line(e)));
    }
    if let Some(p) = &s.school.phone {
        info.push(("Contact-Phone", one_line(p)));
    }
    info.extend([
        (
            "External-Description",
            one_line(&format!(
                "{} {}: {} ({})",
                ix.t.archive_description, s.year.title, s.school.name, statements
            )),
        ),
        ("External-Identifier", bag_id.clone()),
        ("Bagging-Date", opts.today.to_string()),
        ("Bag-Count", "1 of 1".into()),
        (
            "Bag-Software-Agent",
            format!("tabel {}", env!("CARGO_PKG_VERSION")),
        ),
        ("Payload-Oxum", format!("{bytes}.{}", payload.len())),
        ("School-Identifier", school_id.clone()),
        ("School-Year", one_line(&s.year.title)),
        (
            "School-Year-Dates",
            format!("{} {}", s.year.starts_on, s.year.ends_on),
        ),
        ("Tabel-Version", env!("CARGO_PKG_VERSION").into()),
        ("Snapshot-Id", digest.clone()),
    ]);
    let info_text: String = info.iter().map(|(l, v)| format!("{l}: {v}\n")).collect();
    let tags: Vec<(&str, String)> = vec![
        (
            "bagit.txt",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".into(),
        ),
        ("bag-info.txt", info_text),
        ("manifest-sha256.txt", sha256),
        ("manifest-sha512.txt", sha512),
    ];
    let mut tag256 = String::new();
    let mut tag512 = String::new();
    for (name, text) in &tags {
        write_new(&tmp.join(name), text.as_bytes())?;
        tag256.push_str(&format!("{}  {name}\n", hex(&Sha256::digest(text))));
        tag512.push_str(&format!("{}  {name}\n", hex(&Sha512::digest(text))));
    }
    write_new(&tmp.join("tagmanifest-sha256.txt"), tag256.as_bytes())?;
    write_new(&tmp.join(SIGNED), tag512.as_bytes())?;
    let trusted = trusted_comment(&bag_id, &school_id, &s.year.title);
    let signature = signer.sign(
        tag512.as_bytes(),
        &trusted,
        "signature of tagmanifest-sha512.txt of a tabel archive bag",
    )?;
    write_new(&tmp.join(SIGNATURE), signature.as_bytes())?;
    Ok(Archived {
        school: s.school.external_id.clone(),
        dir: tmp.to_owned(),
        bag_id,
        statements,
        files: payload.len(),
        bytes,
        seconds: 0.0,
    })
}

/// Typesets `docs` a few at a time on one plain thread per core, in order.
/// Not rayon tasks: typst parallelizes inside a compile with rayon, and a
/// rayon worker waiting on that would start further compiles meanwhile,
/// piling up their memory (see the build's `documents`).
fn typeset_all(
    typesetter: &Typesetter,
    lang: &str,
    docs: &[(String, Doc)],
) -> Result<Vec<Vec<u8>>> {
    const PER_COMPILE: usize = 8;
    let chunks: Vec<(usize, &[(String, Doc)])> = docs.chunks(PER_COMPILE).enumerate().collect();
    let queue = std::sync::Mutex::new(chunks.into_iter());
    let done = std::sync::Mutex::new(Vec::new());
    let work = || -> Result<()> {
        loop {
            let next = queue
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .next();
            let Some((i, chunk)) = next else {
                return Ok(());
            };
            let refs: Vec<&Doc> = chunk.iter().map(|(_, d)| d).collect();
            let pdfs = typesetter.typeset("statement.typ", lang, &refs)?;
            done.lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .push((i, pdfs));
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a typesetting thread panicked"))??;
        }
        Ok(())
    })?;
    let mut done = done.into_inner().map_err(|_| anyhow::anyhow!("poisoned"))?;
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().flat_map(|(_, p)| p).collect())
}

/// The signature's trusted comment: what the signature vouches for.
fn trusted_comment(bag: &str, school: &str, year: &str) -> String {
    format!(
        "tabel archive bag={bag} school={school} year={}",
        one_line(year).replace(' ', "_")
    )
}

fn roster_json(
    s: &Snapshot,
    folders: &HashMap<i64, String>,
    ix: &views::Index<'_>,
    digest: &str,
) -> Result<Vec<u8>> {
    let staff: BTreeMap<i64, String> = s.staff.iter().map(|p| (p.id, p.name.full())).collect();
    let roster = Roster {
        school: &s.school.name,
        school_id: &s.school.external_id,
        year: &s.year.title,
        starts_on: s.year.starts_on.to_string(),
        ends_on: s.year.ends_on.to_string(),
        snapshot: digest,
        classes: s
            .classes
            .iter()
            .map(|c| RosterClass {
                title: &c.title,
                id: &c.external_id,
                key: &c.key,
                folder: &folders[&c.id],
                class_teacher: c.class_teacher_id.and_then(|id| staff.get(&id).cloned()),
                students: ix
                    .roster
                    .get(&c.id)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                    .map(|(i, st)| RosterStudent {
                        n: i + 1,
                        name: st.name.full(),
                        id: &st.external_id,
                        key: &st.key,
                        birth_date: st.birth_date.map(|d| d.to_string()),
                        enrolled_on: st.enrolled_on.to_string(),
                        left_on: st.left_on.map(|d| d.to_string()),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&roster).context("cannot serialize the roster")?;
    json.push(b'\n');
    Ok(json)
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Creates a new file (and its folders) with `bytes`.
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Flushes every file of the tree at `root` to disk.
fn sync_tree(root: &Path) -> Result<()> {
    let dir = fs::File::open(root).with_context(|| format!("cannot open {}", root.display()))?;
    rustix::fs::syncfs(&dir).context("cannot flush the archive to disk")?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot flush {}", dir.display()))
}

/// Renames `from` to `to`, failing if `to` exists (even if it appeared meanwhile).
fn rename_no_replace(from: &Path, to: &Path) -> Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .with_context(|| {
        format!(
            "cannot move the new archive into {} (it is never overwritten)",
            to.display()
        )
    })
}

/// The outcome of `tabel verify`.
#[derive(Debug)]
pub struct Verdict {
    pub report: bagit::Report,
    /// The signature's trusted comment, when a public key was given and it verified.
    pub signed: Option<String>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.report.is_valid()
    }
}

/// Verifies the bag at `dir`: BagIt validity, and with `pubkey` its signature.
pub fn verify(dir: &Path, pubkey: Option<&Path>) -> Result<Verdict> {
    let mut report = bagit::validate(dir)?;
    let mut signed = None;
    if let Some(pk_path) = pubkey {
        let pk = sign::read_public(pk_path)?;
        match check_signature(dir, &pk, &report) {
            Ok(comment) => signed = Some(comment),
            Err(e) => report.errors.push(format!("{e:#}")),
        }
    }
    Ok(Verdict { report, signed })
}

fn check_signature(dir: &Path, pk: &minisign::PublicKey, report: &bagit::Report) -> Result<String> {
    let read = |name: &str| -> Result<Vec<u8>> {
        let mut f = bagit::open_in_bag(&dir.join(name))
            .with_context(|| format!("{name}: cannot be read"))?;
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut v)
            .with_context(|| format!("{name}: cannot be read"))?;
        Ok(v)
    };
    let sig = read(SIGNATURE)?;
    let sig = String::from_utf8(sig).with_context(|| format!("{SIGNATURE}: is not text"))?;
    let data = read(SIGNED)?;
    let comment = sign::verify(pk, &sig, &data)
        .with_context(|| format!("{SIGNATURE}: the signature of {SIGNED} does not verify"))?;
    // The trusted comment must name this bag.
    let field = |k: &str| {
        comment
            .split(' ')
            .find_map(|w| w.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
            .map(str::to_owned)
    };
    let expect = [
        ("bag", report.info("External-Identifier").map(str::to_owned)),
        (
            "school",
            report.info("School-Identifier").map(str::to_owned),
        ),
        (
            "year",
            report.info("School-Year").map(|y| y.replace(' ', "_")),
        ),
    ];
    for (k, want) in expect {
        let got = field(k);
        if got.is_none() || got != want {
            bail!(
                "{SIGNATURE}: the trusted comment {comment:?} does not match bag-info.txt ({k} is {:?} there)",
                want.unwrap_or_default()
            );
        }
    }
    Ok(comment)
}

/// Years that ended before `today` and have no bag yet, per school: for the
/// nightly build to archive (with a key) or to warn about (without one).
pub async fn pending(
    db: &Database,
    output: &Path,
    today: Date,
) -> Result<Vec<(gradebook::SchoolRef, SchoolYear, PathBuf)>> {
    let schools = gradebook::list_schools(db).await?;
    let several = schools.len() > 1;
    let mut out = Vec::new();
    for school in schools {
        for year in gradebook::school_years(db, school.id).await? {
            if year.ends_on >= today {
                continue;
            }
            let slug = several.then(|| token(&school.external_id, school.id));
            let dir = bag_dir(output, &year, slug.as_deref());
            if !dir.exists() {
                out.push((school.clone(), year, dir));
            }
        }
    }
    Ok(out)
}
