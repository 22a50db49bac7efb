//! Accounts of the gate: who may log in, as whom, and what they may read;
//! sessions; logins; breach reports (regulation 4.3–4.4 in
//! docs/regulation.md); the access log.
//!
//! The CLI (`tabel accounts`, `tabel breach`) and the gate call the same
//! functions here.

pub mod access;
pub mod audit;
pub mod login;
pub mod password;
pub mod session;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sqlx::FromRow;

use crate::db::Database;

/// The current time as the text stored in the database (UTC, microseconds).
pub fn now() -> String {
    stamp(chrono::Utc::now())
}

/// A time as stored in the database.
pub fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    // The same text as format("%Y-%m-%dT%H:%M:%S%.6fZ"), without parsing a
    // format string on every access-log entry.
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_sort_as_they_read() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-28T09:05:03.000042Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(super::stamp(t), "2026-11-28T09:05:03.000042Z");
        assert_eq!(
            super::stamp(super::parse_time("2026-11-28 09:30").unwrap()),
            "2026-11-28T09:30:00.000000Z"
        );
    }
}

/// Parses a time given on the command line: RFC 3339, or `YYYY-MM-DD HH:MM` in UTC.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    bail!(
        "{text:?} is not a time (expected e.g. 2026-11-28T09:30:00Z or \"2026-11-28 09:30\", UTC)"
    )
}

/// What an account is for: whose files it reads is decided by its role and
/// its link to a person of the gradebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A parent or other guardian, linked to a guardian of the gradebook.
    Guardian,
    /// A student, linked to themselves.
    Student,
    /// A teacher, linked to a member of staff.
    Teacher,
    /// The office: a member of staff (their school), or nobody (every school).
    Admin,
}

impl Role {
    /// Every role, in the order they are listed.
    pub const ALL: [Role; 4] = [Role::Guardian, Role::Student, Role::Teacher, Role::Admin];

    /// The role as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guardian => "guardian",
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Admin => "admin",
        }
    }

    /// The table of the person an account of this role is linked to, and
    /// the account's column naming them.
    fn person(self) -> (&'static str, &'static str) {
        match self {
            Role::Guardian => ("guardian", "guardian_id"),
            Role::Student => ("student", "student_id"),
            Role::Teacher | Role::Admin => ("staff", "staff_id"),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .with_context(|| {
                let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!(
                    "{text:?} is not a role (expected one of {})",
                    all.join(", ")
                )
            })
    }
}

impl TryFrom<String> for Role {
    type Error = anyhow::Error;

    fn try_from(text: String) -> Result<Role> {
        text.parse()
    }
}

/// An account as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Account {
    pub id: i64,
    pub login: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub guardian_id: Option<i64>,
    pub student_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub must_change_password: i64,
    pub disabled: i64,
    pub created_at: String,
    /// When a breach was reported; until the office sets a one-time
    /// password, the old one logs in no more (regulation 4.4).
    pub breached_at: Option<String>,
}

const ACCOUNT_COLUMNS: &str = "id, login, role, guardian_id, student_id, staff_id, must_change_password, disabled, created_at, breached_at";

/// Finds an account by login.
pub async fn find(db: &Database, login: &str) -> Result<Option<Account>> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM account WHERE login = $1"
    ))
    .bind(login.to_owned())
    .fetch_optional(db.pool())
    .await
    .context("cannot read accounts")
}

/// Finds an account by login, or says that there is none.
pub async fn get(db: &Database, login: &str) -> Result<Account> {
    find(db, login)
        .await?
        .with_context(|| format!("there is no account {login:?}"))
}

/// Every account, by login.
pub async fn list(db: &Database) -> Result<Vec<Account>> {
    sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM account ORDER BY login"
    ))
    .fetch_all(db.pool())
    .await
    .context("cannot read accounts")
}

/// Checks a login: 3–64 characters, letters, digits and `.-_@`.
pub fn check_login(login: &str) -> Result<()> {
    let ok = (3..=64).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_alphanumeric() || ".-_@".contains(c));
    if !ok {
        bail!("{login:?} is not a valid login: 3 to 64 letters, digits or . - _ @");
    }
    Ok(())
}

/// Creates an account linked to the person with `person` as external id.
///
/// With no `password`, a random one is made, valid once. Returns the account
/// and the password to hand out.
pub async fn add(
    db: &Database,
    login: &str,
    role: Role,
    person: Option<&str>,
    password: Option<String>,
) -> Result<(Account, String)> {
    check_login(login)?;
    let (table, column) = role.person();
    if find(db, login).await?.is_some() {
        bail!("an account {login:?} already exists");
    }
    let person_id: Option<i64> = match person {
        Some(ext) => {
            let rows: Vec<(i64,)> = sqlx::query_as(&format!(
                "SELECT id FROM {table} WHERE external_id = $1 ORDER BY id LIMIT 2"
            ))
            .bind(ext.to_owned())
            .fetch_all(db.pool())
            .await
            .context("cannot look up the person")?;
            match rows.as_slice() {
                [(id,)] => Some(*id),
                [] => bail!("there is no {table} with external id {ext:?}"),
                _ => bail!("several schools have a {table} with external id {ext:?}"),
            }
        }
        None if role == Role::Admin => None,
        None => bail!("an account of role {role} needs --person (the external id of the {table})"),
    };
    let (password, must_change) = match password {
        Some(p) => {
            password::check(&p)?;
            (p, 0)
        }
        None => (password::random(), 1),
    };
    let hash = password::hash_async(password.clone()).await?;
    let now = now();
    sqlx::query(&format!(
        "INSERT INTO account (login, role, {column}, password_hash, must_change_password, disabled, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7)"
    ))
    .bind(login.to_owned())
    .bind(role.as_str())
    .bind(person_id)
    .bind(hash)
    .bind(must_change)
    .bind(now.clone())
    .bind((must_change == 0).then_some(now))
    .execute(db.pool())
    .await
    .context("cannot create the account")?;
    Ok((get(db, login).await?, password))
}

/// Sets a password. By the office (`by_owner` false) it is a one-time
/// password the user must change, and it ends a breach's lock-out (the
/// office has handed it to the owner); every session of the account ends.
pub async fn set_password(
    db: &Database,
    account_id: i64,
    password: &str,
    by_owner: bool,
) -> Result<()> {
    password::check(password)?;
    let hash = password::hash_async(password.to_owned()).await?;
    let mut tx = db.pool().begin().await?;
    let by_office = if by_owner { "" } else { ", breached_at = NULL" };
    sqlx::query(&format!("UPDATE account SET password_hash = $1, must_change_password = $2, password_changed_at = $3{by_office} WHERE id = $4"))
        .bind(hash)
        .bind(i64::from(!by_owner))
        .bind(by_owner.then(now))
        .bind(account_id)
        .execute(&mut *tx)
        .await
        .context("cannot set the password")?;
    sqlx::query("DELETE FROM session WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables or enables an account; disabling ends its sessions.
pub async fn set_disabled(db: &Database, account_id: i64, disabled: bool) -> Result<()> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE account SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM session WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a credential breach (regulation 4.3–4.4): every session ends,
/// the password logs in no more (nor serves to change itself) until the
/// office sets a one-time one, the browsers the account logged in from are
/// forgotten, and every audit entry of the account since `noticed_at` is
/// marked invalid. Returns the number of entries marked.
pub async fn breach(db: &Database, account_id: i64, noticed_at: &str, by: &str) -> Result<u64> {
    let mut tx = db.pool().begin().await?;
    for sql in [
        "DELETE FROM session WHERE account_id = $1",
        "DELETE FROM login_device WHERE account_id = $1",
    ] {
        sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE account SET must_change_password = 1, breached_at = $2 WHERE id = $1")
        .bind(account_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO breach (account_id, noticed_at, reported_at, reported_by) VALUES ($1, $2, $3, $4)")
        .bind(account_id)
        .bind(noticed_at.to_owned())
        .bind(now())
        .bind(by.to_owned())
        .execute(&mut *tx)
        .await?;
    let marked = sqlx::query("UPDATE audit SET invalid = 1 WHERE account_id = $1 AND at >= $2")
        .bind(account_id)
        .bind(noticed_at.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await.context("cannot record the breach")?;
    Ok(marked)
}

/// A login made from a name: «Иванова Мария» → `ivanova.m`.
pub fn login_for(family: &str, given: &str) -> String {
    let f = crate::text::translit(family);
    let g = crate::text::translit(given);
    let initial: String = g.chars().take(1).collect();
    let login = format!("{f}.{initial}");
    if login.len() >= 3 {
        login
    } else {
        format!("user.{login}")
    }
}

/// A person an account could be made for, with their children (guardians).
#[derive(Debug, Clone, FromRow)]
pub struct Unprovisioned {
    pub external_id: String,
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
}

/// Creates accounts for every guardian (or teacher) without one and returns
/// rows `login, password, person_id, full_name, children` for the office.
pub async fn provision(db: &Database, role: Role) -> Result<Vec<[String; 5]>> {
    if !matches!(role, Role::Guardian | Role::Teacher) {
        bail!("provision makes accounts for guardians or teachers, not {role}");
    }
    let (table, column) = role.person();
    let extra = if role == Role::Teacher {
        " AND p.id IN (SELECT staff_id FROM staff_role WHERE role = 'teacher')"
    } else {
        ""
    };
    let people: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT p.id, p.external_id, p.family_name, p.given_name, p.patronymic FROM {table} p \
         WHERE NOT EXISTS (SELECT 1 FROM account a WHERE a.{column} = p.id){extra} ORDER BY p.id"
    ))
    .fetch_all(db.pool())
    .await
    .context("cannot list people without accounts")?;
    let mut out = Vec::new();
    for (id, ext, family, given, patronymic) in people {
        let children: Vec<(String, String)> = if role == Role::Guardian {
            sqlx::query_as(
                "SELECT s.family_name, s.given_name FROM guardian_student l JOIN student s ON s.id = l.student_id \
                 WHERE l.guardian_id = $1 ORDER BY s.family_name, s.given_name",
            )
            .bind(id)
            .fetch_all(db.pool())
            .await?
        } else {
            vec![]
        };
        let base = login_for(&family, &given);
        let mut login = base.clone();
        let mut n = 1;
        while find(db, &login).await?.is_some() {
            n += 1;
            login = format!("{base}{n}");
        }
        let (_, password) = add(db, &login, role, Some(&ext), None).await?;
        let full = [
            family.as_str(),
            given.as_str(),
            patronymic.as_deref().unwrap_or(""),
        ]
        .join(" ")
        .trim()
        .to_owned();
        let kids = children
            .iter()
            .map(|(f, g)| format!("{f} {g}"))
            .collect::<Vec<_>>()
            .join("; ");
        out.push([login, password, ext, full, kids]);
    }
    Ok(out)
}
