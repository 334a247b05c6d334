-- The MFA step (SQLite): policies, factors, trusted devices, MFA transactions, rate limits, audit.

-- Global settings as JSON values, read at every login so a change reaches every node at once.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE groups ADD COLUMN mfa_policy TEXT;                          -- minimum policy for members, NULL = none
ALTER TABLE apps ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'inherit';
ALTER TABLE apps ADD COLUMN reauth_interval_minutes BIGINT NOT NULL DEFAULT 0; -- 0 = the global interval
ALTER TABLE apps ADD COLUMN allow_trusted_devices BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN mfa_enroll_deadline BIGINT;                -- set when first asked to enrol
ALTER TABLE sessions ADD COLUMN mfa_at BIGINT;                          -- last second-factor verification
ALTER TABLE sessions ADD COLUMN mfa_factor TEXT;                        -- totp | passkey | backup_code

CREATE TABLE totp_credentials (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret         BLOB NOT NULL,                    -- AES-256-GCM under the master key
    confirmed_at   BIGINT,                           -- NULL while enrolment awaits its first code
    last_used_step BIGINT,                           -- RFC 6238 §5.2: an accepted step is never accepted again
    created_at     BIGINT NOT NULL
);

CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    credential    TEXT NOT NULL,                     -- webauthn-rs Passkey, JSON
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);

CREATE TABLE webauthn_challenges (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,                        -- register | authenticate
    state      TEXT NOT NULL,                        -- webauthn-rs ceremony state, JSON
    expires_at BIGINT NOT NULL
);

CREATE TABLE backup_codes (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX backup_codes_user ON backup_codes(user_id);

CREATE TABLE trusted_devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices(user_id);

-- A login between the first factor and a full session: the MFA challenge or enrolment.
CREATE TABLE mfa_transactions (
    token_hash       TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id       TEXT REFERENCES sessions(id) ON DELETE CASCADE, -- step-up of an existing session
    auth_time        BIGINT NOT NULL,                -- the first factor's time
    request_id       TEXT,                           -- the waiting authorization request
    app_id           TEXT,
    stage            TEXT NOT NULL,                  -- challenge | enroll | done
    challenge        TEXT NOT NULL,                  -- factors offered, space-separated
    enroll           TEXT NOT NULL,                  -- factors that may be enrolled, space-separated
    can_postpone     BOOLEAN NOT NULL,
    allow_trust      BOOLEAN NOT NULL,
    verified_factor  TEXT,
    trust_token_hash TEXT UNIQUE,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);

CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,                   -- e.g. mfa:user:<id>, pwd:user:<name>, pwd:ip:<addr>
    window_start BIGINT NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    event   TEXT NOT NULL,
    user_id TEXT,
    app_id  TEXT,
    ip      TEXT,
    detail  TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_user ON audit_log(user_id);
