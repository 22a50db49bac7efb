//! Page keys: cheap fingerprints of what a week page is made from, so that
//! the build can carry an unchanged page over without building its view
//! (ARCHITECTURE.md, "What a night costs").
//!
//! A week page shows the lessons of the student's classes and groups in
//! that week, the student's marks, absences and notes on those lessons and
//! days, and names from the rest of the school's data (subjects, staff,
//! legend, classes, memberships). Its key hashes, conservatively:
//! - the *context*: every table of the snapshot but the five that grow day
//!   by day (lessons, marks, attendance, notes, period marks), with the
//!   language, the stylesheet and the year — any change there changes
//!   every page's key;
//! - every lesson of the whole school in that week (a lesson of another
//!   class changes the key too: a needless render, never a stale page);
//! - the student's marks, absences and notes of that week;
//! - what of the build's day the page shows: the day itself only when the
//!   week holds it (the today marker, Saturday's presence), the links to
//!   the weeks before and after, the printout link.
//!
//! A debug build renders every keyed page anyway and fails if a page whose
//! key matched came out different (`build::emit`), so every incremental
//! build in the tests checks these keys.

use std::collections::HashMap;

use chrono::{Datelike, Duration};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::week::WeekLink;
use super::{Index, Unit};
use crate::gradebook::snapshot::HashWriter;
use crate::gradebook::{Date, Student};
use crate::i18n::Language;

/// The Monday of the week holding `d`.
fn monday(d: Date) -> Date {
    Date(d.0 - Duration::days(i64::from(d.0.weekday().num_days_from_monday())))
}

fn feed<T: Serialize + ?Sized>(h: &mut Sha256, value: &T) {
    // Plain structs of strings and numbers serialize without fail.
    let _ = serde_json::to_writer(HashWriter(h), value);
    h.update([0]);
}

fn finish<K: std::hash::Hash + Eq>(map: HashMap<K, Sha256>) -> HashMap<K, [u8; 32]> {
    map.into_iter()
        .map(|(k, h)| (k, h.finalize().into()))
        .collect()
}

/// The keys of one school year's week pages.
#[derive(Debug)]
pub struct Keys {
    context: [u8; 32],
    /// Per Monday: every lesson of the school in that week.
    lessons: HashMap<Date, [u8; 32]>,
    /// Per student and Monday: their marks, absences and notes of the week.
    own: HashMap<(i64, Date), [u8; 32]>,
    /// Per class or group: its lessons of the year.
    units: HashMap<Unit, [u8; 32]>,
    /// Per student: their marks, absences, notes and period marks of the year.
    year: HashMap<i64, [u8; 32]>,
}

impl Index<'_> {
    /// The page keys of this index's snapshot and day.
    pub fn keys(&self) -> Keys {
        let s = self.s;
        let mut h = Sha256::new();
        // Every table but the five that grow day by day.
        feed(
            &mut h,
            &(&s.school, &s.year, &s.legend, &s.work_kinds, &s.days_off),
        );
        feed(
            &mut h,
            &(&s.periods, &s.staff, &s.subjects, &s.classes, &s.students),
        );
        feed(&mut h, &(&s.class_members, &s.groups, &s.group_members));
        feed(&mut h, &(&s.guardians, &s.guardian_links, &s.assignments));
        feed(
            &mut h,
            &(self.lang == Language::En, &self.css, &self.earlier),
        );
        let context: [u8; 32] = h.finalize().into();

        let mut lessons: HashMap<Date, Sha256> = HashMap::new();
        let mut units: HashMap<Unit, Sha256> = HashMap::new();
        let mut lesson_week: HashMap<i64, Date> = HashMap::with_capacity(s.lessons.len());
        for l in &s.lessons {
            let m = monday(l.date);
            lesson_week.insert(l.id, m);
            feed(lessons.entry(m).or_default(), l);
            let unit = match (l.class_id, l.group_id) {
                (Some(c), _) => Unit::Class(c),
                (None, Some(g)) => Unit::Group(g),
                (None, None) => continue,
            };
            feed(units.entry(unit).or_default(), l);
        }
        let mut own: HashMap<(i64, Date), Sha256> = HashMap::new();
        let mut year: HashMap<i64, Sha256> = HashMap::new();
        for m in &s.marks {
            if let Some(w) = m.lesson_id.and_then(|l| lesson_week.get(&l)) {
                feed(own.entry((m.student_id, *w)).or_default(), &("m", m));
            }
            feed(year.entry(m.student_id).or_default(), &("m", m));
        }
        for a in &s.attendance {
            if let Some(w) = lesson_week.get(&a.lesson_id) {
                feed(own.entry((a.student_id, *w)).or_default(), &("a", a));
            }
            feed(year.entry(a.student_id).or_default(), &("a", a));
        }
        for n in &s.notes {
            feed(
                own.entry((n.student_id, monday(n.date))).or_default(),
                &("n", n),
            );
            feed(year.entry(n.student_id).or_default(), &("n", n));
        }
        for p in &s.period_marks {
            feed(year.entry(p.student_id).or_default(), &("p", p));
        }
        Keys {
            context,
            lessons: finish(lessons),
            own: finish(own),
            units: finish(units),
            year: finish(year),
        }
    }
}

impl Keys {
    /// The key of the week page of `st` for week `w` of `ix` (not the
    /// start page), with `printout` its printout link if it has one.
    pub fn week(
        &self,
        ix: &Index<'_>,
        st: &Student,
        w: usize,
        printout: Option<&WeekLink>,
    ) -> String {
        let (id, mon) = &ix.weeks[w];
        let sunday = Date(mon.0 + Duration::days(6));
        let today = (*mon <= ix.today && ix.today <= sunday).then_some(ix.today);
        let mut h = Sha256::new();
        h.update(self.context);
        h.update(self.lessons.get(mon).copied().unwrap_or_default());
        h.update(self.own.get(&(st.id, *mon)).copied().unwrap_or_default());
        feed(
            &mut h,
            &(
                st.id,
                id,
                w.checked_sub(1).map(|p| &ix.weeks[p].0),
                ix.weeks.get(w + 1).map(|n| &n.0),
                today,
                printout,
            ),
        );
        data_encoding::HEXLOWER.encode(&h.finalize()[..16])
    }

    /// The key of everything a student's current year shows — the start
    /// page, every week, the marks page, what is new, the printouts: the
    /// context, the build's day and weeks, every lesson of the student's
    /// classes and groups of the year, the student's own rows of the year,
    /// and `extra`, what the build adds (links, the typesetter's version).
    /// A school day changes it for every student whose class had a lesson;
    /// an import between nights, only for the students it wrote about.
    pub fn student<E: Serialize>(&self, ix: &Index<'_>, st: &Student, extra: &E) -> String {
        let mut h = Sha256::new();
        h.update(self.context);
        feed(&mut h, &(st.id, ix.today, &ix.weeks));
        for (unit, _) in ix.units_of.get(&st.id).into_iter().flatten() {
            h.update(self.units.get(unit).copied().unwrap_or_default());
        }
        h.update(self.year.get(&st.id).copied().unwrap_or_default());
        feed(&mut h, extra);
        data_encoding::HEXLOWER.encode(&h.finalize()[..16])
    }

    /// The key of the marks page of `st`: the context, the student's own
    /// rows of the year, and what of the build's day the page shows — the
    /// class the student is in that day, which periods have begun, are
    /// running or are over, and the latest of the student's marks by then.
    pub fn marks(&self, ix: &Index<'_>, st: &Student) -> String {
        let (today, day) = (ix.today, ix.reference_day());
        let periods: Vec<(i64, [bool; 4])> =
            ix.s.periods
                .iter()
                .map(|p| {
                    let bits = [
                        p.starts_on <= today,
                        today <= p.ends_on,
                        p.ends_on < today,
                        p.ends_on <= day,
                    ];
                    (p.id, bits)
                })
                .collect();
        let latest = ix
            .marks_by_student
            .get(&st.id)
            .into_iter()
            .flatten()
            .map(|m| m.date)
            .filter(|d| *d <= day)
            .max();
        let mut h = Sha256::new();
        h.update(self.context);
        h.update(self.year.get(&st.id).copied().unwrap_or_default());
        feed(
            &mut h,
            &(st.id, ix.class_of(st).map(|c| c.id), periods, latest),
        );
        data_encoding::HEXLOWER.encode(&h.finalize()[..16])
    }
}
