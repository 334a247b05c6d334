//! The writes of a configuration document (`admin::declarative`), all in one transaction with
//! its audit record: a document applies whole or not at all.

use super::Db;
use super::apps::{self, client_credentials_set, client_tokens_restart};
use super::saml::{ServiceProvider, SignedParts};
use crate::error::{AppError, AppResult};
use crate::mfa::policy::{AppPolicy, Policy, Settings};
use crate::mfa::selector::{OnError, PluginMode};
use crate::on_db_write;

/// A service provider's row as stored (its lists as JSON), to compare and to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlRow {
    pub app_id: String,
    pub name: String,
    pub entity_id: String,
    pub acs: String,
    pub slo_url: Option<String>,
    pub slo_binding: Option<String>,
    pub certificate: Option<String>,
    pub want_requests_signed: bool,
    pub name_id_format: String,
    pub attributes: String,
    pub sign: SignedParts,
    pub allow_idp_initiated: bool,
    pub default_relay_state: Option<String>,
}

impl SamlRow {
    pub fn of(sp: &ServiceProvider) -> SamlRow {
        SamlRow {
            app_id: sp.app_id.clone(),
            name: sp.name.clone(),
            entity_id: sp.entity_id.clone(),
            acs: serde_json::to_string(&sp.acs).expect("ACS entries serialise"),
            slo_url: sp.slo_url.clone(),
            slo_binding: sp.slo_binding.clone(),
            certificate: sp.certificate.clone(),
            want_requests_signed: sp.want_requests_signed,
            name_id_format: sp.name_id_format.clone(),
            attributes: serde_json::to_string(&sp.attributes).expect("attributes serialise"),
            sign: sp.sign,
            allow_idp_initiated: sp.allow_idp_initiated,
            default_relay_state: sp.default_relay_state.clone(),
        }
    }
}

/// One change a document makes.
#[derive(Debug, Clone)]
pub enum Op {
    Settings(Settings),
    /// Creates the group when needed and sets its minimum.
    Group {
        name: String,
        policy: Option<Policy>,
    },
    DeleteGroup(String),
    CreateOidc {
        app_id: String,
        name: String,
        client_id: String,
        secret_hash: Option<String>,
        redirect_uris: Vec<String>,
        post_logout_redirect_uris: Vec<String>,
        scopes: Vec<String>,
        client_credentials: bool,
    },
    UpdateOidc {
        app_id: String,
        name: String,
        redirect_uris: Vec<String>,
        post_logout_redirect_uris: Vec<String>,
        scopes: Vec<String>,
        client_credentials: bool,
    },
    Secret {
        client_id: String,
        hash: String,
    },
    CreateSaml(SamlRow),
    UpdateSaml(SamlRow),
    AppPolicy {
        app_id: String,
        policy: AppPolicy,
    },
    /// Sets a plugin's mode in a scope; whatever held that mode there is disabled.
    Assign {
        scope: String,
        plugin_id: String,
        mode: PluginMode,
        on_error: OnError,
    },
    Unassign {
        scope: String,
        plugin_id: String,
    },
    /// Deletes an app with its client, grants and plugin assignments.
    DeleteApp(String),
}

/// Runs `ops` in order in one transaction with the audit record `audit`.
pub async fn apply(db: &Db, ops: &[Op], audit: &super::audit::Event<'_>, now: i64) -> AppResult<()> {
    let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
    // Each setting as its key and JSON text, read before the transaction (the statements'
    // block only returns database errors).
    let mut settings: Vec<(String, String)> = Vec::new();
    for op in ops {
        if let Op::Settings(s) = op {
            let serde_json::Value::Object(map) = serde_json::to_value(s).map_err(AppError::internal)? else {
                return Err(AppError::internal("settings are not an object"));
            };
            settings = map.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        }
    }
    on_db_write!(db, p => {
        let mut tx = p.begin().await?;
        for op in ops {
            match op {
                Op::Settings(_) => {
                    for (k, v) in &settings {
                        sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
                            .bind(k).bind(v).bind(now).execute(&mut *tx).await?;
                    }
                }
                Op::Group { name, policy } => {
                    sqlx::query("INSERT INTO groups (id, name, mfa_policy) VALUES ($1, $2, $3) \
                                 ON CONFLICT (name) DO UPDATE SET mfa_policy = excluded.mfa_policy")
                        .bind(uuid::Uuid::new_v4().to_string()).bind(name).bind(policy.map(Policy::as_str))
                        .execute(&mut *tx).await?;
                }
                Op::DeleteGroup(name) => {
                    sqlx::query("DELETE FROM groups WHERE name = $1").bind(name).execute(&mut *tx).await?;
                }
                Op::CreateOidc {
                    app_id, name, client_id, secret_hash, redirect_uris, post_logout_redirect_uris, scopes,
                    client_credentials,
                } => {
                    sqlx::query("INSERT INTO apps (id, name, protocol, created_at) VALUES ($1, $2, 'oidc', $3)")
                        .bind(app_id).bind(name).bind(now).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO oidc_clients (client_id, app_id, secret_hash, redirect_uris, \
                                 post_logout_redirect_uris, allowed_scopes, client_credentials_since, \
                                 client_credentials_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(client_id).bind(app_id).bind(secret_hash).bind(json(redirect_uris))
                        .bind(json(post_logout_redirect_uris)).bind(scopes.join(" "))
                        .bind(client_credentials.then_some(now)).bind(client_credentials.then(apps::new_epoch))
                        .execute(&mut *tx).await?;
                }
                Op::UpdateOidc {
                    app_id, name, redirect_uris, post_logout_redirect_uris, scopes, client_credentials,
                } => {
                    sqlx::query(concat!("UPDATE oidc_clients SET redirect_uris = $2, post_logout_redirect_uris = $3, \
                                 allowed_scopes = $4, ", client_credentials_set!("$5", "$6", "$7"), " WHERE app_id = $1"))
                        .bind(app_id).bind(json(redirect_uris)).bind(json(post_logout_redirect_uris))
                        .bind(scopes.join(" ")).bind(client_credentials).bind(now).bind(apps::new_epoch())
                        .execute(&mut *tx).await?;
                    sqlx::query("UPDATE apps SET name = $2 WHERE id = $1").bind(app_id).bind(name)
                        .execute(&mut *tx).await?;
                }
                Op::Secret { client_id, hash } => {
                    sqlx::query(concat!("UPDATE oidc_clients SET secret_hash = $2, ", client_tokens_restart!("$3"),
                                        " WHERE client_id = $1"))
                        .bind(client_id).bind(hash).bind(now).execute(&mut *tx).await?;
                }
                Op::CreateSaml(r) => {
                    sqlx::query("INSERT INTO apps (id, name, protocol, created_at) VALUES ($1, $2, 'saml', $3)")
                        .bind(&r.app_id).bind(&r.name).bind(now).execute(&mut *tx).await?;
                    sqlx::query("INSERT INTO saml_service_providers (app_id, entity_id, acs, slo_url, slo_binding, \
                                 certificate, want_requests_signed, name_id_format, attributes, sign, \
                                 allow_idp_initiated, default_relay_state) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                        .bind(&r.app_id).bind(&r.entity_id).bind(&r.acs).bind(&r.slo_url).bind(&r.slo_binding)
                        .bind(&r.certificate).bind(r.want_requests_signed).bind(&r.name_id_format)
                        .bind(&r.attributes).bind(r.sign).bind(r.allow_idp_initiated).bind(&r.default_relay_state)
                        .execute(&mut *tx).await?;
                }
                Op::UpdateSaml(r) => {
                    sqlx::query("UPDATE saml_service_providers SET entity_id = $2, acs = $3, slo_url = $4, \
                                 slo_binding = $5, certificate = $6, want_requests_signed = $7, name_id_format = $8, \
                                 attributes = $9, sign = $10, allow_idp_initiated = $11, default_relay_state = $12 \
                                 WHERE app_id = $1")
                        .bind(&r.app_id).bind(&r.entity_id).bind(&r.acs).bind(&r.slo_url).bind(&r.slo_binding)
                        .bind(&r.certificate).bind(r.want_requests_signed).bind(&r.name_id_format)
                        .bind(&r.attributes).bind(r.sign).bind(r.allow_idp_initiated).bind(&r.default_relay_state)
                        .execute(&mut *tx).await?;
                    sqlx::query("UPDATE apps SET name = $2 WHERE id = $1").bind(&r.app_id).bind(&r.name)
                        .execute(&mut *tx).await?;
                }
                Op::AppPolicy { app_id, policy } => {
                    let factors = policy.allowed_factors.as_deref().map(crate::mfa::policy::join_factors);
                    sqlx::query("UPDATE apps SET mfa_policy = $2, reauth_interval_minutes = $3, \
                                 allow_trusted_devices = $4, allowed_factors = $5 WHERE id = $1")
                        .bind(app_id).bind(policy.mfa_policy.map_or("inherit", Policy::as_str))
                        .bind(policy.reauth_interval_minutes).bind(policy.allow_trusted_devices).bind(&factors)
                        .execute(&mut *tx).await?;
                }
                Op::Assign { scope, plugin_id, mode, on_error } => {
                    if *mode != PluginMode::Disabled {
                        sqlx::query("UPDATE plugin_assignments SET mode = 'disabled', updated_at = $3 \
                                     WHERE scope = $1 AND mode = $2 AND plugin_id <> $4")
                            .bind(scope).bind(*mode).bind(now).bind(plugin_id).execute(&mut *tx).await?;
                    }
                    sqlx::query("INSERT INTO plugin_assignments (scope, plugin_id, mode, on_error, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, plugin_id) \
                                 DO UPDATE SET mode = excluded.mode, on_error = excluded.on_error, \
                                 updated_at = excluded.updated_at")
                        .bind(scope).bind(plugin_id).bind(*mode).bind(*on_error).bind(now)
                        .execute(&mut *tx).await?;
                }
                Op::Unassign { scope, plugin_id } => {
                    sqlx::query("DELETE FROM plugin_assignments WHERE scope = $1 AND plugin_id = $2")
                        .bind(scope).bind(plugin_id).execute(&mut *tx).await?;
                }
                Op::DeleteApp(id) => {
                    sqlx::query("DELETE FROM plugin_assignments WHERE scope = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
            }
        }
        super::audit::insert(audit, now).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
