-- Refresh tokens that name their row (crypto::locator). A token is now found by its row's key,
-- and a rotation inserts the successor with `parent_id` naming the token it replaces: the
-- unique index on `parent_id` lets a token be replaced once, and a token is used exactly when
-- a row names it as its parent. Nothing is updated in place, so the trigger that kept the
-- predecessor beside a rewritten row (0008) goes.
--
-- `id` is the rowid, so SQLite may hand out an id again, but only once every row with that id
-- or a higher one is gone; a successor always has a higher id than its parent, so no row then
-- names the reused id as its parent, and the new token starts unused as it should.
--
-- Tokens issued before this migration carry no key: they keep `used_at`, are marked `legacy`,
-- and are found by their hash through a partial index until they expire.
DROP TRIGGER refresh_tokens_keep_predecessor;

CREATE TABLE refresh_tokens_located (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL,                          -- SHA-256 of the secret (of the whole token if legacy)
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,                                 -- legacy rows only
    parent_id  BIGINT,                                 -- the token this one replaced
    legacy     BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO refresh_tokens_located (token_hash, grant_id, created_at, expires_at, used_at, parent_id, legacy)
    SELECT token_hash, grant_id, created_at, expires_at, used_at, NULL, TRUE FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_located RENAME TO refresh_tokens;

CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE UNIQUE INDEX refresh_tokens_parent ON refresh_tokens(parent_id);
CREATE UNIQUE INDEX refresh_tokens_legacy ON refresh_tokens(token_hash) WHERE legacy;
