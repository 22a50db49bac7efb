-- Accounts of the gate, their sessions, the access log and breach reports.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ', which sorts as it reads.

-- A login of a guardian, a student, a teacher or the office.
CREATE TABLE account (
    id                   INTEGER PRIMARY KEY, -- surrogate key
    login                TEXT NOT NULL UNIQUE, -- what the user types to log in
    role                 TEXT NOT NULL CHECK (role IN ('guardian', 'student', 'teacher', 'admin')), -- decides how links are read
    guardian_id          INTEGER REFERENCES guardian (id) ON DELETE SET NULL, -- the guardian this account is, for role guardian
    student_id           INTEGER REFERENCES student (id) ON DELETE SET NULL, -- the student this account is, for role student
    staff_id             INTEGER REFERENCES staff (id) ON DELETE SET NULL, -- the staff member, for roles teacher and admin
    password_hash        TEXT NOT NULL, -- argon2id PHC string
    must_change_password INTEGER NOT NULL DEFAULT 1 CHECK (must_change_password IN (0, 1)), -- 1: an initial or reset password, usable once
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)), -- 1: may not log in
    created_at           TEXT NOT NULL, -- when the account was made
    password_changed_at  TEXT -- when the password was last set by its owner
);

-- Server-side sessions; the cookie holds a random token, the table only its hash.
CREATE TABLE session (
    id           INTEGER PRIMARY KEY, -- surrogate key
    token_hash   TEXT NOT NULL UNIQUE, -- SHA-256 of the session token, hex
    account_id   INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE, -- whose session
    csrf         TEXT NOT NULL, -- token every form of this session must carry
    created_at   TEXT NOT NULL, -- login time; the absolute lifetime counts from here
    last_seen_at TEXT NOT NULL, -- last request (updated at most once a minute); the idle timeout counts from here
    address      TEXT, -- client address at login
    user_agent   TEXT -- client's User-Agent at login
);

-- Failed logins, for rate limits shared by every gate.
CREATE TABLE login_failure (
    id      INTEGER PRIMARY KEY, -- surrogate key
    login   TEXT NOT NULL, -- the login tried (it may not exist)
    address TEXT NOT NULL, -- where the attempt came from
    at      TEXT NOT NULL -- when
);

-- The access log: every login attempt, file served or denied, account change.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY, -- order of writing
    at         TEXT NOT NULL, -- UTC time of the event
    account_id INTEGER, -- the account, if known (no foreign key: the log outlives accounts)
    login      TEXT, -- the login as known at the time
    role       TEXT, -- the account's role at the time
    action     TEXT NOT NULL, -- login, logout, file, denied, password, breach, account …
    path       TEXT, -- the path requested or the object changed
    result     TEXT NOT NULL, -- ok, denied, failed, limited …
    address    TEXT, -- client address
    user_agent TEXT, -- client's User-Agent
    invalid    INTEGER NOT NULL DEFAULT 0 CHECK (invalid IN (0, 1)) -- 1: made invalid by a credential breach (regulation 4.4)
);

-- Credential breaches reported under clause 4.3 of the regulation.
CREATE TABLE breach (
    id          INTEGER PRIMARY KEY, -- surrogate key
    account_id  INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE, -- the account whose credentials leaked
    noticed_at  TEXT NOT NULL, -- when the leak was noticed; audit entries since then are invalid
    reported_at TEXT NOT NULL, -- when it was recorded
    reported_by TEXT NOT NULL -- who recorded it: the user ("self") or the office ("cli")
);

CREATE INDEX session_account ON session (account_id);
CREATE INDEX login_failure_login ON login_failure (login, at);
CREATE INDEX login_failure_address ON login_failure (address, at);
CREATE INDEX audit_account_at ON audit (account_id, at);
CREATE INDEX account_guardian ON account (guardian_id);
CREATE INDEX account_student ON account (student_id);
CREATE INDEX account_staff ON account (staff_id);
