//! Small reads by key, for the gate's own pages: the names behind the keys
//! an account may read.

use anyhow::{Context, Result};
use sqlx::FromRow;

use crate::db::Database;

/// A student, named, with the class they are in now.
#[derive(Debug, Clone, FromRow)]
pub struct NamedStudent {
    pub id: i64,
    pub key: String,
    pub family_name: String,
    pub given_name: String,
    /// The class's title (`5А`), empty if they are in none.
    pub class: String,
}

/// A class, named.
#[derive(Debug, Clone, FromRow)]
pub struct NamedClass {
    pub key: String,
    pub title: String,
    pub grade: i64,
}

/// A school, named.
#[derive(Debug, Clone, FromRow)]
pub struct NamedSchool {
    pub id: i64,
    pub external_id: String,
    pub short_name: String,
}

/// The student with `key`, if there is one.
pub async fn student(db: &Database, key: &str) -> Result<Option<NamedStudent>> {
    sqlx::query_as(
        "SELECT s.id, s.key, s.family_name, s.given_name, COALESCE(c.title, '') AS class \
         FROM student s LEFT JOIN class c ON c.id = s.class_id WHERE s.key = $1",
    )
    .bind(key.to_owned())
    .fetch_optional(db.pool())
    .await
    .context("cannot read a student")
}

/// The class with `key`, if there is one.
pub async fn class(db: &Database, key: &str) -> Result<Option<NamedClass>> {
    sqlx::query_as("SELECT key, title, grade FROM class WHERE key = $1")
        .bind(key.to_owned())
        .fetch_optional(db.pool())
        .await
        .context("cannot read a class")
}

/// Every school, by row id.
pub async fn schools(db: &Database) -> Result<Vec<NamedSchool>> {
    sqlx::query_as("SELECT id, external_id, short_name FROM school ORDER BY id")
        .fetch_all(db.pool())
        .await
        .context("cannot read the schools")
}
