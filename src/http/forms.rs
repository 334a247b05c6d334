//! Body parsing with errors in the right format (axum's default rejections are plain text).

use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::error::{AppError, Msg};

/// An HTML form body.
pub fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(body).map_err(|_| AppError::BadRequest(Msg::key("refuse-form-unreadable")))
}

/// A JSON request body; the content type must say JSON, which also keeps cross-site forms out.
pub fn json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, AppError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(AppError::BadRequest("Content-Type must be application/json".into()));
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}").into()))
}

/// A WebAuthn credential from the browser (its `toJSON()` form) as read from a page's hidden
/// field (`serde_json::from_str`) or a JSON body (`from_value`): one answer when it is not one.
pub fn credential<T>(parsed: Result<T, serde_json::Error>) -> Result<T, AppError> {
    parsed.map_err(|e| AppError::BadRequest(Msg::key("refuse-passkey-response").with("why", e)))
}

/// OAuth endpoints take `application/x-www-form-urlencoded` (RFC 6749 §3.2).
pub fn require_form_content_type(headers: &HeaderMap) -> Result<(), AppError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.starts_with("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        Err(AppError::oauth(
            crate::error::OAuthErrorCode::InvalidRequest,
            "Content-Type must be application/x-www-form-urlencoded",
        ))
    }
}

pub fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Options for `navigator.credentials.create` with the id of the registration ceremony that
/// the finishing call names: `{"session": ..., "publicKey": ...}`, never cached.
pub fn registration_options(ceremony: String, options: webauthn_rs::prelude::CreationChallengeResponse) -> Response {
    let public_key = serde_json::json!(options.public_key);
    super::no_store(axum::Json(PasskeyCreation { session: ceremony, public_key }))
}

/// What `navigator.credentials.create` needs, and the ceremony the answer goes back to.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyCreation {
    /// The ceremony's id: the `session` query parameter of the finishing call.
    pub session: String,
    /// `PublicKeyCredentialCreationOptions` (WebAuthn L3 JSON form).
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: serde_json::Value,
}
