-- Freshness nonces for device statements (draft-ietf-lamps-attestation-freshness). Written in
-- the SQL that H2 2.x and PostgreSQL 12+ both accept. Only a hash of each nonce is kept; every
-- server node sharing the registry sees the same nonces, and a nonce is spent by one UPDATE.
CREATE TABLE attestation_nonces (
    nonce_sha256    CHAR(64) NOT NULL PRIMARY KEY,
    issued_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    -- Set when a statement carrying the nonce is accepted: with the CSR's key, so that the same
    -- request sent again after a lost answer is still accepted, and no other.
    used_at         TIMESTAMP WITH TIME ZONE,
    used_key_sha256 CHAR(64)
);
CREATE INDEX attestation_nonces_by_expiry ON attestation_nonces (expires_at);
