-- Event subscribers (Standard Webhooks): an administrator's HTTPS endpoint and the audit events
-- it wants. Each delivery goes through the outbox (channel 'webhook', recipient = the
-- endpoint's id). The signing secret is sealed under the master key; during a rotation the
-- previous one signs too, until it expires.
CREATE TABLE webhooks (
    id                       TEXT PRIMARY KEY,
    url                      TEXT NOT NULL,
    description              TEXT NOT NULL DEFAULT '',
    events                   TEXT NOT NULL,     -- space-separated names or prefixes ('mfa.*'), or '*'
    secret                   BYTEA NOT NULL,
    previous_secret          BYTEA,
    previous_expires_at      BIGINT,
    enabled                  BOOLEAN NOT NULL DEFAULT TRUE,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);

-- A subscriber's delivery log.
CREATE INDEX outbox_recipient ON outbox (channel, recipient, created_at);
