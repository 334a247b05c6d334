-- Selector plugins (DESIGN §3): immutable versions, assignments, the decision log; and what
-- Portcullis remembers of a user's past sign-ins for the plugins' risk signals.

-- One row per uploaded version; the bytes never change after upload.
CREATE TABLE plugins (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    version       BIGINT NOT NULL,                   -- 1, 2, ... per name
    description   TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL,
    world_version TEXT NOT NULL,                     -- portcullis:mfa version the component targets
    size          BIGINT NOT NULL,
    wasm          BYTEA NOT NULL,
    fuel          BIGINT NOT NULL,
    memory_bytes  BIGINT NOT NULL,
    timeout_ms    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT,
    UNIQUE (name, version)
);

-- Where a plugin runs: scope 'global' or an app id. At most one active and one shadow
-- plugin per scope; an app's active plugin replaces the global one for that app.
CREATE TABLE plugin_assignments (
    scope      TEXT NOT NULL,
    plugin_id  TEXT NOT NULL REFERENCES plugins(id),
    mode       TEXT NOT NULL,                        -- active | shadow | disabled
    on_error   TEXT NOT NULL,                        -- fail_secure | fail_open
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (scope, plugin_id)
);
CREATE UNIQUE INDEX plugin_assignments_active ON plugin_assignments(scope) WHERE mode = 'active';
CREATE UNIQUE INDEX plugin_assignments_shadow ON plugin_assignments(scope) WHERE mode = 'shadow';

-- Every evaluation in a login, with its context (for replay), bounded by count and age.
CREATE TABLE plugin_decisions (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    login_id    TEXT NOT NULL,                       -- links the active and shadow runs of one login
    plugin_id   TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
    mode        TEXT NOT NULL,                       -- active | shadow
    user_id     TEXT,
    app_id      TEXT,
    context     TEXT NOT NULL,                       -- login-context, JSON
    evaluation  TEXT NOT NULL,                       -- decision or error, logs, fuel, time; JSON
    applied     TEXT NOT NULL,                       -- what the MFA step enforced (or would have), JSON
    error_kind  TEXT,
    fuel_used   BIGINT NOT NULL,
    duration_us BIGINT NOT NULL
);
CREATE INDEX plugin_decisions_plugin ON plugin_decisions(plugin_id, id);
CREATE INDEX plugin_decisions_at ON plugin_decisions(at);
CREATE INDEX plugin_decisions_login ON plugin_decisions(login_id);

-- The plugin's verdict for a login that waits for its second factor, so that one login runs
-- its plugin once.
ALTER TABLE mfa_transactions ADD COLUMN plugin_verdict TEXT;
ALTER TABLE auth_requests ADD COLUMN plugin_verdict TEXT;

-- Addresses and browsers a user signed in from (hashed), for the new-device and new-IP signals.
CREATE TABLE user_sightings (
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,                     -- ip | agent
    value_hash    TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind, value_hash)
);
