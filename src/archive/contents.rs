//! What a bag holds besides the statements: the class folders' names, the
//! school and year as safe identifiers, and the year's roster.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::gradebook::Snapshot;
use crate::views::{self};

/// A class's folder name in the bag: its title in Latin letters when that
/// is plain and unique, else its key.
pub(super) fn class_folders(s: &Snapshot) -> HashMap<i64, String> {
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
pub(super) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An identifier safe in a path and a trusted comment.
pub(super) fn token(s: &str, fallback: i64) -> String {
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
    /// Everyone in the class at some time of the year.
    students: Vec<RosterStudent<'a>>,
    /// Who was in the class during each of its periods (row numbers of
    /// `students`): the rows of that period's statement.
    periods: Vec<RosterPeriod<'a>>,
}

#[derive(Serialize)]
struct RosterPeriod<'a> {
    period: String,
    title: &'a str,
    students: Vec<usize>,
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
    /// The first and last day in this class.
    in_class_from: String,
    in_class_until: String,
}

pub(super) fn roster_json(
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
                    .roster(c)
                    .iter()
                    .enumerate()
                    .map(|(i, (st, span))| RosterStudent {
                        n: i + 1,
                        name: st.name.full(),
                        id: &st.external_id,
                        key: &st.key,
                        birth_date: st.birth_date.map(|d| d.to_string()),
                        enrolled_on: st.enrolled_on.to_string(),
                        // Only a departure within the year is the year's record.
                        left_on: st
                            .left_on
                            .filter(|&d| d < s.year.ends_on)
                            .map(|d| d.to_string()),
                        in_class_from: span.from.to_string(),
                        in_class_until: span.until.to_string(),
                    })
                    .collect(),
                periods: ix
                    .periods_of(c)
                    .into_iter()
                    .map(|p| {
                        let period = views::Span {
                            from: p.starts_on,
                            until: p.ends_on,
                        };
                        RosterPeriod {
                            period: views::statement::period_slug(p),
                            title: &p.title,
                            students: ix
                                .roster(c)
                                .iter()
                                .enumerate()
                                .filter(|(_, (_, span))| span.overlaps(&period))
                                .map(|(i, _)| i + 1)
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&roster).context("cannot serialize the roster")?;
    json.push(b'\n');
    Ok(json)
}
