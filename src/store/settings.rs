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
    allowed_factors: Option<String>,
}

pub async fn find_app_policy(db: &Db, app_id: &str) -> AppResult<Option<AppPolicy>> {
    let sql =
        "SELECT mfa_policy, reauth_interval_minutes, allow_trusted_devices, allowed_factors FROM apps WHERE id = $1";
    let row = on_db!(db, p => sqlx::query_as::<_, AppPolicyRow>(sql).bind(app_id).fetch_optional(p).await?);
    Ok(row.map(AppPolicy::from))
}

#[derive(sqlx::FromRow)]
struct AppWithPolicyRow {
    #[sqlx(flatten)]
    app: super::apps::App,
    #[sqlx(flatten)]
    policy: AppPolicyRow,
}

/// Every app with its policy, in one statement (the admin page and the settings check list
/// them all).
pub async fn list_app_policies(db: &Db) -> AppResult<Vec<(super::apps::App, AppPolicy)>> {
    let sql = "SELECT id, name, protocol, created_at, mfa_policy, reauth_interval_minutes, allow_trusted_devices, \
               allowed_factors FROM apps ORDER BY name, id";
    let rows = on_db!(db, p => sqlx::query_as::<_, AppWithPolicyRow>(sql).fetch_all(p).await?);
    Ok(rows.into_iter().map(|r| (r.app, r.policy.into())).collect())
}

impl From<AppPolicyRow> for AppPolicy {
    fn from(r: AppPolicyRow) -> AppPolicy {
        AppPolicy {
            mfa_policy: Policy::parse(&r.mfa_policy),
            reauth_interval_minutes: r.reauth_interval_minutes,
            allow_trusted_devices: r.allow_trusted_devices,
            allowed_factors: r.allowed_factors.as_deref().map(crate::mfa::policy::parse_factors),
        }
    }
}

/// What the MFA step and a selector's context need of an app, in one round trip: its policy
/// columns, its name and protocol, and its OIDC client if it has one.
#[derive(Debug, Clone)]
pub struct LoginApp {
    pub id: String,
    pub name: String,
    pub protocol: super::apps::Protocol,
    pub policy: AppPolicy,
    /// The OIDC client id and whether the client is public (no secret).
    pub client: Option<(String, bool)>,
}

#[derive(sqlx::FromRow)]
struct LoginAppRow {
    id: String,
    name: String,
    protocol: super::apps::Protocol,
    #[sqlx(flatten)]
    policy: AppPolicyRow,
    client_id: Option<String>,
    public_client: bool,
}

pub async fn find_app_for_login(db: &Db, app_id: &str) -> AppResult<Option<LoginApp>> {
    let sql = "SELECT a.id, a.name, a.protocol, a.mfa_policy, a.reauth_interval_minutes, a.allow_trusted_devices, \
               a.allowed_factors, c.client_id, c.secret_hash IS NULL AS public_client \
               FROM apps a LEFT JOIN oidc_clients c ON c.app_id = a.id WHERE a.id = $1";
    let row = on_db!(db, p => sqlx::query_as::<_, LoginAppRow>(sql).bind(app_id).fetch_optional(p).await?);
    Ok(row.map(|r| LoginApp {
        id: r.id,
        name: r.name,
        protocol: r.protocol,
        policy: r.policy.into(),
        client: r.client_id.map(|c| (c, r.public_client)),
    }))
}

pub async fn update_app_policy(db: &Db, app_id: &str, a: &AppPolicy) -> AppResult<bool> {
    let sql = "UPDATE apps SET mfa_policy = $2, reauth_interval_minutes = $3, allow_trusted_devices = $4, \
               allowed_factors = $5 WHERE id = $1";
    let policy = a.mfa_policy.map_or("inherit", Policy::as_str);
    let factors = a.allowed_factors.as_deref().map(crate::mfa::policy::join_factors);
    let n = on_db_write!(db, p => sqlx::query(sql).bind(app_id).bind(policy).bind(a.reauth_interval_minutes)
        .bind(a.allow_trusted_devices).bind(&factors).execute(p).await?.rows_affected());
    Ok(n == 1)
}

/// The user's groups, by name, with their minimum policies.
pub async fn user_groups(db: &Db, user_id: &str) -> AppResult<Vec<(String, Option<Policy>)>> {
    let sql = "SELECT g.name, g.mfa_policy FROM groups g JOIN user_groups ug ON ug.group_id = g.id \
               WHERE ug.user_id = $1 ORDER BY g.name";
    let rows = on_db!(db, p => sqlx::query_as::<_, (String, Option<String>)>(sql).bind(user_id).fetch_all(p).await?);
    Ok(rows.into_iter().map(|(name, policy)| (name, policy.as_deref().and_then(Policy::parse))).collect())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
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
