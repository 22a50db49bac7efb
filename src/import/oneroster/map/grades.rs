//! Categories, line items and results: kinds of work, marks, period marks.

use std::collections::HashMap;

use super::{LineItem, Mapper, PeriodOf, at, class_info, date_part, rows, score_code, year_of};

impl Mapper<'_> {
    /// Work kinds from categories; marks and period marks from results.
    pub(super) fn gradebook(&mut self) {
        let Mapper {
            set,
            known,
            plan,
            schools,
            sessions,
            classes,
            teacher_of,
            categories,
            ..
        } = self;
        let (set, known, categories) = (*set, *known, *categories);
        let class_info = |id: &str| class_info(classes, known, id);
        let year_of = |sid: &str| year_of(sessions, sid);
        // Categories: work kinds, or period categories.
        let mut period_cats: HashMap<String, PeriodOf> = HashMap::new();
        if let Some((f, rs)) = rows(set, "categories") {
            for (line, r) in rs {
                let a = |c| at(f.name, *line, c);
                let id = f.get(r, "sourcedId");
                let title = f.get(r, "title");
                if let Some((_, kind)) = categories
                    .iter()
                    .find(|(t, _)| t.to_lowercase() == title.to_lowercase())
                {
                    period_cats.insert(id.to_owned(), *kind);
                    continue;
                }
                for school in schools.iter() {
                    if f.deleted(r) {
                        plan.delete("work_kind", school, &[id], a("sourcedId"));
                        continue;
                    }
                    plan.set("work_kind", school, id, "code", id, a("sourcedId"));
                    plan.set("work_kind", school, id, "title", title, a("title"));
                    plan.set("work_kind", school, id, "title_en", title, a("title"));
                    let weight = f.get(r, "weight");
                    plan.set(
                        "work_kind",
                        school,
                        id,
                        "weight",
                        if weight.is_empty() { "1" } else { weight },
                        a("weight"),
                    );
                }
            }
        }

        // Line items and results: marks and period marks.
        let mut items: HashMap<String, LineItem> = HashMap::new();
        if let Some((f, rs)) = rows(set, "lineItems") {
            for (line, r) in rs {
                if f.deleted(r) {
                    plan.warnings.push(format!("{}:{line}: a deleted lineItem removes nothing by itself; send its results as tobedeleted", f.name));
                    continue;
                }
                let session = if f.has("academicSessionSourcedId")
                    && !f.get(r, "academicSessionSourcedId").is_empty()
                {
                    f.get(r, "academicSessionSourcedId")
                } else {
                    f.get(r, "gradingPeriodSourcedId")
                };
                items.insert(
                    f.get(r, "sourcedId").to_owned(),
                    LineItem {
                        class: f.get(r, "classSourcedId").to_owned(),
                        category: f.get(r, "categorySourcedId").to_owned(),
                        session: session.to_owned(),
                        title: f.get(r, "title").to_owned(),
                        date: date_part(f.get(r, "dueDate"))
                            .or_else(|| date_part(f.get(r, "assignDate"))),
                        line: *line,
                    },
                );
            }
        }
        let mut skipped = 0;
        if let Some((f, rs)) = rows(set, "results") {
            for (line, r) in rs {
                let a = |c| at(f.name, *line, c);
                let id = f.get(r, "sourcedId");
                let li_id = f.get(r, "lineItemSourcedId");
                let Some(li) = items.get(li_id) else {
                    plan.problem(
                        f.name,
                        *line,
                        "lineItemSourcedId",
                        li_id,
                        "is not a lineItem of lineItems.csv".into(),
                    );
                    continue;
                };
                let li_at = |c| at("lineItems.csv", li.line, c);
                let Some(info) = class_info(&li.class) else {
                    plan.problem(
                        "lineItems.csv",
                        li.line,
                        "classSourcedId",
                        &li.class,
                        "is not a class of classes.csv nor of the database".into(),
                    );
                    continue;
                };
                let school = info.school.clone();
                if f.deleted(r) {
                    plan.delete("mark", &school, &[id], a("sourcedId"));
                    plan.delete("period_mark", &school, &[id], a("sourcedId"));
                    continue;
                }
                if info.homeroom || info.course.is_empty() {
                    plan.problem(
                        "lineItems.csv",
                        li.line,
                        "classSourcedId",
                        &li.class,
                        "is a homeroom; marks need a scheduled class, whose course is the subject"
                            .into(),
                    );
                    continue;
                }
                let text = f.get(r, "textScore");
                let value = if text.is_empty() {
                    score_code(f.get(r, "score"))
                } else {
                    text.to_owned()
                };
                let value_col = if text.is_empty() {
                    "score"
                } else {
                    "textScore"
                };
                if value.is_empty() {
                    skipped += 1;
                    continue;
                }
                let student = f.get(r, "studentSourcedId");
                if let Some(kind) = period_cats.get(&li.category) {
                    let Some(year) = year_of(&li.session) else {
                        plan.problem("lineItems.csv", li.line, "gradingPeriodSourcedId", &li.session, "a period mark needs the line item's academic session (a term or school year of academicSessions.csv)".into());
                        continue;
                    };
                    let period = match kind {
                        PeriodOf::Session => li.session.clone(),
                        PeriodOf::Year => year.clone(),
                        PeriodOf::Exam | PeriodOf::Final => {
                            let (suffix, kind, title) = if *kind == PeriodOf::Exam {
                                ("exam", "exam", "Экзамен")
                            } else {
                                ("final", "final", "Итоговая")
                            };
                            let pid = format!("{year}-{suffix}");
                            let y = &sessions[&year];
                            let t = "reporting_period";
                            let from = li_at("categorySourcedId");
                            plan.set(t, &school, &pid, "external_id", &pid, from);
                            plan.set(t, &school, &pid, "school_year", &year, from);
                            plan.set(t, &school, &pid, "kind", kind, from);
                            plan.set(t, &school, &pid, "number", "1", from);
                            plan.set(t, &school, &pid, "title", title, from);
                            plan.set(t, &school, &pid, "starts_on", &y.start, from);
                            plan.set(t, &school, &pid, "ends_on", &y.end, from);
                            pid
                        }
                    };
                    let t = "period_mark";
                    plan.set(t, &school, id, "external_id", id, a("sourcedId"));
                    plan.set(t, &school, id, "student", student, a("studentSourcedId"));
                    plan.set(
                        t,
                        &school,
                        id,
                        "subject",
                        &info.course,
                        li_at("classSourcedId"),
                    );
                    plan.set(
                        t,
                        &school,
                        id,
                        "period",
                        &period,
                        li_at("gradingPeriodSourcedId"),
                    );
                    plan.set(t, &school, id, "value", &value, a(value_col));
                    continue;
                }
                let Some(date) = date_part(f.get(r, "scoreDate")).or_else(|| li.date.clone())
                else {
                    plan.problem(
                        f.name,
                        *line,
                        "scoreDate",
                        f.get(r, "scoreDate"),
                        "is not a date, and the lineItem has no dueDate or assignDate".into(),
                    );
                    continue;
                };
                let t = "mark";
                plan.set(t, &school, id, "external_id", id, a("sourcedId"));
                plan.set(t, &school, id, "student", student, a("studentSourcedId"));
                plan.set(
                    t,
                    &school,
                    id,
                    "subject",
                    &info.course,
                    li_at("classSourcedId"),
                );
                plan.set(t, &school, id, "lesson", "", a("lineItemSourcedId"));
                plan.set(t, &school, id, "date", &date, a("scoreDate"));
                let teacher = teacher_of
                    .get(&li.class)
                    .map(|(_, t)| t.as_str())
                    .unwrap_or("");
                plan.set(t, &school, id, "teacher", teacher, li_at("classSourcedId"));
                plan.set(
                    t,
                    &school,
                    id,
                    "work_kind",
                    &li.category,
                    li_at("categorySourcedId"),
                );
                plan.set(t, &school, id, "work_title", &li.title, li_at("title"));
                plan.set(t, &school, id, "value", &value, a(value_col));
                plan.set(t, &school, id, "weight", "", a("score"));
                plan.set(t, &school, id, "comment", f.get(r, "comment"), a("comment"));
            }
        }
        if skipped > 0 {
            plan.warnings.push(format!(
                "results.csv: {skipped} result(s) without a score or textScore; skipped"
            ));
        }
    }
}
