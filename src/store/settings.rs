//! Global MFA settings, per-app policy columns and group minimums.

use super::Db;
use crate::error::{AppError, AppResult};
use crate::mfa::policy::{AppPolicy, Policy, Settings};
use crate::{on_db, on_db_write};

/// The settings in force: stored values over the defaults.
pub async fn load(db: &Db) -> AppResult<Settings> {
    let rows =
        on_db!(db, p => sqlx::query_as::<_, (String, String)>("SELECT key, value FROM settings").fetch_all(p).await?);
    settings_from(rows)
}

/// The settings for the stored `(key, JSON value)` rows, over the defaults.
fn settings_from(rows: Vec<(String, String)>) -> AppResult<Settings> {
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

/// What the MFA step reads for one login, in one round trip: the settings, the app (when the
/// login is for one), the user's groups, the factors they have and whether any selector plugin
/// is assigned to the login (its rows are read only then).
#[derive(Debug)]
pub struct LoginFacts {
    pub settings: Settings,
    pub app: Option<LoginApp>,
    pub groups: Vec<(String, Option<Policy>)>,
    pub enrolled: crate::mfa::policy::Enrolled,
    pub plugins_assigned: bool,
}

#[derive(sqlx::FromRow)]
struct LoginFactsRow {
    settings: String,
    app_id: Option<String>,
    app_name: Option<String>,
    protocol: Option<super::apps::Protocol>,
    mfa_policy: Option<String>,
    reauth_interval_minutes: Option<i64>,
    allow_trusted_devices: Option<bool>,
    allowed_factors: Option<String>,
    client_id: Option<String>,
    public_client: Option<bool>,
    groups: String,
    totp: i64,
    passkeys: i64,
    backup_codes: i64,
    sms: i64,
    email: i64,
    plugins: i64,
}

/// The app's columns (`$1`, NULL for none), the user's factor counts (`$2`) and the plugin
/// assignments for the login, beside each database's own list of settings and groups.
macro_rules! login_facts {
    ($settings:literal, $groups:literal) => {
        concat!(
            "SELECT ",
            $settings,
            " AS settings, a.id AS app_id, a.name AS app_name, a.protocol, a.mfa_policy, a.reauth_interval_minutes, \
             a.allow_trusted_devices, a.allowed_factors, c.client_id, \
             CASE WHEN c.client_id IS NULL THEN NULL ELSE c.secret_hash IS NULL END AS public_client, ",
            $groups,
            " AS groups, \
             (SELECT COUNT(*) FROM totp_credentials WHERE user_id = $2 AND confirmed_at IS NOT NULL) AS totp, \
             (SELECT COUNT(*) FROM passkeys WHERE user_id = $2) AS passkeys, \
             (SELECT COUNT(*) FROM backup_codes WHERE user_id = $2 AND used_at IS NULL) AS backup_codes, \
             (SELECT COUNT(*) FROM oob_factors WHERE user_id = $2 AND kind = 'sms') AS sms, \
             (SELECT COUNT(*) FROM oob_factors WHERE user_id = $2 AND kind = 'email') AS email, \
             (SELECT COUNT(*) FROM plugin_assignments WHERE mode IN ('active', 'shadow') \
                AND (scope = 'global' OR scope = $1)) AS plugins \
             FROM (SELECT 1 AS one) AS base LEFT JOIN apps a ON a.id = $1 LEFT JOIN oidc_clients c ON c.app_id = a.id"
        )
    };
}

/// Reads `LoginFacts` for a login of `user_id` to `app_id` (or to Portcullis itself).
pub async fn login_facts(db: &Db, app_id: Option<&str>, user_id: &str) -> AppResult<LoginFacts> {
    const SQLITE: &str = login_facts!(
        "(SELECT json_group_array(json_array(key, value)) FROM settings)",
        "(SELECT json_group_array(json_array(g.name, g.mfa_policy) ORDER BY g.name) \
          FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $2)"
    );
    const POSTGRES: &str = login_facts!(
        "(SELECT COALESCE(json_agg(json_build_array(key, value)), '[]')::text FROM settings)",
        "(SELECT COALESCE(json_agg(json_build_array(g.name, g.mfa_policy) ORDER BY g.name), '[]')::text \
          FROM groups g JOIN user_groups ug ON ug.group_id = g.id WHERE ug.user_id = $2)"
    );
    let sql = match db {
        Db::Sqlite(_) => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    let r = on_db!(db, p => sqlx::query_as::<_, LoginFactsRow>(sql).bind(app_id).bind(user_id).fetch_one(p).await?);
    let corrupt = |what: &str, e: serde_json::Error| AppError::internal(format!("corrupt {what}: {e}"));
    let settings: Vec<(String, String)> = serde_json::from_str(&r.settings).map_err(|e| corrupt("settings", e))?;
    let groups: Vec<(String, Option<String>)> = serde_json::from_str(&r.groups).map_err(|e| corrupt("groups", e))?;
    let app = match (r.app_id, r.app_name, r.protocol, r.mfa_policy, r.reauth_interval_minutes, r.allow_trusted_devices)
    {
        (Some(id), Some(name), Some(protocol), Some(mfa_policy), Some(reauth), Some(trusted)) => Some(LoginApp {
            id,
            name,
            protocol,
            policy: AppPolicyRow {
                mfa_policy,
                reauth_interval_minutes: reauth,
                allow_trusted_devices: trusted,
                allowed_factors: r.allowed_factors,
            }
            .into(),
            client: r.client_id.map(|c| (c, r.public_client.unwrap_or(false))),
        }),
        _ => None,
    };
    Ok(LoginFacts {
        settings: settings_from(settings)?,
        app,
        groups: groups.into_iter().map(|(name, policy)| (name, policy.as_deref().and_then(Policy::parse))).collect(),
        enrolled: crate::mfa::policy::Enrolled {
            totp: r.totp > 0,
            passkeys: r.passkeys as usize,
            backup_codes: r.backup_codes as usize,
            sms: r.sms > 0,
            email: r.email > 0,
        },
        plugins_assigned: r.plugins > 0,
    })
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
