//! `/api/v1/admin`: settings, policies, apps, groups, users and the audit log. The router's
//! layer checks the administrator once (`guards::admin_layer`); each handler takes the
//! `Admin` it left and hands it to `crate::admin`, which does the work and audits it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::admin::apps::{self, OidcAppSpec, SamlAppSpec};
use crate::admin::{Admin, mfa as admin_mfa, settings, users, webhooks as admin_webhooks};
use crate::error::{AppError, AppResult};
use crate::http::guards::SameOriginJson;
use crate::mfa::policy::{AppPolicy, Policy};
use crate::state::AppState;
use crate::store;

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

pub(super) fn query<T>(q: QueryResult<T>) -> AppResult<T> {
    q.map(|Query(v)| v).map_err(|e| AppError::BadRequest(format!("query: {}", e.body_text()).into()))
}

fn policy_value(key: &str, v: &str) -> AppResult<Policy> {
    Policy::parse(v).ok_or_else(|| {
        AppError::BadRequest(format!("{key}: `{v}` is not disabled, optional, any, otp or passkey").into())
    })
}

pub async fn settings_get(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(store::settings::load(&state.db).await?).into_response())
}

pub async fn settings_patch(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(patch): SameOriginJson<Value>,
) -> AppResult<Response> {
    let s = settings::update(&state, &admin, &patch).await?;
    let mut body = json!(s);
    body["warnings"] = json!(
        settings::own_account_warnings(&state, &admin).await?.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPolicyBody {
    /// `inherit` or a policy value.
    mfa_policy: Option<String>,
    reauth_interval_minutes: Option<i64>,
    allow_trusted_devices: Option<bool>,
    /// The factors the app accepts (a subset of `mfa_allowed_factors`); `[]` or `null`: all.
    #[serde(default, deserialize_with = "present")]
    allowed_factors: Option<Option<Vec<String>>>,
}

/// A field that may be absent (`None`: unchanged), null (`Some(None)`: cleared) or set.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn app_policy_json(app: &store::apps::App, p: &AppPolicy) -> Value {
    json!({
        "id": app.id,
        "name": app.name,
        "protocol": app.protocol,
        "mfa_policy": p.mfa_policy.map_or("inherit", Policy::as_str),
        "reauth_interval_minutes": p.reauth_interval_minutes,
        "allow_trusted_devices": p.allow_trusted_devices,
        "allowed_factors": p.allowed_factors,
    })
}

pub async fn apps_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(json!({"apps": store::apps::list(&state.db).await?})).into_response())
}

pub async fn app_get(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let policy = store::settings::find_app_policy(&state.db, &id).await?.unwrap_or_default();
    Ok(Json(app_policy_json(&app, &policy)).into_response())
}

pub async fn app_patch(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    SameOriginJson(b): SameOriginJson<AppPolicyBody>,
) -> AppResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let mut p = store::settings::find_app_policy(&state.db, &id).await?.unwrap_or_default();
    if let Some(v) = &b.mfa_policy {
        p.mfa_policy = match v.as_str() {
            "inherit" => None,
            other => Some(policy_value("mfa_policy (or inherit)", other)?),
        };
    }
    if let Some(v) = b.reauth_interval_minutes {
        p.reauth_interval_minutes = v;
    }
    if let Some(v) = b.allow_trusted_devices {
        p.allow_trusted_devices = v;
    }
    if let Some(v) = b.allowed_factors {
        p.allowed_factors = match v.filter(|f| !f.is_empty()) {
            None => None,
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| {
                        crate::mfa::policy::Factor::parse(n)
                            .filter(|f| *f != crate::mfa::policy::Factor::BackupCode)
                            .ok_or_else(|| {
                                AppError::BadRequest(
                                    format!("allowed_factors: `{n}` is not totp, passkey, sms or email").into(),
                                )
                            })
                    })
                    .collect::<AppResult<Vec<_>>>()?,
            ),
        };
    }
    settings::set_app_policy(&state, &admin, &id, &p).await?;
    Ok(Json(app_policy_json(&app, &p)).into_response())
}

pub async fn app_delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    apps::remove(&state, &admin, &app).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcAppBody {
    name: String,
    client_id: Option<String>,
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Registers an OIDC client; a confidential client's secret is in this answer only.
pub async fn oidc_app_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(b): SameOriginJson<OidcAppBody>,
) -> AppResult<Response> {
    let spec = OidcAppSpec {
        name: &b.name,
        client_id: b.client_id.as_deref(),
        redirect_uris: &b.redirect_uris,
        post_logout_redirect_uris: &b.post_logout_redirect_uris,
        public: b.public,
        extra_scopes: &b.scopes,
    };
    let created = apps::add_oidc(&state, &admin, &spec).await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

/// Registers a SAML service provider from fields, its metadata (`metadata`), or both.
pub async fn saml_app_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(spec): SameOriginJson<SamlAppSpec>,
) -> AppResult<Response> {
    let sp = apps::add_saml(&state, &admin, spec).await?;
    Ok((StatusCode::CREATED, Json(json!(sp))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    mfa_policy: Option<String>,
}

pub async fn groups_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    let groups = store::settings::list_groups(&state.db).await?;
    Ok(Json(json!({"groups": groups})).into_response())
}

pub async fn group_put(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    SameOriginJson(b): SameOriginJson<GroupBody>,
) -> AppResult<Response> {
    let policy = b.mfa_policy.as_deref().map(|v| policy_value("mfa_policy", v)).transpose()?;
    settings::set_group_policy(&state, &admin, &name, policy).await?;
    Ok(Json(json!({"name": name, "mfa_policy": policy})).into_response())
}

pub async fn group_member_put(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, username)): Path<(String, String)>,
) -> AppResult<Response> {
    users::add_to_group(&state, &admin, &username, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn group_member_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, username)): Path<(String, String)>,
) -> AppResult<Response> {
    if !users::remove_from_group(&state, &admin, &username, &name).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    /// Generated (and answered once) when absent.
    password: Option<String>,
    email: Option<String>,
    /// The administrator vouches for the address (recovery and reset links may go to it).
    #[serde(default)]
    email_verified: bool,
    display_name: Option<String>,
    #[serde(default)]
    is_admin: bool,
    #[serde(default)]
    groups: Vec<String>,
    /// Instead of a password: an invitation link to choose one.
    invite: Option<InviteBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// 1 to 14 (default 7).
    expires_days: Option<i64>,
    /// Email the link to the account's address.
    #[serde(default)]
    send_email: bool,
}

pub async fn users_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(json!({"users": store::users::list(&state.db).await?})).into_response())
}

/// Creates an account; a generated password, or the invitation link, is in this answer only.
pub async fn user_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(b): SameOriginJson<NewUserBody>,
) -> AppResult<Response> {
    if let Some(invite) = &b.invite {
        if b.password.is_some() || b.is_admin {
            return Err(AppError::BadRequest(
                "an invited user chooses their own password and starts as a user: drop `password` and `is_admin`"
                    .into(),
            ));
        }
        let spec = users::UserSpec {
            username: b.username.trim(),
            password: "",
            email: b.email.as_deref(),
            email_verified: b.email_verified,
            display_name: b.display_name.as_deref(),
            is_admin: false,
            groups: &b.groups,
        };
        let days = invite.expires_days.unwrap_or(7);
        let (user, issued) = users::invite(&state, &admin, &spec, days, invite.send_email).await?;
        let body = json!({
            "id": user.id,
            "username": user.username,
            "invitation_url": issued.url.expose(),
            "expires_at": issued.expires_at,
        });
        return Ok((StatusCode::CREATED, Json(body)).into_response());
    }
    let generated = b.password.is_none().then(users::generate_password);
    let spec = users::UserSpec {
        username: b.username.trim(),
        password: b.password.as_deref().or(generated.as_deref()).unwrap_or_default(),
        email: b.email.as_deref(),
        email_verified: b.email_verified,
        display_name: b.display_name.as_deref(),
        is_admin: b.is_admin,
        groups: &b.groups,
    };
    let user = users::add(&state, &admin, &spec).await?;
    let body = json!({"id": user.id, "username": user.username, "is_admin": user.is_admin, "password": generated});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// What an administrator can do to an account by name.
#[derive(Clone, Copy)]
pub enum UserAction {
    Disable,
    Enable,
    ResetMfa,
}

/// `POST /users/{username}/disable|enable|reset-mfa`.
pub fn post_user_action(action: UserAction) -> MethodRouter<AppState> {
    post(move |State(state): State<AppState>, admin: Admin, Path(username): Path<String>| async move {
        match action {
            UserAction::Disable => users::set_disabled(&state, &admin, &username, true).await?,
            UserAction::Enable => users::set_disabled(&state, &admin, &username, false).await?,
            UserAction::ResetMfa => users::reset_mfa(&state, &admin, &username).await?,
        }
        AppResult::Ok(StatusCode::NO_CONTENT)
    })
}

#[derive(Deserialize)]
pub struct AuditQuery {
    user_id: Option<String>,
    actor_id: Option<String>,
    event: Option<String>,
    app_id: Option<String>,
    /// Unix time: entries at or after it.
    since: Option<i64>,
    /// Unix time: entries before it.
    until: Option<i64>,
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn audit(State(state): State<AppState>, _: Admin, q: QueryResult<AuditQuery>) -> AppResult<Response> {
    let q = query(q)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let filter = store::audit::Filter {
        user_id: q.user_id.as_deref(),
        actor_id: q.actor_id.as_deref(),
        event: q.event.as_deref(),
        app_id: q.app_id.as_deref(),
        since: q.since,
        until: q.until,
        before: q.before,
    };
    Ok(Json(json!({"entries": store::audit::list(&state.db, &filter, limit).await?})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestMessageBody {
    /// `email` or `sms`.
    channel: String,
    to: String,
}

/// `POST /delivery/test`: queues a test message; 202 with its record (follow it in `/outbox`).
pub async fn delivery_test(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(b): SameOriginJson<TestMessageBody>,
) -> AppResult<Response> {
    let channel = crate::delivery::Channel::parse(&b.channel)
        .ok_or_else(|| AppError::BadRequest(format!("channel: `{}` is not email or sms", b.channel).into()))?;
    let msg = crate::admin::delivery::send_test(&state, &admin, channel, &b.to).await?;
    Ok((StatusCode::ACCEPTED, Json(msg)).into_response())
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /outbox[?status=failed]`: messages newest first, without their bodies.
pub async fn outbox(State(state): State<AppState>, admin: Admin, q: QueryResult<OutboxQuery>) -> AppResult<Response> {
    let q = query(q)?;
    let messages = crate::admin::delivery::list(&state, &admin, q.status.as_deref(), q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"messages": messages})).into_response())
}

/// `GET /users/{id}/mfa` (the id, or the username).
pub async fn user_mfa(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    Ok(Json(admin_mfa::status(&state, &admin, &user).await?).into_response())
}

#[derive(Deserialize)]
pub struct ReasonQuery {
    reason: Option<String>,
}

/// `DELETE /users/{id}/mfa/factors/{factor_id}?reason=…`.
pub async fn user_factor_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, factor_id)): Path<(String, String)>,
    q: QueryResult<ReasonQuery>,
) -> AppResult<Response> {
    let q = query(q)?;
    let user = admin_mfa::user(&state, &id).await?;
    admin_mfa::remove_factor(&state, &admin, &user, &factor_id, q.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /users/{id}/mfa/backup-codes`: a new set, in this answer only.
pub async fn user_backup_codes(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    let codes = admin_mfa::generate_backup_codes(&state, &admin, &user).await?;
    Ok(crate::http::no_store((StatusCode::CREATED, Json(json!({"backup_codes": codes})))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryLinkBody {
    reason: String,
    /// Seconds, at most 86400.
    expires_in: i64,
    /// Also email it to the user's verified address.
    #[serde(default)]
    email: bool,
}

/// `POST /users/{id}/mfa/recovery {reason, expires_in}`: a recovery link, in this answer only.
pub async fn user_recovery_link(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    SameOriginJson(b): SameOriginJson<RecoveryLinkBody>,
) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    let issued = admin_mfa::recovery_link(&state, &admin, &user, &b.reason, b.expires_in, b.email).await?;
    let body = json!({
        "recovery_url": issued.url,
        "expires_at": issued.expires_at,
        "emailed": b.email,
        "note": "The link works once. The user signs in with their password, sets up a new factor, and only then gets a session.",
    });
    Ok(crate::http::no_store((StatusCode::CREATED, Json(body))))
}

/// `GET /stats`.
pub async fn stats(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(Json(crate::admin::stats::stats(&state, &admin).await?).into_response())
}

/// `GET /webhooks`.
pub async fn webhooks_list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(Json(json!({"webhooks": admin_webhooks::list(&state, &admin).await?})).into_response())
}

/// `POST /webhooks {url, events, description}`: the secret is in this answer only.
pub async fn webhook_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(spec): SameOriginJson<admin_webhooks::Spec>,
) -> AppResult<Response> {
    let (view, secret) = admin_webhooks::create(&state, &admin, &spec).await?;
    let mut body = json!(view);
    body["secret"] = json!(secret);
    Ok(crate::http::no_store((StatusCode::CREATED, Json(body))))
}

pub async fn webhook_get(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(admin_webhooks::get(&state, &admin, &id).await?).into_response())
}

pub async fn webhook_patch(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    SameOriginJson(spec): SameOriginJson<admin_webhooks::Spec>,
) -> AppResult<Response> {
    Ok(Json(admin_webhooks::update(&state, &admin, &id, &spec).await?).into_response())
}

pub async fn webhook_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    admin_webhooks::delete(&state, &admin, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /webhooks/{id}/rotate-secret`: the new secret, in this answer only.
pub async fn webhook_rotate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (view, secret) = admin_webhooks::rotate_secret(&state, &admin, &id).await?;
    let mut body = json!(view);
    body["secret"] = json!(secret);
    Ok(crate::http::no_store((StatusCode::OK, Json(body))))
}

/// `POST /webhooks/{id}/test`: a `webhook.test` event; answers its outbox record.
pub async fn webhook_test(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let summary = admin_webhooks::send_test(&state, &admin, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(summary)).into_response())
}

#[derive(Deserialize)]
pub struct LimitQuery {
    limit: Option<i64>,
}

/// `GET /webhooks/{id}/deliveries`: the subscriber's delivery log, newest first.
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    q: QueryResult<LimitQuery>,
) -> AppResult<Response> {
    let q = query(q)?;
    let list = admin_webhooks::deliveries(&state, &admin, &id, q.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"deliveries": list})).into_response())
}
