-- SAML 2.0: service providers (apps whose protocol is 'saml') and the IdP's signing credential.

CREATE TABLE saml_service_providers (
    app_id               TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    entity_id            TEXT NOT NULL UNIQUE,
    acs                  TEXT NOT NULL,            -- JSON [{"url", "index", "binding", "is_default"}]
    slo_url              TEXT,                     -- SingleLogoutService (HTTP-Redirect or HTTP-POST)
    slo_binding          TEXT,
    certificate          TEXT,                     -- SP signing certificate, base64 DER
    want_requests_signed BOOLEAN NOT NULL,
    name_id_format       TEXT NOT NULL CHECK (name_id_format IN ('persistent', 'emailAddress', 'unspecified')),
    attributes           TEXT NOT NULL,            -- JSON [{"name", "source"}]
    sign                 TEXT NOT NULL CHECK (sign IN ('assertion', 'response', 'both')),
    allow_idp_initiated  BOOLEAN NOT NULL,
    default_relay_state  TEXT
);

CREATE TABLE saml_credentials (
    id          TEXT PRIMARY KEY,                  -- 'idp': one credential, made on first use
    private_key BYTEA NOT NULL,                     -- RSA, PKCS#1 DER, AES-256-GCM under the master key
    certificate BYTEA NOT NULL,                     -- self-signed X.509, DER
    created_at  BIGINT NOT NULL,
    not_after   BIGINT NOT NULL
);
