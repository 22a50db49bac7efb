//! Lazy loads of what the database already holds for a school, ids, and
//! the standard legend of a new school.

use std::collections::HashMap;

use anyhow::{Context, Result};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Engine, Entry, Origin, SEP};
use crate::gradebook::legend::standard_legend;
use crate::import::spec::{self, Kind, Ty};

impl Engine {
    /// A new school without legend rows gets the standard legend.
    pub(super) async fn standard_legends(&mut self) -> Result<()> {
        let mut needy: Vec<String> = self
            .schools
            .iter()
            .filter(|(_, s)| s.new && !s.legend_given)
            .map(|(ext, _)| ext.clone())
            .collect();
        needy.sort();
        for ext in needy {
            for e in standard_legend() {
                let numeric = e.numeric_value.map(|v| v.to_string()).unwrap_or_default();
                let position = e.position.to_string();
                let fields = [
                    ext.as_str(),
                    e.domain.as_str(),
                    &e.code,
                    e.category.as_str(),
                    &numeric,
                    &e.title,
                    &e.title_en,
                    &position,
                ];
                self.row(
                    &fields,
                    &Origin::Row {
                        file: "(standard legend)",
                        line: 0,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn next_id(&mut self, table: &'static str) -> Result<i64> {
        if !self.next_id.contains_key(table) {
            let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
            let (max,): (i64,) = sqlx::query_as(&sql)
                .fetch_one(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot read the largest id of {table}"))?;
            self.next_id.insert(table, max);
        }
        let n = self.next_id.entry(table).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    /// Loads the keys of `table` for a school that existed before the import.
    pub(super) async fn ensure_map(&mut self, school: &str, table: &'static str) -> Result<()> {
        let Some(state) = self.schools.get(school) else {
            return Ok(());
        };
        if state.maps.contains_key(table) {
            return Ok(());
        }
        let (id, new) = (state.id, state.new);
        let mut map = HashMap::new();
        if !new {
            let spec = spec::table(table).context("unknown table")?;
            let key_cols: Vec<usize> = spec.key.iter().filter_map(|k| spec.col(k)).collect();
            let mut select: Vec<&str> = Vec::new();
            if spec.kind == Kind::Mapped {
                select.push("id");
            }
            select.extend(key_cols.iter().map(|&i| spec.db_cols[i]));
            let extra = match table {
                "class" | "student" => Some("key"),
                "work_kind" => Some("weight"),
                _ => None,
            };
            select.extend(extra);
            let sql = format!(
                "SELECT {} FROM {table} WHERE school_id = $1",
                select.join(", ")
            );
            let rows: Vec<AnyRow> = sqlx::query(&sql)
                .bind(id)
                .fetch_all(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot read the keys of {table}"))?;
            let offset = usize::from(spec.kind == Kind::Mapped);
            for row in rows {
                let mut parts = Vec::new();
                for (j, &ci) in key_cols.iter().enumerate() {
                    let part = match spec.cols[ci].ty {
                        Ty::Int(..) | Ty::Ref(_) | Ty::Flag => row
                            .try_get::<Option<i64>, _>(offset + j)?
                            .map(|v| v.to_string()),
                        _ => row.try_get::<Option<String>, _>(offset + j)?,
                    };
                    parts.push(part.unwrap_or_default());
                }
                let mut entry = Entry {
                    id: if offset == 1 { row.try_get(0)? } else { 0 },
                    ..Entry::default()
                };
                let last = offset + key_cols.len();
                match extra {
                    Some("key") => entry.url_key = Some(row.try_get(last)?),
                    Some(_) => entry.weight = row.try_get(last)?,
                    None => {}
                }
                map.insert(parts.join(&SEP.to_string()), entry);
            }
        }
        if let Some(state) = self.schools.get_mut(school) {
            state.maps.insert(table, map);
        }
        Ok(())
    }

    pub(super) async fn ensure_legend(&mut self, school: &str) -> Result<()> {
        let Some(state) = self.schools.get(school) else {
            return Ok(());
        };
        if state.legend.is_some() {
            return Ok(());
        }
        let (id, new) = (state.id, state.new);
        let mut legend = (Vec::new(), Vec::new());
        if !new {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT domain, code FROM legend_entry WHERE school_id = $1 ORDER BY position, id",
            )
            .bind(id)
            .fetch_all(&mut **self.tx().await?)
            .await
            .context("cannot read the legend")?;
            for (domain, code) in rows {
                if domain == "mark" {
                    legend.0.push(code);
                } else {
                    legend.1.push(code);
                }
            }
        }
        if let Some(state) = self.schools.get_mut(school) {
            state.legend = Some(legend);
        }
        Ok(())
    }

    pub(super) async fn ensure_url_keys(&mut self) -> Result<()> {
        if self.url_keys.is_some() {
            return Ok(());
        }
        let mut keys = HashMap::new();
        for table in ["class", "student"] {
            let sql = format!("SELECT key, school_id, external_id FROM {table}");
            let rows: Vec<(String, i64, String)> = sqlx::query_as(&sql)
                .fetch_all(&mut **self.tx().await?)
                .await
                .with_context(|| format!("cannot read the keys of {table}"))?;
            for (key, school, ext) in rows {
                keys.insert(key, (table, school, ext));
            }
        }
        self.url_keys = Some(keys);
        Ok(())
    }
}
