-- Money is integer minor units; times are Unix seconds (UTC).

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE pages (
    id                  INTEGER PRIMARY KEY,
    slug                TEXT NOT NULL UNIQUE,
    title               TEXT NOT NULL,
    sumup_merchant_code TEXT
);

CREATE TABLE calendars (
    id      INTEGER PRIMARY KEY,
    slug    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    page_id INTEGER REFERENCES pages(id)
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    calendar_id   INTEGER NOT NULL REFERENCES calendars(id),
    name          TEXT NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER,
    state         TEXT NOT NULL,
    ticket_price  INTEGER,
    ticket_count  INTEGER,
    description   TEXT,
    location      TEXT,
    max_per_order INTEGER NOT NULL
);
CREATE INDEX events_listing ON events (starts_at, id);

CREATE TABLE ticket_types (
    id       INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events(id),
    name     TEXT NOT NULL,
    cost     INTEGER NOT NULL
);
CREATE INDEX ticket_types_event ON ticket_types (event_id);

CREATE TABLE products (
    id      INTEGER PRIMARY KEY,
    slug    TEXT NOT NULL UNIQUE,
    title   TEXT NOT NULL,
    price   INTEGER NOT NULL,
    page_id INTEGER REFERENCES pages(id)
);

CREATE TABLE orders (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    status     TEXT NOT NULL,
    total      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- A product line is in the cart while order_id is NULL; checkout moves it into an order.
CREATE TABLE cart_lines (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL,
    order_id   INTEGER REFERENCES orders(id),
    unit_price INTEGER
);
CREATE INDEX cart_lines_user ON cart_lines (user_id, order_id);

CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    calendar_id INTEGER NOT NULL REFERENCES calendars(id),
    name        TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER,
    cost        INTEGER NOT NULL,
    state       TEXT NOT NULL,
    order_id    INTEGER REFERENCES orders(id)
);
CREATE INDEX bookings_user ON bookings (user_id, state);

CREATE TABLE tickets (
    id             INTEGER PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    event_id       INTEGER NOT NULL REFERENCES events(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    ticket_type_id INTEGER REFERENCES ticket_types(id),
    cost           INTEGER NOT NULL,
    state          TEXT NOT NULL,
    order_id       INTEGER REFERENCES orders(id),
    created_at     INTEGER NOT NULL
);
CREATE INDEX tickets_event_state ON tickets (event_id, state);
CREATE INDEX tickets_user_state ON tickets (user_id, state);

-- One row per (user, key): the first request's fingerprint and, once answered, its answer.
CREATE TABLE idempotency_keys (
    user_id         INTEGER NOT NULL REFERENCES users(id),
    idem_key        TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- At most one open line per product and user: adding merges into it.
CREATE UNIQUE INDEX cart_lines_open ON cart_lines (user_id, product_id) WHERE order_id IS NULL;
