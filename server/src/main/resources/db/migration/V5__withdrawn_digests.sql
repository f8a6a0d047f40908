-- A withdrawn reference digest stays on record: its component is still checked, and a device
-- that still reports the digest is contraindicated, even when no other digest is allowed.
-- Written in the SQL that H2 2.x and PostgreSQL 12+ both accept.
ALTER TABLE group_allowed_digests ADD COLUMN withdrawn_at TIMESTAMP WITH TIME ZONE;
