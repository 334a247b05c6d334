//! `/api/v1/mfa` and `/api/v1/me`: the caller's own factors (TOTP, passkeys, backup codes)
//! and trusted devices. Enrolment also runs inside a login, with its `enrollment_token`
//! instead of a session.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::{LoginStep, progress_response};
use super::no_store;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientInfo;
use crate::http::guards::{FreshlyVerified, SameOriginJson, SameOriginJsonOrEmpty, SignedIn};
use crate::http::{cookies, forms};
use crate::login::mfa as flow;
use crate::mfa::policy::Factor;
use crate::mfa::{backup, manage};
use crate::state::AppState;
use crate::store;

/// Inside a sign-in, its `enrollment_token`; for the signed-in user, nothing (or `{}`).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    #[serde(default)]
    enrollment_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// The shared secret, base32.
    secret: String,
    /// `otpauth://totp/...` for authenticator apps.
    otpauth_uri: String,
    /// The same URI as a QR code (SVG).
    qr_svg: String,
}

/// Starts TOTP enrolment: inside a login (`enrollment_token`) or for the signed-in user
/// (after a fresh second factor). Confirm with a code at `/api/v1/mfa/totp/confirm`.
#[utoipa::path(post, path = "/api/v1/mfa/totp/enroll", tag = "account",
    request_body(content = Option<EnrollBody>, description = "Optional: `enrollment_token` inside a sign-in"),
    responses((status = 200, description = "The secret to put into an authenticator app", body = TotpEnrollment)),
    security((), ("session" = [])))]
pub async fn totp_enroll(
    State(state): State<AppState>,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<EnrollBody>,
) -> AppResult<Response> {
    let e = match &b.enrollment_token {
        Some(t) => flow::begin_totp_enrolment(&state, t).await?.0,
        None => manage::begin_totp(&state, &fresh?.fresh).await?,
    };
    let body = TotpEnrollment { secret: e.secret, otpauth_uri: e.uri, qr_svg: e.qr_svg };
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(body)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    #[schema(example = "123456")]
    code: String,
}

/// A factor set up for the signed-in user; inside a sign-in the answer is the sign-in's next
/// step instead.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SetUpAnswer {
    Step(LoginStep),
    Enabled(FactorEnabled),
}

#[derive(Serialize, ToSchema)]
pub struct FactorEnabled {
    /// Always `true`.
    enabled: bool,
    /// The first set of backup codes, when this factor came with one (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<Vec<String>>,
}

/// Confirms TOTP enrolment with a first code.
#[utoipa::path(post, path = "/api/v1/mfa/totp/confirm", tag = "account", request_body = ConfirmBody,
    responses((status = 200, description = "TOTP is on (or the sign-in's next step)", body = SetUpAnswer)),
    security((), ("session" = [])))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJson(b): SameOriginJson<ConfirmBody>,
) -> AppResult<Response> {
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::confirm_totp_enrolment(&state, t, &b.code, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let backup_codes = manage::confirm_totp(&state, &fresh?.fresh, &b.code, &client.origin).await?;
            let body = SetUpAnswer::Enabled(FactorEnabled { enabled: true, backup_codes });
            Ok(no_store(jar, StatusCode::OK, json!(body)))
        }
    }
}

/// Starts registering a passkey: inside a login (`enrollment_token`) or for the signed-in
/// user (after a fresh second factor). Answers `{"session": ceremony id, "publicKey": options}`.
#[utoipa::path(post, path = "/api/v1/mfa/passkey/register/begin", tag = "account",
    request_body(content = Option<EnrollBody>, description = "Optional: `enrollment_token` inside a sign-in"),
    responses((status = 200, description = "Options for `navigator.credentials.create`", body = crate::http::forms::PasskeyCreation)),
    security((), ("session" = [])))]
pub async fn passkey_register_begin(
    State(state): State<AppState>,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<EnrollBody>,
) -> AppResult<Response> {
    let (ceremony, options) = match &b.enrollment_token {
        Some(t) => flow::begin_passkey_enrolment(&state, t).await?,
        None => manage::begin_passkey(&state, &fresh?.fresh).await?,
    };
    Ok(forms::registration_options(ceremony, options))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CeremonyQuery {
    /// The `session` of the begin call's answer.
    session: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegisterBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    /// The new `PublicKeyCredential` from the browser, as JSON.
    #[schema(value_type = Object)]
    credential: Value,
    #[serde(default)]
    #[schema(example = "YubiKey")]
    name: String,
}

/// The passkey registered for the signed-in user.
#[derive(Serialize, ToSchema)]
pub struct PasskeyAdded {
    #[serde(flatten)]
    passkey: store::passkeys::PasskeyInfo,
    /// The first set of backup codes, when this passkey came with one (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<Vec<String>>,
}

/// Finishes registering a passkey with the browser's credential.
#[utoipa::path(post, path = "/api/v1/mfa/passkey/register/finish", tag = "account", params(CeremonyQuery),
    request_body = PasskeyRegisterBody,
    responses(
        (status = 200, description = "Inside a sign-in: its next step", body = LoginStep),
        (status = 201, description = "The passkey, for the signed-in user", body = PasskeyAdded)),
    security((), ("session" = [])))]
pub async fn passkey_register_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    query: Result<Query<CeremonyQuery>, axum::extract::rejection::QueryRejection>,
    SameOriginJson(b): SameOriginJson<PasskeyRegisterBody>,
) -> AppResult<Response> {
    let Query(q) = query.map_err(|_| AppError::BadRequest("the `session` query parameter is required".into()))?;
    let credential = forms::credential(serde_json::from_value(b.credential))?;
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::finish_passkey_enrolment(&state, t, &q.session, &credential, &b.name, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let (passkey, backup_codes) =
                manage::finish_passkey(&state, &fresh?.fresh, &q.session, &credential, &b.name, &client.origin).await?;
            Ok(no_store(jar, StatusCode::CREATED, json!(PasskeyAdded { passkey, backup_codes })))
        }
    }
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OobEnrollBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    /// SMS: the number, with its country code. Email codes go to the account's address.
    #[serde(default)]
    #[schema(example = "+14155550123")]
    phone_number: Option<String>,
}

/// An SMS or email factor: being proved (`pending`, a code was sent) or set up (`active`).
#[derive(Serialize, ToSchema)]
pub struct CodeFactor {
    factor_id: String,
    #[serde(rename = "type")]
    kind: Factor,
    #[schema(example = "pending")]
    status: &'static str,
    /// SMS: where the codes go, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "+1***0123")]
    phone_number: Option<String>,
    /// Email: where the codes go, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// Pending: seconds the code works.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
    /// Pending: seconds before another code can be asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    resend_after: Option<i64>,
    /// The first set of backup codes, when this factor came with one (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<Vec<String>>,
}

impl CodeFactor {
    fn new(kind: Factor, id: &str, destination: &str, status: &'static str) -> CodeFactor {
        let (phone_number, email) = match kind {
            Factor::Sms => (Some(crate::delivery::mask_phone(destination)), None),
            _ => (None, Some(crate::delivery::mask_email(destination))),
        };
        CodeFactor {
            factor_id: id.to_owned(),
            kind,
            status,
            phone_number,
            email,
            expires_in: None,
            resend_after: None,
            backup_codes: None,
        }
    }
}

/// A code factor confirmed for the signed-in user; inside a sign-in, the sign-in's next step.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CodeFactorAnswer {
    Step(LoginStep),
    Active(CodeFactor),
}

/// Texts a code to a phone number to set it up as a factor: inside a sign-in
/// (`enrollment_token`) or for the signed-in user (after a fresh second factor).
#[utoipa::path(post, path = "/api/v1/mfa/sms/enroll", tag = "account", request_body = OobEnrollBody,
    responses((status = 202, description = "A code is on its way", body = CodeFactor)),
    security((), ("session" = [])))]
pub async fn sms_enroll(
    state: State<AppState>,
    client: ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    body: SameOriginJsonOrEmpty<OobEnrollBody>,
) -> AppResult<Response> {
    oob_enroll(state, client, fresh, body, Factor::Sms).await
}

/// Mails a code to the account's address to set up email codes: inside a sign-in
/// (`enrollment_token`) or for the signed-in user (after a fresh second factor).
#[utoipa::path(post, path = "/api/v1/mfa/email/enroll", tag = "account",
    request_body(content = Option<OobEnrollBody>, description = "Optional: `enrollment_token` inside a sign-in"),
    responses((status = 202, description = "A code is on its way", body = CodeFactor)),
    security((), ("session" = [])))]
pub async fn email_enroll(
    state: State<AppState>,
    client: ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    body: SameOriginJsonOrEmpty<OobEnrollBody>,
) -> AppResult<Response> {
    oob_enroll(state, client, fresh, body, Factor::Email).await
}

async fn oob_enroll(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<OobEnrollBody>,
    kind: Factor,
) -> AppResult<Response> {
    let phone = b.phone_number.as_deref();
    let (sent, destination) = match &b.enrollment_token {
        Some(t) => flow::begin_oob_enrolment(&state, t, kind, phone, &client).await?,
        None => manage::begin_oob(&state, &fresh?.fresh, kind, phone, &client.origin).await?,
    };
    let mut body = CodeFactor::new(kind, &sent.id, &destination, "pending");
    body.expires_in = Some(sent.expires_in);
    body.resend_after = Some(sent.resend_after);
    Ok(no_store(CookieJar::new(), StatusCode::ACCEPTED, json!(body)))
}

/// Confirms a phone number with the code that was texted.
#[utoipa::path(post, path = "/api/v1/mfa/sms/confirm", tag = "account", request_body = ConfirmBody,
    responses((status = 200, description = "The factor is on (or the sign-in's next step)", body = CodeFactorAnswer)),
    security((), ("session" = [])))]
pub async fn sms_confirm(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    body: SameOriginJson<ConfirmBody>,
) -> AppResult<Response> {
    oob_confirm(state, jar, client, fresh, body, Factor::Sms).await
}

/// Confirms email codes with the code that was mailed.
#[utoipa::path(post, path = "/api/v1/mfa/email/confirm", tag = "account", request_body = ConfirmBody,
    responses((status = 200, description = "The factor is on (or the sign-in's next step)", body = CodeFactorAnswer)),
    security((), ("session" = [])))]
pub async fn email_confirm(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    body: SameOriginJson<ConfirmBody>,
) -> AppResult<Response> {
    oob_confirm(state, jar, client, fresh, body, Factor::Email).await
}

async fn oob_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJson(b): SameOriginJson<ConfirmBody>,
    kind: Factor,
) -> AppResult<Response> {
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::confirm_oob_enrolment(&state, t, kind, &b.code, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let (f, codes) = manage::confirm_oob(&state, &fresh?.fresh, kind, &b.code, &client.origin).await?;
            let mut body = CodeFactor::new(kind, &f.id, &f.destination, "active");
            body.backup_codes = codes;
            Ok(no_store(jar, StatusCode::OK, json!(CodeFactorAnswer::Active(body))))
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FactorList {
    factors: Vec<manage::FactorView>,
}

/// Every factor of the caller, primary first.
#[utoipa::path(get, path = "/api/v1/mfa/factors", tag = "account",
    responses((status = 200, description = "The caller's factors", body = FactorList)),
    security(("session" = [])))]
pub async fn factors_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let factors = manage::factors(&state, &user).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(FactorList { factors })))
}

/// Makes a factor the one the MFA page offers first.
#[utoipa::path(put, path = "/api/v1/mfa/factors/{id}/primary", tag = "account",
    params(("id" = String, Path, description = "The factor's id (`totp`, a passkey's or a code factor's)")),
    responses((status = 200, description = "The caller's factors", body = FactorList)),
    security(("session" = [])))]
pub async fn factor_primary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, client, .. }: SignedIn,
) -> AppResult<Response> {
    let factors = manage::set_primary(&state, &user, &id, &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(FactorList { factors })))
}

/// Removes an SMS or email factor (after a fresh second factor).
#[utoipa::path(delete, path = "/api/v1/mfa/factors/{id}", tag = "account",
    params(("id" = String, Path, description = "The code factor's id")),
    responses((status = 204, description = "Removed")),
    security(("session" = [])))]
pub async fn factor_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_oob(&state, &fresh, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyList {
    passkeys: Vec<store::passkeys::PasskeyInfo>,
}

/// The caller's passkeys.
#[utoipa::path(get, path = "/api/v1/mfa/passkeys", tag = "account",
    responses((status = 200, description = "The caller's passkeys", body = PasskeyList)),
    security(("session" = [])))]
pub async fn passkeys_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(PasskeyList { passkeys })))
}

/// One of the caller's passkeys.
#[utoipa::path(get, path = "/api/v1/mfa/passkeys/{id}", tag = "account",
    params(("id" = String, Path, description = "The passkey's id")),
    responses((status = 200, description = "The passkey", body = store::passkeys::PasskeyInfo)),
    security(("session" = [])))]
pub async fn passkey_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, .. }: SignedIn,
) -> AppResult<Response> {
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    let p = passkeys.into_iter().find(|p| p.id == id).ok_or(AppError::NotFound)?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[schema(example = "Work laptop")]
    name: String,
}

/// Renames one of the caller's passkeys.
#[utoipa::path(patch, path = "/api/v1/mfa/passkeys/{id}", tag = "account",
    params(("id" = String, Path, description = "The passkey's id")), request_body = RenameBody,
    responses((status = 200, description = "The passkey", body = store::passkeys::PasskeyInfo)),
    security(("session" = [])))]
pub async fn passkey_patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, .. }: SignedIn,
    SameOriginJson(b): SameOriginJson<RenameBody>,
) -> AppResult<Response> {
    let p = manage::rename_passkey(&state, &user, &id, &b.name).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

/// Removes one of the caller's passkeys (after a fresh second factor).
#[utoipa::path(delete, path = "/api/v1/mfa/passkeys/{id}", tag = "account",
    params(("id" = String, Path, description = "The passkey's id")),
    responses((status = 204, description = "Removed")),
    security(("session" = [])))]
pub async fn passkey_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_passkey(&state, &fresh, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Turns TOTP off for the caller (after a fresh second factor).
#[utoipa::path(delete, path = "/api/v1/mfa/totp", tag = "account",
    responses((status = 204, description = "Removed")),
    security(("session" = [])))]
pub async fn totp_delete(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_totp(&state, &fresh, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct NewBackupCodes {
    /// Shown once; each works once.
    codes: Vec<String>,
    remaining: usize,
}

/// A new set of backup codes (after a fresh second factor); the old set stops working.
#[utoipa::path(post, path = "/api/v1/mfa/backup-codes", tag = "account",
    responses((status = 200, description = "The new codes, in this answer only", body = NewBackupCodes)),
    security(("session" = [])))]
pub async fn backup_codes_generate(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    let codes = manage::generate_backup_codes(&state, &fresh, &client.origin).await?;
    let remaining = codes.len();
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(NewBackupCodes { codes, remaining })))
}

#[derive(Serialize, ToSchema)]
pub struct BackupCodesState {
    remaining: i64,
    total: i64,
    generated_at: Option<i64>,
    /// Few codes are left of a set.
    low: bool,
}

/// How many of the caller's backup codes are left.
#[utoipa::path(get, path = "/api/v1/mfa/backup-codes", tag = "account",
    responses((status = 200, description = "The caller's backup codes, counted", body = BackupCodesState)),
    security(("session" = [])))]
pub async fn backup_codes_status(
    State(state): State<AppState>,
    SignedIn { user, .. }: SignedIn,
) -> AppResult<Response> {
    let s = store::factors::backup_code_status(&state.db, &user.id).await?;
    let body = BackupCodesState {
        remaining: s.remaining,
        total: s.total,
        generated_at: s.generated_at,
        low: s.total > 0 && s.remaining < backup::LOW_WATER,
    };
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(body)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustBody {
    /// From the sign-in's answer, when trusting the device was offered.
    trust_device_token: String,
    #[serde(default)]
    #[schema(example = "Home laptop")]
    name: String,
}

/// Trusts this device: later sign-ins on it skip the second step (where policy allows) until
/// it expires. Sets the device cookie.
#[utoipa::path(post, path = "/api/v1/me/devices", tag = "account", request_body = TrustBody,
    responses((status = 201, description = "The trusted device", body = store::devices::Device)),
    security(("session" = [])))]
pub async fn devices_create(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedIn { user, client, .. }: SignedIn,
    SameOriginJson(b): SameOriginJson<TrustBody>,
) -> AppResult<Response> {
    let (token, device, _) = flow::trust_device(&state, &user.id, &b.trust_device_token, &b.name, &client).await?;
    let jar = cookies::set_device(&state, jar, token, device.expires_at);
    Ok(no_store(jar, StatusCode::CREATED, json!(device)))
}

#[derive(Serialize, ToSchema)]
pub struct DeviceList {
    devices: Vec<store::devices::Device>,
}

/// The caller's trusted devices.
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "account",
    responses((status = 200, description = "The caller's trusted devices", body = DeviceList)),
    security(("session" = [])))]
pub async fn devices_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let devices = store::devices::list(&state.db, &user.id, state.now()).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(DeviceList { devices })))
}

/// Stops trusting one of the caller's devices.
#[utoipa::path(delete, path = "/api/v1/me/devices/{id}", tag = "account",
    params(("id" = String, Path, description = "The device's id")),
    responses((status = 204, description = "No longer trusted")),
    security(("session" = [])))]
pub async fn devices_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, client, .. }: SignedIn,
) -> AppResult<Response> {
    manage::revoke_device(&state, &user, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller's MFA status: factors, backup codes, trusted devices.
#[utoipa::path(get, path = "/api/v1/me/mfa", tag = "account",
    responses((status = 200, description = "The caller's MFA status", body = manage::MfaStatus)),
    security(("session" = [])))]
pub async fn mfa_status(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let status = manage::status(&state, &user).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(status)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Always `true`.
    password_changed: bool,
}

/// Changes the caller's password: the current password and a fresh second factor; every other
/// session of the caller ends.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "account", request_body = PasswordBody,
    responses((status = 200, description = "Changed", body = PasswordChanged)),
    security(("session" = [])))]
pub async fn password_change(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
    SameOriginJson(b): SameOriginJson<PasswordBody>,
) -> AppResult<Response> {
    crate::login::password::change(&state, &fresh, &b.current_password, &b.new_password, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(PasswordChanged { password_changed: true })))
}
