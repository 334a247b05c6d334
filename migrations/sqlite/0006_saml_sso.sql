-- SAML single sign-on. A waiting request now belongs to an app of either protocol: for OIDC
-- `client_id` is the client and `redirect_uri` the redirect URI; for SAML `client_id` is the
-- SP's entity ID, `redirect_uri` the ACS URL, `state` the RelayState and `saml_request_id`
-- the AuthnRequest's ID (NULL for IdP-initiated sign-in).
CREATE TABLE auth_requests_v2 (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    protocol        TEXT NOT NULL CHECK (protocol IN ('oidc', 'saml')),
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    state           TEXT,
    nonce           TEXT,
    code_challenge  TEXT,
    prompt          TEXT,
    max_age         BIGINT,
    login_hint      TEXT,
    acr_values      TEXT,
    saml_request_id TEXT,
    plugin_verdict  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
INSERT INTO auth_requests_v2 (id, app_id, protocol, client_id, redirect_uri, scope, state, nonce, code_challenge,
                              prompt, max_age, login_hint, acr_values, saml_request_id, plugin_verdict, created_at,
                              expires_at)
SELECT r.id, c.app_id, 'oidc', r.client_id, r.redirect_uri, r.scope, r.state, r.nonce, r.code_challenge, r.prompt,
       r.max_age, r.login_hint, r.acr_values, NULL, r.plugin_verdict, r.created_at, r.expires_at
FROM auth_requests r JOIN oidc_clients c ON c.client_id = r.client_id;
DROP TABLE auth_requests;
ALTER TABLE auth_requests_v2 RENAME TO auth_requests;

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
