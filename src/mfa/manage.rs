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

/// Proof that a session may change its user's factors now: it verified a second factor (or,
/// for a user with none, the password) within the last `FRESH_SECONDS`. Only `Fresh::check`
/// makes one, and every function here that adds or removes a factor takes one.
#[derive(Debug)]
pub struct Fresh {
    session: Session,
    user: User,
}

impl Fresh {
    pub async fn check(state: &AppState, session: Session, user: User) -> AppResult<Fresh> {
        require_fresh(state, &session, &user).await?;
        Ok(Fresh { session, user })
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn user(&self) -> &User {
        &self.user
    }
}

/// Refuses unless the session verified a second factor (or, for a user with none, the
/// password) within the last `FRESH_SECONDS`.
async fn require_fresh(state: &AppState, session: &Session, user: &User) -> AppResult<Enrolled> {
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has_factor = enrolled.any() || enrolled.backup_codes > 0;
    if !is_fresh(session, has_factor, state.now()) {
        return Err(AppError::Forbidden(if has_factor {
            "reauthentication_required: verify your second factor again first (POST /api/v1/auth/step-up)".into()
        } else {
            "reauthentication_required: sign in with your password again first".into()
        }));
    }
    Ok(enrolled)
}

/// A second factor verified (or, without one, the password entered) in the last
/// `FRESH_SECONDS`.
fn is_fresh(session: &Session, has_factor: bool, now: i64) -> bool {
    if has_factor {
        session.mfa_at.is_some_and(|t| now - t < FRESH_SECONDS)
    } else {
        now - session.auth_time < FRESH_SECONDS
    }
}

/// The factors users can set up under `settings`: its `mfa_allowed_factors`, less passkeys
/// on an issuer where WebAuthn cannot work.
pub fn usable_factors(state: &AppState, settings: &super::policy::Settings) -> Vec<Factor> {
    let mut allowed = settings.mfa_allowed_factors.clone();
    if !state.passkeys.available() {
        allowed.retain(|f| *f != Factor::Passkey);
    }
    allowed
}

/// The factors users may set up now, under the stored settings.
pub async fn allowed_factors(state: &AppState) -> AppResult<Vec<Factor>> {
    Ok(usable_factors(state, &store::settings::load(&state.db).await?))
}

/// Refuses to set up a factor the admin does not allow (DESIGN §2), whichever door is used.
pub async fn require_allowed(state: &AppState, factor: Factor) -> AppResult<()> {
    if allowed_factors(state).await?.contains(&factor) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "factor_not_allowed: {} cannot be set up here (mfa_allowed_factors)",
        factor.label()
    )))
}

pub async fn begin_totp(state: &AppState, fresh: &Fresh) -> AppResult<totp::Enrolment> {
    require_allowed(state, Factor::Totp).await?;
    totp::begin_enrolment(state, fresh.user()).await
}

pub async fn confirm_totp(state: &AppState, fresh: &Fresh, code: &str, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    require_allowed(state, Factor::Totp).await?;
    let attempt = super::limits::reserve_mfa(state, &user.id).await?;
    if !totp::verify(state, user, code, true).await? {
        audit::record(state, event::MFA_FAILED, Some(&user.id), None, origin, Some("totp enrolment")).await?;
        attempt.failed(state, Some(&user.id), origin).await?;
        return Err(AppError::InvalidFactor);
    }
    attempt.succeeded(state).await?;
    // Confirming is a verification of the new factor.
    store::sessions::record_mfa(&state.db, &session.id, Factor::Totp.as_str(), state.now()).await?;
    audit::record(state, event::FACTOR_ENROLLED, Some(&user.id), None, origin, Some("totp")).await
}

pub async fn remove_totp(state: &AppState, fresh: &Fresh, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    if !store::factors::delete_totp(&state.db, &user.id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("totp")).await?;
    after_factor_removed(state, session, user, origin).await
}

/// Starts adding a passkey: the ceremony id and the options for the browser.
pub async fn begin_passkey(
    state: &AppState,
    fresh: &Fresh,
) -> AppResult<(String, webauthn_rs::prelude::CreationChallengeResponse)> {
    require_allowed(state, Factor::Passkey).await?;
    passkey::begin_registration(state, fresh.user()).await
}

pub async fn finish_passkey(
    state: &AppState,
    fresh: &Fresh,
    ceremony: &str,
    credential: &webauthn_rs::prelude::RegisterPublicKeyCredential,
    name: &str,
    origin: &Origin,
) -> AppResult<store::passkeys::PasskeyInfo> {
    let user = fresh.user();
    require_allowed(state, Factor::Passkey).await?;
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

pub async fn remove_passkey(state: &AppState, fresh: &Fresh, id: &str, origin: &Origin) -> AppResult<()> {
    let (session, user) = (fresh.session(), fresh.user());
    if !store::passkeys::delete(&state.db, &user.id, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(state, event::FACTOR_REMOVED, Some(&user.id), None, origin, Some("passkey")).await?;
    after_factor_removed(state, session, user, origin).await
}

/// Without any factor left, what was earned with one no longer stands: the security event
/// ends device trust and the user's other sessions.
async fn after_factor_removed(state: &AppState, session: &Session, user: &User, origin: &Origin) -> AppResult<()> {
    if !store::factors::enrolled(&state.db, &user.id).await?.any() {
        let e = crate::admin::security::SecurityEvent::LastFactorRemoved { current: &session.id };
        crate::admin::security::apply(state, &user.id, e, None, origin).await?;
    }
    Ok(())
}

pub async fn generate_backup_codes(state: &AppState, fresh: &Fresh, origin: &Origin) -> AppResult<Vec<String>> {
    let user = fresh.user();
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

/// Everything the profile page shows about a user's factors and devices.
#[derive(Debug)]
pub struct Overview {
    pub totp_enabled: bool,
    pub passkeys: Vec<store::passkeys::PasskeyInfo>,
    pub backup: store::factors::BackupCodeStatus,
    pub devices: Vec<store::devices::Device>,
    /// The trusted device this browser is, if any.
    pub this_device: Option<String>,
    /// The user has a second factor (TOTP, passkey or backup codes).
    pub has_factor: bool,
    /// Changes to factors are allowed right now without verifying again.
    pub fresh: bool,
    /// Factors the policy lets users set up.
    pub allowed: Vec<Factor>,
    /// Backup codes can be generated (`backup_codes_count` > 0).
    pub backup_enabled: bool,
}

pub async fn overview(
    state: &AppState,
    session: &Session,
    user: &User,
    device_token: Option<&str>,
) -> AppResult<Overview> {
    let now = state.now();
    let enrolled = store::factors::enrolled(&state.db, &user.id).await?;
    let has_factor = enrolled.any() || enrolled.backup_codes > 0;
    let fresh = is_fresh(session, has_factor, now);
    let this_device = match device_token {
        Some(t) => {
            store::devices::find_live(&state.db, &user.id, &crate::crypto::token_hash(t), now).await?.map(|d| d.id)
        }
        None => None,
    };
    let settings = store::settings::load(&state.db).await?;
    let allowed = allowed_factors(state).await?;
    Ok(Overview {
        totp_enabled: enrolled.totp,
        passkeys: store::passkeys::list(&state.db, &user.id).await?,
        backup: store::factors::backup_code_status(&state.db, &user.id).await?,
        devices: store::devices::list(&state.db, &user.id, now).await?,
        this_device,
        has_factor,
        fresh,
        allowed,
        backup_enabled: settings.backup_codes_count > 0,
    })
}
