//! `/api/v1/mfa` and `/api/v1/me`: the caller's own factors (TOTP, passkeys, backup codes)
//! and trusted devices. Enrolment also runs inside a login, with its `enrollment_token`
//! instead of a session.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::progress_response;
use super::no_store;
use crate::error::{AppError, AppResult};
use crate::http::client::ClientInfo;
use crate::http::guards::{FreshlyVerified, SameOriginJson, SameOriginJsonOrEmpty, SignedIn};
use crate::http::{cookies, forms};
use crate::login::mfa as flow;
use crate::mfa::policy::Factor;
use crate::mfa::{backup, manage};
use crate::state::AppState;
use crate::store;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    #[serde(default)]
    enrollment_token: Option<String>,
}

/// Starts TOTP enrolment: inside a login (`enrollment_token`) or for the signed-in user.
pub async fn totp_enroll(
    State(state): State<AppState>,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<EnrollBody>,
) -> AppResult<Response> {
    let e = match &b.enrollment_token {
        Some(t) => flow::begin_totp_enrolment(&state, t).await?.0,
        None => manage::begin_totp(&state, &fresh?.fresh).await?,
    };
    let body = json!({"secret": e.secret, "otpauth_uri": e.uri, "qr_svg": e.qr_svg});
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    code: String,
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJson(b): SameOriginJson<ConfirmBody>,
) -> AppResult<Response> {
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::confirm_totp_enrolment(&state, t, &b.code, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let codes = manage::confirm_totp(&state, &fresh?.fresh, &b.code, &client.origin).await?;
            Ok(no_store(jar, StatusCode::OK, with_codes(json!({"enabled": true}), codes)))
        }
    }
}

/// Starts registering a passkey: inside a login (`enrollment_token`) or for the signed-in
/// user. Answers `{"session": ceremony id, "publicKey": options}`.
pub async fn passkey_register_begin(
    State(state): State<AppState>,
    fresh: Result<FreshlyVerified, AppError>,
    SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<EnrollBody>,
) -> AppResult<Response> {
    let (ceremony, options) = match &b.enrollment_token {
        Some(t) => flow::begin_passkey_enrolment(&state, t).await?,
        None => manage::begin_passkey(&state, &fresh?.fresh).await?,
    };
    Ok(forms::registration_options(ceremony, options))
}

#[derive(Deserialize)]
pub struct CeremonyQuery {
    session: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegisterBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    /// The new `PublicKeyCredential` from the browser, as JSON.
    credential: Value,
    #[serde(default)]
    name: String,
}

pub async fn passkey_register_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientInfo(client): ClientInfo,
    fresh: Result<FreshlyVerified, AppError>,
    query: Result<Query<CeremonyQuery>, axum::extract::rejection::QueryRejection>,
    SameOriginJson(b): SameOriginJson<PasskeyRegisterBody>,
) -> AppResult<Response> {
    let Query(q) = query.map_err(|_| AppError::BadRequest("the `session` query parameter is required".into()))?;
    let credential = forms::credential(serde_json::from_value(b.credential))?;
    match &b.enrollment_token {
        Some(t) => {
            let progress = flow::finish_passkey_enrolment(&state, t, &q.session, &credential, &b.name, &client).await?;
            progress_response(&state, jar, client, progress).await
        }
        None => {
            let (info, codes) =
                manage::finish_passkey(&state, &fresh?.fresh, &q.session, &credential, &b.name, &client.origin).await?;
            Ok(no_store(jar, StatusCode::CREATED, with_codes(json!(info), codes)))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OobEnrollBody {
    #[serde(default)]
    enrollment_token: Option<String>,
    /// SMS: the number, with its country code. Email codes go to the account's address.
    #[serde(default)]
    phone_number: Option<String>,
}

/// A new factor's answer, with the first set of backup codes when one came with it (shown once).
fn with_codes(mut body: Value, codes: Option<Vec<String>>) -> Value {
    if let Some(codes) = codes {
        body["backup_codes"] = json!(codes);
    }
    body
}

fn oob_json(kind: Factor, id: &str, destination: &str, status: &str) -> Value {
    let (key, masked) = match kind {
        Factor::Sms => ("phone_number", crate::delivery::mask_phone(destination)),
        _ => ("email", crate::delivery::mask_email(destination)),
    };
    json!({"factor_id": id, "type": kind, "status": status, key: masked})
}

/// `POST /mfa/sms/enroll` and `/mfa/email/enroll`: sends a code to prove the destination,
/// inside a login (`enrollment_token`) or for the signed-in user (a fresh verification).
pub fn post_oob_enroll(kind: Factor) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              ClientInfo(client): ClientInfo,
              fresh: Result<FreshlyVerified, AppError>,
              SameOriginJsonOrEmpty(b): SameOriginJsonOrEmpty<OobEnrollBody>| async move {
            let phone = b.phone_number.as_deref();
            let (sent, destination) = match &b.enrollment_token {
                Some(t) => flow::begin_oob_enrolment(&state, t, kind, phone, &client).await?,
                None => manage::begin_oob(&state, &fresh?.fresh, kind, phone, &client.origin).await?,
            };
            let mut body = oob_json(kind, &sent.id, &destination, "pending");
            body["expires_in"] = json!(sent.expires_in);
            body["resend_after"] = json!(sent.resend_after);
            AppResult::Ok(no_store(CookieJar::new(), StatusCode::ACCEPTED, body))
        },
    )
}

/// `POST /mfa/sms/confirm` and `/mfa/email/confirm` with the code that was sent.
pub fn post_oob_confirm(kind: Factor) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              jar: CookieJar,
              ClientInfo(client): ClientInfo,
              fresh: Result<FreshlyVerified, AppError>,
              SameOriginJson(b): SameOriginJson<ConfirmBody>| async move {
            match &b.enrollment_token {
                Some(t) => {
                    let progress = flow::confirm_oob_enrolment(&state, t, kind, &b.code, &client).await?;
                    progress_response(&state, jar, client, progress).await
                }
                None => {
                    let (f, codes) = manage::confirm_oob(&state, &fresh?.fresh, kind, &b.code, &client.origin).await?;
                    Ok(no_store(
                        jar,
                        StatusCode::OK,
                        with_codes(oob_json(kind, &f.id, &f.destination, "active"), codes),
                    ))
                }
            }
        },
    )
}

/// `GET /mfa/factors`: every factor of the caller, primary first.
pub async fn factors_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let factors = manage::factors(&state, &user).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"factors": factors})))
}

/// `PUT /mfa/factors/{id}/primary`: the factor the MFA page offers first.
pub async fn factor_primary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, client, .. }: SignedIn,
) -> AppResult<Response> {
    let factors = manage::set_primary(&state, &user, &id, &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"factors": factors})))
}

/// `DELETE /mfa/factors/{id}`: removes an SMS or email factor (a fresh verification).
pub async fn factor_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_oob(&state, &fresh, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn passkeys_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"passkeys": passkeys})))
}

pub async fn passkey_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, .. }: SignedIn,
) -> AppResult<Response> {
    let passkeys = store::passkeys::list(&state.db, &user.id).await?;
    let p = passkeys.into_iter().find(|p| p.id == id).ok_or(AppError::NotFound)?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    name: String,
}

pub async fn passkey_patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, .. }: SignedIn,
    SameOriginJson(b): SameOriginJson<RenameBody>,
) -> AppResult<Response> {
    let p = manage::rename_passkey(&state, &user, &id, &b.name).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(p)))
}

pub async fn passkey_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_passkey(&state, &fresh, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn totp_delete(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    manage::remove_totp(&state, &fresh, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn backup_codes_generate(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
) -> AppResult<Response> {
    let codes = manage::generate_backup_codes(&state, &fresh, &client.origin).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"codes": codes, "remaining": codes.len()})))
}

pub async fn backup_codes_status(
    State(state): State<AppState>,
    SignedIn { user, .. }: SignedIn,
) -> AppResult<Response> {
    let s = store::factors::backup_code_status(&state.db, &user.id).await?;
    let body = json!({
        "remaining": s.remaining,
        "total": s.total,
        "generated_at": s.generated_at,
        "low": s.total > 0 && s.remaining < backup::LOW_WATER,
    });
    Ok(no_store(CookieJar::new(), StatusCode::OK, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustBody {
    trust_device_token: String,
    #[serde(default)]
    name: String,
}

pub async fn devices_create(
    State(state): State<AppState>,
    jar: CookieJar,
    SignedIn { user, client, .. }: SignedIn,
    SameOriginJson(b): SameOriginJson<TrustBody>,
) -> AppResult<Response> {
    let (token, device, _) = flow::trust_device(&state, &user.id, &b.trust_device_token, &b.name, &client).await?;
    let jar = cookies::set_device(&state, jar, token, device.expires_at);
    Ok(no_store(jar, StatusCode::CREATED, json!(device)))
}

pub async fn devices_list(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let devices = store::devices::list(&state.db, &user.id, state.now()).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"devices": devices})))
}

pub async fn devices_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn { user, client, .. }: SignedIn,
) -> AppResult<Response> {
    manage::revoke_device(&state, &user, &id, &client.origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/me/mfa`: the caller's MFA status.
pub async fn mfa_status(State(state): State<AppState>, SignedIn { user, .. }: SignedIn) -> AppResult<Response> {
    let status = manage::status(&state, &user).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!(status)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password`: the current password and a fresh second factor; every other
/// session of the caller ends.
pub async fn password_change(
    State(state): State<AppState>,
    FreshlyVerified { fresh, client }: FreshlyVerified,
    SameOriginJson(b): SameOriginJson<PasswordBody>,
) -> AppResult<Response> {
    crate::login::password::change(&state, &fresh, &b.current_password, &b.new_password, &client).await?;
    Ok(no_store(CookieJar::new(), StatusCode::OK, json!({"password_changed": true})))
}
