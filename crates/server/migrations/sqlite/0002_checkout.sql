-- Orders, their SumUp checkout attempts, and the SumUp sandbox's own checkouts.

ALTER TABLE orders ADD COLUMN page_id INTEGER REFERENCES pages(id);
ALTER TABLE orders ADD COLUMN currency TEXT NOT NULL DEFAULT 'GBP';
ALTER TABLE orders ADD COLUMN merchant_code TEXT;
ALTER TABLE orders ADD COLUMN paid_at INTEGER;
ALTER TABLE orders ADD COLUMN refund_amount INTEGER;
-- NULL, 'due', 'refunding' (a refund request is out; shown as due) or 'refunded'.
ALTER TABLE orders ADD COLUMN refund_status TEXT;
ALTER TABLE orders ADD COLUMN refund_claimed_at INTEGER;
CREATE INDEX orders_user ON orders (user_id, id);

-- Every SumUp checkout made for an order; the newest is the one being paid.
CREATE TABLE checkouts (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES orders(id),
    sumup_id       TEXT NOT NULL UNIQUE,
    reference      TEXT NOT NULL,
    url            TEXT NOT NULL,
    status         TEXT NOT NULL,
    transaction_id TEXT,
    created_at     INTEGER NOT NULL
);
CREATE INDEX checkouts_order ON checkouts (order_id, id);

CREATE TABLE sandbox_checkouts (
    id               TEXT PRIMARY KEY,
    reference        TEXT NOT NULL,
    merchant_code    TEXT NOT NULL,
    amount           INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    description      TEXT,
    return_url       TEXT,
    redirect_url     TEXT,
    status           TEXT NOT NULL,
    transaction_id   TEXT,
    transaction_code TEXT,
    refunded         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    UNIQUE (merchant_code, reference)
);
