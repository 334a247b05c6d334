-- Refresh-token rotation as one statement. The rotation UPDATE rewrites the presented token's
-- row into its successor (new hash, new lifetime); this trigger keeps the predecessor beside it
-- as a used row, so a later replay of it is recognised and revokes the family. A statement and
-- its triggers are one atomic unit in SQLite, so the successor never exists without the used
-- predecessor, and there is no multi-statement transaction to hold the write lock across round
-- trips.
CREATE TRIGGER refresh_tokens_keep_predecessor
AFTER UPDATE OF token_hash ON refresh_tokens
WHEN OLD.token_hash <> NEW.token_hash
BEGIN
    INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, used_at)
    VALUES (OLD.token_hash, OLD.grant_id, OLD.created_at, OLD.expires_at, NEW.created_at);
END;
