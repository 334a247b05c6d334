-- Who acted, apart from whom it concerns: the administrator (a user id) behind an admin
-- action; NULL for a user's own actions and for the operator at the host's command line
-- (whose records carry the origin `cli`).
ALTER TABLE audit_log ADD COLUMN actor_id TEXT;
CREATE INDEX audit_log_actor_at ON audit_log(actor_id, at);
