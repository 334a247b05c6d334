//! Global MFA settings, per-app policy columns and group minimums.

use super::Db;
use crate::error::{AppError, AppResult};
use crate::mfa::policy::{AppPolicy, Policy, Settings};
use crate::{on_db, on_db_write};

/// The settings in force: stored values over the defaults.
pub async fn load(db: &Db) -> AppResult<Settings> {
    let rows =
        on_db!(db, p => sqlx::query_as::<_, (String, String)>("SELECT key, value FROM settings").fetch_all(p).await?);
    let mut map = serde_json::to_value(Settings::default()).expect("settings serialise");
    for (k, v) in rows {
        let v: serde_json::Value =
            serde_json::from_str(&v).map_err(|e| AppError::internal(format!("corrupt setting {k}: {e}")))?;
        map[k] = v;
    }
    serde_json::from_value(map).map_err(|e| AppError::internal(format!("corrupt settings: {e}")))
}

/// Stores every value of `s` in one transaction.
pub async fn save(db: &Db, s: &Settings, now: i64) -> AppResult<()> {
    let serde_json::Value::Object(map) = serde_json::to_value(s).expect("settings serialise") else {
        unreachable!("settings are an object")
    };
    let sql = "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
               ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        for (k, v) in &map {
            sqlx::query(sql).bind(k).bind(v.to_string()).bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AppPolicyRow {
    mfa_policy: String,
    reauth_interval_minutes: i64,
    allow_trusted_devices: bool,
}

pub async fn find_app_policy(db: &Db, app_id: &str) -> AppResult<Option<AppPolicy>> {
    let sql = "SELECT mfa_policy, reauth_interval_minutes, allow_trusted_devices FROM apps WHERE id = $1";
    let row = on_db!(db, p => sqlx::query_as::<_, AppPolicyRow>(sql).bind(app_id).fetch_optional(p).await?);
    Ok(row.map(|r| AppPolicy {
        mfa_policy: Policy::parse(&r.mfa_policy),
        reauth_interval_minutes: r.reauth_interval_minutes,
        allow_trusted_devices: r.allow_trusted_devices,
    }))
}

pub async fn update_app_policy(db: &Db, app_id: &str, a: &AppPolicy) -> AppResult<bool> {
    let sql = "UPDATE apps SET mfa_policy = $2, reauth_interval_minutes = $3, allow_trusted_devices = $4 WHERE id = $1";
    let policy = a.mfa_policy.map_or("inherit", Policy::as_str);
    let n = on_db_write!(db, p => sqlx::query(sql).bind(app_id).bind(policy).bind(a.reauth_interval_minutes)
        .bind(a.allow_trusted_devices).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// The strongest minimum policy among the user's groups.
pub async fn group_minimum(db: &Db, user_id: &str) -> AppResult<Option<Policy>> {
    let sql = "SELECT g.mfa_policy FROM groups g JOIN user_groups ug ON ug.group_id = g.id \
               WHERE ug.user_id = $1 AND g.mfa_policy IS NOT NULL";
    let rows = on_db!(db, p => sqlx::query_scalar::<_, String>(sql).bind(user_id).fetch_all(p).await?);
    Ok(rows.iter().filter_map(|s| Policy::parse(s)).max())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Group {
    pub name: String,
    pub mfa_policy: Option<String>,
    pub members: i64,
}

pub async fn list_groups(db: &Db) -> AppResult<Vec<Group>> {
    let sql = "SELECT g.name, g.mfa_policy, (SELECT COUNT(*) FROM user_groups ug WHERE ug.group_id = g.id) AS members \
               FROM groups g ORDER BY g.name";
    Ok(on_db!(db, p => sqlx::query_as::<_, Group>(sql).fetch_all(p).await?))
}

/// Creates the group when needed and sets its minimum policy (`None` clears it).
pub async fn set_group_policy(db: &Db, name: &str, policy: Option<Policy>) -> AppResult<()> {
    let id = uuid::Uuid::new_v4().to_string();
    let sql = "INSERT INTO groups (id, name, mfa_policy) VALUES ($1, $2, $3) \
               ON CONFLICT (name) DO UPDATE SET mfa_policy = excluded.mfa_policy";
    on_db_write!(db, p => sqlx::query(sql).bind(&id).bind(name).bind(policy.map(Policy::as_str)).execute(p).await?.rows_affected());
    Ok(())
}
