-- The factors an app accepts (DESIGN §2: an app can only narrow the admin's
-- mfa_allowed_factors), space-separated; NULL: every allowed factor.
ALTER TABLE apps ADD COLUMN allowed_factors TEXT;
