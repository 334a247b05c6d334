//! `/api/v1/auth/mfa/recovery` and `/api/v1/auth/password`: the way back in without a session.
//! Asking for a link answers 200 with the same body whatever the address; opening a recovery
//! link gives an `enrollment_token` for a recovery session, which the enrolment endpoints
//! (`/api/v1/mfa/{totp,passkey,sms,email}/…` with `enrollment_token`) finish.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::auth::mfa_body;
use super::no_store;
use crate::error::AppResult;
use crate::http::client::ClientInfo;
use crate::http::guards::SameOriginJson;
use crate::login::{self, password};
use crate::mfa::recovery;
use crate::state::AppState;
use crate::store::links::LinkPurpose;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    email: String,
    /// The sign-in to continue after the recovery (`/login?request=…`).
    #[serde(default)]
    request_id: Option<String>,
}

/// The one answer to every accepted request for a link.
fn asked() -> Response {
    no_store(
        CookieJar::new(),
        StatusCode::OK,
        json!({
            "status": "accepted",
            "message": "If an account has this verified email address, a link is on its way. It works once.",
        }),
    )
}

/// `POST /api/v1/auth/mfa/recovery {email}`.
pub async fn ask_recovery(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<AskBody>,
) -> AppResult<Response> {
    recovery::request_link(&state, LinkPurpose::MfaRecovery, &b.email, b.request_id.as_deref(), &client).await?;
    Ok(asked())
}

/// `POST /api/v1/auth/password/forgot {email}`.
pub async fn ask_reset(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<AskBody>,
) -> AppResult<Response> {
    recovery::request_link(&state, LinkPurpose::PasswordReset, &b.email, None, &client).await?;
    Ok(asked())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    token: String,
    /// The account's password (the first factor); not needed for an account without one.
    #[serde(default)]
    password: String,
    /// Keep the old factors after the new one is proved (default: they are removed).
    #[serde(default)]
    keep_old_factors: bool,
}

/// `POST /api/v1/auth/mfa/recovery/verify {token, password}` → a recovery session.
pub async fn open_recovery(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<OpenBody>,
) -> AppResult<Response> {
    let p = recovery::open(&state, &b.token, &b.password, b.keep_old_factors, &client).await?;
    let mut body = mfa_body(&p);
    body["session_type"] = json!("recovery");
    body["requires_mfa_reenrollment"] = json!(true);
    body["expires_in"] = json!(login::RECOVERY_SESSION_SECONDS);
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    token: String,
    new_password: String,
}

/// `POST /api/v1/auth/password/reset {token, new_password}`.
pub async fn reset_password(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<ResetBody>,
) -> AppResult<Response> {
    password::reset(&state, &b.token, &b.new_password, &client).await?;
    Ok(no_store(
        CookieJar::new(),
        StatusCode::OK,
        json!({"password_reset": true, "message": "Your password was changed. Sign in with it; the second step still applies."}),
    ))
}
