-- Buyers of their own: accounts made by sign-up, password resets by a code sent by e-mail,
-- and the outbox every e-mail goes through.

-- A reset code, kept as its SHA-256: one try counts against it, five end it.
CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    tries      INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id, id);

-- Every e-mail, written in the transaction of the change it tells of. An order's e-mail is
-- rendered at its first claim and kept (subject and bodies), so that a resend is the same.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    order_id    INTEGER REFERENCES orders (id),
    refund_id   INTEGER REFERENCES refunds (id),
    message_key TEXT NOT NULL UNIQUE,
    subject     TEXT,
    text_body   TEXT,
    html_body   TEXT,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    claimed_at  INTEGER,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    error       TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_order ON outbox (order_id) WHERE order_id IS NOT NULL;
