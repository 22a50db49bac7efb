//! Helpers of the import tests: a checksum of every gradebook row and
//! snapshots of every school.

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use tabel::db::Database;
use tabel::gradebook::{self, Date, Snapshot, YearChoice};
use tabel::import::spec::{Kind, TABLES, Ty};

/// SHA-256 over every row of every gradebook table, ids included, in a
/// fixed order: equal before and after means the database did not change.
pub async fn checksum(db: &Database) -> String {
    let mut hasher = Sha256::new();
    for spec in TABLES {
        let mut cols: Vec<&str> = Vec::new();
        if spec.kind != Kind::Link {
            cols.push("id");
        }
        cols.extend(spec.db_cols);
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            spec.table,
            (1..=cols.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<AnyRow> = sqlx::query(&sql).fetch_all(db.pool()).await.unwrap();
        hasher.update(format!("{}:{}\n", spec.table, rows.len()));
        let offset = cols.len() - spec.cols.len();
        for row in rows {
            for i in 0..cols.len() {
                let ty = if i < offset {
                    Ty::Int(0, 0)
                } else {
                    spec.cols[i - offset].ty
                };
                let text = match ty {
                    Ty::Int(..) | Ty::Flag | Ty::Ref(_) => row
                        .try_get::<Option<i64>, _>(i)
                        .unwrap()
                        .map(|v| v.to_string()),
                    Ty::Real(_) => row
                        .try_get::<Option<f64>, _>(i)
                        .unwrap()
                        .map(|v| v.to_string()),
                    _ => row.try_get::<Option<String>, _>(i).unwrap(),
                };
                hasher.update(format!("{text:?}|"));
            }
            hasher.update("\n");
        }
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

/// The snapshot of every school for the year containing `day`.
pub async fn snapshots(db: &Database, day: &str) -> Vec<Snapshot> {
    let day = Date::parse_iso(day).unwrap();
    let mut out = Vec::new();
    for s in gradebook::list_schools(db).await.unwrap() {
        out.push(
            gradebook::load(db, s.id, YearChoice::On(day))
                .await
                .unwrap(),
        );
    }
    out
}

/// Asserts that two lists of snapshots are equal, naming what differs.
pub fn assert_same(a: &[Snapshot], b: &[Snapshot], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: number of schools");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            x.counts(),
            y.counts(),
            "{what}: row counts of {}",
            x.school.external_id
        );
        assert!(
            x == y,
            "{what}: snapshots of {} differ",
            x.school.external_id
        );
        assert_eq!(x.digest(), y.digest(), "{what}: digests");
    }
}
