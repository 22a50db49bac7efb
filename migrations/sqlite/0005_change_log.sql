-- What the gradebook's writers changed, for `tabel build --watch`: a row
-- per school an import (or the start of a new year) wrote to, in commit
-- order. A watching build rebuilds those schools and publishes at once.

-- One commit that wrote to one school.
CREATE TABLE change_log (
    id        INTEGER PRIMARY KEY, -- in commit order
    school_id INTEGER NOT NULL REFERENCES school (id) ON DELETE CASCADE, -- the school written to
    at        TEXT NOT NULL, -- when (UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ)
    source    TEXT NOT NULL -- what wrote: "import", "year start"
);
