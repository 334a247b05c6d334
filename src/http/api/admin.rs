//! `/api/v1/admin`: settings, policies, apps, groups, users and the audit log. The router's
//! layer checks the administrator once (`guards::admin_layer`); each handler takes the
//! `Admin` it left and hands it to `crate::admin`, which does the work and audits it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::admin::apps::{self, OidcAppSpec, SamlAppSpec};
use crate::admin::{Admin, mfa as admin_mfa, settings, users, webhooks as admin_webhooks};
use crate::error::{AppError, AppResult};
use crate::http::guards::SameOriginJson;
use crate::mfa::policy::{AppPolicy, Factor, Policy, Settings};
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

/// The global sign-in settings.
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "admin",
    responses((status = 200, description = "The settings", body = Settings)))]
pub async fn settings_get(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(store::settings::load(&state.db).await?).into_response())
}

/// The settings after a change, and what it means for the administrator's own account.
#[derive(Serialize)]
pub struct SettingsChanged {
    #[serde(flatten)]
    settings: Settings,
    /// E.g. that the administrator has no factor the new policy accepts.
    warnings: Vec<String>,
}

/// `Settings`' schema with `warnings` beside its fields (a derived `flatten` would be an
/// `allOf` whose `Settings` part, which refuses unknown fields as a request must, refuses
/// `warnings` too).
impl utoipa::PartialSchema for SettingsChanged {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
        let mut schema = <Settings as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(o)) = &mut schema {
            o.additional_properties = None;
            let strings = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String));
            o.properties.insert("warnings".into(), strings.into());
            o.required.push("warnings".into());
        }
        schema
    }
}

impl ToSchema for SettingsChanged {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <Settings as ToSchema>::schemas(schemas);
    }
}

/// Changes some of the global settings (the fields given); refuses a change that would lock
/// every administrator out.
#[utoipa::path(patch, path = "/api/v1/admin/settings", tag = "admin",
    request_body(content = Settings, description = "Any of the settings' fields",
        example = json!({"mfa_policy": "any", "mfa_reauth_interval_minutes": 720})),
    responses((status = 200, description = "The settings", body = SettingsChanged)))]
pub async fn settings_patch(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(patch): SameOriginJson<Value>,
) -> AppResult<Response> {
    let settings = settings::update(&state, &admin, &patch).await?;
    let warnings =
        settings::own_account_warnings(&state, &admin).await?.iter().map(ToString::to_string).collect::<Vec<_>>();
    Ok(Json(SettingsChanged { settings, warnings }).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPolicyBody {
    /// `inherit` or a policy value.
    #[schema(example = "passkey")]
    mfa_policy: Option<String>,
    /// 0: the global interval.
    reauth_interval_minutes: Option<i64>,
    allow_trusted_devices: Option<bool>,
    /// The factors the app accepts (a subset of `mfa_allowed_factors`); `[]` or `null`: all.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    allowed_factors: Option<Option<Vec<String>>>,
}

/// A field that may be absent (`None`: unchanged), null (`Some(None)`: cleared) or set.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An app and its own sign-in policy.
#[derive(Serialize, ToSchema)]
pub struct AppPolicyView {
    id: String,
    name: String,
    protocol: store::apps::Protocol,
    /// `inherit` or a policy value.
    #[schema(example = "inherit")]
    mfa_policy: &'static str,
    reauth_interval_minutes: i64,
    allow_trusted_devices: bool,
    /// The factors the app accepts; `null`: all that are allowed.
    allowed_factors: Option<Vec<Factor>>,
}

fn app_policy_view(app: store::apps::App, p: AppPolicy) -> AppPolicyView {
    AppPolicyView {
        id: app.id,
        name: app.name,
        protocol: app.protocol,
        mfa_policy: p.mfa_policy.map_or("inherit", Policy::as_str),
        reauth_interval_minutes: p.reauth_interval_minutes,
        allow_trusted_devices: p.allow_trusted_devices,
        allowed_factors: p.allowed_factors,
    }
}

#[derive(Serialize, ToSchema)]
pub struct AppList {
    apps: Vec<store::apps::App>,
}

/// Every registered app (OIDC clients and SAML service providers).
#[utoipa::path(get, path = "/api/v1/admin/apps", tag = "admin",
    responses((status = 200, description = "The apps", body = AppList)))]
pub async fn apps_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(AppList { apps: store::apps::list(&state.db).await? }).into_response())
}

/// An app and its own sign-in policy.
#[utoipa::path(get, path = "/api/v1/admin/apps/{id}", tag = "admin",
    params(("id" = String, Path, description = "The app's id")),
    responses((status = 200, description = "The app", body = AppPolicyView)))]
pub async fn app_get(State(state): State<AppState>, _: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let policy = store::settings::find_app_policy(&state.db, &id).await?.unwrap_or_default();
    Ok(Json(app_policy_view(app, policy)).into_response())
}

/// Changes an app's own sign-in policy (the fields given).
#[utoipa::path(patch, path = "/api/v1/admin/apps/{id}", tag = "admin",
    params(("id" = String, Path, description = "The app's id")), request_body = AppPolicyBody,
    responses((status = 200, description = "The app", body = AppPolicyView)))]
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
                        Factor::parse(n).filter(|f| *f != Factor::BackupCode).ok_or_else(|| {
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
    Ok(Json(app_policy_view(app, p)).into_response())
}

/// Removes an app: its clients' tokens and sessions' links to it end.
#[utoipa::path(delete, path = "/api/v1/admin/apps/{id}", tag = "admin",
    params(("id" = String, Path, description = "The app's id")),
    responses((status = 204, description = "Removed")))]
pub async fn app_delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    apps::remove(&state, &admin, &app).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcAppBody {
    #[schema(example = "Wiki")]
    name: String,
    /// Chosen client id; generated when absent.
    client_id: Option<String>,
    /// A public client needs one; a confidential one may have none (a service using the
    /// client credentials grant).
    #[schema(example = json!(["https://wiki.example.com/callback"]))]
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    /// A public client (SPA, native app): no secret, PKCE required.
    #[serde(default)]
    public: bool,
    /// Extra scopes beyond the standard ones (e.g. `api:read`).
    #[serde(default)]
    scopes: Vec<String>,
    /// May ask for access tokens in its own name, with no user (the client credentials
    /// grant, RFC 6749 §4.4); confidential clients only. Its tokens carry only the extra scopes.
    #[serde(default)]
    client_credentials: bool,
}

/// Registers an OIDC client; a confidential client's secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/apps/oidc", tag = "admin", request_body = OidcAppBody,
    responses((status = 201, description = "The client (with its secret, shown once)", body = apps::CreatedOidcApp)))]
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
        client_credentials: b.client_credentials,
    };
    let created = apps::add_oidc(&state, &admin, &spec).await?;
    Ok((StatusCode::CREATED, Json(json!(created))).into_response())
}

/// Registers a SAML service provider from fields, its metadata (`metadata`), or both.
#[utoipa::path(post, path = "/api/v1/admin/apps/saml", tag = "admin", request_body = SamlAppSpec,
    responses((status = 201, description = "The service provider", body = store::saml::ServiceProvider)))]
pub async fn saml_app_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(spec): SameOriginJson<SamlAppSpec>,
) -> AppResult<Response> {
    let sp = apps::add_saml(&state, &admin, spec).await?;
    Ok((StatusCode::CREATED, Json(json!(sp))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    /// The group's minimum policy; absent or `null`: none.
    #[schema(example = "otp")]
    mfa_policy: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupList {
    groups: Vec<store::settings::Group>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupView {
    name: String,
    mfa_policy: Option<Policy>,
}

/// Every group, with its minimum policy and member count.
#[utoipa::path(get, path = "/api/v1/admin/groups", tag = "admin",
    responses((status = 200, description = "The groups", body = GroupList)))]
pub async fn groups_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    let groups = store::settings::list_groups(&state.db).await?;
    Ok(Json(GroupList { groups }).into_response())
}

/// Creates a group or sets its minimum policy.
#[utoipa::path(put, path = "/api/v1/admin/groups/{name}", tag = "admin",
    params(("name" = String, Path, description = "The group's name")), request_body = GroupBody,
    responses((status = 200, description = "The group", body = GroupView)))]
pub async fn group_put(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
    SameOriginJson(b): SameOriginJson<GroupBody>,
) -> AppResult<Response> {
    let policy = b.mfa_policy.as_deref().map(|v| policy_value("mfa_policy", v)).transpose()?;
    settings::set_group_policy(&state, &admin, &name, policy).await?;
    Ok(Json(GroupView { name, mfa_policy: policy }).into_response())
}

/// Adds a user to a group.
#[utoipa::path(put, path = "/api/v1/admin/groups/{name}/members/{username}", tag = "admin",
    params(("name" = String, Path, description = "The group's name"),
        ("username" = String, Path, description = "The user's name")),
    responses((status = 204, description = "A member")))]
pub async fn group_member_put(
    State(state): State<AppState>,
    admin: Admin,
    Path((name, username)): Path<(String, String)>,
) -> AppResult<Response> {
    users::add_to_group(&state, &admin, &username, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Takes a user out of a group.
#[utoipa::path(delete, path = "/api/v1/admin/groups/{name}/members/{username}", tag = "admin",
    params(("name" = String, Path, description = "The group's name"),
        ("username" = String, Path, description = "The user's name")),
    responses((status = 204, description = "No longer a member")))]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(example = "bob")]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// 1 to 14 (default 7).
    expires_days: Option<i64>,
    /// Email the link to the account's address.
    #[serde(default)]
    send_email: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<store::users::User>,
}

/// Every account.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, description = "The accounts", body = UserList)))]
pub async fn users_list(State(state): State<AppState>, _: Admin) -> AppResult<Response> {
    Ok(Json(UserList { users: store::users::list(&state.db).await? }).into_response())
}

/// A new account: with its generated password, or its invitation link (in this answer only).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CreatedUser {
    Invited(InvitedUser),
    Added(AddedUser),
}

#[derive(Serialize, ToSchema)]
pub struct InvitedUser {
    id: String,
    username: String,
    /// The link to choose a password (works once).
    invitation_url: String,
    expires_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AddedUser {
    id: String,
    username: String,
    is_admin: bool,
    /// The generated password when none was given (shown once); otherwise `null`.
    password: Option<String>,
}

/// Creates an account; a generated password, or the invitation link, is in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUserBody,
    responses((status = 201, description = "The account", body = CreatedUser)))]
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
        let body = CreatedUser::Invited(InvitedUser {
            id: user.id,
            username: user.username,
            invitation_url: issued.url.expose().to_owned(),
            expires_at: issued.expires_at,
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
    let body = CreatedUser::Added(AddedUser {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        password: generated,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Disables an account: its sessions and tokens end, and it cannot sign in.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/disable", tag = "admin",
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Disabled")))]
pub async fn user_disable(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> AppResult<StatusCode> {
    users::set_disabled(&state, &admin, &username, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled account.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/enable", tag = "admin",
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Enabled")))]
pub async fn user_enable(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> AppResult<StatusCode> {
    users::set_disabled(&state, &admin, &username, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes every factor, backup code and trusted device of an account.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/reset-mfa", tag = "admin",
    params(("username" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Reset")))]
pub async fn user_reset_mfa(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> AppResult<StatusCode> {
    users::reset_mfa(&state, &admin, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    user_id: Option<String>,
    actor_id: Option<String>,
    event: Option<String>,
    app_id: Option<String>,
    /// Unix time: entries at or after it.
    since: Option<i64>,
    /// Unix time: entries before it.
    until: Option<i64>,
    /// An entry id: entries older than it (the next page).
    before: Option<i64>,
    /// 1–1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    entries: Vec<store::audit::Entry>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, description = "Entries", body = AuditList)))]
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
    Ok(Json(AuditList { entries: store::audit::list(&state.db, &filter, limit).await? }).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestMessageBody {
    /// `email` or `sms`.
    #[schema(example = "email")]
    channel: String,
    #[schema(example = "ops@example.com")]
    to: String,
}

/// Queues a test message through the configured transport; 202 with its record (follow it
/// in `/api/v1/admin/outbox`).
#[utoipa::path(post, path = "/api/v1/admin/delivery/test", tag = "admin", request_body = TestMessageBody,
    responses((status = 202, description = "Queued", body = store::outbox::Summary)))]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` or `failed`.
    status: Option<String>,
    /// 1–1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    messages: Vec<store::outbox::Summary>,
}

/// The outbox (mail, SMS, webhook events), newest first, without the messages' bodies.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "admin", params(OutboxQuery),
    responses((status = 200, description = "Messages", body = MessageList)))]
pub async fn outbox(State(state): State<AppState>, admin: Admin, q: QueryResult<OutboxQuery>) -> AppResult<Response> {
    let q = query(q)?;
    let messages = crate::admin::delivery::list(&state, &admin, q.status.as_deref(), q.limit.unwrap_or(100)).await?;
    Ok(Json(MessageList { messages }).into_response())
}

/// A user's MFA status (by id or username).
#[utoipa::path(get, path = "/api/v1/admin/users/{username}/mfa", tag = "admin",
    params(("username" = String, Path, description = "The user's name or id")),
    responses((status = 200, description = "The user's MFA status", body = crate::mfa::manage::MfaStatus)))]
pub async fn user_mfa(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    Ok(Json(admin_mfa::status(&state, &admin, &user).await?).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Why, for the audit log and the user's alert.
    reason: Option<String>,
}

/// Removes one of a user's factors.
#[utoipa::path(delete, path = "/api/v1/admin/users/{username}/mfa/factors/{factor_id}", tag = "admin",
    params(("username" = String, Path, description = "The user's name or id"),
        ("factor_id" = String, Path, description = "The factor's id"), ReasonQuery),
    responses((status = 204, description = "Removed")))]
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

#[derive(Serialize, ToSchema)]
pub struct IssuedBackupCodes {
    backup_codes: Vec<String>,
}

/// A new set of backup codes for a user, in this answer only (the old set stops working).
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/mfa/backup-codes", tag = "admin",
    params(("username" = String, Path, description = "The user's name or id")),
    responses((status = 201, description = "The codes", body = IssuedBackupCodes)))]
pub async fn user_backup_codes(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    let codes = admin_mfa::generate_backup_codes(&state, &admin, &user).await?;
    Ok(crate::http::no_store((StatusCode::CREATED, Json(IssuedBackupCodes { backup_codes: codes }))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryLinkBody {
    #[schema(example = "lost phone, identity checked by video call")]
    reason: String,
    /// Seconds, at most 86400.
    #[schema(example = 3600)]
    expires_in: i64,
    /// Also email it to the user's verified address.
    #[serde(default)]
    email: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryLink {
    /// Works once; shown in this answer only.
    recovery_url: String,
    expires_at: i64,
    emailed: bool,
    note: &'static str,
}

/// An MFA recovery link for a user, in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/users/{username}/mfa/recovery", tag = "admin",
    params(("username" = String, Path, description = "The user's name or id")), request_body = RecoveryLinkBody,
    responses((status = 201, description = "The link", body = RecoveryLink)))]
pub async fn user_recovery_link(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    SameOriginJson(b): SameOriginJson<RecoveryLinkBody>,
) -> AppResult<Response> {
    let user = admin_mfa::user(&state, &id).await?;
    let issued = admin_mfa::recovery_link(&state, &admin, &user, &b.reason, b.expires_in, b.email).await?;
    let body = RecoveryLink {
        recovery_url: issued.url.expose().to_owned(),
        expires_at: issued.expires_at,
        emailed: b.email,
        note: "The link works once. The user signs in with their password, sets up a new factor, and only then gets a session.",
    };
    Ok(crate::http::no_store((StatusCode::CREATED, Json(body))))
}

/// MFA adoption and what the sign-ins did over the last 24 hours, 7 and 30 days.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin",
    responses((status = 200, description = "The figures", body = crate::admin::stats::Stats)))]
pub async fn stats(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(Json(crate::admin::stats::stats(&state, &admin).await?).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    webhooks: Vec<admin_webhooks::View>,
}

/// A webhook subscriber with its signing secret (in this answer only).
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    webhook: admin_webhooks::View,
    /// `whsec_...` (Standard Webhooks).
    secret: String,
}

/// The webhook subscribers.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "admin",
    responses((status = 200, description = "Subscribers", body = WebhookList)))]
pub async fn webhooks_list(State(state): State<AppState>, admin: Admin) -> AppResult<Response> {
    Ok(Json(WebhookList { webhooks: admin_webhooks::list(&state, &admin).await? }).into_response())
}

/// Adds a webhook subscriber; its signing secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "admin",
    request_body(content = admin_webhooks::Spec,
        example = json!({"url": "https://hooks.example.com/portcullis", "events": ["user.locked_out"]})),
    responses((status = 201, description = "The subscriber and its secret", body = WebhookWithSecret)))]
pub async fn webhook_create(
    State(state): State<AppState>,
    admin: Admin,
    SameOriginJson(spec): SameOriginJson<admin_webhooks::Spec>,
) -> AppResult<Response> {
    let (webhook, secret) = admin_webhooks::create(&state, &admin, &spec).await?;
    let body = WebhookWithSecret { webhook, secret: secret.expose().to_owned() };
    Ok(crate::http::no_store((StatusCode::CREATED, Json(body))))
}

/// One webhook subscriber.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id")),
    responses((status = 200, description = "The subscriber", body = admin_webhooks::View)))]
pub async fn webhook_get(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    Ok(Json(admin_webhooks::get(&state, &admin, &id).await?).into_response())
}

/// Changes a webhook subscriber (the fields given).
#[utoipa::path(patch, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id")), request_body = admin_webhooks::Spec,
    responses((status = 200, description = "The subscriber", body = admin_webhooks::View)))]
pub async fn webhook_patch(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    SameOriginJson(spec): SameOriginJson<admin_webhooks::Spec>,
) -> AppResult<Response> {
    Ok(Json(admin_webhooks::update(&state, &admin, &id, &spec).await?).into_response())
}

/// Removes a webhook subscriber.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id")),
    responses((status = 204, description = "Removed")))]
pub async fn webhook_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    admin_webhooks::delete(&state, &admin, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new signing secret, in this answer only; the previous one keeps signing for a day.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/rotate-secret", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id")),
    responses((status = 200, description = "The subscriber and its new secret", body = WebhookWithSecret)))]
pub async fn webhook_rotate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (webhook, secret) = admin_webhooks::rotate_secret(&state, &admin, &id).await?;
    let body = WebhookWithSecret { webhook, secret: secret.expose().to_owned() };
    Ok(crate::http::no_store((StatusCode::OK, Json(body))))
}

/// Queues a `webhook.test` event for the subscriber; answers its outbox record.
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/test", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id")),
    responses((status = 202, description = "Queued", body = store::outbox::Summary)))]
pub async fn webhook_test(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> AppResult<Response> {
    let summary = admin_webhooks::send_test(&state, &admin, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(summary)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// 1–1000 (default 100).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<store::outbox::Summary>,
}

/// The subscriber's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "admin",
    params(("id" = String, Path, description = "The subscriber's id"), LimitQuery),
    responses((status = 200, description = "Deliveries", body = DeliveryList)))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    q: QueryResult<LimitQuery>,
) -> AppResult<Response> {
    let q = query(q)?;
    let list = admin_webhooks::deliveries(&state, &admin, &id, q.limit.unwrap_or(100)).await?;
    Ok(Json(DeliveryList { deliveries: list }).into_response())
}
