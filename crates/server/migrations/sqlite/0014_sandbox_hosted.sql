-- A sandbox checkout has a hosted payment page only when `hosted_checkout.enabled` was asked
-- for, as at SumUp (an integration that forgets it fails here too). Earlier checkouts had one.
ALTER TABLE sandbox_checkouts ADD COLUMN hosted INTEGER NOT NULL DEFAULT 1;
