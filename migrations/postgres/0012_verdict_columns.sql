-- A login's plugin verdict is kept once, with its MFA transaction, in typed columns (it was JSON
-- text in this table and in auth_requests). `plugin_outcome`: NULL when no plugin was evaluated,
-- 'none' when plugins ran and none enforced a verdict, 'verdict' when the other columns hold one.
-- A transaction waiting while the server is upgraded evaluates its plugins again when it
-- continues (a verdict can only tighten the policy, so that is safe).
ALTER TABLE mfa_transactions ADD COLUMN plugin_outcome TEXT;
ALTER TABLE mfa_transactions ADD COLUMN plugin_policy TEXT;
ALTER TABLE mfa_transactions ADD COLUMN plugin_factors TEXT;
ALTER TABLE mfa_transactions ADD COLUMN plugin_reauth_minutes BIGINT;
ALTER TABLE mfa_transactions ADD COLUMN plugin_trust BOOLEAN;
ALTER TABLE mfa_transactions ADD COLUMN plugin_deny TEXT;
ALTER TABLE mfa_transactions DROP COLUMN plugin_verdict;
ALTER TABLE auth_requests DROP COLUMN plugin_verdict;
