-- The audit log becomes a hash chain (docs/audit.md). Each entry gets a contiguous sequence
-- number and the SHA-256 chaining it to the one before; entries written before this migration
-- are numbered and chained by the server at start-up, in id order, under the head's lock.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN subject VARCHAR(200);
ALTER TABLE audit_events ADD COLUMN outcome VARCHAR(16);
ALTER TABLE audit_events ADD COLUMN entry_hash CHAR(64);

-- What the columns added here would have said for the older entries: all were successes.
UPDATE audit_events SET subject = device_id, outcome = 'ok';

CREATE UNIQUE INDEX audit_events_by_seq ON audit_events (seq);
DROP INDEX audit_events_by_device;
CREATE INDEX audit_events_by_device ON audit_events (device_id, seq);
CREATE INDEX audit_events_by_action ON audit_events (action, seq);

-- One row: the last entry appended. Every appender locks it (SELECT ... FOR UPDATE) just before
-- its transaction commits, so appenders on every node take turns and the chain never forks.
CREATE TABLE audit_chain_head (
    id        INT      NOT NULL PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT   NOT NULL,
    last_hash CHAR(64) NOT NULL
);
INSERT INTO audit_chain_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
