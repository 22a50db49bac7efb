-- Class membership per school year: a student is in a class for a span of
-- days within the class's year. A move in the middle of a year keeps both
-- spans, and a new year's classes leave last year's rosters as they were.
-- student.class_id stays the student's current class.

-- Which class a student was in, from when until when.
CREATE TABLE class_member (
    class_id   BIGINT NOT NULL REFERENCES class (id) ON DELETE CASCADE,
    student_id BIGINT NOT NULL REFERENCES student (id) ON DELETE CASCADE,
    school_id  BIGINT NOT NULL REFERENCES school (id) ON DELETE CASCADE,
    from_on    TEXT NOT NULL CHECK (from_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND from_on::date <= '9999-12-31'),
    until_on   TEXT CHECK (until_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND until_on::date <= '9999-12-31'),
    PRIMARY KEY (class_id, student_id, from_on),
    CHECK (until_on IS NULL OR from_on <= until_on)
);
CREATE INDEX class_member_student ON class_member (student_id);
CREATE INDEX class_member_school ON class_member (school_id);

COMMENT ON TABLE class_member IS 'Which class a student was in, from when until when.';
COMMENT ON COLUMN class_member.class_id IS 'the class (of one school year)';
COMMENT ON COLUMN class_member.student_id IS 'the student';
COMMENT ON COLUMN class_member.school_id IS 'owning school';
COMMENT ON COLUMN class_member.from_on IS 'first day in the class';
COMMENT ON COLUMN class_member.until_on IS 'last day in the class; NULL: to the end of the class''s year';

-- A group's members may change during the year too: a span per member,
-- NULL at either end meaning the year's first or last day.
ALTER TABLE group_member ADD COLUMN from_on TEXT CHECK (from_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND from_on::date <= '9999-12-31');
ALTER TABLE group_member ADD COLUMN until_on TEXT CHECK (until_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND until_on::date <= '9999-12-31');
COMMENT ON COLUMN group_member.from_on IS 'first day in the group; NULL: the first day of the group''s year';
COMMENT ON COLUMN group_member.until_on IS 'last day in the group; NULL: the last day of the group''s year';

-- Every student in a class today becomes a member of it from their
-- enrolment (or the year's first day) to the day they left, if within the
-- year.
INSERT INTO class_member (class_id, student_id, school_id, from_on, until_on)
SELECT s.class_id, s.id, s.school_id,
       LEAST(GREATEST(s.enrolled_on, y.starts_on), y.ends_on),
       CASE WHEN s.left_on IS NOT NULL AND s.left_on < y.ends_on
            THEN GREATEST(s.left_on, LEAST(GREATEST(s.enrolled_on, y.starts_on), y.ends_on)) END
FROM student s
JOIN class c ON c.id = s.class_id
JOIN school_year y ON y.id = c.school_year_id;
