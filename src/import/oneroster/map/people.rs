//! Users, roles, demographics and enrollments: students, staff, guardians,
//! their links, classes, group members and teaching assignments.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{At, Mapper, Record, Version, at, class_info, date_part, list, rows};

impl Mapper<'_> {
    /// Students, staff and guardians with their schools, links and enrolments.
    pub(super) fn users_and_enrollments(&mut self) {
        let Mapper {
            set,
            known,
            plan,
            schools,
            classes,
            teacher_of,
            ..
        } = self;
        let (set, known) = (*set, *known);
        let is_school =
            |s: &str| schools.iter().any(|x| x == s) || known.schools.iter().any(|x| x == s);
        let class_info = |id: &str| class_info(classes, known, id);
        // Users: students, staff, guardians; their roles and schools.
        let demographics: HashMap<&str, (u64, &Record)> = rows(set, "demographics")
            .map(|(f, rs)| {
                rs.iter()
                    .map(|(l, r)| (f.get(r, "sourcedId"), (*l, r)))
                    .collect()
            })
            .unwrap_or_default();
        let demo_file = set.file("demographics");
        let mut roles: HashMap<String, Vec<(String, String, u64)>> = HashMap::new();
        if let Some((f, rs)) = rows(set, "roles") {
            for (line, r) in rs {
                if f.deleted(r) {
                    continue;
                }
                roles
                    .entry(f.get(r, "userSourcedId").to_owned())
                    .or_default()
                    .push((
                        f.get(r, "role").to_owned(),
                        f.get(r, "orgSourcedId").to_owned(),
                        *line,
                    ));
            }
        }
        let mut user_kind: HashMap<String, (&'static str, Vec<String>)> = HashMap::new();
        let mut agents: Vec<(String, String, u64, &'static str)> = Vec::new();
        if let Some((f, rs)) = rows(set, "users") {
            for (line, r) in rs {
                let a = |c| at(f.name, *line, c);
                let id = f.get(r, "sourcedId");
                if f.deleted(r) {
                    for table in ["student", "staff", "guardian"] {
                        for school in known.schools_of(table, id) {
                            plan.delete(table, &school, &[id], a("sourcedId"));
                        }
                    }
                    continue;
                }
                let user_roles: Vec<(String, String)> = match set.version {
                    Version::V11 => {
                        let role = f.get(r, "role").to_owned();
                        list(f.get(r, "orgSourcedIds"))
                            .into_iter()
                            .map(|o| (role.clone(), o.to_owned()))
                            .collect()
                    }
                    Version::V12 => roles
                        .get(id)
                        .map(|v| v.iter().map(|(r, o, _)| (r.clone(), o.clone())).collect())
                        .unwrap_or_default(),
                };
                let role_col = if set.version == Version::V11 {
                    "role"
                } else {
                    "sourcedId"
                };
                if user_roles.is_empty() && set.version == Version::V12 {
                    // A delta may change a user whose roles are unchanged.
                    let tables: Vec<&str> = ["student", "staff", "guardian"]
                        .into_iter()
                        .filter(|t| !known.schools_of(t, id).is_empty())
                        .collect();
                    if tables.is_empty() {
                        plan.problem(
                            f.name,
                            *line,
                            "sourcedId",
                            id,
                            "has no row in roles.csv (OneRoster 1.2 gives roles there)".into(),
                        );
                        continue;
                    }
                }
                let mut kinds: Vec<(&'static str, &'static str, String)> = Vec::new();
                for (role, org) in &user_roles {
                    let (table, staff_role) = match role.as_str() {
                        "student" => ("student", ""),
                        "teacher" => ("staff", "teacher"),
                        "principal" => ("staff", "director"),
                        "administrator"
                        | "siteAdministrator"
                        | "districtAdministrator"
                        | "systemAdministrator" => ("staff", "admin"),
                        "aide" | "proctor" | "counselor" => ("staff", ""),
                        "parent" | "guardian" | "relative" => ("guardian", ""),
                        other => {
                            plan.problem(
                                f.name,
                                *line,
                                role_col,
                                other,
                                "is not a OneRoster role tabel knows".into(),
                            );
                            continue;
                        }
                    };
                    // A user of the district works in every school of the set.
                    let orgs: Vec<String> = if is_school(org) {
                        vec![org.clone()]
                    } else {
                        schools.clone()
                    };
                    for school in orgs {
                        kinds.push((table, staff_role, school));
                    }
                }
                if user_roles.is_empty() {
                    for table in ["student", "staff", "guardian"] {
                        for school in known.schools_of(table, id) {
                            kinds.push((table, "", school));
                        }
                    }
                }
                let demo = demographics.get(id);
                for (table, staff_role, school) in &kinds {
                    let (table, school) = (*table, school.as_str());
                    plan.set(table, school, id, "external_id", id, a("sourcedId"));
                    plan.set(
                        table,
                        school,
                        id,
                        "family_name",
                        f.get(r, "familyName"),
                        a("familyName"),
                    );
                    plan.set(
                        table,
                        school,
                        id,
                        "given_name",
                        f.get(r, "givenName"),
                        a("givenName"),
                    );
                    plan.set(
                        table,
                        school,
                        id,
                        "patronymic",
                        f.get(r, "middleName"),
                        a("middleName"),
                    );
                    match table {
                        "student" => {
                            if let (Some((dl, dr)), Some(df)) = (demo, demo_file) {
                                let sex = match df.get(dr, "sex").to_ascii_lowercase().as_str() {
                                    "female" => "f",
                                    "male" => "m",
                                    _ => "",
                                };
                                plan.set(
                                    "student",
                                    school,
                                    id,
                                    "sex",
                                    sex,
                                    at(df.name, *dl, "sex"),
                                );
                                plan.set(
                                    "student",
                                    school,
                                    id,
                                    "birth_date",
                                    df.get(dr, "birthDate"),
                                    at(df.name, *dl, "birthDate"),
                                );
                            }
                            user_kind.insert(id.to_owned(), ("student", vec![]));
                        }
                        "staff" => {
                            plan.set("staff", school, id, "email", f.get(r, "email"), a("email"));
                            if !staff_role.is_empty() {
                                let key = format!("{id}\u{1f}{staff_role}");
                                plan.set("staff_role", school, &key, "staff", id, a("sourcedId"));
                                plan.set(
                                    "staff_role",
                                    school,
                                    &key,
                                    "role",
                                    staff_role,
                                    a(role_col),
                                );
                            }
                        }
                        _ => {
                            plan.set(
                                "guardian",
                                school,
                                id,
                                "email",
                                f.get(r, "email"),
                                a("email"),
                            );
                            let phone = if f.get(r, "phone").is_empty() {
                                f.get(r, "sms")
                            } else {
                                f.get(r, "phone")
                            };
                            plan.set("guardian", school, id, "phone", phone, a("phone"));
                        }
                    }
                }
                if kinds.iter().any(|k| k.0 == "guardian") {
                    let rel = user_roles
                        .iter()
                        .map(|(r, _)| r.as_str())
                        .find(|r| matches!(*r, "parent" | "guardian" | "relative"))
                        .unwrap_or("guardian");
                    let sex = demo.and_then(|(_, dr)| {
                        demo_file.map(|df| df.get(dr, "sex").to_ascii_lowercase())
                    });
                    let relation = match (rel, sex.as_deref()) {
                        ("parent", Some("female")) => "mother",
                        ("parent", Some("male")) => "father",
                        ("guardian", _) => "guardian",
                        _ => "other",
                    };
                    user_kind.insert(id.to_owned(), ("guardian", vec![relation.to_owned()]));
                }
                for agent in list(f.get(r, "agentSourcedIds")) {
                    agents.push((id.to_owned(), agent.to_owned(), *line, f.name));
                }
            }
        }
        // Guardian links, from either side's agentSourcedIds.
        for (user, agent, line, file) in &agents {
            let kind_of = |u: &str| -> Option<&'static str> {
                user_kind.get(u).map(|k| k.0).or_else(|| {
                    ["student", "guardian"]
                        .into_iter()
                        .find(|t| !known.schools_of(t, u).is_empty())
                })
            };
            let (guardian, student) = match (kind_of(user), kind_of(agent)) {
                (Some("student"), Some("guardian")) => (agent, user),
                (Some("guardian"), Some("student")) => (user, agent),
                (_, None) => {
                    plan.problem(
                        file,
                        *line,
                        "agentSourcedIds",
                        agent,
                        "is not a student or guardian of users.csv nor of the database".into(),
                    );
                    continue;
                }
                _ => continue,
            };
            let relation = user_kind
                .get(guardian)
                .and_then(|k| k.1.first().cloned())
                .unwrap_or_else(|| "other".into());
            let mut in_schools: Vec<String> = schools
                .iter()
                .filter(|s| {
                    plan.has("student", s, student)
                        || known.schools_of("student", student).contains(s)
                })
                .cloned()
                .collect();
            in_schools.dedup();
            for school in in_schools {
                let key = format!("{guardian}\u{1f}{student}");
                let a = |c| at(file, *line, c);
                plan.set(
                    "guardian_student",
                    &school,
                    &key,
                    "guardian",
                    guardian,
                    a("agentSourcedIds"),
                );
                plan.set(
                    "guardian_student",
                    &school,
                    &key,
                    "student",
                    student,
                    a("agentSourcedIds"),
                );
                plan.set(
                    "guardian_student",
                    &school,
                    &key,
                    "relation",
                    &relation,
                    a("agentSourcedIds"),
                );
            }
        }

        // Enrollments: homeroom → a student's class or the class teacher;
        // scheduled → group members and teaching assignments.
        let mut homeroom_of: HashMap<String, String> = HashMap::new();
        // Each student's homerooms, with the dates of each.
        let mut homerooms: BTreeMap<String, Vec<HomeroomSpan>> = BTreeMap::new();
        let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut enrolled: HashMap<(String, String), (String, At<'static>)> = HashMap::new();
        if let Some((f, rs)) = rows(set, "enrollments") {
            // Active rows first, so that a deleted enrollment never undoes a new one.
            let mut order: Vec<&(u64, Vec<String>)> = rs.iter().collect();
            order.sort_by_key(|(_, r)| !f.deleted(r));
            for (line, r) in order {
                let a = |c| at(f.name, *line, c);
                let (id, class, user) = (
                    f.get(r, "sourcedId"),
                    f.get(r, "classSourcedId"),
                    f.get(r, "userSourcedId"),
                );
                let role = f.get(r, "role");
                let Some(info) = class_info(class) else {
                    plan.problem(
                        f.name,
                        *line,
                        "classSourcedId",
                        class,
                        "is not a class of classes.csv nor of the database".into(),
                    );
                    continue;
                };
                let school = info.school.clone();
                let deleted = f.deleted(r);
                match (role, info.homeroom) {
                    ("student", true) => {
                        if deleted {
                            if !homeroom_of.contains_key(user) {
                                plan.set(
                                    "student",
                                    &school,
                                    user,
                                    "external_id",
                                    user,
                                    a("userSourcedId"),
                                );
                                plan.set(
                                    "student",
                                    &school,
                                    user,
                                    "class",
                                    "",
                                    a("classSourcedId"),
                                );
                            }
                            continue;
                        }
                        // A student is in one class at a time: two
                        // homerooms are a move only when their dates
                        // say when, and do not overlap.
                        let span = (
                            date_part(f.get(r, "beginDate")),
                            date_part(f.get(r, "endDate")),
                        );
                        let spans = homerooms.entry(user.to_owned()).or_default();
                        if let Some((other, ..)) = spans.iter().find(|(c, from, until, _)| {
                            c != class && !apart((from, until), (&span.0, &span.1))
                        }) {
                            plan.problem(f.name, *line, "classSourcedId", class, format!("is a second homeroom of student {user} (already in {other}) at the same time; a student belongs to one class at a time (beginDate and endDate say when a student moved)"));
                            continue;
                        }
                        spans.push((class.to_owned(), span.0, span.1, a("classSourcedId")));
                        homeroom_of.insert(user.to_owned(), class.to_owned());
                        plan.set(
                            "student",
                            &school,
                            user,
                            "external_id",
                            user,
                            a("userSourcedId"),
                        );
                    }
                    ("student", false) => {
                        let key = format!("{class}\u{1f}{user}");
                        if deleted {
                            plan.delete("group_member", &school, &[class, user], a("sourcedId"));
                            continue;
                        }
                        members
                            .entry(class.to_owned())
                            .or_default()
                            .insert(user.to_owned());
                        for (column, date) in [("from", "beginDate"), ("until", "endDate")] {
                            if let Some(day) = date_part(f.get(r, date)) {
                                plan.set("group_member", &school, &key, column, &day, a(date));
                            }
                        }
                        plan.set(
                            "group_member",
                            &school,
                            &key,
                            "group",
                            class,
                            a("classSourcedId"),
                        );
                        plan.set(
                            "group_member",
                            &school,
                            &key,
                            "student",
                            user,
                            a("userSourcedId"),
                        );
                    }
                    ("teacher", true) => {
                        if deleted {
                            if !teacher_of.contains_key(class) {
                                plan.set(
                                    "class",
                                    &school,
                                    class,
                                    "external_id",
                                    class,
                                    a("classSourcedId"),
                                );
                                plan.set(
                                    "class",
                                    &school,
                                    class,
                                    "class_teacher",
                                    "",
                                    a("userSourcedId"),
                                );
                            }
                            continue;
                        }
                        let primary = f.get(r, "primary").eq_ignore_ascii_case("true");
                        if teacher_of.get(class).is_none_or(|(p, _)| primary && !p) {
                            teacher_of.insert(class.to_owned(), (primary, user.to_owned()));
                            plan.set(
                                "class",
                                &school,
                                class,
                                "external_id",
                                class,
                                a("classSourcedId"),
                            );
                            plan.set(
                                "class",
                                &school,
                                class,
                                "class_teacher",
                                user,
                                a("userSourcedId"),
                            );
                        }
                    }
                    ("teacher", false) => {
                        if deleted {
                            plan.delete("teaching_assignment", &school, &[id], a("sourcedId"));
                            continue;
                        }
                        let primary = f.get(r, "primary").eq_ignore_ascii_case("true");
                        if teacher_of.get(class).is_none_or(|(p, _)| primary && !p) {
                            teacher_of.insert(class.to_owned(), (primary, user.to_owned()));
                        }
                        let t = "teaching_assignment";
                        plan.set(t, &school, id, "external_id", id, a("sourcedId"));
                        plan.set(t, &school, id, "staff", user, a("userSourcedId"));
                        plan.set(t, &school, id, "subject", &info.course, a("classSourcedId"));
                        plan.set(t, &school, id, "class", "", a("classSourcedId"));
                        plan.set(t, &school, id, "group", class, a("classSourcedId"));
                        plan.set(t, &school, id, "hours_per_week", "0", a("sourcedId"));
                    }
                    _ => {}
                }
                if role == "student"
                    && !deleted
                    && let Some(begin) = date_part(f.get(r, "beginDate"))
                {
                    let k = (school.clone(), user.to_owned());
                    if enrolled.get(&k).is_none_or(|(d, _)| begin < *d) {
                        enrolled.insert(k, (begin, a("beginDate")));
                    }
                }
            }
        }
        // The current class is the latest homeroom; each dated homeroom is
        // a span of the student in that class.
        for (user, spans) in &homerooms {
            let Some(latest) = spans.iter().max_by(|x, y| x.1.cmp(&y.1)) else {
                continue;
            };
            let Some(school) = class_info(&latest.0).map(|i| i.school.clone()) else {
                continue;
            };
            homeroom_of.insert(user.clone(), latest.0.clone());
            plan.set("student", &school, user, "class", &latest.0, latest.3);
            for (class, from, until, at) in spans {
                let Some(from) = from else { continue };
                let key = format!("{class}\u{1f}{user}\u{1f}{from}");
                let t = "class_member";
                plan.set(t, &school, &key, "class", class, *at);
                plan.set(t, &school, &key, "student", user, *at);
                plan.set(t, &school, &key, "from", from, *at);
                if let Some(until) = until {
                    plan.set(t, &school, &key, "until", until, *at);
                }
            }
        }
        for ((school, user), (day, from)) in enrolled {
            if plan.has("student", &school, &user) {
                plan.set("student", &school, &user, "enrolled_on", &day, from);
            }
        }
        // A group whose members all share one homeroom splits that class.
        for (group, users) in &members {
            let Some(info) = classes.get(group) else {
                continue;
            };
            let homes: BTreeSet<Option<&String>> =
                users.iter().map(|u| homeroom_of.get(u)).collect();
            let value = match homes.iter().next() {
                Some(Some(class)) if homes.len() == 1 => class.as_str(),
                _ => "",
            };
            let from = at("enrollments.csv", 0, "classSourcedId");
            plan.set("study_group", &info.school, group, "class", value, from);
        }
    }
}

/// A homeroom of a student: the class, the first and last day (when the
/// enrollment gives them), and where it was read.
type HomeroomSpan = (String, Option<String>, Option<String>, At<'static>);

/// True if two spans of days (`YYYY-MM-DD`, an open end unbounded) share
/// no day; spans without dates overlap everything.
fn apart(a: (&Option<String>, &Option<String>), b: (&Option<String>, &Option<String>)) -> bool {
    let before = |until: &Option<String>, from: &Option<String>| match (until, from) {
        (Some(u), Some(f)) => u < f,
        _ => false,
    };
    before(a.1, b.0) || before(b.1, a.0)
}
