-- Failed attempts of one user over the last hour (a plugin's risk signal) read a range of
-- (user_id, at), not every audit row of the user.
DROP INDEX audit_log_user;
CREATE INDEX audit_log_user_at ON audit_log(user_id, at);
