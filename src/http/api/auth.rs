//! `/api/v1/auth`: signing in without a browser page. `POST /api/v1/auth/login` answers with
//! a session, `{mfa_required, mfa_token, factors}` or `{mfa_enrollment_required,
//! enrollment_token, factors}`; the MFA endpoints finish the login; `step-up` asks a fresh
//! second factor of the current session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};

use super::no_store;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientInfo;
use crate::http::guards::{SameOriginJson, SignedIn};
use crate::http::{cookies, forms};
use crate::login::mfa::{self as flow, Progress, Proof};
use crate::login::{self, Client, MfaPending, Next, Stage};
use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::sessions::Session;
use crate::store::users::User;

fn factor_names(fs: &[Factor]) -> Vec<&'static str> {
    fs.iter().map(|f| f.as_str()).collect()
}

pub(super) fn mfa_body(p: &MfaPending) -> Value {
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
    SameOriginJson(b): SameOriginJson<LoginBody>,
) -> AppResult<Response> {
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

/// `POST /auth/mfa/totp`, `/auth/mfa/backup-code`, `/auth/mfa/sms`, `/auth/mfa/email`: a
/// code of the one kind.
pub fn post_mfa_code(factor: Factor) -> MethodRouter<AppState> {
    post(move |state, jar, client, body| mfa_code(state, jar, client, body, factor))
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaTokenBody {
    mfa_token: String,
}

/// `POST /auth/mfa/sms/send` and `/auth/mfa/email/send`: a sign-in code to the user's
/// factor of that kind (202, where it went, masked; 429 with `Retry-After` when limited).
pub fn post_send_code(factor: Factor) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              ClientInfo(client): ClientInfo,
              SameOriginJson(b): SameOriginJson<MfaTokenBody>| async move {
            let sent = flow::send_code(&state, &b.mfa_token, factor, &client).await?;
            AppResult::Ok(no_store(CookieJar::new(), StatusCode::ACCEPTED, json!(sent)))
        },
    )
}

/// Options for `navigator.credentials.get` (`{"publicKey": ...}`), bound to the transaction.
pub async fn mfa_passkey_begin(
    State(state): State<AppState>,
    SameOriginJson(b): SameOriginJson<MfaTokenBody>,
) -> AppResult<Response> {
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
    resp["trust_device_token"] = json!(done.trust_token.as_ref().filter(|_| done.trust_offered));
    if let Some(codes) = &done.backup_codes {
        resp["backup_codes"] = json!(codes);
    }
    Ok(no_store(jar, StatusCode::OK, resp))
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
    SameOriginJson(b): SameOriginJson<TokenBody>,
) -> AppResult<Response> {
    let progress = flow::postpone(&state, &b.enrollment_token, &client).await?;
    progress_response(&state, jar, client, progress).await
}

/// A fresh second factor for the current session (before changing factors).
pub async fn step_up(
    State(state): State<AppState>,
    SignedIn { session, user, client }: SignedIn,
) -> AppResult<Response> {
    let p = login::step_up_session(&state, &session, &user, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, mfa_body(&p)))
}
