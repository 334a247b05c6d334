-- A plugin's component moves to a table of its own. SQLite stores a row's columns in order,
-- and reading any column stored after a large blob follows the blob's chain of overflow
-- pages: every login with a plugin read the whole component (1.6 MB for a JavaScript one)
-- just to get at its limits. The plugins row now holds only metadata. (PostgreSQL keeps large
-- values out of line anyway; the two dialects keep one layout.)
CREATE TABLE plugin_wasm (
    plugin_id TEXT PRIMARY KEY REFERENCES plugins(id) ON DELETE CASCADE,
    wasm      BYTEA NOT NULL
);
INSERT INTO plugin_wasm (plugin_id, wasm) SELECT id, wasm FROM plugins;
ALTER TABLE plugins DROP COLUMN wasm;
