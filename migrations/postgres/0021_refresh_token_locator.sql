-- Refresh tokens that name their row (crypto::locator). A token is now found by its row's key,
-- and a rotation inserts the successor with `parent_id` naming the token it replaces: the
-- unique index on `parent_id` lets a token be replaced once, and a token is used exactly when
-- a row names it as its parent. Nothing is updated in place.
--
-- Tokens issued before this migration carry no key: they keep `used_at`, are marked `legacy`,
-- and are found by their hash through a partial index until they expire.
ALTER TABLE refresh_tokens ADD COLUMN legacy BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE refresh_tokens ALTER COLUMN legacy SET DEFAULT FALSE;
ALTER TABLE refresh_tokens ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE refresh_tokens ADD COLUMN parent_id BIGINT;
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_pkey;
ALTER TABLE refresh_tokens ADD PRIMARY KEY (id);

CREATE UNIQUE INDEX refresh_tokens_parent ON refresh_tokens(parent_id);
CREATE UNIQUE INDEX refresh_tokens_legacy ON refresh_tokens(token_hash) WHERE legacy;
