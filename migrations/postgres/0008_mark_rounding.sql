-- How a school turns a student's weighted average into a term mark (its
-- regulation on marks): the lowest average that still gives each mark, and
-- how many marks a term mark needs. NULL keeps the usual rule: 5 from 4.50,
-- 4 from 3.50, 3 from 2.50, 2 from 1.50, at least 3 marks (fewer: «н/а»).
-- The average is compared as pages show it, cut to two decimals.

ALTER TABLE school ADD COLUMN mark_5_from DOUBLE PRECISION CHECK (mark_5_from > 1 AND mark_5_from <= 5);
ALTER TABLE school ADD COLUMN mark_4_from DOUBLE PRECISION CHECK (mark_4_from > 1 AND mark_4_from <= 5);
ALTER TABLE school ADD COLUMN mark_3_from DOUBLE PRECISION CHECK (mark_3_from > 1 AND mark_3_from <= 5);
ALTER TABLE school ADD COLUMN mark_2_from DOUBLE PRECISION CHECK (mark_2_from > 1 AND mark_2_from <= 5);
ALTER TABLE school ADD COLUMN term_min_marks BIGINT CHECK (term_min_marks BETWEEN 1 AND 20);

COMMENT ON COLUMN school.mark_5_from IS 'lowest weighted average that gives a 5; NULL: 4.50';
COMMENT ON COLUMN school.mark_4_from IS 'lowest weighted average that gives a 4; NULL: 3.50';
COMMENT ON COLUMN school.mark_3_from IS 'lowest weighted average that gives a 3; NULL: 2.50';
COMMENT ON COLUMN school.mark_2_from IS 'lowest weighted average that gives a 2 (below it a 1); NULL: 1.50';
COMMENT ON COLUMN school.term_min_marks IS 'marks a term mark needs, fewer give «н/а»; NULL: 3';
