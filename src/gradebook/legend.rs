//! The standard legend a new school starts with. It is only a starting
//! point: the legend lives in the database (`legend_entry`) and a school may
//! change it; nothing else in tabel assumes these codes.

use super::model::{Category, LegendDomain, LegendEntry};

/// `(domain, code, category, numeric value, Russian title, English title)`.
type Entry = (
    LegendDomain,
    &'static str,
    Category,
    Option<f64>,
    &'static str,
    &'static str,
);

const STANDARD: &[Entry] = &[
    (
        LegendDomain::Mark,
        "5",
        Category::Grade,
        Some(5.0),
        "отлично",
        "excellent",
    ),
    (
        LegendDomain::Mark,
        "4",
        Category::Grade,
        Some(4.0),
        "хорошо",
        "good",
    ),
    (
        LegendDomain::Mark,
        "3",
        Category::Grade,
        Some(3.0),
        "удовлетворительно",
        "satisfactory",
    ),
    (
        LegendDomain::Mark,
        "2",
        Category::Grade,
        Some(2.0),
        "неудовлетворительно",
        "unsatisfactory",
    ),
    (
        LegendDomain::Mark,
        "1",
        Category::Grade,
        Some(1.0),
        "плохо",
        "poor",
    ),
    (
        LegendDomain::Mark,
        "зач",
        Category::Pass,
        None,
        "зачтено",
        "pass",
    ),
    (
        LegendDomain::Mark,
        "незач",
        Category::Fail,
        None,
        "не зачтено",
        "fail",
    ),
    (
        LegendDomain::Mark,
        "н/а",
        Category::NotAssessed,
        None,
        "не аттестован",
        "not assessed",
    ),
    (
        LegendDomain::Mark,
        "осв",
        Category::Exempt,
        None,
        "освобождён",
        "exempt",
    ),
    (
        LegendDomain::Attendance,
        "н",
        Category::Absent,
        None,
        "отсутствовал",
        "absent",
    ),
    (
        LegendDomain::Attendance,
        "б",
        Category::Ill,
        None,
        "болел",
        "ill",
    ),
    (
        LegendDomain::Attendance,
        "п",
        Category::Excused,
        None,
        "отсутствовал по уважительной причине",
        "absent with a valid reason",
    ),
    (
        LegendDomain::Attendance,
        "о",
        Category::Late,
        None,
        "опоздал",
        "late",
    ),
];

/// The standard legend (ids are 0: not yet stored).
pub fn standard_legend() -> Vec<LegendEntry> {
    STANDARD
        .iter()
        .enumerate()
        .map(
            |(i, &(domain, code, category, numeric_value, title, title_en))| LegendEntry {
                id: 0,
                domain,
                code: code.to_owned(),
                category,
                numeric_value,
                title: title.to_owned(),
                title_en: title_en.to_owned(),
                position: i as i64 + 1,
            },
        )
        .collect()
}
