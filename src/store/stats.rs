//! Counts behind `GET /api/v1/admin/stats`: who has a second factor, and what the audit log
//! says happened over a window.

use super::Db;
use crate::error::AppResult;
use crate::on_db;

/// Active users, and how many of them have each kind of factor.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Enrolment {
    pub users: i64,
    /// With a factor of their own (backup codes alone do not count).
    pub enrolled: i64,
    pub totp: i64,
    pub passkey: i64,
    pub sms: i64,
    pub email: i64,
    pub backup_codes: i64,
}

pub async fn enrolment(db: &Db) -> AppResult<Enrolment> {
    let sql = "SELECT COUNT(*) AS users, \
               COALESCE(SUM(CASE WHEN t > 0 OR p > 0 OR s > 0 OR e > 0 THEN 1 ELSE 0 END), 0) AS enrolled, \
               COALESCE(SUM(CASE WHEN t > 0 THEN 1 ELSE 0 END), 0) AS totp, \
               COALESCE(SUM(CASE WHEN p > 0 THEN 1 ELSE 0 END), 0) AS passkey, \
               COALESCE(SUM(CASE WHEN s > 0 THEN 1 ELSE 0 END), 0) AS sms, \
               COALESCE(SUM(CASE WHEN e > 0 THEN 1 ELSE 0 END), 0) AS email, \
               COALESCE(SUM(CASE WHEN b > 0 THEN 1 ELSE 0 END), 0) AS backup_codes \
               FROM (SELECT u.id, \
               (SELECT COUNT(*) FROM totp_credentials x WHERE x.user_id = u.id AND x.confirmed_at IS NOT NULL) AS t, \
               (SELECT COUNT(*) FROM passkeys x WHERE x.user_id = u.id) AS p, \
               (SELECT COUNT(*) FROM oob_factors x WHERE x.user_id = u.id AND x.kind = 'sms') AS s, \
               (SELECT COUNT(*) FROM oob_factors x WHERE x.user_id = u.id AND x.kind = 'email') AS e, \
               (SELECT COUNT(*) FROM backup_codes x WHERE x.user_id = u.id AND x.used_at IS NULL) AS b \
               FROM users u WHERE NOT u.disabled) per_user";
    Ok(on_db!(db, p => sqlx::query_as::<_, Enrolment>(sql).fetch_one(p).await?))
}

/// `$2, $3, …` for `n` values: the only text spliced into these statements.
fn placeholders(n: usize) -> String {
    (0..n).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ")
}

/// How many of each event in `events` were logged since `since`.
pub async fn event_counts(db: &Db, events: &[&str], since: i64) -> AppResult<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT event, COUNT(*) FROM audit_log WHERE at >= $1 AND event IN ({}) GROUP BY event",
        placeholders(events.len())
    );
    Ok(on_db!(db, p => {
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql.as_str())).bind(since);
        for e in events {
            q = q.bind(*e);
        }
        q.fetch_all(p).await?
    }))
}

/// Per app, how many of each event in `events` were logged since `since`.
pub async fn event_counts_by_app(db: &Db, events: &[&str], since: i64) -> AppResult<Vec<(String, String, i64)>> {
    let sql = format!(
        "SELECT app_id, event, COUNT(*) FROM audit_log WHERE at >= $1 AND event IN ({}) AND app_id IS NOT NULL \
         GROUP BY app_id, event",
        placeholders(events.len())
    );
    Ok(on_db!(db, p => {
        let mut q = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql.as_str())).bind(since);
        for e in events {
            q = q.bind(*e);
        }
        q.fetch_all(p).await?
    }))
}

/// Per day (Unix day number) since `since`, how many of each event in `events` were logged.
pub async fn daily_event_counts(db: &Db, events: &[&str], since: i64) -> AppResult<Vec<(String, i64, i64)>> {
    let sql = format!(
        "SELECT event, at / 86400 AS day, COUNT(*) FROM audit_log WHERE at >= $1 AND event IN ({}) \
         GROUP BY event, at / 86400",
        placeholders(events.len())
    );
    Ok(on_db!(db, p => {
        let mut q = sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(sql.as_str())).bind(since);
        for e in events {
            q = q.bind(*e);
        }
        q.fetch_all(p).await?
    }))
}

/// Active users by the day (Unix day number) their account was made.
pub async fn users_by_day(db: &Db) -> AppResult<Vec<(i64, i64)>> {
    let sql = "SELECT created_at / 86400 AS day, COUNT(*) FROM users WHERE NOT disabled GROUP BY created_at / 86400";
    Ok(on_db!(db, p => sqlx::query_as::<_, (i64, i64)>(sql).fetch_all(p).await?))
}

/// Active users with a factor, by the day their oldest factor still in place was set up.
pub async fn enrolled_by_day(db: &Db) -> AppResult<Vec<(i64, i64)>> {
    let sql = "SELECT first_day, COUNT(*) FROM (SELECT MIN(f.t) / 86400 AS first_day FROM ( \
                 SELECT user_id, confirmed_at AS t FROM totp_credentials WHERE confirmed_at IS NOT NULL \
                 UNION ALL SELECT user_id, created_at AS t FROM passkeys \
                 UNION ALL SELECT user_id, created_at AS t FROM oob_factors \
               ) f JOIN users u ON u.id = f.user_id WHERE NOT u.disabled GROUP BY f.user_id) firsts \
               GROUP BY first_day";
    Ok(on_db!(db, p => sqlx::query_as::<_, (i64, i64)>(sql).fetch_all(p).await?))
}

/// Per plugin and mode since `since`: evaluations, and how many of them failed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PluginRuns {
    pub plugin_id: String,
    pub mode: String,
    pub runs: i64,
    pub failures: i64,
}

pub async fn plugin_runs(db: &Db, since: i64) -> AppResult<Vec<PluginRuns>> {
    let sql = "SELECT plugin_id, mode, COUNT(*) AS runs, \
               COALESCE(SUM(CASE WHEN error_kind IS NOT NULL THEN 1 ELSE 0 END), 0) AS failures \
               FROM plugin_decisions WHERE at >= $1 GROUP BY plugin_id, mode";
    Ok(on_db!(db, p => sqlx::query_as::<_, PluginRuns>(sql).bind(since).fetch_all(p).await?))
}
