//! Which days a sync fetches, and what it remembers for the next night.
//!
//! The first sync of a school fetches its school year so far. Later ones
//! start at the last sync's last day less `look_back_days` (teachers enter
//! marks and absences late), and end today. `--from`/`--to` override both
//! ends, and `--full` forgets what was remembered.

use anyhow::{Context, Result};
use chrono::Days;

use crate::db::Database;
use crate::gradebook::Date;
use crate::gradebook::bulk::Val;
use crate::import::engine::Engine;

/// What the last successful sync of a school covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSync {
    /// Its first day.
    pub from: Date,
    /// Its last day.
    pub until: Date,
}

/// The days one sync fetches lessons, marks and attendance for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// The whole year so far is fetched (first sync, or `--full`): every
    /// student's relatives are asked for, not only new students'.
    pub full: bool,
}

impl Window {
    /// Picks the window: `from`/`to` as given, else from the last sync
    /// (less the look-back) or the year's first day, to today. Never before
    /// the year's first day, nor after `to`.
    pub fn choose(
        last: Option<LastSync>,
        year_start: Date,
        from: Option<Date>,
        to: Date,
        look_back_days: u32,
        full: bool,
    ) -> Window {
        let remembered = last
            .filter(|_| !full)
            .filter(|l| l.until >= year_start)
            .map(|l| {
                l.until
                    .0
                    .checked_sub_days(Days::new(u64::from(look_back_days)))
                    .map_or(l.until, Date)
            });
        let start = from.or(remembered).unwrap_or(year_start);
        let start = if from.is_some() {
            start
        } else {
            start.max(year_start)
        };
        Window {
            from: start.min(to),
            to,
            full: full || remembered.is_none(),
        }
    }

    /// The window cut into parts of at most `days` days, for requests.
    pub fn parts(&self, days: u32) -> Vec<(Date, Date)> {
        let days = u64::from(days.max(1));
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            let end = start
                .0
                .checked_add_days(Days::new(days - 1))
                .map_or(self.to, Date)
                .min(self.to);
            out.push((start, end));
            match end.0.checked_add_days(Days::new(1)) {
                Some(next) => start = Date(next),
                None => break,
            }
        }
        out
    }
}

/// The last successful sync of the school with this Дневник.ру id.
pub async fn last_sync(db: &Database, school: &str) -> Result<Option<LastSync>> {
    let row: Option<(Date, Date)> = sqlx::query_as(
        "SELECT d.from_on, d.until_on FROM dnevnik_sync d \
         JOIN school s ON s.id = d.school_id WHERE s.external_id = $1",
    )
    .bind(school.to_owned())
    .fetch_optional(db.pool())
    .await
    .context("cannot read the last Дневник.ру sync")?;
    Ok(row.map(|(from, until)| LastSync { from, until }))
}

/// Records the window in the import's transaction: it is kept only if the
/// import commits.
pub async fn remember(
    engine: &mut Engine,
    school: &str,
    window: &Window,
    requests: u64,
) -> Result<()> {
    let Some(id) = engine.school_id(school) else {
        return Ok(());
    };
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    engine
        .execute(
            "INSERT INTO dnevnik_sync (school_id, from_on, until_on, synced_at, requests) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (school_id) DO UPDATE SET \
             from_on = excluded.from_on, until_on = excluded.until_on, \
             synced_at = excluded.synced_at, requests = excluded.requests",
            vec![
                Val::Int(id),
                Val::Text(window.from.to_string()),
                Val::Text(window.to.to_string()),
                Val::Text(now),
                Val::Int(i64::try_from(requests).unwrap_or(i64::MAX)),
            ],
        )
        .await
        .context("cannot remember the sync's window")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn the_window_follows_the_last_sync() {
        let start = d("2026-09-01");
        let first = Window::choose(None, start, None, d("2026-09-11"), 7, false);
        assert_eq!(
            (first.from, first.to, first.full),
            (start, d("2026-09-11"), true)
        );
        let last = Some(LastSync {
            from: start,
            until: d("2026-09-14"),
        });
        let next = Window::choose(last, start, None, d("2026-09-15"), 0, false);
        assert_eq!(
            (next.from, next.to, next.full),
            (d("2026-09-14"), d("2026-09-15"), false)
        );
        let back = Window::choose(last, start, None, d("2026-09-15"), 30, false);
        assert_eq!(back.from, start, "never before the year");
        let full = Window::choose(last, start, None, d("2026-09-15"), 0, true);
        assert_eq!((full.from, full.full), (start, true));
        let given = Window::choose(
            last,
            start,
            Some(d("2026-08-20")),
            d("2026-09-15"),
            0,
            false,
        );
        assert_eq!(given.from, d("2026-08-20"));
        // Last year's sync does not count in a new year.
        let old = Some(LastSync {
            from: d("2025-09-01"),
            until: d("2026-05-31"),
        });
        assert_eq!(
            Window::choose(old, start, None, d("2026-09-03"), 7, false).from,
            start
        );
    }

    #[test]
    fn windows_are_cut_into_parts() {
        let w = Window {
            from: d("2026-09-01"),
            to: d("2026-10-05"),
            full: true,
        };
        assert_eq!(
            w.parts(31),
            vec![
                (d("2026-09-01"), d("2026-10-01")),
                (d("2026-10-02"), d("2026-10-05"))
            ]
        );
        let one = Window {
            from: d("2026-09-14"),
            to: d("2026-09-14"),
            full: false,
        };
        assert_eq!(one.parts(31), vec![(d("2026-09-14"), d("2026-09-14"))]);
    }
}
