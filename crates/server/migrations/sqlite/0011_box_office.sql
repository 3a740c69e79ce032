-- The box office: refunds of chosen tickets (a ticket state `refunded`, one row per refund,
-- the sold-out refund among them), guest-list orders, an order's buyer and history, and the
-- sales of every event kept as counts rather than counted on each read.

-- Every refund an order has, from the sold-out rule or the box office, each with its own
-- life: due → refunding (one process asks SumUp) → refunded or failed.
CREATE TABLE refunds (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    reason      TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER,
    claimed_at  INTEGER,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    by_user     INTEGER REFERENCES users (id),
    note        TEXT
);
CREATE INDEX refunds_order ON refunds (order_id, id);
CREATE INDEX refunds_due ON refunds (status, next_at);
INSERT INTO refunds (order_id, reason, amount, status, message, attempts, next_at, claimed_at,
                     created_at, finished_at)
SELECT id, 'sold_out', refund_amount, refund_status, refund_message, refund_attempts,
       refund_next_at, refund_claimed_at, COALESCE(paid_at, created_at),
       CASE WHEN refund_status IN ('refunded', 'failed') THEN COALESCE(paid_at, created_at) END
FROM orders WHERE refund_status IS NOT NULL AND refund_amount IS NOT NULL;
DROP INDEX orders_refund_due;
ALTER TABLE orders DROP COLUMN refund_amount;
ALTER TABLE orders DROP COLUMN refund_status;
ALTER TABLE orders DROP COLUMN refund_message;
ALTER TABLE orders DROP COLUMN refund_attempts;
ALTER TABLE orders DROP COLUMN refund_next_at;
ALTER TABLE orders DROP COLUMN refund_claimed_at;

-- The refund a refunded ticket went back with.
ALTER TABLE tickets ADD COLUMN refund_id INTEGER REFERENCES refunds (id);

-- A guest-list order is `comp` (nothing to pay); its buyer is who it was made for.
ALTER TABLE orders ADD COLUMN method TEXT;
ALTER TABLE orders ADD COLUMN buyer_name TEXT;
ALTER TABLE orders ADD COLUMN buyer_email TEXT;
ALTER TABLE orders ADD COLUMN cancelled_at INTEGER;
CREATE INDEX orders_buyer ON orders (buyer_email, buyer_name) WHERE buyer_name IS NOT NULL;
CREATE INDEX orders_paid ON orders (paid_at, id);
CREATE INDEX tickets_checked_in ON tickets (checked_in_at) WHERE checked_in_at IS NOT NULL;

-- What each event has, by ticket type (0: tickets without a type), kept in the transaction of
-- every change of a ticket. `changes` counts the changes, for those who wait on sales.
CREATE TABLE ticket_counts (
    event_id        INTEGER NOT NULL REFERENCES events (id),
    type_key        INTEGER NOT NULL,
    pending         INTEGER NOT NULL DEFAULT 0,
    reserved        INTEGER NOT NULL DEFAULT 0,
    confirmed       INTEGER NOT NULL DEFAULT 0,
    checked_in      INTEGER NOT NULL DEFAULT 0,
    refunded        INTEGER NOT NULL DEFAULT 0,
    paid_amount     INTEGER NOT NULL DEFAULT 0,
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    changes         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, type_key)
);
-- On PostgreSQL the changes are journalled here and folded into the counts in the background;
-- on SQLite (one writer) the counts change in place and this stays empty. Reads add both.
CREATE TABLE ticket_count_deltas (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL,
    type_key        INTEGER NOT NULL,
    pending         INTEGER NOT NULL,
    reserved        INTEGER NOT NULL,
    confirmed       INTEGER NOT NULL,
    checked_in      INTEGER NOT NULL,
    refunded        INTEGER NOT NULL,
    paid_amount     INTEGER NOT NULL,
    refunded_amount INTEGER NOT NULL
);
CREATE INDEX ticket_count_deltas_event ON ticket_count_deltas (event_id);

INSERT INTO ticket_counts (event_id, type_key, pending, reserved, confirmed, checked_in, refunded,
                           paid_amount, refunded_amount, changes)
SELECT event_id, COALESCE(ticket_type_id, 0),
       SUM(state = 'pending'), SUM(state = 'reserved'), SUM(state = 'confirmed'),
       SUM(state = 'checked_in'), SUM(state = 'refunded'),
       SUM(CASE WHEN state IN ('confirmed', 'checked_in') THEN cost ELSE 0 END),
       SUM(CASE WHEN state = 'refunded' THEN cost ELSE 0 END),
       COUNT(*)
FROM tickets GROUP BY event_id, COALESCE(ticket_type_id, 0);

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
BEGIN
    INSERT OR IGNORE INTO ticket_counts (event_id, type_key)
        VALUES (NEW.event_id, COALESCE(NEW.ticket_type_id, 0));
    UPDATE ticket_counts SET
        pending = pending + (NEW.state = 'pending'),
        reserved = reserved + (NEW.state = 'reserved'),
        confirmed = confirmed + (NEW.state = 'confirmed'),
        checked_in = checked_in + (NEW.state = 'checked_in'),
        refunded = refunded + (NEW.state = 'refunded'),
        paid_amount = paid_amount
            + (CASE WHEN NEW.state IN ('confirmed', 'checked_in') THEN NEW.cost ELSE 0 END),
        refunded_amount = refunded_amount + (CASE WHEN NEW.state = 'refunded' THEN NEW.cost ELSE 0 END),
        changes = changes + 1
    WHERE event_id = NEW.event_id AND type_key = COALESCE(NEW.ticket_type_id, 0);
END;

CREATE TRIGGER ticket_counts_update AFTER UPDATE OF state, cost, event_id, ticket_type_id ON tickets
WHEN OLD.state <> NEW.state OR OLD.cost <> NEW.cost OR OLD.event_id <> NEW.event_id
  OR COALESCE(OLD.ticket_type_id, 0) <> COALESCE(NEW.ticket_type_id, 0)
BEGIN
    UPDATE ticket_counts SET
        pending = pending - (OLD.state = 'pending'),
        reserved = reserved - (OLD.state = 'reserved'),
        confirmed = confirmed - (OLD.state = 'confirmed'),
        checked_in = checked_in - (OLD.state = 'checked_in'),
        refunded = refunded - (OLD.state = 'refunded'),
        paid_amount = paid_amount
            - (CASE WHEN OLD.state IN ('confirmed', 'checked_in') THEN OLD.cost ELSE 0 END),
        refunded_amount = refunded_amount - (CASE WHEN OLD.state = 'refunded' THEN OLD.cost ELSE 0 END)
    WHERE event_id = OLD.event_id AND type_key = COALESCE(OLD.ticket_type_id, 0);
    INSERT OR IGNORE INTO ticket_counts (event_id, type_key)
        VALUES (NEW.event_id, COALESCE(NEW.ticket_type_id, 0));
    UPDATE ticket_counts SET
        pending = pending + (NEW.state = 'pending'),
        reserved = reserved + (NEW.state = 'reserved'),
        confirmed = confirmed + (NEW.state = 'confirmed'),
        checked_in = checked_in + (NEW.state = 'checked_in'),
        refunded = refunded + (NEW.state = 'refunded'),
        paid_amount = paid_amount
            + (CASE WHEN NEW.state IN ('confirmed', 'checked_in') THEN NEW.cost ELSE 0 END),
        refunded_amount = refunded_amount + (CASE WHEN NEW.state = 'refunded' THEN NEW.cost ELSE 0 END),
        changes = changes + 1
    WHERE event_id = NEW.event_id AND type_key = COALESCE(NEW.ticket_type_id, 0);
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_counts SET
        pending = pending - (OLD.state = 'pending'),
        reserved = reserved - (OLD.state = 'reserved'),
        confirmed = confirmed - (OLD.state = 'confirmed'),
        checked_in = checked_in - (OLD.state = 'checked_in'),
        refunded = refunded - (OLD.state = 'refunded'),
        paid_amount = paid_amount
            - (CASE WHEN OLD.state IN ('confirmed', 'checked_in') THEN OLD.cost ELSE 0 END),
        refunded_amount = refunded_amount - (CASE WHEN OLD.state = 'refunded' THEN OLD.cost ELSE 0 END),
        changes = changes + 1
    WHERE event_id = OLD.event_id AND type_key = COALESCE(OLD.ticket_type_id, 0);
END;
