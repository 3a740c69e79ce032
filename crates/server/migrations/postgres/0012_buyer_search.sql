-- The box office finds an order by any part of its buyer's e-mail or name: trigram indexes
-- (pg_trgm, a trusted extension since PostgreSQL 13 that the database's owner may create)
-- find a part of a word without reading every buyer.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DROP INDEX orders_buyer;
CREATE INDEX users_search ON users
    USING gin ((LOWER(email) || ' ' || LOWER(name)) gin_trgm_ops)
    WHERE terminal_of IS NULL;
CREATE INDEX orders_buyer_search ON orders
    USING gin ((LOWER(COALESCE(buyer_email, '')) || ' ' || LOWER(COALESCE(buyer_name, ''))) gin_trgm_ops)
    WHERE buyer_name IS NOT NULL OR buyer_email IS NOT NULL;
