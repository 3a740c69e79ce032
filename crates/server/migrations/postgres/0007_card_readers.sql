-- SumUp Solo card readers, named in the catalog, and checkouts paid on them.
CREATE TABLE readers (
    name     TEXT PRIMARY KEY,
    sumup_id TEXT NOT NULL,
    page_id  BIGINT REFERENCES pages (id)
);

-- 'hosted' (SumUp's payment page at url) or 'reader' (a card reader; url is empty and
-- reference is the payment's client_transaction_id).
ALTER TABLE checkouts ADD COLUMN method TEXT NOT NULL DEFAULT 'hosted';
ALTER TABLE checkouts ADD COLUMN reader TEXT;
ALTER TABLE checkouts ADD COLUMN reader_id TEXT;
CREATE INDEX checkouts_reference ON checkouts (reference);

-- The sandbox's reader checkouts: reference is their client_transaction_id.
ALTER TABLE sandbox_checkouts ADD COLUMN reader_id TEXT;
CREATE INDEX sandbox_checkouts_reader ON sandbox_checkouts (reader_id, status);
