//! `/api/v1/auth`: signing in without a browser page. `POST /api/v1/auth/login` answers with
//! a session, `{mfa_required, mfa_token, factors}` or `{mfa_enrollment_required,
//! enrollment_token, factors}`; the MFA endpoints finish the login; `step-up` asks a fresh
//! second factor of the current session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::no_store;
use super::openapi::ApiError;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientInfo;
use crate::http::guards::{SameOriginJson, SignedIn};
use crate::http::{cookies, forms};
use crate::login::mfa::{self as flow, Progress, Proof};
use crate::login::{self, Client, MfaPending, Next, Stage};
use crate::mfa::oob::Sent;
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::sessions::Session;
use crate::store::users::User;

/// Where a sign-in stands: signed in, a second factor to prove, or one to set up.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginStep {
    SignedIn(SignedInAnswer),
    Challenge(ChallengeAnswer),
    Enroll(EnrollAnswer),
}

/// The sign-in is complete: the session cookie is set.
#[derive(Serialize, ToSchema)]
pub struct SignedInAnswer {
    /// Always `true`.
    #[schema(example = true)]
    authenticated: bool,
    /// Always `false`.
    mfa_required: bool,
    user: UserRef,
    session: SessionInfo,
    /// Where a waiting authorization request continues (`/oauth2/authorize?...`), if any.
    redirect_to: Option<String>,
    /// After a second factor, when trusting this device is offered: the token for
    /// `POST /api/v1/me/devices`.
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_device_token: Option<String>,
    /// The first set of backup codes, when this sign-in created them (shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_codes: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct UserRef {
    id: String,
    #[schema(example = "alice")]
    username: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    id: String,
    /// Unix time of the sign-in.
    auth_time: i64,
    expires_at: i64,
    /// When a second factor was last verified in this session.
    mfa_at: Option<i64>,
    mfa_factor: Option<String>,
}

/// A second factor is needed: prove one of `factors` with `mfa_token` at
/// `/api/v1/auth/mfa/{factor}`.
#[derive(Serialize, ToSchema)]
pub struct ChallengeAnswer {
    /// Always `false`.
    authenticated: bool,
    /// Always `true`.
    #[schema(example = true)]
    mfa_required: bool,
    mfa_token: String,
    #[schema(example = json!(["totp", "backup_code"]))]
    factors: Vec<Factor>,
    /// A factor must be set up after this one (`enrollment_token` comes next).
    enrollment_follows: bool,
    /// A recovery session's step: `recovery`.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_type: Option<&'static str>,
    /// A recovery session's step: `true`, the recovery ends with a new factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    requires_mfa_reenrollment: Option<bool>,
    /// A recovery session's step: the seconds it lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
}

/// A factor must be set up first: one of `factors`, with `enrollment_token`, at
/// `/api/v1/mfa/{factor}/...`.
#[derive(Serialize, ToSchema)]
pub struct EnrollAnswer {
    /// Always `false`.
    authenticated: bool,
    /// Always `false`.
    mfa_required: bool,
    /// Always `true`.
    #[schema(example = true)]
    mfa_enrollment_required: bool,
    enrollment_token: String,
    #[schema(example = json!(["totp", "passkey"]))]
    factors: Vec<Factor>,
    /// `POST /api/v1/auth/mfa/enrollment/postpone` is allowed (within the grace period).
    can_postpone: bool,
    /// A recovery session's step: `recovery`.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_type: Option<&'static str>,
    /// A recovery session's step: `true`, the recovery ends with a new factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    requires_mfa_reenrollment: Option<bool>,
    /// A recovery session's step: the seconds it lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
}

/// A step of a recovery session (an opened recovery link) says so.
pub struct RecoveryInfo {
    /// Seconds the recovery session lasts.
    pub expires_in: i64,
}

pub(super) fn mfa_step(p: &MfaPending, recovery: Option<RecoveryInfo>) -> LoginStep {
    match p.stage {
        Stage::Challenge => LoginStep::Challenge(ChallengeAnswer {
            authenticated: false,
            mfa_required: true,
            mfa_token: p.token.expose().to_owned(),
            factors: p.challenge.clone(),
            enrollment_follows: !p.enroll.is_empty(),
            session_type: recovery.as_ref().map(|_| "recovery"),
            requires_mfa_reenrollment: recovery.as_ref().map(|_| true),
            expires_in: recovery.as_ref().map(|r| r.expires_in),
        }),
        Stage::Enroll => LoginStep::Enroll(EnrollAnswer {
            authenticated: false,
            mfa_required: false,
            mfa_enrollment_required: true,
            enrollment_token: p.token.expose().to_owned(),
            factors: p.enroll.clone(),
            can_postpone: p.can_postpone,
            session_type: recovery.as_ref().map(|_| "recovery"),
            requires_mfa_reenrollment: recovery.as_ref().map(|_| true),
            expires_in: recovery.as_ref().map(|r| r.expires_in),
        }),
    }
}

fn signed_in(session: &Session, user: &User, redirect: Option<String>) -> SignedInAnswer {
    SignedInAnswer {
        authenticated: true,
        mfa_required: false,
        user: UserRef { id: user.id.clone(), username: user.username.clone() },
        session: SessionInfo {
            id: session.id.clone(),
            auth_time: session.auth_time,
            expires_at: session.expires_at,
            mfa_at: session.mfa_at,
            mfa_factor: session.mfa_factor.clone(),
        },
        redirect_to: redirect,
        trust_device_token: None,
        backup_codes: None,
    }
}

/// A login's next step as JSON (and the session cookie when one was created).
fn next_response(state: &AppState, jar: CookieJar, next: Next) -> AppResult<Response> {
    match next {
        Next::Done { session, user, new_session_token, redirect } => {
            let body = LoginStep::SignedIn(signed_in(&session, &user, redirect));
            let jar = match new_session_token {
                Some(t) => cookies::set_session(state, jar, t),
                None => jar,
            };
            Ok(no_store(jar, StatusCode::OK, json!(body)))
        }
        Next::Mfa(p) => Ok(no_store(jar, StatusCode::OK, json!(mfa_step(&p, None)))),
        Next::Denied { redirect, reason } => Ok(no_store(
            jar,
            StatusCode::FORBIDDEN,
            json!(ApiError { error: "access_denied".into(), error_description: reason, redirect_to: redirect }),
        )),
        Next::RequestExpired => {
            Err(AppError::BadRequest("the authorization request expired or was already used".into()))
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[schema(example = "alice")]
    username: String,
    #[schema(example = "a long passphrase of your own")]
    password: String,
    /// Continue a waiting OIDC authorization request (`/login?request=...`).
    #[serde(default)]
    request_id: Option<String>,
}

/// Signs in with a username and password: a session, a second factor to prove, or one to set
/// up.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "sign-in", request_body = LoginBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<LoginBody>,
) -> AppResult<Response> {
    let next = login::password_login(&state, b.username.trim(), &b.password, b.request_id.as_deref(), &client)
        .await?
        .ok_or(AppError::InvalidCredentials)?;
    next_response(&state, jar, next)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeBody {
    mfa_token: String,
    #[schema(example = "123456")]
    code: String,
}

/// Proves the second factor with a code from the authenticator app.
#[utoipa::path(post, path = "/api/v1/auth/mfa/totp", tag = "sign-in", request_body = MfaCodeBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn mfa_totp(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    body: SameOriginJson<MfaCodeBody>,
) -> AppResult<Response> {
    mfa_code(state, jar, client, body, Factor::Totp).await
}

/// Proves the second factor with one of the user's backup codes (each works once).
#[utoipa::path(post, path = "/api/v1/auth/mfa/backup-code", tag = "sign-in", request_body = MfaCodeBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn mfa_backup_code(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    body: SameOriginJson<MfaCodeBody>,
) -> AppResult<Response> {
    mfa_code(state, jar, client, body, Factor::BackupCode).await
}

/// Proves the second factor with the code texted by `/api/v1/auth/mfa/sms/send`.
#[utoipa::path(post, path = "/api/v1/auth/mfa/sms", tag = "sign-in", request_body = MfaCodeBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn mfa_sms(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    body: SameOriginJson<MfaCodeBody>,
) -> AppResult<Response> {
    mfa_code(state, jar, client, body, Factor::Sms).await
}

/// Proves the second factor with the code mailed by `/api/v1/auth/mfa/email/send`.
#[utoipa::path(post, path = "/api/v1/auth/mfa/email", tag = "sign-in", request_body = MfaCodeBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn mfa_email(
    state: State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    body: SameOriginJson<MfaCodeBody>,
) -> AppResult<Response> {
    mfa_code(state, jar, client, body, Factor::Email).await
}

async fn mfa_code(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<MfaCodeBody>,
    factor: Factor,
) -> AppResult<Response> {
    let proof = match factor {
        Factor::Totp => Proof::Totp(&b.code),
        Factor::BackupCode => Proof::BackupCode(&b.code),
        Factor::Sms | Factor::Email => Proof::SentCode(factor, &b.code),
        Factor::Passkey => return Err(AppError::BadRequest("a passkey is not a code".into())),
    };
    let progress = flow::verify(&state, &b.mfa_token, proof, &client).await?;
    progress_response(&state, jar, client, progress).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaTokenBody {
    mfa_token: String,
}

/// Texts a sign-in code to the user's phone (202, where it went, masked; 429 with
/// `Retry-After` when asked too often).
#[utoipa::path(post, path = "/api/v1/auth/mfa/sms/send", tag = "sign-in", request_body = MfaTokenBody,
    responses((status = 202, description = "The code is on its way", body = Sent)))]
pub async fn send_sms(
    state: State<AppState>,
    client: ClientInfo,
    body: SameOriginJson<MfaTokenBody>,
) -> AppResult<Response> {
    send_code(state, client, body, Factor::Sms).await
}

/// Mails a sign-in code to the account's verified address (202, where it went, masked; 429
/// with `Retry-After` when asked too often).
#[utoipa::path(post, path = "/api/v1/auth/mfa/email/send", tag = "sign-in", request_body = MfaTokenBody,
    responses((status = 202, description = "The code is on its way", body = Sent)))]
pub async fn send_email(
    state: State<AppState>,
    client: ClientInfo,
    body: SameOriginJson<MfaTokenBody>,
) -> AppResult<Response> {
    send_code(state, client, body, Factor::Email).await
}

async fn send_code(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<MfaTokenBody>,
    factor: Factor,
) -> AppResult<Response> {
    let sent = flow::send_code(&state, &b.mfa_token, factor, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::ACCEPTED, json!(sent)))
}

/// Options for `navigator.credentials.get` (`{"publicKey": ...}`), bound to the sign-in.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/begin", tag = "sign-in", request_body = MfaTokenBody,
    responses((status = 200, description = "WebAuthn request options (`{\"publicKey\": ...}`)", body = Object)))]
pub async fn mfa_passkey_begin(
    State(state): State<AppState>,
    SameOriginJson(b): SameOriginJson<MfaTokenBody>,
) -> AppResult<Response> {
    let options = flow::begin_passkey(&state, &b.mfa_token).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(options)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaPasskeyBody {
    mfa_token: String,
    /// The `PublicKeyCredential` from the browser, as JSON (WebAuthn L3 `toJSON()` form).
    #[schema(value_type = Object)]
    credential: Value,
}

/// Proves the second factor with a passkey's assertion.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/finish", tag = "sign-in", request_body = MfaPasskeyBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn mfa_passkey_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<MfaPasskeyBody>,
) -> AppResult<Response> {
    let credential = forms::credential(serde_json::from_value(b.credential))?;
    let progress = flow::verify(&state, &b.mfa_token, Proof::Passkey(&credential), &client).await?;
    progress_response(&state, jar, client, progress).await
}

/// After a factor: either enrolment follows, or the login completes and a waiting request
/// continues (through the MFA step once more).
pub(super) async fn progress_response(
    state: &AppState,
    jar: CookieJar,
    client: Client,
    p: Progress,
) -> AppResult<Response> {
    let done = match p {
        Progress::Enroll(p) => return Ok(no_store(jar, StatusCode::OK, json!(mfa_step(&p, None)))),
        Progress::Completed(done) => done,
    };
    let jar = match &done.new_session_token {
        Some(t) => cookies::set_session(state, jar, t.clone()),
        None => jar,
    };
    let mut body = match flow::continue_login(state, &done, &client).await? {
        Next::Done { session, user, redirect, .. } => signed_in(&session, &user, redirect),
        other => return next_response(state, jar, other),
    };
    body.trust_device_token = done.trust_token.as_ref().filter(|_| done.trust_offered).map(|t| t.expose().to_owned());
    body.backup_codes.clone_from(&done.backup_codes);
    Ok(no_store(jar, StatusCode::OK, json!(LoginStep::SignedIn(body))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    enrollment_token: String,
}

/// Puts off a required enrolment, within the grace period, and finishes the sign-in.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enrollment/postpone", tag = "sign-in", request_body = TokenBody,
    responses((status = 200, description = "The sign-in's next step", body = LoginStep)))]
pub async fn postpone_enrollment(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<TokenBody>,
) -> AppResult<Response> {
    let progress = flow::postpone(&state, &b.enrollment_token, &client).await?;
    progress_response(&state, jar, client, progress).await
}

/// Asks a fresh second factor of the current session (before changing factors): answers
/// the step to prove, as a sign-in does.
#[utoipa::path(post, path = "/api/v1/auth/step-up", tag = "sign-in",
    responses((status = 200, description = "The factor to prove, or to set up", body = LoginStep)),
    security(("session" = [])))]
pub async fn step_up(
    State(state): State<AppState>,
    SignedIn { session, user, client }: SignedIn,
) -> AppResult<Response> {
    let p = login::step_up_session(&state, &session, &user, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(mfa_step(&p, None))))
}
