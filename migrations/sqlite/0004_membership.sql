-- Class membership per school year: a student is in a class for a span of
-- days within the class's year. A move in the middle of a year keeps both
-- spans, and a new year's classes leave last year's rosters as they were.
-- student.class_id stays the student's current class.

-- Which class a student was in, from when until when.
CREATE TABLE class_member (
    class_id   INTEGER NOT NULL REFERENCES class (id) ON DELETE CASCADE, -- the class (of one school year)
    student_id INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- the student
    school_id  INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- owning school
    from_on    TEXT NOT NULL CHECK (date(from_on) = from_on), -- first day in the class
    until_on   TEXT CHECK (date(until_on) = until_on), -- last day in the class; NULL: to the end of the class's year
    PRIMARY KEY (class_id, student_id, from_on),
    CHECK (until_on IS NULL OR from_on <= until_on)
);
CREATE INDEX class_member_student ON class_member (student_id);
CREATE INDEX class_member_school ON class_member (school_id);

-- A group's members may change during the year too: a span per member,
-- NULL at either end meaning the year's first or last day.
ALTER TABLE group_member ADD COLUMN from_on TEXT CHECK (date(from_on) = from_on);
ALTER TABLE group_member ADD COLUMN until_on TEXT CHECK (date(until_on) = until_on);

-- Every student in a class today becomes a member of it from their
-- enrolment (or the year's first day) to the day they left, if within the
-- year.
INSERT INTO class_member (class_id, student_id, school_id, from_on, until_on)
SELECT s.class_id, s.id, s.school_id,
       min(max(s.enrolled_on, y.starts_on), y.ends_on),
       CASE WHEN s.left_on IS NOT NULL AND s.left_on < y.ends_on
            THEN max(s.left_on, min(max(s.enrolled_on, y.starts_on), y.ends_on)) END
FROM student s
JOIN class c ON c.id = s.class_id
JOIN school_year y ON y.id = c.school_year_id;
