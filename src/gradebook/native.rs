//! Reading a snapshot out of an SQLite file with SQLite's own interface
//! (rusqlite) rather than through the pool.
//!
//! The pool (sqlx's `Any` driver) runs SQLite on a worker thread of its
//! own, copies every value of every row, sends each row over a channel to
//! the reading task and converts it to its portable form before the model
//! type is made from it. For a school's year (hundreds of thousands of
//! marks, lessons and absences) that machinery made the read three to four
//! times slower than it is here, on a core the rendering wanted
//! (docs/benchmarks.md, "The allocator and the school's read"). Here one
//! blocking thread runs the same SQL and makes each model value straight
//! from SQLite's columns.
//!
//! The mapping from a row to a model type is written once per type, below,
//! beside sqlx's `FromRow` derive on the type itself; the statement's
//! column names are checked against it before the first row is read, and
//! a test checks that both readers make the same snapshot of the same file.

use anyhow::{Context, Result, bail};
use rusqlite::types::ValueRef;

use super::model::*;

/// A value bound to a query parameter (`$1`, `$2`, … in order), by
/// either reader.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bind<'a> {
    Id(i64),
    Text(&'a str),
}

/// A model type read from consecutive columns of a row, in the order of
/// its fields.
pub(super) trait NativeRow: Sized {
    /// The names of the columns it reads, in order (none for a tuple).
    fn columns(out: &mut Vec<&'static str>);
    /// Reads the value from the row's columns at `cells`.
    fn read(cells: &mut Cells<'_, '_>) -> Result<Self, String>;
}

/// One row, read column after column.
pub(super) struct Cells<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    next: usize,
}

impl Cells<'_, '_> {
    /// The next column's value as `T`.
    fn take<T: Cell>(&mut self) -> Result<T, String> {
        let i = self.next;
        self.next += 1;
        let value = self.row.get_ref(i).map_err(|e| e.to_string())?;
        T::cell(value).map_err(|e| format!("column {}: {e}", i + 1))
    }
}

/// A value of one column.
trait Cell: Sized {
    fn cell(value: ValueRef<'_>) -> Result<Self, String>;
}

fn kind(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real number",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

fn text(value: ValueRef<'_>) -> Result<&str, String> {
    match value {
        ValueRef::Text(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| "text that is not UTF-8".to_owned())
        }
        other => Err(format!("{} where text belongs", kind(other))),
    }
}

impl Cell for i64 {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Integer(n) => Ok(n),
            other => Err(format!("{} where an integer belongs", kind(other))),
        }
    }
}

impl Cell for f64 {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Real(x) => Ok(x),
            ValueRef::Integer(n) => Ok(n as f64),
            other => Err(format!("{} where a number belongs", kind(other))),
        }
    }
}

impl Cell for String {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        text(value).map(str::to_owned)
    }
}

impl<T: Cell> Cell for Option<T> {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::cell(other).map(Some),
        }
    }
}

impl Cell for Date {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        let t = text(value)?;
        Date::parse_iso(t).ok_or_else(|| format!("{t:?} is not a date YYYY-MM-DD"))
    }
}

impl Cell for Flag {
    fn cell(value: ValueRef<'_>) -> Result<Self, String> {
        Flag::try_from(i64::cell(value)?)
    }
}

/// Codes stored as text, read by their `TryFrom<String>` (as sqlx does).
macro_rules! text_cell {
    ($($ty:ty),*) => {$(
        impl Cell for $ty {
            fn cell(value: ValueRef<'_>) -> Result<Self, String> {
                <$ty>::try_from(String::cell(value)?)
            }
        }
    )*};
}
text_cell!(Category, LegendDomain, PeriodKind);

/// Implements [`NativeRow`] for a model struct: its columns in the order
/// of the fields, then the fields made of several columns (sqlx's
/// `flatten`), then those not read at all (sqlx's `skip`). The struct
/// literal names every field, so a field added to the type and not here
/// does not compile.
macro_rules! native_row {
    ($ty:ident { $($field:ident),* $(,)? }
     $(flatten { $($flat:ident : $fty:ty),* $(,)? })?
     $(then { $($after:ident),* $(,)? })?
     $(skip { $($skip:ident),* $(,)? })?) => {
        impl NativeRow for $ty {
            fn columns(out: &mut Vec<&'static str>) {
                $(out.push(stringify!($field));)*
                $($(<$fty as NativeRow>::columns(out); let _ = stringify!($flat);)*)?
                $($(out.push(stringify!($after));)*)?
            }
            fn read(cells: &mut Cells<'_, '_>) -> Result<Self, String> {
                $(let $field = cells.take().map_err(|e| format!("{}: {e}", stringify!($field)))?;)*
                $($(let $flat = <$fty as NativeRow>::read(cells)?;)*)?
                $($(let $after = cells.take().map_err(|e| format!("{}: {e}", stringify!($after)))?;)*)?
                Ok($ty {
                    $($field,)*
                    $($($flat,)*)?
                    $($($after,)*)?
                    $($($skip: Default::default(),)*)?
                })
            }
        }
    };
}

native_row!(School {
    id,
    external_id,
    name,
    short_name,
    number,
    address,
    director,
    deputy,
    email,
    phone,
    mark_5_from,
    mark_4_from,
    mark_3_from,
    mark_2_from,
    term_min_marks,
});
native_row!(SchoolYear {
    id,
    external_id,
    title,
    starts_on,
    ends_on
});
native_row!(LegendEntry {
    id,
    domain,
    code,
    category,
    numeric_value,
    title,
    title_en,
    position
});
native_row!(WorkKind {
    id,
    code,
    title,
    title_en,
    weight
});
native_row!(DayOff {
    id,
    date,
    kind,
    title,
    grade
});
native_row!(ReportingPeriod {
    id,
    external_id,
    kind,
    number,
    title,
    starts_on,
    ends_on
});
native_row!(FullName {
    family_name,
    given_name,
    patronymic
});
native_row!(Staff { id, external_id } flatten { name: FullName } then { position, email } skip { roles });
native_row!(Subject {
    id,
    external_id,
    name,
    short_name,
    name_en,
    assessment,
    position
});
native_row!(Class {
    id,
    external_id,
    key,
    grade,
    letter,
    title,
    class_teacher_id,
    term_kind
});
native_row!(Student { id, external_id, key } flatten { name: FullName }
    then { sex, birth_date, class_id, individual_plan, enrolled_on, left_on });
native_row!(ClassMember {
    class_id,
    student_id,
    from_on,
    until_on
});
native_row!(StudyGroup { id, external_id, title, class_id, subject_id } skip { members });
native_row!(GroupMember {
    group_id,
    student_id,
    from_on,
    until_on
});
native_row!(Guardian { id, external_id } flatten { name: FullName } then { email, phone });
native_row!(GuardianLink {
    guardian_id,
    student_id,
    relation
});
native_row!(TeachingAssignment {
    id,
    external_id,
    staff_id,
    subject_id,
    class_id,
    group_id,
    hours_per_week
});
native_row!(Lesson {
    id,
    external_id,
    date,
    slot,
    subject_id,
    class_id,
    group_id,
    teacher_id,
    topic,
    homework
});
native_row!(Mark {
    id,
    external_id,
    student_id,
    subject_id,
    lesson_id,
    date,
    teacher_id,
    work_kind_id,
    work_title,
    value,
    weight,
    comment,
});
native_row!(Attendance {
    id,
    student_id,
    lesson_id,
    code
});
native_row!(PeriodMark {
    id,
    external_id,
    student_id,
    subject_id,
    period_id,
    value
});
native_row!(Note {
    id,
    external_id,
    student_id,
    staff_id,
    subject_id,
    date,
    body
});

impl NativeRow for (i64, String) {
    fn columns(_: &mut Vec<&'static str>) {}
    fn read(cells: &mut Cells<'_, '_>) -> Result<Self, String> {
        Ok((cells.take()?, cells.take()?))
    }
}

/// A read transaction on an SQLite file: one snapshot of it (WAL mode)
/// from the first read to the end.
pub(super) struct NativeRead {
    conn: rusqlite::Connection,
}

impl std::fmt::Debug for NativeRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeRead")
    }
}

impl NativeRead {
    /// Opens `file` read-only and begins the read.
    pub(super) fn begin(file: &str) -> Result<NativeRead> {
        let conn = rusqlite::Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open {file} to read the gradebook"))?;
        conn.execute_batch("PRAGMA busy_timeout = 30000; BEGIN")
            .with_context(|| format!("cannot start a read transaction on {file}"))?;
        Ok(NativeRead { conn })
    }

    /// Every row of `sql` with `binds` as `$1`, `$2`, ….
    pub(super) fn all<T: NativeRow>(&self, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut expected = Vec::new();
        T::columns(&mut expected);
        if !expected.is_empty() && stmt.column_names() != expected {
            bail!(
                "the query reads the columns {:?}, the type wants {expected:?}",
                stmt.column_names()
            );
        }
        for (i, b) in binds.iter().enumerate() {
            let name = format!("${}", i + 1);
            let Some(at) = stmt.parameter_index(&name)? else {
                bail!("the query has no parameter {name}");
            };
            match *b {
                Bind::Id(id) => stmt.raw_bind_parameter(at, id)?,
                Bind::Text(t) => stmt.raw_bind_parameter(at, t)?,
            }
        }
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Cells { row, next: 0 };
            out.push(
                T::read(&mut cells).map_err(|e| anyhow::anyhow!("row {}: {e}", out.len() + 1))?,
            );
        }
        Ok(out)
    }

    /// Ends the read.
    pub(super) fn finish(self) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .context("cannot end the read transaction")
    }
}
