-- Out-of-band second factors (DESIGN §2): a phone number that receives text messages, or the
-- account's email address, proved by a code when set up. One of each kind per user; a second
-- set-up of a kind replaces the first once its code is confirmed.
CREATE TABLE oob_factors (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,               -- sms | email
    destination  TEXT NOT NULL,               -- E.164 number or email address
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    UNIQUE (user_id, kind)
);

-- One-time codes sent out of band, stored as salted hashes: for a set-up (`enroll`, bound to
-- the destination being proved) or a sign-in (`login`, bound to the MFA transaction). One live
-- code per user, kind and purpose (a new one replaces it); a few tries each; consumed once.
CREATE TABLE oob_codes (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    purpose      TEXT NOT NULL,               -- enroll | login
    destination  TEXT NOT NULL,               -- where the code went (what a set-up proves)
    binding      TEXT NOT NULL,               -- login: the MFA transaction's token hash; enroll: ''
    code_hash    TEXT NOT NULL,
    tries        BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    UNIQUE (user_id, kind, purpose)
);

-- The factor the MFA page offers first (`PUT /api/v1/mfa/factors/{id}/primary`).
ALTER TABLE users ADD COLUMN primary_factor TEXT;
