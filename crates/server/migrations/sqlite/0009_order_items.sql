-- An order's items are looked up by the order (its total, its pages, confirming, cancelling,
-- showing it): without these every such statement read every ticket, booking and cart line
-- ever sold, so each purchase cost more than the one before.
CREATE INDEX tickets_order ON tickets (order_id);
CREATE INDEX bookings_order ON bookings (order_id);
CREATE INDEX cart_lines_order ON cart_lines (order_id);
