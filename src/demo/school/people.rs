//! People: names drawn from the data lists, and the families the students
//! come from, with their guardians.

use std::collections::HashMap;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::classes::Classes;
use super::{Facts, Ids, SchoolRows, StudentInfo, key, normal};
use crate::demo::content::{self, FamilyName, MaleName};
use crate::gradebook::Date;
use crate::gradebook::bulk::Val;
use crate::text::translit;

/// A person's name parts.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub family: String,
    pub given: String,
    pub patronymic: String,
}

/// A person of either sex with a name, a father's name and a family name drawn at random.
pub(super) fn person(rng: &mut ChaCha8Rng, female: bool) -> Person {
    let family = content::FAMILY_NAMES
        .choose(rng)
        .copied()
        .unwrap_or(content::FAMILY_NAMES[0]);
    let father = content::MALE_NAMES
        .choose(rng)
        .copied()
        .unwrap_or(content::MALE_NAMES[0]);
    Person {
        family: if female { family.f } else { family.m }.to_owned(),
        given: if female {
            content::FEMALE_NAMES
                .choose(rng)
                .copied()
                .unwrap_or("Мария")
                .to_owned()
        } else {
            content::MALE_NAMES
                .choose(rng)
                .map_or("Иван", |n| n.name)
                .to_owned()
        },
        patronymic: if female {
            father.patronymic_f
        } else {
            father.patronymic_m
        }
        .to_owned(),
    }
}

/// What the children of one family share: the family name and the parents' given names.
#[derive(Clone, Copy)]
struct Family {
    name: FamilyName,
    father: MaleName,
    mother_given: &'static str,
}

impl Family {
    fn draw(rng: &mut ChaCha8Rng) -> Family {
        let name = content::FAMILY_NAMES
            .choose(rng)
            .copied()
            .unwrap_or(content::FAMILY_NAMES[0]);
        let father = content::MALE_NAMES
            .choose(rng)
            .copied()
            .unwrap_or(content::MALE_NAMES[0]);
        let mother_given = content::FEMALE_NAMES
            .choose(rng)
            .copied()
            .unwrap_or("Мария");
        Family {
            name,
            father,
            mother_given,
        }
    }
}

/// Fills the classes with students, family by family: most families have
/// one child at the school, some two or three in different grades. Writes
/// the students, their guardians and who is whose; returns the students.
pub(super) fn families(
    rng: &mut ChaCha8Rng,
    out: &mut SchoolRows,
    ids: &mut Ids,
    facts: &Facts,
    classes: &mut Classes,
) -> Vec<StudentInfo> {
    let mut remaining = classes.per_grade.clone();
    let mut students: Vec<StudentInfo> = Vec::new();
    let mut fill = [0usize; 12];
    while remaining.iter().any(|&r| r > 0) {
        let children = match rng.gen_range(0..100) {
            0..70 => 1,
            70..95 => 2,
            _ => 3,
        };
        let family = Family::draw(rng);
        let mut grades: Vec<usize> = (0..11).filter(|&g| remaining[g] > 0).collect();
        grades.shuffle(rng);
        grades.truncate(children);
        let mut kids = Vec::new();
        for gi in grades {
            remaining[gi] -= 1;
            let in_grade = &classes.of_grade[gi + 1];
            let class = in_grade[fill[gi + 1] % in_grade.len()];
            fill[gi + 1] += 1;
            let info = student(
                rng,
                out,
                ids,
                facts,
                &family,
                gi as i64 + 1,
                classes.all[class].id,
            );
            classes.all[class].students.push(students.len());
            kids.push(students.len());
            students.push(info);
        }
        let kid_ids: Vec<i64> = kids.iter().map(|&k| students[k].id).collect();
        for (p, relation) in guardians(rng, &family) {
            guardian(rng, out, ids, facts, &p, relation, &kid_ids);
        }
    }
    students
}

/// Writes one child of `family` in a class of `grade`.
fn student(
    rng: &mut ChaCha8Rng,
    out: &mut SchoolRows,
    ids: &mut Ids,
    facts: &Facts,
    family: &Family,
    grade: i64,
    class_id: i64,
) -> StudentInfo {
    let Facts {
        cal,
        prefix,
        school_id,
        ..
    } = facts;
    let female = rng.gen_bool(0.5);
    let id = ids.next("student");
    let given = if female {
        content::FEMALE_NAMES
            .choose(rng)
            .copied()
            .unwrap_or("Мария")
            .to_owned()
    } else {
        content::MALE_NAMES
            .choose(rng)
            .map_or("Иван", |n| n.name)
            .to_owned()
    };
    let ability = match rng.gen_range(0..100) {
        0..20 => 4.6,
        20..75 => 3.9,
        _ => 3.2,
    } + normal(rng) * 0.15;
    let birth_year = cal.first_year - 6 - grade as i32;
    let birth = Date::from_ymd(birth_year, rng.gen_range(1..=12), rng.gen_range(1..=28));
    let enrolled = if rng.gen_bool(0.93) {
        Date::from_ymd(cal.first_year - grade as i32 + 1, 9, 1)
    } else {
        Date::from_ymd(cal.first_year - rng.gen_range(0..grade.max(1)) as i32, 9, 1)
    }
    .unwrap_or(cal.starts_on);
    let individual = rng.gen_bool(0.006);
    out.t("student").push([
        Val::Int(id),
        Val::Int(*school_id),
        format!("{prefix}-st-{id:06}").into(),
        key(rng).into(),
        if female { family.name.f } else { family.name.m }.into(),
        given.as_str().into(),
        if female {
            family.father.patronymic_f
        } else {
            family.father.patronymic_m
        }
        .into(),
        if female { "f" } else { "m" }.into(),
        birth.map(|b| b.to_string()).into(),
        Val::Int(class_id),
        Val::Int(i64::from(individual)),
        enrolled.to_string().into(),
        Val::NullText,
    ]);
    // In the class the whole year, from enrolment if that came later.
    out.t("class_member").push([
        Val::Int(class_id),
        Val::Int(id),
        Val::Int(*school_id),
        enrolled.max(cal.starts_on).to_string().into(),
        Val::NullText,
    ]);
    StudentInfo {
        id,
        given,
        ability,
        days_missed: HashMap::new(),
    }
}

/// The guardians of a family's children, with their relation: the mother
/// almost always, the father often, now and then a grandmother.
fn guardians(rng: &mut ChaCha8Rng, family: &Family) -> Vec<(Person, &'static str)> {
    let Family {
        name: family,
        father,
        mother_given,
    } = *family;
    let mut guardians: Vec<(Person, &'static str)> = Vec::new();
    if rng.gen_bool(0.92) {
        let own_name = rng.gen_bool(0.1);
        let fam = if own_name {
            content::FAMILY_NAMES.choose(rng).copied().unwrap_or(family)
        } else {
            family
        };
        let mf = content::MALE_NAMES.choose(rng).copied().unwrap_or(father);
        guardians.push((
            Person {
                family: fam.f.to_owned(),
                given: mother_given.to_owned(),
                patronymic: mf.patronymic_f.to_owned(),
            },
            "mother",
        ));
    }
    if guardians.is_empty() || rng.gen_bool(0.55) {
        let ff = content::MALE_NAMES.choose(rng).copied().unwrap_or(father);
        guardians.push((
            Person {
                family: family.m.to_owned(),
                given: father.name.to_owned(),
                patronymic: ff.patronymic_m.to_owned(),
            },
            "father",
        ));
    }
    if rng.gen_bool(0.03) {
        guardians.truncate(1);
        guardians.push((person(rng, true), "grandparent"));
    }
    guardians
}

/// Writes a guardian, drawing their phone number, and their link to each child.
fn guardian(
    rng: &mut ChaCha8Rng,
    out: &mut SchoolRows,
    ids: &mut Ids,
    facts: &Facts,
    p: &Person,
    relation: &str,
    children: &[i64],
) {
    let Facts {
        prefix, school_id, ..
    } = facts;
    let id = ids.next("guardian");
    out.t("guardian").push([
        Val::Int(id),
        Val::Int(*school_id),
        format!("{prefix}-gd-{id:06}").into(),
        p.family.as_str().into(),
        p.given.as_str().into(),
        p.patronymic.as_str().into(),
        format!(
            "{}.{}{}@example.com",
            translit(&p.family),
            translit(
                &p.given[..p
                    .given
                    .char_indices()
                    .nth(1)
                    .map_or(p.given.len(), |(i, _)| i)]
            ),
            id
        )
        .into(),
        format!(
            "+7 9{:02} {:03}-{:02}-{:02}",
            rng.gen_range(0..100),
            rng.gen_range(0..1000),
            rng.gen_range(0..100),
            rng.gen_range(0..100)
        )
        .into(),
    ]);
    for &child in children {
        out.t("guardian_student").push([
            Val::Int(id),
            Val::Int(child),
            Val::Int(*school_id),
            relation.into(),
        ]);
    }
}
