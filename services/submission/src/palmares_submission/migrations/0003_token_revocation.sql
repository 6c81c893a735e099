-- Revocation of a collectivité's token (issue 8): the hash is removed, so no
-- token matches any more until an operator (or the collectivité, before) issues
-- a new one. When each token was issued or revoked is kept for the audit.
ALTER TABLE collectivites ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE collectivites ADD COLUMN token_issued_at timestamptz;
ALTER TABLE collectivites ADD COLUMN token_revoked_at timestamptz;
UPDATE collectivites SET token_issued_at = registered_at;
