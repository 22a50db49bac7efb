-- Build workers (`tabel build --worker`) coordinate through PostgreSQL
-- only; SQLite holds the same tables, unused, so that both schemas stay
-- one (see migrations/README.md and ARCHITECTURE.md, "Build workers").

-- A release built by build workers: one per build date and store.
CREATE TABLE build_run (
    id             INTEGER PRIMARY KEY, -- surrogate key
    store          TEXT NOT NULL, -- the store the release goes into, s3://bucket/prefix
    build_date     TEXT NOT NULL CHECK (date(build_date) = build_date), -- the day the pages show as today
    release        TEXT NOT NULL, -- the id of the release every worker writes into
    base           TEXT, -- the live release when the run began, which every worker carries from; NULL: none (or --full)
    full_build     INTEGER NOT NULL DEFAULT 0 CHECK (full_build IN (0, 1)), -- 1: render every page (--full)
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), -- when the first worker began the run
    publisher      TEXT, -- the worker that holds or last held the publish lease
    publish_until  TEXT, -- the publish lease runs out then, unless its worker renews it
    publish_claims INTEGER NOT NULL DEFAULT 0, -- times the publish lease was taken
    published_at   TEXT, -- when the release went live; NULL: not yet
    UNIQUE (store, build_date)
);

-- A school of a build run: who holds it, and what its build wrote.
CREATE TABLE build_run_school (
    run_id       INTEGER NOT NULL REFERENCES build_run (id) ON DELETE CASCADE, -- the run
    school_id    INTEGER NOT NULL, -- the school (school.id when the run began)
    external_id  TEXT NOT NULL, -- the school's external id, as the release names it
    position     INTEGER NOT NULL, -- order in which free schools are claimed
    worker       TEXT, -- the worker that holds or last held the lease
    lease_until  TEXT, -- the lease runs out then, unless renewed; NULL: free
    claims       INTEGER NOT NULL DEFAULT 0, -- times the school was claimed
    done_at      TEXT, -- when its files and manifest were stored and recorded; NULL: not yet
    built_by     TEXT, -- the worker whose build was recorded
    part         TEXT, -- the school's part of the release manifest, JSON
    snapshots    TEXT, -- the school's data snapshot ids, a JSON list
    rendered     INTEGER NOT NULL DEFAULT 0, -- pages the recorded build rendered
    carried      INTEGER NOT NULL DEFAULT 0, -- pages it carried over from the base release
    typeset      INTEGER NOT NULL DEFAULT 0, -- documents (PDFs) among the pages rendered
    bytes        INTEGER NOT NULL DEFAULT 0, -- bytes it wrote, compressed variants included
    objects      INTEGER NOT NULL DEFAULT 0, -- objects it sent to the store
    object_bytes INTEGER NOT NULL DEFAULT 0, -- bytes of those objects
    PRIMARY KEY (run_id, school_id)
);
