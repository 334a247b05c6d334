-- SAML transient NameIDs (SAML Core §8.3.8): an SP may be registered for them, and a request may
-- ask for a format of its own, which the waiting request keeps until the assertion is built.
-- SQLite cannot change a CHECK constraint, so the SP table is rebuilt (nothing references it).

CREATE TABLE saml_service_providers_v2 (
    app_id               TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    entity_id            TEXT NOT NULL UNIQUE,
    acs                  TEXT NOT NULL,
    slo_url              TEXT,
    slo_binding          TEXT,
    certificate          TEXT,
    want_requests_signed BOOLEAN NOT NULL,
    name_id_format       TEXT NOT NULL CHECK (name_id_format IN ('persistent', 'emailAddress', 'unspecified', 'transient')),
    attributes           TEXT NOT NULL,
    sign                 TEXT NOT NULL CHECK (sign IN ('assertion', 'response', 'both')),
    allow_idp_initiated  BOOLEAN NOT NULL,
    default_relay_state  TEXT
);
INSERT INTO saml_service_providers_v2 SELECT app_id, entity_id, acs, slo_url, slo_binding, certificate,
    want_requests_signed, name_id_format, attributes, sign, allow_idp_initiated, default_relay_state
FROM saml_service_providers;
DROP TABLE saml_service_providers;
ALTER TABLE saml_service_providers_v2 RENAME TO saml_service_providers;

ALTER TABLE auth_requests ADD COLUMN saml_name_id_format TEXT;
