//! Staff: the office, teachers hired by specialty as the classes need them,
//! what each teaches, and the class teachers.

use std::collections::BTreeMap;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::classes::StudyGroup;
use super::people::{Person, person};
use super::{ClassInfo, Facts, Ids, SchoolRows};
use crate::demo::content;
use crate::gradebook::bulk::Val;
use crate::text::translit;

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

/// Who teaches what: a teacher, a subject (index into SUBJECTS), the class
/// or group, and the hours per week.
pub(super) struct Assignment {
    teacher: i64,
    subject: usize,
    /// Index into the classes, for a whole-class subject.
    class: Option<usize>,
    /// The group's id, for a split subject.
    group: Option<i64>,
    hours: f64,
}

/// What [`teach`] sets up.
pub(super) struct Teaching {
    pub assignments: Vec<Assignment>,
    /// The halves of classes in split subjects.
    pub groups: Vec<StudyGroup>,
}

struct Teacher {
    id: i64,
    specialty: &'static str,
    load: f64,
}

/// The school's staff as they are hired.
#[derive(Default)]
pub(super) struct Staffing {
    /// `(id, name, position, roles)` of everyone.
    rows: Vec<(i64, Person, String, Vec<&'static str>)>,
    /// Teachers with their specialty and load so far.
    teachers: Vec<Teacher>,
}

impl Staffing {
    /// The staff before any teacher: the director, the deputy (who also
    /// teaches) and the secretary; returns it with the deputy's id.
    pub(super) fn office(
        ids: &mut Ids,
        rng: &mut ChaCha8Rng,
        director: Person,
        deputy: Person,
    ) -> (Staffing, i64) {
        let mut staffing = Staffing::default();
        staffing.add(ids, director, "директор", vec!["director"]);
        let deputy_id = staffing.add(
            ids,
            deputy,
            "заместитель директора по учебной работе",
            vec!["deputy", "teacher"],
        );
        let secretary = person(rng, true);
        staffing.add(ids, secretary, "секретарь учебной части", vec!["admin"]);
        (staffing, deputy_id)
    }

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

/// Gives every class its teachers: one primary teacher per class of grades
/// 1–4 (the class teacher); subject teachers by specialty with a load of up
/// to 24 hours; two groups with a teacher each for split subjects.
pub(super) fn teach(
    rng: &mut ChaCha8Rng,
    ids: &mut Ids,
    staffing: &mut Staffing,
    classes: &mut [ClassInfo],
) -> Teaching {
    let subjects: &[content::SubjectDef] = &content::SUBJECTS;
    let mut assignments: Vec<Assignment> = Vec::new();
    let mut groups_all: Vec<StudyGroup> = Vec::new();
    for (ci, class) in classes.iter_mut().enumerate() {
        let grade = class.grade;
        let primary_teacher = if grade <= 4 {
            let t = staffing.hire(ids, rng, &SPECIALTIES[0]);
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
            let t = staffing.pick(ids, rng, spec, hours, primary_teacher);
            let tid = staffing.teachers[t].id;
            for &si in subs {
                class.teachers.insert(si, tid);
                assignments.push(Assignment {
                    teacher: tid,
                    subject: si,
                    class: Some(ci),
                    group: None,
                    hours: f64::from(subjects[si].hours[grade as usize - 1]),
                });
            }
        }
        // Split subjects: two groups, each with its own teacher.
        for (si, s) in subjects.iter().enumerate() {
            let hours = f64::from(s.hours[grade as usize - 1]);
            if hours == 0.0 || !s.split {
                continue;
            }
            let mut members = class.students.clone();
            members.shuffle(rng);
            let half = members.len().div_ceil(2);
            let mut groups = Vec::new();
            for (gn, part) in [members[..half].to_vec(), members[half..].to_vec()]
                .into_iter()
                .enumerate()
            {
                let mut part = part;
                part.sort_unstable();
                let spec = specialty_of(s.code, grade);
                let t = staffing.pick(ids, rng, spec, hours, None);
                let tid = staffing.teachers[t].id;
                let gid = ids.next("study_group");
                groups_all.push(StudyGroup {
                    id: gid,
                    title: format!("{}, {}, гр. {}", class.title, s.short, gn + 1),
                    class_id: class.id,
                    subject: si,
                    members: part.clone(),
                });
                assignments.push(Assignment {
                    teacher: tid,
                    subject: si,
                    class: None,
                    group: Some(gid),
                    hours,
                });
                groups.push((gid, tid, part));
            }
            class.groups.insert(si, groups);
        }
    }
    Teaching {
        assignments,
        groups: groups_all,
    }
}

/// Class teachers of grades 5–11: a teacher of the class without a class
/// yet (grades 1–4 have theirs from [`teach`]).
pub(super) fn choose_class_teachers(classes: &mut [ClassInfo]) {
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
}

/// Writes the staff with their roles; `number` is the school's, for e-mail addresses.
pub(super) fn write_staff(out: &mut SchoolRows, facts: &Facts, staffing: &Staffing, number: i64) {
    let Facts {
        prefix, school_id, ..
    } = facts;
    for (id, p, position, roles) in &staffing.rows {
        out.t("staff").push([
            Val::Int(*id),
            Val::Int(*school_id),
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
                .push([Val::Int(*id), Val::Int(*school_id), role.into()]);
        }
    }
}

/// Writes the teaching assignments, numbering them in order.
pub(super) fn write_assignments(
    out: &mut SchoolRows,
    ids: &mut Ids,
    facts: &Facts,
    assignments: &[Assignment],
    classes: &[ClassInfo],
) {
    let Facts {
        prefix,
        school_id,
        subject_ids,
        ..
    } = facts;
    for a in assignments {
        let id = ids.next("teaching_assignment");
        out.t("teaching_assignment").push([
            Val::Int(id),
            Val::Int(*school_id),
            format!("{prefix}-ta-{id:06}").into(),
            Val::Int(a.teacher),
            Val::Int(subject_ids[a.subject]),
            a.class.map(|c| classes[c].id).into(),
            a.group.into(),
            Val::Real(a.hours),
        ]);
    }
}
