-- A kiosk account's cart is per terminal: each terminal that calls with `X-Terminal: <name>`
-- acts as a user of its own, made on first use, that no one can sign in as.
ALTER TABLE users ADD COLUMN terminal_of BIGINT REFERENCES users (id);
ALTER TABLE users ADD COLUMN terminal TEXT;
CREATE UNIQUE INDEX users_terminal ON users (terminal_of, terminal);
