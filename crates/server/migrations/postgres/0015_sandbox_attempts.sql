-- How many payment attempts each sandbox checkout has taken. A new attempt takes its number
-- from the checkout's row as it changes it, so that two attempts at once cannot take the
-- same number (counting the transactions could, before the first was committed).
ALTER TABLE sandbox_checkouts ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
UPDATE sandbox_checkouts SET attempts =
    (SELECT COUNT(*) FROM sandbox_transactions t WHERE t.checkout_id = sandbox_checkouts.id);
