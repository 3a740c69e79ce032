-- A page (venue) keeps its own time: an IANA zone like 'Europe/London'; NULL is the
-- server's --timezone.
ALTER TABLE pages ADD COLUMN timezone TEXT;
