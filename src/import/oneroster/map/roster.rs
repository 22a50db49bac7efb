//! Orgs, academic sessions, courses and classes: schools, years, periods,
//! subjects, classes and groups.

use std::collections::BTreeMap;

use super::{
    ClassInfo, Course, Mapper, Record, Session, add_subject, at, date_part, list, rows, year_of,
};

impl Mapper<'_> {
    /// Schools from orgs.csv; school years and periods from academicSessions.csv.
    pub(super) fn orgs_and_sessions(&mut self) {
        let Mapper {
            set,
            known,
            plan,
            schools,
            sessions,
            ..
        } = self;
        let (set, known) = (*set, *known);
        // Schools: orgs of type school; without orgs.csv, those in the database.
        if let Some((f, rs)) = rows(set, "orgs") {
            for (line, r) in rs {
                let id = f.get(r, "sourcedId");
                if !f.get(r, "type").eq_ignore_ascii_case("school") {
                    continue;
                }
                if f.deleted(r) {
                    plan.delete("school", id, &[id], at(f.name, *line, "sourcedId"));
                    continue;
                }
                schools.push(id.to_owned());
                let a = |c| at(f.name, *line, c);
                plan.set("school", id, id, "external_id", id, a("sourcedId"));
                plan.set("school", id, id, "name", f.get(r, "name"), a("name"));
                plan.set("school", id, id, "short_name", f.get(r, "name"), a("name"));
                let address: Vec<&str> =
                    ["metadata.address1", "metadata.address2", "metadata.city"]
                        .iter()
                        .map(|c| f.get(r, c))
                        .filter(|v| !v.is_empty())
                        .collect();
                if !address.is_empty() {
                    plan.set(
                        "school",
                        id,
                        id,
                        "address",
                        &address.join(", "),
                        a("metadata.address1"),
                    );
                }
            }
        }
        if set.file("orgs").is_none() {
            *schools = known.schools.clone();
        }
        // Sessions: school years (each also a period of kind year) and terms.
        if let Some((f, rs)) = rows(set, "academicSessions") {
            let mut raw: BTreeMap<String, (u64, &Record)> = BTreeMap::new();
            for (line, r) in rs {
                raw.insert(f.get(r, "sourcedId").to_owned(), (*line, r));
            }
            let years: Vec<(&String, u64, &Record)> = raw
                .iter()
                .filter(|(_, (_, r))| f.get(r, "type").eq_ignore_ascii_case("schoolYear"))
                .map(|(k, (l, r))| (k, *l, *r))
                .collect();
            for (id, (line, r)) in &raw {
                let kind = f.get(r, "type").to_owned();
                let start = date_part(f.get(r, "startDate"));
                let end = date_part(f.get(r, "endDate"));
                let (Some(start), Some(end)) = (start, end) else {
                    let col = if date_part(f.get(r, "startDate")).is_none() {
                        "startDate"
                    } else {
                        "endDate"
                    };
                    plan.problem(
                        f.name,
                        *line,
                        col,
                        f.get(r, col),
                        "is not a date; expected YYYY-MM-DD".into(),
                    );
                    continue;
                };
                // The year: follow parents up to a schoolYear session, else the
                // schoolYear session with the same schoolYear value, else the
                // one whose dates contain it.
                let mut year = None;
                let mut cur = id.clone();
                for _ in 0..8 {
                    let Some((_, cr)) = raw.get(&cur) else { break };
                    if f.get(cr, "type").eq_ignore_ascii_case("schoolYear") {
                        year = Some(cur.clone());
                        break;
                    }
                    let parent = f.get(cr, "parentSourcedId");
                    if parent.is_empty() || !raw.contains_key(parent) {
                        break;
                    }
                    cur = parent.to_owned();
                }
                if year.is_none() {
                    let sy = f.get(r, "schoolYear");
                    year = years
                        .iter()
                        .find(|(_, _, yr)| !sy.is_empty() && f.get(yr, "schoolYear") == sy)
                        .or_else(|| {
                            years.iter().find(|(_, _, yr)| {
                                f.get(yr, "startDate") <= start.as_str()
                                    && end.as_str() <= f.get(yr, "endDate")
                            })
                        })
                        .map(|(k, _, _)| (*k).clone());
                }
                if year.is_none() && !f.deleted(r) {
                    plan.problem(f.name, *line, "parentSourcedId", f.get(r, "parentSourcedId"),
                            "names no schoolYear session, and no schoolYear session has this session's schoolYear or dates".into());
                }
                sessions.insert(
                    id.clone(),
                    Session {
                        kind,
                        year,
                        term: None,
                        title: f.get(r, "title").to_owned(),
                        start,
                        end,
                    },
                );
            }
            // Term kinds: by title («четверть», «полугодие», «триместр»), else
            // semesters are halves and other terms quarters, trimesters or
            // halves by how many the year has.
            let ids: Vec<String> = sessions.keys().cloned().collect();
            for id in &ids {
                let s = &sessions[id];
                if s.kind.eq_ignore_ascii_case("schoolYear") {
                    continue;
                }
                let title = s.title.to_lowercase();
                let siblings = sessions
                    .values()
                    .filter(|o| o.year == s.year && o.kind == s.kind)
                    .count();
                let term = if title.contains("четверт") {
                    "quarter"
                } else if title.contains("полугод") {
                    "half"
                } else if title.contains("триместр") {
                    "trimester"
                } else if s.kind.eq_ignore_ascii_case("semester") {
                    "half"
                } else {
                    match siblings {
                        3 => "trimester",
                        2 => "half",
                        _ => "quarter",
                    }
                };
                if let Some(s) = sessions.get_mut(id) {
                    s.term = Some(term);
                }
            }
            for (id, (line, r)) in &raw {
                let a = |c| at(f.name, *line, c);
                let Some(s) = sessions.get(id).cloned() else {
                    continue;
                };
                if f.deleted(r) {
                    for school in schools.iter() {
                        plan.delete("school_year", school, &[id], a("sourcedId"));
                        plan.delete("reporting_period", school, &[id], a("sourcedId"));
                    }
                    continue;
                }
                let Some(year) = s.year.clone() else { continue };
                if plan.first_day.as_ref().is_none_or(|d| s.start < *d)
                    && s.kind.eq_ignore_ascii_case("schoolYear")
                {
                    plan.first_day = Some(s.start.clone());
                }
                let (kind, number) = match s.term {
                    None => ("year", 1),
                    Some(term) => {
                        let number = 1 + sessions
                            .values()
                            .filter(|o| o.year == s.year && o.term == s.term && o.start < s.start)
                            .count();
                        (term, number)
                    }
                };
                for school in schools.iter() {
                    if s.term.is_none() {
                        plan.set("school_year", school, id, "external_id", id, a("sourcedId"));
                        plan.set("school_year", school, id, "title", &s.title, a("title"));
                        plan.set(
                            "school_year",
                            school,
                            id,
                            "starts_on",
                            &s.start,
                            a("startDate"),
                        );
                        plan.set("school_year", school, id, "ends_on", &s.end, a("endDate"));
                    }
                    let t = "reporting_period";
                    plan.set(t, school, id, "external_id", id, a("sourcedId"));
                    plan.set(t, school, id, "school_year", &year, a("parentSourcedId"));
                    plan.set(t, school, id, "kind", kind, a("type"));
                    plan.set(t, school, id, "number", &number.to_string(), a("startDate"));
                    plan.set(t, school, id, "title", &s.title, a("title"));
                    plan.set(t, school, id, "starts_on", &s.start, a("startDate"));
                    plan.set(t, school, id, "ends_on", &s.end, a("endDate"));
                }
            }
        }
    }

    /// Subjects from courses.csv; classes and groups from classes.csv.
    pub(super) fn courses_and_classes(&mut self) {
        let Mapper {
            set,
            known,
            plan,
            schools,
            sessions,
            courses,
            classes,
            ..
        } = self;
        let (set, known) = (*set, *known);
        let is_school =
            |s: &str| schools.iter().any(|x| x == s) || known.schools.iter().any(|x| x == s);
        let year_of = |sid: &str| year_of(sessions, sid);
        // Courses, read once; they become subjects where a class uses them.
        if let Some((f, rs)) = rows(set, "courses") {
            for (position, (line, r)) in rs.iter().enumerate() {
                let id = f.get(r, "sourcedId");
                if f.deleted(r) {
                    for school in known.schools_of("subject", id) {
                        plan.delete("subject", &school, &[id], at(f.name, *line, "sourcedId"));
                    }
                    continue;
                }
                let code = f.get(r, "courseCode");
                let course = Course {
                    line: *line,
                    title: f.get(r, "title").to_owned(),
                    code: if code.is_empty() {
                        f.get(r, "title").to_owned()
                    } else {
                        code.to_owned()
                    },
                    position: position + 1,
                };
                // A course of a known subject is updated even without its classes.
                for school in known.schools_of("subject", id) {
                    add_subject(plan, &school, id, &course);
                }
                courses.insert(id.to_owned(), course);
            }
        }

        // Classes: homerooms are classes, scheduled classes are groups.
        if let Some((f, rs)) = rows(set, "classes") {
            for (line, r) in rs {
                let a = |c| at(f.name, *line, c);
                let id = f.get(r, "sourcedId");
                let school = f.get(r, "schoolSourcedId");
                if f.deleted(r) {
                    plan.delete("class", school, &[id], a("sourcedId"));
                    plan.delete("study_group", school, &[id], a("sourcedId"));
                    continue;
                }
                let kind = f.get(r, "classType").to_ascii_lowercase();
                let homeroom = match kind.as_str() {
                    "homeroom" => true,
                    "scheduled" => false,
                    _ => {
                        plan.problem(
                            f.name,
                            *line,
                            "classType",
                            f.get(r, "classType"),
                            "is not a class type; expected homeroom or scheduled".into(),
                        );
                        continue;
                    }
                };
                if !is_school(school) {
                    plan.problem(
                        f.name,
                        *line,
                        "schoolSourcedId",
                        school,
                        "is not an org of type school in orgs.csv nor a school in the database"
                            .into(),
                    );
                    continue;
                }
                let course = f.get(r, "courseSourcedId").to_owned();
                classes.insert(
                    id.to_owned(),
                    ClassInfo {
                        school: school.to_owned(),
                        homeroom,
                        course: course.clone(),
                    },
                );
                let terms = list(f.get(r, "termSourcedIds"));
                let year = terms.iter().find_map(|t| year_of(t));
                let term_kind = terms
                    .iter()
                    .find_map(|t| sessions.get(*t).and_then(|s| s.term));
                let title = f.get(r, "title");
                let table = if homeroom { "class" } else { "study_group" };
                plan.set(table, school, id, "external_id", id, a("sourcedId"));
                if let Some(year) = &year {
                    plan.set(table, school, id, "school_year", year, a("termSourcedIds"));
                } else if terms.iter().all(|t| !sessions.contains_key(*t))
                    && set.file("academicSessions").is_some()
                    && !terms.is_empty()
                {
                    plan.problem(
                        f.name,
                        *line,
                        "termSourcedIds",
                        f.get(r, "termSourcedIds"),
                        "names no session of academicSessions.csv".into(),
                    );
                }
                plan.set(table, school, id, "title", title, a("title"));
                if homeroom {
                    let grade = list(f.get(r, "grades"))
                        .first()
                        .and_then(|g| g.parse::<i64>().ok())
                        .or_else(|| {
                            title
                                .trim_start()
                                .split(|c: char| !c.is_ascii_digit())
                                .next()
                                .and_then(|d| d.parse().ok())
                        });
                    match grade {
                        Some(g) => {
                            plan.set("class", school, id, "grade", &g.to_string(), a("grades"))
                        }
                        None => plan.problem(
                            f.name,
                            *line,
                            "grades",
                            f.get(r, "grades"),
                            "gives no grade 1–11 (nor does the title start with one)".into(),
                        ),
                    }
                    let letter = title.trim_start_matches(|c: char| {
                        c.is_ascii_digit() || c.is_whitespace() || c == '-'
                    });
                    plan.set("class", school, id, "letter", letter, a("title"));
                    if let Some(k) = term_kind {
                        plan.set("class", school, id, "term_kind", k, a("termSourcedIds"));
                    }
                } else {
                    match courses.get(&course) {
                        Some(c) => {
                            let c = c.clone();
                            add_subject(plan, school, &course, &c);
                        }
                        None if known
                            .schools_of("subject", &course)
                            .contains(&school.to_owned()) => {}
                        None => {
                            plan.problem(
                                f.name,
                                *line,
                                "courseSourcedId",
                                &course,
                                "is not a course of courses.csv nor a subject in the database"
                                    .into(),
                            );
                            continue;
                        }
                    }
                    plan.set(
                        "study_group",
                        school,
                        id,
                        "subject",
                        &course,
                        a("courseSourcedId"),
                    );
                }
            }
        }
    }
}
