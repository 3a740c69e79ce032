-- A ticket that changes state within its event and type (the usual change: pending to
-- reserved at checkout, reserved to confirmed on payment) is journalled as one entry, its
-- old state taken away and its new one added, instead of two. The journal's entries are
-- what every read of an event's counts adds until they are folded.
CREATE OR REPLACE FUNCTION ticket_counts_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.event_id = NEW.event_id
       AND COALESCE(OLD.ticket_type_id, 0) = COALESCE(NEW.ticket_type_id, 0) THEN
        INSERT INTO ticket_count_deltas (event_id, type_key, pending, reserved, confirmed,
                                         checked_in, refunded, paid_amount, refunded_amount)
        VALUES (NEW.event_id, COALESCE(NEW.ticket_type_id, 0),
                (NEW.state = 'pending')::int - (OLD.state = 'pending')::int,
                (NEW.state = 'reserved')::int - (OLD.state = 'reserved')::int,
                (NEW.state = 'confirmed')::int - (OLD.state = 'confirmed')::int,
                (NEW.state = 'checked_in')::int - (OLD.state = 'checked_in')::int,
                (NEW.state = 'refunded')::int - (OLD.state = 'refunded')::int,
                (CASE WHEN NEW.state IN ('confirmed', 'checked_in') THEN NEW.cost ELSE 0 END)
                  - (CASE WHEN OLD.state IN ('confirmed', 'checked_in') THEN OLD.cost ELSE 0 END),
                (CASE WHEN NEW.state = 'refunded' THEN NEW.cost ELSE 0 END)
                  - (CASE WHEN OLD.state = 'refunded' THEN OLD.cost ELSE 0 END));
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO ticket_count_deltas (event_id, type_key, pending, reserved, confirmed,
                                         checked_in, refunded, paid_amount, refunded_amount)
        VALUES (OLD.event_id, COALESCE(OLD.ticket_type_id, 0),
                -(OLD.state = 'pending')::int, -(OLD.state = 'reserved')::int,
                -(OLD.state = 'confirmed')::int, -(OLD.state = 'checked_in')::int,
                -(OLD.state = 'refunded')::int,
                -(CASE WHEN OLD.state IN ('confirmed', 'checked_in') THEN OLD.cost ELSE 0 END),
                -(CASE WHEN OLD.state = 'refunded' THEN OLD.cost ELSE 0 END));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_count_deltas (event_id, type_key, pending, reserved, confirmed,
                                         checked_in, refunded, paid_amount, refunded_amount)
        VALUES (NEW.event_id, COALESCE(NEW.ticket_type_id, 0),
                (NEW.state = 'pending')::int, (NEW.state = 'reserved')::int,
                (NEW.state = 'confirmed')::int, (NEW.state = 'checked_in')::int,
                (NEW.state = 'refunded')::int,
                (CASE WHEN NEW.state IN ('confirmed', 'checked_in') THEN NEW.cost ELSE 0 END),
                (CASE WHEN NEW.state = 'refunded' THEN NEW.cost ELSE 0 END));
    END IF;
    RETURN NULL;
END
$$;
