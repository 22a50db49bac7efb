-- Build workers (`tabel build --worker`, PostgreSQL only): processes on any
-- number of machines build one release together. A run is one build date
-- into one store; its schools are claimed one at a time with a lease that
-- the worker renews while it builds; a worker that dies stops renewing and
-- another takes the school over once the lease has run out. The worker
-- that finds every school done takes the run's publish lease and publishes
-- (ARCHITECTURE.md, "Build workers").

CREATE TABLE build_run (
    id             BIGSERIAL PRIMARY KEY,
    store          TEXT NOT NULL,
    build_date     TEXT NOT NULL CHECK (build_date ~ '^\d{4}-\d{2}-\d{2}$' AND build_date::date IS NOT NULL),
    release        TEXT NOT NULL,
    base           TEXT,
    full_build     BIGINT NOT NULL DEFAULT 0 CHECK (full_build IN (0, 1)),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    publisher      TEXT,
    publish_until  TIMESTAMPTZ,
    publish_claims BIGINT NOT NULL DEFAULT 0,
    published_at   TIMESTAMPTZ,
    UNIQUE (store, build_date)
);

COMMENT ON TABLE build_run IS 'A release built by build workers: one per build date and store.';
COMMENT ON COLUMN build_run.id IS 'surrogate key';
COMMENT ON COLUMN build_run.store IS 'the store the release goes into, s3://bucket/prefix';
COMMENT ON COLUMN build_run.build_date IS 'the day the pages show as today, YYYY-MM-DD';
COMMENT ON COLUMN build_run.release IS 'the id of the release every worker writes into';
COMMENT ON COLUMN build_run.base IS 'the live release when the run began, which every worker carries unchanged files from; NULL: none (or --full)';
COMMENT ON COLUMN build_run.full_build IS '1: render every page (--full), carrying nothing';
COMMENT ON COLUMN build_run.created_at IS 'when the first worker began the run';
COMMENT ON COLUMN build_run.publisher IS 'the worker that holds or last held the publish lease';
COMMENT ON COLUMN build_run.publish_until IS 'the publish lease runs out then, unless its worker renews it';
COMMENT ON COLUMN build_run.publish_claims IS 'times the publish lease was taken (the holder is the one whose count it is)';
COMMENT ON COLUMN build_run.published_at IS 'when the release went live; NULL: not yet';

CREATE TABLE build_run_school (
    run_id       BIGINT NOT NULL REFERENCES build_run (id) ON DELETE CASCADE,
    school_id    BIGINT NOT NULL,
    external_id  TEXT NOT NULL,
    position     BIGINT NOT NULL,
    worker       TEXT,
    lease_until  TIMESTAMPTZ,
    claims       BIGINT NOT NULL DEFAULT 0,
    done_at      TIMESTAMPTZ,
    built_by     TEXT,
    part         TEXT,
    snapshots    TEXT,
    rendered     BIGINT NOT NULL DEFAULT 0,
    carried      BIGINT NOT NULL DEFAULT 0,
    typeset      BIGINT NOT NULL DEFAULT 0,
    bytes        BIGINT NOT NULL DEFAULT 0,
    objects      BIGINT NOT NULL DEFAULT 0,
    object_bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, school_id)
);

COMMENT ON TABLE build_run_school IS 'A school of a build run: who holds it, and what its build wrote.';
COMMENT ON COLUMN build_run_school.run_id IS 'the run';
COMMENT ON COLUMN build_run_school.school_id IS 'the school (school.id when the run began)';
COMMENT ON COLUMN build_run_school.external_id IS 'the school''s external id, as the release names it';
COMMENT ON COLUMN build_run_school.position IS 'order in which free schools are claimed';
COMMENT ON COLUMN build_run_school.worker IS 'the worker that holds or last held the lease';
COMMENT ON COLUMN build_run_school.lease_until IS 'the lease runs out then, unless its worker renews it; NULL: free';
COMMENT ON COLUMN build_run_school.claims IS 'times the school was claimed; the holder is the one whose claim has this number';
COMMENT ON COLUMN build_run_school.done_at IS 'when its files and manifest were stored and recorded; NULL: not yet';
COMMENT ON COLUMN build_run_school.built_by IS 'the worker whose build was recorded (its staged manifest is the one published)';
COMMENT ON COLUMN build_run_school.part IS 'the school''s part of the release manifest, JSON';
COMMENT ON COLUMN build_run_school.snapshots IS 'the school''s data snapshot ids, a JSON list';
COMMENT ON COLUMN build_run_school.rendered IS 'pages the recorded build rendered';
COMMENT ON COLUMN build_run_school.carried IS 'pages it carried over from the base release';
COMMENT ON COLUMN build_run_school.typeset IS 'documents (PDFs) among the pages rendered';
COMMENT ON COLUMN build_run_school.bytes IS 'bytes it wrote, compressed variants included';
COMMENT ON COLUMN build_run_school.objects IS 'objects it sent to the store';
COMMENT ON COLUMN build_run_school.object_bytes IS 'bytes of those objects';
