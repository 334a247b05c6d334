-- Foundation schema (SQLite). Times are Unix seconds (BIGINT) so both dialects share queries.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,            -- stable subject identifier (UUID), never the username
    username            TEXT NOT NULL UNIQUE,
    email               TEXT,
    email_verified      BOOLEAN NOT NULL DEFAULT FALSE,
    display_name        TEXT,
    password_hash       TEXT,
    is_admin            BOOLEAN NOT NULL DEFAULT FALSE,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    password_changed_at BIGINT
);

CREATE TABLE groups (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE user_groups (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);

CREATE TABLE apps (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    protocol   TEXT NOT NULL CHECK (protocol IN ('oidc', 'saml')),
    created_at BIGINT NOT NULL
);

CREATE TABLE oidc_clients (
    client_id                 TEXT PRIMARY KEY,
    app_id                    TEXT NOT NULL UNIQUE REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash               TEXT,                  -- NULL: public client (PKCE required)
    redirect_uris             TEXT NOT NULL,         -- JSON array, matched exactly
    post_logout_redirect_uris TEXT NOT NULL,         -- JSON array, matched exactly
    allowed_scopes            TEXT NOT NULL          -- space-separated
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,                   -- public id, the `sid` claim
    token_hash   TEXT NOT NULL UNIQUE,               -- SHA-256 of the cookie value
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,                    -- absolute timeout
    auth_time    BIGINT NOT NULL,                    -- last first-factor authentication
    amr          TEXT NOT NULL,                      -- space-separated RFC 8176 values
    acr          TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE auth_requests (
    id                    TEXT PRIMARY KEY,
    client_id             TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    redirect_uri          TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    state                 TEXT,
    nonce                 TEXT,
    code_challenge        TEXT,
    prompt                TEXT,
    max_age               BIGINT,
    login_hint            TEXT,
    acr_values            TEXT,
    created_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL
);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,                    -- one refresh-token family
    client_id   TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id  TEXT,
    scope       TEXT NOT NULL,
    nonce       TEXT,
    auth_time   BIGINT NOT NULL,
    amr         TEXT NOT NULL,
    acr         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX grants_session ON grants(session_id);

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY,
    grant_id       TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    private_key   BLOB NOT NULL,                     -- PKCS#8, AES-256-GCM under the master key
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,                            -- no longer signs
    expires_at    BIGINT                             -- no longer published
);
