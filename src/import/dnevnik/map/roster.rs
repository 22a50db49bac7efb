//! The school, its kinds of work, year and periods, staff, subjects,
//! classes and subgroups, students with their classes and groups, and
//! guardians.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Days;

use super::{Mapper, key};
use crate::gradebook::Date;
use crate::import::dnevnik::shapes::{Person, day_of, only_rounded, pick};

/// The tabel kind of a Дневник.ру period type.
fn period_kind(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    if t.contains("half") || t.contains("semester") || t.contains("полугод") {
        Some("half")
    } else if t.contains("quarter") || t.contains("четверт") {
        Some("quarter")
    } else if t.contains("trimester") || t.contains("триместр") {
        Some("trimester")
    } else if t.contains("year") || t == "год" {
        Some("year")
    } else {
        None
    }
}

fn period_title(kind: &str, n: usize) -> String {
    match kind {
        "quarter" => format!("{n} четверть"),
        "half" => format!("{n} полугодие"),
        "trimester" => format!("{n} триместр"),
        _ => "Год".to_owned(),
    }
}

/// «m» or «f» from `Male`, `Female`, `M`, `F`, `м`, `ж`.
fn sex(text: Option<&str>) -> Option<String> {
    let t = text?.trim().to_lowercase();
    match t.as_str() {
        "male" | "m" | "м" | "мужской" => Some("m".into()),
        "female" | "f" | "ж" | "женский" => Some("f".into()),
        _ => None,
    }
}

/// A short name for narrow columns: up to 12 characters as they are,
/// else each long word cut to three letters and a dot («Изобразительное
/// искусство» → «Изо. иск.»).
pub fn short_name(name: &str) -> String {
    if name.chars().count() <= 12 {
        return name.to_owned();
    }
    name.split_whitespace()
        .map(|w| {
            let open = w.starts_with('(');
            let core: String = w.trim_matches(|c| c == '(' || c == ')').to_owned();
            let cut = if core.chars().count() <= 4 {
                core
            } else {
                format!("{}.", core.chars().take(3).collect::<String>())
            };
            if open { format!("({cut})") } else { cut }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The school's number from its name: the digits after «№».
fn number_of(name: &str) -> Option<String> {
    let after = name.split('№').nth(1)?;
    let digits: String = after
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

fn text(v: Option<&String>) -> String {
    v.map(|s| s.trim().to_owned()).unwrap_or_default()
}

fn non_empty(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn prev_day(d: Date) -> Date {
    d.0.checked_sub_days(Days::new(1)).map_or(d, Date)
}

/// One period of one class.
struct Period {
    id: String,
    kind: &'static str,
    start: Date,
    finish: Date,
    name: Option<String>,
    path: String,
    item: usize,
    class: String,
}

impl Mapper<'_> {
    /// The school and its kinds of work.
    pub(super) fn school_and_kinds(&mut self) {
        let f = self.f;
        let s = &f.school.data;
        let ext = self.school.clone();
        let full = non_empty(s.full_name.as_ref())
            .or_else(|| non_empty(s.name.as_ref()))
            .unwrap_or_else(|| format!("Школа {ext}"));
        let short = non_empty(s.name.as_ref()).unwrap_or_else(|| full.clone());
        let exists = self.known.school_exists;
        let p = |m: &mut Self, field| m.place(&f.school.path, 0, field);
        let (id_at, full_at, name_at, city_at) = (
            p(self, "id"),
            p(self, "fullName"),
            p(self, "name"),
            p(self, "city"),
        );
        let address = [s.city.as_ref(), s.municipality.as_ref()]
            .into_iter()
            .filter_map(non_empty)
            .collect::<Vec<_>>()
            .join(", ");
        let mut row = self.set("school", &ext, id_at);
        row.set("external_id", ext.clone(), id_at)
            .set("name", full.clone(), full_at)
            .set("short_name", short, name_at)
            .maybe("number", number_of(&full), full_at);
        if !exists {
            row.set("address", address, city_at)
                .set("director", "", id_at);
        }
        for (i, wt) in f.work_types.data.iter().enumerate() {
            let at = self.place(&f.work_types.path, i, "id");
            let Some(id) = pick(&wt.id, &wt.id_str) else {
                if only_rounded(&wt.id, &wt.id_str) {
                    self.plan
                        .problem(at, "", "has no exact id (no string twin)".into());
                }
                continue;
            };
            let title = non_empty(wt.title.as_ref())
                .or_else(|| non_empty(wt.abbr.as_ref()))
                .or_else(|| non_empty(wt.kind.as_ref()))
                .unwrap_or_else(|| id.clone());
            let title_en = non_empty(wt.kind.as_ref()).unwrap_or_else(|| title.clone());
            let weight = wt.weight.0.filter(|w| *w > 0.0).unwrap_or(1.0);
            let (t_at, w_at) = (
                self.place(&f.work_types.path, i, "title"),
                self.place(&f.work_types.path, i, "weight"),
            );
            self.set("work_kind", &id, at)
                .set("code", id.clone(), at)
                .set("title", title, t_at)
                .set("title_en", title_en, t_at)
                .set("weight", weight.to_string(), w_at);
            self.work_kinds.insert(id);
        }
    }

    /// The school year and its periods: the classes' periods, one set for
    /// the school (a quarter is the same quarter in every class, under the
    /// smallest of its ids), numbered by their dates, and the year's own.
    /// Returns the year's first day.
    pub(super) fn year_and_periods(&mut self) -> Date {
        let f = self.f;
        let mut all: Vec<Period> = Vec::new();
        let mut unknown_types: BTreeMap<String, usize> = BTreeMap::new();
        for g in f.groups.iter().filter(|g| !g.subgroup) {
            let Some(a) = &g.periods else { continue };
            for (i, p) in a.data.iter().enumerate() {
                let Some(id) = pick(&p.id, &p.id_str) else {
                    continue;
                };
                let Some(kind) = p.kind.as_deref().and_then(period_kind) else {
                    *unknown_types
                        .entry(p.kind.clone().unwrap_or_default())
                        .or_default() += 1;
                    continue;
                };
                let start = day_of(p.start.as_deref()).and_then(|d| Date::parse_iso(&d));
                let finish = day_of(p.finish.as_deref()).and_then(|d| Date::parse_iso(&d));
                let (Some(start), Some(finish)) = (start, finish) else {
                    let (field, value) = if start.is_none() {
                        ("start", p.start.clone())
                    } else {
                        ("finish", p.finish.clone())
                    };
                    let at = self.place(&a.path, i, field);
                    self.plan.problem(
                        at,
                        &value.unwrap_or_default(),
                        "is not a date; expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss".into(),
                    );
                    continue;
                };
                all.push(Period {
                    id,
                    kind,
                    start,
                    finish,
                    name: non_empty(p.name.as_ref()),
                    path: a.path.clone(),
                    item: i,
                    class: g.id.clone(),
                });
            }
        }
        for (t, n) in unknown_types {
            self.plan.warnings.push(format!(
                "{n} reporting period(s) of type {t:?} left out (tabel keeps quarters, half-years, trimesters and the year)"
            ));
        }
        // Rank each class's periods of a kind by their first day.
        let mut by_class: BTreeMap<(String, &'static str), Vec<usize>> = BTreeMap::new();
        for (i, p) in all.iter().enumerate() {
            by_class
                .entry((p.class.clone(), p.kind))
                .or_default()
                .push(i);
        }
        let mut clusters: BTreeMap<(&'static str, usize), Vec<usize>> = BTreeMap::new();
        let mut terms: HashMap<String, HashMap<&'static str, usize>> = HashMap::new();
        for ((class, kind), mut idx) in by_class {
            idx.sort_by_key(|&i| (all[i].start, all[i].finish));
            if kind != "year" {
                *terms.entry(class).or_default().entry(kind).or_default() += idx.len();
            }
            for (rank, i) in idx.into_iter().enumerate() {
                clusters.entry((kind, rank + 1)).or_default().push(i);
            }
        }
        for (class, kinds) in terms {
            if let Some((kind, _)) = kinds.into_iter().max_by_key(|(k, n)| (*n, *k)) {
                self.term_kind.insert(class, kind);
            }
        }
        let y: i32 = self.year.parse().unwrap_or(2000);
        let start = all
            .iter()
            .map(|p| p.start)
            .min()
            .or_else(|| Date::from_ymd(y, 9, 1))
            .unwrap_or(self.today);
        let end = all
            .iter()
            .map(|p| p.finish)
            .max()
            .or_else(|| Date::from_ymd(y + 1, 5, 31))
            .unwrap_or(self.today)
            .max(start);
        let home = match all.first() {
            Some(p) => {
                let path = p.path.clone();
                self.place(&path, p.item, "start")
            }
            None => {
                let path = f.school.path.clone();
                self.place(&path, 0, "id")
            }
        };
        let year = self.year.clone();
        self.set("school_year", &year, home)
            .set("external_id", year.clone(), home)
            .set("title", format!("{}/{}", y, y + 1), home)
            .set("starts_on", start.to_string(), home)
            .set("ends_on", end.to_string(), home);
        // What the database calls each (kind, number) of this year, so that
        // a period keeps its row whichever class's id comes first.
        let mut existing: HashMap<(String, String), String> = HashMap::new();
        if let Some(rows) = self.known.base.get("reporting_period") {
            for r in rows.values() {
                // school, external_id, school_year, kind, number, …
                if r[2] == year {
                    existing.insert((r[3].clone(), r[4].clone()), r[1].clone());
                }
            }
        }
        let mut has_year = false;
        for ((kind, n), idx) in clusters {
            let Some(&first) = idx.iter().min_by(|&&a, &&b| {
                (all[a].id.len(), &all[a].id).cmp(&(all[b].id.len(), &all[b].id))
            }) else {
                continue;
            };
            let p = &all[first];
            let ext = existing
                .get(&(kind.to_owned(), n.to_string()))
                .cloned()
                .unwrap_or_else(|| p.id.clone());
            for &i in &idx {
                self.periods.insert(all[i].id.clone(), ext.clone());
            }
            let title = p.name.clone().unwrap_or_else(|| period_title(kind, n));
            let (path, item) = (p.path.clone(), p.item);
            let (id_at, name_at, start_at, finish_at) = (
                self.place(&path, item, "id"),
                self.place(&path, item, "name"),
                self.place(&path, item, "start"),
                self.place(&path, item, "finish"),
            );
            let (pstart, pfinish) = (p.start, p.finish);
            if kind == "year" {
                if n > 1 {
                    continue;
                }
                has_year = true;
                self.year_period = ext.clone();
            }
            self.set("reporting_period", &ext, id_at)
                .set("external_id", ext.clone(), id_at)
                .set("school_year", year.clone(), id_at)
                .set("kind", kind, id_at)
                .set("number", n.to_string(), id_at)
                .set("title", title, name_at)
                .set("starts_on", pstart.to_string(), start_at)
                .set("ends_on", pfinish.to_string(), finish_at);
        }
        if !has_year {
            // Year marks come without a period: they get the year's own.
            let ext = existing
                .get(&("year".to_owned(), "1".to_owned()))
                .cloned()
                .unwrap_or_else(|| format!("{year}-year"));
            self.year_period = ext.clone();
            self.set("reporting_period", &ext, home)
                .set("external_id", ext.clone(), home)
                .set("school_year", year.clone(), home)
                .set("kind", "year", home)
                .set("number", "1", home)
                .set("title", "Год", home)
                .set("starts_on", start.to_string(), home)
                .set("ends_on", end.to_string(), home);
        }
        start
    }

    /// Who teaches: the teachers of the answers' lessons and the class teachers.
    pub(super) fn teaching_staff(&mut self) {
        let f = self.f;
        for (_, a) in &f.lessons {
            for l in &a.data {
                self.teaching.extend(l.teacher_ids());
            }
        }
        for g in &f.groups {
            if let Some(Some(p)) = g.class_teacher.as_ref().map(|a| &a.data)
                && let Some(id) = p.id()
            {
                self.teaching.insert(id);
            }
        }
    }

    fn staff_row(&mut self, id: &str, p: &Person, path: &str, item: usize) {
        let (id_at, last_at, first_at, middle_at) = (
            self.place(path, item, "id"),
            self.place(path, item, "lastName"),
            self.place(path, item, "firstName"),
            self.place(path, item, "middleName"),
        );
        self.set("staff", id, id_at)
            .set("external_id", id, id_at)
            .set("family_name", text(p.last_name.as_ref()), last_at)
            .set("given_name", text(p.first_name.as_ref()), first_at)
            .set("patronymic", text(p.middle_name.as_ref()), middle_at);
        self.staff.insert(id.to_owned());
    }

    fn role(&mut self, staff: &str, role: &'static str, path: &str, item: usize) {
        let at = self.place(path, item, "id");
        self.set("staff_role", &key(&[staff, role]), at)
            .set("staff", staff, at)
            .set("role", role, at);
    }

    /// Staff from the school's teachers, and class teachers it does not list.
    pub(super) fn staff(&mut self) {
        let f = self.f;
        let path = f.teachers.path.clone();
        for (i, t) in f.teachers.data.iter().enumerate() {
            let Some(id) = t.id() else {
                if only_rounded(&t.id, &t.id_str) {
                    let at = self.place(&path, i, "Id");
                    self.plan
                        .problem(at, "", "has no exact id (no string twin)".into());
                }
                continue;
            };
            let person = Person {
                first_name: t.first_name.clone(),
                last_name: t.last_name.clone(),
                middle_name: t.middle_name.clone(),
                ..Person::default()
            };
            self.staff_row(&id, &person, &path, i);
            let managing = non_empty(t.name_managing_position.as_ref());
            let position = non_empty(t.name_teacher_position.as_ref()).or_else(|| managing.clone());
            let (pos_at, mail_at) = (
                self.place(&path, i, "NameTeacherPosition"),
                self.place(&path, i, "Email"),
            );
            self.set("staff", &id, pos_at)
                .maybe("position", position, pos_at)
                .maybe("email", non_empty(t.email.as_ref()), mail_at);
            if t.teaching_staff == Some(true) || self.teaching.contains(&id) {
                self.role(&id, "teacher", &path, i);
            }
            if let Some(m) = managing.map(|m| m.to_lowercase()) {
                if m.contains("заместител") || m.contains("зам.") {
                    self.role(&id, "deputy", &path, i);
                } else if m.contains("директор") {
                    self.role(&id, "director", &path, i);
                }
            }
        }
        for g in &f.groups {
            let Some(a) = &g.class_teacher else { continue };
            let Some(p) = &a.data else { continue };
            let Some(id) = p.id() else { continue };
            if !self.staff.contains(&id) && !self.known.has("staff", &id) {
                let path = a.path.clone();
                self.staff_row(&id, p, &path, 0);
                self.role(&id, "teacher", &path, 0);
            }
        }
    }

    /// Adds a subject (once) in order of appearance; new ones get a short
    /// name and an English name from their name.
    pub(super) fn subject(&mut self, id: &str, name: &str, path: &str, item: usize) {
        if self.subjects.contains(id) {
            return;
        }
        let exists = self.known.has("subject", id);
        let (id_at, name_at) = (self.place(path, item, "id"), self.place(path, item, "name"));
        let next = self.subjects.len() + 1;
        let base = self
            .known
            .base
            .get("subject")
            .map(|m| {
                m.values()
                    .filter_map(|r| r[6].parse::<usize>().ok())
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let name = if name.trim().is_empty() {
            id
        } else {
            name.trim()
        };
        let mut row = self.set("subject", id, id_at);
        row.set("external_id", id, id_at).set("name", name, name_at);
        if !exists {
            row.set("short_name", short_name(name), name_at)
                .set("name_en", name, name_at)
                .set("assessment", "graded", id_at)
                .set("position", (base + next).to_string(), id_at);
        }
        self.subjects.insert(id.to_owned());
    }

    /// Subjects of the groups, in order.
    pub(super) fn subjects(&mut self) {
        let f = self.f;
        for g in &f.groups {
            let a = &g.subjects;
            let mut mine = Vec::new();
            for (i, s) in a.data.iter().enumerate() {
                let Some(id) = pick(&s.id, &s.id_str) else {
                    continue;
                };
                self.subject(&id, &text(s.name.as_ref()), &a.path, i);
                mine.push(id);
            }
            self.group_subjects.insert(g.id.clone(), mine);
        }
    }

    /// Classes and subgroups.
    pub(super) fn classes_and_groups(&mut self) {
        let f = self.f;
        let year = self.year.clone();
        for g in f.groups.iter().filter(|g| !g.subgroup) {
            self.classes.insert(g.id.clone());
        }
        for g in &f.groups {
            let d = &g.group.data;
            let path = g.group.path.clone();
            let at = |m: &mut Self, field| m.place(&path, g.item, field);
            let (id_at, name_at) = (at(self, "id"), at(self, "name"));
            let name = non_empty(d.name.as_ref())
                .or_else(|| non_empty(d.full_name.as_ref()))
                .unwrap_or_else(|| g.id.clone());
            if g.subgroup {
                self.subgroups.insert(g.id.clone());
                let title = non_empty(d.full_name.as_ref()).unwrap_or_else(|| name.clone());
                let parents = d.parents().unwrap_or_default();
                let class = match parents.as_slice() {
                    [one] if self.classes.contains(one) || self.known.has("class", one) => {
                        one.clone()
                    }
                    _ => String::new(),
                };
                let subject = match self.group_subjects.get(&g.id).map(Vec::as_slice) {
                    Some([one]) => one.clone(),
                    _ => String::new(),
                };
                let (parent_at, full_at) = (at(self, "parentIds"), at(self, "fullName"));
                let subj_at = match &g.subjects.path {
                    p if *p != path => self.place(p, 0, "id"),
                    _ => at(self, "subjects"),
                };
                self.set("study_group", &g.id, id_at)
                    .set("external_id", g.id.clone(), id_at)
                    .set("school_year", year.clone(), id_at)
                    .set("title", title, full_at)
                    .set("class", class, parent_at)
                    .set("subject", subject, subj_at);
                continue;
            }
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            let grade = d
                .parallel
                .0
                .filter(|p| (1..=11).contains(p))
                .or_else(|| digits.parse().ok().filter(|p| (1..=11).contains(p)));
            let Some(grade) = grade else {
                let at = at(self, "parallel");
                self.plan.problem(
                    at,
                    &d.parallel.0.map(|p| p.to_string()).unwrap_or_default(),
                    "is not a grade 1–11, nor does the class's name start with one".into(),
                );
                continue;
            };
            let letter = name[digits.len()..]
                .trim_matches(|c: char| {
                    c.is_whitespace() || c == '-' || c == '«' || c == '»' || c == '"'
                })
                .to_owned();
            let teacher = g
                .class_teacher
                .as_ref()
                .and_then(|a| a.data.as_ref())
                .and_then(Person::id)
                .filter(|id| self.staff.contains(id) || self.known.has("staff", id))
                .unwrap_or_default();
            let teacher_at = match &g.class_teacher {
                Some(a) => self.place(&a.path.clone(), 0, "id"),
                None => id_at,
            };
            let term = self.term_kind.get(&g.id).copied().unwrap_or("quarter");
            let par_at = at(self, "parallel");
            self.set("class", &g.id, id_at)
                .set("external_id", g.id.clone(), id_at)
                .set("school_year", year.clone(), id_at)
                .set("grade", grade.to_string(), par_at)
                .set("letter", letter, name_at)
                .set("title", name, name_at)
                .set("class_teacher", teacher, teacher_at)
                .set("term_kind", term, id_at);
        }
    }

    fn student_row(&mut self, p: &Person, id: &str, path: &str, item: usize) {
        let at = |m: &mut Self, field| m.place(path, item, field);
        let (id_at, last_at, first_at, middle_at, sex_at) = (
            at(self, "id"),
            at(self, "lastName"),
            at(self, "firstName"),
            at(self, "middleName"),
            at(self, "sex"),
        );
        let new = !self.known.has("student", id) && !self.students.contains(id);
        let first_day = self.plan.first_day.clone();
        let mut row = self.set("student", id, id_at);
        row.set("external_id", id, id_at)
            .set("family_name", text(p.last_name.as_ref()), last_at)
            .set("given_name", text(p.first_name.as_ref()), first_at)
            .set("patronymic", text(p.middle_name.as_ref()), middle_at)
            .maybe("sex", sex(p.sex.as_deref()), sex_at);
        if new {
            row.set("enrolled_on", first_day, id_at);
        }
        self.students.insert(id.to_owned());
    }

    /// Students from the classes' lists (their class) and the subgroups'
    /// (their groups); a student of a synced class who is in none of its
    /// lists any more has left the day before the sync's day.
    pub(super) fn students(&mut self) {
        let f = self.f;
        let mut class_of: HashMap<String, String> = HashMap::new();
        let mut twice = 0;
        for g in f.groups.iter().filter(|g| !g.subgroup) {
            let a = &g.persons;
            for (i, p) in a.data.iter().enumerate() {
                let Some(id) = p.id() else {
                    if only_rounded(&p.id, &p.id_str) {
                        let at = self.place(&a.path, i, "id");
                        self.plan
                            .problem(at, "", "has no exact id (no string twin)".into());
                    }
                    continue;
                };
                if class_of.contains_key(&id) {
                    twice += 1;
                    continue;
                }
                class_of.insert(id.clone(), g.id.clone());
                self.student_row(p, &id, &a.path, i);
                let at = self.place(&a.path, i, "id");
                self.set("student", &id, at)
                    .set("class", g.id.clone(), at)
                    .set("left_on", "", at);
            }
        }
        if twice > 0 {
            self.plan.warnings.push(format!(
                "{twice} student(s) listed in two classes; each kept in the first"
            ));
        }
        let today = self.today;
        let mut members: HashSet<(String, String)> = HashSet::new();
        for g in f.groups.iter().filter(|g| g.subgroup) {
            let a = &g.persons;
            let group_is_new = !self.known.has("study_group", &g.id);
            for (i, p) in a.data.iter().enumerate() {
                let Some(id) = p.id() else { continue };
                if !self.students.contains(&id) {
                    self.student_row(p, &id, &a.path, i);
                }
                if !members.insert((g.id.clone(), id.clone())) {
                    continue;
                }
                let k = key(&[&g.id, &id]);
                let at = self.place(&a.path, i, "id");
                let base = self.known.row("group_member", &k).cloned();
                let mut row = self.set("group_member", &k, at);
                row.set("group", g.id.clone(), at)
                    .set("student", id.clone(), at);
                match base {
                    // Back in a group left earlier: the span is open again.
                    Some(b) if !b[4].is_empty() => {
                        row.set("until", "", at);
                    }
                    Some(_) => {}
                    // A new member of a group tabel had: from the sync's day.
                    None if !group_is_new => {
                        row.set("from", today.to_string(), at).set("until", "", at);
                    }
                    None => {
                        row.set("from", "", at).set("until", "", at);
                    }
                }
            }
        }
        // Who is gone from a synced class or subgroup. A list that comes
        // back empty is taken for a glitch rather than a class that left.
        let listed: HashSet<&String> = f
            .groups
            .iter()
            .filter(|g| !g.persons.data.is_empty())
            .map(|g| &g.id)
            .collect();
        let yesterday = prev_day(today);
        let mut left: Vec<(String, String)> = self
            .known
            .base
            .get("student")
            .map(|m| {
                m.iter()
                    // school, external_id, key, family, given, patronymic, sex, birth, class, plan, enrolled, left
                    .filter(|(k, r)| {
                        self.classes.contains(&r[8])
                            && listed.contains(&r[8])
                            && !class_of.contains_key(*k)
                    })
                    .map(|(k, r)| (k.clone(), r[10].clone()))
                    .collect()
            })
            .unwrap_or_default();
        left.sort();
        for (id, enrolled) in left {
            let class = self
                .known
                .row("student", &id)
                .map(|r| r[8].clone())
                .unwrap_or_default();
            let path = f
                .groups
                .iter()
                .find(|g| g.id == class)
                .map(|g| g.persons.path.clone())
                .unwrap_or_default();
            let at = self.place(&path, 0, "id");
            let left_on = yesterday.to_string().max(enrolled);
            self.set("student", &id, at)
                .set("external_id", id.clone(), at)
                .set("class", "", at)
                .set("left_on", left_on, at);
        }
        let mut ended: Vec<(String, String, String)> = self
            .known
            .base
            .get("group_member")
            .map(|m| {
                m.values()
                    // school, group, student, from, until
                    .filter(|r| {
                        self.subgroups.contains(&r[1]) && listed.contains(&r[1]) && r[4].is_empty()
                    })
                    .filter(|r| !members.contains(&(r[1].clone(), r[2].clone())))
                    .map(|r| (r[1].clone(), r[2].clone(), r[3].clone()))
                    .collect()
            })
            .unwrap_or_default();
        ended.sort();
        for (group, student, from) in ended {
            let path = f
                .groups
                .iter()
                .find(|g| g.id == group)
                .map(|g| g.persons.path.clone())
                .unwrap_or_default();
            let at = self.place(&path, 0, "id");
            let until = yesterday.to_string().max(from);
            self.set("group_member", &key(&[&group, &student]), at)
                .set("group", group.clone(), at)
                .set("student", student.clone(), at)
                .set("until", until, at);
        }
    }

    /// Guardians from the students' relatives.
    pub(super) fn guardians(&mut self) {
        let f = self.f;
        for (student, a) in &f.relatives {
            for (i, r) in a.data.iter().enumerate() {
                let Some(p) = &r.person else { continue };
                let kind = r.kind.clone().unwrap_or_default().to_lowercase();
                if kind.contains("child")
                    || kind.contains("реб")
                    || kind.contains("сын")
                    || kind.contains("доч")
                {
                    continue;
                }
                let Some(id) = p.id() else { continue };
                let at = |m: &mut Self, field| m.place(&a.path, i, field);
                let (id_at, last_at, first_at, middle_at, type_at) = (
                    at(self, "person"),
                    at(self, "lastName"),
                    at(self, "firstName"),
                    at(self, "middleName"),
                    at(self, "type"),
                );
                self.set("guardian", &id, id_at)
                    .set("external_id", id.clone(), id_at)
                    .set("family_name", text(p.last_name.as_ref()), last_at)
                    .set("given_name", text(p.first_name.as_ref()), first_at)
                    .set("patronymic", text(p.middle_name.as_ref()), middle_at);
                let relation = if kind.contains("mother") || kind.contains("мать") {
                    "mother"
                } else if kind.contains("father") || kind.contains("отец") {
                    "father"
                } else if kind.contains("grand")
                    || kind.contains("бабушк")
                    || kind.contains("дедушк")
                {
                    "grandparent"
                } else if kind.contains("guardian")
                    || kind.contains("trustee")
                    || kind.contains("опекун")
                {
                    "guardian"
                } else if kind.contains("parent") || kind.contains("родител") {
                    match sex(p.sex.as_deref()).as_deref() {
                        Some("f") => "mother",
                        Some("m") => "father",
                        _ => "other",
                    }
                } else {
                    "other"
                };
                self.set("guardian_student", &key(&[&id, student]), id_at)
                    .set("guardian", id.clone(), id_at)
                    .set("student", student.clone(), id_at)
                    .set("relation", relation, type_at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_and_numbers() {
        assert_eq!(short_name("Математика"), "Математика");
        assert_eq!(short_name("Изобразительное искусство"), "Изо. иск.");
        assert_eq!(
            short_name("Иностранный язык (английский)"),
            "Ино. язык (анг.)"
        );
        assert_eq!(number_of("МБОУ «СОШ № 7»").as_deref(), Some("7"));
        assert_eq!(number_of("Гимназия"), None);
        assert_eq!(period_kind("HalfYear"), Some("half"));
        assert_eq!(period_kind("Semester"), Some("half"));
        assert_eq!(period_kind("Quarter"), Some("quarter"));
        assert_eq!(period_kind("Module"), None);
    }
}
