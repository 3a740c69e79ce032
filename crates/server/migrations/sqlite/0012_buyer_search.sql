-- The box office finds an order by any part of its buyer's e-mail or name. Each buyer's words
-- are indexed as trigrams (FTS5's trigram tokenizer, case-insensitive), so that a part of a
-- word is found through the index rather than by reading every buyer: accounts by user id,
-- and the buyers that guest-list and kiosk orders name by order id. Triggers keep both.
DROP INDEX orders_buyer;
CREATE VIRTUAL TABLE user_search USING fts5 (words, tokenize = 'trigram');
INSERT INTO user_search (rowid, words)
SELECT id, email || ' ' || name FROM users WHERE terminal_of IS NULL;

CREATE TRIGGER user_search_insert AFTER INSERT ON users WHEN new.terminal_of IS NULL
BEGIN
    INSERT INTO user_search (rowid, words) VALUES (new.id, new.email || ' ' || new.name);
END;

CREATE TRIGGER user_search_update AFTER UPDATE OF email, name, terminal_of ON users
BEGIN
    DELETE FROM user_search WHERE rowid = old.id;
    INSERT INTO user_search (rowid, words)
    SELECT new.id, new.email || ' ' || new.name WHERE new.terminal_of IS NULL;
END;

CREATE TRIGGER user_search_delete AFTER DELETE ON users
BEGIN
    DELETE FROM user_search WHERE rowid = old.id;
END;

CREATE VIRTUAL TABLE order_buyer_search USING fts5 (words, tokenize = 'trigram');
INSERT INTO order_buyer_search (rowid, words)
SELECT id, COALESCE(buyer_email, '') || ' ' || COALESCE(buyer_name, '') FROM orders
WHERE buyer_name IS NOT NULL OR buyer_email IS NOT NULL;

CREATE TRIGGER order_buyer_search_insert AFTER INSERT ON orders
WHEN new.buyer_name IS NOT NULL OR new.buyer_email IS NOT NULL
BEGIN
    INSERT INTO order_buyer_search (rowid, words)
    VALUES (new.id, COALESCE(new.buyer_email, '') || ' ' || COALESCE(new.buyer_name, ''));
END;

CREATE TRIGGER order_buyer_search_update AFTER UPDATE OF buyer_name, buyer_email ON orders
BEGIN
    DELETE FROM order_buyer_search WHERE rowid = old.id;
    INSERT INTO order_buyer_search (rowid, words)
    SELECT new.id, COALESCE(new.buyer_email, '') || ' ' || COALESCE(new.buyer_name, '')
    WHERE new.buyer_name IS NOT NULL OR new.buyer_email IS NOT NULL;
END;

CREATE TRIGGER order_buyer_search_delete AFTER DELETE ON orders
BEGIN
    DELETE FROM order_buyer_search WHERE rowid = old.id;
END;
