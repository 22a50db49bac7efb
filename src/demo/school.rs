//! Generates one demo school: people, classes, a timetable, a term of
//! lessons with marks and absences, period marks and notes.
//!
//! Everything is drawn from one seeded generator per school, in a fixed
//! order, so the same seed gives the same rows.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::calendar::Calendar;
use super::content::{self, SubjectDef};
use crate::gradebook::Date;
use crate::gradebook::bulk::{Rows, Val};
use crate::gradebook::legend::standard_legend;
use crate::render::i18n::translit;

/// Next id per table, carried from one school to the next.
#[derive(Debug, Default, Clone)]
pub struct Ids {
    next: BTreeMap<&'static str, i64>,
}

impl Ids {
    /// The next id of `table` (ids start at 1).
    pub fn next(&mut self, table: &'static str) -> i64 {
        let n = self.next.entry(table).or_insert(0);
        *n += 1;
        *n
    }

    /// The last id handed out per table.
    pub fn last(&self) -> impl Iterator<Item = (&'static str, i64)> + '_ {
        self.next.iter().map(|(t, n)| (*t, *n))
    }
}

/// Columns of every table the demo fills, in insertion order.
#[rustfmt::skip]
pub const TABLES: &[(&str, &[&str])] = &[
    ("school", &["id", "external_id", "name", "short_name", "number", "address", "director", "deputy", "email", "phone"]),
    ("legend_entry", &["id", "school_id", "domain", "code", "category", "numeric_value", "title", "title_en", "position"]),
    ("work_kind", &["id", "school_id", "code", "title", "title_en", "weight"]),
    ("school_year", &["id", "school_id", "external_id", "title", "starts_on", "ends_on"]),
    ("day_off", &["id", "school_id", "school_year_id", "date", "kind", "title", "grade"]),
    ("reporting_period", &["id", "school_id", "school_year_id", "external_id", "kind", "number", "title", "starts_on", "ends_on"]),
    ("staff", &["id", "school_id", "external_id", "family_name", "given_name", "patronymic", "position", "email"]),
    ("staff_role", &["staff_id", "school_id", "role"]),
    ("subject", &["id", "school_id", "external_id", "name", "short_name", "name_en", "assessment", "position"]),
    ("class", &["id", "school_id", "school_year_id", "external_id", "key", "grade", "letter", "title", "class_teacher_id", "term_kind"]),
    ("student", &["id", "school_id", "external_id", "key", "family_name", "given_name", "patronymic", "sex", "birth_date", "class_id", "individual_plan", "enrolled_on", "left_on"]),
    ("study_group", &["id", "school_id", "school_year_id", "external_id", "title", "class_id", "subject_id"]),
    ("group_member", &["group_id", "student_id", "school_id"]),
    ("guardian", &["id", "school_id", "external_id", "family_name", "given_name", "patronymic", "email", "phone"]),
    ("guardian_student", &["guardian_id", "student_id", "school_id", "relation"]),
    ("teaching_assignment", &["id", "school_id", "external_id", "staff_id", "subject_id", "class_id", "group_id", "hours_per_week"]),
    ("lesson", &["id", "school_id", "external_id", "date", "slot", "subject_id", "class_id", "group_id", "teacher_id", "topic", "homework"]),
    ("mark", &["id", "school_id", "external_id", "student_id", "subject_id", "lesson_id", "date", "teacher_id", "work_kind_id", "work_title", "value", "weight", "comment"]),
    ("attendance", &["id", "school_id", "student_id", "lesson_id", "code"]),
    ("period_mark", &["id", "school_id", "external_id", "student_id", "subject_id", "period_id", "value"]),
    ("note", &["id", "school_id", "external_id", "student_id", "staff_id", "subject_id", "date", "body"]),
];

/// The generated rows of one school, one batch per table in [`TABLES`] order.
#[derive(Debug)]
pub struct SchoolRows {
    /// Batches in insertion order.
    pub tables: Vec<Rows>,
}

impl SchoolRows {
    fn new() -> SchoolRows {
        SchoolRows {
            tables: TABLES.iter().map(|(t, c)| Rows::new(t, c)).collect(),
        }
    }

    pub(super) fn t(&mut self, table: &str) -> &mut Rows {
        // TABLES is fixed; every caller names one of its tables.
        self.tables
            .iter_mut()
            .find(|r| r.table() == table)
            .expect("known table")
    }
}

/// What a teacher's specialty covers.
struct Specialty {
    code: &'static str,
    position: &'static str,
    subjects: &'static [&'static str],
}

const SPECIALTIES: &[Specialty] = &[
    Specialty {
        code: "primary",
        position: "учитель начальных классов",
        subjects: &[
            "russian",
            "reading",
            "math",
            "world",
            "art",
            "technology",
            "orkse",
        ],
    },
    Specialty {
        code: "russian",
        position: "учитель русского языка и литературы",
        subjects: &["russian", "literature", "odnknr"],
    },
    Specialty {
        code: "math",
        position: "учитель математики",
        subjects: &["math", "algebra", "geometry", "probability"],
    },
    Specialty {
        code: "foreign",
        position: "учитель английского языка",
        subjects: &["foreign"],
    },
    Specialty {
        code: "informatics",
        position: "учитель информатики",
        subjects: &["informatics", "project"],
    },
    Specialty {
        code: "history",
        position: "учитель истории и обществознания",
        subjects: &["history", "social"],
    },
    Specialty {
        code: "geography",
        position: "учитель географии",
        subjects: &["geography"],
    },
    Specialty {
        code: "biology",
        position: "учитель биологии",
        subjects: &["biology"],
    },
    Specialty {
        code: "physics",
        position: "учитель физики",
        subjects: &["physics"],
    },
    Specialty {
        code: "chemistry",
        position: "учитель химии",
        subjects: &["chemistry"],
    },
    Specialty {
        code: "music",
        position: "учитель музыки",
        subjects: &["music"],
    },
    Specialty {
        code: "art",
        position: "учитель изобразительного искусства и труда",
        subjects: &["art", "technology"],
    },
    Specialty {
        code: "pe",
        position: "учитель физической культуры",
        subjects: &["pe"],
    },
    Specialty {
        code: "obzr",
        position: "преподаватель-организатор ОБЗР",
        subjects: &["obzr"],
    },
];

/// Subjects the class teacher of grades 1–4 teaches.
const PRIMARY: &[&str] = &[
    "russian",
    "reading",
    "math",
    "world",
    "art",
    "technology",
    "orkse",
];

fn specialty_of(subject: &str, grade: i64) -> &'static Specialty {
    let code = if grade <= 4 && PRIMARY.contains(&subject) {
        "primary"
    } else {
        SPECIALTIES
            .iter()
            .skip(1)
            .find(|s| s.subjects.contains(&subject))
            .map_or("history", |s| s.code)
    };
    SPECIALTIES
        .iter()
        .find(|s| s.code == code)
        .unwrap_or(&SPECIALTIES[0])
}

/// `(teacher id, subject index, class index, group id, hours per week)`.
type Assignment = (i64, usize, Option<usize>, Option<i64>, f64);

/// What the lesson generator needs to know about the school.
pub(super) struct Facts {
    pub cal: Calendar,
    pub today: Date,
    pub prefix: String,
    pub school_id: i64,
    pub subject_ids: Vec<i64>,
    pub kind_ids: HashMap<&'static str, (i64, f64, &'static str)>,
    pub period_ids: Vec<i64>,
    pub deputy_id: i64,
}

/// A person's name parts.
#[derive(Debug, Clone)]
struct Person {
    family: String,
    given: String,
    patronymic: String,
}

pub(super) struct StudentInfo {
    pub id: i64,
    pub given: String,
    /// Mean mark this student tends to: 4.6 strong, 3.9 average, 3.2 weak.
    pub ability: f64,
    /// Whole school days missed, with the code.
    pub days_missed: HashMap<Date, &'static str>,
}

pub(super) struct ClassInfo {
    pub id: i64,
    pub grade: i64,
    pub title: String,
    pub students: Vec<usize>,
    pub teacher: Option<i64>,
    /// Timetable: per weekday, the subject (index into SUBJECTS) per slot.
    pub timetable: [Vec<usize>; 5],
    /// Subject index → (teacher id, assignment) for whole-class subjects.
    pub teachers: HashMap<usize, i64>,
    /// Subject index → two groups (group id, teacher id, member indices).
    pub groups: HashMap<usize, Vec<(i64, i64, Vec<usize>)>>,
}

struct Teacher {
    id: i64,
    specialty: &'static str,
    load: f64,
}

/// The school's staff as they are hired.
#[derive(Default)]
struct Staffing {
    /// `(id, name, position, roles)` of everyone.
    rows: Vec<(i64, Person, String, Vec<&'static str>)>,
    /// Teachers with their specialty and load so far.
    teachers: Vec<Teacher>,
}

impl Staffing {
    fn add(&mut self, ids: &mut Ids, p: Person, position: &str, roles: Vec<&'static str>) -> i64 {
        let id = ids.next("staff");
        self.rows.push((id, p, position.to_owned(), roles));
        id
    }

    /// Hires a new teacher of `spec`; returns their index in `teachers`.
    fn hire(&mut self, ids: &mut Ids, rng: &mut ChaCha8Rng, spec: &'static Specialty) -> usize {
        let female = rng.gen_bool(if spec.code == "pe" || spec.code == "obzr" {
            0.4
        } else {
            0.85
        });
        let id = self.add(ids, person(rng, female), spec.position, vec!["teacher"]);
        self.teachers.push(Teacher {
            id,
            specialty: spec.code,
            load: 0.0,
        });
        self.teachers.len() - 1
    }

    /// A teacher of `spec` with room for `hours` more (hiring one if needed),
    /// or the class's own primary teacher; the hours are added to their load.
    fn pick(
        &mut self,
        ids: &mut Ids,
        rng: &mut ChaCha8Rng,
        spec: &'static Specialty,
        hours: f64,
        primary: Option<usize>,
    ) -> usize {
        let t = match primary.filter(|_| spec.code == "primary") {
            Some(t) => t,
            None => match self
                .teachers
                .iter()
                .position(|t| t.specialty == spec.code && t.load + hours <= 24.0)
            {
                Some(t) => t,
                None => self.hire(ids, rng, spec),
            },
        };
        self.teachers[t].load += hours;
        t
    }
}

/// Normal deviate (Box–Muller), from the school's generator.
pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A 128-bit random key, lower-case base32 without padding (26 characters).
fn key(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase()
}

fn person(rng: &mut ChaCha8Rng, female: bool) -> Person {
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

/// Rounds an average to a mark the way a school does: x.5 and above goes up.
pub fn round_mark(avg: f64) -> i64 {
    (avg + 0.5).floor().clamp(1.0, 5.0) as i64
}

/// Generates school number `index` (1-based) with `n_students` students, with
/// lessons up to `today` (inclusive) in the school year containing `today`.
pub fn generate(seed: u64, index: u32, n_students: u32, today: Date, ids: &mut Ids) -> SchoolRows {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut out = SchoolRows::new();
    let cal = Calendar::containing(today);
    let today = today.min(cal.ends_on);
    let prefix = format!("demo-{index:03}");

    // School, legend, kinds of work, year, periods.
    let school_id = ids.next("school");
    let number = 16 + index as i64;
    let female = rng.gen_bool(0.7);
    let director = person(&mut rng, female);
    let female = rng.gen_bool(0.85);
    let deputy = person(&mut rng, female);
    let street = content::STREETS
        .choose(&mut rng)
        .copied()
        .unwrap_or("ул. Ленина");
    let full = |p: &Person| format!("{} {} {}", p.family, p.given, p.patronymic);
    out.t("school").push([
        Val::Int(school_id),
        prefix.as_str().into(),
        format!("Муниципальное бюджетное общеобразовательное учреждение «Средняя общеобразовательная школа № {number}» г. Новоградска").into(),
        format!("Школа № {number}").into(),
        number.to_string().into(),
        format!("123{:03}, г. Новоградск, {street}, д. {}", index % 1000, rng.gen_range(1..120)).into(),
        full(&director).into(),
        full(&deputy).into(),
        format!("school{number}@example.ru").into(),
        format!("+7 (4{:02}) {:03}-{:02}-{:02}", rng.gen_range(10..99), rng.gen_range(100..999), rng.gen_range(10..99), rng.gen_range(10..99)).into(),
    ]);
    for entry in standard_legend() {
        let id = ids.next("legend_entry");
        out.t("legend_entry").push([
            Val::Int(id),
            Val::Int(school_id),
            entry.domain.as_str().into(),
            entry.code.into(),
            entry.category.as_str().into(),
            entry.numeric_value.into(),
            entry.title.into(),
            entry.title_en.into(),
            Val::Int(entry.position),
        ]);
    }
    let mut kind_ids = HashMap::new();
    for kind in content::WORK_KINDS.iter() {
        let id = ids.next("work_kind");
        kind_ids.insert(kind.code, (id, kind.weight, kind.title));
        out.t("work_kind").push([
            Val::Int(id),
            Val::Int(school_id),
            kind.code.into(),
            kind.title.into(),
            kind.title_en.into(),
            Val::Real(kind.weight),
        ]);
    }
    let year_id = ids.next("school_year");
    out.t("school_year").push([
        Val::Int(year_id),
        Val::Int(school_id),
        format!("{prefix}-y{}", cal.first_year).into(),
        cal.title().into(),
        cal.starts_on.to_string().into(),
        cal.ends_on.to_string().into(),
    ]);
    for off in &cal.days_off {
        let id = ids.next("day_off");
        out.t("day_off").push([
            Val::Int(id),
            Val::Int(school_id),
            Val::Int(year_id),
            off.date.to_string().into(),
            off.kind.into(),
            off.title.into(),
            off.grade.into(),
        ]);
    }
    let mut period_ids = Vec::new();
    for p in &cal.periods {
        let id = ids.next("reporting_period");
        period_ids.push(id);
        out.t("reporting_period").push([
            Val::Int(id),
            Val::Int(school_id),
            Val::Int(year_id),
            format!(
                "{prefix}-y{}-{}{}",
                cal.first_year,
                p.kind.as_str(),
                p.number
            )
            .into(),
            p.kind.as_str().into(),
            Val::Int(p.number),
            p.title.as_str().into(),
            p.starts_on.to_string().into(),
            p.ends_on.to_string().into(),
        ]);
    }

    // Subjects.
    let subjects: &[SubjectDef] = &content::SUBJECTS;
    let mut subject_ids = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        let id = ids.next("subject");
        subject_ids.push(id);
        out.t("subject").push([
            Val::Int(id),
            Val::Int(school_id),
            format!("{prefix}-subj-{}", s.code).into(),
            s.name.into(),
            s.short.into(),
            s.name_en.into(),
            if s.pass_fail { "pass_fail" } else { "graded" }.into(),
            Val::Int(i as i64 + 1),
        ]);
    }

    // Staff: the head, the deputy, the office; teachers come with the classes.
    let mut staffing = Staffing::default();
    staffing.add(ids, director.clone(), "директор", vec!["director"]);
    let deputy_id = staffing.add(
        ids,
        deputy.clone(),
        "заместитель директора по учебной работе",
        vec!["deputy", "teacher"],
    );
    let secretary = person(&mut rng, true);
    staffing.add(ids, secretary, "секретарь учебной части", vec!["admin"]);

    // Classes and students. Grades 10–11 are smaller: many leave after 9.
    let weights: Vec<f64> = (1..=11).map(|g| if g >= 10 { 0.6 } else { 1.0 }).collect();
    let total_w: f64 = weights.iter().sum();
    let mut per_grade: Vec<u32> = weights
        .iter()
        .map(|w| (f64::from(n_students) * w / total_w).floor() as u32)
        .collect();
    let mut rest = n_students - per_grade.iter().sum::<u32>();
    let mut g = 0;
    while rest > 0 {
        per_grade[g % 11] += 1;
        rest -= 1;
        g += 1;
    }
    let letters = ["А", "Б", "В", "Г"];
    let mut classes: Vec<ClassInfo> = Vec::new();
    let mut class_of_grade: Vec<Vec<usize>> = vec![Vec::new(); 12];
    for grade in 1..=11i64 {
        let count = per_grade[grade as usize - 1];
        if count == 0 {
            continue;
        }
        let n_classes = ((f64::from(count) / 25.0).round() as usize).clamp(1, 4);
        for letter in letters.iter().take(n_classes) {
            let id = ids.next("class");
            class_of_grade[grade as usize].push(classes.len());
            classes.push(ClassInfo {
                id,
                grade,
                title: format!("{grade}{letter}"),
                students: Vec::new(),
                teacher: None,
                timetable: Default::default(),
                teachers: HashMap::new(),
                groups: HashMap::new(),
            });
        }
    }

    // Families: most have one child here, some two or three in different grades.
    let mut remaining = per_grade.clone();
    let mut students: Vec<StudentInfo> = Vec::new();
    let mut student_rows: Vec<[Val; 13]> = Vec::new();
    let mut fill = [0usize; 12];
    while remaining.iter().any(|&r| r > 0) {
        let children = match rng.gen_range(0..100) {
            0..70 => 1,
            70..95 => 2,
            _ => 3,
        };
        let family = content::FAMILY_NAMES
            .choose(&mut rng)
            .copied()
            .unwrap_or(content::FAMILY_NAMES[0]);
        let father = content::MALE_NAMES
            .choose(&mut rng)
            .copied()
            .unwrap_or(content::MALE_NAMES[0]);
        let mother_given = content::FEMALE_NAMES
            .choose(&mut rng)
            .copied()
            .unwrap_or("Мария");
        let mut grades: Vec<usize> = (0..11).filter(|&g| remaining[g] > 0).collect();
        grades.shuffle(&mut rng);
        grades.truncate(children);
        let mut kids = Vec::new();
        for gi in grades {
            remaining[gi] -= 1;
            let grade = gi as i64 + 1;
            let in_grade = &class_of_grade[gi + 1];
            let class = in_grade[fill[gi + 1] % in_grade.len()];
            fill[gi + 1] += 1;
            let female = rng.gen_bool(0.5);
            let id = ids.next("student");
            let given = if female {
                content::FEMALE_NAMES
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("Мария")
                    .to_owned()
            } else {
                content::MALE_NAMES
                    .choose(&mut rng)
                    .map_or("Иван", |n| n.name)
                    .to_owned()
            };
            let ability = match rng.gen_range(0..100) {
                0..20 => 4.6,
                20..75 => 3.9,
                _ => 3.2,
            } + normal(&mut rng) * 0.15;
            let birth_year = cal.first_year - 6 - grade as i32;
            let birth = Date::from_ymd(birth_year, rng.gen_range(1..=12), rng.gen_range(1..=28));
            let enrolled = if rng.gen_bool(0.93) {
                Date::from_ymd(cal.first_year - grade as i32 + 1, 9, 1)
            } else {
                Date::from_ymd(cal.first_year - rng.gen_range(0..grade.max(1)) as i32, 9, 1)
            }
            .unwrap_or(cal.starts_on);
            let individual = rng.gen_bool(0.006);
            student_rows.push([
                Val::Int(id),
                Val::Int(school_id),
                format!("{prefix}-st-{id:06}").into(),
                key(&mut rng).into(),
                if female { family.f } else { family.m }.into(),
                given.as_str().into(),
                if female {
                    father.patronymic_f
                } else {
                    father.patronymic_m
                }
                .into(),
                if female { "f" } else { "m" }.into(),
                birth.map(|b| b.to_string()).into(),
                Val::Int(classes[class].id),
                Val::Int(i64::from(individual)),
                enrolled.to_string().into(),
                Val::NullText,
            ]);
            classes[class].students.push(students.len());
            kids.push(students.len());
            students.push(StudentInfo {
                id,
                given,
                ability,
                days_missed: HashMap::new(),
            });
        }
        // Guardians: the mother almost always, the father often, now and then a grandmother.
        let mut guardians: Vec<(Person, &str)> = Vec::new();
        if rng.gen_bool(0.92) {
            let own_name = rng.gen_bool(0.1);
            let fam = if own_name {
                content::FAMILY_NAMES
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or(family)
            } else {
                family
            };
            let mf = content::MALE_NAMES
                .choose(&mut rng)
                .copied()
                .unwrap_or(father);
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
            let ff = content::MALE_NAMES
                .choose(&mut rng)
                .copied()
                .unwrap_or(father);
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
            guardians.push((person(&mut rng, true), "grandparent"));
        }
        for (p, relation) in guardians {
            let id = ids.next("guardian");
            out.t("guardian").push([
                Val::Int(id),
                Val::Int(school_id),
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
            for &k in &kids {
                out.t("guardian_student").push([
                    Val::Int(id),
                    Val::Int(students[k].id),
                    Val::Int(school_id),
                    relation.into(),
                ]);
            }
        }
    }
    for row in student_rows {
        out.t("student").push(row);
    }

    // Teachers: one primary teacher per class of grades 1–4 (the class
    // teacher); subject teachers by specialty with a load of up to 24 hours.
    let mut assignments: Vec<Assignment> = Vec::new();
    let mut group_rows: Vec<(i64, String, i64, usize, Vec<usize>)> = Vec::new();
    for (ci, class) in classes.iter_mut().enumerate() {
        let grade = class.grade;
        let primary_teacher = if grade <= 4 {
            let t = staffing.hire(ids, &mut rng, &SPECIALTIES[0]);
            class.teacher = Some(staffing.teachers[t].id);
            Some(t)
        } else {
            None
        };
        // Hours per specialty in this class; one teacher takes all of them.
        let mut by_spec: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (si, s) in subjects.iter().enumerate() {
            if s.hours[grade as usize - 1] > 0 && !s.split {
                by_spec
                    .entry(specialty_of(s.code, grade).code)
                    .or_default()
                    .push(si);
            }
        }
        for (spec, subs) in &by_spec {
            let spec = SPECIALTIES
                .iter()
                .find(|s| s.code == *spec)
                .unwrap_or(&SPECIALTIES[0]);
            let hours: f64 = subs
                .iter()
                .map(|&si| f64::from(subjects[si].hours[grade as usize - 1]))
                .sum();
            let t = staffing.pick(ids, &mut rng, spec, hours, primary_teacher);
            let tid = staffing.teachers[t].id;
            for &si in subs {
                class.teachers.insert(si, tid);
                assignments.push((
                    tid,
                    si,
                    Some(ci),
                    None,
                    f64::from(subjects[si].hours[grade as usize - 1]),
                ));
            }
        }
        // Split subjects: two groups, each with its own teacher.
        for (si, s) in subjects.iter().enumerate() {
            let hours = f64::from(s.hours[grade as usize - 1]);
            if hours == 0.0 || !s.split {
                continue;
            }
            let mut members = class.students.clone();
            members.shuffle(&mut rng);
            let half = members.len().div_ceil(2);
            let mut groups = Vec::new();
            for (gn, part) in [members[..half].to_vec(), members[half..].to_vec()]
                .into_iter()
                .enumerate()
            {
                let mut part = part;
                part.sort_unstable();
                let spec = specialty_of(s.code, grade);
                let t = staffing.pick(ids, &mut rng, spec, hours, None);
                let tid = staffing.teachers[t].id;
                let gid = ids.next("study_group");
                let title = format!("{}, {}, гр. {}", class.title, s.short, gn + 1);
                group_rows.push((gid, title, class.id, si, part.clone()));
                assignments.push((tid, si, None, Some(gid), hours));
                groups.push((gid, tid, part));
            }
            class.groups.insert(si, groups);
        }
    }
    // Class teachers of grades 5–11: a teacher of the class without a class yet.
    let mut has_class: Vec<i64> = classes.iter().filter_map(|c| c.teacher).collect();
    for c in classes.iter_mut().filter(|c| c.grade >= 5) {
        let mut candidates: Vec<i64> = c.teachers.values().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        let chosen = candidates
            .iter()
            .copied()
            .find(|t| !has_class.contains(t))
            .or(candidates.first().copied());
        if let Some(t) = chosen {
            has_class.push(t);
            c.teacher = Some(t);
        }
    }
    for (id, p, position, roles) in &staffing.rows {
        out.t("staff").push([
            Val::Int(*id),
            Val::Int(school_id),
            format!("{prefix}-sf-{id:05}").into(),
            p.family.as_str().into(),
            p.given.as_str().into(),
            p.patronymic.as_str().into(),
            position.as_str().into(),
            format!(
                "{}.{}{}@school{number}.example.ru",
                translit(&p.family),
                translit(&p.given).chars().next().unwrap_or('x'),
                id
            )
            .into(),
        ]);
        let mut roles = roles.clone();
        roles.sort_unstable();
        for role in roles {
            out.t("staff_role")
                .push([Val::Int(*id), Val::Int(school_id), role.into()]);
        }
    }
    for c in &classes {
        out.t("class").push([
            Val::Int(c.id),
            Val::Int(school_id),
            Val::Int(year_id),
            format!("{prefix}-cl-{}", c.title).into(),
            key(&mut rng).into(),
            Val::Int(c.grade),
            c.title
                .trim_start_matches(|ch: char| ch.is_ascii_digit())
                .into(),
            c.title.as_str().into(),
            c.teacher.into(),
            if c.grade >= 10 { "half" } else { "quarter" }.into(),
        ]);
    }
    for (gid, title, class_id, si, members) in &group_rows {
        out.t("study_group").push([
            Val::Int(*gid),
            Val::Int(school_id),
            Val::Int(year_id),
            format!("{prefix}-gr-{gid:05}").into(),
            title.as_str().into(),
            Val::Int(*class_id),
            Val::Int(subject_ids[*si]),
        ]);
        for &m in members {
            out.t("group_member").push([
                Val::Int(*gid),
                Val::Int(students[m].id),
                Val::Int(school_id),
            ]);
        }
    }
    for (teacher, si, class, group, hours) in &assignments {
        let id = ids.next("teaching_assignment");
        out.t("teaching_assignment").push([
            Val::Int(id),
            Val::Int(school_id),
            format!("{prefix}-ta-{id:06}").into(),
            Val::Int(*teacher),
            Val::Int(subject_ids[*si]),
            class.map(|c| classes[c].id).into(),
            (*group).into(),
            Val::Real(*hours),
        ]);
    }

    let facts = Facts {
        cal,
        today,
        prefix,
        school_id,
        subject_ids,
        kind_ids,
        period_ids,
        deputy_id,
    };
    super::lessons::generate(rng, &mut out, ids, &facts, &mut classes, &mut students);
    out
}
