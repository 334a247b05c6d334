-- Where a session began, for the account and admin pages ("Firefox on macOS, 203.0.113.7"):
-- the client address and User-Agent of the sign-in that made it. Older rows have neither.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
