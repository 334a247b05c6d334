-- A login request's wants are typed (DESIGN §1): each has a column of its own, so nothing
-- parses `prompt` or `acr_values` to learn them. Those two now keep an OIDC request's values as
-- sent; a SAML request's requested contexts are levels in `saml_requested` (SP's order).
ALTER TABLE auth_requests ADD COLUMN assurance TEXT NOT NULL DEFAULT 'password';
ALTER TABLE auth_requests ADD COLUMN reauthenticate BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE auth_requests ADD COLUMN passive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE auth_requests ADD COLUMN saml_requested TEXT;

-- Requests waiting while the server is upgraded keep what they asked for. The weakest level
-- named decides (the values are alternatives).
UPDATE auth_requests SET
    assurance = CASE
        WHEN ' ' || COALESCE(acr_values, '') || ' ' LIKE '% urn:portcullis:acr:pwd %' THEN 'password'
        WHEN ' ' || COALESCE(acr_values, '') || ' ' LIKE '% urn:portcullis:acr:mfa %' THEN 'second_factor'
        WHEN ' ' || COALESCE(acr_values, '') || ' ' LIKE '% https://refeds.org/profile/mfa %' THEN 'second_factor'
        WHEN ' ' || COALESCE(acr_values, '') || ' ' LIKE '% urn:portcullis:acr:phr %' THEN 'phishing_resistant'
        ELSE 'password'
    END,
    reauthenticate = ' ' || COALESCE(prompt, '') || ' ' LIKE '% login %',
    passive = COALESCE(prompt, '') = 'none';
UPDATE auth_requests SET
    saml_requested = REPLACE(REPLACE(REPLACE(acr_values,
        'urn:portcullis:acr:pwd', 'password'),
        'urn:portcullis:acr:mfa', 'second_factor'),
        'urn:portcullis:acr:phr', 'phishing_resistant'),
    acr_values = NULL,
    prompt = NULL
WHERE protocol = 'saml';
