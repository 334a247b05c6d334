//! axum only: the router, middleware and thin handlers.

pub mod api;
pub mod cookies;
pub mod demo;
pub mod error;
pub mod forms;
pub mod oidc;
pub mod ops;
pub mod pages;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Largest request body accepted anywhere (forms, JSON, token requests).
const BODY_LIMIT: usize = 64 * 1024;

/// Content Security Policy for every response: no inline script, no framing (DESIGN §5).
/// No `form-action`: Chrome applies it to the redirect after the login form, which must
/// reach the client's registered redirect URI.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub fn router(state: AppState) -> Router {
    let https = state.config.is_https();
    let demo = state.demo_client_id.is_some();
    let mut app = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oauth2/jwks", get(oidc::jwks))
        .route("/oauth2/authorize", get(oidc::authorize).post(oidc::authorize))
        .route("/oauth2/token", post(oidc::token))
        .route("/oauth2/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/oauth2/revoke", post(oidc::revoke))
        .route("/oauth2/introspect", post(oidc::introspect))
        .route("/oauth2/logout", get(oidc::logout).post(oidc::logout))
        .route("/api/v1/auth/login", post(api::login))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/static/portcullis.css", get(stylesheet))
        .fallback(not_found)
        .with_state(state.clone());
    if demo {
        app = app.merge(demo::router(state));
    }
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let mut app = app
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(set(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin"));
    if https {
        app = app.layer(set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"));
    }
    app.layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        crate::web::STYLESHEET,
    )
        .into_response()
}

async fn not_found() -> Response {
    error::message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
        Some(("/", "Go to the start page")),
    )
}
