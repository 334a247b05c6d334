-- The client credentials grant (RFC 6749 §4.4), opted into per confidential client: the
-- client asks for an access token in its own name, with no user. NULL (every client until an
-- administrator turns it on): not allowed. Otherwise the time from which the client's tokens
-- count: set when the grant is turned on and when the client's secret is replaced, so tokens
-- issued before either are void (turning the grant off and on again does not bring them
-- back, and a leaked secret's tokens end with it). A change bumps the `clients` cache version
-- through the update trigger of 0020, so every node sees it.
ALTER TABLE oidc_clients ADD COLUMN client_credentials_since BIGINT;

-- Access tokens revoked before they expire (RFC 7009) that belong to no grant: the client's
-- own tokens above. A token of a grant ends with its grant; these are named by their `jti`
-- until they expire, then purged. They go with their client.
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_access_tokens_client ON revoked_access_tokens(client_id);
