-- The Дневник.ру sync (`tabel import dnevnik`): what the last successful
-- sync of a school covered, so that the next night asks only for the days
-- since (less a look-back for late edits). Written in the import's own
-- transaction: a failed sync leaves it as it was.

-- The last successful Дневник.ру sync of each school.
CREATE TABLE dnevnik_sync (
    school_id BIGINT PRIMARY KEY REFERENCES school (id) ON DELETE CASCADE,
    from_on   TEXT NOT NULL CHECK (from_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND from_on::date <= '9999-12-31'),
    until_on  TEXT NOT NULL CHECK (until_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' AND until_on::date <= '9999-12-31'),
    synced_at TEXT NOT NULL,
    requests  BIGINT NOT NULL,
    CHECK (from_on <= until_on)
);

COMMENT ON TABLE dnevnik_sync IS 'The last successful Дневник.ру sync of each school.';
COMMENT ON COLUMN dnevnik_sync.school_id IS 'the school; its external_id is its id in Дневник.ру';
COMMENT ON COLUMN dnevnik_sync.from_on IS 'first day of the window the last sync fetched';
COMMENT ON COLUMN dnevnik_sync.until_on IS 'last day of that window; the next night starts here, less the look-back';
COMMENT ON COLUMN dnevnik_sync.synced_at IS 'when it committed, UTC ''YYYY-MM-DDTHH:MM:SSZ''';
COMMENT ON COLUMN dnevnik_sync.requests IS 'requests it sent, retries included';
