//! The JSON of Дневник.ру's API v2, as far as the sync reads it.
//!
//! The field names follow the public client code cited in the module's
//! documentation (the Java model classes of `alllexey123/dnevnik-partners-api`
//! and the endpoints of `pydnevnikruapi`). Where those disagree or say
//! little, both forms are accepted: every field may be missing or `null`;
//! ids come as numbers, as strings, or as both (`id` and its string twin
//! `id_str`, also spelt `idStr`); the school's teachers come in PascalCase
//! (`Id`, `FirstName`) or camelCase; a lesson's teachers are ids or persons;
//! a mark's value is a string or a number; dates are `2026-09-01`,
//! `2026-09-01T00:00:00` or with an offset.
//!
//! Ids above 2^53 lose digits in any reader that keeps numbers as doubles,
//! so the string twin always wins over the number, and a number is kept
//! only as the exact text serde read (never through `f64`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// An id as sent: a string, or a whole number read exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    /// The id's digits as sent.
    Exact(String),
    /// Not to be trusted: a number with a fraction or beyond 64 bits, or a
    /// string that is not a whole number (ids become parts of request paths).
    Inexact(String),
}

impl Id {
    /// The id's text if it can be trusted and names something (`0` names nothing).
    pub fn exact(&self) -> Option<&str> {
        match self {
            Id::Exact(s) if !s.is_empty() && s != "0" => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a whole number or a string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id::Exact(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id::Exact(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                Ok(Id::Inexact(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                let v = v.trim();
                Ok(if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    Id::Exact(v.to_owned())
                } else {
                    Id::Inexact(v.to_owned())
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The id to use: the string twin, else the number if it was read exactly.
pub fn pick(number: &Option<Id>, twin: &Option<Id>) -> Option<String> {
    twin.as_ref()
        .and_then(Id::exact)
        .or_else(|| number.as_ref().and_then(Id::exact))
        .map(str::to_owned)
}

/// True when an id was sent but none of its forms can be trusted.
pub fn only_rounded(number: &Option<Id>, twin: &Option<Id>) -> bool {
    pick(number, twin).is_none()
        && (matches!(number, Some(Id::Inexact(_)))
            || matches!(twin, Some(Id::Inexact(t)) if !t.is_empty()))
}

/// Text that may come as a string or a number (`5`, `"5"`, `5.0`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                // A whole number written as 5.0 is the mark 5.
                Ok(Text(if v.fract() == 0.0 && v.abs() < 1e15 {
                    format!("{}", v as i64)
                } else {
                    v.to_string()
                }))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A whole number that may come as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Int(pub Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Int, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Int(t.0.trim().parse().ok()))
    }
}

/// A number (a weight) that may come as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Real(pub Option<f64>);

impl<'de> Deserialize<'de> for Real {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Real, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Real(t.0.trim().replace(',', ".").parse().ok()))
    }
}

/// The day of a date or date-time as sent (`2026-09-01`, `2026-09-01T08:30:00`,
/// `2026-09-01T00:00:00+03:00`): its first ten characters, if they are a date.
pub fn day_of(text: Option<&str>) -> Option<String> {
    let head = text?.get(..10)?;
    crate::gradebook::Date::parse_iso(head).map(|d| d.to_string())
}

/// `GET schools/{school}` (Java `School`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct School {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// Short name.
    pub name: Option<String>,
    /// Official name.
    pub full_name: Option<String>,
    /// Town.
    pub city: Option<String>,
    /// District.
    pub municipality: Option<String>,
}

/// A subject (Java `Subject`): in `edu-groups/{g}/subjects`, and in a lesson.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Subject {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin (`idStr` in the Java model, `id_str` elsewhere).
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// «Математика».
    pub name: Option<String>,
}

/// A class («Group») or a part of one («Subgroup», with `parentIds`): Java `EduGroup`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EduGroup {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// The groups a subgroup splits; `None` when the answer does not say.
    pub parent_ids: Option<Vec<Id>>,
    /// Their string twins.
    #[serde(rename = "parentIds_str", alias = "parentIdsStr")]
    pub parent_ids_str: Option<Vec<Id>>,
    /// `Group` or `Subgroup`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// «5А».
    pub name: Option<String>,
    /// «5А, английский язык, гр. 1».
    pub full_name: Option<String>,
    /// Параллель (grade).
    pub parallel: Int,
    /// The first calendar year of the school year (2026 for 2026/2027).
    #[serde(alias = "studyYear")]
    pub studyyear: Int,
    /// Its subjects, when the answer carries them.
    pub subjects: Option<Vec<Subject>>,
    /// `Active` or `Archive`, when given.
    pub status: Option<String>,
}

impl EduGroup {
    /// The group's id.
    pub fn id(&self) -> Option<String> {
        pick(&self.id, &self.id_str)
    }

    /// The ids of the groups it splits, string twins first; `None` when not given.
    pub fn parents(&self) -> Option<Vec<String>> {
        if let Some(twins) = &self.parent_ids_str {
            return Some(
                twins
                    .iter()
                    .filter_map(Id::exact)
                    .map(str::to_owned)
                    .collect(),
            );
        }
        self.parent_ids.as_ref().map(|ids| {
            ids.iter()
                .filter_map(Id::exact)
                .map(str::to_owned)
                .collect()
        })
    }
}

/// A person (Java `Person`): a student, a teacher, a relative.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Person {
    /// Numeric id.
    #[serde(alias = "Id")]
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr", alias = "IdStr")]
    pub id_str: Option<Id>,
    /// The person's user account, if any (`null` for many).
    #[serde(alias = "UserId")]
    pub user_id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "userId_str", alias = "userIdStr", alias = "UserIdStr")]
    pub user_id_str: Option<Id>,
    /// Имя.
    #[serde(alias = "FirstName")]
    pub first_name: Option<String>,
    /// Фамилия.
    #[serde(alias = "LastName")]
    pub last_name: Option<String>,
    /// Отчество.
    #[serde(alias = "MiddleName")]
    pub middle_name: Option<String>,
    /// «Иванов П.».
    #[serde(alias = "ShortName")]
    pub short_name: Option<String>,
    /// `Male` or `Female` (also `M`/`F`).
    #[serde(alias = "Sex")]
    pub sex: Option<String>,
}

impl Person {
    /// The person's id.
    pub fn id(&self) -> Option<String> {
        pick(&self.id, &self.id_str)
    }

    /// The person's user id.
    pub fn user_id(&self) -> Option<String> {
        pick(&self.user_id, &self.user_id_str)
    }
}

/// A member of the school's staff, `GET schools/{s}/teachers` (Java `Teacher`,
/// PascalCase there; camelCase accepted too).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Teacher {
    /// The person id (what lessons name as their teachers).
    #[serde(alias = "Id")]
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr", alias = "IdStr")]
    pub id_str: Option<Id>,
    /// An explicit person id, where an answer gives one beside `Id`.
    #[serde(alias = "PersonId")]
    pub person_id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "personId_str", alias = "personIdStr", alias = "PersonIdStr")]
    pub person_id_str: Option<Id>,
    /// Имя.
    #[serde(alias = "FirstName")]
    pub first_name: Option<String>,
    /// Фамилия.
    #[serde(alias = "LastName")]
    pub last_name: Option<String>,
    /// Отчество.
    #[serde(alias = "MiddleName")]
    pub middle_name: Option<String>,
    /// Work e-mail.
    #[serde(alias = "Email")]
    pub email: Option<String>,
    /// Teaches.
    #[serde(alias = "TeachingStaff")]
    pub teaching_staff: Option<bool>,
    /// «учитель математики».
    #[serde(alias = "NameTeacherPosition")]
    pub name_teacher_position: Option<String>,
    /// Heads the school or a part of it.
    #[serde(alias = "ManagingEmployee")]
    pub managing_employee: Option<bool>,
    /// «Директор», «Заместитель директора по УВР».
    #[serde(alias = "NameManagingPosition")]
    pub name_managing_position: Option<String>,
}

impl Teacher {
    /// The teacher's person id: an explicit person id, else the id.
    pub fn id(&self) -> Option<String> {
        pick(&self.person_id, &self.person_id_str).or_else(|| pick(&self.id, &self.id_str))
    }
}

/// A reporting period of a group (Java `ReportingPeriod`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReportingPeriod {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// First day.
    pub start: Option<String>,
    /// Last day.
    pub finish: Option<String>,
    /// Ordinal as sent (from 0 or from 1; the sync orders by dates instead).
    pub number: Int,
    /// `Quarter`, `Semester` (also `HalfYear`), `Trimester`, `Year`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// «1 четверть».
    pub name: Option<String>,
    /// The school year's first calendar year.
    pub year: Int,
}

/// A kind of work, `GET work-types/{school}` (Java `WorkType`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkType {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin, if sent.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// «Контрольная работа».
    pub title: Option<String>,
    /// «К/р».
    pub abbr: Option<String>,
    /// The kind's system name.
    pub kind: Option<String>,
    /// Weight of its marks.
    pub weight: Real,
}

/// A work of a lesson: the work done in class, a test, homework (Java `Work`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Work {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// `Homework`, `DefaultNewLessonWork`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The work type's id.
    pub work_type: Option<Id>,
    /// The work's text: the homework itself, or the work's name.
    pub text: Option<String>,
    /// The day homework is due.
    pub target_date: Option<String>,
    /// The subject, where given.
    pub subject_id: Option<Id>,
}

impl Work {
    /// The work's id.
    pub fn id(&self) -> Option<String> {
        pick(&self.id, &self.id_str)
    }

    /// True for homework.
    pub fn is_homework(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("homework"))
    }
}

/// A lesson's teacher: an id, or a whole person.
#[derive(Debug, Clone)]
pub enum TeacherRef {
    /// A person id.
    Id(Id),
    /// A person.
    Person(Box<Person>),
}

impl<'de> Deserialize<'de> for TeacherRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TeacherRef, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if v.is_object() {
            serde_json::from_value(v)
                .map(|p| TeacherRef::Person(Box::new(p)))
                .map_err(de::Error::custom)
        } else {
            serde_json::from_value(v)
                .map(TeacherRef::Id)
                .map_err(de::Error::custom)
        }
    }
}

/// A lesson, `GET edu-groups/{g}/lessons/{from}/{to}` (Java `Lesson`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Lesson {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// The topic.
    pub title: Option<String>,
    /// Day (and time).
    pub date: Option<String>,
    /// Lesson number in the day.
    pub number: Int,
    /// The subject.
    pub subject: Option<Subject>,
    /// The group the lesson is for.
    pub group: Option<Id>,
    /// Its string twin.
    #[serde(rename = "group_str", alias = "groupStr")]
    pub group_str: Option<Id>,
    /// Works given at the lesson.
    pub works: Option<Vec<Work>>,
    /// Teachers: ids or persons.
    pub teachers: Option<Vec<TeacherRef>>,
    /// String twins of the teacher ids.
    #[serde(rename = "teachers_str", alias = "teachersStr")]
    pub teachers_str: Option<Vec<Id>>,
    /// `Planned`, `Conducted`, …
    pub status: Option<String>,
}

impl Lesson {
    /// The lesson's id.
    pub fn id(&self) -> Option<String> {
        pick(&self.id, &self.id_str)
    }

    /// Its teachers' person ids, string twins first.
    pub fn teacher_ids(&self) -> Vec<String> {
        if let Some(twins) = &self.teachers_str {
            let ids: Vec<String> = twins
                .iter()
                .filter_map(Id::exact)
                .map(str::to_owned)
                .collect();
            if !ids.is_empty() {
                return ids;
            }
        }
        self.teachers
            .iter()
            .flatten()
            .filter_map(|t| match t {
                TeacherRef::Id(id) => id.exact().map(str::to_owned),
                TeacherRef::Person(p) => p.id(),
            })
            .collect()
    }
}

/// A mark (Java `Mark`): current marks, and the final mark of a period.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Mark {
    /// Numeric id.
    pub id: Option<Id>,
    /// Its string twin.
    #[serde(rename = "id_str", alias = "idStr")]
    pub id_str: Option<Id>,
    /// The mark scale (`mark5`, …).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// «5»; `null` for a mark given only as text.
    pub value: Option<Text>,
    /// «зач», «5»: the mark as the journal shows it.
    pub text_value: Option<Text>,
    /// The student's person id.
    pub person: Option<Id>,
    /// Its string twin.
    #[serde(rename = "person_str", alias = "personStr")]
    pub person_str: Option<Id>,
    /// The work marked.
    pub work: Option<Id>,
    /// Its string twin.
    #[serde(rename = "work_str", alias = "workStr")]
    pub work_str: Option<Id>,
    /// The lesson, if the work was done at one.
    pub lesson: Option<Id>,
    /// Its string twin (`lessonStr` in the Java model).
    #[serde(rename = "lesson_str", alias = "lessonStr")]
    pub lesson_str: Option<Id>,
    /// Day (and time) of the mark.
    pub date: Option<String>,
    /// The work type's id.
    pub work_type: Option<Id>,
    /// `Good`, `Average`, `Bad`, `NotSet`: not kept.
    pub mood: Option<String>,
    /// The subject, where an answer gives it.
    #[serde(alias = "subjectId")]
    pub subject: Option<Id>,
    /// Its string twin.
    #[serde(rename = "subject_str", alias = "subjectStr", alias = "subjectId_str")]
    pub subject_str: Option<Id>,
}

impl Mark {
    /// The mark's id.
    pub fn id(&self) -> Option<String> {
        pick(&self.id, &self.id_str)
    }

    /// The student's person id.
    pub fn person(&self) -> Option<String> {
        pick(&self.person, &self.person_str)
    }

    /// The lesson's id, if any.
    pub fn lesson(&self) -> Option<String> {
        pick(&self.lesson, &self.lesson_str)
    }

    /// The work's id, if any.
    pub fn work(&self) -> Option<String> {
        pick(&self.work, &self.work_str)
    }

    /// The value as shown: `value`, else `textValue`, with the field it came from.
    pub fn shown(&self) -> Option<(&str, &'static str)> {
        let value = self
            .value
            .as_ref()
            .map(|t| t.0.trim())
            .filter(|v| !v.is_empty());
        match value {
            Some(v) => Some((v, "value")),
            None => self
                .text_value
                .as_ref()
                .map(|t| t.0.trim())
                .filter(|v| !v.is_empty())
                .map(|v| (v, "textValue")),
        }
    }
}

/// One subject's final mark of a student (Java `SubjectFinalMark`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SubjectFinalMark {
    /// The subject's id.
    pub subject: Option<Id>,
    /// Its string twin.
    #[serde(rename = "subject_str", alias = "subjectStr")]
    pub subject_str: Option<Id>,
    /// The mark.
    #[serde(rename = "final-mark", alias = "finalMark")]
    pub final_mark: Option<Mark>,
}

/// A student's final marks for one period, `GET edu-groups/{g}/final-marks`
/// (Java `PersonFinalMark`); without a reporting period, the year's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonFinalMark {
    /// The student's person id.
    pub person: Option<Id>,
    /// Its string twin.
    #[serde(rename = "person_str", alias = "personStr")]
    pub person_str: Option<Id>,
    /// The period, or `null`.
    #[serde(rename = "reportingPeriod")]
    pub reporting_period: Option<Id>,
    /// Its string twin.
    #[serde(rename = "reportingPeriod_str", alias = "reportingPeriodStr")]
    pub reporting_period_str: Option<Id>,
    /// Per subject.
    #[serde(rename = "per-subject-final-marks", alias = "perSubjectFinalMarks")]
    pub per_subject: Option<Vec<SubjectFinalMark>>,
}

/// Attendance of one student at one lesson (Java `LessonLogEntry`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LessonLogEntry {
    /// The student's person id.
    pub person: Option<Id>,
    /// Its string twin.
    #[serde(rename = "person_str", alias = "personStr")]
    pub person_str: Option<Id>,
    /// The lesson.
    pub lesson: Option<Id>,
    /// Its string twin.
    #[serde(rename = "lesson_str", alias = "lessonStr")]
    pub lesson_str: Option<Id>,
    /// `Attend`, `Absent`, `Ill`, `Late`, `Pass`.
    pub status: Option<String>,
    /// Teacher's remark: not kept.
    pub comment: Option<String>,
}

/// A relative of a user, `GET users/{u}/relatives` (Java `UserRelative`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UserRelative {
    /// `Parent`, `Mother`, `Father`, `Guardian`, `Child`, …
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Who.
    pub person: Option<Person>,
}

/// A class teacher answer: a person, `null` or `{}` when the class has none.
pub type ClassTeacher = Option<Person>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_twin_wins_and_numbers_are_read_exactly() {
        let m: Mark = serde_json::from_str(
            r#"{"id": 1900000000000000000, "id_str": "1900000000000000123",
                "person": 9007199254740993, "lesson": null, "lessonStr": "1000005000007",
                "value": null, "textValue": "зач"}"#,
        )
        .unwrap();
        assert_eq!(m.id().as_deref(), Some("1900000000000000123"));
        // No twin: the number's own digits, never through a double.
        assert_eq!(m.person().as_deref(), Some("9007199254740993"));
        assert_eq!(m.lesson().as_deref(), Some("1000005000007"));
        assert_eq!(m.shown(), Some(("зач", "textValue")));
        let m: Mark = serde_json::from_str(r#"{"id": 1.5e20, "value": 5.0}"#).unwrap();
        assert_eq!(m.id(), None);
        assert!(only_rounded(&m.id, &m.id_str));
        assert_eq!(m.shown(), Some(("5", "value")));
        // A twin that is not a whole number is no id (it would become part of a path).
        let m: Mark =
            serde_json::from_str(r#"{"id_str": "../schools", "person_str": ""}"#).unwrap();
        assert_eq!((m.id(), m.person()), (None, None));
        assert!(only_rounded(&m.id, &m.id_str));
    }

    #[test]
    fn both_spellings_of_teachers_are_read() {
        let t: Vec<Teacher> = serde_json::from_str(
            r#"[{"Id": 7, "IdStr": "1000004000007", "FirstName": "Анна", "LastName": "Орлова", "TeachingStaff": true},
                {"id": 8, "id_str": "8", "firstName": "Пётр", "lastName": "Лебедев", "managingEmployee": true}]"#,
        )
        .unwrap();
        assert_eq!(t[0].id().as_deref(), Some("1000004000007"));
        assert_eq!(t[0].last_name.as_deref(), Some("Орлова"));
        assert_eq!(t[1].id().as_deref(), Some("8"));
        assert_eq!(t[1].managing_employee, Some(true));
        let l: Lesson = serde_json::from_str(
            r#"{"id": 1, "teachers": [{"id": 5, "id_str": "55"}, 6], "number": "3"}"#,
        )
        .unwrap();
        assert_eq!(l.teacher_ids(), ["55", "6"]);
        assert_eq!(l.number, Int(Some(3)));
    }

    #[test]
    fn dates_and_nulls() {
        assert_eq!(
            day_of(Some("2026-09-01T08:30:00")).as_deref(),
            Some("2026-09-01")
        );
        assert_eq!(
            day_of(Some("2026-09-01T00:00:00+03:00")).as_deref(),
            Some("2026-09-01")
        );
        assert_eq!(day_of(Some("2026-09-01")).as_deref(), Some("2026-09-01"));
        assert_eq!(day_of(Some("01.09.2026")), None);
        let g: EduGroup = serde_json::from_str(
            r#"{"id": 2, "parentIds": null, "subjects": null, "name": null, "parallel": null}"#,
        )
        .unwrap();
        assert_eq!(g.parents(), None);
        let g: EduGroup = serde_json::from_str(
            r#"{"id": 3, "parentIds": [1], "parentIds_str": ["1000003000001"]}"#,
        )
        .unwrap();
        assert_eq!(g.parents(), Some(vec!["1000003000001".to_owned()]));
    }
}
