-- Logins after a breach, devices that logged in before, and the e-mail
-- confirmation flow with hashed, expiring links and limited requests.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ', which sorts as it reads.

-- account.breached_at: when a breach of the account was reported
-- (regulation 4.4); its password logs in no more until the office sets a
-- one-time one, which clears it. NULL: no breach waiting.
ALTER TABLE account ADD COLUMN breached_at TEXT;

-- login_failure.device: SHA-256 of the device cookie of a browser that
-- logged in to the account before (a failure from it counts against that
-- device only); NULL: from a browser not known (counts against the login
-- and the address). A row is written before the password is checked, and
-- removed if the password was right.
ALTER TABLE login_failure ADD COLUMN device TEXT;

-- Browsers that logged in to an account: from them the right password passes
-- the limits on failures per login and per address.
CREATE TABLE login_device (
    token_hash   TEXT NOT NULL, -- SHA-256 of the device cookie's random token, hex
    account_id   INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE, -- an account that logged in from the browser
    created_at   TEXT NOT NULL, -- the account's first login from it
    last_used_at TEXT NOT NULL, -- its latest login from it; forgotten 180 days later
    PRIMARY KEY (token_hash, account_id)
);
CREATE INDEX login_device_account ON login_device (account_id);
CREATE INDEX login_failure_device ON login_failure (device, at);

-- mail_subscription.confirm_hash: SHA-256 of the token in the confirmation
-- link last sent (the link carries the token, the table only its hash;
-- mail_subscription.token is now only in unsubscribe links). NULL: no link
-- sent yet, or the address is confirmed.
ALTER TABLE mail_subscription ADD COLUMN confirm_hash TEXT;
-- mail_subscription.confirm_sent_at: when that link was sent; it expires
-- 48 hours later.
ALTER TABLE mail_subscription ADD COLUMN confirm_sent_at TEXT;
CREATE INDEX mail_subscription_confirm ON mail_subscription (confirm_hash);

-- Every confirmation a guardian asked for on the account page: one per
-- subscription in a few hours, a few per account and day.
CREATE TABLE mail_request (
    id              INTEGER PRIMARY KEY, -- surrogate key
    account_id      INTEGER NOT NULL REFERENCES account (id) ON DELETE CASCADE, -- the guardian's account that asked
    subscription_id INTEGER NOT NULL REFERENCES mail_subscription (id) ON DELETE CASCADE, -- the subscription it was for
    address         TEXT NOT NULL, -- the address to be confirmed
    at              TEXT NOT NULL -- when it was asked for; kept for a day
);
CREATE INDEX mail_request_account ON mail_request (account_id, at);
CREATE INDEX mail_request_subscription ON mail_request (subscription_id, at);
