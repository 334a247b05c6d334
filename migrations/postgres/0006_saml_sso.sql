-- SAML single sign-on. A waiting request now belongs to an app of either protocol: for OIDC
-- `client_id` is the client and `redirect_uri` the redirect URI; for SAML `client_id` is the
-- SP's entity ID, `redirect_uri` the ACS URL, `state` the RelayState and `saml_request_id`
-- the AuthnRequest's ID (NULL for IdP-initiated sign-in).
ALTER TABLE auth_requests DROP CONSTRAINT auth_requests_client_id_fkey;
ALTER TABLE auth_requests ADD COLUMN app_id TEXT REFERENCES apps(id) ON DELETE CASCADE;
UPDATE auth_requests r SET app_id = c.app_id FROM oidc_clients c WHERE c.client_id = r.client_id;
DELETE FROM auth_requests WHERE app_id IS NULL;
ALTER TABLE auth_requests ALTER COLUMN app_id SET NOT NULL;
ALTER TABLE auth_requests ADD COLUMN protocol TEXT NOT NULL DEFAULT 'oidc' CHECK (protocol IN ('oidc', 'saml'));
ALTER TABLE auth_requests ALTER COLUMN protocol DROP DEFAULT;
ALTER TABLE auth_requests ADD COLUMN saml_request_id TEXT;

-- Replay protection: an SP's AuthnRequest ID is accepted once while it could still be fresh.
CREATE TABLE saml_request_ids (
    entity_id  TEXT NOT NULL,
    request_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (entity_id, request_id)
);

-- A finished SAML login waiting for the browser to carry it to the ACS. A success response
-- is handed only to the browser holding `session_id`'s cookie, once.
CREATE TABLE saml_deliveries (
    token_hash  TEXT PRIMARY KEY,
    session_id  TEXT,
    acs_url     TEXT NOT NULL,
    response    TEXT NOT NULL,                     -- base64 of the signed samlp:Response
    relay_state TEXT,
    expires_at  BIGINT NOT NULL
);

-- Which SPs received an assertion in an SSO session (for single logout).
CREATE TABLE saml_session_participants (
    session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name_id       TEXT NOT NULL,
    session_index TEXT NOT NULL,
    PRIMARY KEY (session_id, app_id)
);
