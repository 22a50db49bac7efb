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

/// `s` with the ids of its growing tables numbered 1, 2, … in their order,
/// the marks' and absences' lessons with them. An import hands out ids
/// anew in file order (the files name rows by external id), so a source
/// whose ids have gaps — the demo numbers each school's lessons, marks,
/// absences, notes and period marks in a block of its own — comes back as
/// the same rows, in the same order, under other ids.
fn dense(mut s: Snapshot) -> Snapshot {
    let rank = |i: usize| i64::try_from(i).unwrap() + 1;
    let lessons: std::collections::HashMap<i64, i64> = s
        .lessons
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id, rank(i)))
        .collect();
    let lesson = |id: i64| lessons.get(&id).copied().unwrap_or(-id);
    for (i, l) in s.lessons.iter_mut().enumerate() {
        l.id = rank(i);
    }
    for (i, m) in s.marks.iter_mut().enumerate() {
        m.id = rank(i);
        m.lesson_id = m.lesson_id.map(lesson);
    }
    for (i, a) in s.attendance.iter_mut().enumerate() {
        a.id = rank(i);
        a.lesson_id = lesson(a.lesson_id);
    }
    for (i, n) in s.notes.iter_mut().enumerate() {
        n.id = rank(i);
    }
    for (i, p) in s.period_marks.iter_mut().enumerate() {
        p.id = rank(i);
    }
    s
}

/// Asserts that two lists of snapshots are equal but for the numbering of
/// their growing tables' ids (see `dense`), naming what differs.
pub fn assert_same(a: &[Snapshot], b: &[Snapshot], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: number of schools");
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (&dense(x.clone()), &dense(y.clone()));
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
