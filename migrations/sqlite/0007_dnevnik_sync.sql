-- The Дневник.ру sync (`tabel import dnevnik`): what the last successful
-- sync of a school covered, so that the next night asks only for the days
-- since (less a look-back for late edits). Written in the import's own
-- transaction: a failed sync leaves it as it was.

-- The last successful Дневник.ру sync of each school.
CREATE TABLE dnevnik_sync (
    school_id INTEGER PRIMARY KEY REFERENCES school (id) ON DELETE CASCADE, -- the school; its external_id is its id in Дневник.ру
    from_on   TEXT NOT NULL CHECK (date(from_on) = from_on), -- first day of the window the last sync fetched
    until_on  TEXT NOT NULL CHECK (date(until_on) = until_on), -- last day of that window; the next night starts here, less the look-back
    synced_at TEXT NOT NULL, -- when it committed, UTC 'YYYY-MM-DDTHH:MM:SSZ'
    requests  INTEGER NOT NULL, -- requests it sent, retries included
    CHECK (from_on <= until_on)
);
