//! JSON API (paths as in DESIGN §6). Sign-in: `POST /api/v1/auth/login` answers with a
//! session, `{mfa_required, mfa_token, factors}` or `{mfa_enrollment_required,
//! enrollment_token, factors}`; the MFA endpoints finish the login. The `me` and `mfa`
//! endpoints work on the caller's session; `admin` needs an administrator whose session
//! satisfies the global MFA policy. Bodies must be `application/json`, which also keeps
//! cross-site forms out.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::ClientInfo;
use super::{cookies, forms};
use crate::error::{AppError, AppResult};
use crate::login::mfa::{self as flow, Progress, Proof};
use crate::login::{self, Client, MfaPending, Next, Stage};
use crate::mfa::policy::{AppPolicy, Factor, Policy};
use crate::mfa::{backup, manage};
use crate::state::AppState;
use crate::store;
use crate::store::sessions::Session;
use crate::store::users::User;

pub(crate) fn no_store(jar: CookieJar, status: StatusCode, body: Value) -> Response {
    (status, jar, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

fn factor_names(fs: &[Factor]) -> Vec<&'static str> {
    fs.iter().map(|f| f.as_str()).collect()
}

fn mfa_body(p: &MfaPending) -> Value {
    match p.stage {
        Stage::Challenge => json!({
            "authenticated": false,
            "mfa_required": true,
            "mfa_token": p.token,
            "factors": factor_names(&p.challenge),
            "enrollment_follows": !p.enroll.is_empty(),
        }),
        Stage::Enroll => json!({
            "authenticated": false,
            "mfa_required": false,
            "mfa_enrollment_required": true,
            "enrollment_token": p.token,
            "factors": factor_names(&p.enroll),
            "can_postpone": p.can_postpone,
        }),
    }
}

fn session_body(session: &Session, user: &User) -> Value {
    json!({
        "authenticated": true,
        "mfa_required": false,
        "user": {"id": user.id, "username": user.username},
        "session": {
            "id": session.id,
            "auth_time": session.auth_time,
            "expires_at": session.expires_at,
            "mfa_at": session.mfa_at,
            "mfa_factor": session.mfa_factor,
        },
    })
}

/// A login's next step as JSON (and the session cookie when one was created).
fn next_response(state: &AppState, jar: CookieJar, next: Next) -> AppResult<Response> {
    match next {
        Next::Done { session, user, new_session_token, redirect } => {
            let mut body = session_body(&session, &user);
            body["redirect_to"] = json!(redirect);
            let jar = match new_session_token {
                Some(t) => cookies::set_session(state, jar, t),
                None => jar,
            };
            Ok(no_store(jar, StatusCode::OK, body))
        }
        Next::Mfa(p) => Ok(no_store(jar, StatusCode::OK, mfa_body(&p))),
        Next::Denied { redirect, reason } => Ok(no_store(
            jar,
            StatusCode::FORBIDDEN,
            json!({"error": "access_denied", "error_description": reason, "redirect_to": redirect}),
        )),
        Next::RequestExpired => {
            Err(AppError::BadRequest("the authorization request expired or was already used".into()))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    /// Continue a waiting OIDC authorization request (`/login?request=...`).
    #[serde(default)]
    request_id: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: LoginBody = forms::json(&headers, &body)?;
    let next = login::password_login(&state, b.username.trim(), &b.password, b.request_id.as_deref(), &client)
        .await?
        .ok_or(AppError::InvalidCredentials)?;
    next_response(&state, jar, next)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeBody {
    mfa_token: String,
    code: String,
}

pub async fn mfa_totp(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    mfa_code(state, jar, client, headers, body, Factor::Totp).await
}

pub async fn mfa_backup_code(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    mfa_code(state, jar, client, headers, body, Factor::BackupCode).await
}

async fn mfa_code(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
    factor: Factor,
) -> AppResult<Response> {
    let b: MfaCodeBody = forms::json(&headers, &body)?;
    let proof = if factor == Factor::Totp { Proof::Totp(&b.code) } else { Proof::BackupCode(&b.code) };
    let progress = flow::verify(&state, &b.mfa_token, proof, &client).await?;
    progress_response(&state, jar, client, progress).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaTokenBody {
    mfa_token: String,
}

/// Options for `navigator.credentials.get` (`{"publicKey": ...}`), bound to the transaction.
pub async fn mfa_passkey_begin(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Response> {
    let b: MfaTokenBody = forms::json(&headers, &body)?;
    let options = flow::begin_passkey(&state, &b.mfa_token).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(options)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaPasskeyBody {
    mfa_token: String,
    /// The `PublicKeyCredential` from the browser, as JSON (WebAuthn L3 `toJSON()` form).
    credential: Value,
}

pub async fn mfa_passkey_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: MfaPasskeyBody = forms::json(&headers, &body)?;
    let credential = parse_credential(b.credential)?;
    let progress = flow::verify(&state, &b.mfa_token, Proof::Passkey(&credential), &client).await?;
    progress_response(&state, jar, client, progress).await
}

fn parse_credential<T: serde::de::DeserializeOwned>(v: Value) -> AppResult<T> {
    serde_json::from_value(v).map_err(|e| AppError::BadRequest(format!("credential: not a WebAuthn credential ({e})")))
}

/// After a factor: either enrolment follows, or the login completes and a waiting request
/// continues (through the MFA step once more).
async fn progress_response(state: &AppState, jar: CookieJar, client: Client, p: Progress) -> AppResult<Response> {
    let done = match p {
        Progress::Enroll(p) => return Ok(no_store(jar, StatusCode::OK, mfa_body(&p))),
        Progress::Completed(done) => done,
    };
    let jar = match &done.new_session_token {
        Some(t) => cookies::set_session(state, jar, t.clone()),
        None => jar,
    };
    let mut resp = match flow::continue_login(state, &done, &client).await? {
        Next::Done { session, user, redirect, .. } => {
            let mut body = session_body(&session, &user);
            body["redirect_to"] = json!(redirect);
            body
        }
        other => return next_response(state, jar, other),
    };
    resp["trust_device_token"] = json!(done.trust_token);
    Ok(no_store(jar, StatusCode::OK, resp))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    #[serde(default)]
    enrollment_token: Option<String>,
}

/// Starts TOTP enrolment: inside a login (`enrollment_token`) or for the signed-in user.
pub async fn totp_enroll(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: EnrollBody =
        if body.is_empty() { EnrollBody { enrollment_token: None } } else { forms::json(&headers, &body)? };
    let e = match &b.enrollment_token {
        Some(t) => flow::begin_totp_enrolment(&state, t).await?.0,
        None => {
            let (session, user) = require_session(&state, &client).await?;
            manage::begin_totp(&state, &session, &user).await?
        }
    };
    let body = json!({"secret": e.secret, "otpauth_uri": e.uri, "qr_svg": e.qr_svg});
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: ConfirmBody = forms::json(&headers, &body)?;
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::confirm_totp_enrolment(&state, t, &b.code, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let (session, user) = require_session(&state, &client).await?;
            manage::confirm_totp(&state, &session, &user, &b.code, &client.origin).await?;
            Ok(no_store(jar, StatusCode::OK, json!({"enabled": true})))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    enrollment_token: String,
}

pub async fn postpone_enrollment(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: TokenBody = forms::json(&headers, &body)?;
    let progress = flow::postpone(&state, &b.enrollment_token, &client).await?;
    progress_response(&state, jar, client, progress).await
}

/// Starts registering a passkey: inside a login (`enrollment_token`) or for the signed-in
/// user. Answers `{"session": ceremony id, "publicKey": options}`.
pub async fn passkey_register_begin(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: EnrollBody =
        if body.is_empty() { EnrollBody { enrollment_token: None } } else { forms::json(&headers, &body)? };
    let (ceremony, options) = match &b.enrollment_token {
        Some(t) => flow::begin_passkey_enrolment(&state, t).await?,
        None => {
            let (session, user) = require_session(&state, &client).await?;
            manage::begin_passkey(&state, &session, &user).await?
        }
    };
    let mut body = json!(options);
    body["session"] = json!(ceremony);
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct CeremonyQuery {
    session: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegisterBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    /// The new `PublicKeyCredential` from the browser, as JSON.
    credential: Value,
    #[serde(default)]
    name: String,
}

pub async fn passkey_register_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    query: Result<Query<CeremonyQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let Query(q) = query.map_err(|_| AppError::BadRequest("the `session` query parameter is required".into()))?;
    let b: PasskeyRegisterBody = forms::json(&headers, &body)?;
    let credential = parse_credential(b.credential)?;
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::finish_passkey_enrolment(&state, t, &q.session, &credential, &b.name, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let (session, user) = require_session(&state, &client).await?;
            let info =
                manage::finish_passkey(&state, &session, &user, &q.session, &credential, &b.name, &client.origin)
                    .await?;
            Ok(no_store(jar, StatusCode::CREATED, json!(info)))
        }
    }
}

pub async fn passkeys_list(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"passkeys": passkeys})))
}

pub async fn passkey_get(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    let p = passkeys.into_iter().find(|p| p.id == id).ok_or(AppError::NotFound)?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    name: String,
}

pub async fn passkey_patch(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    let b: RenameBody = forms::json(&headers, &body)?;
    let p = manage::rename_passkey(&state, &user, &id, &b.name).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

pub async fn passkey_delete(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (session, user) = require_session(&state, &client).await?;
    manage::remove_passkey(&state, &session, &user, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn totp_delete(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    let (session, user) = require_session(&state, &client).await?;
    manage::remove_totp(&state, &session, &user, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A fresh second factor for the current session (before changing factors).
pub async fn step_up(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    let (session, user) = require_session(&state, &client).await?;
    let p = login::step_up_session(&state, &session, &user, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, mfa_body(&p)))
}

pub async fn backup_codes_generate(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
) -> AppResult<Response> {
    let (session, user) = require_session(&state, &client).await?;
    let codes = manage::generate_backup_codes(&state, &session, &user, &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"codes": codes, "remaining": codes.len()})))
}

pub async fn backup_codes_status(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    let s = store::factors::backup_code_status(&state.db, &user.id).await?;
    let body = json!({
        "remaining": s.remaining,
        "total": s.total,
        "generated_at": s.generated_at,
        "low": s.total > 0 && s.remaining < backup::LOW_WATER,
    });
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustBody {
    trust_device_token: String,
    #[serde(default)]
    name: String,
}

pub async fn devices_create(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: TrustBody = forms::json(&headers, &body)?;
    let (_, user) = require_session(&state, &client).await?;
    let (token, device, _) = flow::trust_device(&state, &user.id, &b.trust_device_token, &b.name, &client).await?;
    let jar = cookies::set_device(&state, jar, token, device.expires_at);
    Ok(no_store(jar, StatusCode::CREATED, json!(device)))
}

pub async fn devices_list(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    let devices = store::devices::list(&state.db, &user.id, state.now()).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"devices": devices})))
}

pub async fn devices_delete(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (_, user) = require_session(&state, &client).await?;
    manage::revoke_device(&state, &user, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn require_session(state: &AppState, client: &Client) -> AppResult<(Session, User)> {
    login::current_session(state, client.session_token.as_deref()).await?.ok_or(AppError::Unauthorized)
}

/// An administrator whose session satisfies the global MFA policy right now.
pub(crate) async fn require_admin(state: &AppState, client: &Client) -> AppResult<(Session, User)> {
    let (session, user) = require_session(state, client).await?;
    crate::admin::authorize(state, &session, &user, client.device_token.as_deref()).await?;
    Ok((session, user))
}

pub async fn admin_settings_get(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let s = store::settings::load(&state.db).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(s)))
}

pub async fn admin_settings_patch(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let patch: Value = forms::json(&headers, &body)?;
    let s = crate::admin::update_settings(&state, &patch, Some(&admin.id), &client.origin).await?;
    let mut body = json!(s);
    body["warnings"] = json!(crate::admin::own_account_warnings(&state, &admin).await?);
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPolicyBody {
    /// `inherit` or a policy value.
    mfa_policy: Option<String>,
    reauth_interval_minutes: Option<i64>,
    allow_trusted_devices: Option<bool>,
}

pub async fn admin_app_get(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let policy = store::settings::find_app_policy(&state.db, &id).await?.unwrap_or_default();
    Ok(no_store(CookieJar::new(), StatusCode::OK, app_policy_json(&app, &policy)))
}

fn app_policy_json(app: &store::apps::App, p: &AppPolicy) -> Value {
    json!({
        "id": app.id,
        "name": app.name,
        "protocol": app.protocol,
        "mfa_policy": p.mfa_policy.map_or("inherit", Policy::as_str),
        "reauth_interval_minutes": p.reauth_interval_minutes,
        "allow_trusted_devices": p.allow_trusted_devices,
    })
}

pub async fn admin_app_patch(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let b: AppPolicyBody = forms::json(&headers, &body)?;
    let app = store::apps::find(&state.db, &id).await?.ok_or(AppError::NotFound)?;
    let mut p = store::settings::find_app_policy(&state.db, &id).await?.unwrap_or_default();
    if let Some(v) = &b.mfa_policy {
        p.mfa_policy = match v.as_str() {
            "inherit" => None,
            other => Some(Policy::parse(other).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "mfa_policy: `{other}` is not inherit, disabled, optional, any, otp or passkey"
                ))
            })?),
        };
    }
    if let Some(v) = b.reauth_interval_minutes {
        p.reauth_interval_minutes = v;
    }
    if let Some(v) = b.allow_trusted_devices {
        p.allow_trusted_devices = v;
    }
    crate::admin::set_app_policy(&state, &id, &p, Some(&admin.id), &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, app_policy_json(&app, &p)))
}

/// Registers a SAML service provider from fields, its metadata (`metadata`), or both.
pub async fn admin_saml_app_create(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let spec: crate::admin::SamlAppSpec = forms::json(&headers, &body)?;
    let sp = crate::admin::add_saml_app(&state, spec).await?;
    let detail = format!("saml {}", sp.entity_id);
    crate::audit::record(
        &state,
        crate::audit::event::APP_CREATED,
        Some(&admin.id),
        Some(&sp.app_id),
        &client.origin,
        Some(&detail),
    )
    .await?;
    Ok(no_store(CookieJar::new(), StatusCode::CREATED, json!(sp)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    mfa_policy: Option<String>,
}

pub async fn admin_groups_list(State(state): State<AppState>, ClientInfo(client): ClientInfo) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let groups = store::settings::list_groups(&state.db).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"groups": groups})))
}

pub async fn admin_group_put(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    let b: GroupBody = forms::json(&headers, &body)?;
    let policy = match b.mfa_policy.as_deref() {
        None => None,
        Some(v) => Some(
            Policy::parse(v).ok_or_else(|| AppError::BadRequest(format!("mfa_policy: `{v}` is not a policy value")))?,
        ),
    };
    crate::admin::set_group_policy(&state, &name, policy, Some(&admin.id), &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"name": name, "mfa_policy": policy})))
}

pub async fn admin_group_member_put(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path((name, username)): Path<(String, String)>,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let user = store::users::find_by_username(&state.db, &username).await?.ok_or(AppError::NotFound)?;
    store::users::add_to_group(&state.db, &user.id, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn admin_user_reset_mfa(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Path(username): Path<String>,
) -> AppResult<Response> {
    let (_, admin) = require_admin(&state, &client).await?;
    crate::admin::reset_mfa(&state, &username, Some(&admin.id), &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    user_id: Option<String>,
    event: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

pub async fn admin_audit(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    require_admin(&state, &client).await?;
    let Query(q) = query.map_err(|e| AppError::BadRequest(format!("query: {}", e.body_text())))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = store::audit::list(&state.db, q.user_id.as_deref(), q.event.as_deref(), q.before, limit).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"entries": entries})))
}
