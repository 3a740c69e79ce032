-- A refund SumUp refuses for good ends as 'failed' with SumUp's reason; one that could not
-- be sent (network, 5xx, 429) waits until refund_next_at before the next try.
ALTER TABLE orders ADD COLUMN refund_message TEXT;
ALTER TABLE orders ADD COLUMN refund_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refund_next_at BIGINT;
CREATE INDEX orders_refund_due ON orders (refund_status, refund_next_at);

-- The sandbox's transactions: every attempt on a hosted page is one (a decline, then a
-- payment on the same page, makes two), and refunds are taken from them.
CREATE TABLE sandbox_transactions (
    id               TEXT PRIMARY KEY,
    checkout_id      TEXT NOT NULL REFERENCES sandbox_checkouts (id),
    -- 1 for the checkout's first attempt, 2 for the next...
    attempt          BIGINT NOT NULL,
    merchant_code    TEXT NOT NULL,
    transaction_code TEXT NOT NULL,
    amount           BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    -- SUCCESSFUL, FAILED or REFUNDED (after any refund, as at SumUp)
    status           TEXT NOT NULL,
    refunded         BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX sandbox_transactions_checkout ON sandbox_transactions (checkout_id, attempt);
INSERT INTO sandbox_transactions
    (id, checkout_id, attempt, merchant_code, transaction_code, amount, currency, status, refunded, created_at)
SELECT transaction_id, id, 1, merchant_code, transaction_code, amount, currency,
       CASE WHEN status <> 'PAID' THEN 'FAILED'
            WHEN refunded >= amount THEN 'REFUNDED'
            ELSE 'SUCCESSFUL' END,
       refunded, created_at
FROM sandbox_checkouts WHERE transaction_id IS NOT NULL AND transaction_code IS NOT NULL;
ALTER TABLE sandbox_checkouts DROP COLUMN transaction_id;
ALTER TABLE sandbox_checkouts DROP COLUMN transaction_code;
ALTER TABLE sandbox_checkouts DROP COLUMN refunded;
