-- A version number per cached table family, bumped by triggers in the same transaction as any
-- change: every node (and the CLI) changes it whatever code path wrote, and a node that sees it
-- move drops what it cached. `clients`: the OIDC client registrations and their apps' names,
-- cached by the token, authorization and logout endpoints.
CREATE TABLE cache_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO cache_versions (name, version) VALUES ('clients', 0);

CREATE FUNCTION bump_clients_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_versions SET version = version + 1 WHERE name = 'clients';
    RETURN NULL;
END
$$;
CREATE TRIGGER oidc_clients_changed AFTER INSERT OR UPDATE OR DELETE ON oidc_clients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_clients_version();
CREATE TRIGGER apps_renamed AFTER UPDATE OF name ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION bump_clients_version();
CREATE TRIGGER apps_deleted AFTER DELETE ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION bump_clients_version();
