//! The demo school year's calendar: terms, vacations and public holidays as
//! a Russian school has them (dates approximate the usual ministry schedule).

use chrono::{Datelike, Duration, Weekday};

use crate::gradebook::{Date, PeriodKind};

/// A reporting period of the calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Kind of period.
    pub kind: PeriodKind,
    /// Ordinal within its kind.
    pub number: i64,
    /// Russian title.
    pub title: String,
    /// First day.
    pub starts_on: Date,
    /// Last day.
    pub ends_on: Date,
}

/// A weekday without lessons.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOff {
    /// The day.
    pub date: Date,
    /// `holiday` or `vacation`.
    pub kind: &'static str,
    /// Russian title.
    pub title: &'static str,
    /// Only this grade is off.
    pub grade: Option<i64>,
}

/// One school year's calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The calendar year in which the school year begins.
    pub first_year: i32,
    /// 1 September.
    pub starts_on: Date,
    /// 30 June: record-keeping (exams included) ends.
    pub ends_on: Date,
    /// The last day with lessons.
    pub last_lesson_day: Date,
    /// Terms, year, exam and final periods.
    pub periods: Vec<Period>,
    /// Weekdays without lessons, by date.
    pub days_off: Vec<DayOff>,
}

fn d(y: i32, m: u32, day: u32) -> Date {
    // Only called with fixed, valid month-days.
    Date::from_ymd(y, m, day).expect("valid calendar date")
}

impl Calendar {
    /// The school year that `day` falls in (from 1 September to 31 August).
    pub fn containing(day: Date) -> Calendar {
        let y = if day.0.month() >= 9 {
            day.0.year()
        } else {
            day.0.year() - 1
        };
        Calendar::starting(y)
    }

    /// The school year beginning on 1 September of `y`.
    pub fn starting(y: i32) -> Calendar {
        let n = y + 1;
        let period = |kind, number, title: &str, a, b| Period {
            kind,
            number,
            title: title.to_owned(),
            starts_on: a,
            ends_on: b,
        };
        let last_lesson_day = d(n, 5, 26);
        let periods = vec![
            period(
                PeriodKind::Quarter,
                1,
                "1 четверть",
                d(y, 9, 1),
                d(y, 10, 25),
            ),
            period(
                PeriodKind::Quarter,
                2,
                "2 четверть",
                d(y, 11, 5),
                d(y, 12, 28),
            ),
            period(
                PeriodKind::Quarter,
                3,
                "3 четверть",
                d(n, 1, 12),
                d(n, 3, 22),
            ),
            period(
                PeriodKind::Quarter,
                4,
                "4 четверть",
                d(n, 4, 1),
                last_lesson_day,
            ),
            period(PeriodKind::Half, 1, "1 полугодие", d(y, 9, 1), d(y, 12, 28)),
            period(
                PeriodKind::Half,
                2,
                "2 полугодие",
                d(n, 1, 12),
                last_lesson_day,
            ),
            period(PeriodKind::Year, 1, "Год", d(y, 9, 1), d(n, 5, 31)),
            period(PeriodKind::Exam, 1, "Экзамен", d(n, 6, 1), d(n, 6, 25)),
            period(PeriodKind::Final, 1, "Итоговая", d(n, 6, 1), d(n, 6, 30)),
        ];
        let mut days_off = Vec::new();
        let mut range = |a: Date, b: Date, kind, title, grade| {
            let mut day = a.0;
            while day <= b.0 {
                if day.weekday().num_days_from_monday() < 5 {
                    days_off.push(DayOff {
                        date: Date(day),
                        kind,
                        title,
                        grade,
                    });
                }
                day += Duration::days(1);
            }
        };
        range(
            d(y, 10, 26),
            d(y, 11, 3),
            "vacation",
            "Осенние каникулы",
            None,
        );
        range(
            d(y, 11, 4),
            d(y, 11, 4),
            "holiday",
            "День народного единства",
            None,
        );
        range(
            d(y, 12, 29),
            d(n, 1, 11),
            "vacation",
            "Зимние каникулы",
            None,
        );
        range(
            d(n, 2, 16),
            d(n, 2, 22),
            "vacation",
            "Дополнительные каникулы",
            Some(1),
        );
        range(
            d(n, 2, 23),
            d(n, 2, 23),
            "holiday",
            "День защитника Отечества",
            None,
        );
        range(
            d(n, 3, 8),
            d(n, 3, 8),
            "holiday",
            "Международный женский день",
            None,
        );
        range(
            d(n, 3, 23),
            d(n, 3, 31),
            "vacation",
            "Весенние каникулы",
            None,
        );
        range(
            d(n, 5, 1),
            d(n, 5, 1),
            "holiday",
            "Праздник Весны и Труда",
            None,
        );
        range(d(n, 5, 9), d(n, 5, 9), "holiday", "День Победы", None);
        days_off.sort_by_key(|o| (o.date, o.grade));
        Calendar {
            first_year: y,
            starts_on: d(y, 9, 1),
            ends_on: d(n, 6, 30),
            last_lesson_day,
            periods,
            days_off,
        }
    }

    /// "2026/2027".
    pub fn title(&self) -> String {
        format!("{}/{}", self.first_year, self.first_year + 1)
    }

    /// True if `grade` has lessons on `day`.
    pub fn is_school_day(&self, day: Date, grade: i64) -> bool {
        let wd = day.0.weekday();
        day >= self.starts_on
            && day <= self.last_lesson_day
            && wd != Weekday::Sat
            && wd != Weekday::Sun
            && !self
                .days_off
                .iter()
                .any(|off| off.date == day && off.grade.is_none_or(|g| g == grade))
    }

    /// School days of `grade` from 1 September up to and including `until`.
    pub fn school_days(&self, grade: i64, until: Date) -> Vec<Date> {
        let mut out = Vec::new();
        let mut day = self.starts_on.0;
        while Date(day) <= until && Date(day) <= self.last_lesson_day {
            if self.is_school_day(Date(day), grade) {
                out.push(Date(day));
            }
            day += Duration::days(1);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_of_a_day() {
        assert_eq!(Calendar::containing(d(2026, 11, 28)).first_year, 2026);
        assert_eq!(Calendar::containing(d(2027, 3, 1)).first_year, 2026);
        assert_eq!(Calendar::containing(d(2026, 8, 31)).first_year, 2025);
        assert_eq!(Calendar::starting(2026).title(), "2026/2027");
    }

    #[test]
    fn holidays_and_weekends_have_no_lessons() {
        let c = Calendar::starting(2026);
        assert!(c.is_school_day(d(2026, 9, 1), 5)); // a Tuesday
        assert!(!c.is_school_day(d(2026, 9, 6), 5)); // Sunday
        assert!(!c.is_school_day(d(2026, 11, 4), 5));
        assert!(!c.is_school_day(d(2026, 10, 28), 5));
        assert!(!c.is_school_day(d(2027, 2, 17), 1));
        assert!(c.is_school_day(d(2027, 2, 17), 2));
        let days = c.school_days(5, d(2027, 8, 1));
        assert!(days.len() > 160 && days.len() < 175, "{}", days.len());
    }

    #[test]
    fn terms_do_not_overlap_vacations() {
        let c = Calendar::starting(2026);
        for p in c.periods.iter().filter(|p| p.kind == PeriodKind::Quarter) {
            assert!(
                c.is_school_day(p.starts_on, 5) || p.starts_on.0.weekday() == Weekday::Sat,
                "{p:?}"
            );
            for off in c
                .days_off
                .iter()
                .filter(|o| o.kind == "vacation" && o.grade.is_none())
            {
                assert!(
                    off.date < p.starts_on || off.date > p.ends_on,
                    "{off:?} in {p:?}"
                );
            }
        }
    }
}
