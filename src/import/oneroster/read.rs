//! Reading a OneRoster CSV set: `manifest.csv` first, then each data file
//! it announces, with its header checked against the version's columns.
//!
//! Harmless untidiness is accepted with a warning (`manifest.version` `1`,
//! `metadata.*` and other extension columns, a trailing empty field, a BOM);
//! what could be read two ways is a problem (a column of the other version,
//! a missing required column, a file the manifest lists but the set lacks).

use std::collections::HashMap;

use anyhow::Result;

use super::super::engine::Engine;
use super::super::error::Problem;
use super::super::source::{CsvFile, CsvOptions, Input, Next};

/// OneRoster version of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// OneRoster 1.1.
    V11,
    /// OneRoster 1.2.
    V12,
}

/// How a file is supplied, as `manifest.csv` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole set of records.
    Bulk,
    /// Changes only.
    Delta,
}

/// Columns of one OneRoster file: all of each version, and the ones needed.
struct FileDef {
    name: &'static str,
    v11: &'static [&'static str],
    v12: &'static [&'static str],
    required: &'static [&'static str],
}

const BASE: [&str; 3] = ["sourcedId", "status", "dateLastModified"];

#[rustfmt::skip]
const FILES: &[FileDef] = &[
    FileDef { name: "orgs",
        v11: &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
        v12: &["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"],
        required: &["sourcedId", "name", "type"] },
    FileDef { name: "academicSessions",
        v11: &["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
        v12: &["sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
        required: &["sourcedId", "title", "type", "startDate", "endDate"] },
    FileDef { name: "courses",
        v11: &["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"],
        v12: &["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"],
        required: &["sourcedId", "title"] },
    FileDef { name: "classes",
        v11: &["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"],
        v12: &["sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"],
        required: &["sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"] },
    FileDef { name: "users",
        v11: &["sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role", "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password"],
        v12: &["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName", "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns"],
        required: &["sourcedId", "givenName", "familyName"] },
    FileDef { name: "roles",
        v11: &[],
        v12: &["sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId"],
        required: &["userSourcedId", "role", "orgSourcedId"] },
    FileDef { name: "demographics",
        v11: &["sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"],
        v12: &["sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"],
        required: &["sourcedId"] },
    FileDef { name: "enrollments",
        v11: &["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"],
        v12: &["sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate", "endDate"],
        required: &["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"] },
    FileDef { name: "categories",
        v11: &["sourcedId", "status", "dateLastModified", "title"],
        v12: &["sourcedId", "status", "dateLastModified", "title", "weight"],
        required: &["sourcedId", "title"] },
    FileDef { name: "lineItems",
        v11: &["sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate", "classSourcedId", "categorySourcedId", "gradingPeriodSourcedId", "resultValueMin", "resultValueMax"],
        v12: &["sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate", "classSourcedId", "categorySourcedId", "gradingPeriodSourcedId", "academicSessionSourcedId", "resultValueMin", "resultValueMax", "schoolSourcedId"],
        required: &["sourcedId", "title", "classSourcedId", "categorySourcedId"] },
    FileDef { name: "results",
        v11: &["sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate", "comment"],
        v12: &["sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate", "comment", "textScore", "classSourcedId", "scoreScaleSourcedId", "scorePercentile", "inProgress", "incomplete", "late", "missing"],
        required: &["sourcedId", "lineItemSourcedId", "studentSourcedId"] },
];

/// Files of the standard that tabel has no use for; their presence is fine.
const UNUSED: &[&str] = &[
    "resources",
    "classResources",
    "courseResources",
    "userResources",
    "userProfiles",
    "scoreScales",
    "lineItemScoreScales",
    "resultScoreScales",
    "lineItemLearningObjectiveIds",
    "resultLearningObjectiveIds",
];

/// One data file, read into memory (OneRoster sets are a school's roster).
#[derive(Debug)]
pub struct OrFile {
    /// File name (`users.csv`).
    pub name: &'static str,
    /// Bulk or delta.
    pub mode: Mode,
    columns: HashMap<String, usize>,
    /// `(line, fields)` per record.
    pub rows: Vec<(u64, Vec<String>)>,
}

impl OrFile {
    /// The value of `column` in `row` ("" when the file lacks the column).
    pub fn get<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .map_or("", String::as_str)
    }

    /// True when the header has `column`.
    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// True when the row is to be removed (`status` = `tobedeleted`).
    pub fn deleted(&self, row: &[String]) -> bool {
        self.get(row, "status").eq_ignore_ascii_case("tobedeleted")
    }
}

/// A whole set: its version and its data files by OneRoster name.
#[derive(Debug)]
pub struct OrSet {
    /// Version from `manifest.csv`.
    pub version: Version,
    /// Data files by name without `.csv` (`users`).
    pub files: HashMap<&'static str, OrFile>,
}

impl OrSet {
    /// The file, if the set has it.
    pub fn file(&self, name: &str) -> Option<&OrFile> {
        self.files.get(name)
    }
}

fn problem(file: &str, line: u64, column: &str, value: Option<&str>, message: String) -> Problem {
    Problem {
        file: file.to_owned(),
        line,
        column: column.to_owned(),
        value: value.map(str::to_owned),
        message,
    }
}

/// Reads `manifest.csv` and every data file it announces; problems go to
/// the engine. `Ok(None)` when the set cannot be read on.
pub fn read_set(input: &Input, options: CsvOptions, engine: &mut Engine) -> Result<Option<OrSet>> {
    let mut manifest = match CsvFile::open(input, "manifest.csv", options)? {
        None => {
            engine.problem(problem(
                "manifest.csv",
                0,
                "-",
                None,
                "is missing: a OneRoster set starts with manifest.csv".into(),
            ));
            return Ok(None);
        }
        Some(Err(p)) => {
            engine.problem(p);
            return Ok(None);
        }
        Some(Ok(f)) => f,
    };
    let mut props: Vec<(u64, String, String)> = Vec::new();
    loop {
        match manifest.next_record() {
            Next::End => break,
            Next::Bad(p) => {
                engine.problem(p);
            }
            Next::Row => {
                let name = manifest.field(0).map(str::to_owned);
                let value = manifest.field(1).map(str::to_owned);
                match (name, value) {
                    (Ok(n), Ok(v)) => props.push((manifest.line(), n, v)),
                    (Err(p), _) | (_, Err(p)) => {
                        engine.problem(p);
                    }
                }
            }
        }
    }
    for note in manifest.finish_notes() {
        engine.warn(note);
    }
    let prop = |key: &str| props.iter().find(|(_, k, _)| k == key);
    match prop("manifest.version") {
        Some((_, _, v)) if v == "1.0" => {}
        Some((line, _, v)) if v == "1" => engine.warn(format!(
            "manifest.csv:{line}: manifest.version is \"1\"; read as \"1.0\""
        )),
        Some((line, _, v)) => {
            engine.problem(problem(
                "manifest.csv",
                *line,
                "value",
                Some(v),
                "is not a manifest version tabel reads; expected 1.0".into(),
            ));
        }
        None => engine.warn("manifest.csv has no manifest.version; read as 1.0".into()),
    }
    let version = match prop("oneroster.version") {
        Some((_, _, v)) if v == "1.1" || v == "1.1.0" => Version::V11,
        Some((_, _, v)) if v == "1.2" || v == "1.2.0" => Version::V12,
        Some((line, _, v)) => {
            engine.problem(problem(
                "manifest.csv",
                *line,
                "value",
                Some(v),
                "is not a OneRoster version tabel reads; expected 1.1 or 1.2".into(),
            ));
            return Ok(None);
        }
        None => {
            engine.problem(problem(
                "manifest.csv",
                1,
                "propertyName",
                None,
                "has no oneroster.version row; expected 1.1 or 1.2".into(),
            ));
            return Ok(None);
        }
    };
    let mut files = HashMap::new();
    for (line, key, value) in &props {
        let Some(name) = key.strip_prefix("file.") else {
            continue;
        };
        let name = name.trim_end_matches('*');
        let mode = match value.to_ascii_lowercase().as_str() {
            "bulk" => Mode::Bulk,
            "delta" => Mode::Delta,
            "absent" => continue,
            "" => {
                engine.warn(format!(
                    "manifest.csv:{line}: {key} has no value; taken as absent"
                ));
                continue;
            }
            _ => {
                engine.problem(problem(
                    "manifest.csv",
                    *line,
                    "value",
                    Some(value),
                    "is not a file mode; expected bulk, delta or absent".into(),
                ));
                continue;
            }
        };
        let Some(def) = FILES.iter().find(|f| f.name == name) else {
            if !UNUSED.contains(&name) {
                engine.warn(format!(
                    "manifest.csv:{line}: {key} is not a OneRoster file tabel knows; ignored"
                ));
            }
            continue;
        };
        let file_name: &'static str = match def.name {
            "orgs" => "orgs.csv",
            "academicSessions" => "academicSessions.csv",
            "courses" => "courses.csv",
            "classes" => "classes.csv",
            "users" => "users.csv",
            "roles" => "roles.csv",
            "demographics" => "demographics.csv",
            "enrollments" => "enrollments.csv",
            "categories" => "categories.csv",
            "lineItems" => "lineItems.csv",
            _ => "results.csv",
        };
        if version == Version::V11 && def.v11.is_empty() {
            engine.problem(problem(
                "manifest.csv",
                *line,
                "propertyName",
                Some(key),
                "names a OneRoster 1.2 file, but oneroster.version is 1.1".into(),
            ));
            continue;
        }
        let mut csv = match CsvFile::open(input, file_name, options)? {
            None => {
                engine.problem(problem(
                    file_name,
                    0,
                    "-",
                    None,
                    format!("is missing, but manifest.csv (line {line}) says {value}"),
                ));
                continue;
            }
            Some(Err(p)) => {
                engine.problem(p);
                continue;
            }
            Some(Ok(f)) => f,
        };
        let (mine, other, other_version) = match version {
            Version::V11 => (def.v11, def.v12, "1.2"),
            Version::V12 => (def.v12, def.v11, "1.1"),
        };
        let mut columns = HashMap::new();
        let mut extensions = Vec::new();
        let mut header_ok = true;
        for (i, col) in csv.header.iter().enumerate() {
            if mine.contains(&col.as_str()) || BASE.contains(&col.as_str()) {
                columns.insert(col.clone(), i);
            } else if other.contains(&col.as_str()) {
                header_ok = false;
                engine.problem(problem(file_name, 1, col, None, format!(
                    "is a OneRoster {other_version} column, but manifest.csv says oneroster.version {}",
                    if version == Version::V11 { "1.1" } else { "1.2" }
                )));
            } else {
                // metadata.* columns are the standard's extension point;
                // some are useful (metadata.address1), so they are kept.
                columns.insert(col.clone(), i);
                extensions.push(col.clone());
            }
        }
        for req in def.required {
            if !columns.contains_key(*req) {
                header_ok = false;
                engine.problem(problem(
                    file_name,
                    1,
                    req,
                    None,
                    "this required column is missing from the header".into(),
                ));
            }
        }
        if !extensions.is_empty() {
            engine.warn(format!(
                "{file_name}: extension columns (tabel reads only metadata.address1, metadata.address2 and metadata.city of orgs.csv): {}",
                extensions.join(", ")
            ));
        }
        let mut rows = Vec::new();
        loop {
            match csv.next_record() {
                Next::End => break,
                Next::Bad(p) => {
                    if !engine.problem(p) {
                        break;
                    }
                }
                Next::Row => {
                    let mut fields = Vec::with_capacity(csv.header.len());
                    let mut ok = true;
                    for i in 0..csv.header.len() {
                        match csv.field(i) {
                            Ok(text) => fields.push(text.to_owned()),
                            Err(p) => {
                                ok = false;
                                engine.problem(p);
                                fields.push(String::new());
                            }
                        }
                    }
                    if ok {
                        rows.push((csv.line(), fields));
                    }
                }
            }
        }
        for note in csv.finish_notes() {
            engine.warn(note);
        }
        if header_ok {
            files.insert(
                def.name,
                OrFile {
                    name: file_name,
                    mode,
                    columns,
                    rows,
                },
            );
        }
    }
    for name in input.names()? {
        let stem = name.trim_end_matches(".csv");
        if name != "manifest.csv"
            && name.ends_with(".csv")
            && !files.contains_key(stem)
            && !UNUSED.contains(&stem)
        {
            let listed = props
                .iter()
                .any(|(_, k, _)| k.trim_start_matches("file.").trim_end_matches('*') == stem);
            if !listed || FILES.iter().any(|f| f.name == stem) {
                engine.warn(format!(
                    "{name}: present but not announced as bulk or delta in manifest.csv; ignored"
                ));
            }
        }
    }
    Ok(Some(OrSet { version, files }))
}
