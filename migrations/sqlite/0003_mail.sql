-- Weekly e-mail digests (regulation 1.6): subscriptions and the send log.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ', which sorts as it reads.

-- A guardian's subscription of an e-mail address to one child's weekly digest.
CREATE TABLE mail_subscription (
    id              INTEGER PRIMARY KEY, -- surrogate key
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE, -- the guardian's account that subscribed
    student_id      INTEGER NOT NULL REFERENCES student (id) ON DELETE CASCADE, -- the child whose diary is sent
    address         TEXT NOT NULL, -- the e-mail address
    token           TEXT NOT NULL UNIQUE, -- random capability in the confirmation and unsubscribe links
    created_at      TEXT NOT NULL, -- when it was asked for
    confirmed_at    TEXT, -- when the address was confirmed by its link; nothing else is sent before
    unsubscribed_at TEXT, -- when it ended (by link, account page or office)
    UNIQUE (account_id, student_id)
);

-- Every message sent or tried: makes `tabel mail` idempotent and shows failures to the office.
CREATE TABLE mail_log (
    id              INTEGER PRIMARY KEY, -- surrogate key
    subscription_id INTEGER NOT NULL REFERENCES mail_subscription (id) ON DELETE CASCADE, -- to whom
    kind            TEXT NOT NULL CHECK (kind IN ('confirm', 'digest')), -- confirmation request or weekly digest
    week            TEXT NOT NULL, -- ISO week of a digest (2026-W48); the address for a confirmation
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'temporary', 'permanent')), -- sending (claimed by a run), sent, or how it failed
    attempts        INTEGER NOT NULL, -- tries so far
    detail          TEXT, -- the server's last answer
    at              TEXT NOT NULL, -- time of the last try
    UNIQUE (subscription_id, kind, week)
);

CREATE INDEX mail_subscription_student ON mail_subscription (student_id);
