//! The JSON API (paths as in DESIGN §6), one module per audience: `auth` signs in, `me` works
//! on the caller's own factors and devices, `admin` and `plugins` need an administrator
//! (checked once by the `/admin` router's layer). Bodies must be `application/json` (plugin
//! uploads `application/wasm`), which also keeps cross-site forms out.

pub mod admin;
pub mod auth;
pub mod me;
pub mod openapi;
pub mod plugins;
pub mod recovery;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde_json::Value;

use crate::state::AppState;

/// A JSON answer no cache may keep, with the cookies of `jar`.
fn no_store(jar: CookieJar, status: StatusCode, body: Value) -> Response {
    super::no_store((status, jar, Json(body)))
}

/// Everything under `/api/v1`; `openapi.json` describes it (a test keeps the two in step).
pub fn router(state: &AppState) -> Router<AppState> {
    let auth = Router::new()
        .route("/login", post(auth::login))
        .route("/mfa/totp", post(auth::mfa_totp))
        .route("/mfa/backup-code", post(auth::mfa_backup_code))
        .route("/mfa/sms", post(auth::mfa_sms))
        .route("/mfa/email", post(auth::mfa_email))
        .route("/mfa/sms/send", post(auth::send_sms))
        .route("/mfa/email/send", post(auth::send_email))
        .route("/mfa/passkey/begin", post(auth::mfa_passkey_begin))
        .route("/mfa/passkey/finish", post(auth::mfa_passkey_finish))
        .route("/mfa/enrollment/postpone", post(auth::postpone_enrollment))
        .route("/step-up", post(auth::step_up))
        .route("/mfa/recovery", post(recovery::ask_recovery))
        .route("/mfa/recovery/verify", post(recovery::open_recovery))
        .route("/password/forgot", post(recovery::ask_reset))
        .route("/password/reset", post(recovery::reset_password));
    let mfa = Router::new()
        .route("/totp", delete(me::totp_delete))
        .route("/totp/enroll", post(me::totp_enroll))
        .route("/totp/confirm", post(me::totp_confirm))
        .route("/passkey/register/begin", post(me::passkey_register_begin))
        .route("/passkey/register/finish", post(me::passkey_register_finish))
        .route("/passkeys", get(me::passkeys_list))
        .route("/passkeys/{id}", get(me::passkey_get).patch(me::passkey_patch).delete(me::passkey_delete))
        .route("/backup-codes", get(me::backup_codes_status).post(me::backup_codes_generate))
        .route("/sms/enroll", post(me::sms_enroll))
        .route("/sms/confirm", post(me::sms_confirm))
        .route("/email/enroll", post(me::email_enroll))
        .route("/email/confirm", post(me::email_confirm))
        .route("/factors", get(me::factors_list))
        .route("/factors/{id}", delete(me::factor_delete))
        .route("/factors/{id}/primary", put(me::factor_primary));
    let me = Router::new()
        .route("/devices", get(me::devices_list).post(me::devices_create))
        .route("/devices/{id}", delete(me::devices_delete))
        .route("/mfa", get(me::mfa_status))
        .route("/password", post(me::password_change));
    // Routes that may compile a plugin have the compile budget's deadline (`http::deadline`).
    let compiling = crate::http::deadline::ExtendLayer::compiling(&state.config);
    let admin = Router::new()
        .route("/settings", get(admin::settings_get).patch(admin::settings_patch))
        .route("/apps", get(admin::apps_list))
        .route("/apps/oidc", post(admin::oidc_app_create))
        .route("/apps/saml", post(admin::saml_app_create))
        .route("/apps/{id}", get(admin::app_get).patch(admin::app_patch).delete(admin::app_delete))
        .route("/groups", get(admin::groups_list))
        .route("/groups/{name}", put(admin::group_put))
        .route("/groups/{name}/members/{username}", put(admin::group_member_put).delete(admin::group_member_delete))
        .route("/users", get(admin::users_list).post(admin::user_create))
        .route("/users/{username}/disable", post(admin::user_disable))
        .route("/users/{username}/enable", post(admin::user_enable))
        .route("/users/{username}/reset-mfa", post(admin::user_reset_mfa))
        .route("/users/{username}/mfa", get(admin::user_mfa))
        .route("/users/{username}/mfa/factors/{factor_id}", delete(admin::user_factor_delete))
        .route("/users/{username}/mfa/backup-codes", post(admin::user_backup_codes))
        .route("/users/{username}/mfa/recovery", post(admin::user_recovery_link))
        .route("/stats", get(admin::stats))
        .route("/webhooks", get(admin::webhooks_list).post(admin::webhook_create))
        .route("/webhooks/{id}", get(admin::webhook_get).patch(admin::webhook_patch).delete(admin::webhook_delete))
        .route("/webhooks/{id}/rotate-secret", post(admin::webhook_rotate))
        .route("/webhooks/{id}/test", post(admin::webhook_test))
        .route("/webhooks/{id}/deliveries", get(admin::webhook_deliveries))
        .route("/audit", get(admin::audit))
        .route("/delivery/test", post(admin::delivery_test))
        .route("/outbox", get(admin::outbox))
        .route(
            "/plugins",
            get(plugins::list)
                .post(plugins::upload)
                .layer(DefaultBodyLimit::max(state.config.plugins.max_upload_bytes + 1024))
                .layer(compiling),
        )
        .route("/plugins/{plugin}", get(plugins::show).delete(plugins::delete))
        .route("/plugins/{plugin}/assignments/{scope}", put(plugins::assign).delete(plugins::unassign))
        .route("/plugins/{plugin}/test", post(plugins::test).layer(compiling))
        .route("/plugins/{plugin}/replay", post(plugins::replay).layer(compiling))
        .route("/plugin-decisions", get(plugins::decisions))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::http::guards::admin_layer));
    let doc = std::sync::Arc::new(std::sync::OnceLock::new());
    Router::new()
        .nest("/auth", auth)
        .nest("/mfa", mfa)
        .nest("/me", me)
        .nest("/admin", admin)
        .route("/openapi.json", get(move |state| openapi::serve(state, doc.clone())))
}
