-- A version number per cached table family, bumped by triggers in the same transaction as any
-- change: every node (and the CLI, writing the same file) changes it whatever code path wrote,
-- and a node that sees it move drops what it cached. `clients`: the OIDC client registrations
-- and their apps' names, cached by the token, authorization and logout endpoints.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('clients', 0);

CREATE TRIGGER oidc_clients_inserted AFTER INSERT ON oidc_clients
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'clients'; END;
CREATE TRIGGER oidc_clients_updated AFTER UPDATE ON oidc_clients
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'clients'; END;
CREATE TRIGGER oidc_clients_deleted AFTER DELETE ON oidc_clients
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'clients'; END;
CREATE TRIGGER apps_renamed AFTER UPDATE OF name ON apps
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'clients'; END;
CREATE TRIGGER apps_deleted AFTER DELETE ON apps
BEGIN UPDATE cache_versions SET version = version + 1 WHERE name = 'clients'; END;
