//! A signed-in user managing their own factors and devices (profile page and JSON API).
//! Adding or removing a factor needs a fresh second factor, or a fresh password while the
//! user has none (DESIGN §5).

use super::policy::{Enrolled, Factor};
use super::{backup, passkey, totp};
use crate::audit::{self, Origin, event};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;
use crate::store::sessions::Session;
use crate::store::users::User;

/// How recent a verification must be for changes to factors.
pub const FRESH_SECONDS: i64 = 600;

/// Refuses unless the session verified a second factor (or, for a user with none, the
/// password) within the last `FRESH_SECONDS`.
pub async fn require_fresh(state: &AppState, session: &Session, user: &User) -> AppResult<Enrolled> {
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let now = state.now();
    if enrolled.any() || enrolled.backup_codes > 0 {
        if session.mfa_at.is_none_or(|t| now - t >= FRESH_SECONDS) {
            return Err(AppError::Forbidden(
                "reauthentication_required: verify your second factor again first (POST /api/v1/auth/step-up)".into(),
            ));
        }
    } else if now - session.auth_time >= FRESH_SECONDS {
        return Err(AppError::Forbidden("reauthentication_required: sign in with your password again first".into()));
    }
    Ok(enrolled)
}

pub async fn begin_totp(state: &AppState, session: &Session, user: &User) -> AppResult<totp::Enrolment> {
    require_fresh(state, session, user).await?;
    totp::begin_enrolment(state, user).await
}

pub async fn confirm_totp(
    state: &AppState,
    session: &Session,
    user: &User,
    code: &str,
    origin: &Origin,
) -> AppResult<()> {
    require_fresh(state, session, user).await?;
    let key = super::limits::mfa_key(&user.id);
    super::limits::check(state, &[&key]).await?;
    if !totp::verify(state, user, code, true).await? {
        audit::record(state, event::MFA_FAILED, Some(&user.id), None, origin, Some("totp enrolment")).await?;
        super::limits::fail(state, &key, state.config.limits.mfa_failures_per_account, Some(&user.id), origin).await?;
        return Err(AppError::InvalidFactor);
    }
    super::limits::succeed(state, &key).await?;
    // Confirming is a verification of the new factor.
    store::sessions::record_mfa(&state.db, &session.id, Factor::Totp.as_str(), state.now()).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some("totp")).await
}

pub async fn remove_totp(state: &AppState, session: &Session, user: &User, origin: &Origin) -> AppResult<()> {
    require_fresh(state, session, user).await?;
    if !store::factors::delete_totp(&state.db, &user.id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("totp")).await?;
    after_factor_removed(state, user, origin).await
}

/// Starts adding a passkey: the ceremony id and the options for the browser.
pub async fn begin_passkey(
    state: &AppState,
    session: &Session,
    user: &User,
) -> AppResult<(String, webauthn_rs::prelude::CreationChallengeResponse)> {
    require_fresh(state, session, user).await?;
    passkey::begin_registration(state, user).await
}

pub async fn finish_passkey(
    state: &AppState,
    session: &Session,
    user: &User,
    ceremony: &str,
    credential: &webauthn_rs::prelude::RegisterPublicKeyCredential,
    name: &str,
    origin: &Origin,
) -> AppResult<store::passkeys::PasskeyInfo> {
    require_fresh(state, session, user).await?;
    let info = passkey::finish_registration(state, user, ceremony, credential, name).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some("passkey")).await?;
    Ok(info)
}

pub async fn rename_passkey(
    state: &AppState,
    user: &User,
    id: &str,
    name: &str,
) -> AppResult<store::passkeys::PasskeyInfo> {
    store::passkeys::rename(&state.db, &user.id, id, &passkey::clean_name(name)).await?.ok_or(AppError::NotFound)
}

pub async fn remove_passkey(
    state: &AppState,
    session: &Session,
    user: &User,
    id: &str,
    origin: &Origin,
) -> AppResult<()> {
    require_fresh(state, session, user).await?;
    if !store::passkeys::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("passkey")).await?;
    after_factor_removed(state, user, origin).await
}

/// Without any factor left, device trust earned with one no longer stands.
async fn after_factor_removed(state: &AppState, user: &User, origin: &Origin) -> AppResult<()> {
    if !store::factors::enrolled(&state.db, &user.id).await?.any() {
        let n = store::devices::delete_all(&state.db, &user.id).await?;
        if n > 0 {
            audit::record(state, event::DEVICE_REVOKED, Some(&user.id), None, origin, Some("last factor removed"))
                .await?;
        }
    }
    Ok(())
}

pub async fn generate_backup_codes(
    state: &AppState,
    session: &Session,
    user: &User,
    origin: &Origin,
) -> AppResult<Vec<String>> {
    require_fresh(state, session, user).await?;
    let count = store::settings::load(&state.db).await?.backup_codes_count;
    let codes = backup::generate(state, &user.id, count).await?;
    audit::record(state, event::BACKUP_CODES_GENERATED, Some(&user.id), None, origin, Some(&count.to_string())).await?;
    Ok(codes)
}

pub async fn revoke_device(state: &AppState, user: &User, id: &str, origin: &Origin) -> AppResult<()> {
    if !store::devices::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::DEVICE_REVOKED, Some(&user.id), None, origin, Some(id)).await
}
