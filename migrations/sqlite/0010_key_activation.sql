-- Coordinated key rotation: a new signing key is published (in every node's JWKS) before any
-- node signs with it. `activates_at` is when it starts signing (NULL: from `created_at`); the
-- key it replaces gets `retired_at` = that same instant, in the future at rotation time.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;

-- The first signing key is made by whichever node starts first: the node that inserts this one
-- row makes it, in the same transaction; any other gets a unique violation and loads the winner's.
CREATE TABLE signing_key_init (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
INSERT INTO signing_key_init (id) SELECT 1 WHERE EXISTS (SELECT 1 FROM signing_keys);
