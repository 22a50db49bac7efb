-- How a school turns a student's weighted average into a term mark (its
-- regulation on marks): the lowest average that still gives each mark, and
-- how many marks a term mark needs. NULL keeps the usual rule: 5 from 4.50,
-- 4 from 3.50, 3 from 2.50, 2 from 1.50, at least 3 marks (fewer: «н/а»).
-- The average is compared as pages show it, cut to two decimals.

-- The lowest weighted average that gives a 5; NULL: 4.50.
ALTER TABLE school ADD COLUMN mark_5_from REAL CHECK (mark_5_from > 1 AND mark_5_from <= 5); -- lowest weighted average that gives a 5; NULL: 4.50
-- The lowest weighted average that gives a 4; NULL: 3.50.
ALTER TABLE school ADD COLUMN mark_4_from REAL CHECK (mark_4_from > 1 AND mark_4_from <= 5); -- lowest weighted average that gives a 4; NULL: 3.50
-- The lowest weighted average that gives a 3; NULL: 2.50.
ALTER TABLE school ADD COLUMN mark_3_from REAL CHECK (mark_3_from > 1 AND mark_3_from <= 5); -- lowest weighted average that gives a 3; NULL: 2.50
-- The lowest weighted average that gives a 2 (below it: 1); NULL: 1.50.
ALTER TABLE school ADD COLUMN mark_2_from REAL CHECK (mark_2_from > 1 AND mark_2_from <= 5); -- lowest weighted average that gives a 2 (below it a 1); NULL: 1.50
-- Marks a student needs in a term for a term mark; NULL: 3.
ALTER TABLE school ADD COLUMN term_min_marks INTEGER CHECK (term_min_marks BETWEEN 1 AND 20); -- marks a term mark needs, fewer give «н/а»; NULL: 3
