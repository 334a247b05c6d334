//! Selector plugins: immutable uploaded versions, where they are assigned, the decision log,
//! and the sightings behind the new-device and new-IP signals.

use super::Db;
use crate::error::{AppError, AppResult};
use crate::mfa::selector::{OnError, PluginMode};
use crate::{on_db, on_db_write};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Plugin {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub description: String,
    pub sha256: String,
    pub world_version: String,
    pub size: i64,
    pub fuel: i64,
    pub memory_bytes: i64,
    pub timeout_ms: i64,
    pub created_at: i64,
    pub created_by: Option<String>,
}

macro_rules! columns {
    () => {
        "id, name, version, description, sha256, world_version, size, fuel, memory_bytes, timeout_ms, created_at, \
         created_by"
    };
}

pub struct NewPlugin<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub sha256: &'a str,
    pub world_version: &'a str,
    pub wasm: &'a [u8],
    pub fuel: i64,
    pub memory_bytes: i64,
    pub timeout_ms: i64,
    pub created_by: Option<&'a str>,
}

/// Stores a new version of `name` (the next number). Two uploads racing for one number: the
/// loser gets a conflict and nothing is written.
pub async fn create(db: &Db, n: &NewPlugin<'_>, now: i64) -> AppResult<Plugin> {
    let id = uuid::Uuid::new_v4().to_string();
    let sql = concat!(
        "INSERT INTO plugins (id, name, version, description, sha256, world_version, size, fuel, memory_bytes, \
         timeout_ms, created_at, created_by) \
         SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM plugins \
         WHERE name = $2 RETURNING ",
        columns!()
    );
    let store_wasm = "INSERT INTO plugin_wasm (plugin_id, wasm) VALUES ($1, $2)";
    let res = on_db_write!(db, p => async {
        let mut tx = p.begin().await?;
        let plugin = sqlx::query_as::<_, Plugin>(sql).bind(&id).bind(n.name).bind(n.description)
            .bind(n.sha256).bind(n.world_version).bind(n.wasm.len() as i64).bind(n.fuel).bind(n.memory_bytes)
            .bind(n.timeout_ms).bind(now).bind(n.created_by).fetch_one(&mut *tx).await?;
        sqlx::query(store_wasm).bind(&id).bind(n.wasm).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(plugin)
    }.await);
    res.map_err(|e| {
        let e = AppError::from(e);
        if e.is_unique_violation() {
            AppError::Conflict(
                format!("another version of {} was uploaded at the same moment; try again", n.name).into(),
            )
        } else {
            e
        }
    })
}

pub async fn list(db: &Db) -> AppResult<Vec<Plugin>> {
    let sql = concat!("SELECT ", columns!(), " FROM plugins ORDER BY name, version");
    Ok(on_db!(db, p => sqlx::query_as::<_, Plugin>(sql).fetch_all(p).await?))
}

pub async fn find(db: &Db, id: &str) -> AppResult<Option<Plugin>> {
    let sql = concat!("SELECT ", columns!(), " FROM plugins WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, Plugin>(sql).bind(id).fetch_optional(p).await?))
}

/// `name` at `version`, or its newest version.
pub async fn find_by_name(db: &Db, name: &str, version: Option<i64>) -> AppResult<Option<Plugin>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM plugins WHERE name = $1 AND ($2 IS NULL OR version = $2) ORDER BY version DESC LIMIT 1"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, Plugin>(sql).bind(name).bind(version).fetch_optional(p).await?))
}

pub async fn wasm(db: &Db, id: &str) -> AppResult<Option<Vec<u8>>> {
    let sql = "SELECT wasm FROM plugin_wasm WHERE plugin_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, Vec<u8>>(sql).bind(id).fetch_optional(p).await?))
}

/// Deletes a version that is assigned nowhere (a disabled assignment counts: remove it first).
/// `Ok(false)`: no such plugin.
pub async fn delete(db: &Db, id: &str) -> AppResult<bool> {
    let assigned = "SELECT COUNT(*) FROM plugin_assignments WHERE plugin_id = $1";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(assigned).bind(id).fetch_one(p).await?);
    if n > 0 {
        return Err(AppError::Conflict(crate::error::Msg::key("adm-err-plugin-assigned")));
    }
    let sql =
        "DELETE FROM plugins WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM plugin_assignments WHERE plugin_id = $1)";
    let n = on_db_write!(db, p => sqlx::query(sql).bind(id).execute(p).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
#[schema(as = PluginAssignment)]
pub struct Assignment {
    /// `global` or an app id.
    pub scope: String,
    pub plugin_id: String,
    pub mode: PluginMode,
    pub on_error: OnError,
    pub updated_at: i64,
}

pub const GLOBAL: &str = "global";

pub async fn assignments(db: &Db, plugin_id: Option<&str>) -> AppResult<Vec<Assignment>> {
    let sql = "SELECT scope, plugin_id, mode, on_error, updated_at FROM plugin_assignments \
               WHERE $1 IS NULL OR plugin_id = $1 ORDER BY scope, plugin_id";
    Ok(on_db!(db, p => sqlx::query_as::<_, Assignment>(sql).bind(plugin_id).fetch_all(p).await?))
}

/// Sets a plugin's mode in a scope. Whatever held that mode there before (one active, one
/// shadow per scope) is set to `disabled` in the same transaction.
pub async fn assign(db: &Db, a: &Assignment) -> AppResult<()> {
    let demote = "UPDATE plugin_assignments SET mode = 'disabled', updated_at = $3 \
                  WHERE scope = $1 AND mode = $2 AND plugin_id <> $4";
    let upsert = "INSERT INTO plugin_assignments (scope, plugin_id, mode, on_error, updated_at) \
                  VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, plugin_id) \
                  DO UPDATE SET mode = excluded.mode, on_error = excluded.on_error, updated_at = excluded.updated_at";
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        if a.mode != PluginMode::Disabled {
            sqlx::query(demote).bind(&a.scope).bind(a.mode).bind(a.updated_at).bind(&a.plugin_id)
                .execute(&mut *tx).await?;
        }
        sqlx::query(upsert).bind(&a.scope).bind(&a.plugin_id).bind(a.mode).bind(a.on_error).bind(a.updated_at)
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn unassign(db: &Db, scope: &str, plugin_id: &str) -> AppResult<bool> {
    let sql = "DELETE FROM plugin_assignments WHERE scope = $1 AND plugin_id = $2";
    Ok(on_db_write!(db, p => sqlx::query(sql).bind(scope).bind(plugin_id).execute(p).await?.rows_affected()) == 1)
}

/// A plugin that runs in a login, with its assignment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Running {
    pub plugin_id: String,
    pub name: String,
    pub version: i64,
    pub sha256: String,
    pub world_version: String,
    pub fuel: i64,
    pub memory_bytes: i64,
    pub timeout_ms: i64,
    pub scope: String,
    pub mode: PluginMode,
    pub on_error: OnError,
}

/// Active and shadow plugins for a login to `app_id` (or to Portcullis itself): the global
/// and the app's assignments. Empty in the common case, in one indexed query.
pub async fn running(db: &Db, app_id: Option<&str>) -> AppResult<Vec<Running>> {
    let sql = "SELECT p.id AS plugin_id, p.name, p.version, p.sha256, p.world_version, p.fuel, p.memory_bytes, \
               p.timeout_ms, a.scope, a.mode, a.on_error FROM plugin_assignments a JOIN plugins p ON p.id = a.plugin_id \
               WHERE a.mode IN ('active', 'shadow') AND (a.scope = 'global' OR a.scope = $1)";
    Ok(on_db!(db, p => sqlx::query_as::<_, Running>(sql).bind(app_id).fetch_all(p).await?))
}

/// One plugin run of one login, as the decision log keeps it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Decision {
    pub at: i64,
    pub login_id: String,
    pub plugin_id: String,
    pub mode: PluginMode,
    pub user_id: Option<String>,
    pub app_id: Option<String>,
    pub context: String,
    pub evaluation: String,
    pub applied: String,
    pub error_kind: Option<String>,
    pub fuel_used: i64,
    pub duration_us: i64,
}

/// A recorded decision and its id.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DecisionRow {
    pub id: i64,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub decision: Decision,
}

/// Writes decisions in one transaction: all or none.
pub async fn record_decisions(db: &Db, rows: &[Decision]) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = "INSERT INTO plugin_decisions (at, login_id, plugin_id, mode, user_id, app_id, context, evaluation, \
               applied, error_kind, fuel_used, duration_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        for d in rows {
            sqlx::query(sql).bind(d.at).bind(&d.login_id).bind(&d.plugin_id).bind(d.mode).bind(&d.user_id)
                .bind(&d.app_id).bind(&d.context).bind(&d.evaluation).bind(&d.applied).bind(&d.error_kind)
                .bind(d.fuel_used).bind(d.duration_us).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

macro_rules! decision_columns {
    () => {
        "id, at, login_id, plugin_id, mode, user_id, app_id, context, evaluation, applied, error_kind, fuel_used, \
         duration_us"
    };
}

/// The newest decisions, of one plugin or of all.
pub async fn decisions(db: &Db, plugin_id: Option<&str>, limit: i64) -> AppResult<Vec<DecisionRow>> {
    let sql = concat!(
        "SELECT ",
        decision_columns!(),
        " FROM plugin_decisions WHERE $1 IS NULL OR plugin_id = $1 ORDER BY id DESC LIMIT $2"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, DecisionRow>(sql).bind(plugin_id).bind(limit).fetch_all(p).await?))
}

pub async fn decision(db: &Db, id: i64) -> AppResult<Option<DecisionRow>> {
    let sql = concat!("SELECT ", decision_columns!(), " FROM plugin_decisions WHERE id = $1");
    Ok(on_db!(db, p => sqlx::query_as::<_, DecisionRow>(sql).bind(id).fetch_optional(p).await?))
}

/// The last `limit` recorded logins: one row each, the active run where there was one.
pub async fn recent_logins(db: &Db, limit: i64) -> AppResult<Vec<DecisionRow>> {
    let sql = concat!(
        "SELECT ",
        decision_columns!(),
        " FROM plugin_decisions d WHERE d.id = (SELECT MIN(x.id) FROM plugin_decisions x WHERE x.login_id = d.login_id \
         AND (x.mode = 'active' OR NOT EXISTS (SELECT 1 FROM plugin_decisions y WHERE y.login_id = d.login_id \
         AND y.mode = 'active'))) ORDER BY d.id DESC LIMIT $1"
    );
    Ok(on_db!(db, p => sqlx::query_as::<_, DecisionRow>(sql).bind(limit).fetch_all(p).await?))
}

/// Drops decisions beyond the retention: older than `before`, or beyond the newest `keep`.
pub async fn purge_decisions(db: &Db, before: i64, keep: i64) -> AppResult<u64> {
    let sql =
        "DELETE FROM plugin_decisions WHERE at < $1 OR id <= (SELECT COALESCE(MAX(id), 0) FROM plugin_decisions) - $2";
    Ok(on_db_write!(db, p => sqlx::query(sql).bind(before).bind(keep).execute(p).await?.rows_affected()))
}

/// Figures for one plugin over its retained decisions: (error kind, fuel, microseconds).
pub async fn samples(db: &Db, plugin_id: &str) -> AppResult<Vec<(Option<String>, i64, i64)>> {
    let sql = "SELECT error_kind, fuel_used, duration_us FROM plugin_decisions WHERE plugin_id = $1";
    Ok(on_db!(db, p => sqlx::query_as::<_, (Option<String>, i64, i64)>(sql).bind(plugin_id).fetch_all(p).await?))
}

/// When the user was first and last seen with this hashed address or browser.
/// The risk signals of one login in one round trip: when this browser was first and last
/// seen for the user, when this address was last seen, and how many failed attempts the
/// audit log holds since `failures_since`.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Signals {
    pub agent_first_seen_at: Option<i64>,
    pub agent_last_seen_at: Option<i64>,
    pub ip_last_seen_at: Option<i64>,
    pub failures: i64,
}

pub async fn signals(
    db: &Db,
    user_id: &str,
    agent_hash: Option<&str>,
    ip_hash: Option<&str>,
    failures_since: i64,
) -> AppResult<Signals> {
    let sql = "SELECT \
        (SELECT first_seen_at FROM user_sightings WHERE user_id = $1 AND kind = 'agent' AND value_hash = $2) \
            AS agent_first_seen_at, \
        (SELECT last_seen_at FROM user_sightings WHERE user_id = $1 AND kind = 'agent' AND value_hash = $2) \
            AS agent_last_seen_at, \
        (SELECT last_seen_at FROM user_sightings WHERE user_id = $1 AND kind = 'ip' AND value_hash = $3) \
            AS ip_last_seen_at, \
        (SELECT COUNT(*) FROM audit_log WHERE user_id = $1 AND at >= $4 \
            AND event IN ('login.failure', 'mfa.failed')) AS failures";
    Ok(on_db!(db, p => sqlx::query_as::<_, Signals>(sql).bind(user_id).bind(agent_hash).bind(ip_hash)
        .bind(failures_since).fetch_one(p).await?))
}

/// Records sightings `(kind, value hash)` of `user_id` at `now`, in one statement.
pub async fn record_sightings(db: &Db, user_id: &str, seen: &[(&str, String)], now: i64) -> AppResult<()> {
    const SQLITE: &str = "INSERT INTO user_sightings (user_id, kind, value_hash, first_seen_at, last_seen_at) \
         SELECT $1, value ->> 0, value ->> 1, $2, $2 FROM json_each($3) WHERE true \
         ON CONFLICT (user_id, kind, value_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at";
    const POSTGRES: &str = "INSERT INTO user_sightings (user_id, kind, value_hash, first_seen_at, last_seen_at) \
         SELECT $1, e ->> 0, e ->> 1, $2, $2 FROM json_array_elements($3::json) AS e \
         ON CONFLICT (user_id, kind, value_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at";
    let sql = match db {
        Db::Sqlite(_) => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    let seen = serde_json::to_string(seen).map_err(|e| AppError::internal(e.to_string()))?;
    on_db_write!(db, p => sqlx::query(sql).bind(user_id).bind(now).bind(&seen).execute(p).await?.rows_affected());
    Ok(())
}

/// Whether any stored plugin version has these bytes (compiled artefacts are shared by hash).
pub async fn is_sha256_used(db: &Db, sha256: &str) -> AppResult<bool> {
    let sql = "SELECT COUNT(*) FROM plugins WHERE sha256 = $1";
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>(sql).bind(sha256).fetch_one(p).await?) > 0)
}
