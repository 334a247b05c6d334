//! The audit log and the database-backed failure counters behind rate limits.

use super::Db;
use crate::error::{AppError, AppResult};
use crate::{on_db, on_db_write};

pub struct Event<'a> {
    pub event: &'a str,
    /// Whom the event concerns.
    pub user_id: Option<&'a str>,
    /// The administrator who acted, when it was not the user themselves.
    pub actor_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

pub async fn record(db: &Db, e: &Event<'_>, now: i64) -> AppResult<()> {
    on_db_write!(db, p => insert(e, now).execute(p).await?.rows_affected());
    Ok(())
}

/// The statement recording `e`, for either database, to run alone or in a transaction.
pub(crate) fn insert<'q, DB: sqlx::Database>(e: &Event<'q>, now: i64) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let sql =
        "INSERT INTO audit_log (at, event, user_id, actor_id, app_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)";
    sqlx::query(sql).bind(now).bind(e.event).bind(e.user_id).bind(e.actor_id).bind(e.app_id).bind(e.ip).bind(e.detail)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    pub app_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// Which entries to list: each field given narrows the list.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub user_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub event: Option<&'a str>,
    pub app_id: Option<&'a str>,
    /// Entries at or after this time.
    pub since: Option<i64>,
    /// Entries before this time.
    pub until: Option<i64>,
    /// Entries older than this id (paging backwards).
    pub before: Option<i64>,
}

/// Newest first.
pub async fn list(db: &Db, f: &Filter<'_>, limit: i64) -> AppResult<Vec<Entry>> {
    let sql = "SELECT id, at, event, user_id, actor_id, app_id, ip, detail FROM audit_log \
               WHERE ($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR event = $3) \
               AND ($4 IS NULL OR id < $4) AND ($5 IS NULL OR app_id = $5) AND ($6 IS NULL OR at >= $6) \
               AND ($7 IS NULL OR at < $7) ORDER BY id DESC LIMIT $8";
    Ok(on_db!(db, p => sqlx::query_as::<_, Entry>(sql).bind(f.user_id).bind(f.actor_id).bind(f.event).bind(f.before)
        .bind(f.app_id).bind(f.since).bind(f.until).bind(limit).fetch_all(p).await?))
}

/// Failed (or reserved) attempts counted on `key` in its current window, if any.
pub async fn failures_in_window(db: &Db, key: &str, now: i64, window: i64) -> AppResult<Option<i64>> {
    let sql = "SELECT failures FROM rate_limits WHERE key = $1 AND window_start > $2";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(key).bind(now - window).fetch_optional(p).await?))
}

/// Seconds left of a lockout on `key`, if one is in force.
pub async fn locked_for(db: &Db, key: &str, now: i64) -> AppResult<Option<i64>> {
    let sql = "SELECT locked_until FROM rate_limits WHERE key = $1";
    let until = on_db!(db, p => sqlx::query_scalar::<_, Option<i64>>(sql).bind(key).fetch_optional(p).await?).flatten();
    Ok(until.filter(|u| *u > now).map(|u| u - now))
}

/// The rule every reservation counts by, after the row for a key was proposed (`$2` is now,
/// `$3` the start of the current window): a new window starts at 1, an open one counts one
/// more while it holds fewer than `$limit` attempts, and a locked key counts nothing and comes
/// back with no row.
macro_rules! reservation_rule {
    ($limit:literal) => {
        concat!(
            " ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.failures + 1 END, \
               window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
             WHERE (rate_limits.locked_until IS NULL OR rate_limits.locked_until <= $2) \
               AND (rate_limits.window_start <= $3 OR rate_limits.failures < ",
            $limit,
            ")"
        )
    };
}

/// Reserves one attempt on `key` before the guess is checked (DESIGN §5): one statement that
/// counts it and refuses when the key is locked or `max` attempts of the current window are
/// already counted, so N simultaneous guesses on any number of nodes never get more than
/// `max` evaluations. A reserved attempt counts as a failure until `release_attempt` or
/// `settle_success` gives it back (a request that dies mid-check is a failure: fail secure).
/// Returns the attempts now counted, or `None` when refused.
pub async fn reserve_attempt(db: &Db, key: &str, window: i64, max: i64, now: i64) -> AppResult<Option<i64>> {
    const SQL: &str = concat!(
        "INSERT INTO rate_limits (key, window_start, failures, locked_until) VALUES ($1, $2, 1, NULL)",
        reservation_rule!("$4"),
        " RETURNING failures"
    );
    let counted = on_db_write!(db, p => sqlx::query_scalar::<_, i64>(SQL).bind(key).bind(now).bind(now - window).bind(max)
        .fetch_all(p).await?);
    Ok(counted.first().copied())
}

/// `reserve_attempt` on several keys at once, one statement for all of them (a sign-in is
/// charged to its account and its address): each `(key, max)` is counted or refused by the
/// same rule, and the keys that counted the attempt come back. The rows are written in key
/// order, so two such statements never wait on each other's rows crosswise. A key named twice
/// is counted once, against the smaller of its budgets.
pub async fn reserve_attempts(db: &Db, budgets: &[(&str, i64)], window: i64, now: i64) -> AppResult<Vec<String>> {
    let mut budgets = budgets.to_vec();
    budgets.sort_unstable();
    budgets.dedup_by(|later, first| later.0 == first.0);
    // `$1` is the JSON array `[[key, max], …]` on both databases; each key's own limit is
    // looked up in it.
    const SQLITE: &str = concat!(
        "INSERT INTO rate_limits (key, window_start, failures, locked_until) \
         SELECT value ->> 0, $2, 1, NULL FROM json_each($1) WHERE true ORDER BY 1",
        reservation_rule!("(SELECT b.value ->> 1 FROM json_each($1) AS b WHERE b.value ->> 0 = rate_limits.key)"),
        " RETURNING key"
    );
    const POSTGRES: &str = concat!(
        "INSERT INTO rate_limits (key, window_start, failures, locked_until) \
         SELECT e ->> 0, $2, 1, NULL FROM json_array_elements($1::json) AS e ORDER BY 1",
        reservation_rule!(
            "(SELECT (b ->> 1)::bigint FROM json_array_elements($1::json) AS b WHERE b ->> 0 = rate_limits.key)"
        ),
        " RETURNING key"
    );
    let sql = match db {
        Db::Sqlite(_) => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    let list = serde_json::to_string(&budgets).map_err(|e| crate::error::AppError::internal(e.to_string()))?;
    let counted = on_db_write!(db, p => sqlx::query_scalar::<_, String>(sql).bind(&list).bind(now).bind(now - window)
        .fetch_all(p).await?);
    Ok(counted)
}

/// Gives back one reserved attempt that turned out right, without forgetting earlier
/// failures (the per-address counter: one good account does not reset an address).
pub async fn release_attempt(db: &Db, key: &str) -> AppResult<()> {
    on_db_write!(db, p => sqlx::query("UPDATE rate_limits SET failures = failures - 1 WHERE key = $1 AND failures > 0")
        .bind(key).execute(p).await?.rows_affected());
    Ok(())
}

/// Locks `key` once its window holds `max` failed attempts. Returns true for the one call
/// that started the lockout (several nodes may try at once).
pub async fn lock_if_spent(db: &Db, key: &str, max: i64, lockout: i64, now: i64) -> AppResult<bool> {
    let sql = "UPDATE rate_limits SET locked_until = $2, failures = 0, window_start = $3 \
               WHERE key = $1 AND failures >= $4 AND (locked_until IS NULL OR locked_until <= $3)";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(key).bind(now + lockout).bind(now).bind(max)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// The seconds a refused attempt on `key` should wait: what is left of a lockout. Without one,
/// the budget is held by guesses still being checked: either they fail and lock the key (the
/// next try learns the lockout's length) or they succeed and free it, so a second will do.
pub async fn retry_after(db: &Db, key: &str, now: i64) -> AppResult<i64> {
    Ok(locked_for(db, key, now).await?.unwrap_or(1).max(1))
}

/// Seconds until the `window`-second window counted on `key` ends (a sending cap's reset).
pub async fn window_left(db: &Db, key: &str, window: i64, now: i64) -> AppResult<i64> {
    let start = on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT window_start FROM rate_limits WHERE key = $1")
        .bind(key).fetch_optional(p).await?);
    Ok(start.map_or(1, |s| s + window - now).max(1))
}

/// Lifts a lockout on `key` and forgets its failures (an administrator unlocked the account).
pub async fn unlock(db: &Db, key: &str) -> AppResult<bool> {
    let n = on_db_write!(db, p => sqlx::query("DELETE FROM rate_limits WHERE key = $1").bind(key).execute(p).await?
        .rows_affected());
    Ok(n > 0)
}

/// A right guess's settlement: the failures on each of `clear` are forgotten (an active
/// lockout stays) and the attempt reserved on each of `release` is given back.
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    pub clear: &'a [String],
    pub release: &'a [String],
}

impl Settlement<'_> {
    /// The two lists as JSON arrays of keys, as the statements take them (`settle_success`,
    /// and a sign-in's commit).
    pub fn json(&self) -> AppResult<(String, String)> {
        let json = |keys: &[String]| serde_json::to_string(keys).map_err(|e| AppError::internal(e.to_string()));
        Ok((json(self.clear)?, json(self.release)?))
    }
}

/// Writes a settlement on its own, in one round trip: on PostgreSQL one statement, on SQLite
/// two in one batch (`$1` and `$2` are JSON arrays of keys).
pub async fn settle_success(db: &Db, s: &Settlement<'_>, now: i64) -> AppResult<()> {
    const SQLITE: &str = "\
        DELETE FROM rate_limits WHERE key IN (SELECT value FROM json_each($1)) \
          AND (locked_until IS NULL OR locked_until <= $3); \
        UPDATE rate_limits SET failures = failures - 1 WHERE key IN (SELECT value FROM json_each($2)) AND failures > 0";
    const POSTGRES: &str = "\
        WITH cleared AS (DELETE FROM rate_limits WHERE key IN (SELECT json_array_elements_text($1::json)) \
          AND (locked_until IS NULL OR locked_until <= $3)) \
        UPDATE rate_limits SET failures = failures - 1 \
          WHERE key IN (SELECT json_array_elements_text($2::json)) AND failures > 0";
    let sql = match db {
        Db::Sqlite(_) => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    let (clear, release) = s.json()?;
    on_db_write!(db, p => sqlx::query(sql).bind(&clear).bind(&release).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// Drops counters whose window ended and whose lockout (if any) is over.
pub async fn purge_rate_limits(db: &Db, window_start_before: i64, now: i64) -> AppResult<()> {
    let sql = "DELETE FROM rate_limits WHERE window_start < $1 AND (locked_until IS NULL OR locked_until <= $2)";
    on_db_write!(db, p => sqlx::query(sql).bind(window_start_before).bind(now).execute(p).await?.rows_affected());
    Ok(())
}

/// A user's sign-in attempts, newest first: successes, wrong passwords, failed second steps
/// and lockouts (the account page's history).
pub async fn sign_ins(db: &Db, user_id: &str, limit: i64) -> AppResult<Vec<Entry>> {
    let sql = "SELECT id, at, event, user_id, actor_id, app_id, ip, detail FROM audit_log \
               WHERE user_id = $1 AND event IN ('login.success', 'login.failure', 'mfa.failed', 'login.lockout') \
               ORDER BY id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as::<_, Entry>(sql).bind(user_id).bind(limit).fetch_all(p).await?))
}
