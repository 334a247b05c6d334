-- SAML transient NameIDs (SAML Core §8.3.8): an SP may be registered for them, and a request may
-- ask for a format of its own, which the waiting request keeps until the assertion is built.
-- (0008 exists for SQLite only: PostgreSQL rotates refresh tokens without a trigger.)

ALTER TABLE saml_service_providers DROP CONSTRAINT IF EXISTS saml_service_providers_name_id_format_check;
ALTER TABLE saml_service_providers ADD CONSTRAINT saml_service_providers_name_id_format_check
    CHECK (name_id_format IN ('persistent', 'emailAddress', 'unspecified', 'transient'));

ALTER TABLE auth_requests ADD COLUMN saml_name_id_format TEXT;
