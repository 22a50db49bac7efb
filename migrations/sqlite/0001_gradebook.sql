-- The gradebook: what a school's e-journal holds and tabel reads.
--
-- Conventions (the same in migrations/postgres):
--  * every table has a surrogate `id` and, where the row is an entity that
--    outside systems name, a stable `external_id` unique within its school, so
--    imports can upsert;
--  * every table carries `school_id`, so one school can be read without
--    touching the others (a city database holds many schools);
--  * dates are ISO text 'YYYY-MM-DD' and flags are 0/1 integers on both
--    backends: one contract, compared byte for byte across backends;
--  * mark and attendance codes are text checked against the school's legend
--    by the importer, not hard-coded here.

-- A school: one organisation whose gradebook is published.
CREATE TABLE school (
    id          INTEGER PRIMARY KEY, -- surrogate key
    external_id TEXT NOT NULL UNIQUE, -- stable id given by the source system
    name        TEXT NOT NULL, -- full official name
    short_name  TEXT NOT NULL, -- name for headers and titles
    number      TEXT, -- the school's number, if it has one ("17")
    address     TEXT NOT NULL, -- postal address
    director    TEXT NOT NULL, -- full name of the head of school
    deputy      TEXT, -- full name of the deputy head for academic work
    email       TEXT, -- office e-mail
    phone       TEXT -- office telephone
);

-- The school's legend: every code a mark or an attendance entry may carry.
CREATE TABLE legend_entry (
    id            INTEGER PRIMARY KEY, -- surrogate key
    school_id     INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    domain        TEXT NOT NULL CHECK (domain IN ('mark', 'attendance')), -- what the code is used for
    code          TEXT NOT NULL, -- the code as written in the journal ("5", "зач", "н")
    category      TEXT NOT NULL CHECK (category IN ('grade', 'pass', 'fail', 'not_assessed', 'exempt', 'absent', 'ill', 'excused', 'late')), -- meaning used by statistics: a numeric grade, pass, fail, not assessed, exempt; or a kind of absence
    numeric_value REAL, -- value of a numeric grade (5.0 … 1.0); NULL for other codes
    title         TEXT NOT NULL, -- Russian explanation shown in legends ("отлично")
    title_en      TEXT NOT NULL, -- English explanation
    position      INTEGER NOT NULL, -- order within its domain
    UNIQUE (school_id, domain, code),
    CHECK ((category = 'grade') = (numeric_value IS NOT NULL))
);

-- Kinds of graded work and their default weights.
CREATE TABLE work_kind (
    id        INTEGER PRIMARY KEY, -- surrogate key
    school_id INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    code      TEXT NOT NULL, -- stable code ("test", "homework")
    title     TEXT NOT NULL, -- Russian name ("Контрольная работа")
    title_en  TEXT NOT NULL, -- English name
    weight    REAL NOT NULL CHECK (weight > 0), -- default weight of a mark of this kind
    UNIQUE (school_id, code)
);

-- A school year, e.g. 2026/2027.
CREATE TABLE school_year (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    title       TEXT NOT NULL, -- "2026/2027"
    starts_on   TEXT NOT NULL CHECK (date(starts_on) = starts_on), -- first day of the year
    ends_on     TEXT NOT NULL CHECK (date(ends_on) = ends_on), -- last day of record-keeping
    UNIQUE (school_id, external_id),
    CHECK (starts_on <= ends_on)
);

-- Days without lessons inside a school year: public holidays and vacations.
CREATE TABLE day_off (
    id             INTEGER PRIMARY KEY, -- surrogate key
    school_id      INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    school_year_id INTEGER NOT NULL REFERENCES school_year (id) ON DELETE CASCADE, -- year it belongs to
    date           TEXT NOT NULL CHECK (date(date) = date), -- the day
    kind           TEXT NOT NULL CHECK (kind IN ('holiday', 'vacation')), -- public holiday or school vacation
    title          TEXT NOT NULL, -- "Осенние каникулы"
    grade          INTEGER CHECK (grade BETWEEN 1 AND 11), -- only this grade is off (extra vacation for grade 1); NULL: everyone
    UNIQUE (school_year_id, date, grade)
);

-- Reporting periods of a year: terms, the year itself, exams and final marks.
CREATE TABLE reporting_period (
    id             INTEGER PRIMARY KEY, -- surrogate key
    school_id      INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    school_year_id INTEGER NOT NULL REFERENCES school_year (id) ON DELETE CASCADE, -- year it belongs to
    external_id    TEXT NOT NULL, -- stable id given by the source system
    kind           TEXT NOT NULL CHECK (kind IN ('quarter', 'half', 'trimester', 'year', 'exam', 'final')), -- sort of period; a class uses one term kind
    number         INTEGER NOT NULL, -- ordinal within its kind (1…4 for quarters; 1 for year, exam, final)
    title          TEXT NOT NULL, -- "1 четверть", "Год"
    starts_on      TEXT NOT NULL CHECK (date(starts_on) = starts_on), -- first day
    ends_on        TEXT NOT NULL CHECK (date(ends_on) = ends_on), -- last day; marks are final after it
    UNIQUE (school_id, external_id),
    UNIQUE (school_year_id, kind, number),
    CHECK (starts_on <= ends_on)
);

-- Everyone who works at the school: teachers and administration.
CREATE TABLE staff (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    family_name TEXT NOT NULL, -- фамилия
    given_name  TEXT NOT NULL, -- имя
    patronymic  TEXT, -- отчество, if any
    position    TEXT, -- job title as written in documents ("учитель математики")
    email       TEXT, -- work e-mail
    UNIQUE (school_id, external_id)
);

-- Roles of staff members; they decide what a staff account may read.
CREATE TABLE staff_role (
    staff_id  INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE, -- the staff member
    school_id INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    role      TEXT NOT NULL CHECK (role IN ('teacher', 'director', 'deputy', 'admin')), -- teacher, head, deputy head, office administrator
    PRIMARY KEY (staff_id, role)
);

-- Subjects taught at the school, in gradebook order.
CREATE TABLE subject (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    name        TEXT NOT NULL, -- full Russian name
    short_name  TEXT NOT NULL, -- abbreviation for narrow columns
    name_en     TEXT NOT NULL, -- English name
    assessment  TEXT NOT NULL CHECK (assessment IN ('graded', 'pass_fail')), -- marked 5…1 or «зач»/«незач»
    position    INTEGER NOT NULL, -- order in statements and diaries
    UNIQUE (school_id, external_id)
);

-- A class of one school year (5А); its students share a timetable.
CREATE TABLE class (
    id               INTEGER PRIMARY KEY, -- surrogate key
    school_id        INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    school_year_id   INTEGER NOT NULL REFERENCES school_year (id) ON DELETE CASCADE, -- year of the class
    external_id      TEXT NOT NULL, -- stable id given by the source system
    key              TEXT NOT NULL UNIQUE, -- opaque random key used in URLs instead of the name
    grade            INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 11), -- параллель
    letter           TEXT NOT NULL, -- литера ("А")
    title            TEXT NOT NULL, -- "5А"
    class_teacher_id INTEGER REFERENCES staff (id) ON DELETE SET NULL, -- классный руководитель
    term_kind        TEXT NOT NULL CHECK (term_kind IN ('quarter', 'half', 'trimester')), -- which terms the class is marked by
    UNIQUE (school_id, external_id)
);

-- Students. A student belongs to at most one class at a time.
CREATE TABLE student (
    id              INTEGER PRIMARY KEY, -- surrogate key
    school_id       INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id     TEXT NOT NULL, -- stable id given by the source system
    key             TEXT NOT NULL UNIQUE, -- opaque random key used in URLs instead of the name
    family_name     TEXT NOT NULL, -- фамилия
    given_name      TEXT NOT NULL, -- имя
    patronymic      TEXT, -- отчество, if any
    sex             TEXT CHECK (sex IN ('m', 'f')), -- for grammatical agreement in documents
    birth_date      TEXT CHECK (date(birth_date) = birth_date), -- date of birth, if known
    class_id        INTEGER REFERENCES class (id) ON DELETE SET NULL, -- current class; NULL once the student left
    individual_plan INTEGER NOT NULL DEFAULT 0 CHECK (individual_plan IN (0, 1)), -- 1: learns on an individual plan
    enrolled_on     TEXT NOT NULL CHECK (date(enrolled_on) = enrolled_on), -- date of enrolment
    left_on         TEXT CHECK (date(left_on) = left_on), -- date the student left; NULL while enrolled
    UNIQUE (school_id, external_id)
);

-- Groups: a class split for a subject, or a group across classes.
CREATE TABLE study_group (
    id             INTEGER PRIMARY KEY, -- surrogate key
    school_id      INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    school_year_id INTEGER NOT NULL REFERENCES school_year (id) ON DELETE CASCADE, -- year of the group
    external_id    TEXT NOT NULL, -- stable id given by the source system
    title          TEXT NOT NULL, -- "5А, английский, гр. 1"
    class_id       INTEGER REFERENCES class (id) ON DELETE CASCADE, -- class it splits; NULL for a cross-class group
    subject_id     INTEGER REFERENCES subject (id) ON DELETE SET NULL, -- subject it exists for, if one
    UNIQUE (school_id, external_id)
);

-- Members of groups.
CREATE TABLE group_member (
    group_id   INTEGER NOT NULL REFERENCES study_group (id) ON DELETE CASCADE, -- the group
    student_id INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- the member
    school_id  INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    PRIMARY KEY (group_id, student_id)
);

-- Parents and other legal representatives.
CREATE TABLE guardian (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    family_name TEXT NOT NULL, -- фамилия
    given_name  TEXT NOT NULL, -- имя
    patronymic  TEXT, -- отчество, if any
    email       TEXT, -- contact e-mail
    phone       TEXT, -- contact telephone
    UNIQUE (school_id, external_id)
);

-- Which guardian represents which student.
CREATE TABLE guardian_student (
    guardian_id INTEGER NOT NULL REFERENCES guardian (id) ON DELETE CASCADE, -- the guardian
    student_id  INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- the student
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    relation    TEXT NOT NULL CHECK (relation IN ('mother', 'father', 'guardian', 'grandparent', 'other')), -- how they are related
    PRIMARY KEY (guardian_id, student_id)
);

-- Who teaches which subject to which class or group.
CREATE TABLE teaching_assignment (
    id             INTEGER PRIMARY KEY, -- surrogate key
    school_id      INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id    TEXT NOT NULL, -- stable id given by the source system
    staff_id       INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE, -- the teacher
    subject_id     INTEGER NOT NULL REFERENCES subject (id) ON DELETE CASCADE, -- the subject
    class_id       INTEGER REFERENCES class (id) ON DELETE CASCADE, -- the whole class taught, or
    group_id       INTEGER REFERENCES study_group (id) ON DELETE CASCADE, -- the group taught
    hours_per_week REAL NOT NULL CHECK (hours_per_week >= 0), -- planned load
    UNIQUE (school_id, external_id),
    CHECK ((class_id IS NULL) <> (group_id IS NULL))
);

-- Lessons given: one row per lesson of a class or group.
CREATE TABLE lesson (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    date        TEXT NOT NULL CHECK (date(date) = date), -- day of the lesson
    slot        INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 12), -- lesson number in the day (1 = first)
    subject_id  INTEGER NOT NULL REFERENCES subject (id) ON DELETE CASCADE, -- subject taught
    class_id    INTEGER REFERENCES class (id) ON DELETE CASCADE, -- the whole class, or
    group_id    INTEGER REFERENCES study_group (id) ON DELETE CASCADE, -- the group
    teacher_id  INTEGER REFERENCES staff (id) ON DELETE SET NULL, -- who gave it
    topic       TEXT NOT NULL, -- topic as entered by the teacher
    homework    TEXT, -- homework set at this lesson, teacher Markdown
    UNIQUE (school_id, external_id),
    CHECK ((class_id IS NULL) <> (group_id IS NULL))
);

-- Marks (current marks; term and year marks are in period_mark).
CREATE TABLE mark (
    id           INTEGER PRIMARY KEY, -- surrogate key
    school_id    INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id  TEXT NOT NULL, -- stable id given by the source system
    student_id   INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- who got it
    subject_id   INTEGER NOT NULL REFERENCES subject (id) ON DELETE CASCADE, -- in which subject
    lesson_id    INTEGER REFERENCES lesson (id) ON DELETE CASCADE, -- lesson it was given at; NULL for work outside a lesson
    date         TEXT NOT NULL CHECK (date(date) = date), -- date of the work
    teacher_id   INTEGER REFERENCES staff (id) ON DELETE SET NULL, -- who gave it
    work_kind_id INTEGER REFERENCES work_kind (id) ON DELETE SET NULL, -- kind of work
    work_title   TEXT, -- name of the work, if it has one ("Контрольная работа № 2")
    value        TEXT NOT NULL, -- a mark code of the school's legend
    weight       REAL NOT NULL CHECK (weight > 0), -- weight in the weighted average
    comment      TEXT, -- teacher's comment to the mark, plain text
    UNIQUE (school_id, external_id)
);

-- Attendance: one row per student and lesson they missed or were late to.
CREATE TABLE attendance (
    id         INTEGER PRIMARY KEY, -- surrogate key
    school_id  INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    student_id INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- the student
    lesson_id  INTEGER NOT NULL REFERENCES lesson (id) ON DELETE CASCADE, -- the lesson
    code       TEXT NOT NULL, -- an attendance code of the school's legend
    UNIQUE (student_id, lesson_id)
);

-- Marks for a reporting period: term, year, exam and final marks.
CREATE TABLE period_mark (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    student_id  INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- who got it
    subject_id  INTEGER NOT NULL REFERENCES subject (id) ON DELETE CASCADE, -- in which subject
    period_id   INTEGER NOT NULL REFERENCES reporting_period (id) ON DELETE CASCADE, -- for which period
    value       TEXT NOT NULL, -- a mark code of the school's legend
    UNIQUE (school_id, external_id),
    UNIQUE (student_id, subject_id, period_id)
);

-- Notes from teachers to a student's parents.
CREATE TABLE note (
    id          INTEGER PRIMARY KEY, -- surrogate key
    school_id   INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    external_id TEXT NOT NULL, -- stable id given by the source system
    student_id  INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- about whom
    staff_id    INTEGER REFERENCES staff (id) ON DELETE SET NULL, -- who wrote it
    subject_id  INTEGER REFERENCES subject (id) ON DELETE SET NULL, -- subject it concerns, if any
    date        TEXT NOT NULL CHECK (date(date) = date), -- day it was written
    body        TEXT NOT NULL, -- the note, teacher Markdown
    UNIQUE (school_id, external_id)
);

-- Indexes for reading one school and one student's diary quickly.
CREATE INDEX lesson_school_date ON lesson (school_id, date);
CREATE INDEX lesson_class ON lesson (class_id);
CREATE INDEX lesson_group ON lesson (group_id);
CREATE INDEX mark_school ON mark (school_id);
CREATE INDEX mark_student ON mark (student_id);
CREATE INDEX mark_lesson ON mark (lesson_id);
CREATE INDEX attendance_school ON attendance (school_id);
CREATE INDEX attendance_lesson ON attendance (lesson_id);
CREATE INDEX period_mark_school ON period_mark (school_id);
CREATE INDEX student_class ON student (class_id);
CREATE INDEX group_member_student ON group_member (student_id);
CREATE INDEX guardian_student_student ON guardian_student (student_id);
CREATE INDEX note_student ON note (student_id);
CREATE INDEX staff_role_school ON staff_role (school_id);
CREATE INDEX group_member_school ON group_member (school_id);
CREATE INDEX guardian_student_school ON guardian_student (school_id);
