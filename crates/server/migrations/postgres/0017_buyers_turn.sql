-- How many buys each buyer has made. Every buy moves it, so that a buy made as one statement
-- can tell whether another buy of the same buyer committed after the statement's snapshot
-- (and counted the same cart): then it inserts nothing and is made again with the buyer's
-- row held. SQLite runs one write at a time and needs no such count.
ALTER TABLE users ADD COLUMN buys BIGINT NOT NULL DEFAULT 0;
