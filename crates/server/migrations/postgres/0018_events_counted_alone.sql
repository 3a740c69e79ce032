-- How many times a settlement counted an event alone (more was sold than fits). A payment
-- made as one statement while what is sold fits holds the event shared and counts it as of
-- its snapshot; if this moved since, tickets claimed after that snapshot may have been
-- confirmed, and the payment is made again in a transaction that counts the event alone.
-- SQLite runs one write at a time and needs no such count.
ALTER TABLE events ADD COLUMN alone_turns BIGINT NOT NULL DEFAULT 0;
