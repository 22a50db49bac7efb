//! What one sync asks Дневник.ру, in three rounds: the roster (the school,
//! its groups, teachers, kinds of work; each group's students, subjects,
//! periods and class teacher), then the journal of the window (lessons,
//! marks, final marks, attendance per subject taught), then the relatives
//! of students new to tabel. Every request of a round is in flight at once,
//! up to the client's limit; the first failure ends the sync before the
//! database is touched.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::{Context, Result};
use chrono::Datelike;
use serde::de::DeserializeOwned;

use super::client::Client;
use super::shapes::{
    EduGroup, LessonLogEntry, Mark, Person, PersonFinalMark, ReportingPeriod, School, Subject,
    Teacher, UserRelative, WorkType, day_of,
};
use super::window::{LastSync, Window};
use crate::gradebook::Date;

/// One answer and the request that got it (for messages).
#[derive(Debug, Clone)]
pub struct Answer<T> {
    /// The request's path below the API's root.
    pub path: String,
    /// What it held.
    pub data: T,
}

/// A group of the year and what was asked about it.
#[derive(Debug, Clone)]
pub struct GroupAnswers {
    /// The group's id.
    pub id: String,
    /// The group itself (from the school's list, or asked for alone).
    pub group: Answer<EduGroup>,
    /// Its item in that answer (0-based).
    pub item: usize,
    /// A subgroup (it has parents), not a class.
    pub subgroup: bool,
    /// Its students.
    pub persons: Answer<Vec<Person>>,
    /// Its subjects.
    pub subjects: Answer<Vec<Subject>>,
    /// Its reporting periods (classes only).
    pub periods: Option<Answer<Vec<ReportingPeriod>>>,
    /// Its class teacher (classes only; `None` inside when it has none).
    pub class_teacher: Option<Answer<Option<Person>>>,
}

/// Everything one sync fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The school's Дневник.ру id.
    pub school_id: String,
    /// The school.
    pub school: Answer<School>,
    /// Its staff.
    pub teachers: Answer<Vec<Teacher>>,
    /// Its kinds of work.
    pub work_types: Answer<Vec<WorkType>>,
    /// The school year (its first calendar year).
    pub year: i64,
    /// Groups of that year, classes first.
    pub groups: Vec<GroupAnswers>,
    /// Groups of other years, left alone.
    pub other_groups: usize,
    /// The days fetched.
    pub window: Window,
    /// Lessons, per group: `(group id, answer)`.
    pub lessons: Vec<(String, Answer<Vec<super::shapes::Lesson>>)>,
    /// Marks of the window, per group: `(group id, answer)`.
    pub marks: Vec<(String, Answer<Vec<Mark>>)>,
    /// Final marks, per group: `(group id, answer)`.
    pub final_marks: Vec<(String, Answer<Vec<PersonFinalMark>>)>,
    /// Attendance, per group and subject.
    pub log_entries: Vec<Answer<Vec<LessonLogEntry>>>,
    /// Relatives, per student: `(person id, answer)`.
    pub relatives: Vec<(String, Answer<Vec<UserRelative>>)>,
}

/// What decides the window and whose relatives are asked for.
#[derive(Debug, Clone)]
pub struct Ask<'a> {
    /// The school's Дневник.ру id.
    pub school: &'a str,
    /// `--from`.
    pub from: Option<Date>,
    /// `--to`, or today.
    pub to: Date,
    /// `--full`.
    pub full: bool,
    /// The last successful sync.
    pub last: Option<LastSync>,
    /// `look_back_days`.
    pub look_back_days: u32,
    /// `days_per_request`.
    pub days_per_request: u32,
    /// Students (person ids) tabel already has.
    pub known_students: &'a HashSet<String>,
}

/// Sends `GET` for every path at once (the client limits how many are in
/// flight); answers in the order of `paths`. With `missing_ok`, a 404 reads
/// as the type's default.
async fn all<T>(
    client: &Client,
    what: &str,
    paths: Vec<String>,
    missing_ok: bool,
) -> Result<Vec<Answer<T>>>
where
    T: DeserializeOwned + Default + Send + 'static,
{
    client.phase(what, paths.len());
    let mut set = tokio::task::JoinSet::new();
    let n = paths.len();
    for (i, path) in paths.into_iter().enumerate() {
        let c = client.clone();
        set.spawn(async move {
            let data = if missing_ok {
                c.get_optional::<T>(&path)
                    .await
                    .map(Option::unwrap_or_default)
            } else {
                c.get::<T>(&path).await
            };
            (i, path, data)
        });
    }
    let mut out: Vec<Option<Answer<T>>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, path, data) = joined.context("a request stopped unexpectedly")?;
        // The first failure ends the round; dropping the set stops the rest.
        out[i] = Some(Answer { path, data: data? });
    }
    Ok(out.into_iter().flatten().collect())
}

async fn one<T>(client: &Client, what: &str, path: String) -> Result<Answer<T>>
where
    T: DeserializeOwned + Default + Send + 'static,
{
    let mut v = all(client, what, vec![path], false).await?;
    v.pop().context("a request gave no answer")
}

/// The school year a day belongs to, by its first calendar year: from July
/// on, the year that starts in September.
pub fn year_of(day: Date) -> i64 {
    let y = i64::from(day.0.year());
    if day.0.month() >= 7 { y } else { y - 1 }
}

/// Fetches everything one sync needs.
pub async fn fetch(client: &Client, ask: &Ask<'_>) -> Result<Fetched> {
    let s = ask.school;
    let school = one::<School>(client, "the school", format!("schools/{s}")).await?;
    let (list, teachers, work_types) = tokio::try_join!(
        one::<Vec<EduGroup>>(
            client,
            "the school's groups",
            format!("schools/{s}/edu-groups")
        ),
        one::<Vec<Teacher>>(
            client,
            "the school's teachers",
            format!("schools/{s}/teachers")
        ),
        one::<Vec<WorkType>>(client, "kinds of work", format!("work-types/{s}")),
    )?;

    // The groups of the year being synced. Дневник.ру numbers a school year
    // by its first calendar year; if no group does, by its last.
    let year = year_of(ask.to);
    let of_year = |y: i64| {
        list.data
            .iter()
            .filter(|g| g.studyyear.0.is_none_or(|sy| sy == y || sy == 0))
            .count()
    };
    let year_key = if of_year(year) == 0 && of_year(year + 1) > 0 {
        year + 1
    } else {
        year
    };
    let mut chosen: Vec<(usize, EduGroup)> = Vec::new();
    let mut other_groups = 0;
    let mut seen = BTreeSet::new();
    for (item, g) in list.data.iter().enumerate() {
        let this_year = g.studyyear.0.is_none_or(|sy| sy == year_key || sy == 0);
        match g.id() {
            Some(id) if this_year && seen.insert(id.clone()) => chosen.push((item, g.clone())),
            Some(_) if !this_year => other_groups += 1,
            _ => {}
        }
    }
    // A group the list gives without saying whether it splits another is asked for alone.
    let unclear: Vec<String> = chosen
        .iter()
        .map(|(_, g)| g)
        .filter(|g| g.parents().is_none() && g.kind.is_none())
        .filter_map(EduGroup::id)
        .map(|id| format!("edu-groups/{id}"))
        .collect();
    let details = all::<EduGroup>(client, "groups", unclear, false).await?;
    let mut group_answers: BTreeMap<String, (Answer<EduGroup>, usize)> = BTreeMap::new();
    for (item, g) in chosen {
        let id = g.id().unwrap_or_default();
        group_answers.insert(
            id,
            (
                Answer {
                    path: list.path.clone(),
                    data: g,
                },
                item,
            ),
        );
    }
    for d in details {
        if let Some(id) = d.data.id() {
            group_answers.insert(id, (d, 0));
        }
    }
    let is_sub = |g: &EduGroup| {
        g.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("subgroup"))
            || g.parents().is_some_and(|p| !p.is_empty())
    };
    // Classes first, then subgroups, each by id.
    let mut order: Vec<(bool, String)> = group_answers
        .iter()
        .map(|(id, (a, _))| (is_sub(&a.data), id.clone()))
        .collect();
    order.sort_by(|a, b| (a.0, a.1.len(), &a.1).cmp(&(b.0, b.1.len(), &b.1)));
    let classes: Vec<&String> = order.iter().filter(|(s, _)| !s).map(|(_, id)| id).collect();
    let ids: Vec<&String> = order.iter().map(|(_, id)| id).collect();

    let persons = all::<Vec<Person>>(
        client,
        "students of groups",
        ids.iter()
            .map(|g| format!("edu-groups/{g}/persons"))
            .collect(),
        false,
    )
    .await?;
    let needs_subjects: Vec<&String> = ids
        .iter()
        .copied()
        .filter(|id| group_answers[*id].0.data.subjects.is_none())
        .collect();
    let mut subjects: BTreeMap<String, Answer<Vec<Subject>>> = BTreeMap::new();
    for (id, a) in needs_subjects.iter().zip(
        all::<Vec<Subject>>(
            client,
            "subjects of groups",
            needs_subjects
                .iter()
                .map(|g| format!("edu-groups/{g}/subjects"))
                .collect(),
            false,
        )
        .await?,
    ) {
        subjects.insert((*id).clone(), a);
    }
    let periods = all::<Vec<ReportingPeriod>>(
        client,
        "reporting periods",
        classes
            .iter()
            .map(|g| format!("edu-groups/{g}/reporting-periods"))
            .collect(),
        false,
    )
    .await?;
    let class_teachers = all::<Option<Person>>(
        client,
        "class teachers",
        classes
            .iter()
            .map(|g| format!("edu-groups/{g}/classteacher"))
            .collect(),
        true,
    )
    .await?;
    let mut periods: BTreeMap<&String, Answer<Vec<ReportingPeriod>>> =
        classes.iter().copied().zip(periods).collect();
    let mut class_teachers: BTreeMap<&String, Answer<Option<Person>>> =
        classes.iter().copied().zip(class_teachers).collect();
    let mut groups = Vec::new();
    for ((sub, id), persons) in order.iter().zip(persons) {
        let (group, item) = group_answers[id].clone();
        let subjects = subjects.remove(id).unwrap_or_else(|| Answer {
            path: group.path.clone(),
            data: group.data.subjects.clone().unwrap_or_default(),
        });
        groups.push(GroupAnswers {
            id: id.clone(),
            subgroup: *sub,
            persons,
            subjects,
            periods: periods.remove(id),
            class_teacher: class_teachers.remove(id),
            group,
            item,
        });
    }

    // The window: from the year's first day (its earliest period) or the last sync.
    let year_start = groups
        .iter()
        .filter_map(|g| g.periods.as_ref())
        .flat_map(|p| p.data.iter())
        .filter_map(|p| day_of(p.start.as_deref()))
        .filter_map(|d| Date::parse_iso(&d))
        .min()
        .or_else(|| Date::from_ymd(year as i32, 9, 1))
        .unwrap_or(ask.to);
    let window = Window::choose(
        ask.last,
        year_start,
        ask.from,
        ask.to,
        ask.look_back_days,
        ask.full,
    );
    let parts = window.parts(ask.days_per_request);
    let mut lesson_paths = Vec::new();
    let mut lesson_groups = Vec::new();
    let mut mark_paths = Vec::new();
    let mut mark_groups = Vec::new();
    for g in &ids {
        for (from, to) in &parts {
            lesson_paths.push(format!("edu-groups/{g}/lessons/{from}/{to}"));
            lesson_groups.push((*g).clone());
            mark_paths.push(format!(
                "edu-groups/{g}/marks/{from}T00:00:00/{to}T23:59:59"
            ));
            mark_groups.push((*g).clone());
        }
    }
    let lessons = all::<Vec<super::shapes::Lesson>>(client, "lessons", lesson_paths, false).await?;
    let marks = all::<Vec<Mark>>(client, "marks", mark_paths, false).await?;
    let final_marks = all::<Vec<PersonFinalMark>>(
        client,
        "final marks",
        ids.iter()
            .map(|g| format!("edu-groups/{g}/final-marks"))
            .collect(),
        false,
    )
    .await?;
    // Attendance is asked per subject: only for the subjects each group had
    // lessons in, within the window.
    let mut taught: BTreeMap<(String, String), ()> = BTreeMap::new();
    for (g, a) in lesson_groups.iter().zip(&lessons) {
        for l in &a.data {
            if let Some(sub) = l
                .subject
                .as_ref()
                .and_then(|s| super::shapes::pick(&s.id, &s.id_str))
            {
                taught.insert((g.clone(), sub), ());
            }
        }
    }
    let mut log_paths = Vec::new();
    for (g, sub) in taught.keys() {
        for (from, to) in &parts {
            log_paths.push(format!(
                "lesson-log-entries/group/{g}?subject={sub}&from={from}T00:00:00&to={to}T23:59:59"
            ));
        }
    }
    let log_entries = all::<Vec<LessonLogEntry>>(client, "attendance", log_paths, false).await?;

    // Relatives: of every student on a full sync, else of students new to tabel.
    let mut users: BTreeMap<String, String> = BTreeMap::new();
    for g in &groups {
        for p in &g.persons.data {
            if let (Some(id), Some(user)) = (p.id(), p.user_id())
                && (window.full || !ask.known_students.contains(&id))
            {
                users.insert(id, user);
            }
        }
    }
    let relatives = all::<Vec<UserRelative>>(
        client,
        "relatives of students",
        users
            .values()
            .map(|u| format!("users/{u}/relatives"))
            .collect(),
        false,
    )
    .await?;
    let relatives = users.into_keys().zip(relatives).collect();
    client.done();
    Ok(Fetched {
        school_id: s.to_owned(),
        school,
        teachers,
        work_types,
        year: year_key,
        groups,
        other_groups,
        window,
        lessons: lesson_groups.into_iter().zip(lessons).collect(),
        marks: mark_groups.into_iter().zip(marks).collect(),
        final_marks: ids.iter().map(|g| (*g).clone()).zip(final_marks).collect(),
        log_entries,
        relatives,
    })
}
