//! Checking one row: cells by type, references, legend codes, keys and
//! duplicates; then staging it for the next statement.

use std::collections::HashMap;

use anyhow::{Context, Result};

use super::{
    BATCH, Engine, Entry, Origin, SEP, SchoolState, hash128, key_text, new_url_key, null_of,
    origin_is_standard, what,
};
use crate::gradebook::bulk::Val;
use crate::import::source::{parse_date, parse_real};
use crate::import::spec::{self, Kind, TableSpec, Ty};

impl Engine {
    /// Checks one row of the current table and stages it for writing.
    ///
    /// `fields` holds one text per spec column; an empty text is an empty cell.
    pub async fn row(&mut self, fields: &[&str], origin: &Origin<'_>) -> Result<()> {
        let spec = self
            .current
            .as_ref()
            .map(|c| c.spec)
            .context("no table started")?;
        if let Some(cur) = self.current.as_mut() {
            cur.count.read += 1;
        }
        let school_ext = fields[0];
        if spec.is_school() {
            return self.school_row(spec, fields, origin).await;
        }
        if !self.schools.contains_key(school_ext) {
            let msg = if school_ext.is_empty() {
                "is empty; expected a school's external_id".into()
            } else {
                "is not a school of schools.csv nor of the database".into()
            };
            self.problem_at(origin.at(spec, 0), Some(school_ext), msg);
            return Ok(());
        }
        // Load what this row may refer to before borrowing the school
        // (once per school and table).
        let ready = self
            .current
            .as_ref()
            .is_some_and(|c| c.ready.contains(school_ext));
        for col in spec.cols.iter().skip(1).filter(|_| !ready) {
            match col.ty {
                Ty::Ref(target) => self.ensure_map(school_ext, target).await?,
                Ty::Code(_) => self.ensure_legend(school_ext).await?,
                Ty::UrlKey => self.ensure_url_keys().await?,
                _ => {}
            }
        }
        if !ready {
            if spec.kind != Kind::Bulk {
                self.ensure_map(school_ext, spec.table).await?;
            }
            if spec.table == "legend_entry" {
                self.ensure_legend(school_ext).await?;
            }
            if let Some(cur) = self.current.as_mut() {
                cur.ready.insert(school_ext.to_owned());
            }
        }
        let school_id = self.schools.get(school_ext).map_or(0, |s| s.id);
        let mut vals: Vec<Val> = Vec::with_capacity(spec.cols.len() + 1);
        vals.push(Val::Int(school_id));
        let mut bad = false;
        // Columns with a problem, as bits (tables have fewer than 64 columns).
        let mut col_bad: u64 = 0;
        let mut url_key_col = None;
        for (i, col) in spec.cols.iter().enumerate().skip(1) {
            let text = fields[i];
            match self.value(school_ext, col.ty, col.optional, text) {
                Ok(Some(v)) => vals.push(v),
                Ok(None) => vals.push(null_of(col.ty)),
                Err(message) => {
                    bad = true;
                    col_bad |= 1 << i;
                    self.problem_at(origin.at(spec, i), Some(text), message);
                    vals.push(null_of(col.ty));
                }
            }
            if col.ty == Ty::UrlKey {
                url_key_col = Some(i);
            }
        }
        // vals[i] holds column i (column 0 is the school).
        let mut key_buf = [0usize; 4];
        let mut nk = 0;
        for &i in self.current.as_ref().map_or(&[][..], |c| &c.key_idx[..]) {
            key_buf[nk] = i;
            nk += 1;
        }
        let key_idx = &key_buf[..nk];
        let key_ok = key_idx.iter().all(|&i| {
            col_bad & (1 << i) == 0
                && (spec.cols[i].optional
                    || !matches!(vals[i], Val::NullText | Val::NullInt | Val::NullReal))
        });
        if !bad && let Some((col, msg)) = check_row(spec, &vals) {
            bad = true;
            let i = spec.col(col).unwrap_or(0);
            self.problem_at(origin.at(spec, i), Some(fields[i]), msg);
        }
        if !key_ok {
            return Ok(());
        }
        let key = match key_idx {
            [i] => key_text(&vals[*i]),
            _ => key_idx
                .iter()
                .map(|&i| key_text(&vals[i]))
                .collect::<Vec<_>>()
                .join(&SEP.to_string()),
        };
        let first_key_at = origin.at(spec, key_idx[0]);
        let key_shown = || {
            key_idx
                .iter()
                .map(|&i| fields[i])
                .collect::<Vec<_>>()
                .join(", ")
        };
        // Unique keys besides the row's own.
        if let Some((cols, label)) = match spec.table {
            "reporting_period" => Some((
                &["school_year", "kind", "number"][..],
                "this kind and number",
            )),
            "period_mark" => Some((
                &["student", "subject", "period"][..],
                "this student, subject and period",
            )),
            _ => None,
        } {
            let other: Vec<String> = cols
                .iter()
                .filter_map(|c| spec.col(c))
                .map(|i| key_text(&vals[i]))
                .collect();
            let fresh = self
                .schools
                .get_mut(school_ext)
                .map(|s| {
                    s.unique
                        .entry(spec.table)
                        .or_default()
                        .insert(other.join("\u{1f}"))
                })
                .unwrap_or(true);
            if !fresh {
                bad = true;
                let i = spec.col(cols[0]).unwrap_or(0);
                self.problem_at(
                    origin.at(spec, i),
                    Some(fields[i]),
                    format!("another row of this file already has {label}"),
                );
            }
        }
        let mut id = None;
        let mut existed = false;
        match spec.kind {
            Kind::Mapped => {
                let known = self
                    .schools
                    .get(school_ext)
                    .and_then(|s| s.maps.get(spec.table))
                    .and_then(|m| m.get(&key))
                    .cloned();
                match known {
                    Some(e) if e.seen => {
                        self.problem_at(
                            first_key_at,
                            Some(&key_shown()),
                            "appears twice in the input (ids must be unique)".into(),
                        );
                        return Ok(());
                    }
                    found => {
                        let mut e = match found {
                            Some(e) => {
                                existed = true;
                                e
                            }
                            None => Entry {
                                id: self.next_id(spec.table).await?,
                                ..Entry::default()
                            },
                        };
                        id = Some(e.id);
                        e.seen = true;
                        if url_key_col.is_some() {
                            self.url_key(
                                spec,
                                school_id,
                                fields,
                                &mut vals,
                                &mut e,
                                url_key_col,
                                origin,
                            );
                        }
                        if spec.table == "work_kind"
                            && let Some(Val::Real(w)) = vals.get(4)
                        {
                            e.weight = *w;
                        }
                        self.put(school_ext, spec.table, key, e);
                    }
                }
            }
            Kind::Link => {
                let known = self
                    .schools
                    .get(school_ext)
                    .and_then(|s| s.maps.get(spec.table))
                    .and_then(|m| m.get(&key))
                    .cloned();
                match known {
                    Some(e) if e.seen => {
                        self.problem_at(
                            first_key_at,
                            Some(&key_shown()),
                            "this pair appears twice in the input".into(),
                        );
                        return Ok(());
                    }
                    Some(_) => existed = true,
                    None => {}
                }
                self.put(
                    school_ext,
                    spec.table,
                    key,
                    Entry {
                        seen: true,
                        ..Entry::default()
                    },
                );
            }
            Kind::Bulk => {
                let h = hash128(&key, school_id);
                let fresh = self
                    .schools
                    .get_mut(school_ext)
                    .map(|s| s.bulk_seen.entry(spec.table).or_default().insert(h))
                    .unwrap_or(true);
                if !fresh {
                    self.problem_at(
                        first_key_at,
                        Some(&key_shown()),
                        "appears twice in the input (ids must be unique)".into(),
                    );
                    return Ok(());
                }
            }
        }
        if spec.table == "legend_entry"
            && !bad
            && let Some(s) = self.schools.get_mut(school_ext)
        {
            s.legend_given |= !origin_is_standard(origin);
            let code = fields[2].to_owned();
            let (marks, attendance) = s.legend.get_or_insert_with(Default::default);
            let list = if fields[1] == "mark" {
                marks
            } else {
                attendance
            };
            if !list.contains(&code) {
                list.push(code);
            }
        }
        if spec.table == "mark" && matches!(vals[10], Val::NullReal) {
            // An empty weight: the work kind's, else 1.
            let weight = match (&vals[7], fields[7]) {
                (Val::Int(_), code) => self
                    .schools
                    .get(school_ext)
                    .and_then(|s| s.maps.get("work_kind"))
                    .and_then(|m| m.get(code))
                    .map_or(1.0, |e| e.weight),
                _ => 1.0,
            };
            vals[10] = Val::Real(weight);
        }
        if bad || self.has_problems() {
            return Ok(());
        }
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        if !existed && spec.kind != Kind::Bulk {
            cur.new_rows += 1;
        }
        match id {
            Some(id) => cur.rows.push(std::iter::once(Val::Int(id)).chain(vals)),
            None => cur.rows.push(vals),
        }
        if cur.rows.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub(super) fn put(&mut self, school: &str, table: &'static str, key: String, entry: Entry) {
        if let Some(s) = self.schools.get_mut(school) {
            s.maps.entry(table).or_default().insert(key, entry);
        }
    }

    /// Sets the URL key of a class or student: the given one (if no other
    /// row has it), the one it had, or a new random one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn url_key(
        &mut self,
        spec: &'static TableSpec,
        school_id: i64,
        fields: &[&str],
        vals: &mut [Val],
        entry: &mut Entry,
        col: Option<usize>,
        origin: &Origin<'_>,
    ) {
        let Some(i) = col else { return };
        let ext = fields[spec.col("external_id").unwrap_or(1)].to_owned();
        let given = fields[i];
        let key = if given.is_empty() {
            entry.url_key.clone().unwrap_or_else(new_url_key)
        } else {
            given.to_owned()
        };
        let owner = (spec.table, school_id, ext);
        if let Some(keys) = self.url_keys.as_mut() {
            match keys.get(&key) {
                Some(other) if *other != owner => {
                    let at = origin.at(spec, i);
                    self.problem_at(
                        at,
                        Some(given),
                        "is already the key of another class or student; keys must be unique"
                            .into(),
                    );
                    return;
                }
                _ => {
                    if let Some(old) = entry.url_key.as_ref().filter(|o| **o != key) {
                        keys.remove(old);
                    }
                    keys.insert(key.clone(), owner);
                }
            }
        }
        entry.url_key = Some(key.clone());
        vals[i] = Val::Text(key);
    }

    pub(super) async fn school_row(
        &mut self,
        spec: &'static TableSpec,
        fields: &[&str],
        origin: &Origin<'_>,
    ) -> Result<()> {
        let mut vals = Vec::with_capacity(spec.cols.len() + 1);
        let mut bad = false;
        for (i, col) in spec.cols.iter().enumerate() {
            match self.value("", col.ty, col.optional, fields[i]) {
                Ok(Some(v)) => vals.push(v),
                Ok(None) => vals.push(null_of(col.ty)),
                Err(message) => {
                    bad = true;
                    self.problem_at(origin.at(spec, i), Some(fields[i]), message);
                    vals.push(null_of(col.ty));
                }
            }
        }
        let ext = fields[0];
        if ext.is_empty() {
            return Ok(());
        }
        let (id, existed) = match self.schools.get_mut(ext) {
            Some(s) if s.maps.contains_key("school") => {
                self.problem_at(
                    origin.at(spec, 0),
                    Some(ext),
                    "appears twice in the input (ids must be unique)".into(),
                );
                return Ok(());
            }
            Some(s) => {
                // The school's own entry in `maps` marks it as seen.
                s.maps.insert("school", HashMap::new());
                (s.id, true)
            }
            None => {
                let id = self.next_id("school").await?;
                let mut maps = HashMap::new();
                maps.insert("school", HashMap::new());
                self.schools.insert(
                    ext.to_owned(),
                    SchoolState {
                        id,
                        new: true,
                        maps,
                        ..SchoolState::default()
                    },
                );
                (id, false)
            }
        };
        if bad || self.has_problems() {
            return Ok(());
        }
        if let Some(cur) = self.current.as_mut() {
            if !existed {
                cur.new_rows += 1;
            }
            cur.rows.push(std::iter::once(Val::Int(id)).chain(vals));
        }
        Ok(())
    }

    /// Reads one cell; `Ok(None)` for an empty optional cell.
    pub(super) fn value(
        &self,
        school: &str,
        ty: Ty,
        optional: bool,
        text: &str,
    ) -> Result<Option<Val>, String> {
        if text.is_empty() {
            return match ty {
                Ty::Flag if optional => Ok(Some(Val::Int(0))),
                Ty::Text if !optional => Ok(Some(Val::Text(String::new()))),
                _ if optional => Ok(None),
                _ => Err("is empty; a value is required".into()),
            };
        }
        Ok(Some(match ty {
            Ty::Id | Ty::Text => Val::Text(text.to_owned()),
            Ty::Int(lo, hi) => match text.parse::<i64>() {
                Ok(v) if (lo..=hi).contains(&v) => Val::Int(v),
                Ok(_) => {
                    return Err(format!(
                        "is out of range; expected a whole number from {lo} to {hi}"
                    ));
                }
                Err(_) => return Err(format!("is not a whole number; expected {lo}…{hi}")),
            },
            Ty::Real(positive) => match parse_real(text) {
                Some(v) if v > 0.0 || (!positive && v >= 0.0) => Val::Real(v),
                Some(_) if positive => return Err("must be above zero".into()),
                Some(_) => return Err("must not be negative".into()),
                None => return Err("is not a number".into()),
            },
            Ty::Flag => match text.to_lowercase().as_str() {
                "0" | "нет" | "false" | "no" => Val::Int(0),
                "1" | "да" | "true" | "yes" => Val::Int(1),
                _ => return Err("is not a flag; expected 0 or 1".into()),
            },
            // Most dates are ISO already: checked without chrono's parser.
            Ty::Date if iso_date(text) => Val::Text(text.to_owned()),
            Ty::Date => match parse_date(text) {
                Some(d) => Val::Text(d.to_string()),
                None => return Err("is not a date; expected YYYY-MM-DD or ДД.ММ.ГГГГ".into()),
            },
            Ty::Enum(words) => match words.iter().find(|w| **w == text) {
                Some(w) => Val::Text((*w).to_owned()),
                None => return Err(format!("is not one of {}", words.join(", "))),
            },
            Ty::Ref(target) => {
                let entry = self
                    .schools
                    .get(school)
                    .and_then(|s| s.maps.get(target))
                    .and_then(|m| m.get(text));
                match entry {
                    Some(e) => Val::Int(e.id),
                    None => {
                        let file = if self.foreign {
                            "the input"
                        } else {
                            spec::table(target).map_or("", |t| t.file)
                        };
                        return Err(format!(
                            "is not a {} of school {school} (not in {file} nor in the database)",
                            what(target)
                        ));
                    }
                }
            }
            Ty::Code(mark) => {
                let legend = self.schools.get(school).and_then(|s| s.legend.as_ref());
                let list = legend.map(|l| if mark { &l.0 } else { &l.1 });
                match list {
                    Some(list) if list.iter().any(|c| c == text) => Val::Text(text.to_owned()),
                    _ => {
                        return Err(format!(
                            "is not {} in this school's legend ({})",
                            if mark { "a mark" } else { "an attendance code" },
                            list.map(|l| l.join(",")).unwrap_or_default()
                        ));
                    }
                }
            }
            // The gate serves only such keys (`views::paths`): any other
            // would give the student's pages a 404 for everyone.
            Ty::UrlKey => {
                if crate::views::paths::is_key(text) {
                    Val::Text(text.to_owned())
                } else {
                    return Err(
                        "is not a key; expected 16–64 lower-case Latin letters and digits \
                         (leave it empty for a new random one)"
                            .into(),
                    );
                }
            }
        }))
    }
}

/// Checks that concern several columns of one row: `(column, message)`.
fn check_row(spec: &TableSpec, vals: &[Val]) -> Option<(&'static str, String)> {
    let get = |name: &str| spec.col(name).map(|i| &vals[i]);
    let is_null =
        |v: Option<&Val>| matches!(v, Some(Val::NullInt | Val::NullText | Val::NullReal) | None);
    match spec.table {
        "legend_entry" => {
            let grade = matches!(get("category"), Some(Val::Text(c)) if c == "grade");
            let numeric = !is_null(get("numeric_value"));
            (grade != numeric).then(|| {
                (
                    "numeric_value",
                    "must be given for the category grade and only for it".into(),
                )
            })
        }
        "school_year" | "reporting_period" => match (get("starts_on"), get("ends_on")) {
            (Some(Val::Text(a)), Some(Val::Text(b))) if a > b => {
                Some(("ends_on", format!("is before starts_on ({a})")))
            }
            _ => None,
        },
        "teaching_assignment" | "lesson" => {
            (is_null(get("class")) == is_null(get("group"))).then(|| {
                (
                    "class",
                    "exactly one of class and group must be given".into(),
                )
            })
        }
        _ => None,
    }
}

/// True for a valid `YYYY-MM-DD`.
fn iso_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::iso_date;

    #[test]
    fn iso_dates_are_checked_by_hand() {
        assert!(iso_date("2026-09-01"));
        assert!(iso_date("2028-02-29"));
        assert!(!iso_date("2026-02-29"));
        assert!(!iso_date("2026-9-01"));
        assert!(!iso_date("2026-09-0x"));
        assert!(!iso_date("01.09.2026"));
    }
}
