-- The way back in (DESIGN §2): one-time links sent by email (self-service MFA recovery,
-- password reset) or issued by an administrator (MFA recovery, with a reason). 256-bit
-- random, stored only as a hash, consumed once by one statement.
CREATE TABLE account_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,                -- mfa_recovery | password_reset
    issued_by   TEXT,                         -- the administrator's user id; NULL: asked for by email
    reason      TEXT,                         -- why an administrator issued it
    request_id  TEXT,                         -- the sign-in it was asked from, to continue after
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX account_links_user ON account_links (user_id, purpose);

-- A recovery session is an MFA transaction that can only enrol: 'replace' removes the old
-- factors once the new one is proved, 'keep' keeps them. NULL for an ordinary sign-in.
ALTER TABLE mfa_transactions ADD COLUMN recovery TEXT;

-- A new authenticator app proved in a recovery session replaces the old one only once its
-- first code is right; until then the old secret stays in force.
ALTER TABLE totp_credentials ADD COLUMN replacement BLOB;
ALTER TABLE totp_credentials ADD COLUMN replacement_created_at BIGINT;

-- The statistics count events by name over the last 24 hours, 7 and 30 days.
CREATE INDEX audit_log_event_at ON audit_log (event, at);
