//! `/api/v1/auth/mfa/recovery` and `/api/v1/auth/password`: the way back in without a session.
//! Asking for a link answers 200 with the same body whatever the address; opening a recovery
//! link gives an `enrollment_token` for a recovery session, which the enrolment endpoints
//! (`/api/v1/mfa/{totp,passkey,sms,email}/…` with `enrollment_token`) finish.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::{LoginStep, RecoveryInfo, mfa_step};
use super::no_store;
use crate::error::AppResult;
use crate::http::client::ClientInfo;
use crate::http::guards::SameOriginJson;
use crate::login::{self, password};
use crate::mfa::recovery;
use crate::state::AppState;
use crate::store::links::LinkPurpose;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    #[schema(example = "alice@example.com")]
    email: String,
    /// The sign-in to continue after the recovery (`/login?request=…`).
    #[serde(default)]
    request_id: Option<String>,
}

/// The one answer to every accepted request for a link, whatever the address.
#[derive(Serialize, ToSchema)]
pub struct Asked {
    /// Always `accepted`.
    #[schema(example = "accepted")]
    status: &'static str,
    message: &'static str,
}

fn asked() -> Response {
    let body = Asked {
        status: "accepted",
        message: "If an account has this verified email address, a link is on its way. It works once.",
    };
    no_store(CookieJar::new(), StatusCode::OK, json!(body))
}

/// Asks for an MFA recovery link by email (when self-service recovery is on). The answer is
/// the same whether or not an account has the address.
#[utoipa::path(post, path = "/api/v1/auth/mfa/recovery", tag = "recovery", request_body = AskBody,
    responses((status = 200, description = "Accepted", body = Asked)))]
pub async fn ask_recovery(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<AskBody>,
) -> AppResult<Response> {
    recovery::request_link(&state, LinkPurpose::MfaRecovery, &b.email, b.request_id.as_deref(), &client).await?;
    Ok(asked())
}

/// Asks for a password-reset link by email (when self-service reset is on). The answer is the
/// same whether or not an account has the address.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "recovery", request_body = AskBody,
    responses((status = 200, description = "Accepted", body = Asked)))]
pub async fn ask_reset(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<AskBody>,
) -> AppResult<Response> {
    recovery::request_link(&state, LinkPurpose::PasswordReset, &b.email, None, &client).await?;
    Ok(asked())
}

#[derive(Deserialize, ToSchema)]
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

/// Opens a recovery link with the account's password: a recovery session whose
/// `enrollment_token` sets up a new factor at the enrolment endpoints.
#[utoipa::path(post, path = "/api/v1/auth/mfa/recovery/verify", tag = "recovery", request_body = OpenBody,
    responses((status = 200, description = "A recovery session: the factor to set up (or to prove first)", body = LoginStep)))]
pub async fn open_recovery(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<OpenBody>,
) -> AppResult<Response> {
    let p = recovery::open(&state, &b.token, &b.password, b.keep_old_factors, &client).await?;
    let recovery = RecoveryInfo { expires_in: login::RECOVERY_SESSION_SECONDS };
    let body: LoginStep = mfa_step(&p, Some(recovery));
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(body)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    token: String,
    new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordReset {
    /// Always `true`.
    password_reset: bool,
    message: &'static str,
}

/// Sets a new password with the token of a reset link (30 minutes, single use).
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "recovery", request_body = ResetBody,
    responses((status = 200, description = "The password was changed", body = PasswordReset)))]
pub async fn reset_password(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    SameOriginJson(b): SameOriginJson<ResetBody>,
) -> AppResult<Response> {
    password::reset(&state, &b.token, &b.new_password, &client).await?;
    let body = PasswordReset {
        password_reset: true,
        message: "Your password was changed. Sign in with it; the second step still applies.",
    };
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(body)))
}
