-- What a user is to the venue: customer (a buyer), kiosk (a box-office terminal) or staff
-- (door staff, who check tickets in).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'customer';

-- When a ticket was checked in at the door (state 'checked_in').
ALTER TABLE tickets ADD COLUMN checked_in_at BIGINT;

-- The secret in a paid order's ticket link, /t/<secret>: 128 random bits, given when it is paid.
ALTER TABLE orders ADD COLUMN tickets_secret TEXT;
CREATE UNIQUE INDEX orders_tickets_secret ON orders (tickets_secret);
