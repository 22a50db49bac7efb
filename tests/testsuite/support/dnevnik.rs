//! A stand-in for Дневник.ру's API v2 on loopback: it serves a school
//! written as data files in the API's shapes (`tests/fixtures/dnevnik/`), or
//! one generated from a demo school, checks the `Access-Token` header,
//! counts and records every request, and can answer with the API's recorded
//! errors: 401, 500 for a while, a 429 storm, silence, an HTML outage page,
//! broken JSON.
//!
//! It runs on a thread and runtime of its own, so a test may run the
//! `tabel` binary (which blocks) while it answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, Response, StatusCode, header};
use serde_json::{Value, json};

use super::files::repo;

/// The fixture school's id in Дневник.ру.
pub const SCHOOL: &str = "1000002283077";
/// The token the peer accepts.
pub const TOKEN: &str = "fixture-token-CommonInfo-EducationalInfo";

/// A school as the API's answers: data file path (`groups/G/marks.json`) → JSON.
pub type Data = BTreeMap<String, Value>;

/// Reads every `.json` file under `dir` into [`Data`].
pub fn load(dir: &Path) -> Data {
    let mut out = Data::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json") {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(e.path()).unwrap();
            out.insert(rel, serde_json::from_str(&text).unwrap());
        }
    }
    out
}

/// The fixture school of `tests/fixtures/dnevnik/school`.
pub fn fixture_school() -> Data {
    load(&repo("tests/fixtures/dnevnik/school"))
}

/// The fixture school as the second night sees it: `night2/` over `school/`.
pub fn fixture_night_two() -> Data {
    let mut data = fixture_school();
    data.extend(load(&repo("tests/fixtures/dnevnik/night2")));
    data
}

/// How the peer misbehaves.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    /// It answers as the API does.
    #[default]
    None,
    /// The first N requests get 500 `apiServerError`.
    ServerErrors(usize),
    /// The first N requests get 429, with `Retry-After: 0`.
    TooMany(usize),
    /// Requests whose path contains this never get an answer.
    Silence(String),
    /// Every request gets the HTML outage page, 503.
    Outage,
    /// Requests whose path contains this get broken JSON, 200.
    Malformed(String),
}

struct Shared {
    data: Mutex<Data>,
    fault: Mutex<Fault>,
    token: String,
    /// Every request's path and query, in order of arrival.
    log: Mutex<Vec<String>>,
    count: AtomicUsize,
    latency: Mutex<Duration>,
}

/// The peer: a server on 127.0.0.1, stopped when dropped.
pub struct Peer {
    /// The API's root, for `[dnevnik] base_url`.
    pub base_url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Peer {
    /// Serves `data`, accepting only [`TOKEN`].
    pub fn start(data: Data) -> Peer {
        let shared = Arc::new(Shared {
            data: Mutex::new(data),
            fault: Mutex::new(Fault::None),
            token: TOKEN.to_owned(),
            log: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            latency: Mutex::new(Duration::ZERO),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(state);
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Silent requests are still asleep: do not wait for them.
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        Peer {
            base_url: format!("http://{addr}/v2/"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// From now on, misbehave so.
    pub fn fault(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
    }

    /// From now on, serve `data`.
    pub fn serve(&self, data: Data) {
        *self.shared.data.lock().unwrap() = data;
    }

    /// Waits this long before every answer (as a distant server would).
    pub fn latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Requests so far.
    pub fn requests(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// The paths (with queries) asked for so far, and forgets them and the count.
    pub fn take_log(&self) -> Vec<String> {
        self.shared.count.store(0, Ordering::SeqCst);
        std::mem::take(&mut *self.shared.log.lock().unwrap())
    }

    /// A `tabel.toml` for this peer, with short waits; `extra` lines go into `[dnevnik]`.
    pub fn config(&self, extra: &str) -> String {
        format!(
            "[dnevnik]\nbase_url = \"{}\"\ntimeout_seconds = 5\nretries = 4\nretry_seconds = 0.02\nretry_ceiling_seconds = 0.2\nrequests_in_flight = 4\n{extra}\n",
            self.base_url
        )
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reply(status: StatusCode, kind: &str, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(body))
        .unwrap()
}

fn json_reply(status: StatusCode, v: &Value) -> Response<Body> {
    reply(
        status,
        "application/json; charset=utf-8",
        serde_json::to_vec(v).unwrap(),
    )
}

fn recorded(name: &str) -> Vec<u8> {
    std::fs::read(repo(&format!("tests/fixtures/dnevnik/errors/{name}"))).unwrap()
}

async fn handle(State(peer): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let n = peer.count.fetch_add(1, Ordering::SeqCst);
    let uri = req.uri().clone();
    let full = uri
        .path_and_query()
        .map_or(uri.path().to_owned(), |p| p.as_str().to_owned());
    peer.log.lock().unwrap().push(full.clone());
    let latency = *peer.latency.lock().unwrap();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let token = req
        .headers()
        .get("access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token != peer.token {
        return reply(
            StatusCode::UNAUTHORIZED,
            "application/json; charset=utf-8",
            recorded("authorization-failed.json"),
        );
    }
    let fault = peer.fault.lock().unwrap().clone();
    match fault {
        Fault::None => {}
        Fault::ServerErrors(k) if n < k => {
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json; charset=utf-8",
                recorded("api-server-error.json"),
            );
        }
        Fault::TooMany(k) if n < k => {
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header(header::RETRY_AFTER, "0")
                .body(Body::empty())
                .unwrap();
        }
        Fault::Silence(what) if full.contains(&what) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Fault::Outage => {
            return reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/html; charset=utf-8",
                recorded("outage.html"),
            );
        }
        Fault::Malformed(what) if full.contains(&what) => {
            return reply(
                StatusCode::OK,
                "application/json; charset=utf-8",
                recorded("malformed.json"),
            );
        }
        _ => {}
    }
    let data = peer.data.lock().unwrap();
    match answer(&data, uri.path(), uri.query().unwrap_or("")) {
        Some(v) => json_reply(StatusCode::OK, &v),
        None => json_reply(
            StatusCode::NOT_FOUND,
            &json!({"type": "resourceNotFound", "description": format!("{} не найден", uri.path())}),
        ),
    }
}

/// The day of a date or date-time in a path or a query (`2026-09-01`,
/// `2026-09-01T00:00:00`, `2026-09-01%2000:00:00`).
fn day(text: &str) -> Option<String> {
    let t = text.get(..10)?;
    tabel::gradebook::Date::parse_iso(t).map(|d| d.to_string())
}

fn day_of(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .and_then(day)
        .unwrap_or_default()
}

/// An id field of an item, string twin first.
fn id_of(v: &Value, field: &str) -> String {
    for f in [format!("{field}_str"), format!("{field}Str")] {
        if let Some(s) = v.get(&f).and_then(Value::as_str) {
            return s.to_owned();
        }
    }
    v.get(field).map(|x| x.to_string()).unwrap_or_default()
}

fn within(list: Option<&Value>, field: &str, from: &str, to: &str) -> Value {
    let items = list.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        items
            .into_iter()
            .filter(|x| {
                let d = day_of(x, field);
                from <= d.as_str() && d.as_str() <= to
            })
            .collect(),
    )
}

/// The answer to `GET /v2/{path}?{query}`, or `None` for 404.
fn answer(data: &Data, path: &str, query: &str) -> Option<Value> {
    let school = data
        .get("schools.json")
        .map(|s| id_of(s, "id"))
        .unwrap_or_default();
    let rest = path.strip_prefix("/v2/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let file = |name: String| data.get(&name).cloned();
    match parts.as_slice() {
        ["schools", s] if *s == school => file("schools.json".into()),
        ["schools", s, "edu-groups"] if *s == school => file("edu-groups.json".into()),
        ["schools", s, "teachers"] if *s == school => file("teachers.json".into()),
        ["work-types", s] if *s == school => file("work-types.json".into()),
        ["edu-groups", g] => file(format!("groups/{g}/group.json")),
        ["edu-groups", g, what] => file(format!("groups/{g}/{what}.json")),
        ["edu-groups", g, "lessons", from, to] => {
            let list = data.get(&format!("groups/{g}/lessons.json"))?;
            Some(within(Some(list), "date", &day(from)?, &day(to)?))
        }
        ["edu-groups", g, "marks", from, to] => {
            let list = data.get(&format!("groups/{g}/marks.json"))?;
            Some(within(Some(list), "date", &day(from)?, &day(to)?))
        }
        ["lesson-log-entries", "group", g] => {
            let q: HashMap<String, String> = serde_urlencoded::from_str(query).ok()?;
            let (subject, from, to) = (q.get("subject")?, day(q.get("from")?)?, day(q.get("to")?)?);
            let lessons = data.get(&format!("groups/{g}/lessons.json"))?.as_array()?;
            let ids: BTreeSet<String> = lessons
                .iter()
                .filter(|l| l.get("subject").is_some_and(|s| id_of(s, "id") == *subject))
                .filter(|l| {
                    let d = day_of(l, "date");
                    from <= d && d <= to
                })
                .map(|l| id_of(l, "id"))
                .collect();
            let entries = data
                .get(&format!("groups/{g}/log-entries.json"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            Some(Value::Array(
                entries
                    .into_iter()
                    .filter(|e| ids.contains(&id_of(e, "lesson")))
                    .collect(),
            ))
        }
        ["users", u, "relatives"] => {
            Some(file(format!("users/{u}/relatives.json")).unwrap_or(json!([])))
        }
        _ => None,
    }
}

/// A group's final marks: (student, period or `None` for the year) → per subject.
type FinalsOfGroup = BTreeMap<(i64, Option<i64>), Vec<Value>>;

/// A school in the API's shapes generated from a demo school's snapshot
/// (about 800 students with `tabel demo`'s defaults), for the figures: the
/// same endpoints and shapes as the fixture school, at the demo's size.
pub fn from_snapshot(s: &tabel::gradebook::Snapshot) -> Data {
    use chrono::Datelike;
    use tabel::gradebook::{Category, LegendDomain, PeriodKind};
    let mut d = Data::new();
    let year = s.year.starts_on.0.year();
    let class_id = |id: i64| 1000003000000 + id;
    let group_id = |id: i64| 1000003500000 + id;
    let student_id = |id: i64| 1000004000000 + id;
    let staff_id = |id: i64| 1000004500000 + id;
    let guardian_id = |id: i64| 1000004800000 + id;
    let user_of = |person: i64| person + 2_000_000;
    let subject_id = |id: i64| 1000007000000 + id;
    let lesson_id = |id: i64| 1000005000000 + id;
    let mark_id = |id: i64| 1000013000000 + id;
    let kind_id = |id: i64| 1000008000000 + id;
    let period_id = |id: i64| 1000009000000 + id;
    let person = |id: i64, n: &tabel::gradebook::FullName, sex: Option<&str>| {
        json!({"id": id, "id_str": id.to_string(), "userId": user_of(id), "userId_str": user_of(id).to_string(),
               "firstName": n.given_name, "lastName": n.family_name, "middleName": n.patronymic,
               "shortName": n.short(), "sex": match sex { Some("m") => "Male", Some("f") => "Female", _ => "" }})
    };
    let subject = |id: i64| {
        let x = s.subjects.iter().find(|x| x.id == id).unwrap();
        json!({"id": subject_id(id), "idStr": subject_id(id).to_string(), "name": x.name})
    };
    d.insert(
        "schools.json".into(),
        json!({"id": SCHOOL.parse::<i64>().unwrap(), "id_str": SCHOOL, "name": s.school.short_name,
               "fullName": s.school.name, "city": s.school.address}),
    );
    d.insert(
        "teachers.json".into(),
        Value::Array(
            s.staff
                .iter()
                .map(|x| {
                    let managing = if x.roles.iter().any(|r| r == "director") {
                        Some("Директор")
                    } else if x.roles.iter().any(|r| r == "deputy") {
                        Some("Заместитель директора по УВР")
                    } else {
                        None
                    };
                    json!({"Id": staff_id(x.id), "IdStr": staff_id(x.id).to_string(),
                           "FirstName": x.name.given_name, "LastName": x.name.family_name,
                           "MiddleName": x.name.patronymic, "Email": x.email,
                           "TeachingStaff": x.roles.iter().any(|r| r == "teacher"),
                           "NameTeacherPosition": x.position,
                           "ManagingEmployee": managing.is_some(), "NameManagingPosition": managing})
                })
                .collect(),
        ),
    );
    d.insert(
        "work-types.json".into(),
        Value::Array(
            s.work_kinds
                .iter()
                .map(|k| json!({"id": kind_id(k.id), "title": k.title, "abbr": k.code, "kind": k.title_en, "weight": k.weight}))
                .collect(),
        ),
    );
    let mut list = Vec::new();
    let mut subjects_of: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for l in &s.lessons {
        let g = l
            .class_id
            .map(class_id)
            .or(l.group_id.map(group_id))
            .unwrap();
        subjects_of.entry(g).or_default().insert(l.subject_id);
    }
    for g in &s.groups {
        if let (Some(c), Some(sub)) = (g.class_id, g.subject_id) {
            subjects_of.entry(class_id(c)).or_default().insert(sub);
        }
    }
    for c in &s.classes {
        let id = class_id(c.id);
        list.push(
            json!({"id": id, "id_str": id.to_string(), "name": c.title, "fullName": c.title,
                         "parallel": c.grade, "studyyear": year, "status": "Active"}),
        );
        d.insert(
            format!("groups/{id}/group.json"),
            json!({"id": id, "id_str": id.to_string(), "name": c.title, "fullName": c.title, "parallel": c.grade,
                   "type": "Group", "parentIds": null, "studyyear": year}),
        );
        let persons: Vec<Value> = s
            .students
            .iter()
            .filter(|st| st.class_id == Some(c.id))
            .map(|st| person(student_id(st.id), &st.name, st.sex.as_deref()))
            .collect();
        d.insert(format!("groups/{id}/persons.json"), Value::Array(persons));
        let (kind, word) = match c.term_kind {
            PeriodKind::Half => (PeriodKind::Half, "Semester"),
            PeriodKind::Trimester => (PeriodKind::Trimester, "Trimester"),
            _ => (PeriodKind::Quarter, "Quarter"),
        };
        let periods: Vec<Value> = s
            .periods
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| json!({"id": period_id(p.id), "id_str": period_id(p.id).to_string(),
                            "start": format!("{}T00:00:00", p.starts_on), "finish": format!("{}T00:00:00", p.ends_on),
                            "number": p.number - 1, "type": word, "name": p.title, "year": year}))
            .collect();
        d.insert(
            format!("groups/{id}/reporting-periods.json"),
            Value::Array(periods),
        );
        if let Some(t) = c
            .class_teacher_id
            .and_then(|t| s.staff.iter().find(|x| x.id == t))
        {
            d.insert(
                format!("groups/{id}/classteacher.json"),
                person(staff_id(t.id), &t.name, None),
            );
        }
    }
    for g in &s.groups {
        let id = group_id(g.id);
        list.push(json!({"id": id, "id_str": id.to_string(), "name": g.title, "fullName": g.title, "studyyear": year}));
        d.insert(
            format!("groups/{id}/group.json"),
            json!({"id": id, "id_str": id.to_string(), "name": g.title, "fullName": g.title, "type": "Subgroup",
                   "parentIds": g.class_id.map(|c| vec![class_id(c)]).unwrap_or_default(),
                   "parentIds_str": g.class_id.map(|c| vec![class_id(c).to_string()]).unwrap_or_default(),
                   "studyyear": year}),
        );
        let persons: Vec<Value> = g
            .members
            .iter()
            .filter_map(|m| s.students.iter().find(|st| st.id == *m))
            .map(|st| person(student_id(st.id), &st.name, st.sex.as_deref()))
            .collect();
        d.insert(format!("groups/{id}/persons.json"), Value::Array(persons));
        if let Some(sub) = g.subject_id {
            subjects_of.entry(id).or_default().insert(sub);
        }
    }
    d.insert("edu-groups.json".into(), Value::Array(list));
    let groups: Vec<i64> = s
        .classes
        .iter()
        .map(|c| class_id(c.id))
        .chain(s.groups.iter().map(|g| group_id(g.id)))
        .collect();
    for g in &groups {
        let subs: Vec<Value> = subjects_of
            .get(g)
            .into_iter()
            .flatten()
            .map(|x| subject(*x))
            .collect();
        d.insert(format!("groups/{g}/subjects.json"), Value::Array(subs));
    }
    let mut lessons: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let mut group_of_lesson: HashMap<i64, i64> = HashMap::new();
    let first_kind = s.work_kinds.first().map(|k| kind_id(k.id));
    for l in &s.lessons {
        let g = l
            .class_id
            .map(class_id)
            .or(l.group_id.map(group_id))
            .unwrap();
        group_of_lesson.insert(l.id, g);
        let id = lesson_id(l.id);
        let mut works = vec![
            json!({"id": 1000010000000i64 + l.id, "id_str": (1000010000000i64 + l.id).to_string(),
                                    "type": "DefaultNewLessonWork", "workType": first_kind, "lesson": id,
                                    "lesson_str": id.to_string(), "text": null, "subjectId": subject_id(l.subject_id)}),
        ];
        if let Some(h) = &l.homework {
            works.push(json!({"id": 1000012000000i64 + l.id, "id_str": (1000012000000i64 + l.id).to_string(),
                              "type": "Homework", "lesson": id, "lesson_str": id.to_string(), "text": h,
                              "subjectId": subject_id(l.subject_id)}));
        }
        lessons.entry(g).or_default().push(json!({
            "id": id, "id_str": id.to_string(), "title": l.topic, "date": format!("{}T08:30:00", l.date),
            "number": l.slot, "subject": subject(l.subject_id), "group": g, "works": works,
            "teachers": l.teacher_id.map(|t| vec![staff_id(t)]).unwrap_or_default(), "status": "Conducted"}));
    }
    let category = |domain: LegendDomain, code: &str| {
        s.legend
            .iter()
            .find(|e| e.domain == domain && e.code == code)
            .map(|e| e.category)
    };
    let mut marks: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for m in &s.marks {
        let student = s.students.iter().find(|x| x.id == m.student_id).unwrap();
        let Some(g) = m
            .lesson_id
            .and_then(|l| group_of_lesson.get(&l).copied())
            .or(student.class_id.map(class_id))
        else {
            continue;
        };
        let graded = category(LegendDomain::Mark, &m.value) == Some(Category::Grade);
        let id = mark_id(m.id);
        marks.entry(g).or_default().push(json!({
            "id": id, "id_str": id.to_string(), "type": "mark5",
            "value": if graded { Value::from(m.value.clone()) } else { Value::Null }, "textValue": m.value,
            "person": student_id(m.student_id), "person_str": student_id(m.student_id).to_string(),
            "work": m.lesson_id.map(|l| 1000010000000i64 + l), "lesson": m.lesson_id.map(lesson_id),
            "lesson_str": m.lesson_id.map(|l| lesson_id(l).to_string()),
            "date": format!("{}T10:00:00", m.date), "workType": m.work_kind_id.map(kind_id), "mood": "NotSet"}));
    }
    let mut logs: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for a in &s.attendance {
        let Some(&g) = group_of_lesson.get(&a.lesson_id) else {
            continue;
        };
        let status = match category(LegendDomain::Attendance, &a.code) {
            Some(Category::Ill) => "Ill",
            Some(Category::Late) => "Late",
            Some(Category::Excused) => "Pass",
            _ => "Absent",
        };
        logs.entry(g).or_default().push(json!({
            "person": student_id(a.student_id), "person_str": student_id(a.student_id).to_string(),
            "lesson": lesson_id(a.lesson_id), "lesson_str": lesson_id(a.lesson_id).to_string(), "status": status}));
    }
    let mut finals: BTreeMap<i64, FinalsOfGroup> = BTreeMap::new();
    for p in &s.period_marks {
        let student = s.students.iter().find(|x| x.id == p.student_id).unwrap();
        let period = s.periods.iter().find(|x| x.id == p.period_id).unwrap();
        let rp = match period.kind {
            PeriodKind::Year => None,
            k if k.is_term() => Some(period_id(period.id)),
            _ => continue,
        };
        let Some(c) = student.class_id else { continue };
        let graded = category(LegendDomain::Mark, &p.value) == Some(Category::Grade);
        finals.entry(class_id(c)).or_default().entry((p.student_id, rp)).or_default().push(json!({
            "subject": subject_id(p.subject_id), "subject_str": subject_id(p.subject_id).to_string(),
            "final-mark": {"id": mark_id(1_000_000 + p.id), "value": if graded { Value::from(p.value.clone()) } else { Value::Null },
                           "textValue": p.value, "person": student_id(p.student_id)}}));
    }
    for g in &groups {
        d.insert(
            format!("groups/{g}/lessons.json"),
            Value::Array(lessons.remove(g).unwrap_or_default()),
        );
        d.insert(
            format!("groups/{g}/marks.json"),
            Value::Array(marks.remove(g).unwrap_or_default()),
        );
        d.insert(
            format!("groups/{g}/log-entries.json"),
            Value::Array(logs.remove(g).unwrap_or_default()),
        );
        let f: Vec<Value> = finals
            .remove(g)
            .unwrap_or_default()
            .into_iter()
            .map(|((st, rp), per)| {
                json!({"person": student_id(st), "person_str": student_id(st).to_string(),
                                          "group": g, "reportingPeriod": rp,
                                          "reportingPeriod_str": rp.map(|r| r.to_string()),
                                          "per-subject-final-marks": per})
            })
            .collect();
        d.insert(format!("groups/{g}/final-marks.json"), Value::Array(f));
    }
    let mut relatives: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for l in &s.guardian_links {
        let g = s.guardians.iter().find(|x| x.id == l.guardian_id).unwrap();
        let (kind, sex) = match l.relation.as_str() {
            "mother" => ("Parent", Some("f")),
            "father" => ("Parent", Some("m")),
            "guardian" => ("Guardian", None),
            _ => ("Other", None),
        };
        relatives
            .entry(user_of(student_id(l.student_id)))
            .or_default()
            .push(json!({"type": kind, "person": person(guardian_id(g.id), &g.name, sex)}));
    }
    for (u, r) in relatives {
        d.insert(format!("users/{u}/relatives.json"), Value::Array(r));
    }
    d
}
