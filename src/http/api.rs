//! JSON API. `POST /api/v1/auth/login` signs in with a password; the MFA step extends its
//! answer (`mfa_required`, `mfa_token`) once it exists.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::{cookies, forms};
use crate::error::{AppError, AppResult};
use crate::login;
use crate::state::AppState;

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
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let b: LoginBody = forms::json(&headers, &body)?;
    let previous = cookies::session_token(&state, &jar);
    let signed = login::password_login(&state, b.username.trim(), &b.password, previous.as_deref())
        .await?
        .ok_or(AppError::InvalidCredentials)?;
    let redirect_to = match &b.request_id {
        Some(id) => Some(
            login::resume(&state, id, &signed.session)
                .await?
                .ok_or_else(|| AppError::BadRequest("the authorization request expired or was already used".into()))?,
        ),
        None => None,
    };
    let body = json!({
        "mfa_required": false,
        "authenticated": true,
        "user": {"id": signed.user.id, "username": signed.user.username},
        "session": {"id": signed.session.id, "auth_time": signed.session.auth_time, "expires_at": signed.session.expires_at},
        "redirect_to": redirect_to,
    });
    let jar = cookies::set_session(&state, jar, signed.session_token);
    Ok((jar, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
