-- The catalog applied live: what it brought in, what it retired (never deleted), the price
-- a cart line or a pending ticket had before a change, and the audit log of managers' changes.

ALTER TABLE users ADD COLUMN from_catalog INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN catalog_password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
-- Every account so far came from a catalog (there was no other way in), but not the
-- terminals' own carts.
UPDATE users SET from_catalog = 1, catalog_password_hash = password_hash WHERE terminal_of IS NULL;

ALTER TABLE events ADD COLUMN archived_at INTEGER;
ALTER TABLE ticket_types ADD COLUMN retired_at INTEGER;
ALTER TABLE products ADD COLUMN withdrawn_at INTEGER;

ALTER TABLE tickets ADD COLUMN previous_cost INTEGER;
ALTER TABLE cart_lines ADD COLUMN added_price INTEGER;
-- What each ticket type has sold, counted when the catalog is applied.
CREATE INDEX tickets_type_state ON tickets (ticket_type_id, state);

-- Failed sign-ins are counted per address and account together, so that a stranger's
-- guesses do not lock the venue's own terminals out.
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_address ON login_failures (email, address, at);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER REFERENCES users (id),
    address TEXT,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
