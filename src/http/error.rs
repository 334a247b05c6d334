//! How the one error type becomes a response: OAuth-style JSON for APIs and protocol
//! endpoints, an HTML page for people.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::error::{AppError, Msg, OAuthErrorCode};
use crate::http::api::openapi::ApiError;
use crate::web::MessagePage;
use crate::web::i18n;

/// What a page says about an error: its text in the visitor's language where the catalogue
/// has one for its kind (`error-CODE`), else the error's own words (the free-text reasons of
/// `BadRequest` and the like are in English).
pub fn page_message(e: &AppError) -> String {
    match e {
        AppError::LockedOut { retry_after_seconds } => {
            i18n::t1("error-too_many_attempts", "wait", i18n::duration(*retry_after_seconds as i64))
        }
        AppError::InvalidCredentials
        | AppError::InvalidFactor
        | AppError::MfaStepExpired
        | AppError::InvalidLink
        | AppError::NotFound
        | AppError::Unauthorized
        | AppError::MethodNotAllowed
        | AppError::SlowRequest
        | AppError::Overloaded { .. }
        | AppError::DatabaseUnavailable(_)
        | AppError::Database(_)
        | AppError::Internal(_) => i18n::t(&format!("error-{}", e.code())),
        _ => e.message().map(Msg::localized).unwrap_or_else(|| e.public_message()),
    }
}

/// The HTTP status an error answers with.
pub fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let status = status_of(&self);
        let body = ApiError { error: self.code().into(), error_description: self.public_message(), redirect_to: None };
        let mut resp = (status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match &self {
            AppError::OAuth { code: OAuthErrorCode::InvalidClient, .. } => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"portcullis\""));
            }
            AppError::OAuth { code: OAuthErrorCode::InvalidToken, .. } => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            }
            AppError::InsufficientScope(_) => {
                h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"insufficient_scope\""));
            }
            AppError::Overloaded { retry_after_seconds }
            | AppError::LockedOut { retry_after_seconds }
            | AppError::RateLimited { retry_after_seconds, .. } => {
                h.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            AppError::DatabaseUnavailable(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        resp
    }
}

/// An error shown to a person as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = status_of(&self.0);
        let title = match status.as_u16() {
            code @ (400 | 403 | 404 | 429 | 503) => i18n::t(&format!("error-title-{code}")),
            _ => i18n::t("error-title-other"),
        };
        let message = page_message(&self.0);
        let mut resp = message_page(status, &title, &message, Some(("/", &i18n::t("error-go-start"))));
        if let AppError::Overloaded { retry_after_seconds }
        | AppError::LockedOut { retry_after_seconds }
        | AppError::RateLimited { retry_after_seconds, .. } = self.0
        {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        resp
    }
}

pub type PageResult<T> = Result<T, PageError>;

/// Renders the generic message page.
pub fn message_page(status: StatusCode, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    render(
        status,
        &MessagePage { title, message, is_error: status.is_client_error() || status.is_server_error(), link },
    )
}

pub fn render<T: askama::Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{self, Lang};

    /// Pages speak the reader's language; JSON keeps the English words programs match on.
    #[tokio::test]
    async fn a_refusal_is_localized_on_pages_and_english_in_json() {
        let e = || AppError::BadRequest(Msg::key("refuse-email-invalid"));
        let page = i18n::sync_scope(Lang::De, || page_message(&e()));
        assert_eq!(page, "Das ist keine E-Mail-Adresse.");
        let resp = i18n::scope(Lang::De, async { e().into_response() }).await;
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error_description"], "that is not an email address");
    }
}
