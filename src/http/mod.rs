//! axum only: the router, middleware and thin handlers.

pub mod admin_apps;
pub mod admin_audit;
pub mod admin_pages;
pub mod admin_stats;
pub mod admin_users;
pub mod admin_webhooks;
pub mod api;
pub mod client;
pub mod cookies;
pub mod deadline;
pub mod edge;
pub mod error;
pub mod forms;
pub mod guards;
pub mod language;
pub mod mfa_pages;
pub mod notice;
pub mod oidc;
pub mod ops;
pub mod pages;
pub mod plugin_pages;
pub mod profile;
pub mod recovery_pages;
pub mod same_origin;
pub mod saml;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::mfa::policy::Factor;
use crate::state::AppState;
use crate::store::links::LinkPurpose;

/// Largest request body accepted anywhere (forms, JSON, token requests).
const BODY_LIMIT: usize = 64 * 1024;

/// Content Security Policy for every response: no inline script, no framing (DESIGN §5).
/// No `form-action`: Chrome applies it to the redirect after the login form, which must
/// reach the client's registered redirect URI.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The provider's routes and `extra` (the demo app, or nothing) behind the same layers.
pub fn router(state: AppState, extra: Router) -> Router {
    let https = state.config.is_https();
    let sv = state.config.server.clone();
    let compiling = deadline::ExtendLayer::compiling(&state.config);
    let app = Router::new()
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
        .route("/saml/metadata", get(saml::metadata))
        .route("/saml/sso", get(saml::sso_redirect).post(saml::sso_post))
        .route("/saml/resume", get(saml::resume))
        .route("/saml/post", get(saml::deliver))
        .route("/saml/idp-init", get(saml::idp_initiated))
        .route("/saml/slo", get(saml::slo))
        .route("/login/mfa", get(mfa_pages::show))
        .route("/login/mfa/totp", mfa_pages::post_action(mfa_pages::Action::Code(Factor::Totp)))
        .route("/login/mfa/backup-code", mfa_pages::post_action(mfa_pages::Action::Code(Factor::BackupCode)))
        .route("/login/mfa/sms", mfa_pages::post_action(mfa_pages::Action::Code(Factor::Sms)))
        .route("/login/mfa/email", mfa_pages::post_action(mfa_pages::Action::Code(Factor::Email)))
        .route("/login/mfa/sms/send", mfa_pages::post_action(mfa_pages::Action::Send(Factor::Sms)))
        .route("/login/mfa/email/send", mfa_pages::post_action(mfa_pages::Action::Send(Factor::Email)))
        .route("/login/mfa/passkey/begin", post(mfa_pages::passkey_begin))
        .route("/login/mfa/passkey", mfa_pages::post_action(mfa_pages::Action::Passkey))
        .route("/login/mfa/enroll/totp", mfa_pages::post_action(mfa_pages::Action::EnrollTotp))
        .route("/login/mfa/enroll/sms/send", mfa_pages::post_action(mfa_pages::Action::EnrollSend(Factor::Sms)))
        .route("/login/mfa/enroll/sms", mfa_pages::post_action(mfa_pages::Action::EnrollCode(Factor::Sms)))
        .route("/login/mfa/enroll/email/send", mfa_pages::post_action(mfa_pages::Action::EnrollSend(Factor::Email)))
        .route("/login/mfa/enroll/email", mfa_pages::post_action(mfa_pages::Action::EnrollCode(Factor::Email)))
        .route("/login/mfa/enroll/passkey/begin", post(mfa_pages::enroll_passkey_begin))
        .route("/login/mfa/enroll/passkey", mfa_pages::post_action(mfa_pages::Action::EnrollPasskey))
        .route("/login/mfa/postpone", mfa_pages::post_action(mfa_pages::Action::Postpone))
        .route("/login/trust", post(mfa_pages::trust))
        .route("/login/mfa/recovery", post(recovery_pages::from_mfa_page))
        .route("/login/mfa/cancel", post(mfa_pages::cancel))
        .route("/recover", recovery_pages::show(LinkPurpose::MfaRecovery).post(recovery_pages::open))
        .route("/recover/ask", recovery_pages::ask(LinkPurpose::MfaRecovery))
        .route(
            "/reset-password",
            recovery_pages::show(LinkPurpose::PasswordReset)
                .merge(recovery_pages::set_password(LinkPurpose::PasswordReset)),
        )
        .route("/reset-password/ask", recovery_pages::ask(LinkPurpose::PasswordReset))
        .route(
            "/invite",
            recovery_pages::show(LinkPurpose::Invitation).merge(recovery_pages::set_password(LinkPurpose::Invitation)),
        )
        .route("/profile/password", profile::post_action(profile::Action::PasswordChange))
        .route("/profile", get(profile::show))
        .route("/profile/verify", profile::post_action(profile::Action::Verify))
        .route("/profile/totp/setup", profile::post_action(profile::Action::TotpSetup))
        .route("/profile/totp/confirm", profile::post_action(profile::Action::TotpConfirm))
        .route("/profile/totp/remove", profile::post_action(profile::Action::TotpRemove))
        .route("/profile/passkeys/begin", post(profile::passkey_begin))
        .route("/profile/passkeys", profile::post_action(profile::Action::PasskeyAdd))
        .route("/profile/passkeys/{id}/rename", profile::post_action(profile::Action::PasskeyRename))
        .route("/profile/passkeys/{id}/remove", profile::post_action(profile::Action::PasskeyRemove))
        .route("/profile/backup-codes", profile::post_action(profile::Action::BackupCodes))
        .route("/profile/devices/{id}/revoke", profile::post_action(profile::Action::DeviceRevoke))
        .route("/profile/sessions/{id}/end", profile::post_action(profile::Action::SessionEnd))
        .route("/profile/sessions/end-others", profile::post_action(profile::Action::SessionsEndOthers))
        .route("/profile/sms/setup", profile::post_action(profile::Action::CodesSetup(Factor::Sms)))
        .route("/profile/sms/confirm", profile::post_action(profile::Action::CodesConfirm(Factor::Sms)))
        .route("/profile/email/setup", profile::post_action(profile::Action::CodesSetup(Factor::Email)))
        .route("/profile/email/confirm", profile::post_action(profile::Action::CodesConfirm(Factor::Email)))
        .route("/profile/codes/{id}/remove", profile::post_action(profile::Action::CodesRemove))
        .route("/profile/factors/{id}/primary", profile::post_action(profile::Action::MakePrimary))
        .route("/language", post(language::choose))
        .route("/admin", get(admin_users::home))
        .route("/admin/users", get(admin_users::list).post(admin_users::create))
        .route("/admin/stats", get(admin_stats::show))
        .route("/admin/audit", get(admin_audit::show))
        .route("/admin/webhooks", get(admin_webhooks::show).post(admin_webhooks::create))
        .route("/admin/webhooks/{id}/{action}", post(admin_webhooks::act))
        .route("/admin/audit/export", get(admin_audit::export))
        .route("/admin/users/{id}", get(admin_users::show))
        .route("/admin/users/{id}/{action}", post(admin_users::act))
        .route("/admin/settings", admin_pages::post_save(admin_pages::Target::Global).get(admin_pages::show))
        .route("/admin/groups", admin_pages::post_save(admin_pages::Target::Group))
        .route("/admin/settings/recovery", admin_pages::post_save(admin_pages::Target::Recovery))
        .route("/admin/apps", get(admin_apps::list))
        .route("/admin/apps/new", get(admin_apps::new))
        .route("/admin/apps/new/oidc", post(admin_apps::create_oidc))
        .route("/admin/apps/new/saml", post(admin_apps::create_saml))
        .route("/admin/apps/{id}", get(admin_apps::show))
        .route("/admin/apps/{id}/saml", post(admin_apps::edit_saml))
        .route("/admin/apps/{id}/{action}", post(admin_apps::act))
        .route(
            "/admin/plugins",
            get(plugin_pages::list)
                .post(plugin_pages::upload)
                .layer(DefaultBodyLimit::max(state.config.plugins.max_upload_bytes + 64 * 1024))
                .layer(compiling),
        )
        .route("/admin/plugins/{id}", get(plugin_pages::show))
        .route("/admin/plugins/{id}/{action}", post(plugin_pages::act).layer(compiling))
        .nest("/api/v1", api::router(&state))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics_on_main))
        .route("/readyz", get(ops::readyz))
        .route("/static/portcullis.css", get(stylesheet))
        .route("/static/logo", get(logo))
        .route("/static/portcullis.js", get(script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), same_origin::guard))
        .with_state(state.clone())
        .merge(extra)
        .route_layer(axum::middleware::from_fn(edge::matched_route));
    let app = app.layer(DefaultBodyLimit::max(BODY_LIMIT));
    // Outermost last: the body timeout wraps the body before anything reads it; the edge
    // (NUL screening, error formats) sees the request deadline's answer and reformats it; the
    // security headers go on every answer, the pages the edge makes itself included.
    let body_timeout = Duration::from_secs(sv.body_read_timeout_seconds);
    app.layer(deadline::DeadlineLayer::new(Duration::from_secs(sv.request_timeout_seconds)))
        .layer(axum::middleware::from_fn_with_state(
            edge::EdgeState {
                server: sv,
                brand: state.brand.clone(),
                metrics: state.metrics.clone(),
                dev_issuer: state
                    .config
                    .dev_mode
                    .then(|| url::Url::parse(&state.config.issuer).ok().map(std::sync::Arc::new))
                    .flatten(),
            },
            edge::guard,
        ))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        // 5xx responses that are faults are logged by `AppError::log` with their cause; the
        // rest (shedding, time-outs) are expected under load and stay out of the error log.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)))
        .layer(axum::middleware::map_response_with_state(https, security_headers))
}

/// The headers every response carries unless its handler chose its own (HSTS only over
/// HTTPS), added in one pass with room made for them at once.
async fn security_headers(axum::extract::State(https): axum::extract::State<bool>, mut resp: Response) -> Response {
    const HEADERS: [(HeaderName, &str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    const HSTS: (HeaderName, &str) = (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    let h = resp.headers_mut();
    h.reserve(HEADERS.len() + 1);
    for (name, value) in HEADERS.into_iter().chain(https.then_some(HSTS)) {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    resp
}

/// The metrics alone, for `metrics.listen` (an address of their own).
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(ops::metrics)).with_state(state)
}

/// A response no cache may keep (tokens, codes, anything about a user).
pub fn no_store<T: IntoResponse>(body: T) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

async fn stylesheet(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        state.brand.stylesheet.clone(),
    )
        .into_response()
}

/// The configured logo. An SVG opened on its own is a document of this origin: it gets a
/// policy that runs nothing and a sandbox of its own.
async fn logo(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let Some(logo) = &state.brand.logo else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, logo.content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox"),
        ],
        logo.bytes.clone(),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        crate::web::SCRIPT,
    )
        .into_response()
}

async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::AppError::NotFound.into_response();
    }
    use crate::web::i18n::t;
    error::message_page(
        StatusCode::NOT_FOUND,
        &t("error-title-404"),
        &t("msg-nothing-here"),
        Some(("/", &t("error-go-start"))),
    )
}
