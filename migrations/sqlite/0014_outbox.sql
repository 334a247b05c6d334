-- The delivery outbox (DESIGN §4): every message that leaves the process (email, SMS) is
-- written here in the same transaction as the change that caused it, then claimed with a
-- lease and delivered by a worker on any node.
--
-- `payload` holds the destination and the message (its code, if any) as AES-256-GCM under the
-- master key, bound to the row's id; it is set to NULL once the message is sent or given up.
-- `recipient` is the masked destination (`a***@example.com`, `+1***5671`), for admins.
-- `status`: pending (due at `next_attempt_at`), sending (claimed by `lease_owner`; if that
-- node dies the lease runs out at `next_attempt_at` and another node takes it), sent, failed.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    user_id         TEXT,
    payload         BLOB,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_created ON outbox(created_at);
