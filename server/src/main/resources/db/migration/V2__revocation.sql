-- Revocation and the CRL. Written in the SQL that H2 2.x and PostgreSQL 12+ both accept.

-- RFC 5280 §5.3.1 CRLReason code of a revoked certificate; NULL while it is good.
ALTER TABLE certificates ADD COLUMN revocation_reason SMALLINT;

-- The CRL lists revoked certificates that have not expired long ago.
CREATE INDEX certificates_by_status ON certificates (status, not_after);

-- The issuing CA's CRL number (RFC 5280 §5.2.3): one row, incremented in a transaction for
-- each CRL, so numbers keep increasing across restarts and across nodes sharing the registry.
CREATE TABLE crl_number (
    id          SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    last_number BIGINT   NOT NULL
);
INSERT INTO crl_number (id, last_number) VALUES (1, 0);
